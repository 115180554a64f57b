// Package vehicle is online vehicle registration (i-Kfz): applications
// decided at the registration office, plates owned by central. This file
// holds the shape checks of what an application names, each returning the
// message for the field at fault ("" when it holds), in German with
// English after a slash like the API's other field errors.
package vehicle

import (
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// normal removes the spaces and hyphens people type in identifiers and
// makes letters upper case.
func normal(s string) string {
	return strings.ToUpper(strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\u00a0' {
			return -1
		}
		return r
	}, s))
}

// CheckFIN checks a vehicle identification number (FIN/VIN, ISO 3779):
// 17 characters, digits and capital letters without I, O and Q (they are
// read as 1 and 0). European FINs carry no check digit, so none is asked.
func CheckFIN(fin string) string {
	f := normal(fin)
	switch {
	case f == "":
		return "Pflichtangabe / required"
	case len(f) != 17:
		return "Die FIN hat 17 Zeichen (Feld E im Fahrzeugschein) / the VIN has 17 characters"
	case strings.ContainsAny(f, "IOQ"):
		return "Die FIN enthält kein I, O oder Q (gemeint ist wohl 1 oder 0) / a VIN has no I, O or Q (1 or 0 are meant)"
	}
	for _, r := range f {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z') {
			return "Nur Ziffern und Großbuchstaben / digits and capital letters only"
		}
	}
	return ""
}

// ibanLengths are the IBAN lengths of the SEPA countries a German vehicle
// tax mandate may name.
var ibanLengths = map[string]int{
	"AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20,
	"ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26,
	"IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28,
	"PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "VA": 22,
}

// CheckIBAN checks an IBAN for a SEPA direct-debit mandate: a SEPA
// country, its length, and the check digits (ISO 13616, mod 97 = 1).
func CheckIBAN(iban string) string {
	s := normal(iban)
	if s == "" {
		return "Pflichtangabe / required"
	}
	if len(s) < 5 {
		return "IBAN zu kurz / IBAN too short"
	}
	want, ok := ibanLengths[s[:2]]
	if !ok {
		return "Kein SEPA-Land am Anfang der IBAN (z. B. DE) / no SEPA country at the start (e.g. DE)"
	}
	if len(s) != want {
		return "Eine IBAN aus " + s[:2] + " hat " + strconv.Itoa(want) + " Zeichen / an IBAN from " + s[:2] + " has " + strconv.Itoa(want) + " characters"
	}
	var digits strings.Builder
	for _, r := range s[4:] + s[:4] {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			digits.WriteString(strconv.Itoa(int(r-'A') + 10))
		default:
			return "Nur Ziffern und Buchstaben / digits and letters only"
		}
	}
	n, _ := new(big.Int).SetString(digits.String(), 10)
	if new(big.Int).Mod(n, big.NewInt(97)).Int64() != 1 {
		return "Prüfziffer stimmt nicht: bitte die IBAN noch einmal abschreiben / check digits do not match: please copy the IBAN again"
	}
	return ""
}

// CheckEVB checks the insurer's electronic confirmation of insurance
// (eVB-Nummer): 7 characters, letters and digits.
func CheckEVB(evb string) string {
	e := normal(evb)
	switch {
	case e == "":
		return "Pflichtangabe: die eVB-Nummer Ihrer Versicherung / required: your insurer's eVB number"
	case len(e) != 7:
		return "Die eVB-Nummer hat 7 Zeichen / the eVB number has 7 characters"
	}
	for _, r := range e {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z') {
			return "Nur Ziffern und Buchstaben / digits and letters only"
		}
	}
	return ""
}

var (
	// The document number of a Zulassungsbescheinigung Teil I (since
	// 2005): two letters and seven digits, optionally a checking letter.
	zb1Pattern = regexp.MustCompile(`^[A-Z]{2}[0-9]{7}[A-Z]?$`)
	// Teil II: two letters and seven digits.
	zb2Pattern = regexp.MustCompile(`^[A-Z]{2}[0-9]{7}$`)
	// The security codes revealed under the seals (i-Kfz): Teil I's
	// 7 characters, Teil II's 12.
	code1Pattern = regexp.MustCompile(`^[A-Z0-9]{7}$`)
	code2Pattern = regexp.MustCompile(`^[A-Z0-9]{12}$`)
)

// CheckZB checks the number of a Zulassungsbescheinigung Teil I (part 1)
// or Teil II (part 2).
func CheckZB(part int, number string) string {
	n := normal(number)
	if n == "" {
		return "Pflichtangabe / required"
	}
	if (part == 1 && !zb1Pattern.MatchString(n)) || (part == 2 && !zb2Pattern.MatchString(n)) {
		return "Zwei Buchstaben und sieben Ziffern, wie auf dem Dokument oben rechts / two letters and seven digits, as at the document's top right"
	}
	return ""
}

// CheckSecurityCode checks a code revealed under a document's seal.
func CheckSecurityCode(part int, code string) string {
	c := normal(code)
	switch {
	case c == "":
		return "Pflichtangabe: der Code unter der Siegelplakette / required: the code under the seal"
	case part == 1 && !code1Pattern.MatchString(c):
		return "Der Sicherheitscode von Teil I hat 7 Zeichen / the security code of part I has 7 characters"
	case part == 2 && !code2Pattern.MatchString(c):
		return "Der Sicherheitscode von Teil II hat 12 Zeichen / the security code of part II has 12 characters"
	}
	return ""
}

// Plate is a Cologne number plate: the distinguishing sign K, one or two
// letters, one to four digits.
type Plate struct {
	Letters string
	Digits  string
}

func (p Plate) String() string { return "K-" + p.Letters + " " + p.Digits }

// DefaultBlocked are letter combinations Cologne does not issue (those
// reminding of Nazi organisations, and the like).
var DefaultBlocked = []string{"HJ", "KZ", "NS", "SA", "SS"}

var platePattern = regexp.MustCompile(`^K[ -]?([A-Z]{1,2})[ -]?([1-9][0-9]{0,3})$`)

// ParsePlate reads a plate as people write it ("K-AB 123", "K AB123",
// "k-ab-123") and checks Cologne's format: the sign K, 1–2 letters, 1–4
// digits without a leading zero, at most 8 characters in all (without the
// separators), no blocked combination. It returns the plate or the reason.
func ParsePlate(s string, blocked []string) (Plate, string) {
	up := strings.ToUpper(strings.TrimSpace(s))
	up = strings.Join(strings.FieldsFunc(up, unicode.IsSpace), " ")
	m := platePattern.FindStringSubmatch(up)
	if m == nil {
		switch {
		case up == "":
			return Plate{}, "Pflichtangabe / required"
		case !strings.HasPrefix(up, "K"):
			return Plate{}, "Kölner Kennzeichen beginnen mit K / Cologne plates start with K"
		default:
			return Plate{}, "Form: K, 1–2 Buchstaben, 1–4 Ziffern ohne führende Null, z. B. K-AB 123 / form: K, 1–2 letters, 1–4 digits without a leading zero, e.g. K-AB 123"
		}
	}
	p := Plate{Letters: m[1], Digits: m[2]}
	if 1+len(p.Letters)+len(p.Digits) > 8 {
		return Plate{}, "Höchstens 8 Zeichen / at most 8 characters"
	}
	for _, b := range blocked {
		if p.Letters == b {
			return Plate{}, "Diese Buchstabenfolge wird nicht vergeben / this combination is not issued"
		}
	}
	return p, ""
}
