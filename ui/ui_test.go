package ui_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance"
	"github.com/veedel/veedel/ui"
)

// Every page template parses at start-up.
func TestRendererParsesEveryPage(t *testing.T) {
	r, err := ui.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{"kiosk", "ticket", "ticket_print", "login", "desk", "desk_counter", "display", "portal", "status", "notfound", "error", "home"} {
		if !r.Has(page) {
			t.Errorf("page %q missing", page)
		}
	}
}

func TestLang(t *testing.T) {
	tests := []struct {
		url, cookie, want string
	}{
		{"/", "", "de"},
		{"/?lang=en", "", "en"},
		{"/?lang=xx", "", "de"},
		{"/", "en", "en"},
		{"/?lang=de", "en", "de"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.url, nil)
		if tt.cookie != "" {
			r.Header.Set("Cookie", "lang="+tt.cookie)
		}
		w := httptest.NewRecorder()
		if got := ui.Lang(w, r); got != tt.want {
			t.Errorf("Lang(%s, cookie %q) = %q, want %q", tt.url, tt.cookie, got, tt.want)
		}
	}
}

func TestLangOffered(t *testing.T) {
	tests := []struct {
		url, cookie string
		offered     []string
		want        string
	}{
		{"/?lang=tr", "", nil, "de"}, // staff pages: German and English only
		{"/?lang=ar", "", ui.CitizenLangs, "ar"},
		{"/?lang=tr", "", ui.CitizenLangs, "tr"},
		{"/", "ar", ui.CitizenLangs, "ar"},
		{"/", "ar", ui.StaffLangs, "de"}, // the kiosk's Arabic falls back on the desk
		{"/?lang=ar", "en", ui.StaffLangs, "en"},
		{"/?lang=fa", "", ui.CitizenLangs, "de"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.url, nil)
		if tt.cookie != "" {
			r.Header.Set("Cookie", "lang="+tt.cookie)
		}
		w := httptest.NewRecorder()
		got := ui.Lang(w, r, tt.offered...)
		if got != tt.want {
			t.Errorf("Lang(%s, cookie %q, %v) = %q, want %q", tt.url, tt.cookie, tt.offered, got, tt.want)
		}
		if set := w.Result().Cookies(); strings.Contains(tt.url, "lang="+got) != (len(set) == 1) {
			t.Errorf("Lang(%s, %v): cookies %v", tt.url, tt.offered, set)
		}
	}
}

func TestPageDirAndMenu(t *testing.T) {
	p := ui.Page{Lang: "ar", Langs: ui.CitizenLangs}
	if p.Dir() != "rtl" {
		t.Errorf("Arabic page dir %q", p.Dir())
	}
	if (ui.Page{Lang: "tr"}).Dir() != "ltr" {
		t.Error("Turkish is left to right")
	}
	var names []string
	for _, o := range p.LangMenu() {
		names = append(names, o.Code+"="+o.Name+"/"+o.Dir)
		if o.Current != (o.Code == "ar") {
			t.Errorf("menu entry %s current=%v", o.Code, o.Current)
		}
	}
	if got, want := strings.Join(names, " "), "de=Deutsch/ltr en=English/ltr tr=Türkçe/ltr ar=العربية/rtl"; got != want {
		t.Errorf("menu %q, want %q", got, want)
	}
	if (ui.Page{Lang: "de"}).LangMenu() != nil {
		t.Error("a German/English page has a switch, not a menu")
	}
}

func TestIsolated(t *testing.T) {
	got := string(ui.Isolated("ar", "status.called", "Platz <3>"))
	if want := "حان دورك! يُرجى التوجّه إلى <bdi>Platz &lt;3&gt;</bdi>."; got != want {
		t.Errorf("Isolated = %q, want %q", got, want)
	}
	if got := string(ui.Isolated("de", "kiosk.wait", 12, 3)); got != "Wartezeit ca. <bdi>12</bdi> Min. · Wartende: <bdi>3</bdi>" {
		t.Errorf("Isolated with numbers = %q", got)
	}
}

func TestServiceName(t *testing.T) {
	const de, en = "Personalausweis und Reisepass", "ID card and passport"
	tests := []struct{ lang, id, name, nameEN, want string }{
		{"de", "ausweis", de, en, de},
		{"en", "ausweis", de, en, en},
		{"tr", "ausweis", de, en, "Kimlik kartı ve pasaport"},
		{"ar", "ausweis", de, en, "بطاقة الهوية وجواز السفر"},
		{"tr", "ausweis", "Ausweise", "ID cards", "ID cards"}, // renamed: the translation no longer fits
		{"ar", "kfz", "Zulassung", "", "Zulassung"},           // unknown service without English
		{"en", "kfz", "Zulassung", "", "Zulassung"},
	}
	for _, tt := range tests {
		if got := ui.ServiceName(tt.lang, tt.id, tt.name, tt.nameEN); got != tt.want {
			t.Errorf("ServiceName(%s, %s, %q) = %q, want %q", tt.lang, tt.id, tt.name, got, tt.want)
		}
	}
}

// The translation table follows the built-in catalogue's German names.
func TestServiceNamesMatchCatalogue(t *testing.T) {
	n := 0
	for _, seed := range appliance.Catalog {
		for _, svc := range seed.Services {
			if de, ok := ui.ServiceNameDE(svc.ID); ok {
				n++
				if de != svc.Name {
					t.Errorf("service %s: table translates %q, catalogue says %q", svc.ID, de, svc.Name)
				}
			}
		}
	}
	if n == 0 {
		t.Error("no catalogue service is translated")
	}
}

func TestAnnouncement(t *testing.T) {
	tests := []struct{ tmpl, number, counter, want string }{
		{"", "A042", "Platz 3", "Nummer A null vier zwei, bitte zu Platz 3."},
		{"", "B100", "Schalter 12", "Nummer B eins null null, bitte zu Schalter 12."},
		{"{number} zu {counter}", "C007", "Platz 1", "C null null sieben zu Platz 1"},
	}
	for _, tt := range tests {
		if got := ui.Announcement(tt.tmpl, tt.number, tt.counter); got != tt.want {
			t.Errorf("Announcement(%q, %s, %s) = %q, want %q", tt.tmpl, tt.number, tt.counter, got, tt.want)
		}
	}
}

// A modem's network state, as the sites report it in English, reads in
// the page's language; an unknown state reads "unknown" in it, with the
// modem's words in brackets.
func TestNetworkName(t *testing.T) {
	for _, tc := range []struct{ lang, state, want string }{
		{"de", "registered", "eingebucht"},
		{"de", "no SIM", "keine SIM-Karte"},
		{"en", "SIM pin required", "SIM PIN required"},
		{"de", "warp drive", "unbekannt (warp drive)"},
	} {
		if got := ui.NetworkName(tc.lang, tc.state); got != tc.want {
			t.Errorf("NetworkName(%s, %q) = %q, want %q", tc.lang, tc.state, got, tc.want)
		}
	}
}

// A form on a German page shows the German half of a domain error, the
// English page the English half; anything else stays whole.
func TestInLang(t *testing.T) {
	msg := `Kennung "Kfz Poll" ungültig / site id "Kfz Poll" invalid`
	for _, tc := range []struct{ lang, msg, want string }{
		{"de", msg, `Kennung "Kfz Poll" ungültig`},
		{"en", msg, `site id "Kfz Poll" invalid`},
		{"tr", msg, msg},
		{"de", "nur Deutsch", "nur Deutsch"},
		{"de", "a / b / c", "a / b / c"},
	} {
		if got := ui.InLang(tc.lang, tc.msg); got != tc.want {
			t.Errorf("InLang(%s, %q) = %q, want %q", tc.lang, tc.msg, got, tc.want)
		}
	}
}

// Dates follow the page's language: German's way for German and the
// languages without their own, English's for English.
func TestDateTime(t *testing.T) {
	at := time.Date(2027, 1, 12, 19, 30, 0, 0, time.UTC)
	for _, tc := range []struct{ lang, want, day string }{
		{"de", "12.01.2027 19:30", "12.01.2027"},
		{"en", "12 Jan 2027, 19:30", "12 Jan 2027"},
		{"tr", "12.01.2027 19:30", "12.01.2027"},
	} {
		if got := ui.DateTime(tc.lang, at); got != tc.want {
			t.Errorf("DateTime(%s) = %q, want %q", tc.lang, got, tc.want)
		}
		if got := (ui.Page{Lang: tc.lang}).DateTime(at); got != tc.want {
			t.Errorf("Page{%s}.DateTime = %q, want %q", tc.lang, got, tc.want)
		}
		if got := ui.Day(tc.lang, "2027-01-12"); got != tc.day {
			t.Errorf("Day(%s) = %q, want %q", tc.lang, got, tc.day)
		}
	}
	// The desk's dates (When) are the site's: Berlin, an hour ahead of UTC
	// in January.
	if got := (ui.Page{Lang: "en"}).When(at.Add(-time.Hour)); got != "12 Jan 2027, 19:30" {
		t.Errorf("Page{en}.When = %q", got)
	}
	if got := (ui.Page{Lang: "de"}).When(at.Add(-time.Hour)); got != "12.01.2027 19:30" {
		t.Errorf("Page{de}.When = %q", got)
	}
}
