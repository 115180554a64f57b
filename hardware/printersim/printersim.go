// Package printersim owns a simulated ESC/POS network receipt printer: a TCP
// server, like a printer on port 9100, that parses the byte stream the
// kiosk's driver sends, keeps every ticket it prints (text, QR payloads, raw
// bytes and a PNG of the paper), answers DLE EOT status queries, and lets
// tests and the demo switch paper, cover and connection faults at run time.
//
// The parser is strict: a command the simulator does not know is recorded
// in the ticket's Errors, so that driver bugs show up in tests.
package printersim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// DefaultWidth is the paper's printable width in dots: 80 mm paper at
// 203 dpi, 48 columns of 12-dot characters.
const DefaultWidth = 576

// DefaultKeep is how many tickets a simulator keeps when Options.Keep is 0.
const DefaultKeep = 500

// ErrClosed is returned by Listen and Serve after Close.
var ErrClosed = errors.New("printersim: closed")

// Options configure a simulator. The zero value is usable.
type Options struct {
	// Width is the paper's printable width in dots; 0 means DefaultWidth.
	// The text font is 12 dots wide, so 576 gives 48 columns.
	Width int
	// Keep is how many tickets are kept, oldest dropped first; 0 means
	// DefaultKeep.
	Keep int
	// Now is the clock that stamps tickets; nil means time.Now.
	Now func() time.Time
}

// Paper is the state of the paper roll.
type Paper int

// The paper states. With PaperOut the printer stops: it still answers
// status queries but discards what it is sent.
const (
	PaperOK Paper = iota
	PaperLow
	PaperOut
)

// String returns "ok", "low" or "out".
func (p Paper) String() string {
	switch p {
	case PaperOK:
		return "ok"
	case PaperLow:
		return "low"
	case PaperOut:
		return "out"
	}
	return fmt.Sprintf("Paper(%d)", int(p))
}

// MarshalText encodes the paper state as its String.
func (p Paper) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// Mode is the simulator's switchable state.
type Mode struct {
	Paper     Paper `json:"paper"`
	CoverOpen bool  `json:"coverOpen"`
	// Offline means unplugged: no connection is accepted.
	Offline bool `json:"offline"`
	// Error is a mechanical error (reported as an autocutter error).
	Error bool `json:"error"`
	// CutAfter is the armed connection fault in bytes, -1 when none.
	CutAfter int `json:"cutAfter"`
}

// stopped reports whether the printer is online but unable to print: it
// answers status queries and discards the rest.
func (m Mode) stopped() bool {
	return m.Paper == PaperOut || m.CoverOpen || m.Error
}

// Sim is a simulated ESC/POS network printer. Its methods are safe for
// concurrent use.
type Sim struct {
	width int
	keep  int
	now   func() time.Time

	mu        sync.Mutex
	mode      Mode
	ln        net.Listener
	network   string // of the first listener, to listen again after SetOffline(false)
	address   string
	conns     map[net.Conn]struct{}
	tickets   []Ticket
	printed   int
	discarded int
	changed   chan struct{} // closed and replaced whenever a ticket is recorded
	closed    bool
	wg        sync.WaitGroup
}

// New returns a simulator that is not yet listening.
func New(opts Options) *Sim {
	s := &Sim{
		width:   opts.Width,
		keep:    opts.Keep,
		now:     opts.Now,
		mode:    Mode{CutAfter: -1},
		conns:   make(map[net.Conn]struct{}),
		changed: make(chan struct{}),
	}
	if s.width <= 0 {
		s.width = DefaultWidth
	}
	if s.keep <= 0 {
		s.keep = DefaultKeep
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Listen listens on the TCP address addr ("127.0.0.1:0" for a free port)
// and serves in the background, as Serve does.
func (s *Sim) Listen(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("printersim: %w", err)
	}
	return s.Serve(l)
}

// Serve serves the connections accepted on l in the background and returns
// at once; Close stops it. A simulator serves one listener in its life:
// after SetOffline(true) and SetOffline(false) it listens again on l's
// address.
func (s *Sim) Serve(l net.Listener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		l.Close()
		return ErrClosed
	}
	if s.network != "" {
		return errors.New("printersim: already serving")
	}
	s.network, s.address = l.Addr().Network(), l.Addr().String()
	if s.mode.Offline {
		l.Close()
		return nil
	}
	s.startLocked(l)
	return nil
}

func (s *Sim) startLocked(l net.Listener) {
	s.ln = l
	s.wg.Add(1)
	go s.accept(l)
}

// Addr is the printer's address as the driver takes it,
// "tcp://127.0.0.1:9100", or "" before Listen or Serve.
func (s *Sim) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.network == "" {
		return ""
	}
	return s.network + "://" + s.address
}

// Close stops listening, drops every connection and waits until their
// jobs are recorded. It is safe to call more than once.
func (s *Sim) Close() error {
	s.mu.Lock()
	s.closed = true
	s.dropLocked()
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// dropLocked closes the listener and every connection.
func (s *Sim) dropLocked() {
	if s.ln != nil {
		s.ln.Close()
		s.ln = nil
	}
	for c := range s.conns {
		c.Close()
	}
}

func (s *Sim) accept(l net.Listener) {
	defer s.wg.Done()
	for {
		nc, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// Too many open files and the like: try again shortly,
			// unless the listener went away meanwhile.
			time.Sleep(10 * time.Millisecond)
			s.mu.Lock()
			gone := s.ln != l
			s.mu.Unlock()
			if gone {
				return
			}
			continue
		}
		s.mu.Lock()
		if s.closed || s.mode.Offline || s.ln != l {
			s.mu.Unlock()
			nc.Close()
			continue
		}
		s.conns[nc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.handle(nc)
	}
}

func (s *Sim) handle(nc net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, nc)
		s.mu.Unlock()
		nc.Close()
	}()
	newSession(s, nc).run()
}

// Mode returns the current mode.
func (s *Sim) Mode() Mode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mode
}

// SetPaper sets the paper roll's state.
func (s *Sim) SetPaper(p Paper) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode.Paper = p
}

// SetCoverOpen opens or closes the cover. With the cover open the printer
// is offline in DLE EOT terms: it answers status queries and discards what
// it is sent.
func (s *Sim) SetCoverOpen(open bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode.CoverOpen = open
}

// SetError sets or clears a mechanical error (an autocutter jam): the
// printer reports it and discards what it is sent, as with the cover open.
func (s *Sim) SetError(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode.Error = on
}

// SetOffline unplugs (true) or plugs in (false) the printer. Unplugging
// closes the listener and every connection, so dials are refused; plugging
// in listens again at the same address, which fails only if another
// process took the port meanwhile.
func (s *Sim) SetOffline(offline bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if offline {
		s.mode.Offline = true
		s.dropLocked()
		return nil
	}
	if !s.mode.Offline {
		return nil
	}
	if s.network != "" && !s.closed {
		l, err := net.Listen(s.network, s.address)
		if err != nil {
			return fmt.Errorf("printersim: listen again: %w", err)
		}
		s.startLocked(l)
	}
	s.mode.Offline = false
	return nil
}

// CutAfter arms a fault: the next job (the bytes after a cut or a new
// connection, status queries aside) loses its connection after n bytes,
// as if the printer were unplugged mid-ticket. What arrived is kept as a
// ticket with Partial set. A job shorter than n bytes prints normally and
// disarms the fault. n < 0 disarms it.
func (s *Sim) CutAfter(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n < 0 {
		n = -1
	}
	s.mode.CutAfter = n
}

// takeCutAfter disarms the fault and returns it, -1 when none was armed.
func (s *Sim) takeCutAfter() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.mode.CutAfter
	s.mode.CutAfter = -1
	return n
}

// Printed is how many tickets were recorded, partial ones included, since
// New (also those dropped from Tickets because of Options.Keep).
func (s *Sim) Printed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.printed
}

// Discarded is how many jobs were thrown away because the printer was
// stopped (paper out, cover open or error) while receiving them.
func (s *Sim) Discarded() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.discarded
}

// Tickets returns the kept tickets, oldest first. The caller must not
// modify their slices.
func (s *Sim) Tickets() []Ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Ticket(nil), s.tickets...)
}

// Ticket returns the ticket with sequence number seq, if it is kept.
func (s *Sim) Ticket(seq int) (Ticket, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tickets {
		if t.Seq == seq {
			return t, true
		}
	}
	return Ticket{}, false
}

// WaitTickets waits until at least n tickets were recorded (Printed() >= n)
// and returns the kept tickets, or returns ctx's error.
func (s *Sim) WaitTickets(ctx context.Context, n int) ([]Ticket, error) {
	for {
		s.mu.Lock()
		if s.printed >= n {
			ts := append([]Ticket(nil), s.tickets...)
			s.mu.Unlock()
			return ts, nil
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("printersim: waiting for %d tickets: %w", n, ctx.Err())
		}
	}
}

func (s *Sim) record(t Ticket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.printed++
	t.Seq = s.printed
	s.tickets = append(s.tickets, t)
	if over := len(s.tickets) - s.keep; over > 0 {
		s.tickets = append([]Ticket(nil), s.tickets[over:]...)
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Sim) discard() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.discarded++
}

// statusByte answers DLE EOT n; ok is false for an n it does not know.
func (s *Sim) statusByte(n byte) (b byte, ok bool) {
	m := s.Mode()
	b = 0x12 // fixed bits 1 and 4
	switch n {
	case 1: // printer status
		if m.stopped() {
			b |= 0x08 // offline
		}
	case 2: // offline cause
		if m.CoverOpen {
			b |= 0x04
		}
		if m.Paper == PaperOut {
			b |= 0x20 // printing stopped by paper end
		}
		if m.Error {
			b |= 0x40
		}
	case 3: // error cause
		if m.Error {
			b |= 0x08 // autocutter error
		}
	case 4: // roll paper sensor
		switch m.Paper {
		case PaperLow:
			b |= 0x0C // near end
		case PaperOut:
			b |= 0x0C | 0x60 // the near-end sensor finds no paper either
		}
	default:
		return 0, false
	}
	return b, true
}
