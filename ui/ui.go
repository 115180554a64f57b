// Package ui owns every server-rendered surface's templates and static
// assets (embedded in the binary), the shared layout, and the German and
// English texts. Templates are parsed once at start-up; a broken template
// fails the start, never a request.
package ui

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Static serves the embedded assets (CSS, scripts, sounds).
func Static() http.Handler {
	sub, _ := fs.Sub(staticFiles, "static")
	fsrv := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}

// Page is what every template gets: the language, a title, the surface's
// own data, and an optional message to show (a flash or an error).
type Page struct {
	Lang    string
	Title   string
	Surface string // kiosk, desk, display, portal: selects layout styling
	Path    string // current path, for the language switch
	Flash   string
	Error   string
	Data    any
}

// T translates a key into the page's language.
func (p Page) T(key string, args ...any) string { return Translate(p.Lang, key, args...) }

// Dir is the text direction of the page's language.
func (p Page) Dir() string { return "ltr" }

// OtherLang is the language the switch offers.
func (p Page) OtherLang() string {
	if p.Lang == "en" {
		return "de"
	}
	return "en"
}

// Renderer holds the parsed templates.
type Renderer struct {
	pages map[string]*template.Template
}

var funcs = template.FuncMap{
	"clock": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(berlin).Format("15:04")
	},
	"date": func(t time.Time) string { return t.In(berlin).Format("02.01.2006") },
	"iso":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"minutesAgo": func(t, now time.Time) int {
		return int(now.Sub(t).Minutes())
	},
}

var berlin = func() *time.Location {
	if loc, err := time.LoadLocation("Europe/Berlin"); err == nil {
		return loc
	}
	return time.UTC
}()

// NewRenderer parses every page in templates/: each page_*.html together
// with layout.html and the partials (_*.html).
func NewRenderer() (*Renderer, error) {
	base := template.New("layout").Funcs(funcs)
	if _, err := base.ParseFS(templateFiles, "templates/layout.html", "templates/_*.html"); err != nil {
		return nil, fmt.Errorf("ui: parse layout: %w", err)
	}
	names, err := fs.Glob(templateFiles, "templates/page_*.html")
	if err != nil {
		return nil, err
	}
	r := &Renderer{pages: map[string]*template.Template{}}
	for _, name := range names {
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(templateFiles, name); err != nil {
			return nil, fmt.Errorf("ui: parse %s: %w", name, err)
		}
		page := strings.TrimSuffix(strings.TrimPrefix(path.Base(name), "page_"), ".html")
		r.pages[page] = t
	}
	return r, nil
}

// Render writes page with status. The page is rendered into a buffer first
// so that a template error becomes a clean 500, not half a page.
func (r *Renderer) Render(w http.ResponseWriter, status int, page string, p Page) {
	t := r.pages[page]
	if t == nil {
		http.Error(w, "unknown page "+page, http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		slog.Error("render page", "page", page, "err", err)
		http.Error(w, "template error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", p.Lang)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// Has reports whether a page exists (for tests and wiring checks).
func (r *Renderer) Has(page string) bool { return r.pages[page] != nil }

// Lang picks the language of a request: ?lang= (remembered in a cookie),
// then the cookie, then German.
func Lang(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); supported(l) {
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: l, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode, HttpOnly: true})
		return l
	}
	if c, err := r.Cookie("lang"); err == nil && supported(c.Value) {
		return c.Value
	}
	return "de"
}

func supported(lang string) bool { return lang == "de" || lang == "en" }
