package escpos

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/veedel/veedel/hardware"
	"github.com/veedel/veedel/hardware/rastertext"
)

// QRMode says how the status URL's QR code reaches the paper.
type QRMode int

const (
	// QRNative lets the printer draw the code (GS ( k); the default.
	QRNative QRMode = iota
	// QRRaster sends the code as a bitmap (GS v 0) for printers without
	// GS ( k, at the cost of a few kilobytes per ticket.
	QRRaster
)

// CutMode says whether the ticket is cut off the roll.
type CutMode int

const (
	// CutPartial feeds to the cutter and cuts leaving a hinge; the default,
	// so the zero Options cut like the kiosks do.
	CutPartial CutMode = iota
	// CutNone leaves the ticket on the roll, for printers without cutter.
	CutNone
)

// Paper widths in dots at 203 dpi.
const (
	Width80mm = 576
	Width58mm = 384
)

// Options are a printer's capabilities; the zero value is an 80 mm printer
// with native QR codes and a cutter.
type Options struct {
	QR QRMode
	// Width is the printable width in dots, a multiple of 8; 0 means 576.
	Width int
	// ModuleSize is the QR code's module edge in dots, 1 to 16; 0 means 6.
	// A raster code too wide for the paper is drawn with smaller modules.
	ModuleSize int
	Cut        CutMode
}

// dotsPerColumn is font A's character width including spacing.
const dotsPerColumn = 12

// withDefaults fills in the zero fields and checks the rest, so every
// caller (the driver at Open, Ticket per ticket) rejects the same options.
func (o Options) withDefaults() (Options, error) {
	if o.Width == 0 {
		o.Width = Width80mm
	}
	if o.ModuleSize == 0 {
		o.ModuleSize = 6
	}
	switch {
	case o.QR != QRNative && o.QR != QRRaster:
		return o, fmt.Errorf("escpos: unknown QR mode %d", o.QR)
	case o.Cut != CutPartial && o.Cut != CutNone:
		return o, fmt.Errorf("escpos: unknown cut mode %d", o.Cut)
	case o.Width < 16*dotsPerColumn || o.Width > 4096 || o.Width%8 != 0:
		// 16 columns is the narrowest ticket that still reads as one.
		return o, fmt.Errorf("escpos: width %d dots: must be a multiple of 8 from 192 to 4096", o.Width)
	case o.ModuleSize < 1 || o.ModuleSize > 16:
		return o, fmt.Errorf("escpos: QR module size %d: must be 1 to 16", o.ModuleSize)
	}
	return o, nil
}

// Validate reports whether Ticket accepts the options, so a driver can
// refuse a bad configuration when it starts rather than at the first ticket.
func (o Options) Validate() error {
	_, err := o.withDefaults()
	return err
}

// columns is the number of font A characters on one line of the paper, 0
// for bad options.
func (o Options) columns() int {
	o, err := o.withDefaults()
	if err != nil {
		return 0
	}
	return o.Width / dotsPerColumn
}

// Command bytes, named as in Epson's ESC/POS reference.
const (
	esc = 0x1B
	gs  = 0x1D
	dle = 0x10
	eot = 0x04
	lf  = 0x0A
)

// Ticket returns the bytes that print t. It fails only on bad options or a
// status URL too long for any QR code; text never fails, see the package doc.
func Ticket(t hardware.Ticket, opt Options) ([]byte, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	cols := opt.columns()
	var b bytes.Buffer
	b.Write([]byte{esc, '@'})
	b.Write([]byte{esc, 't', 19})
	b.Write([]byte{esc, 'a', 1})

	b.Write([]byte{esc, 'E', 1})
	writeText(&b, t.Site, cols)
	b.Write([]byte{esc, 'E', 0})

	writeText(&b, t.Service, cols)

	b.Write([]byte{gs, '!', 0x33})
	writeText(&b, t.Number, cols/4)
	b.Write([]byte{gs, '!', 0x00})

	writeText(&b, t.IssuedAt.Format("02.01.2006 15:04"), cols)
	for _, line := range t.Lines {
		writeText(&b, line, cols)
	}
	if err := writeLocal(&b, t.Local, opt); err != nil {
		return nil, err
	}

	if t.StatusURL != "" {
		if err := writeQR(&b, t.StatusURL, opt); err != nil {
			return nil, err
		}
		b.WriteByte(lf)
	}

	b.Write([]byte{esc, 'd', 3})
	if opt.Cut == CutPartial {
		b.Write([]byte{gs, 'V', 66, 0})
	}
	return b.Bytes(), nil
}

// writeLocal draws the ticket's text in the citizen's language as GS v 0
// images, one per printed line: the service in bold, then each line,
// after a blank line that sets it apart from the German text.
func writeLocal(b *bytes.Buffer, l *hardware.LocalText, opt Options) error {
	if l == nil || (strings.TrimSpace(l.Service) == "" && len(l.Lines) == 0) {
		return nil
	}
	r, err := rastertext.Default()
	if err != nil {
		return fmt.Errorf("escpos: %w", err)
	}
	b.WriteByte(lf)
	paragraphs := append([]string{l.Service}, l.Lines...)
	for i, p := range paragraphs {
		lines, err := r.Paragraph(p, opt.Width, rastertext.Style{Lang: l.Lang, Bold: i == 0})
		if err != nil {
			return fmt.Errorf("escpos: %w", err)
		}
		for _, bm := range lines {
			writeRaster(b, bm.Width/8, bm.Height, bm.Bits)
		}
	}
	return nil
}

// writeRaster writes one GS v 0 image: rowBytes bytes per row, rows rows.
func writeRaster(b *bytes.Buffer, rowBytes, rows int, bits []byte) {
	b.Write([]byte{gs, 'v', '0', 0, byte(rowBytes), byte(rowBytes >> 8), byte(rows), byte(rows >> 8)})
	b.Write(bits)
}

// writeText writes s encoded and wrapped, each line ending in LF; an empty
// s still ends in one LF so the ticket's layout does not depend on it.
func writeText(b *bytes.Buffer, s string, cols int) {
	for _, line := range wrap(encode(s), cols) {
		b.Write(line)
		b.WriteByte(lf)
	}
}
