// Package ui owns every server-rendered surface's templates and static
// assets (embedded in the binary), the shared layout, and the texts: German
// and English everywhere, Turkish and Arabic on the citizens' surfaces. Templates are parsed once at start-up; a broken template
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
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/text/language"
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
	// Langs are the languages this page offers (CitizenLangs on the kiosk
	// and the ticket status page). Empty means StaffLangs: German and
	// English, offered as one switch link instead of a menu.
	Langs []string
	Flash string
	Error string
	Data  any
	// IdleSeconds, when set, is how long the page waits for a touch
	// before it returns to its start (the kiosk: kiosk.js reads it from
	// the body's data-idle).
	IdleSeconds int
}

// IdleWarnSeconds is how long before IdleSeconds run out the kiosk warns
// and offers more time: 20 seconds (WCAG 2.2.1 asks for at least 20 to
// answer), or half the idle time when that is shorter.
func (p Page) IdleWarnSeconds() int {
	return min(20, p.IdleSeconds/2)
}

// T translates a key into the page's language.
func (p Page) T(key string, args ...any) string { return Translate(p.Lang, key, args...) }

// TB translates a key like T, but isolates every argument in a <bdi>
// element: a ticket number, a counter name ("Platz 3") or a time keeps its
// own direction inside Arabic text. The text itself is escaped.
func (p Page) TB(key string, args ...any) template.HTML {
	return Isolated(p.Lang, key, args...)
}

// Network is a modem's network state in the page's language (NetworkName).
func (p Page) Network(state string) string { return NetworkName(p.Lang, state) }

// Dir is the text direction of the page's language.
func (p Page) Dir() string { return Dir(p.Lang) }

// OtherLang is the language the switch offers on German/English pages.
func (p Page) OtherLang() string {
	if p.Lang == "en" {
		return "de"
	}
	return "en"
}

// LangOption is one entry of the language menu.
type LangOption struct {
	Code    string // "tr"
	Name    string // the language's name in itself: "Türkçe"
	Dir     string // ltr or rtl
	Current bool
}

// LangMenu is the language menu of a page that offers more than German and
// English; nil when the page offers only those two (the layout then shows
// the single switch link).
func (p Page) LangMenu() []LangOption {
	if len(p.Langs) <= 2 {
		return nil
	}
	out := make([]LangOption, 0, len(p.Langs))
	for _, l := range p.Langs {
		out = append(out, LangOption{Code: l, Name: Translate(l, "lang.name"), Dir: Dir(l), Current: l == p.Lang})
	}
	return out
}

// ServiceName is a service's name in the page's language (see ServiceName).
func (p Page) ServiceName(id, name, nameEN string) string {
	return ServiceName(p.Lang, id, name, nameEN)
}

// Renderer holds the parsed templates.
type Renderer struct {
	pages map[string]*template.Template
	brand atomic.Pointer[Brand]
}

// SetBrand sets the city's name, logo and colours the pages show (nil:
// Cologne's, as the texts name it). Set it before serving.
func (r *Renderer) SetBrand(b *Brand) { r.brand.Store(b) }

// Brand is the brand the pages show; its ServeCSS and ServeLogo answer
// /brand.css and /brand/logo.
func (r *Renderer) Brand() *Brand { return r.brand.Load() }

// ServeBrandCSS serves /brand.css: the brand's colours.
func (r *Renderer) ServeBrandCSS(w http.ResponseWriter, req *http.Request) {
	r.Brand().ServeCSS(w, req)
}

// ServeBrandLogo serves /brand/logo: the brand's logo.
func (r *Renderer) ServeBrandLogo(w http.ResponseWriter, req *http.Request) {
	r.Brand().ServeLogo(w, req)
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
	// groups writes an IBAN as on paper, in groups of four (DIN 5008):
	// DE89 3704 0044 0532 0130 00, which a clerk can read back.
	"groups": func(s string) string {
		var b strings.Builder
		for i, r := range []rune(s) {
			if i > 0 && i%4 == 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
		}
		return b.String()
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
	r := &Renderer{pages: map[string]*template.Template{}}
	base := template.New("layout").Funcs(funcs).Funcs(template.FuncMap{
		// city is the city's name in a language, from the brand.
		"city": func(lang string) string { return r.Brand().CityName(lang) },
	})
	if _, err := base.ParseFS(templateFiles, "templates/layout.html", "templates/_*.html"); err != nil {
		return nil, fmt.Errorf("ui: parse layout: %w", err)
	}
	names, err := fs.Glob(templateFiles, "templates/page_*.html")
	if err != nil {
		return nil, err
	}
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

// The languages of the surfaces. Citizens' surfaces (kiosk, ticket, status
// page, portal) offer four; staff surfaces (desk, display, admin) German and
// English only.
var (
	CitizenLangs = []string{"de", "en", "tr", "ar"}
	StaffLangs   = []string{"de", "en"}
)

// Lang picks the language of a request among the offered ones (StaffLangs
// when none are given): ?lang= (remembered in a cookie), then the cookie,
// then German. A language the page does not offer is ignored, so a citizen
// who chose Arabic at the kiosk sees the desk in German, and the choice is
// kept for the next citizen page. The kiosk uses Lang: it is a shared
// device, whose browser's languages say nothing about the citizen.
func Lang(w http.ResponseWriter, r *http.Request, offered ...string) string {
	if l := chosen(w, r, offered); l != "" {
		return l
	}
	return "de"
}

// LangOrBrowser is Lang for a citizen's own device (the ticket status page,
// the portal): when neither ?lang= nor the cookie has chosen, the
// browser's Accept-Language picks among the offered languages, else German.
func LangOrBrowser(w http.ResponseWriter, r *http.Request, offered ...string) string {
	if l := chosen(w, r, offered); l != "" {
		return l
	}
	w.Header().Add("Vary", "Accept-Language")
	return AcceptLang(r.Header.Get("Accept-Language"), offered...)
}

// Chosen is the language a request has chosen among the offered ones
// (StaffLangs when none are given): ?lang=, else the cookie; "" when
// neither names an offered language. Unlike Lang it sets no cookie.
func Chosen(r *http.Request, offered ...string) string {
	return chosen(nil, r, offered)
}

// chosen is Chosen that, given w, remembers a ?lang= in the cookie.
func chosen(w http.ResponseWriter, r *http.Request, offered []string) string {
	if len(offered) == 0 {
		offered = StaffLangs
	}
	if l := r.URL.Query().Get("lang"); slices.Contains(offered, l) {
		if w != nil {
			http.SetCookie(w, &http.Cookie{Name: "lang", Value: l, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode, HttpOnly: true})
		}
		return l
	}
	if c, err := r.Cookie("lang"); err == nil && slices.Contains(offered, c.Value) {
		return c.Value
	}
	return ""
}

// AcceptLang is the offered language (StaffLangs when none are given) that
// an Accept-Language header prefers, by its q-values and with regional
// variants matching their language ("ar-EG" is "ar"); German when it
// names none of them or does not parse.
func AcceptLang(header string, offered ...string) string {
	if len(offered) == 0 {
		offered = StaffLangs
	}
	prefs, _, err := language.ParseAcceptLanguage(header)
	if err != nil || len(prefs) == 0 {
		return "de"
	}
	tags := make([]language.Tag, len(offered))
	for i, l := range offered {
		tags[i] = language.Make(l)
	}
	_, i, conf := language.NewMatcher(tags).Match(prefs...)
	if conf == language.No {
		return "de"
	}
	return offered[i]
}

// Dir is the text direction of a language: rtl for Arabic.
func Dir(lang string) string {
	if lang == "ar" {
		return "rtl"
	}
	return "ltr"
}
