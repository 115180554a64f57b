// Package rastertext draws text in any script DejaVu Sans covers as 1-bit
// images a thermal printer prints dot for dot (ESC/POS GS v 0). Receipt
// printers have code pages for Western European letters, but none for
// Arabic, and the usual CP858 lacks Turkish ı, ş and ğ: the kiosk prints
// those languages' lines through this package instead of leaving the
// citizen a German-only ticket.
//
// Text is shaped with go-text/typesetting's port of HarfBuzz (Arabic
// letters take their joined forms, lam-alef becomes one glyph, marks sit
// on their letters), split into runs and put in visual order by the
// Unicode bidirectional algorithm (a right-to-left paragraph with a ticket
// number "A042" in it reads right), wrapped at the paper's width and
// centred, and filled with x/image/vector's anti-aliasing rasterizer before
// a 50 % threshold. A library beats writing this here: complex-script
// shaping is a font-engine's job.
package rastertext

import (
	"bytes"
	"cmp"
	"fmt"
	"image"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/font"
	ot "github.com/go-text/typesetting/font/opentype"
	"github.com/go-text/typesetting/language"
	"github.com/go-text/typesetting/shaping"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
	"golang.org/x/text/unicode/norm"

	"github.com/veedel/veedel/internal/fonts"
)

// Bitmap is one printed line: Width dots (a multiple of 8) by Height,
// packed as GS v 0 wants it: rows top to bottom, Width/8 bytes each, the
// most significant bit the leftmost dot, 1 a black dot.
type Bitmap struct {
	Width, Height int
	Bits          []byte
}

// Dot reports whether the dot at x, y is black.
func (b Bitmap) Dot(x, y int) bool {
	if x < 0 || y < 0 || x >= b.Width || y >= b.Height {
		return false
	}
	return b.Bits[y*(b.Width/8)+x/8]&(0x80>>(x%8)) != 0
}

// Renderer draws text. It is safe for concurrent use; a kiosk prints
// rarely, so one renderer serialises its calls.
type Renderer struct {
	mu      sync.Mutex
	face    *font.Face
	bold    *font.Face
	shaper  shaping.HarfbuzzShaper
	seg     shaping.Segmenter
	wrapper shaping.LineWrapper
}

// New returns a renderer with DejaVu Sans (internal/fonts).
func New() (*Renderer, error) {
	face, err := font.ParseTTF(bytes.NewReader(fonts.DejaVuSans))
	if err != nil {
		return nil, fmt.Errorf("rastertext: %w", err)
	}
	bold, err := font.ParseTTF(bytes.NewReader(fonts.DejaVuSansBold))
	if err != nil {
		return nil, fmt.Errorf("rastertext: %w", err)
	}
	return &Renderer{face: face, bold: bold}, nil
}

var (
	defaultOnce sync.Once
	defaultR    *Renderer
	defaultErr  error
)

// Default returns the process's one renderer, made on first use (parsing
// the font costs a few milliseconds and a megabyte).
func Default() (*Renderer, error) {
	defaultOnce.Do(func() { defaultR, defaultErr = New() })
	return defaultR, defaultErr
}

// Style is how a paragraph is drawn.
type Style struct {
	// Lang is the text's language (BCP 47: "ar", "tr"); it sets the base
	// direction (right to left for Arabic, Persian, Hebrew, Urdu) and
	// language-specific forms.
	Lang string
	// Size is the em size in dots (font A is 24 high); 0 is 26.
	Size int
	Bold bool
}

// RTL reports whether lang is written right to left.
func RTL(lang string) bool {
	base, _, _ := strings.Cut(strings.ToLower(lang), "-")
	switch base {
	case "ar", "fa", "he", "ur", "ps", "ckb", "yi":
		return true
	}
	return false
}

// Paragraph draws text as lines of width dots (a multiple of 8), each
// line centred with a margin of a font-A column on either side (as the
// text lines keep), wrapped at spaces (inside a word only when a word is
// wider than the paper). Control characters are dropped and line breaks
// become spaces, as on the printer's text lines. Empty text gives no lines.
func (r *Renderer) Paragraph(text string, width int, st Style) ([]Bitmap, error) {
	if width < 8 || width%8 != 0 {
		return nil, fmt.Errorf("rastertext: width %d dots: must be a positive multiple of 8", width)
	}
	if st.Size == 0 {
		st.Size = 26
	}
	if st.Size < 8 || st.Size > 256 {
		return nil, fmt.Errorf("rastertext: size %d dots: must be 8 to 256", st.Size)
	}
	runes := clean(text)
	if len(runes) == 0 {
		return nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	lines := r.layout(runes, width-2*margin, st)
	out := make([]Bitmap, 0, len(lines))
	for _, l := range lines {
		out = append(out, r.draw(l, width, st.Size))
	}
	return out, nil
}

// clean is text as the printer's text lines take it: NFC, tabs and line
// breaks as spaces, other control and invisible format characters
// dropped (no bidi override can reorder a printed line), spaces trimmed.
func clean(text string) []rune {
	var out []rune
	for _, c := range norm.NFC.String(text) {
		switch {
		case c == '\t' || c == '\n' || c == '\r':
			out = append(out, ' ')
		case unicode.IsControl(c):
		case unicode.Is(unicode.Cf, c) && c != '\u200c' && c != '\u200d':
			// ZWNJ and ZWJ stay: they choose Arabic and Persian forms.
		default:
			out = append(out, c)
		}
	}
	return []rune(strings.TrimSpace(string(out)))
}

// margin is the white kept at each side of a line, in dots.
const margin = 12

type oneFace struct{ f *font.Face }

func (o oneFace) ResolveFace(rune) *font.Face { return o.f }

// layout shapes runes and wraps them into lines of runs in visual order.
func (r *Renderer) layout(runes []rune, width int, st Style) []shaping.Line {
	face := r.face
	if st.Bold {
		face = r.bold
	}
	dir := di.DirectionLTR
	if RTL(st.Lang) {
		dir = di.DirectionRTL
	}
	in := shaping.Input{
		Text: runes, RunStart: 0, RunEnd: len(runes),
		Direction: dir, Face: face, Size: fixed.I(st.Size),
		Language: language.NewLanguage(st.Lang),
	}
	var runs []shaping.Output
	for _, run := range r.seg.Split(in, oneFace{face}) {
		runs = append(runs, r.shaper.Shape(run))
	}
	lines, _ := r.wrapper.WrapParagraph(shaping.WrapConfig{Direction: dir}, width, runes, shaping.NewSliceIterator(runs))
	return lines
}

// draw fills one line, centred in width, into a bitmap as tall as the
// font's line.
func (r *Renderer) draw(line shaping.Line, width, size int) Bitmap {
	runs := visual(line)
	var advance fixed.Int26_6
	ascent, descent := fixed.I(size), fixed.I(0)
	for _, run := range runs {
		advance += run.Advance
		ascent = max(ascent, run.LineBounds.Ascent)
		descent = max(descent, -run.LineBounds.Descent)
	}
	height := (ascent + descent).Ceil() + 2
	baseline := float32(ascent.Ceil() + 1)
	x := float32(width-advance.Round()) / 2
	if x < 0 {
		x = 0
	}
	ras := vector.NewRasterizer(width, height)
	for _, run := range runs {
		scale := float32(run.Size) / 64 / float32(run.Face.Upem())
		for _, g := range run.Glyphs {
			outline, ok := run.Face.GlyphDataOutline(g.GlyphID)
			if ok {
				gx := x + float32(g.XOffset)/64
				gy := baseline - float32(g.YOffset)/64
				drawOutline(ras, outline, gx, gy, scale)
			}
			x += float32(g.Advance) / 64
		}
	}
	alpha := image.NewAlpha(image.Rect(0, 0, width, height))
	ras.Draw(alpha, alpha.Bounds(), image.Opaque, image.Point{})
	bm := Bitmap{Width: width, Height: height, Bits: make([]byte, width/8*height)}
	for y := 0; y < height; y++ {
		for px := 0; px < width; px++ {
			if alpha.Pix[y*alpha.Stride+px] >= 0x80 {
				bm.Bits[y*(width/8)+px/8] |= 0x80 >> (px % 8)
			}
		}
	}
	return bm
}

// visual returns a line's runs left to right (a line holds them in
// logical order; within a run the glyphs are already left to right).
func visual(line shaping.Line) []shaping.Output {
	runs := slices.Clone(line)
	slices.SortFunc(runs, func(a, b shaping.Output) int { return cmp.Compare(a.VisualIndex, b.VisualIndex) })
	return runs
}

// drawOutline adds a glyph's contours (font units, y up) at the pen
// position (dots, y down).
func drawOutline(ras *vector.Rasterizer, o font.GlyphOutline, x, y, scale float32) {
	pt := func(p font.SegmentPoint) (float32, float32) { return x + p.X*scale, y - p.Y*scale }
	open := false
	for _, s := range o.Segments {
		switch s.Op {
		case ot.SegmentOpMoveTo:
			if open {
				ras.ClosePath()
			}
			ras.MoveTo(pt(s.Args[0]))
			open = true
		case ot.SegmentOpLineTo:
			ras.LineTo(pt(s.Args[0]))
		case ot.SegmentOpQuadTo:
			ax, ay := pt(s.Args[0])
			bx, by := pt(s.Args[1])
			ras.QuadTo(ax, ay, bx, by)
		case ot.SegmentOpCubeTo:
			ax, ay := pt(s.Args[0])
			bx, by := pt(s.Args[1])
			cx, cy := pt(s.Args[2])
			ras.CubeTo(ax, ay, bx, by, cx, cy)
		}
	}
	if open {
		ras.ClosePath()
	}
}
