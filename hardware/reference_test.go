package hardware_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/hardware"
	"github.com/veedel/veedel/hardware/printer"
	"github.com/veedel/veedel/hardware/printersim"
	"github.com/veedel/veedel/internal/qrtest"
)

var updatePNG = flag.Bool("update", false, "rewrite the simulator's PNGs of the reference ticket in testdata/")

// The reference ticket end to end: the driver sends it over TCP to the
// printer simulator; what arrives is byte for byte the golden stream of
// hardware/escpos/testdata, the text reads back with its umlauts and euro
// sign, and the QR code in the rendered PNG decodes to the status URL:
// with a native QR (GS ( k) and with the raster fallback (GS v 0). The
// PNGs in testdata/ are what the simulator drew.
func TestReferenceTicketThroughSimulator(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	ticket := hardware.Ticket{
		Site:      "Kundenzentrum Kalk",
		Service:   "Führerschein – Umschreibung",
		Number:    "A042",
		IssuedAt:  time.Date(2026, 11, 29, 10, 42, 0, 0, berlin),
		StatusURL: "https://termine.stadt-koeln.de/t/tk_3f9a1c7e5b2d",
		Lines:     []string{"Wartezeit ca. 25 Min. · Größe ÄÖÜ äöü ß €"},
	}
	for _, tc := range []struct{ name, query, golden string }{
		{"Native", "", "ticket-native.escpos"},
		{"Raster", "?qr=raster", "ticket-raster.escpos"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := printersim.New(printersim.Options{})
			if err := sim.Listen("127.0.0.1:0"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sim.Close() })
			p, err := printer.Open(sim.Addr()+tc.query, printer.Options{})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := p.Print(ctx, ticket); err != nil {
				t.Fatal(err)
			}
			got, err := sim.WaitTickets(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("simulator kept %d tickets, want 1", len(got))
			}
			tk := got[0]
			if len(tk.Errors) > 0 || tk.Partial {
				t.Fatalf("simulator found errors %q (partial %v)", tk.Errors, tk.Partial)
			}
			want, err := os.ReadFile(filepath.Join("escpos", "testdata", tc.golden))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(tk.Raw, want) {
				t.Errorf("the printer received %d bytes that differ from the golden %s (%d bytes)", len(tk.Raw), tc.golden, len(want))
			}
			text := strings.Join(tk.Text, "\n")
			for _, w := range []string{"Kundenzentrum Kalk", "Führerschein - Umschreibung", "A042", "29.11.2026 10:42", "Größe ÄÖÜ äöü ß €"} {
				if !strings.Contains(text, w) {
					t.Errorf("printed text lacks %q:\n%s", w, text)
				}
			}
			if got := decodeQR(t, tk.PNG); got != ticket.StatusURL {
				t.Errorf("QR code in the PNG decodes to %q, want %q", got, ticket.StatusURL)
			}
			// The rendering is pinned too: a change to the simulator's
			// drawing shows up here and in the PNG a reviewer opens.
			pngPath := filepath.Join("testdata", "reference-"+strings.ToLower(tc.name)+".png")
			if *updatePNG {
				if err := os.WriteFile(pngPath, tk.PNG, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			// Pixels, not bytes: the PNG encoder's compression may change
			// with the Go release (it did in go1.27) while the ticket does not.
			if wantPNG, err := os.ReadFile(pngPath); err != nil {
				t.Error(err)
			} else if diff := pixelDiff(t, tk.PNG, wantPNG); diff != "" {
				t.Errorf("the simulator's picture differs from %s (%s); look at it and run go test -update if the change is meant", pngPath, diff)
			}
		})
	}
}

func decodeQR(tb testing.TB, data []byte) string {
	tb.Helper()
	text, err := qrtest.DecodePNG(data)
	if err != nil {
		tb.Fatalf("QR code of the PNG: %v", err)
	}
	return text
}

// BenchmarkPrintTicket is one kiosk print: connect, DLE EOT before and
// after, the reference ticket's bytes, over loopback TCP to the simulator
// (which parses and renders each ticket, so this is an upper bound of the
// driver's own cost).
func BenchmarkPrintTicket(b *testing.B) {
	for _, tc := range []struct{ name, query string }{{"Native", ""}, {"Raster", "?qr=raster"}} {
		b.Run(tc.name, func(b *testing.B) {
			sim := printersim.New(printersim.Options{Keep: 1})
			if err := sim.Listen("127.0.0.1:0"); err != nil {
				b.Fatal(err)
			}
			defer sim.Close()
			p, err := printer.Open(sim.Addr()+tc.query, printer.Options{})
			if err != nil {
				b.Fatal(err)
			}
			ticket := hardware.Ticket{Site: "Kundenzentrum Kalk", Service: "Führerschein – Umschreibung", Number: "A042",
				IssuedAt: time.Date(2026, 11, 29, 10, 42, 0, 0, time.UTC), StatusURL: "https://termine.stadt-koeln.de/t/tk_3f9a1c7e5b2d",
				Lines: []string{"Wartezeit ca. 25 Min. · Größe ÄÖÜ äöü ß €"}}
			ctx := context.Background()
			for b.Loop() {
				if err := p.Print(ctx, ticket); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// pixelDiff compares two PNGs pixel by pixel and says where they first
// differ ("" when they show the same picture).
func pixelDiff(tb testing.TB, got, want []byte) string {
	tb.Helper()
	a, err := png.Decode(bytes.NewReader(got))
	if err != nil {
		tb.Fatal(err)
	}
	b, err := png.Decode(bytes.NewReader(want))
	if err != nil {
		tb.Fatal(err)
	}
	if a.Bounds() != b.Bounds() {
		return fmt.Sprintf("size %v, want %v", a.Bounds(), b.Bounds())
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, a1 := a.At(x, y).RGBA()
			r2, g2, b2, a2 := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				return fmt.Sprintf("first at pixel (%d, %d)", x, y)
			}
		}
	}
	return ""
}
