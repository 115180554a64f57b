package ui

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

// The texts live in one message file per language, locales/<lang>.json
// (German first: de.json is the reference every other file translates),
// which a translator edits without knowing Go; locales/README.md says how.
// A file maps a key to its text, or, for a text that depends on a count,
// to an object of its CLDR plural forms ("one", "other"; Arabic also
// "zero", "two", "few", "many"), with an optional "description" for the
// translator:
//
//	"desk.waiting": "%d wartend",
//	"clock.dur.days": {"one": "%d Tag", "other": "%d Tage"}
//
// A key missing in a language falls back to German; a key missing
// everywhere shows the key. TestLocales finds missing and unused keys.
//
//go:embed locales/*.json
var localeFiles embed.FS

// texts holds every language's texts by key (for a plural text its
// "other" form); plurals holds the plural texts' forms by language, key
// and CLDR category; notes the translators' descriptions. All are loaded
// from localeFiles once, before any init function runs. (Code that still
// adds texts to texts in an init function compiles and works, but
// TestLocalesCanonical asks for them to move into the files.)
var texts, plurals, notes = mustLoadLocales(localeFiles)

// fileKeys are the keys each language's file defines.
var fileKeys = func() map[string]map[string]bool {
	m := map[string]map[string]bool{}
	for lang, t := range texts {
		m[lang] = map[string]bool{}
		for k := range t {
			m[lang][k] = true
		}
	}
	return m
}()

// pluralForms are the CLDR plural categories a locale file may use, by the
// names the files use.
var pluralForms = map[string]plural.Form{
	"zero": plural.Zero, "one": plural.One, "two": plural.Two,
	"few": plural.Few, "many": plural.Many, "other": plural.Other,
}

func mustLoadLocales(fsys fs.FS) (texts map[string]map[string]string, plurals map[string]map[string]map[string]string, notes map[string]map[string]string) {
	c, err := loadLocales(fsys)
	if err != nil {
		// The files are embedded: a broken one is a build mistake that
		// every test of this package reports at once.
		panic(err)
	}
	return c.texts, c.plurals, c.notes
}

// catalog is what the message files hold, by language and key.
type catalog struct {
	texts   map[string]map[string]string
	plurals map[string]map[string]map[string]string
	notes   map[string]map[string]string // translators' descriptions
}

// loadLocales reads every locales/*.json in fsys.
func loadLocales(fsys fs.FS) (catalog, error) {
	c := catalog{texts: map[string]map[string]string{}, plurals: map[string]map[string]map[string]string{}, notes: map[string]map[string]string{}}
	names, err := fs.Glob(fsys, "locales/*.json")
	if err != nil {
		return c, err
	}
	for _, name := range names {
		lang := strings.TrimSuffix(path.Base(name), ".json")
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return c, err
		}
		t, p, n, err := parseLocale(b)
		if err != nil {
			return c, fmt.Errorf("ui: %s: %w", name, err)
		}
		c.texts[lang], c.plurals[lang], c.notes[lang] = t, p, n
	}
	if len(c.texts["de"]) == 0 {
		return c, fmt.Errorf("ui: locales/de.json is missing or empty")
	}
	return c, nil
}

// parseLocale reads one message file. Unlike encoding/json's maps it
// refuses a key given twice (a translator's copy-paste would otherwise
// silently win or lose) and any value that is neither a text nor an
// object of plural forms with "other".
func parseLocale(b []byte) (texts map[string]string, plurals map[string]map[string]string, notes map[string]string, err error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, nil, fmt.Errorf("not a JSON object of texts")
	}
	texts, plurals, notes = map[string]string{}, map[string]map[string]string{}, map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, nil, err
		}
		key := tok.(string) // inside an object, a token before the value is its key
		if _, dup := texts[key]; dup {
			return nil, nil, nil, fmt.Errorf("key %q is given twice", key)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, nil, fmt.Errorf("key %q: %w", key, err)
		}
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			texts[key] = s
			continue
		}
		var forms map[string]string
		if err := json.Unmarshal(raw, &forms); err != nil {
			return nil, nil, nil, fmt.Errorf("key %q: want a text or an object of plural forms", key)
		}
		if d, ok := forms["description"]; ok {
			notes[key] = d
			delete(forms, "description")
		}
		for f := range forms {
			if _, ok := pluralForms[f]; !ok {
				return nil, nil, nil, fmt.Errorf("key %q: %q is not a plural form (zero, one, two, few, many, other)", key, f)
			}
		}
		if _, ok := forms["other"]; !ok {
			return nil, nil, nil, fmt.Errorf("key %q: plural forms need \"other\"", key)
		}
		texts[key] = forms["other"]
		if len(forms) > 1 {
			plurals[key] = forms
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, nil, fmt.Errorf("text after the closing brace")
	}
	return texts, plurals, notes, nil
}

// Translate returns the text for key in lang, formatted with args. For a
// plural text, the first integer argument is the count that chooses the
// form ("1 Tag", "2 Tage"); a form may leave it out ("دقيقتان": two
// minutes) or pick arguments by index (%[2]d).
func Translate(lang, key string, args ...any) string {
	s := message(lang, key, args)
	if len(args) == 0 || !strings.Contains(s, "%") {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// message is the unformatted text for key in lang that args call for:
// lang's own, else German's, else the key itself.
func message(lang, key string, args []any) string {
	for _, l := range []string{lang, "de"} {
		s, ok := texts[l][key]
		if !ok {
			continue
		}
		if forms := plurals[l][key]; forms != nil {
			if n, ok := count(args); ok {
				if f, ok := forms[PluralForm(l, n)]; ok {
					return f
				}
			}
		}
		return s
	}
	return key
}

// count is the first integer among args.
func count(args []any) (int, bool) {
	for _, a := range args {
		switch n := a.(type) {
		case int:
			return n, true
		case int64:
			return int(n % 10_000_000), true
		case int32:
			return int(n), true
		case uint:
			return int(n % 10_000_000), true
		}
	}
	return 0, false
}

// PluralForm is the CLDR plural category of the integer n in lang: "one",
// "few", "other" and so on, as the message files name them.
func PluralForm(lang string, n int) string {
	if n < 0 {
		n = -n
	}
	f := plural.Cardinal.MatchPlural(language.Make(lang), n%10_000_000, 0, 0, 0, 0)
	for name, form := range pluralForms {
		if form == f {
			return name
		}
	}
	return "other"
}

// PluralForms lists the plural categories a language distinguishes for
// whole numbers ("one", "other" for German; six for Arabic).
func PluralForms(lang string) []string {
	var out []string
	for n := range 1000 {
		if f := PluralForm(lang, n); !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

// Plural returns the plural forms of key in lang (nil for a plain text).
func Plural(lang, key string) map[string]string { return plurals[lang][key] }

// Keys lists the text keys defined for a language.
func Keys(lang string) []string {
	keys := make([]string, 0, len(texts[lang]))
	for k := range texts[lang] {
		keys = append(keys, k)
	}
	return keys
}

// Langs lists the languages that have a message file.
func Langs() []string {
	var out []string
	for l := range texts {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

// Lookup returns the text for key in lang without fallback (for a plural
// text its "other" form).
func Lookup(lang, key string) (string, bool) {
	s, ok := texts[lang][key]
	return s, ok
}

// CitizenKey reports whether a text key belongs to the citizens' surfaces
// (layout, kiosk, ticket, status page, portal): those must exist in every
// language of CitizenLangs. Desk, display and admin texts are German and
// English only: Turkish and Arabic fall back to German there, deliberately
// (those pages never offer them).
func CitizenKey(key string) bool {
	switch key {
	case "city", "lang.name", "lang.menu", "skip", "minutes", "error.title", "back",
		"notfound", "notfound.text", "unit.min", "refresh":
		return true
	}
	for _, prefix := range append(citizenPrefixes, parentsReportPrefixes...) {
		if len(key) > len(prefix) && key[:len(prefix)] == prefix {
			return true
		}
	}
	return slices.Contains(parentsReportKeys, key)
}

// parentsReportPrefixes and parentsReportKeys are the texts of the
// school-entry exam's parents' report (appliance/server, desk_exams_pdf.go):
// printed in the parents' language too, so citizen texts, though their
// keys sit among the exam staff's.
var (
	parentsReportPrefixes = []string{"exams.pdf.report.", "exams.finding.", "exams.bmi.", "exams.vaccine.", "exams.recommend.", "exams.support.", "exams.area.", "exams.measles."}
	parentsReportKeys     = []string{"exams.pdf.to.parents", "exams.pdf.child", "exams.pdf.closing", "exams.pdf.date", "exams.pdf.doctor",
		"exams.pdf.impfpass.none", "exams.pdf.signed", "exams.pdf.vaccines.complete", "exams.pdf.vaccines.missing", "exams.recommendation",
		"exams.referrals", "exams.support", "exams.section.measurement", "exams.section.vision", "exams.section.hearing", "exams.section.sopess",
		"exams.section.vaccinations", "exams.sopess.selektive_aufmerksamkeit", "exams.sopess.zahlen_mengen", "exams.sopess.visuomotorik",
		"exams.sopess.visuelles_wahrnehmen", "exams.sopess.koerperkoordination", "exams.sopess.sprache", "exams.sopess.artikulation"}
)

var citizenPrefixes = []string{"kiosk.", "ticket.", "status.", "portal.", "order.", "invite."}

// SameInEnglish are the texts with no English of their own, deliberately:
// the brand, and the call display's announcement, which is always spoken
// in German.
var SameInEnglish = []string{"app.name", "display.announce"}
