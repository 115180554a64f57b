package veedel_test

import (
	"strings"
	"testing"

	"github.com/veedel/veedel"
)

func TestUnsafeRune(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want rune // 0: none
	}{
		{"Kundenzentrum Köln-Kalk", 0},
		{"Ehliyet değişimi – الهوية 🇩🇪 👩‍👩‍👧", 0}, // Turkish, Arabic, flags, ZWJ emoji
		{"A\u202eB", '\u202e'},
		{"A\u202aB", '\u202a'},
		{"A\u2067B", '\u2067'},
		{"A\u061cB", '\u061c'},
		{"A\u200eB", '\u200e'},
		{"A\tB", '\t'},
		{"A\x00B", 0x00},
		{"A\x7fB", 0x7f},
		{"A\u0085B", 0x85},
		{"A\u2028B", '\u2028'},
		{"\ufeffA", '\ufeff'},
		{"A\xffB", '\ufffd'},
	} {
		r, bad := veedel.UnsafeRune(tc.s)
		if bad != (tc.want != 0 || tc.s == "A\x00B") || (bad && r != tc.want) {
			t.Errorf("UnsafeRune(%q) = %U, %v; want %U", tc.s, r, bad, tc.want)
		}
	}
	// U+FFFD typed as a character is text, not a broken byte.
	if _, bad := veedel.UnsafeRune("A\ufffdB"); bad {
		t.Error("a literal U+FFFD was taken for invalid UTF-8")
	}
}

func TestCheckTextNamesFieldAndCharacter(t *testing.T) {
	err := veedel.CheckText("Der Name", "the name", "Platz\u202e1")
	if veedel.ErrorCode(err) != veedel.EINVALID {
		t.Fatalf("err = %v", err)
	}
	msg := veedel.ErrorMessage(err)
	for _, want := range []string{"Der Name", "the name", "U+202E", "Schreibrichtungs-Steuerzeichen", "bidirectional"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if err := veedel.CheckText("Der Name", "the name", "Platz 1"); err != nil {
		t.Errorf("a plain name: %v", err)
	}
}
