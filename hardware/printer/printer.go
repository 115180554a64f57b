// Package printer owns the driver of the kiosk's ESC/POS ticket printer:
// the printer's address (tcp://, usb:// or serial://), one connection per
// job, the DLE EOT status check before and after every ticket, and the
// errors that tell a caller why a ticket did not print. The bytes it sends
// come from hardware/escpos.
package printer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/veedel/veedel/hardware"
	"github.com/veedel/veedel/hardware/escpos"
)

// Options are the driver's timeouts; zero fields take the defaults.
type Options struct {
	// DialTimeout bounds connecting, unless the context ends first;
	// default 5 s.
	DialTimeout time.Duration
	// ReplyTimeout is how long the printer may take to answer one status
	// query; default 1 s. DLE EOT is answered at once even while printing.
	ReplyTimeout time.Duration
	// WriteTimeout bounds sending a ticket, and the first status reply
	// after it (it queues behind the ticket's bytes); default 20 s, as a
	// raster ticket of 18 kB takes 10 s at 19200 baud.
	WriteTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.DialTimeout <= 0 {
		o.DialTimeout = 5 * time.Second
	}
	if o.ReplyTimeout <= 0 {
		o.ReplyTimeout = time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 20 * time.Second
	}
	return o
}

// Printer is one ESC/POS printer. It is safe for concurrent use: jobs run
// one at a time, so two kiosks sharing a printer never interleave bytes.
type Printer struct {
	addr address
	opt  Options
	// jobs holds a token while a job runs: a mutex that a waiting caller
	// can give up on when its context ends.
	jobs chan struct{}
}

var _ hardware.Printer = (*Printer)(nil)

// Open checks address and returns its printer; it does not connect, as
// every job connects anew. The address is one of
//
//	tcp://host[:port]             a network printer; port 9100 by default
//	usb:///dev/usb/lp0            a USB printer through Linux's usblp
//	serial:///dev/ttyUSB0         a serial printer; ?baud= (19200),
//	                              parity= (none, odd, even), databits=
//	                              (8, 7), stopbits= (1, 2)
//
// and takes qr=raster for printers without native QR codes and width=384
// for 58 mm paper (576, 80 mm, by default).
func Open(address string, opt Options) (*Printer, error) {
	a, err := parseAddress(address)
	if err != nil {
		return nil, err
	}
	return &Printer{addr: a, opt: opt.withDefaults(), jobs: make(chan struct{}, 1)}, nil
}

// Address is the printer's address for logs and screens, canonical (with
// its default port and parameters) and free of anything secret.
func (p *Printer) Address() string { return p.addr.display }

// Print prints t, or explains why not: a *StatusError when the printer
// reports paper out, cover open or an error, before the ticket (nothing was
// sent) or right after it (the ticket may be cut short); ErrOffline when it
// cannot be reached or the connection breaks. See hardware.Printer for why
// the caller must not simply try again.
func (p *Printer) Print(ctx context.Context, t hardware.Ticket) error {
	data, err := escpos.Ticket(t, p.addr.escpos)
	if err != nil {
		return fmt.Errorf("printer %s: %w", p.addr.display, err)
	}
	return p.job(ctx, func(s *session) error {
		st, err := s.status(s.opt.ReplyTimeout)
		if err != nil {
			return err
		}
		if !st.Printable() {
			return &StatusError{Status: st}
		}
		if n, err := s.link.write(data, time.Now().Add(s.opt.WriteTimeout)); err != nil {
			return offline(fmt.Sprintf("ticket cut short after %d of %d bytes", n, len(data)), err)
		}
		if err := s.link.flush(); err != nil {
			return offline("send ticket", err)
		}
		if bytes.Contains(data, []byte{0x10, 0x04}) {
			s.discardStrayReplies()
		}
		st, err = s.status(s.opt.WriteTimeout)
		if err != nil {
			return fmt.Errorf("after the ticket: %w", err)
		}
		if !st.Printable() {
			return &StatusError{Status: st, During: true}
		}
		return nil
	})
}

// Status connects and asks the printer how it is. An unreachable printer
// is an error wrapping ErrOffline, with a status that is not Online.
func (p *Printer) Status(ctx context.Context) (hardware.PrinterStatus, error) {
	var st hardware.PrinterStatus
	err := p.job(ctx, func(s *session) error {
		var err error
		st, err = s.status(s.opt.ReplyTimeout)
		return err
	})
	if err != nil {
		return hardware.PrinterStatus{}, err
	}
	return st, nil
}

// job runs fn on a fresh connection, alone. A context that ends closes the
// connection, which makes whatever fn is blocked in fail.
func (p *Printer) job(ctx context.Context, fn func(*session) error) error {
	select {
	case p.jobs <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("printer %s: waiting for the job before: %w", p.addr.display, ctx.Err())
	}
	defer func() { <-p.jobs }()

	l, err := connect(ctx, p.addr, p.opt.DialTimeout)
	if err != nil {
		return fmt.Errorf("printer %s: %w", p.addr.display, offline("connect", err))
	}
	defer l.Close()
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()

	err = fn(&session{link: l, opt: p.opt})
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		// The I/O error is "use of closed file"; say why it was closed.
		err = fmt.Errorf("%w (%w)", err, ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("printer %s: %w", p.addr.display, err)
	}
	return nil
}
