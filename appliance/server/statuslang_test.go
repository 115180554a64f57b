package server_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/veedel/veedel/hardware"
	"github.com/veedel/veedel/internal/qrtest"
	"github.com/veedel/veedel/ui"
)

// The language a citizen chose at the kiosk goes with the ticket to their
// phone: the QR code on screen and paper and the API's status_url open
// the status page in it. German, the kiosk's default, adds nothing: the
// phone's own language then decides at central.
func TestStatusURLCarriesKioskLanguage(t *testing.T) {
	t.Parallel()
	p := &fakePrinter{status: hardware.PrinterStatus{Online: true}}
	h, _ := newPrinterHarness(t, p)
	for i, tt := range []struct{ lang, query string }{
		{"ar", "?lang=ar"},
		{"tr", "?lang=tr"},
		{"en", "?lang=en"},
		{"de", ""},
	} {
		b := h.kioskBrowser(t)
		if res := h.get(t, b, "/kiosk?lang="+tt.lang); res.status != http.StatusOK {
			t.Fatalf("%s: kiosk: status %d", tt.lang, res.status)
		}
		// The choice is the kiosk's cookie: the ticket form carries no language.
		res := h.postForm(t, b, "/kiosk/tickets", "service=ausweis&key=lang-"+tt.lang)
		if res.status != http.StatusSeeOther {
			t.Fatalf("%s: issue: status %d: %s", tt.lang, res.status, res)
		}
		loc := res.header.Get("Location")
		token := strings.TrimPrefix(loc, "/kiosk/tickets/")
		want := portal + "/t/" + token + tt.query

		// The QR image is named by the ticket's number: a screen reader
		// must not read the token's URL out in the waiting room.
		page := h.get(t, b, loc).String()
		img := page[strings.Index(page, `<img class="qr"`):]
		img = img[:strings.Index(img, ">")+1]
		if strings.Contains(img, "alt=\"QR-Code: ") || strings.Contains(img, "http") && strings.Index(img, "alt=") < strings.LastIndex(img, "http") {
			t.Errorf("%s: the QR image's text reads out its address: %s", tt.lang, img)
		}
		if got := decodeQR(t, h.get(t, b, loc+"/qr.png")); got != want {
			t.Errorf("%s: screen's QR code = %q, want %q", tt.lang, got, want)
		}
		printed := p.tickets()
		if len(printed) != i+1 || printed[i].StatusURL != want {
			t.Fatalf("%s: printed QR code: %+v, want %q", tt.lang, printed, want)
		}
		checkPaperLanguage(t, tt.lang, i, printed[i])
		var v apiTicket
		if err := json.Unmarshal(h.get(t, b, "/api/v1/tickets/"+token).body, &v); err != nil {
			t.Fatal(err)
		}
		if v.StatusURL != want {
			t.Errorf("%s: API status_url (kiosk's browser) = %q, want %q", tt.lang, v.StatusURL, want)
		}
		// Asked without the kiosk's cookie, the language is unknown.
		if err := json.Unmarshal(h.get(t, nil, "/api/v1/tickets/"+token).body, &v); err != nil {
			t.Fatal(err)
		}
		if v.StatusURL != portal+"/t/"+token {
			t.Errorf("%s: API status_url (no cookie) = %q, want no language", tt.lang, v.StatusURL)
		}
	}
	// The API's own issuing: ?lang= chooses, as on the kiosk's pages.
	res := h.postJSON(t, "/api/v1/tickets?lang=ar", `{"service":"ausweis"}`)
	if res.status != http.StatusCreated {
		t.Fatalf("API issue: status %d: %s", res.status, res)
	}
	var v apiTicket
	if err := json.Unmarshal(res.body, &v); err != nil {
		t.Fatal(err)
	}
	if want := portal + "/t/" + v.Token + "?lang=ar"; v.StatusURL != want {
		t.Errorf("API issue ?lang=ar: status_url = %q, want %q", v.StatusURL, want)
	}
}

// checkPaperLanguage: a ticket printed for lang carries its text in lang
// too. German and English print as text; Turkish and Arabic, which the
// printer's code page lacks, print German text plus the same service and
// lines in the citizen's language (drawn as images by the driver).
func checkPaperLanguage(t *testing.T, lang string, ahead int, p hardware.Ticket) {
	t.Helper()
	text := "de"
	if lang == "en" {
		text = "en"
	}
	line := func(lang string) string {
		if ahead == 0 {
			return ui.Translate(lang, "kiosk.nowait")
		}
		return ui.Translate(lang, "ticket.ahead", ahead)
	}
	if want := line(text); !slices.Contains(p.Lines, want) {
		t.Errorf("%s: printed lines %q lack %q", lang, p.Lines, want)
	}
	if lang == "de" || lang == "en" {
		if p.Local != nil {
			t.Errorf("%s: ticket has a drawn translation %+v; its text prints as it is", lang, p.Local)
		}
		return
	}
	if p.Local == nil {
		t.Fatalf("%s: printed ticket has no text in the citizen's language: %+v", lang, p)
	}
	if p.Local.Lang != lang || p.Local.Service == p.Service || len(p.Local.Lines) != len(p.Lines) {
		t.Errorf("%s: drawn translation %+v of service %q, lines %q", lang, p.Local, p.Service, p.Lines)
	}
	if want := line(lang); !slices.Contains(p.Local.Lines, want) {
		t.Errorf("%s: drawn lines %q lack %q", lang, p.Local.Lines, want)
	}
}

// decodeQR reads the QR code of a PNG answer.
func decodeQR(t *testing.T, res response) string {
	t.Helper()
	text, err := qrtest.DecodePNG(res.body)
	if err != nil {
		t.Fatalf("QR of the answer (status %d): %v", res.status, err)
	}
	return text
}
