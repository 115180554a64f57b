package seca

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.bug.st/serial"

	"github.com/veedel/veedel/hardware/serialport"
)

// Defaults of Options.
const (
	DefaultBaud          = 9600
	DefaultAnswerTimeout = 2 * time.Second
	DefaultSettleTimeout = 10 * time.Second
	DefaultPollInterval  = 200 * time.Millisecond
	// MinWeightKG is the least stable weight taken as a person: below it
	// the scale is empty (a scale drifts by a few tens of grams).
	MinWeightKG = 0.5
	// MaxWeightKG and MaxHeightCM bound a plausible reading; beyond them
	// the frame is taken as garbled.
	MaxWeightKG = 500
	MaxHeightCM = 250
	// maxBadFrames is how many answers in a row may be garbled before a
	// reading gives up with ErrGarbled.
	maxBadFrames = 3
)

// Options tune a Scale; the zero value is the defaults.
type Options struct {
	// AnswerTimeout bounds the answer to one command (0: 2 s; a scale
	// answers in well under one, the rest is for a loaded machine).
	AnswerTimeout time.Duration
	// SettleTimeout bounds the wait for a stable reading (0: 10 s); the
	// caller's context may end it earlier.
	SettleTimeout time.Duration
	// PollInterval is the pause between two questions while the reading
	// is unstable (0: 200 ms).
	PollInterval time.Duration
	// OpenPort opens the device (nil: go.bug.st/serial, 8N1 at the
	// address's baud rate). A seam for tests.
	OpenPort func(path string, baud int) (io.ReadWriteCloser, error)
	// Now is the clock of the readings' time (nil: time.Now).
	Now func() time.Time
}

// Reading is one stable measurement.
type Reading struct {
	WeightKG float64 // rounded to 0.01 kg
	// HeightCM is 0 when the device has no height rod.
	HeightCM float64
	At       time.Time
}

// Health is the scale's state as it reports it.
type Health struct {
	// Up: the port is open and the scale answers.
	Up bool
	// Serial is the device's serial number (I4), when it gave one.
	Serial string
}

// Scale is a seca scale or measuring station on a serial line.
type Scale struct {
	path string
	baud int
	opt  Options

	// lock holds a token while a caller talks to the scale: it
	// serialises all traffic and guards c. A channel, so that Health can
	// give up waiting while a reading waits for a child to stand still.
	lock chan struct{}
	c    *conn // nil: closed, opened on next use

	lastMu sync.Mutex
	last   Health
}

// Open parses address, serial:///dev/ttyUSB0?baud=9600, and returns a
// Scale. The port is opened on first use: Open fails only on a bad
// address.
func Open(address string, opt Options) (*Scale, error) {
	path, baud, err := parseAddress(address)
	if err != nil {
		return nil, err
	}
	if opt.AnswerTimeout <= 0 {
		opt.AnswerTimeout = DefaultAnswerTimeout
	}
	if opt.SettleTimeout <= 0 {
		opt.SettleTimeout = DefaultSettleTimeout
	}
	if opt.PollInterval <= 0 {
		opt.PollInterval = DefaultPollInterval
	}
	if opt.OpenPort == nil {
		opt.OpenPort = serialport.Open
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Scale{path: path, baud: baud, opt: opt, lock: make(chan struct{}, 1)}, nil
}

func parseAddress(address string) (string, int, error) {
	u, err := url.Parse(address)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %v", ErrBadAddress, err)
	}
	switch {
	case u.Scheme != "serial":
		return "", 0, fmt.Errorf("%w: scheme %q, want serial:///dev/…", ErrBadAddress, u.Scheme)
	case u.User != nil:
		return "", 0, fmt.Errorf("%w: user info is not allowed", ErrBadAddress)
	case u.Fragment != "":
		return "", 0, fmt.Errorf("%w: fragment is not allowed", ErrBadAddress)
	case u.Host != "" || !strings.HasPrefix(u.Path, "/") || u.Path == "/":
		return "", 0, fmt.Errorf("%w: want an absolute device path, serial:///dev/ttyUSB0", ErrBadAddress)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", 0, fmt.Errorf("%w: query: %v", ErrBadAddress, err)
	}
	baud := DefaultBaud
	for k, vs := range q {
		if len(vs) > 1 {
			return "", 0, fmt.Errorf("%w: parameter %q given %d times", ErrBadAddress, k, len(vs))
		}
		switch k {
		case "baud":
			baud, err = strconv.Atoi(vs[0])
			if err != nil || baud <= 0 || baud > 921600 {
				return "", 0, fmt.Errorf("%w: baud %q", ErrBadAddress, vs[0])
			}
		default:
			return "", 0, fmt.Errorf("%w: unknown parameter %q (only baud)", ErrBadAddress, k)
		}
	}
	return u.Path, baud, nil
}

// Address is the scale's address as configured, without anything but
// the baud rate: serial:///dev/ttyUSB0?baud=9600.
func (s *Scale) Address() string {
	return (&url.URL{Scheme: "serial", Path: s.path, RawQuery: "baud=" + strconv.Itoa(s.baud)}).String()
}

func (s *Scale) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Scale) release() { <-s.lock }

// Close closes the port; a later call opens it again.
func (s *Scale) Close() error {
	s.acquire(context.Background())
	defer s.release()
	s.drop()
	return nil
}

func (s *Scale) drop() {
	if s.c != nil {
		s.c.close()
		s.c = nil
	}
}

// open opens the port if it is closed.
func (s *Scale) open() error {
	if s.c != nil {
		return nil
	}
	port, err := s.opt.OpenPort(s.path, s.baud)
	if err != nil {
		// The device's address is shown beside its errors: not again.
		return &Error{Op: "open", Err: fmt.Errorf("%w: %v", ErrNoDevice, err)}
	}
	if r, ok := port.(interface{ ResetInputBuffer() error }); ok {
		// An answer that came after the last conn gave up on it waits in
		// the OS's buffer: it must not be taken for the next one's.
		r.ResetInputBuffer()
	}
	s.c = newConn(port)
	return nil
}

// Read asks the scale for a stable reading: weight, and height where the
// device measures it. Unstable readings (the child still moves), a busy
// scale and an empty one are asked again every PollInterval until the
// reading is stable or SettleTimeout passes (ErrUnstable, ErrEmpty).
// Noise on the line is ignored while valid frames follow. Errors are
// *Error wrapping the sentinels of this package and never contain a
// reading.
func (s *Scale) Read(ctx context.Context) (Reading, error) {
	if err := s.acquire(ctx); err != nil {
		return Reading{}, &Error{Op: "read: waiting for the scale", Err: fmt.Errorf("%w: %v", errCanceled, err)}
	}
	defer s.release()
	r, err := s.read(ctx)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && (errors.Is(e, ErrUnstable) || errors.Is(e, ErrEmpty) || errors.Is(e, ErrOverload) ||
			errors.Is(e, ErrUnderload) || errors.Is(e, ErrRefused)) {
			// The scale answered: the line is in step.
		} else {
			s.drop()
		}
		s.setLast(Health{Up: s.c != nil, Serial: s.lastHealth().Serial})
		return Reading{}, err
	}
	s.setLast(Health{Up: true, Serial: s.lastHealth().Serial})
	return r, nil
}

func (s *Scale) read(ctx context.Context) (Reading, error) {
	if err := s.open(); err != nil {
		return Reading{}, err
	}
	deadline := time.Now().Add(s.opt.SettleTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	f, err := s.settle(ctx, "weight", "SI", "S", deadline, func(f Frame) (bool, error) {
		kg, err := kilograms(f)
		if err != nil {
			return false, err
		}
		return kg >= MinWeightKG, nil
	})
	if err != nil {
		return Reading{}, err
	}
	kg, _ := kilograms(f)
	r := Reading{WeightKG: math.Round(kg*100) / 100}
	f, err = s.settle(ctx, "height", "HI", "H", deadline, func(f Frame) (bool, error) {
		_, err := centimetres(f)
		return err == nil, err
	})
	switch {
	case errors.Is(err, errNoRod):
		// A scale without a height rod: weight only.
	case err != nil:
		return Reading{}, err
	default:
		cm, _ := centimetres(f)
		r.HeightCM = math.Round(cm*10) / 10
	}
	r.At = s.opt.Now()
	return r, nil
}

// errNoRod is the answer ES to HI: the device measures no height.
var errNoRod = errors.New("no height rod")

// settle asks cmd until the answer is stable and ok says it is a reading
// (not an empty scale), or deadline passes.
func (s *Scale) settle(ctx context.Context, op, cmd, id string, deadline time.Time, ok func(Frame) (bool, error)) (Frame, error) {
	var last error // why the last answer was not taken
	bad := 0
	for {
		f, err := s.ask(ctx, cmd, id)
		switch {
		case errors.Is(err, ErrGarbled):
			if bad++; bad >= maxBadFrames {
				return Frame{}, &Error{Op: op, Err: err}
			}
			last = err
		case err != nil:
			return Frame{}, &Error{Op: op, Err: err}
		default:
			bad = 0
			key := f.ID
			if f.Status != 0 {
				key += string(f.Status)
			}
			switch key {
			case id + "S":
				good, err := ok(f)
				if err != nil {
					return Frame{}, &Error{Op: op, Err: fmt.Errorf("%w: %v", ErrGarbled, err)}
				}
				if !plausible(id, f) {
					return Frame{}, &Error{Op: op, Err: fmt.Errorf("%w: value out of range", ErrGarbled)}
				}
				if good {
					return f, nil
				}
				last = ErrEmpty
			case id + "D":
				last = ErrUnstable
			case id + "I":
				// Busy (weight), or no height measured yet: the
				// head-piece is not lowered onto the head.
				last = ErrUnstable
				if id == "H" {
					last = ErrNoHeight
				}
			case id + "+":
				return Frame{}, &Error{Op: op, Err: ErrOverload}
			case id + "-":
				return Frame{}, &Error{Op: op, Err: ErrUnderload}
			case "ES":
				if id == "H" {
					return Frame{}, errNoRod
				}
				return Frame{}, &Error{Op: op, Err: fmt.Errorf("%w: %s not known to the device (ES)", ErrRefused, cmd)}
			case "EL":
				return Frame{}, &Error{Op: op, Err: fmt.Errorf("%w: EL", ErrRefused)}
			case "ET":
				// A transmission error of our command: ask again.
				if bad++; bad >= maxBadFrames {
					return Frame{}, &Error{Op: op, Err: fmt.Errorf("%w: transmission errors (ET)", ErrGarbled)}
				}
				last = ErrGarbled
			default:
				if bad++; bad >= maxBadFrames {
					return Frame{}, &Error{Op: op, Err: fmt.Errorf("%w: answers to another command", ErrGarbled)}
				}
				last = ErrGarbled
			}
		}
		wait := min(s.opt.PollInterval, time.Until(deadline))
		if wait <= 0 {
			if last == nil {
				last = ErrUnstable
			}
			return Frame{}, &Error{Op: op, Err: last}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			if last == ErrUnstable || last == ErrEmpty || last == ErrNoHeight {
				// Say why there was no reading, not only that the caller
				// stopped waiting.
				return Frame{}, &Error{Op: op, Err: last}
			}
			return Frame{}, &Error{Op: op, Err: fmt.Errorf("%w: %v", errCanceled, ctx.Err())}
		case <-t.C:
		}
	}
}

func plausible(id string, f Frame) bool {
	if id == "S" {
		kg, _ := kilograms(f)
		return kg >= -1 && kg <= MaxWeightKG
	}
	cm, _ := centimetres(f)
	return cm > 0 && cm <= MaxHeightCM
}

// ask sends cmd and returns the first frame that answers it (its id or
// an error code). Lines that are not frames are skipped while the answer
// timeout lasts; if only such lines came, the error is ErrGarbled.
func (s *Scale) ask(ctx context.Context, cmd, id string) (Frame, error) {
	c := s.c
	c.discard()
	if err := c.write([]byte(cmd + "\r\n")); err != nil {
		return Frame{}, err
	}
	deadline := time.Now().Add(s.opt.AnswerTimeout)
	var noise error
	for {
		line, err := c.line(ctx, deadline)
		if err != nil {
			if noise != nil && errors.Is(err, ErrNoAnswer) {
				return Frame{}, noise
			}
			return Frame{}, err
		}
		f, err := ParseFrame(line)
		if err != nil {
			noise = fmt.Errorf("%w: %v", ErrGarbled, err)
			continue
		}
		if f.ID == id || f.ID == "ES" || f.ID == "ET" || f.ID == "EL" {
			return f, nil
		}
		// A late answer to an earlier command: skip it.
		noise = fmt.Errorf("%w: answer %s to %s", ErrGarbled, f.ID, cmd)
	}
}

// Health asks the scale for its serial number (I4): a scale that answers
// is up. Health does not wait for a busy scale: when ctx ends before it
// gets the scale (a reading waiting for a child to stand still), it
// returns the last health seen, without touching the port, and no error.
func (s *Scale) Health(ctx context.Context) (Health, error) {
	if err := s.acquire(ctx); err != nil {
		return s.lastHealth(), nil
	}
	defer s.release()
	h, err := s.health(ctx)
	if err != nil {
		s.drop()
		h.Up = false
	}
	s.setLast(h)
	return h, err
}

func (s *Scale) health(ctx context.Context) (Health, error) {
	if err := s.open(); err != nil {
		return Health{}, err
	}
	var err error
	for try := 0; try < maxBadFrames; try++ {
		var f Frame
		f, err = s.ask(ctx, "I4", "I4")
		switch {
		case err == nil && f.ID == "I4":
			return Health{Up: true, Serial: f.Text}, nil
		case err == nil && (f.ID == "ES" || f.ID == "EL"):
			// It speaks the protocol without I4: up, no serial.
			return Health{Up: true}, nil
		case err == nil || errors.Is(err, ErrGarbled):
			continue
		}
		break
	}
	if err == nil {
		err = ErrGarbled
	}
	return Health{}, &Error{Op: "health", Err: err}
}

func (s *Scale) lastHealth() Health {
	s.lastMu.Lock()
	defer s.lastMu.Unlock()
	return s.last
}

func (s *Scale) setLast(h Health) {
	s.lastMu.Lock()
	defer s.lastMu.Unlock()
	s.last = h
}

// conn is one opened port: its reader (hardware/serialport) reads it in
// the background, line cuts lines from Buf.
type conn struct {
	*serialport.Reader
}

func newConn(port io.ReadWriteCloser) *conn {
	return &conn{serialport.NewReader(port, 256)}
}

func (c *conn) close() { c.Close() }

func (c *conn) write(b []byte) error {
	if _, err := c.Write(b); err != nil {
		return fmt.Errorf("%w: write: %v", ErrDisconnected, err)
	}
	return nil
}

// discard drops what arrived unasked before a new command.
func (c *conn) discard() { c.Discard() }

// line returns the next line without CR LF, waiting until deadline. A
// line longer than maxLine is returned cut (ParseFrame rejects it). An
// ended reader is ErrDisconnected; a deadline with part of a frame read
// is ErrDisconnected too (the frame was cut off), without any ErrNoAnswer.
func (c *conn) line(ctx context.Context, deadline time.Time) (string, error) {
	for {
		if i := bytes.IndexByte(c.Buf, '\n'); i >= 0 {
			l := strings.TrimRight(string(c.Buf[:i]), "\r")
			c.Buf = c.Buf[:copy(c.Buf, c.Buf[i+1:])]
			return l, nil
		}
		if len(c.Buf) > 2*maxLine {
			l := string(c.Buf)
			c.Buf = c.Buf[:0]
			return l, nil
		}
		switch err := c.More(ctx, deadline); {
		case err == nil:
		case errors.Is(err, serialport.ErrEnded):
			why := "the line hung up"
			var pe *serial.PortError
			if err := c.Err(); err != nil && !errors.Is(err, io.EOF) && !(errors.As(err, &pe) && pe.Code() == serial.PortClosed) {
				why = err.Error()
			}
			if n := len(c.Buf); n > 0 {
				return "", fmt.Errorf("%w: frame cut off after %d bytes (%s)", ErrDisconnected, n, why)
			}
			return "", fmt.Errorf("%w: %s", ErrDisconnected, why)
		case errors.Is(err, serialport.ErrDeadline):
			if n := len(c.Buf); n > 0 {
				return "", fmt.Errorf("%w: frame cut off after %d bytes, then silence", ErrDisconnected, n)
			}
			return "", ErrNoAnswer
		default:
			return "", fmt.Errorf("%w: %v", errCanceled, err)
		}
	}
}
