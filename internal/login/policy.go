package login

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Password policy for passwords an operator chooses (central's adduser,
// the appliance's VEEDEL_ADMIN_PASSWORD), after OWASP ASVS 4.0 V2.1 and
// NIST SP 800-63B: length is what counts, no composition rules, any
// printable character, spaces included; a password that is the login
// name or on the list of the most common long passwords is refused.
// The demo's well-known logins (demo/demo, admin/admin) are created in
// code, not through these entry points.
const (
	MinPasswordLength = 12  // characters, not bytes
	MaxPasswordLength = 128 // bcrypt reads 72 bytes; longer is refused, not cut silently
)

// CheckNewPassword says, in German and English, what is wrong with a
// password an operator chose for the login name, or returns nil.
func CheckNewPassword(name, password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return fmt.Errorf("das Passwort ist kein gültiges UTF-8 / the password is not valid UTF-8")
	case n < MinPasswordLength:
		return fmt.Errorf("das Passwort braucht mindestens %d Zeichen (es hat %d); ein Satz aus mehreren Wörtern ist gut / the password needs at least %d characters (it has %d); a phrase of several words is good", MinPasswordLength, n, MinPasswordLength, n)
	case len(password) > 72 || n > MaxPasswordLength:
		return fmt.Errorf("das Passwort darf höchstens 72 Bytes lang sein / the password may be at most 72 bytes long")
	case strings.ContainsFunc(password, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("das Passwort enthält ein Steuerzeichen / the password contains a control character")
	case name != "" && strings.Contains(strings.ToLower(password), strings.ToLower(name)) && n < len(name)+MinPasswordLength:
		return fmt.Errorf("das Passwort darf nicht im Wesentlichen der Login-Name sein / the password must not be mostly the login name")
	case commonPasswords[strings.ToLower(password)]:
		return fmt.Errorf("dieses Passwort ist zu bekannt; bitte ein anderes wählen / this password is too common; please choose another")
	case repetitive(password):
		return fmt.Errorf("das Passwort wiederholt nur wenige Zeichen; bitte ein anderes wählen / the password repeats only a few characters; please choose another")
	}
	return nil
}

// repetitive reports passwords of at most three distinct characters
// ("aaaaaaaaaaaa", "abababababab").
func repetitive(password string) bool {
	seen := map[rune]bool{}
	for _, r := range password {
		seen[r] = true
	}
	return len(seen) <= 3
}

// commonPasswords are long passwords that lead breach lists and German
// password statistics (lower-cased). A full breached-password corpus is
// too large for an appliance image; this list catches the obvious.
var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range strings.Fields(`
		123456789012 1234567890123 12345678901234 123456789000 098765432121
		qwertyuiopas qwertzuiopas qwertzuiopü qwertyuiop123 qwertz123456 qwerty123456
		1q2w3e4r5t6y 1q2w3e4r5t6z q1w2e3r4t5y6 1qaz2wsx3edc asdfghjkl123 asdfghjklöä
		password1234 password123! passwort1234 passwort123! passwortpasswort
		hallo1234567 hallohallo12 schatzschatz geheimgeheim geheim123456
		iloveyou1234 ichliebedich ichliebedich1 sommer123456 winter123456
		willkommen12 willkommen123 willkommen2026 administrator admin1234567
		adminadmin12 letmein12345 welcome12345 changeme1234 passw0rd1234
		fussball1234 borussia1909 schalke04123 bayernmuenchen bayernmünchen
		koeln1234567 köln12345678 stadtkoeln12 stadtköln123 veedelveedel
		abcdefghijkl abcdefgh1234 a1b2c3d4e5f6 aaaaaaaaaaa1 000000000000
	`) {
		m[p] = true
	}
	return m
}()
