// Package modemsim owns a GSM modem simulator on a pseudo-terminal: it
// answers the AT subset the modem driver speaks (27.005 SMS in PDU and
// text mode, 27.007 status), decodes and records every accepted SMS part,
// reassembles concatenated messages, and injects the failures the driver
// must survive: +CMS errors, no network, no SIM, an unplugged device, and
// a modem that hangs after the submit.
package modemsim

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/veedel/veedel/appliance/notify"
	"github.com/veedel/veedel/hardware/simport"
)

// Options configure a simulator.
type Options struct {
	// Link, if set, is a symlink kept pointing at the current pty, like
	// udev's /dev/ttyUSB0 or /dev/serial/by-id names: Replug re-points it.
	Link string
	// RSSI is the AT+CSQ signal (0-31; 0 means 20, -71 dBm).
	RSSI int
}

// Part is one accepted submit.
type Part struct {
	To       string
	Text     string
	Encoding notify.Encoding
	Mode     string // "pdu" or "text"
	// Ref, Total and Seq are the concatenation header's, 0 without one.
	Ref, Total, Seq int
	MR              int // the message reference answered in +CMGS
}

// Message is a complete message: a single part or all parts of a
// concatenated one, reassembled.
type Message struct {
	To       string
	Text     string
	Parts    int
	Encoding notify.Encoding
}

// Sim is a running simulator.
type Sim struct {
	opt Options

	mu       sync.Mutex
	master   *os.File
	slave    *os.File // held open: a pty master reads EIO when no slave is open
	wg       sync.WaitGroup
	echo     bool
	cmee     int
	cmgf     int
	cscs     string
	network  bool
	sim      bool
	passNext int
	failNext int
	failCode int
	hang     int
	mr       int
	parts    []Part
	messages []Message
	groups   map[string][]*Part
	changed  chan struct{} // closed and replaced when a part is recorded
}

// Start opens a pty and serves AT commands on it.
func Start(opt Options) (*Sim, error) {
	if opt.RSSI == 0 {
		opt.RSSI = 20
	}
	s := &Sim{opt: opt, echo: true, cscs: "IRA", network: true, sim: true,
		groups: map[string][]*Part{}, changed: make(chan struct{})}
	if err := s.plug(); err != nil {
		return nil, err
	}
	return s, nil
}

// plug opens a new pty pair and serves it; s.mu is held or s is new.
func (s *Sim) plug() error {
	p, err := simport.Open(s.opt.Link)
	if err != nil {
		return fmt.Errorf("modemsim: %w", err)
	}
	s.master, s.slave = p.Master, p.Slave
	s.wg.Add(1)
	go s.serve(p.Master)
	return nil
}

// Path is the current pty's device, for serial:// + Path (or the Link,
// if set: it survives Replug).
func (s *Sim) Path() string {
	if s.opt.Link != "" {
		return s.opt.Link
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.slave == nil {
		return ""
	}
	return s.slave.Name()
}

// Unplug closes the pty: the driver's reads and writes fail (EIO).
func (s *Sim) Unplug() {
	s.mu.Lock()
	m, sl := s.master, s.slave
	s.master, s.slave = nil, nil
	s.mu.Unlock()
	if m != nil {
		m.Close()
		sl.Close()
	}
	s.wg.Wait()
}

// Replug opens a new pty and re-points Link to it. Modem state (mode,
// echo) is reset as after a power cycle; recorded messages stay.
func (s *Sim) Replug() error {
	s.Unplug()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.echo, s.cmee, s.cmgf, s.cscs = true, 0, 0, "IRA"
	return s.plug()
}

// Close stops the simulator and removes Link.
func (s *Sim) Close() error {
	s.Unplug()
	if s.opt.Link != "" {
		os.Remove(s.opt.Link)
	}
	return nil
}

// FailNext makes the next n submits answer +CMS ERROR: code.
func (s *Sim) FailNext(n, code int) { s.FailAfter(0, n, code) }

// FailAfter lets the next ok submits through, then makes n answer
// +CMS ERROR: code (e.g. part 2 of a long text: FailAfter(1, 1, 332)).
func (s *Sim) FailAfter(ok, n, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.passNext, s.failNext, s.failCode = ok, n, code
}

// SetNetwork registers (true) or loses the network: AT+CREG? stat 0,
// AT+CSQ 99, submits +CMS ERROR: 331.
func (s *Sim) SetNetwork(up bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.network = up
}

// SetSIM inserts (true) or removes the SIM: AT+CPIN? +CME ERROR: 10,
// AT+CMGS +CMS ERROR: 310.
func (s *Sim) SetSIM(present bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sim = present
}

// Hang makes the modem accept the next submit (it is recorded: the
// network got it) and never answer it: the ambiguous case. It answers
// commands after that again.
func (s *Sim) Hang() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hang++
}

// Parts returns every accepted part, in order.
func (s *Sim) Parts() []Part {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Part(nil), s.parts...)
}

// Messages returns the complete messages, in order of completion.
func (s *Sim) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// WaitParts waits until at least n parts are accepted.
func (s *Sim) WaitParts(ctx context.Context, n int) ([]Part, error) {
	return wait(ctx, s, func() ([]Part, bool) { return append([]Part(nil), s.parts...), len(s.parts) >= n })
}

// WaitMessages waits until at least n messages are complete.
func (s *Sim) WaitMessages(ctx context.Context, n int) ([]Message, error) {
	return wait(ctx, s, func() ([]Message, bool) {
		return append([]Message(nil), s.messages...), len(s.messages) >= n
	})
}

func wait[T any](ctx context.Context, s *Sim, done func() (T, bool)) (T, error) {
	for {
		s.mu.Lock()
		v, ok := done()
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return v, nil
		}
		select {
		case <-ctx.Done():
			return v, ctx.Err()
		case <-ch:
		}
	}
}

// serve reads the master until it is closed.
func (s *Sim) serve(master *os.File) {
	defer s.wg.Done()
	var line []byte
	var input []byte // SMS input after the prompt
	inInput := false
	var cmgs string // the AT+CMGS argument of the input
	buf := make([]byte, 1024)
	for {
		n, err := master.Read(buf)
		if err != nil {
			return
		}
		for _, c := range buf[:n] {
			if inInput {
				switch c {
				case 0x1A:
					inInput = false
					s.finishInput(master, cmgs, input)
					input = input[:0]
				case 0x1B:
					inInput = false
					input = input[:0]
					s.reply(master, "OK")
				default:
					s.mu.Lock()
					echo := s.echo
					s.mu.Unlock()
					if echo {
						master.Write([]byte{c})
					}
					if c == '\r' && s.textMode() {
						master.Write([]byte("\r\n> "))
					}
					input = append(input, c)
				}
				continue
			}
			s.mu.Lock()
			echo := s.echo
			s.mu.Unlock()
			if echo && c != 0x1B {
				master.Write([]byte{c})
			}
			switch c {
			case '\r':
				cmd := strings.TrimSpace(string(line))
				line = line[:0]
				if cmd == "" {
					continue
				}
				if arg, ok := s.command(master, cmd); ok {
					inInput, cmgs = true, arg
					master.Write([]byte("\r\n> "))
				}
			case '\n', 0x1B:
			default:
				line = append(line, c)
			}
		}
	}
}

func (s *Sim) textMode() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmgf == 1
}

func (s *Sim) reply(w *os.File, lines ...string) {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("\r\n" + l + "\r\n")
	}
	w.Write([]byte(b.String()))
}

// cmeError is the +CME ERROR in the form AT+CMEE asks for.
func (s *Sim) cmeError(code int) string {
	switch s.cmee {
	case 0:
		return "ERROR"
	case 2:
		if code == 10 {
			return "+CME ERROR: SIM not inserted"
		}
	}
	return "+CME ERROR: " + strconv.Itoa(code)
}

// command runs one command line. ok means an SMS input starts, with the
// AT+CMGS argument.
func (s *Sim) command(w *os.File, cmd string) (arg string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	up := strings.ToUpper(cmd)
	if !strings.HasPrefix(up, "AT") {
		s.reply(w, "ERROR")
		return "", false
	}
	body := cmd[2:]
	ubody := up[2:]
	switch {
	case ubody == "":
		s.reply(w, "OK")
	case ubody == "E0" || ubody == "E1":
		s.echo = ubody == "E1"
		s.reply(w, "OK")
	case strings.HasPrefix(ubody, "+CMEE="):
		n, err := strconv.Atoi(body[6:])
		if err != nil || n < 0 || n > 2 {
			s.reply(w, "ERROR")
			return
		}
		s.cmee = n
		s.reply(w, "OK")
	case ubody == "+CPIN?":
		if !s.sim {
			s.reply(w, s.cmeError(10))
			return
		}
		s.reply(w, "+CPIN: READY", "OK")
	case ubody == "+CSQ":
		rssi := s.opt.RSSI
		if !s.network {
			rssi = 99
		}
		s.reply(w, fmt.Sprintf("+CSQ: %d,99", rssi), "OK")
	case ubody == "+CREG?":
		stat := 1
		if !s.network {
			stat = 0
		}
		s.reply(w, fmt.Sprintf("+CREG: 0,%d", stat), "OK")
	case ubody == "+CMGF=0" || ubody == "+CMGF=1":
		s.cmgf = int(ubody[6] - '0')
		s.reply(w, "OK")
	case strings.HasPrefix(ubody, "+CSCS="):
		v := strings.Trim(ubody[6:], `"`)
		if v != "GSM" && v != "UCS2" && v != "IRA" {
			s.reply(w, s.cmeError(4))
			return
		}
		s.cscs = v
		s.reply(w, "OK")
	case strings.HasPrefix(ubody, "+CSMP="):
		s.reply(w, "OK")
	case strings.HasPrefix(ubody, "+CMGS="):
		if !s.sim {
			s.reply(w, "+CMS ERROR: 310")
			return
		}
		return body[6:], true
	default:
		s.reply(w, "ERROR")
	}
	return "", false
}

// finishInput handles a Ctrl-Z: decode, inject, record, answer.
func (s *Sim) finishInput(w *os.File, arg string, input []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var p Part
	var err error
	if s.cmgf == 0 {
		p, err = s.decodePDU(arg, input)
		if err != nil {
			s.reply(w, "+CMS ERROR: 304")
			return
		}
	} else {
		p, err = s.decodeText(arg, input)
		if err != nil {
			s.reply(w, "+CMS ERROR: 305")
			return
		}
	}
	if !s.network {
		s.reply(w, "+CMS ERROR: 331")
		return
	}
	switch {
	case s.passNext > 0:
		s.passNext--
	case s.failNext > 0:
		s.failNext--
		s.reply(w, fmt.Sprintf("+CMS ERROR: %d", s.failCode))
		return
	}
	s.mr = (s.mr + 1) % 256
	p.MR = s.mr
	s.record(p)
	if s.hang > 0 {
		s.hang--
		return
	}
	s.reply(w, fmt.Sprintf("+CMGS: %d", p.MR), "OK")
}

func (s *Sim) decodePDU(arg string, input []byte) (Part, error) {
	n, err := strconv.Atoi(strings.TrimSpace(arg))
	if err != nil {
		return Part{}, err
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(input)))
	if err != nil {
		return Part{}, err
	}
	sub, err := decodeSubmit(b, n)
	if err != nil {
		return Part{}, err
	}
	return Part{To: sub.to, Text: sub.text, Encoding: sub.enc, Mode: "pdu", Ref: sub.ref, Total: sub.total, Seq: sub.seq}, nil
}

func (s *Sim) decodeText(arg string, input []byte) (Part, error) {
	da, _, _ := strings.Cut(arg, ",")
	da = strings.Trim(strings.TrimSpace(da), `"`)
	p := Part{Mode: "text", Encoding: notify.GSM7}
	switch s.cscs {
	case "UCS2":
		b, err := hex.DecodeString(da)
		if err != nil {
			return p, err
		}
		p.To = decodeUCS2(b)
		if b, err = hex.DecodeString(string(input)); err != nil || len(b)%2 != 0 {
			return p, errors.New("bad UCS2 text")
		}
		p.Text, p.Encoding = decodeUCS2(b), notify.UCS2
	case "GSM":
		p.To = da
		text, err := notify.DecodeGSM7(input)
		if err != nil {
			return p, err
		}
		p.Text = text
	default: // IRA: ASCII
		p.To, p.Text = da, string(input)
	}
	return p, nil
}

// record keeps p and completes a message when it can; s.mu is held.
func (s *Sim) record(p Part) {
	s.parts = append(s.parts, p)
	defer func() {
		close(s.changed)
		s.changed = make(chan struct{})
	}()
	if p.Total <= 1 {
		s.messages = append(s.messages, Message{To: p.To, Text: p.Text, Parts: 1, Encoding: p.Encoding})
		return
	}
	key := fmt.Sprintf("%s/%d/%d", p.To, p.Ref, p.Total)
	g := s.groups[key]
	if g == nil {
		g = make([]*Part, p.Total)
	}
	if p.Seq >= 1 && p.Seq <= p.Total {
		g[p.Seq-1] = &p
	}
	s.groups[key] = g
	var text strings.Builder
	for _, q := range g {
		if q == nil {
			return
		}
		text.WriteString(q.Text)
	}
	delete(s.groups, key)
	s.messages = append(s.messages, Message{To: p.To, Text: text.String(), Parts: p.Total, Encoding: p.Encoding})
}
