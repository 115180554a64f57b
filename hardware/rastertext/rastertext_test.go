package rastertext

import (
	"bytes"
	"testing"
)

func mustNew(t *testing.T) *Renderer {
	t.Helper()
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// glyphs returns the glyph IDs of text's first line in visual order (left
// to right) with the rune index each came from.
func glyphs(t *testing.T, r *Renderer, text, lang string) (ids []uint32, clusters []int) {
	t.Helper()
	lines := r.layout(clean(text), 576, Style{Lang: lang, Size: 28})
	if len(lines) != 1 {
		t.Fatalf("%q: %d lines, want 1", text, len(lines))
	}
	for _, run := range visual(lines[0]) {
		for _, g := range run.Glyphs {
			ids = append(ids, uint32(g.GlyphID))
			clusters = append(clusters, g.TextIndex())
		}
	}
	return ids, clusters
}

// Arabic letters are joined: the seen in "سلام" is its initial form, not
// the isolated glyph a code-page printer (or a naive renderer) would use,
// and lam followed by alef becomes the one lam-alef ligature.
func TestArabicIsShaped(t *testing.T) {
	r := mustNew(t)
	isolated, _ := glyphs(t, r, "س", "ar")
	word, clusters := glyphs(t, r, "سلام", "ar")
	if len(word) != 3 {
		t.Errorf("سلام shaped to %d glyphs, want 3 (seen, lam-alef ligature, meem)", len(word))
	}
	// Right to left: the first letter (rune 0) is drawn rightmost.
	if clusters[len(clusters)-1] != 0 {
		t.Errorf("clusters left to right %v: the first letter is not the rightmost glyph", clusters)
	}
	if word[len(word)-1] == isolated[0] {
		t.Errorf("seen at a word's start drawn with its isolated glyph %d: not joined", isolated[0])
	}
}

// A Latin ticket number inside an Arabic line keeps its own order (bidi):
// "A042" reads A, 0, 4, 2 from left to right.
func TestBidiKeepsNumbersReadable(t *testing.T) {
	r := mustNew(t)
	_, clusters := glyphs(t, r, "رقم A042", "ar")
	// Runes: ر ق م ␠ A 0 4 2 → indexes 4..7 must appear ascending, to the
	// left of the Arabic word (which comes first logically, so rightmost).
	var latin []int
	for _, c := range clusters {
		if c >= 4 {
			latin = append(latin, c)
		}
	}
	want := []int{4, 5, 6, 7}
	if len(latin) != 4 || latin[0] != want[0] || latin[3] != want[3] || latin[1] > latin[2] {
		t.Errorf("Latin clusters in visual order %v, want %v", latin, want)
	}
	if clusters[len(clusters)-1] != 0 {
		t.Errorf("clusters %v: the Arabic word is not at the right", clusters)
	}
}

func TestParagraphWrapsAndCentres(t *testing.T) {
	r := mustNew(t)
	text := "Kimlik kartı ve pasaport · Önünüzde: 13 kişi, yaklaşık 25 dk. bekleme süresi"
	lines, err := r.Paragraph(text, 384, Style{Lang: "tr"})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) < 3 {
		t.Fatalf("%d lines on 58 mm paper, want the text wrapped into at least 3", len(lines))
	}
	for i, l := range lines {
		if l.Width != 384 || len(l.Bits) != 384/8*l.Height || l.Height < 28 {
			t.Fatalf("line %d: %d×%d with %d bytes", i, l.Width, l.Height, len(l.Bits))
		}
		left, right := -1, -1
		for x := 0; x < l.Width; x++ {
			for y := 0; y < l.Height; y++ {
				if l.Dot(x, y) {
					if left < 0 {
						left = x
					}
					right = x
				}
			}
		}
		if left < 0 {
			t.Fatalf("line %d is blank", i)
		}
		if margin := left - (l.Width - 1 - right); margin < -12 || margin > 12 {
			t.Errorf("line %d: ink from %d to %d of %d: not centred", i, left, right, l.Width)
		}
	}
}

// What cannot be printed as text must not reach the paper as pixels
// either: a bidi override would print a line the citizen reads reversed.
func TestControlsDropped(t *testing.T) {
	r := mustNew(t)
	a, err := r.Paragraph("A042 \u202Eabc\u202C\x1b", 576, Style{Lang: "tr"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Paragraph("A042 abc", 576, Style{Lang: "tr"})
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 1 || len(b) != 1 || !bytes.Equal(a[0].Bits, b[0].Bits) {
		t.Error("a line with a bidi override and ESC prints differently from the same line without them")
	}
	if lines, err := r.Paragraph(" \n\t", 576, Style{}); err != nil || len(lines) != 0 {
		t.Errorf("blank text: %d lines, %v; want none", len(lines), err)
	}
}

func TestBadStyle(t *testing.T) {
	r := mustNew(t)
	for _, c := range []struct {
		width int
		st    Style
	}{{0, Style{}}, {100, Style{}}, {576, Style{Size: 4}}, {576, Style{Size: 1000}}} {
		if _, err := r.Paragraph("x", c.width, c.st); err == nil {
			t.Errorf("width %d size %d: no error", c.width, c.st.Size)
		}
	}
}

func TestRTL(t *testing.T) {
	for lang, want := range map[string]bool{"ar": true, "ar-EG": true, "fa": true, "tr": false, "de": false, "": false} {
		if RTL(lang) != want {
			t.Errorf("RTL(%q) = %v", lang, !want)
		}
	}
}
