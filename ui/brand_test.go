package ui_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veedel/veedel/ui"
)

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Another city runs Veedel under its own name, logo and colours: the
// pages say its name in each language, /brand.css sets its colours and
// /brand/logo serves its logo.
func TestBrandFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "wappen.svg", `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>`)
	file := writeFile(t, dir, "brand.json", `{"city": {"de": "Stadt Musterhausen", "en": "City of Musterhausen"},
		"logo": "wappen.svg", "colors": {"brand": "#005a9c", "brand_dark": "#003b66"}}`)
	b, err := ui.LoadBrand(file)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ui.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	r.SetBrand(b)
	for lang, want := range map[string]string{"de": "Stadt Musterhausen", "en": "City of Musterhausen", "tr": "Stadt Musterhausen"} {
		rec := httptest.NewRecorder()
		r.Render(rec, http.StatusOK, "notfound", ui.Page{Lang: lang, Title: "x", Surface: "portal", Path: "/"})
		body := rec.Body.String()
		if !strings.Contains(body, "<strong>"+want+"</strong>") || strings.Contains(body, "Köln") {
			t.Errorf("%s page: want the city %q, not Cologne:\n%s", lang, want, body)
		}
		if !strings.Contains(body, `href="/brand.css"`) || !strings.Contains(body, `src="/brand/logo"`) {
			t.Errorf("%s page lacks the brand's stylesheet or logo", lang)
		}
	}
	rec := httptest.NewRecorder()
	r.ServeBrandCSS(rec, httptest.NewRequest("GET", "/brand.css", nil))
	if css := rec.Body.String(); !strings.Contains(css, "--brand: #005a9c") || !strings.Contains(css, "--brand-dark: #003b66") {
		t.Errorf("brand.css = %q", css)
	}
	rec = httptest.NewRecorder()
	r.ServeBrandLogo(rec, httptest.NewRequest("GET", "/brand/logo", nil))
	if ct := rec.Header().Get("Content-Type"); ct != "image/svg+xml" || !strings.Contains(rec.Body.String(), `viewBox="0 0 10 10"`) {
		t.Errorf("logo: %s %q", ct, rec.Body.String())
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("an SVG logo is served without a script-free policy: %q", csp)
	}
}

// Without a brand file: Cologne, its red, and a mark in that red.
func TestBrandDefault(t *testing.T) {
	var b *ui.Brand
	if got := b.CityName("de"); got != "Stadt Köln" {
		t.Errorf("default city %q", got)
	}
	if css := b.CSS(); !strings.Contains(css, "#b00020") {
		t.Errorf("default css %q", css)
	}
	logo, ct := b.LogoFile()
	if ct != "image/svg+xml" || !strings.Contains(string(logo), `fill="#b00020"`) {
		t.Errorf("default logo %s %s", ct, logo)
	}
}

// A brand file that would make pages unreadable or unsafe is refused at
// start with the field and what to do.
func TestBrandRefused(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "notes.txt", "not a logo")
	big := writeFile(t, dir, "big.svg", "<svg>"+strings.Repeat(" ", 300<<10)+"</svg>")
	_ = big
	for _, tc := range []struct{ name, json, want string }{
		{"Pale", `{"colors": {"brand": "#ffcc00"}}`, "colors.brand: #ffcc00 has a contrast of 1.5:1 with white, at least 4.5:1"},
		{"PaleDark", `{"colors": {"brand_dark": "#c8102e"}}`, "colors.brand_dark: #c8102e has a contrast of 5.9:1 with white, at least 7.0:1"},
		{"NotAColour", `{"colors": {"brand": "red"}}`, `colors.brand: "red" is not a colour like #b00020`},
		{"UnknownField", `{"colour": "#000000"}`, `unknown field "colour"`},
		{"EmptyCity", `{"city": {"de": " "}}`, "city.de: a name of 1 to 80 characters"},
		{"NotALogo", `{"logo": "notes.txt"}`, "an SVG or PNG file is needed"},
		{"BigLogo", `{"logo": "big.svg"}`, "at most 256 KiB"},
		{"MissingLogo", `{"logo": "gone.png"}`, "logo: open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ui.LoadBrand(writeFile(t, dir, tc.name+".json", tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadBrand: %v, want an error with %q", err, tc.want)
			}
		})
	}
}
