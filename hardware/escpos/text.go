package escpos

import (
	"bytes"
	"unicode"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// substitutes spell typographic punctuation CP858 lacks the way a typist
// would, so "Führerschein – Umschreibung" does not print with a '?'.
var substitutes = map[rune]string{
	'\u2010': "-", '\u2011': "-", '\u2012': "-", '\u2013': "-", '\u2014': "-", '\u2015': "-",
	'\u2018': "'", '\u2019': "'", '\u201A': "'",
	'\u201C': "\"", '\u201D': "\"", '\u201E': "\"",
	'\u2026': "...",
}

// encode turns s into CP858 bytes, one per printed column. It never fails:
// a character CP858 lacks becomes '?', and control characters are dropped
// (tab and line breaks become a space) so that no name or line can smuggle
// a command into the stream: every byte it returns is 0x20 or above and not
// DEL, which ESC/POS prints as a glyph.
func encode(s string) []byte {
	// NFC first: "u" followed by a combining diaeresis is one 'ü' in CP858.
	s = norm.NFC.String(s)
	out := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			out = append(out, ' ')
			continue
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			// Cf: invisible format characters (zero width space, bidi
			// overrides) that would otherwise print as '?'.
			continue
		}
		if sub, ok := substitutes[r]; ok {
			out = append(out, sub...)
			continue
		}
		c, ok := charmap.CodePage858.EncodeRune(r)
		if !ok || c < 0x20 || c == 0x7F {
			c = '?'
		}
		out = append(out, c)
	}
	return out
}

// wrap breaks text into lines of at most cols bytes at spaces, splitting a
// word longer than a line. It always returns at least one (maybe empty)
// line; runs of spaces at a break are dropped.
func wrap(text []byte, cols int) [][]byte {
	if cols < 1 {
		cols = 1
	}
	var lines [][]byte
	var line []byte
	// Split at ' ' only: text is CP858, not UTF-8, so bytes.Fields could
	// take a pair like 0xC2 0x85 ("┬à") for U+0085, a Unicode space. The
	// no-break space (0xFF) is no break point, as its name says.
	isSpace := func(r rune) bool { return r == ' ' }
	for _, word := range bytes.FieldsFunc(text, isSpace) {
		for len(word) > cols {
			if len(line) > 0 {
				lines = append(lines, line)
				line = nil
			}
			lines = append(lines, word[:cols])
			word = word[cols:]
		}
		switch {
		case len(line) == 0:
			line = append(line, word...)
		case len(line)+1+len(word) <= cols:
			line = append(append(line, ' '), word...)
		default:
			lines = append(lines, line)
			line = append([]byte(nil), word...)
		}
	}
	if len(line) > 0 || len(lines) == 0 {
		lines = append(lines, line)
	}
	return lines
}
