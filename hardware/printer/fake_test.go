package printer_test

import (
	"bufio"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/hardware/simport"
)

// fakeDevice is a printer as far as the driver can tell: it records every
// byte and answers DLE EOT n with the byte status gives for n.
type fakeDevice struct {
	mu     sync.Mutex
	status map[byte]byte // DLE EOT n -> reply
	// cutAfter, when not 0, drops a connection once it has received that
	// many bytes, as a printer switched off mid-ticket does.
	cutAfter int
	// onQuery, when set, is called before a reply with the query's n and
	// the bytes received on this connection, and may change status.
	onQuery func(n byte, got []byte)

	streams [][]byte // what each connection received, in order
	// spans[i] is when connection i received its first and last byte.
	spans [][2]time.Time
}

func newFakeDevice(printer, offline, paper byte) *fakeDevice {
	return &fakeDevice{status: map[byte]byte{1: printer, 2: offline, 4: paper}}
}

// received is everything the device got, all connections joined.
func (d *fakeDevice) received() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	var all []byte
	for _, s := range d.streams {
		all = append(all, s...)
	}
	return all
}

func (d *fakeDevice) connections() ([][]byte, [][2]time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([][]byte(nil), d.streams...), append([][2]time.Time(nil), d.spans...)
}

// serve talks to one connection until it ends or is cut; it returns true
// when it cut it.
func (d *fakeDevice) serve(rw io.ReadWriter) (cut bool) {
	d.mu.Lock()
	i := len(d.streams)
	d.streams = append(d.streams, nil)
	d.spans = append(d.spans, [2]time.Time{})
	d.mu.Unlock()

	r := bufio.NewReader(rw)
	for {
		b, err := r.ReadByte()
		if err != nil {
			return false
		}
		d.mu.Lock()
		d.streams[i] = append(d.streams[i], b)
		now := time.Now()
		if d.spans[i][0].IsZero() {
			d.spans[i][0] = now
		}
		d.spans[i][1] = now
		got := d.streams[i]
		cut := d.cutAfter > 0 && len(got) >= d.cutAfter
		isQuery := len(got) >= 3 && got[len(got)-3] == 0x10 && got[len(got)-2] == 0x04
		var reply byte
		if isQuery && !cut {
			if d.onQuery != nil {
				d.onQuery(b, got)
			}
			reply = d.status[b]
		}
		d.mu.Unlock()
		if cut {
			return true
		}
		if isQuery {
			if _, err := rw.Write([]byte{reply}); err != nil {
				return false
			}
		}
	}
}

// listenTCP serves d on a loopback port and returns its tcp:// address.
func (d *fakeDevice) listenTCP(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	tb.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				if d.serve(c) {
					// Reset rather than close: a printer losing power
					// does not say goodbye.
					c.(*net.TCPConn).SetLinger(0)
				}
			})
		}
	})
	return "tcp://" + ln.Addr().String()
}

// MustPTY serves d on a pseudo-terminal in raw mode and returns its
// slave's name, which stands in for /dev/usb/lp0 or /dev/ttyUSB0. The
// test keeps the slave open so the master does not hang up between jobs.
func (d *fakeDevice) MustPTY(tb testing.TB) string {
	tb.Helper()
	p, err := simport.Open("")
	if err != nil {
		tb.Skipf("no pseudo-terminal: %v", err)
	}
	done := make(chan struct{})
	tb.Cleanup(func() {
		p.Close()
		<-done
	})
	go func() {
		defer close(done)
		d.serve(p.Master)
	}()
	return p.Slave.Name()
}
