package pdf

import (
	"bytes"
	"cmp"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"

	"codeberg.org/go-pdf/fpdf"
	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/language"
	"github.com/go-text/typesetting/shaping"
	"golang.org/x/image/math/fixed"
	"golang.org/x/text/unicode/norm"
)

// Right-to-left text (Arabic) as selectable text. The PDF writer maps
// each character to its glyph through the font's cmap and sets glyphs
// left to right, so Arabic would come out in unjoined letters, backwards.
// Here the text is shaped first with go-text/typesetting (HarfBuzz: the
// joined forms, lam-alef as one glyph) and put in visual order by the
// Unicode bidirectional algorithm, wrapped at the line's width; each
// glyph is then written as a character the font's cmap maps to that very
// glyph (DejaVu Sans maps the Arabic Presentation Forms to the joined
// glyphs). The page shows the shaped text, and it can be selected and
// searched: a copy gives the presentation forms in visual order, which
// NFKC folds back to the letters. A glyph no character maps to is written
// as the characters it came from.

// shaper holds the parsed faces and their glyph→character maps; one per
// process, made on first use.
type shaper struct {
	mu      sync.Mutex
	faces   [2]*font.Face // regular, bold
	chars   [2]map[font.GID]rune
	shaper  shaping.HarfbuzzShaper
	seg     shaping.Segmenter
	wrapper shaping.LineWrapper
}

var (
	shaperOnce sync.Once
	theShaper  *shaper
	shaperErr  error
)

func rtlShaper() (*shaper, error) {
	shaperOnce.Do(func() {
		s := &shaper{}
		for i, ttf := range [][]byte{regularFont, boldFont} {
			face, err := font.ParseTTF(bytes.NewReader(ttf))
			if err != nil {
				shaperErr = err
				return
			}
			s.faces[i] = face
			s.chars[i] = map[font.GID]rune{}
			it := face.Font.Cmap.Iter()
			for it.Next() {
				r, g := it.Char()
				// The lowest code point of a glyph: the letter itself
				// rather than its presentation form, where both map to it.
				if old, ok := s.chars[i][g]; !ok || r < old {
					s.chars[i][g] = r
				}
			}
		}
		theShaper = s
	})
	return theShaper, shaperErr
}

type oneFace struct{ f *font.Face }

func (o oneFace) ResolveFace(rune) *font.Face { return o.f }

// RTL reports whether lang is written right to left.
func RTL(lang string) bool {
	base, _, _ := strings.Cut(strings.ToLower(lang), "-")
	switch base {
	case "ar", "fa", "he", "ur", "ps", "ckb", "yi":
		return true
	}
	return false
}

// unit is the shaper's size unit: a tenth of a point.
const unit = 10

// visualLines wraps text (lang, right to left) at width points in the
// font at size points and returns its lines, each as characters in visual
// order whose glyphs are the shaped ones.
func visualLines(text, lang string, bold bool, size, width float64) ([]string, error) {
	s, err := rtlShaper()
	if err != nil {
		return nil, err
	}
	runes := []rune(isolateNumbers(strings.Join(strings.Fields(norm.NFC.String(text)), " ")))
	if len(runes) == 0 {
		return []string{""}, nil
	}
	i := 0
	if bold {
		i = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in := shaping.Input{Text: runes, RunStart: 0, RunEnd: len(runes), Direction: di.DirectionRTL, Face: s.faces[i],
		Size: fixed.I(int(size * unit)), Language: language.NewLanguage(lang)}
	var runs []shaping.Output
	for _, run := range s.seg.Split(in, oneFace{s.faces[i]}) {
		runs = append(runs, s.shaper.Shape(run))
	}
	lines, _ := s.wrapper.WrapParagraph(shaping.WrapConfig{Direction: di.DirectionRTL}, int(width*unit), runes, shaping.NewSliceIterator(runs))
	out := make([]string, 0, len(lines))
	for _, line := range lines {
		visual := slices.Clone(line)
		slices.SortFunc(visual, func(a, b shaping.Output) int { return cmp.Compare(a.VisualIndex, b.VisualIndex) })
		var b strings.Builder
		for _, run := range visual {
			for _, g := range run.Glyphs {
				if g.RunesCount() == 1 && bidiControl(runes[g.TextIndex()]) {
					continue // the isolates' marks: no mark of their own on the page
				}
				if r, ok := s.chars[i][g.GlyphID]; ok {
					b.WriteRune(r)
					continue
				}
				from := runes[g.TextIndex():min(len(runes), g.TextIndex()+g.RunesCount())]
				b.WriteString(string(from))
			}
		}
		out = append(out, strings.TrimSpace(b.String()))
	}
	return out, nil
}

// numberPhrase is a run of left-to-right words with a number among them,
// single spaces between them: "117,5 cm", "BMI 16,2", "06.12.2026 10:30",
// "Neumarkt 15–21". Punctuation followed by a space ends it.
var numberPhrase = regexp.MustCompile(`[\p{Latin}\p{Nd}](?:[\p{Latin}\p{Nd}.,:/%°+\-–']*[\p{Latin}\p{Nd}%°])?(?: [\p{Latin}\p{Nd}](?:[\p{Latin}\p{Nd}.,:/%°+\-–']*[\p{Latin}\p{Nd}%°])?)*`)

// isolateNumbers sets each numberPhrase with a digit in s apart as a
// left-to-right isolate (LRI … PDI), as a writer of mixed text would: in a
// right-to-left line, "117,5 cm, 21,0 kg" then reads number and unit
// together, the groups in the line's order, instead of one left-to-right
// run whose number stands apart from its unit.
func isolateNumbers(s string) string {
	if !strings.ContainsFunc(s, unicode.IsDigit) {
		return s
	}
	return numberPhrase.ReplaceAllStringFunc(s, func(m string) string {
		if !strings.ContainsFunc(m, unicode.IsDigit) {
			return m
		}
		return "\u2066" + m + "\u2069"
	})
}

// bidiControl reports whether r is one of the invisible marks of the
// bidirectional algorithm (embeddings, overrides, isolates, LRM, RLM).
func bidiControl(r rune) bool {
	return r == 0x200e || r == 0x200f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}

// text sets a letter's lines: left-aligned as the PDF writer sets them,
// or, for a right-to-left language, shaped (visualLines) and aligned
// right.
type text struct {
	f    *fpdf.Fpdf
	lang string
	rtl  bool
	err  error
}

func newText(f *fpdf.Fpdf, lang string) *text { return &text{f: f, lang: lang, rtl: RTL(lang)} }

// mmToPt converts the document's unit (mm) to points.
const mmToPt = 72 / 25.4

// rightToLeft reports whether s has right-to-left letters: text without
// them (a code, a date, a German word) is set as it is, only aligned
// right.
func rightToLeft(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return unicode.In(r, unicode.Arabic, unicode.Hebrew, unicode.Syriac, unicode.Thaana)
	})
}

// lines is s as the lines it takes at width (mm) in the current font:
// for a right-to-left language, shaped, in visual order.
func (t *text) lines(s, style string, width float64) []string {
	size, _ := t.f.GetFontSize()
	out, err := visualLines(s, t.lang, style == "B", size, width*mmToPt)
	if err != nil && t.err == nil {
		t.err = err
	}
	return out
}

// cell sets s on one line of the cell at the current position (as
// fpdf's CellFormat with no line break), aligned as the letter's language
// reads; style is the font's.
func (t *text) cell(width, height float64, s, border, style string) {
	align := "L"
	if t.rtl {
		align = "R"
	}
	t.cellAligned(width, height, s, border, style, align)
}

// cellAligned is cell with its alignment given ("L" in the envelope's
// window, whatever the language).
func (t *text) cellAligned(width, height float64, s, border, style, align string) {
	line := s
	if t.rtl && rightToLeft(s) {
		if ls := t.lines(s, style, width); len(ls) > 0 {
			line = ls[0]
		}
	}
	t.f.CellFormat(width, height, line, border, 0, align, false, 0, "")
}

// para sets s as a paragraph of width at the current position (as fpdf's
// MultiCell): the position is at its end, at the left margin.
func (t *text) para(width, height float64, s, style string) {
	if !t.rtl {
		t.f.MultiCell(width, height, s, "", "L", false)
		return
	}
	if !rightToLeft(s) {
		t.f.MultiCell(width, height, s, "", "R", false)
		return
	}
	x := t.f.GetX()
	for _, line := range t.lines(s, style, width) {
		t.f.SetX(x)
		t.f.CellFormat(width, height, line, "", 2, "R", false, 0, "")
	}
}
