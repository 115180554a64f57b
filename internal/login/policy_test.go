package login

import (
	"strings"
	"testing"
)

func TestCheckNewPassword(t *testing.T) {
	for _, tc := range []struct {
		name, password string
		want           string // "" = accepted
	}{
		{"anna", "Kalk Porz Nippes", ""},
		{"anna", "ÄÖÜäöüß€ und mehr", ""},              // 12+ characters, not bytes
		{"anna", "geheim123", "mindestens 12 Zeichen"}, // 9
		{"anna", "ÄÖÜäöüß€", "mindestens 12 Zeichen"},  // 16 bytes, 8 characters
		{"anna", "", "mindestens 12 Zeichen"},
		{"anna", strings.Repeat("x", 60) + strings.Repeat("ü", 10), "höchstens 72 Bytes"},
		{"anna", "Passwort1234", "zu bekannt"},
		{"anna", "anna-anna-12", "Login-Name"},
		{"anna", "tab\tinside password", "Steuerzeichen"},
		{"anna", "abababababababab", "wiederholt"},
		{"anna", "bad \xff utf8 string", "UTF-8"},
	} {
		err := CheckNewPassword(tc.name, tc.password)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("CheckNewPassword(%q, %q) = %v, want accepted", tc.name, tc.password, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("CheckNewPassword(%q, %q) = %v, want an error with %q", tc.name, tc.password, err, tc.want)
		}
	}
}
