package veedel

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// UnsafeRune returns the first character of s that has no place in a text
// one person types for others to read (a service, counter, group or site
// name, an API field): a control character (C0, DEL, C1: tabs and line
// breaks too), a bidirectional formatting character that reorders what is
// shown (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), a line or
// paragraph separator (U+2028, U+2029), a byte-order mark (U+FEFF), or a
// byte that is not UTF-8 (reported as utf8.RuneError). ok is false when s
// has none.
func UnsafeRune(s string) (r rune, ok bool) {
	for i, c := range s {
		if c == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return c, true
			}
		}
		if unicode.IsControl(c) || isBidiControl(c) || c == '\u2028' || c == '\u2029' || c == '\uFEFF' {
			return c, true
		}
	}
	return 0, false
}

func isBidiControl(r rune) bool {
	switch {
	case r == '\u061C', r == '\u200E', r == '\u200F':
		return true
	case r >= '\u202A' && r <= '\u202E':
		return true
	case r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

// DescribeRune names a character UnsafeRune found, in German and in
// English, for error messages: "U+202E (Schreibrichtungs-Steuerzeichen)",
// "U+202E (a bidirectional formatting character)".
func DescribeRune(r rune) (de, en string) {
	switch {
	case r == utf8.RuneError:
		return "ein Byte, das kein UTF-8 ist", "a byte that is not UTF-8"
	case isBidiControl(r):
		de, en = "Schreibrichtungs-Steuerzeichen", "a bidirectional formatting character"
	case unicode.IsControl(r):
		de, en = "Steuerzeichen", "a control character"
	case r == '\u2028' || r == '\u2029':
		de, en = "Zeilentrenner", "a line separator"
	default:
		de, en = "unsichtbares Zeichen", "an invisible character"
	}
	return fmt.Sprintf("U+%04X (%s)", r, de), fmt.Sprintf("U+%04X (%s)", r, en)
}

// CheckText returns an EINVALID error naming the field (German and
// English) and the character when s holds one UnsafeRune refuses, else nil.
func CheckText(fieldDE, fieldEN, s string) error {
	if r, bad := UnsafeRune(s); bad {
		de, en := DescribeRune(r)
		return Errorf(EINVALID, "%s enthält %s: bitte entfernen / %s contains %s: please remove it", fieldDE, de, fieldEN, en)
	}
	return nil
}
