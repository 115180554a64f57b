package printer

import (
	"fmt"
	"time"

	"github.com/veedel/veedel/hardware"
	"github.com/veedel/veedel/hardware/escpos"
)

// session is one job's conversation with the printer.
type session struct {
	link link
	opt  Options
}

// status sends DLE EOT 1, 2 and 4 and reads their one-byte replies, the
// first within firstWait (after a ticket it queues behind the ticket's
// bytes), the others within the reply timeout.
func (s *session) status(firstWait time.Duration) (hardware.PrinterStatus, error) {
	var replies [3]byte
	wait := firstWait
	for i, q := range escpos.StatusQueries() {
		deadline := time.Now().Add(wait)
		if _, err := s.link.write(q, deadline); err != nil {
			return hardware.PrinterStatus{}, offline("send status query", err)
		}
		b, err := s.link.readByte(deadline)
		if err != nil {
			return hardware.PrinterStatus{}, offline(fmt.Sprintf("read reply to DLE EOT %d", q[2]), err)
		}
		replies[i] = b
		wait = s.opt.ReplyTimeout
	}
	st, err := escpos.ParseStatusStrict(replies[0], replies[1], replies[2])
	if err != nil {
		// Not a printer we understand, or out of step with it: as good as
		// unreachable for a ticket.
		return hardware.PrinterStatus{}, fmt.Errorf("%w: %w", ErrOffline, err)
	}
	return st, nil
}

// strayQuiet is how long the line must stay silent before the replies to
// DLE EOT are trusted again, after a ticket that held the bytes 10 04.
const strayQuiet = 100 * time.Millisecond

// discardStrayReplies reads away what the printer sent unasked. A printer
// with real-time commands enabled answers DLE EOT n even inside a raster
// image or QR data, and such an answer would be taken for the reply to the
// status query after the ticket. Bounded by the write timeout, in case the
// printer never stops talking.
func (s *session) discardStrayReplies() {
	end := time.Now().Add(s.opt.WriteTimeout)
	for time.Now().Before(end) {
		if _, err := s.link.readByte(time.Now().Add(strayQuiet)); err != nil {
			return
		}
	}
}
