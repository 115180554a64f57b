package printersim

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"sync"

	"github.com/skip2/go-qrcode"
	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// The geometry of font A: 12x24 dots per character, 30 dots per line.
const (
	cellW     = 12
	cellH     = 24
	ascent    = 19 // Go Mono at 20 px: ascent 19 + descent 5 = 24
	lineGap   = 6
	fontSize  = 20 // Go Mono's advance is 0.6 em: 12 dots at 20 px
	margin    = 24 // white paper above and below the print
	tear      = 12 // height of the torn edge of a partial ticket
	quietZone = 4  // modules of white around a QR code
	maxHeight = 40000
)

type fontSet struct{ regular, bold *opentype.Font }

// fonts parses the embedded Go Mono fonts once; they are read-only after.
var fonts = sync.OnceValue(func() fontSet {
	r, err := opentype.Parse(gomono.TTF)
	if err != nil {
		panic(fmt.Sprintf("printersim: parse Go Mono: %v", err))
	}
	b, err := opentype.Parse(gomonobold.TTF)
	if err != nil {
		panic(fmt.Sprintf("printersim: parse Go Mono Bold: %v", err))
	}
	return fontSet{regular: r, bold: b}
})

// block is a printed element of a ticket, stacked top to bottom.
type block interface {
	// height is the block's height in dots on paper of this width.
	height(width int) int
	draw(r *renderer, y int)
}

type feedBlock struct {
	lines int // line feeds of lineGap+cellH dots
	dots  int
}

func (f feedBlock) height(int) int       { return f.lines*(cellH+lineGap) + f.dots }
func (f feedBlock) draw(*renderer, int)  {}
func (l lineBlock) height(width int) int { return sumHeights(l.rows(width)) }
func (q qrBlock) height(int) int         { return q.width() }
func (b rasterBlock) height(int) int     { return b.rows * b.sy }
func (q qrBlock) width() int             { return (len(q.bits) + 2*quietZone) * q.module }
func (b rasterBlock) width() int         { return b.bytesPerRow * 8 * b.sx }

// offsetX is where a w dots wide element starts on the paper.
func offsetX(a alignment, w, paper int) int {
	switch a {
	case alignCentre:
		return max(0, (paper-w)/2)
	case alignRight:
		return max(0, paper-w)
	}
	return 0
}

// lineBlock is a line of text ended by LF.
type lineBlock struct {
	align alignment
	cells []cell
}

// rows wraps the line where it is wider than the paper, as a printer does.
func (l lineBlock) rows(width int) [][]cell {
	var rows [][]cell
	start, w := 0, 0
	for i, c := range l.cells {
		cw := cellW * c.wmul
		if w+cw > width && i > start {
			rows = append(rows, l.cells[start:i])
			start, w = i, 0
		}
		w += cw
	}
	return append(rows, l.cells[start:])
}

func rowHeight(row []cell) int {
	h := 1
	for _, c := range row {
		h = max(h, c.hmul)
	}
	return h*cellH + lineGap
}

func sumHeights(rows [][]cell) int {
	n := 0
	for _, r := range rows {
		n += rowHeight(r)
	}
	return n
}

func (l lineBlock) draw(r *renderer, y int) {
	for _, row := range l.rows(r.width) {
		w := 0
		for _, c := range row {
			w += cellW * c.wmul
		}
		x := offsetX(l.align, w, r.width)
		bottom := y + rowHeight(row) - lineGap
		for i := 0; i < len(row); {
			// A run of cells drawn alike.
			j := i + 1
			for j < len(row) && row[j].bold == row[i].bold && row[j].wmul == row[i].wmul && row[j].hmul == row[i].hmul {
				j++
			}
			r.text(row[i:j], x, bottom)
			x += (j - i) * cellW * row[i].wmul
			i = j
		}
		y += rowHeight(row)
	}
}

// qrBlock is a QR code printed with GS ( k.
type qrBlock struct {
	bits   [][]bool
	module int
	align  alignment
}

var qrLevels = map[byte]qrcode.RecoveryLevel{
	'0': qrcode.Low, '1': qrcode.Medium, '2': qrcode.High, '3': qrcode.Highest,
}

func newQRBlock(data []byte, level byte, module int, align alignment) (qrBlock, error) {
	q, err := qrcode.New(string(data), qrLevels[level])
	if err != nil {
		return qrBlock{}, err
	}
	q.DisableBorder = true
	return qrBlock{bits: q.Bitmap(), module: module, align: align}, nil
}

func (q qrBlock) draw(r *renderer, y int) {
	x0 := offsetX(q.align, q.width(), r.width) + quietZone*q.module
	y0 := y + quietZone*q.module
	for row, line := range q.bits {
		for col, black := range line {
			if black {
				r.fill(image.Rect(x0+col*q.module, y0+row*q.module, x0+(col+1)*q.module, y0+(row+1)*q.module))
			}
		}
	}
}

// rasterBlock is a GS v 0 bit image: 1 bit per dot, most significant bit
// left, 1 black; sx and sy double it.
type rasterBlock struct {
	bytesPerRow, rows int
	sx, sy            int
	data              []byte
	align             alignment
}

func (b rasterBlock) draw(r *renderer, y int) {
	x0 := offsetX(b.align, b.width(), r.width)
	for row := 0; row < b.rows; row++ {
		for col := 0; col < b.bytesPerRow*8; col++ {
			if b.data[row*b.bytesPerRow+col/8]&(0x80>>(col%8)) != 0 {
				x, yy := x0+col*b.sx, y+row*b.sy
				r.fill(image.Rect(x, yy, x+b.sx, yy+b.sy))
			}
		}
	}
}

// renderer draws one ticket; its font faces are not shared between
// goroutines.
type renderer struct {
	img   *image.Gray
	width int
	faces map[[2]int]font.Face
}

func (r *renderer) fill(rect image.Rectangle) {
	draw.Draw(r.img, rect.Intersect(r.img.Rect), image.Black, image.Point{}, draw.Src)
}

// face returns Go Mono (bold or not) at hmul times font A's height.
func (r *renderer) face(bold bool, hmul int) font.Face {
	k := [2]int{hmul, 0}
	f := fonts().regular
	if bold {
		k[1] = 1
		f = fonts().bold
	}
	if fc, ok := r.faces[k]; ok {
		return fc
	}
	fc, err := opentype.NewFace(f, &opentype.FaceOptions{Size: float64(fontSize * hmul), DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic(fmt.Sprintf("printersim: font face: %v", err))
	}
	r.faces[k] = fc
	return fc
}

// text draws a run of alike cells from x with their cells' bottom at
// bottom. The glyphs are drawn hmul times font A's size; a different width
// multiplier stretches them horizontally, as the printer does.
func (r *renderer) text(run []cell, x, bottom int) {
	c := run[0]
	w, h := len(run)*cellW*c.hmul, cellH*c.hmul
	mask := image.NewAlpha(image.Rect(0, 0, w, h))
	d := font.Drawer{Dst: mask, Src: image.Opaque, Face: r.face(c.bold, c.hmul)}
	for i, cl := range run {
		d.Dot = fixed.P(i*cellW*c.hmul, ascent*c.hmul)
		d.DrawString(string(cl.r))
	}
	if c.wmul != c.hmul {
		scaled := image.NewAlpha(image.Rect(0, 0, len(run)*cellW*c.wmul, h))
		xdraw.BiLinear.Scale(scaled, scaled.Rect, mask, mask.Rect, xdraw.Src, nil)
		mask = scaled
	}
	dr := mask.Rect.Add(image.Pt(x, bottom-h))
	draw.DrawMask(r.img, dr, image.Black, image.Point{}, mask, image.Point{}, draw.Over)
}

// render draws the blocks on white paper of the given width and encodes
// the image as PNG. A partial ticket ends in a torn edge.
func render(blocks []block, width int, partial bool) []byte {
	h := 2 * margin
	for _, b := range blocks {
		h += b.height(width)
	}
	if partial {
		h += tear
	}
	h = min(h, maxHeight)
	r := &renderer{img: image.NewGray(image.Rect(0, 0, width, h)), width: width, faces: map[[2]int]font.Face{}}
	draw.Draw(r.img, r.img.Rect, image.White, image.Point{}, draw.Src)
	y := margin
	for _, b := range blocks {
		if y >= h {
			break
		}
		b.draw(r, y)
		y += b.height(width)
	}
	if partial {
		// A zigzag edge, grey below it: the paper was not cut.
		grey := color.Gray{Y: 0xC8}
		for x := 0; x < width; x++ {
			edge := h - tear + abs(x%(2*tear)-tear)
			for yy := edge; yy < h; yy++ {
				r.img.SetGray(x, yy, grey)
			}
		}
	}
	for _, f := range r.faces {
		f.Close()
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, r.img); err != nil {
		panic(fmt.Sprintf("printersim: encode PNG: %v", err)) // writing to memory does not fail
	}
	return buf.Bytes()
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
