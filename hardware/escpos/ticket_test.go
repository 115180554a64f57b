package escpos_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/veedel/veedel/hardware"
	"github.com/veedel/veedel/hardware/escpos"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// referenceTicket is the ticket of the golden files: every kind of line, the
// German letters and the Euro sign.
func referenceTicket(tb testing.TB) hardware.Ticket {
	tb.Helper()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		tb.Fatal(err)
	}
	return hardware.Ticket{
		Site:      "Kundenzentrum Kalk",
		Service:   "Führerschein – Umschreibung",
		Number:    "A042",
		IssuedAt:  time.Date(2026, 11, 29, 10, 42, 0, 0, berlin),
		StatusURL: "https://termine.stadt-koeln.de/t/tk_3f9a1c7e5b2d",
		Lines:     []string{"Wartezeit ca. 25 Min. · Größe ÄÖÜ äöü ß €"},
	}
}

func MustTicket(tb testing.TB, t hardware.Ticket, opt escpos.Options) []byte {
	tb.Helper()
	b, err := escpos.Ticket(t, opt)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestTicket_Golden(t *testing.T) {
	for _, tc := range []struct {
		file string
		opt  escpos.Options
	}{
		{"ticket-native.escpos", escpos.Options{QR: escpos.QRNative}},
		{"ticket-raster.escpos", escpos.Options{QR: escpos.QRRaster}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got := MustTicket(t, referenceTicket(t), tc.opt)
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if !bytes.Equal(got, want) {
				i := 0
				for i < len(got) && i < len(want) && got[i] == want[i] {
					i++
				}
				t.Fatalf("ticket differs from %s at byte %d (got %d bytes, want %d); run go test -update if the change is meant", path, i, len(got), len(want))
			}
		})
	}
}

// TestTicket_Layout spells out the native reference ticket command by
// command, so the golden file is checked against the package doc once.
func TestTicket_Layout(t *testing.T) {
	url := "https://termine.stadt-koeln.de/t/tk_3f9a1c7e5b2d"
	var want []byte
	add := func(parts ...any) {
		for _, p := range parts {
			switch p := p.(type) {
			case string:
				want = append(want, p...)
			case []byte:
				want = append(want, p...)
			}
		}
	}
	add([]byte{0x1B, 0x40}, []byte{0x1B, 0x74, 0x13}, []byte{0x1B, 0x61, 0x01})
	add([]byte{0x1B, 0x45, 0x01}, "Kundenzentrum Kalk\n", []byte{0x1B, 0x45, 0x00})
	add("F\x81hrerschein - Umschreibung\n")
	add([]byte{0x1D, 0x21, 0x33}, "A042\n", []byte{0x1D, 0x21, 0x00})
	add("29.11.2026 10:42\n")
	add("Wartezeit ca. 25 Min. \xFA Gr\x94\xE1e \x8E\x99\x9A \x84\x94\x81 \xE1 \xD5\n")
	add([]byte{0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00})
	add([]byte{0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x06})
	add([]byte{0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31})
	add([]byte{0x1D, 0x28, 0x6B, byte(len(url) + 3), 0x00, 0x31, 0x50, 0x30}, url)
	add([]byte{0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30}, "\n")
	add([]byte{0x1B, 0x64, 0x03}, []byte{0x1D, 0x56, 0x42, 0x00})

	got := MustTicket(t, referenceTicket(t), escpos.Options{})
	if !bytes.Equal(got, want) {
		t.Fatalf("got\n% X\nwant\n% X", got, want)
	}
}

func TestTicket_CutNone(t *testing.T) {
	got := MustTicket(t, referenceTicket(t), escpos.Options{Cut: escpos.CutNone})
	if !bytes.HasSuffix(got, []byte{0x1B, 0x64, 0x03}) {
		t.Fatalf("ticket without cut ends in % X, want the feed 1B 64 03", got[len(got)-8:])
	}
}

func TestTicket_NoURLNoQR(t *testing.T) {
	tk := referenceTicket(t)
	tk.StatusURL = ""
	got := MustTicket(t, tk, escpos.Options{})
	if bytes.Contains(got, []byte{0x1D, 0x28, 0x6B}) {
		t.Fatal("ticket without status URL has a QR code")
	}
}

func TestTicket_IssuedAtInItsOwnZone(t *testing.T) {
	tk := referenceTicket(t)
	tk.IssuedAt = time.Date(2026, 11, 29, 23, 5, 0, 0, time.FixedZone("X", -2*3600))
	got := MustTicket(t, tk, escpos.Options{})
	if !bytes.Contains(got, []byte("29.11.2026 23:05\n")) {
		t.Fatal("the time is not printed in the location it carries")
	}
}

func TestTicket_BadOptions(t *testing.T) {
	for name, opt := range map[string]escpos.Options{
		"WidthNotByte":  {Width: 580},
		"WidthTooSmall": {Width: 64},
		"ModuleTooBig":  {ModuleSize: 17},
		"ModuleNeg":     {ModuleSize: -1},
		"QRUnknown":     {QR: 7},
		"CutUnknown":    {Cut: 3},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := escpos.Ticket(referenceTicket(t), opt); err == nil {
				t.Fatal("want an error")
			}
			if err := opt.Validate(); err == nil {
				t.Fatal("Validate: want an error")
			}
		})
	}
}

func TestTicket_URLTooLong(t *testing.T) {
	tk := referenceTicket(t)
	tk.StatusURL = "https://x/" + string(bytes.Repeat([]byte("a"), 3000))
	if _, err := escpos.Ticket(tk, escpos.Options{}); err == nil {
		t.Fatal("want an error for a URL no QR code holds")
	}
}

func TestOptions_Columns(t *testing.T) {
	for _, tc := range []struct{ width, want int }{{0, 48}, {576, 48}, {384, 32}, {580, 0}} {
		if got := (escpos.Options{Width: tc.width}).Columns(); got != tc.want {
			t.Errorf("Columns at width %d: got %d, want %d", tc.width, got, tc.want)
		}
	}
}
