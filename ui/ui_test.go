package ui_test

import (
	"net/http/httptest"
	"strings"
	"testing"

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

// Every German text has an English one and the other way round, with the
// same number of format verbs.
func TestTextsComplete(t *testing.T) {
	for _, key := range ui.Keys("de") {
		if _, ok := ui.Lookup("en", key); !ok && !sameInBoth[key] {
			t.Errorf("key %q has no English text", key)
		}
		if de, en := strings.Count(ui.Translate("de", key), "%"), strings.Count(ui.Translate("en", key), "%"); de != en {
			t.Errorf("key %q: %d format verbs in German, %d in English", key, de, en)
		}
	}
	for _, key := range ui.Keys("en") {
		if _, ok := ui.Lookup("de", key); !ok {
			t.Errorf("key %q has no German text", key)
		}
	}
}

var sameInBoth = map[string]bool{"app.name": true}

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
