package printer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"go.bug.st/serial"
)

// link is one job's connection to the printer, whatever carries it.
type link interface {
	// write sends all of p or fails, giving up at deadline where the
	// transport can (see serialLink).
	write(p []byte, deadline time.Time) (int, error)
	// readByte returns the next byte the printer sends, waiting until
	// deadline at most.
	readByte(deadline time.Time) (byte, error)
	// flush waits until written bytes have left the computer, so a reply
	// timeout that starts now does not also cover the transmission.
	flush() error
	// Close may be called more than once and from another goroutine, which
	// is how a cancelled context ends a job that is blocked in I/O.
	Close() error
}

// connect opens the address's transport; every job opens its own so a
// printer switched off and on, or replugged, works again at the next job.
func connect(ctx context.Context, a address, dialTimeout time.Duration) (link, error) {
	switch a.scheme {
	case "tcp":
		d := net.Dialer{Timeout: dialTimeout}
		c, err := d.DialContext(ctx, "tcp", a.host)
		if err != nil {
			return nil, err
		}
		return deadlineLink{c}, nil
	case "usb":
		// The usblp driver returns the printer's status replies on read, so
		// the device is opened for both. O_NOCTTY: a serial adapter given
		// as usb:// must not become our controlling terminal.
		f, err := os.OpenFile(a.path, os.O_RDWR|syscall.O_NOCTTY, 0)
		if err != nil {
			return nil, err
		}
		return deadlineLink{f}, nil
	case "serial":
		mode := a.serial
		p, err := serial.Open(a.path, &mode)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", a.path, err)
		}
		// Bytes left from an earlier job would be taken for status replies.
		if err := p.ResetInputBuffer(); err != nil {
			p.Close()
			return nil, fmt.Errorf("reset %s: %w", a.path, err)
		}
		return serialLink{p}, nil
	}
	return nil, fmt.Errorf("unknown scheme %q", a.scheme)
}

// deadlineConn is what net.Conn and a pollable *os.File (usblp, tty) share.
type deadlineConn interface {
	io.ReadWriteCloser
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

type deadlineLink struct{ c deadlineConn }

func (l deadlineLink) write(p []byte, deadline time.Time) (int, error) {
	if err := setDeadline(l.c.SetWriteDeadline, deadline); err != nil {
		return 0, err
	}
	return l.c.Write(p) // both write all of p or return an error
}

func (l deadlineLink) readByte(deadline time.Time) (byte, error) {
	if err := setDeadline(l.c.SetReadDeadline, deadline); err != nil {
		return 0, err
	}
	var b [1]byte
	for {
		n, err := l.c.Read(b[:])
		if n == 1 {
			return b[0], nil
		}
		if err != nil {
			return 0, err
		}
	}
}

func (l deadlineLink) flush() error { return nil }
func (l deadlineLink) Close() error { return l.c.Close() }

// setDeadline tolerates a file the poller does not take (a device without
// poll support): it has no deadlines, only the cancelled context's Close.
func setDeadline(set func(time.Time) error, t time.Time) error {
	if err := set(t); err != nil && !errors.Is(err, os.ErrNoDeadline) {
		return err
	}
	return nil
}

// serialLink is a serial port. go.bug.st/serial has read timeouts but no
// write deadline: writes block until the kernel has taken the bytes, which
// with flow control off (as it opens ports) takes the line's transmission
// time at most; a cancelled context closes the port.
type serialLink struct{ p serial.Port }

func (l serialLink) write(p []byte, _ time.Time) (int, error) {
	done := 0
	for done < len(p) {
		n, err := l.p.Write(p[done:])
		done += n
		if err != nil {
			return done, err
		}
		if n == 0 {
			return done, io.ErrShortWrite
		}
	}
	return done, nil
}

func (l serialLink) readByte(deadline time.Time) (byte, error) {
	for {
		wait := time.Until(deadline)
		if wait <= 0 {
			return 0, os.ErrDeadlineExceeded
		}
		if err := l.p.SetReadTimeout(wait); err != nil {
			return 0, err
		}
		var b [1]byte
		n, err := l.p.Read(b[:])
		if err != nil {
			return 0, err
		}
		if n == 1 {
			return b[0], nil
		}
		// n == 0 without error is the library's timeout; loop to check.
	}
}

func (l serialLink) flush() error { return l.p.Drain() }
func (l serialLink) Close() error { return l.p.Close() }
