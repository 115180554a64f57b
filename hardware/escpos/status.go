package escpos

import (
	"fmt"

	"github.com/veedel/veedel/hardware"
)

// StatusQueries returns the three real-time status requests the driver
// sends, in order: DLE EOT 1 (printer), DLE EOT 2 (offline cause) and
// DLE EOT 4 (roll paper sensor). The printer answers each with one byte,
// even while it is offline or busy printing. A new slice each call, so no
// caller can change another's.
func StatusQueries() [][]byte {
	return [][]byte{
		{dle, eot, 1},
		{dle, eot, 2},
		{dle, eot, 4},
	}
}

// Bits of the DLE EOT replies, as in Epson's ESC/POS reference. Every reply
// byte has bit 1 and bit 4 set and bit 0 and bit 7 clear (0x12 when
// nothing is reported); the rest are:
//
//	n = 1, printer status:  bit 3 (0x08) offline
//	n = 2, offline cause:   bit 2 (0x04) cover open
//	                        bit 5 (0x20) printing stopped by paper end
//	                        bit 6 (0x40) error (cutter, mechanical,
//	                                     unrecoverable or auto-recoverable)
//	n = 4, roll paper:      bits 2-3 (0x0C) paper near end
//	                        bits 5-6 (0x60) paper end
//
// Bits not listed (drawer pin, paper feed button, waiting for recovery) do
// not change whether a ticket can print, so they are ignored.
const (
	statusFixedMask = 0x93 // bits 0, 1, 4, 7
	statusFixed     = 0x12 // bits 1 and 4 set, 0 and 7 clear

	printerOffline = 0x08

	causeCoverOpen = 0x04
	causePaperEnd  = 0x20
	causeError     = 0x40

	paperNearEnd = 0x0C
	paperEnd     = 0x60
)

// isStatusByte reports whether b has the fixed bits of a DLE EOT reply; a
// byte that does not is something else (a stale reply of another command,
// line noise, a printer that speaks no ESC/POS).
func isStatusByte(b byte) bool {
	return b&statusFixedMask == statusFixed
}

// parseStatus reads the replies to StatusQueries, in their order, without
// checking that they are status bytes; see ParseStatusStrict.
func parseStatus(printer, offline, paper byte) hardware.PrinterStatus {
	// Epson sets both bits of a pair together; any one of them counts, as a
	// ticket that prints nothing is worse than one shown on screen.
	return hardware.PrinterStatus{
		Online:    printer&printerOffline == 0,
		PaperLow:  paper&paperNearEnd != 0,
		PaperOut:  offline&causePaperEnd != 0 || paper&paperEnd != 0,
		CoverOpen: offline&causeCoverOpen != 0,
		Error:     offline&causeError != 0,
	}
}

// ParseStatusStrict reads the replies to StatusQueries, in their order,
// and fails when a reply is not a status byte (a stale reply of another
// command, line noise), naming which.
func ParseStatusStrict(printer, offline, paper byte) (hardware.PrinterStatus, error) {
	for i, b := range []byte{printer, offline, paper} {
		if !isStatusByte(b) {
			n := [...]int{1, 2, 4}[i]
			return hardware.PrinterStatus{}, fmt.Errorf("escpos: reply 0x%02X to DLE EOT %d is not a status byte", b, n)
		}
	}
	return parseStatus(printer, offline, paper), nil
}
