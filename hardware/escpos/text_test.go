package escpos_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/veedel/veedel/hardware"
	"github.com/veedel/veedel/hardware/escpos"
)

// serviceLines returns the printed lines of a ticket whose service is s:
// everything between the bold site line and the number's size command.
func serviceLines(tb testing.TB, s string, opt escpos.Options) []string {
	tb.Helper()
	b := MustTicket(tb, hardware.Ticket{Site: "S", Service: s, Number: "1"}, opt)
	start := bytes.Index(b, []byte{0x1B, 0x45, 0x00}) + 3
	end := bytes.Index(b, []byte{0x1D, 0x21, 0x33})
	text := strings.TrimSuffix(string(b[start:end]), "\n")
	return strings.Split(text, "\n")
}

func TestEncode_CP858(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want byte
	}{
		{"ä", 0x84}, {"ö", 0x94}, {"ü", 0x81},
		{"Ä", 0x8E}, {"Ö", 0x99}, {"Ü", 0x9A},
		{"ß", 0xE1}, {"€", 0xD5},
		{"u\u0308", 0x81}, // decomposed ü, as some keyboards send it
		{"☃", '?'},        // no snowman in CP858
	} {
		got := serviceLines(t, tc.in, escpos.Options{})
		if len(got) != 1 || got[0] != string([]byte{tc.want}) {
			t.Errorf("%q: got % X, want %02X", tc.in, got, tc.want)
		}
	}
}

func TestEncode_ControlCharactersStripped(t *testing.T) {
	// A name that tries to cut the paper, switch code page and open the
	// drawer must print as plain text.
	evil := "Amt\x1dVB\x00\x1bt\x00\x10\x14\x01\x00\x05\u0085\u202e\x7fX\tY\nZ"
	got := serviceLines(t, evil, escpos.Options{})
	want := "AmtVBtX Y Z"
	if strings.Join(got, "|") != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	b := MustTicket(t, hardware.Ticket{Service: evil, Lines: []string{evil}, Site: evil, Number: evil}, escpos.Options{})
	if n := bytes.Count(b, []byte{0x1D, 0x56}); n != 1 {
		t.Fatalf("the ticket has %d cut commands, want the one at its end", n)
	}
}

func TestWrap(t *testing.T) {
	long := strings.Repeat("x", 70)
	for _, tc := range []struct {
		name string
		in   string
		opt  escpos.Options
		want []string
	}{
		{"Short", "Meldebescheinigung", escpos.Options{}, []string{"Meldebescheinigung"}},
		{"Empty", "", escpos.Options{}, []string{""}},
		{"At48", "Antrag auf Ausstellung eines Personalausweises f\u00fcr Kinder",
			escpos.Options{}, []string{"Antrag auf Ausstellung eines Personalausweises", "f\x81r Kinder"}},
		{"At32", "Antrag auf Ausstellung eines Personalausweises",
			escpos.Options{Width: 384}, []string{"Antrag auf Ausstellung eines", "Personalausweises"}},
		{"LongWord", long, escpos.Options{}, []string{long[:48], long[48:]}},
		{"LongWordAfterShort", "ab " + long, escpos.Options{Width: 384}, []string{"ab", long[:32], long[32:64], long[64:]}},
		{"Spaces", "  a   b  ", escpos.Options{}, []string{"a b"}},
		{"Exactly48", strings.Repeat("y", 48), escpos.Options{}, []string{strings.Repeat("y", 48)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := serviceLines(t, tc.in, tc.opt)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestWrap_NumberAtQuarterColumns(t *testing.T) {
	b := MustTicket(t, hardware.Ticket{Number: "ABCDEFGHIJKLMN"}, escpos.Options{})
	if !bytes.Contains(b, []byte("ABCDEFGHIJKL\nMN\n")) {
		t.Fatal("a 14 character number is not wrapped at 12 columns on 80 mm")
	}
}
