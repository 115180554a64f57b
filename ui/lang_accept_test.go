package ui_test

import (
	"net/http/httptest"
	"testing"

	"github.com/veedel/veedel/ui"
)

// A citizen's own phone opens a citizen page in its language when nothing
// else has chosen, by the header's q-values, among the citizen languages.
func TestAcceptLang(t *testing.T) {
	tests := []struct{ header, want string }{
		{"", "de"},
		{"ar", "ar"},
		{"ar-EG,ar;q=0.9,en;q=0.8", "ar"},
		{"tr-TR", "tr"},
		{"en-US,en;q=0.9", "en"},
		{"fr-FR,fr;q=0.9", "de"},                   // none offered: German
		{"fr;q=0.9,tr;q=0.5", "tr"},                // the first offered one
		{"en;q=0.2,ar;q=0.8", "ar"},                // q-values, not order, decide
		{"ar;q=0,en", "en"},                        // q=0: not acceptable
		{"de-CH,ar;q=0.5", "de"},                   // a German variant is German
		{"*", "de"},                                // anything: the default
		{"not a header;;;q=x", "de"},               // does not parse
		{"pl,ru;q=0.9,ar-SA;q=0.8,en;q=0.7", "ar"}, // Arabic before English
	}
	for _, tt := range tests {
		if got := ui.AcceptLang(tt.header, ui.CitizenLangs...); got != tt.want {
			t.Errorf("AcceptLang(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
	if got := ui.AcceptLang("tr"); got != "de" {
		t.Errorf("staff languages: AcceptLang(tr) = %q, want de", got)
	}
}

// ?lang= and the cookie (a choice made) win over the browser's header.
func TestLangOrBrowser(t *testing.T) {
	tests := []struct{ url, cookie, header, want string }{
		{"/t/x", "", "ar", "ar"},
		{"/t/x?lang=tr", "", "ar", "tr"},
		{"/t/x", "en", "ar", "en"},
		{"/t/x?lang=de", "ar", "ar", "de"},
		{"/t/x?lang=fa", "", "ar", "ar"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.url, nil)
		r.Header.Set("Accept-Language", tt.header)
		if tt.cookie != "" {
			r.Header.Set("Cookie", "lang="+tt.cookie)
		}
		w := httptest.NewRecorder()
		if got := ui.LangOrBrowser(w, r, ui.CitizenLangs...); got != tt.want {
			t.Errorf("LangOrBrowser(%s, cookie %q, %q) = %q, want %q", tt.url, tt.cookie, tt.header, got, tt.want)
		}
		// Only an explicit ?lang= is remembered, never the header's guess.
		if set := w.Result().Cookies(); len(set) != 0 && tt.url == "/t/x" {
			t.Errorf("LangOrBrowser(%s, %q) set cookies %v", tt.url, tt.header, set)
		}
		// The kiosk (Lang) never follows the header.
		if got := ui.Lang(httptest.NewRecorder(), r, ui.CitizenLangs...); tt.cookie == "" && r.URL.RawQuery == "" && got != "de" {
			t.Errorf("Lang(%s, %q) = %q: the kiosk followed the browser", tt.url, tt.header, got)
		}
	}
}
