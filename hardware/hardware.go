// Package hardware owns what the appliance drives besides its screen: the
// kiosk's thermal ticket printer, the GSM modem that sends SMS when the
// WAN is down, and the school-health site's scale. This root package holds the types every driver, simulator
// and caller shares; the protocols live in subpackages:
//
//   - escpos: the ESC/POS byte stream of a ticket and the DLE EOT status
//   - printer: ESC/POS printers addressed as tcp://, usb:// or serial://
//   - printersim: a TCP printer simulator that renders tickets as PNG
//   - modem: an SMS sender speaking AT commands over a serial line
//   - modemsim: a GSM modem simulator on a pseudo-terminal
//   - seca: the scale and measuring station on RS-232 (weight, height)
//   - secasim: a seca scale simulator on a pseudo-terminal
package hardware

import (
	"context"
	"strings"
	"time"
)

// Ticket is what a kiosk prints for a citizen.
type Ticket struct {
	Site    string // the site's name, "Kundenzentrum Kalk"
	Service string // the service's name in the citizen's language
	Number  string // the ticket number, "A042"
	// IssuedAt is printed as "29.11.2026 10:42" in its own location: the
	// caller passes the time in the site's zone.
	IssuedAt time.Time
	// StatusURL is the QR code's content: the ticket's status page.
	StatusURL string
	// Lines are printed under the time, one per line, e.g. the wait
	// estimate or "Termin um 10:30".
	Lines []string
	// Local is the ticket's text again in the citizen's language when
	// the printer's code page lacks its letters (Turkish, Arabic): the
	// printer draws it as images under the German text, so the citizen
	// can read the ticket and the clerk still can too. Nil: none.
	Local *LocalText
}

// LocalText is a ticket's service and lines in a language the printer
// draws rather than prints as text.
type LocalText struct {
	Lang    string // BCP 47, "ar" or "tr"; sets the direction
	Service string
	Lines   []string
}

// PrinterStatus is what a printer reports of itself (ESC/POS DLE EOT).
type PrinterStatus struct {
	Online    bool // answering and able to print
	PaperLow  bool // the roll is near its end
	PaperOut  bool // no paper: nothing prints
	CoverOpen bool
	// Error is a mechanical, cutter or unrecoverable error.
	Error bool
}

// Printable reports whether a ticket can be printed now.
func (s PrinterStatus) Printable() bool {
	return s.Online && !s.PaperOut && !s.CoverOpen && !s.Error
}

// String is a short English summary for logs: "ok", "paper low",
// "offline, paper out".
func (s PrinterStatus) String() string {
	var parts []string
	if !s.Online {
		parts = append(parts, "offline")
	}
	if s.PaperOut {
		parts = append(parts, "paper out")
	} else if s.PaperLow {
		parts = append(parts, "paper low")
	}
	if s.CoverOpen {
		parts = append(parts, "cover open")
	}
	if s.Error {
		parts = append(parts, "error")
	}
	if len(parts) == 0 {
		return "ok"
	}
	return strings.Join(parts, ", ")
}

// Printer prints tickets. Print returns only when the ticket's bytes are
// handed to the device; an error means the ticket may be missing or cut
// short, and the caller must not print it again on its own (a citizen
// would get two tickets): the kiosk shows the ticket on screen instead.
type Printer interface {
	Print(ctx context.Context, t Ticket) error
	Status(ctx context.Context) (PrinterStatus, error)
}
