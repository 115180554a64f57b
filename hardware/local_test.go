package hardware_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/hardware"
	"github.com/veedel/veedel/hardware/printer"
	"github.com/veedel/veedel/hardware/printersim"
)

// A ticket taken at the Arabic or Turkish kiosk, end to end through the
// driver and the simulator: the German text prints as text, the same in
// the citizen's language as images (Arabic shaped, right to left), the QR
// code still decodes, and the simulator accepts every byte. The PNGs in
// testdata/ are what the simulator drew (look at them).
func TestLocalTicketThroughSimulator(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	base := hardware.Ticket{
		Site:      "Kundenzentrum Kalk",
		Service:   "Personalausweis und Reisepass",
		Number:    "A042",
		IssuedAt:  time.Date(2026, 11, 29, 10, 42, 0, 0, berlin),
		StatusURL: "https://termine.stadt-koeln.de/t/tk_3f9a1c7e5b2d?lang=ar",
		Lines:     []string{"Voraussichtliche Wartezeit: ca. 25 Min.", "Vor Ihnen: 13"},
	}
	for _, tc := range []struct {
		lang  string
		local hardware.LocalText
	}{
		{"ar", hardware.LocalText{Lang: "ar", Service: "بطاقة الهوية وجواز السفر", Lines: []string{"مدة الانتظار المتوقعة: حوالي 25 دقيقة", "عدد المنتظرين قبلك: 13"}}},
		{"tr", hardware.LocalText{Lang: "tr", Service: "Kimlik kartı ve pasaport", Lines: []string{"Tahmini bekleme süresi: yaklaşık 25 dk.", "Önünüzde: 13 kişi"}}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			ticket := base
			ticket.Local = &tc.local
			sim := printersim.New(printersim.Options{})
			if err := sim.Listen("127.0.0.1:0"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sim.Close() })
			p, err := printer.Open(sim.Addr(), printer.Options{})
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
			tk := got[0]
			if len(tk.Errors) > 0 || tk.Partial {
				t.Fatalf("simulator found errors %q (partial %v)", tk.Errors, tk.Partial)
			}
			// One image per drawn line: at least the service and two lines.
			if tk.Images < 3 {
				t.Errorf("%d images printed, want the service and both lines drawn", tk.Images)
			}
			text := strings.Join(tk.Text, "\n")
			for _, w := range []string{"A042", "Personalausweis und Reisepass", "Vor Ihnen: 13"} {
				if !strings.Contains(text, w) {
					t.Errorf("printed text lacks %q:\n%s", w, text)
				}
			}
			if strings.Contains(text, "?") {
				t.Errorf("a letter the code page lacks printed as '?':\n%s", text)
			}
			if got := decodeQR(t, tk.PNG); got != ticket.StatusURL {
				t.Errorf("QR code in the PNG decodes to %q, want %q", got, ticket.StatusURL)
			}
			pngPath := filepath.Join("testdata", "ticket-"+tc.lang+".png")
			if *updatePNG {
				if err := os.WriteFile(pngPath, tk.PNG, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if wantPNG, err := os.ReadFile(pngPath); err != nil {
				t.Error(err)
			} else if diff := pixelDiff(t, tk.PNG, wantPNG); diff != "" {
				t.Errorf("the simulator's picture differs from %s (%s); look at it and run go test -update if the change is meant", pngPath, diff)
			}
		})
	}
}
