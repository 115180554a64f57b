package printer

import (
	"errors"
	"fmt"

	"github.com/veedel/veedel/hardware"
)

// Why a ticket did not print, for errors.Is. A printer that reports a cause
// (paper, cover, error) is not also ErrOffline, so a caller testing the
// sentinels in any order names the cause the citizen's staff can fix.
var (
	// ErrOffline: the printer cannot be reached (refused, reset, timed
	// out, unplugged), answers with something that is not a status byte,
	// or reports itself offline without a cause.
	ErrOffline      = errors.New("printer offline")
	ErrPaperOut     = errors.New("printer out of paper")
	ErrCoverOpen    = errors.New("printer cover open")
	ErrPrinterError = errors.New("printer error")
)

// StatusError is a printer that answered but cannot print. errors.Is
// matches it against the sentinels its Status sets; errors.As gives the
// whole status, e.g. to show "paper low" too.
type StatusError struct {
	Status hardware.PrinterStatus
	// During is true when the printer stopped while printing the ticket,
	// which may then be missing or cut short; false when nothing was sent.
	During bool
}

func (e *StatusError) Error() string {
	if e.During {
		return fmt.Sprintf("printer stopped during the ticket: %s", e.Status)
	}
	return fmt.Sprintf("printer not ready: %s", e.Status)
}

// Is makes errors.Is(err, ErrPaperOut) and the like work; see the
// sentinels for why ErrOffline matches only when there is no other cause.
func (e *StatusError) Is(target error) bool {
	s := e.Status
	switch target {
	case ErrPaperOut:
		return s.PaperOut
	case ErrCoverOpen:
		return s.CoverOpen
	case ErrPrinterError:
		return s.Error
	case ErrOffline:
		return !s.Online && !s.PaperOut && !s.CoverOpen && !s.Error
	}
	return false
}

// offline wraps an I/O failure so it is ErrOffline and still the original
// error (a *net.OpError, context.DeadlineExceeded) for errors.Is and As.
func offline(op string, err error) error {
	return fmt.Errorf("%s: %w: %w", op, ErrOffline, err)
}
