package seca

import (
	"errors"
	"strings"
)

// Sentinels for errors.Is; an *Error wraps one of them.
var (
	// ErrBadAddress: the address is not serial:///dev/…[?baud=N].
	ErrBadAddress = errors.New("seca: bad address")
	// ErrNoDevice: the port cannot be opened (nothing plugged in, a wrong
	// path, no permission).
	ErrNoDevice = errors.New("no scale at the address")
	// ErrDisconnected: the line failed while talking to the scale, or a
	// frame was cut off: the cable was pulled or the scale switched off.
	ErrDisconnected = errors.New("connection to the scale lost (cable pulled or scale switched off?)")
	// ErrNoAnswer: the port is open but nothing came back in time.
	ErrNoAnswer = errors.New("the scale does not answer")
	// ErrGarbled: what came back is not the scale's protocol (wrong baud
	// rate or parity, a damaged cable, another device on the port).
	ErrGarbled = errors.New("garbled answer from the scale")
	// ErrUnstable: the reading did not settle in time (the person moves).
	ErrUnstable = errors.New("no stable reading (please stand still)")
	// ErrNoHeight: the measuring station measured no height in time (the
	// head-piece was not lowered onto the head).
	ErrNoHeight = errors.New("no height measured (lower the head-piece)")
	// ErrEmpty: the scale reads (almost) nothing: nobody stands on it.
	ErrEmpty = errors.New("nobody on the scale")
	// ErrOverload and ErrUnderload: the scale is outside its range.
	ErrOverload  = errors.New("scale overloaded")
	ErrUnderload = errors.New("scale under its zero (re-zero it empty)")
	// ErrRefused: the scale answered with a logical error (EL) to a
	// command it knows.
	ErrRefused = errors.New("the scale refused the command")
)

// Error is a failed operation of the driver. Its text names the
// operation and the device path, never a reading (it is logged, and a
// child's weight is health data).
type Error struct {
	// Op is what failed: "open", "weight", "height", "health".
	Op  string
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("seca: ")
	b.WriteString(e.Op)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Fault reports whether err is the device's fault (to be shown to staff
// and technicians as a device problem) rather than the person's: an
// unstable reading, nobody on the scale, no height measured and a caller's ended context are
// not faults.
func Fault(err error) bool {
	if err == nil {
		return false
	}
	for _, e := range []error{ErrUnstable, ErrEmpty, ErrNoHeight} {
		if errors.Is(err, e) {
			return false
		}
	}
	return !errors.Is(err, errCanceled)
}

// errCanceled marks a reading whose caller gave up (its context ended).
var errCanceled = errors.New("the caller gave up waiting")
