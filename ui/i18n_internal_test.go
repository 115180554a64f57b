package ui

import (
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
			_, _, err := loadLocales(fstest.MapFS{"locales/de.json": {Data: []byte(tc.de)}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("OK", func(t *testing.T) {
		texts, plurals, err := loadLocales(fstest.MapFS{
			"locales/de.json": {Data: []byte(`{"a": "x", "n": {"description": "for translators", "one": "%d Tag", "other": "%d Tage"}}`)},
		})
		if err != nil {
			t.Fatal(err)
		}
		if texts["de"]["n"] != "%d Tage" || plurals["de"]["n"]["one"] != "%d Tag" || len(plurals["de"]["n"]) != 2 {
			t.Fatalf("texts %v, plurals %v", texts, plurals)
		}
	})
}
