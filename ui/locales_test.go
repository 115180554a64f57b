package ui_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/veedel/veedel/ui"
)

// deliberateFallback reports whether lang may lack key on purpose, falling
// back to German: staff texts (desk, display, admin) exist in German and
// English only, and a few texts have no English of their own.
func deliberateFallback(lang, key string) bool {
	switch lang {
	case "en":
		return slices.Contains(ui.SameInEnglish, key)
	case "de":
		return false
	}
	return !ui.CitizenKey(key)
}

// verbs are a text's format verbs, argument indexes dropped: "%d %s".
var verbRE = regexp.MustCompile(`%(\[\d+\])?[ds]`)

func verbs(s string) string {
	vs := verbRE.FindAllString(s, -1)
	for i, v := range vs {
		vs[i] = "%" + v[len(v)-1:]
	}
	slices.Sort(vs)
	return strings.Join(vs, " ")
}

// Every key of the German file exists in every other language, unless it
// falls back to German deliberately; no language has a key German lacks;
// every text has German's format verbs; plural forms are the language's
// own CLDR categories.
func TestLocalesComplete(t *testing.T) {
	langs := ui.Langs()
	if want := []string{"ar", "de", "en", "tr"}; !slices.Equal(langs, want) {
		t.Fatalf("message files for %v, want %v", langs, want)
	}
	de := ui.Keys("de")
	slices.Sort(de)
	for _, lang := range langs {
		forms := ui.PluralForms(lang)
		missing, fallback := 0, 0
		for _, key := range de {
			s, ok := ui.Lookup(lang, key)
			if !ok {
				if deliberateFallback(lang, key) {
					fallback++
				} else {
					missing++
					t.Errorf("%s.json: key %q missing (German: %q)", lang, key, ui.Translate("de", key))
				}
				continue
			}
			g, _ := ui.Lookup("de", key)
			if verbs(s) != verbs(g) {
				t.Errorf("%s.json: key %q has the verbs %q, German %q: %q", lang, key, verbs(s), verbs(g), s)
			}
			for form, text := range ui.Plural(lang, key) {
				if !slices.Contains(forms, form) {
					t.Errorf("%s.json: key %q: %s has no plural form %q (only %v)", lang, key, lang, form, forms)
				}
				for _, v := range strings.Fields(verbs(text)) {
					if !strings.Contains(verbs(g), v) {
						t.Errorf("%s.json: key %q, form %q: verb %s that German does not have", lang, key, form, v)
					}
				}
			}
			if (lang == "tr" || lang == "ar") && s == ui.Translate("en", key) && key != "lang.name" {
				t.Errorf("%s.json: key %q is the English text %q", lang, key, s)
			}
		}
		for _, key := range ui.Keys(lang) {
			if _, ok := ui.Lookup("de", key); !ok {
				t.Errorf("%s.json: key %q has no German text", lang, key)
			}
			if (lang == "tr" || lang == "ar") && !ui.CitizenKey(key) {
				t.Errorf("%s.json: key %q is not a citizen text (staff pages offer German and English only)", lang, key)
			}
		}
		t.Logf("%s: %d keys, %d fall back to German deliberately, %d missing; plural forms %v", lang, len(ui.Keys(lang)), fallback, missing, forms)
	}
	// Turkish uses its own letters, Arabic its script.
	if s := ui.Translate("tr", "kiosk.title"); !strings.ContainsAny(s, "ıİşŞğĞçÇöÖüÜ") {
		t.Errorf("Turkish kiosk title %q has no Turkish letters", s)
	}
	if s := ui.Translate("ar", "kiosk.title"); !strings.ContainsRune(s, 'ر') {
		t.Errorf("Arabic kiosk title %q is not Arabic", s)
	}
}

// Every key is used: named in Go code or a template, or built there from
// a prefix ("status.state."+t.Status, "weekday.short.%d").
func TestLocalesUsed(t *testing.T) {
	literals := map[string]bool{}
	root := ".."
	keyish := regexp.MustCompile(`^[a-z][a-z0-9_-]*(\.[a-z0-9_%-]*)*$`)
	add := func(s string) {
		if keyish.MatchString(s) {
			literals[s] = true
		}
	}
	tmplString := regexp.MustCompile(`"([^"\s{}]+)"`)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go"):
			// The loader's own prefixes (CitizenKey) name no text.
			if filepath.Clean(p) == filepath.Join("..", "ui", "i18n.go") {
				return nil
			}
			f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil {
						add(s)
					}
				}
				return true
			})
		case strings.HasSuffix(name, ".html") && strings.Contains(p, filepath.Join("ui", "templates")):
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range tmplString.FindAllStringSubmatch(string(b), -1) {
				add(m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var prefixes []string
	for s := range literals {
		if i := strings.Index(s, "%"); i > 0 {
			prefixes = append(prefixes, s[:i])
		} else if strings.HasSuffix(s, ".") {
			prefixes = append(prefixes, s)
		}
	}
	direct, built := 0, 0
	for _, key := range ui.Keys("de") {
		if literals[key] {
			direct++
			continue
		}
		if slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(key, p) }) {
			built++
			continue
		}
		t.Errorf("key %q is used nowhere in Go code or templates: delete it from every ui/locales/*.json, or use it", key)
	}
	slices.Sort(prefixes)
	t.Logf("%d keys named in code or templates, %d built from the prefixes %v", direct, built, prefixes)
}

// Each language says a count its own way: German and English one/other,
// Arabic with six forms, and a form may leave the number out.
func TestPlurals(t *testing.T) {
	for _, tc := range []struct {
		lang, key string
		args      []any
		want      string
	}{
		{"de", "clock.dur.days", []any{1}, "1 Tag"},
		{"de", "clock.dur.days", []any{365}, "365 Tage"},
		{"en", "clock.dur.days", []any{1}, "1 day"},
		{"de", "login.throttled.seconds", []any{1}, "Zu viele Fehlversuche. Bitte in einer Sekunde erneut versuchen."},
		{"de", "login.throttled.seconds", []any{30}, "Zu viele Fehlversuche. Bitte in 30 Sekunden erneut versuchen."},
		{"de", "ticket.sms.soon", []any{"A042", 1}, "Ihre Nummer A042: noch ca. 1 Minute"},
		{"ar", "minutes", []any{0}, "0 دقيقة"},
		{"ar", "minutes", []any{1}, "دقيقة واحدة"},
		{"ar", "minutes", []any{2}, "دقيقتان"},
		{"ar", "minutes", []any{5}, "5 دقائق"},
		{"ar", "minutes", []any{11}, "11 دقيقة"},
		{"ar", "minutes", []any{100}, "100 دقيقة"},
		{"ar", "kiosk.wait", []any{2, 7}, "مدة الانتظار نحو دقيقتين · عدد المنتظرين: 7"},
		{"ar", "ticket.sms.soon", []any{"A042", 1}, "رقمك A042: تبقّت نحو دقيقة واحدة"},
		{"de", "portal.order.fresh.ago", []any{1}, "Stand: vor 1 Minute"},
		{"ar", "portal.order.fresh.ago", []any{2}, "آخر تحديث: منذ دقيقتين"},
		{"ar", "portal.order.fresh.ago", []any{7}, "آخر تحديث: منذ 7 دقائق"},
		{"ar", "portal.order.fresh.ago", []any{42}, "آخر تحديث: منذ 42 دقيقة"},
		{"de", "orders.count", []any{1}, "1 Bestellung"},
		{"en", "orders.open.count", []any{3}, "3 open orders"},
		{"tr", "minutes", []any{1}, "1 dk."},
		{"tr", "minutes", []any{7}, "7 dk."},
		// A staff text in Turkish falls back to German, plural forms and all.
		{"tr", "clock.dur.days", []any{1}, "1 Tag"},
	} {
		if got := ui.Translate(tc.lang, tc.key, tc.args...); got != tc.want {
			t.Errorf("Translate(%s, %s, %v) = %q, want %q", tc.lang, tc.key, tc.args, got, tc.want)
		}
	}
	if got, want := ui.PluralForms("ar"), []string{"few", "many", "one", "other", "two", "zero"}; !slices.Equal(got, want) {
		t.Errorf("Arabic plural forms %v, want %v", got, want)
	}
	if got, want := ui.PluralForms("tr"), []string{"one", "other"}; !slices.Equal(got, want) {
		t.Errorf("Turkish plural forms %v, want %v", got, want)
	}
	// Isolated picks the form too and isolates only the arguments the form uses.
	if got, want := string(ui.Isolated("ar", "kiosk.wait", 1, 4)), "مدة الانتظار نحو دقيقة واحدة · عدد المنتظرين: <bdi>4</bdi>"; got != want {
		t.Errorf("Isolated = %q, want %q", got, want)
	}
}
