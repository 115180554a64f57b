package ui

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// A translator's mistake in a message file is refused with a message that
// names the file and the key, never half-loaded.
func TestLoadLocalesRefuses(t *testing.T) {
	for name, tc := range map[string]struct{ de, want string }{
		"Duplicate":    {`{"a": "x", "a": "y"}`, `locales/de.json: key "a" is given twice`},
		"BadForm":      {`{"a": {"other": "x", "several": "y"}}`, `"several" is not a plural form`},
		"NoOther":      {`{"a": {"one": "x"}}`, `key "a": plural forms need "other"`},
		"NotText":      {`{"a": 3}`, `key "a": want a text or an object of plural forms`},
		"NotObject":    {`["a"]`, "not a JSON object"},
		"Trailing":     {`{"a": "x"} {}`, "text after the closing brace"},
		"Unterminated": {`{"a": "x",`, "unexpected end"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadLocales(fstest.MapFS{"locales/de.json": {Data: []byte(tc.de)}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("OK", func(t *testing.T) {
		c, err := loadLocales(fstest.MapFS{
			"locales/de.json": {Data: []byte(`{"a": "x", "n": {"description": "for translators", "one": "%d Tag", "other": "%d Tage"}}`)},
		})
		if err != nil {
			t.Fatal(err)
		}
		if c.texts["de"]["n"] != "%d Tage" || c.plurals["de"]["n"]["one"] != "%d Tag" || len(c.plurals["de"]["n"]) != 2 || c.notes["de"]["n"] != "for translators" {
			t.Fatalf("catalog %+v", c)
		}
	})
}

var update = flag.Bool("update", false, "rewrite ui/locales/*.json in their canonical form, with every text that Go code still adds in an init function")

// Every message file is in its canonical form (keys sorted, two spaces,
// plural forms in CLDR order), so that translators' and programmers'
// changes merge line by line; and every text lives in a file: texts that
// code adds to the map in an init function (the old way, before the files)
// are named here. `go test ./ui -run TestLocalesCanonical -update` writes
// them into the files; then delete the Go maps.
func TestLocalesCanonical(t *testing.T) {
	for _, lang := range Langs() {
		var inGo []string
		for k := range texts[lang] {
			if !fileKeys[lang][k] {
				inGo = append(inGo, k)
			}
		}
		slices.Sort(inGo)
		want := canonical(lang)
		name := filepath.Join("locales", lang+".json")
		if *update {
			if err := os.WriteFile(name, want, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: written, %d texts moved in from Go code: %v", name, len(inGo), inGo)
			continue
		}
		if len(inGo) > 0 {
			some := inGo[:min(len(inGo), 5)]
			t.Errorf("%s: %d texts are defined in Go code, not in the file (%s …): run go test ./ui -run TestLocalesCanonical -update, then delete the Go maps", name, len(inGo), strings.Join(some, ", "))
			continue
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not in its canonical form (keys sorted, two spaces): run go test ./ui -run TestLocalesCanonical -update", name)
		}
	}
}

// canonical writes lang's texts as its message file.
func canonical(lang string) []byte {
	quote := func(s string) string {
		var b bytes.Buffer
		e := json.NewEncoder(&b)
		e.SetEscapeHTML(false)
		e.Encode(s)
		return strings.TrimSuffix(b.String(), "\n")
	}
	keys := slices.Sorted(maps.Keys(texts[lang]))
	var b bytes.Buffer
	b.WriteString("{\n")
	for i, k := range keys {
		comma := ","
		if i == len(keys)-1 {
			comma = ""
		}
		forms, note := plurals[lang][k], notes[lang][k]
		if forms == nil && note == "" {
			fmt.Fprintf(&b, "  %s: %s%s\n", quote(k), quote(texts[lang][k]), comma)
			continue
		}
		var lines []string
		if note != "" {
			lines = append(lines, fmt.Sprintf("    %s: %s", quote("description"), quote(note)))
		}
		for _, f := range []string{"zero", "one", "two", "few", "many", "other"} {
			if s, ok := forms[f]; ok || (f == "other" && forms == nil) {
				if !ok {
					s = texts[lang][k]
				}
				lines = append(lines, fmt.Sprintf("    %s: %s", quote(f), quote(s)))
			}
		}
		fmt.Fprintf(&b, "  %s: {\n%s\n  }%s\n", quote(k), strings.Join(lines, ",\n"), comma)
	}
	b.WriteString("}\n")
	return b.Bytes()
}
