// Package secasim owns a seca scale simulator on a pseudo-terminal: it
// answers the protocol the seca driver speaks (hardware/seca: MT-SICS
// level 0 with the height extension), with a person standing on it whose
// reading wobbles before it settles, and injects the failures the driver
// must survive: noise on the line, garbled answers, a scale that stops
// answering, and the cable pulled in the middle of a frame.
package secasim

import (
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/veedel/veedel/hardware/seca"
	"github.com/veedel/veedel/hardware/simport"
)

// Fault is a failure the simulator injects.
type Fault string

const (
	// None: the scale works.
	None Fault = ""
	// Noise: a line of noise before each of the next answers (a driver
	// must skip it and take the frame after it).
	Noise Fault = "noise"
	// Garbled: each of the next answers is replaced by noise.
	Garbled Fault = "garbled"
	// Silent: the scale reads commands and answers none, until cleared.
	Silent Fault = "silent"
	// PullCable: the next weight answer stops in the middle of its frame
	// and the line goes dead (the pty closes), until Replug.
	PullCable Fault = "pull"
)

// Capacity is the simulated scale's maximum: a heavier person reads as
// overload (S +).
const Capacity = 300

// Options configure a simulator.
type Options struct {
	// Link, if set, is a symlink kept pointing at the current pty, like
	// udev's /dev/ttyUSB0 or /dev/serial/by-id names: Replug re-points it.
	Link string
	// Serial is the serial number I4 answers (default "5851700001").
	Serial string
	// NoRod makes a scale without a height rod: HI answers ES.
	NoRod bool
}

// Person is who stands on the scale.
type Person struct {
	WeightKG float64 // 0: nobody, the scale reads 0.00 kg
	HeightCM float64 // 0: the head-piece is not lowered (H I)
	// Unstable is how many answers wobble (S D, H D) before the reading
	// settles.
	Unstable int
}

// Sim is a running simulator.
type Sim struct {
	opt Options

	mu       sync.Mutex
	master   *os.File
	slave    *os.File // held open: a pty master reads EIO when no slave is open
	wg       sync.WaitGroup
	person   Person
	wobble   int // answers still to wobble
	fault    Fault
	count    int // answers the fault still applies to (Noise, Garbled)
	plugged  bool
	answered int // stable weight answers given
}

// Start opens a pty and serves the protocol on it. Nobody stands on the
// scale until SetPerson.
func Start(opt Options) (*Sim, error) {
	if opt.Serial == "" {
		opt.Serial = "5851700001"
	}
	s := &Sim{opt: opt}
	if err := s.plug(); err != nil {
		return nil, err
	}
	return s, nil
}

// plug opens a new pty pair and serves it; s.mu is held or s is new.
func (s *Sim) plug() error {
	p, err := simport.Open(s.opt.Link)
	if err != nil {
		return fmt.Errorf("secasim: %w", err)
	}
	s.master, s.slave, s.plugged = p.Master, p.Slave, true
	s.wg.Add(1)
	go s.serve(p.Master)
	return nil
}

// Path is the device to open, for serial:// + Path: the Link if set (it
// survives Replug), else the current pty.
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

// Unplug closes the pty and removes Link: the driver's reads and writes
// fail, and opening the Link fails until Replug.
func (s *Sim) Unplug() {
	s.mu.Lock()
	s.unplugLocked()
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Sim) unplugLocked() {
	m, sl := s.master, s.slave
	s.master, s.slave, s.plugged = nil, nil, false
	if s.opt.Link != "" {
		// As udev removes a USB adapter's names when it is unplugged;
		// the pty's number may go to another terminal meanwhile.
		os.Remove(s.opt.Link)
	}
	if m != nil {
		m.Close()
		sl.Close()
	}
}

// Replug opens a new pty (re-pointing Link) and clears the fault, as
// after the cable is plugged back in.
func (s *Sim) Replug() error {
	s.Unplug()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault, s.count = None, 0
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

// SetPerson puts p on the scale: its reading wobbles for p.Unstable
// answers, then settles on p's weight and height.
func (s *Sim) SetPerson(p Person) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.person, s.wobble = p, p.Unstable
}

// Inject sets a fault: Noise and Garbled for the next n answers, Silent
// until cleared, PullCable at the next weight answer; None clears it.
func (s *Sim) Inject(f Fault, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault, s.count = f, n
}

// State is what the simulator shows of itself.
type State struct {
	Path    string
	Plugged bool
	Person  Person
	Fault   Fault
	// Readings is how many stable weights the scale answered.
	Readings int
}

// State returns the simulator's state.
func (s *Sim) State() State {
	p := s.Path()
	s.mu.Lock()
	defer s.mu.Unlock()
	return State{Path: p, Plugged: s.plugged, Person: s.person, Fault: s.fault, Readings: s.answered}
}

// serve reads the master until it is closed.
func (s *Sim) serve(master *os.File) {
	defer s.wg.Done()
	var line []byte
	buf := make([]byte, 256)
	for {
		n, err := master.Read(buf)
		if err != nil {
			return
		}
		for _, c := range buf[:n] {
			switch c {
			case '\r', '\n':
				cmd := strings.TrimSpace(string(line))
				line = line[:0]
				if cmd != "" && !s.answer(master, cmd) {
					return
				}
			default:
				if len(line) < 64 {
					line = append(line, c)
				}
			}
		}
	}
}

// pullDelay is how long the half frame travels before the line dies.
const pullDelay = 50 * time.Millisecond

// noise is what a line at the wrong baud rate or a damaged cable delivers.
const noise = "\xfe\x8f#\x00~S\x13 k\xe4"

// answer answers one command; false when the cable was pulled.
func (s *Sim) answer(w *os.File, cmd string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out string
	switch cmd {
	case "SI":
		out = s.weightLocked()
	case "HI":
		out = s.heightLocked()
	case "I4", "@":
		out = fmt.Sprintf("I4 A %q", s.opt.Serial)
	default:
		out = "ES"
	}
	switch s.fault {
	case Silent:
		return true
	case PullCable:
		if cmd == "SI" {
			// Half a frame, then the line is dead (after the bytes on
			// the way arrived: a hangup discards what is not yet read).
			w.Write([]byte(out[:len(out)/2]))
			time.Sleep(pullDelay)
			s.fault = None
			s.unplugLocked()
			return false
		}
	case Noise:
		out = noise + "\r\n" + out
		s.countLocked()
	case Garbled:
		out = noise
		s.countLocked()
	}
	w.Write([]byte(out + "\r\n"))
	return true
}

func (s *Sim) countLocked() {
	if s.count--; s.count <= 0 {
		s.fault, s.count = None, 0
	}
}

func (s *Sim) weightLocked() string {
	p := s.person
	if p.WeightKG > Capacity {
		return "S +"
	}
	if s.wobble > 0 && p.WeightKG > 0 {
		// A child stepping on: the reading swings around the weight.
		s.wobble--
		d := 0.4 * float64(s.wobble+1)
		if s.wobble%2 == 1 {
			d = -d
		}
		return seca.FormatWeight(false, math.Max(p.WeightKG+d, 0))
	}
	if p.WeightKG > 0 {
		s.answered++
	}
	return seca.FormatWeight(true, p.WeightKG)
}

func (s *Sim) heightLocked() string {
	switch {
	case s.opt.NoRod:
		return "ES"
	case s.person.HeightCM <= 0:
		return "H I"
	}
	return seca.FormatHeight(true, s.person.HeightCM)
}
