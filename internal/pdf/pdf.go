// Package pdf writes the documents a site prints for citizens: a business
// letter for a window envelope (DIN 5008, form B) and a slip with a QR
// code. It knows layout, not workflows: the caller fills in the texts
// (certificate orders today; vehicle applications and exam letters can
// use the same two documents).
//
// Text is set in DejaVu Sans, embedded in the binary (internal/fonts, with
// its licence) and subset into each PDF as a TrueType font with a Unicode map,
// so that every name a register holds ("Yıldırım-Schäfer", "Ørsted",
// "Łukasz") prints and can be searched and copied, whatever fonts the
// machine has.
package pdf

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/skip2/go-qrcode"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/internal/fonts"
)

var (
	regularFont = fonts.DejaVuSans
	boldFont    = fonts.DejaVuSansBold
)

const family = "dejavu"

// Fact is one labelled value ("Bestellcode", "U7KQ3M9XP").
type Fact struct {
	Label, Value string
}

// Letter is a business letter on A4 for a DL window envelope, laid out by
// DIN 5008 form B: the address field 20 mm from the left and 45 mm from
// the top (85 × 45 mm: the return line in its top zone, the address in the
// six lines below), the information block to the right at 125 mm, fold
// marks at 105 and 210 mm and the punch mark at 148.5 mm.
type Letter struct {
	// Lang is the document's language (de).
	Lang string
	// Title is the document's title in its metadata.
	Title string
	// Letterhead is the sender's name at the top (Stadt Köln, the site).
	Letterhead []string
	// ReturnLine is the sender in one line above the address
	// (Rücksendeangabe), set small.
	ReturnLine string
	// Recipient is the address: at most six lines, each fitted into the
	// window.
	Recipient []string
	// Info is the information block: the reference, date and the like.
	Info []Fact
	// Subject is the letter's subject line (Betreff), bold.
	Subject string
	// Body is the text, one paragraph an entry.
	Body []string
	// Facts are set as a table after the body (order details).
	Facts []Fact
	// Closing follows the facts (greeting, signature line).
	Closing []string
	// Footer is set small at the bottom of the page.
	Footer []string
	// Date is the document's creation date in its metadata.
	Date time.Time
}

// Slip is a half-page A5 slip: a heading, a code in large letters with its
// QR code beside it, labelled facts and notes.
type Slip struct {
	Lang       string
	Title      string
	Letterhead []string
	// Heading is the slip's heading ("Abholschein").
	Heading string
	// Code is printed large; QR is the QR code's content (usually Code).
	Code, QR string
	Facts    []Fact
	Notes    []string
	Date     time.Time
}

// Layout of the letter, in millimetres (DIN 5008, form B).
const (
	pageW          = 210.0
	marginLeft     = 25.0
	marginRight    = 20.0
	addressLeft    = 20.0 + 5.0 // the field is at 20 mm; the text indented by 5 mm
	addressTop     = 45.0
	addressWidth   = 85.0 - 5.0 - 5.0
	returnZone     = 17.7 // zone for the return line and remarks
	addressLines   = 6
	addressLineH   = 27.3 / addressLines
	infoLeft       = 125.0
	infoTop        = 50.0
	subjectTop     = 103.4
	foldMark1      = 105.0
	foldMark2      = 210.0
	punchMark      = 148.5
	bodyFontSize   = 11.0
	bodyLineHeight = 5.3
)

func newDoc(orientation, size, lang, title string, date time.Time) *fpdf.Fpdf {
	f := fpdf.New(orientation, "mm", size, "")
	f.AddUTF8FontFromBytes(family, "", regularFont)
	f.AddUTF8FontFromBytes(family, "B", boldFont)
	f.SetTitle(title, true)
	f.SetCreator("Veedel", true)
	f.SetProducer("Veedel", true)
	if lang != "" {
		f.SetLang(lang)
	}
	if !date.IsZero() {
		f.SetCreationDate(date)
		f.SetModificationDate(date)
	}
	f.SetCompression(true)
	return f
}

// Write writes the letter as a PDF.
func (l Letter) Write(w io.Writer) error {
	f := newDoc("P", "A4", l.Lang, l.Title, l.Date)
	if err := l.page(f); err != nil {
		return err
	}
	return f.Output(w)
}

// page sets the letter on a new page of f.
func (l Letter) page(f *fpdf.Fpdf) error {
	t := newText(f, l.Lang)
	address := windowLines(f, l.Recipient)
	if len(address) > addressLines {
		return veedel.Errorf(veedel.EINVALID, "Die Anschrift braucht %d Zeilen, das Fenster des Umschlags fasst %d: bitte das Anschreiben von Hand schreiben / the address takes %d lines, the envelope's window holds %d: please write the letter by hand",
			len(address), addressLines, len(address), addressLines)
	}
	f.SetMargins(marginLeft, 20, marginRight)
	f.SetAutoPageBreak(true, 25)
	f.AddPage()

	// Marks at the left edge: fold, punch, fold.
	f.SetDrawColor(120, 120, 120)
	f.SetLineWidth(0.2)
	for _, y := range []float64{foldMark1, foldMark2} {
		f.Line(3, y, 8, y)
	}
	f.Line(3, punchMark, 10, punchMark)

	// Letterhead, top right.
	f.SetTextColor(0, 0, 0)
	y := 15.0
	for i, line := range l.Letterhead {
		style, size := "", 10.0
		if i == 0 {
			style, size = "B", 14
		}
		f.SetFont(family, style, size)
		f.SetXY(infoLeft, y)
		t.cell(pageW-marginRight-infoLeft, size*0.45, line, "", style)
		y += size * 0.45
	}

	// Return line: the bottom line of the top zone, small and underlined.
	if l.ReturnLine != "" {
		size := fit(f, "", l.ReturnLine, 8, 6, addressWidth)
		f.SetFont(family, "", size)
		f.SetXY(addressLeft, addressTop+returnZone-4)
		t.cellAligned(addressWidth, 4, l.ReturnLine, "B", "", "L") // the envelope's window
	}
	// The address, fitted into the window.
	for i, line := range address {
		f.SetFont(family, "", line.size)
		f.SetXY(addressLeft, addressTop+returnZone+float64(i)*addressLineH)
		t.cellAligned(addressWidth, addressLineH, line.text, "", "", "L")
	}

	// Information block.
	y = infoTop
	for _, fact := range l.Info {
		f.SetFont(family, "", 8)
		f.SetXY(infoLeft, y)
		t.cell(pageW-marginRight-infoLeft, 3.6, fact.Label, "", "")
		f.SetFont(family, "B", 10)
		f.SetXY(infoLeft, y+3.6)
		t.cell(pageW-marginRight-infoLeft, 4.6, fact.Value, "", "B")
		y += 9.5
	}

	// Subject and body.
	textW := pageW - marginLeft - marginRight
	f.SetXY(marginLeft, max(subjectTop, y+4))
	f.SetFont(family, "B", bodyFontSize)
	t.para(textW, bodyLineHeight, l.Subject, "B")
	f.Ln(bodyLineHeight)
	f.SetFont(family, "", bodyFontSize)
	for _, p := range l.Body {
		t.para(textW, bodyLineHeight, p, "")
		f.Ln(bodyLineHeight * 0.6)
	}
	if len(l.Facts) > 0 {
		f.Ln(bodyLineHeight * 0.4)
		table(t, l.Facts, textW, 55)
		f.Ln(bodyLineHeight)
	}
	f.SetFont(family, "", bodyFontSize)
	for _, p := range l.Closing {
		t.para(textW, bodyLineHeight, p, "")
	}

	// Footer.
	if len(l.Footer) > 0 {
		f.SetFont(family, "", 7.5)
		f.SetTextColor(80, 80, 80)
		fy := 297.0 - 12 - float64(len(l.Footer))*3.4
		f.SetAutoPageBreak(false, 0)
		for _, line := range l.Footer {
			f.SetXY(marginLeft, fy)
			t.cell(textW, 3.4, line, "", "")
			fy += 3.4
		}
	}
	if t.err != nil {
		return t.err
	}
	return f.Error()
}

// Write writes the slip as a PDF (A5 landscape).
func (s Slip) Write(w io.Writer) error {
	f := newDoc("L", "A5", s.Lang, s.Title, s.Date)
	const left, right, top = 15.0, 15.0, 12.0
	const width = 210.0 - left - right
	f.SetMargins(left, top, right)
	f.SetAutoPageBreak(true, 10)
	f.AddPage()

	y := top
	for i, line := range s.Letterhead {
		style, size := "", 9.0
		if i == 0 {
			style, size = "B", 11
		}
		f.SetFont(family, style, size)
		f.SetXY(left, y)
		f.CellFormat(width, size*0.45, line, "", 0, "L", false, 0, "")
		y += size * 0.45
	}
	y += 3
	f.SetDrawColor(0, 0, 0)
	f.SetLineWidth(0.3)
	f.Line(left, y, left+width, y)
	y += 4

	// QR code at the right, 40 mm.
	const qrSize = 40.0
	qrX := left + width - qrSize
	if s.QR != "" {
		if err := drawQR(f, s.QR, qrX, y, qrSize); err != nil {
			return err
		}
	}
	textW := qrX - left - 5
	f.SetXY(left, y)
	f.SetFont(family, "B", 20)
	f.MultiCell(textW, 9, s.Heading, "", "L", false)
	f.SetFont(family, "B", fit(f, "B", s.Code, 30, 14, textW))
	f.SetX(left)
	f.CellFormat(textW, 14, s.Code, "", 1, "L", false, 0, "")
	f.Ln(2)
	f.SetFont(family, "", 11)
	table(newText(f, s.Lang), s.Facts, textW, 38)
	f.SetY(max(f.GetY(), y+qrSize) + 4)
	f.SetFont(family, "", 9.5)
	for _, n := range s.Notes {
		f.MultiCell(width, 4.6, n, "", "L", false)
		f.Ln(1)
	}
	return f.Output(w)
}

// table sets facts as label and value columns at the current position
// (for a right-to-left language the label on the right).
func table(t *text, facts []Fact, width, labelW float64) {
	f := t.f
	x := f.GetX()
	labelX, valueX := x, x+labelW
	if t.rtl {
		labelX, valueX = x+width-labelW, x
	}
	for _, fact := range facts {
		y := f.GetY()
		f.SetFont(family, "", 10.5)
		f.SetXY(labelX, y)
		t.para(labelW, bodyLineHeight, fact.Label, "")
		yl := f.GetY()
		f.SetFont(family, "B", 10.5)
		f.SetXY(valueX, y)
		t.para(width-labelW, bodyLineHeight, fact.Value, "B")
		f.SetXY(x, max(yl, f.GetY()))
	}
}

// windowLine is a line of the address as set in the window.
type windowLine struct {
	text string
	size float64
}

// windowLines fits the address into the window's width: each line at the
// body's size, or smaller down to 8 pt, or wrapped at 8 pt between words
// (a long name on two lines rather than out of the window).
func windowLines(f *fpdf.Fpdf, lines []string) []windowLine {
	const min = 8.0
	var out []windowLine
	for _, text := range lines {
		size := fit(f, "", text, bodyFontSize, min, addressWidth)
		f.SetFont(family, "", size)
		if f.GetStringWidth(text) <= addressWidth {
			out = append(out, windowLine{text, size})
			continue
		}
		for _, part := range f.SplitText(text, addressWidth) {
			out = append(out, windowLine{strings.TrimSpace(part), min})
		}
	}
	return out
}

// fit is the largest font size from size down to min (in half points) at
// which text fits width; min when none does (the line is then clipped by
// the cell, never wrapped out of the window).
func fit(f *fpdf.Fpdf, style, text string, size, min, width float64) float64 {
	for ; size > min; size -= 0.5 {
		f.SetFont(family, style, size)
		if f.GetStringWidth(text) <= width {
			return size
		}
	}
	return min
}

// drawQR draws content's QR code as vector squares (sharp at any printer
// resolution) in a size × size square at x, y, its quiet zone included.
func drawQR(f *fpdf.Fpdf, content string, x, y, size float64) error {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return fmt.Errorf("pdf: qr code: %w", err)
	}
	bits := q.Bitmap() // with its quiet zone
	n := float64(len(bits))
	cell := size / n
	f.SetFillColor(0, 0, 0)
	for r, row := range bits {
		// Runs of dark modules in a row as one rectangle each.
		for c := 0; c < len(row); {
			if !row[c] {
				c++
				continue
			}
			start := c
			for c < len(row) && row[c] {
				c++
			}
			// A hair taller than a module, so no seam shows between rows.
			f.Rect(x+float64(start)*cell, y+float64(r)*cell, float64(c-start)*cell, cell+0.02, "F")
		}
	}
	return nil
}

// Bytes renders a document into memory: a failed document never sends
// half a PDF.
func Bytes(doc interface{ Write(io.Writer) error }) ([]byte, error) {
	var b bytes.Buffer
	if err := doc.Write(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Join joins the non-empty parts with sep.
func Join(sep string, parts ...string) string {
	out := parts[:0:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}
