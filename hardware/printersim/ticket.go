package printersim

import "time"

// Ticket is one job the simulator printed: the bytes from the start of a
// job (after a cut, or the first byte of a connection that is not a status
// query) up to and including the next cut.
type Ticket struct {
	// Seq numbers tickets from 1 in the order they were recorded; the
	// HTTP view serves the PNG as "{Seq}.png".
	Seq int
	// Received is when the cut arrived (or the connection ended).
	Received time.Time
	// Text holds the printed lines, decoded to UTF-8 with the code page
	// in force when each byte arrived; blank lines are left out. A line
	// wider than the paper is one entry here and wraps on the PNG.
	Text []string
	// QR holds the payloads of the QR codes printed with GS ( k, in order.
	QR []string
	// Images is how many raster images (GS v 0) were printed.
	Images int
	// Errors lists what the simulator did not accept, each with the byte
	// offset in Raw: unknown commands, bad parameters, misplaced commands.
	Errors []string
	// Partial is set when the job ended without a cut: the connection was
	// closed or dropped (CutAfter, SetOffline) mid-ticket. Text that had
	// no line feed yet is not printed, as on a real printer.
	Partial bool
	// Raw is the job's bytes as received (capped at 4 MiB).
	Raw []byte
	// PNG is the image of the paper: Width dots wide, black on white.
	PNG []byte
}
