package notify

import (
	"errors"
	"strings"
)

// Errors of NormalizeMobile; the kiosk shows each in the citizen's language.
var (
	ErrMalformed = errors.New("notify: not a phone number")
	ErrLandline  = errors.New("notify: not a mobile number")
)

// NormalizeMobile turns what a citizen typed into an E.164 number:
// "0151 2345 6789" and "0049 151 23456789" become "+4915123456789".
// Spaces, dashes, slashes, dots and parentheses are ignored, and so is
// the "(0)" of "+49 (0)151 …". A German
// number must be a mobile one (+49 15x, 16x or 17x with 10 or 11 digits
// after the country code); others are ErrLandline. A foreign number is
// accepted when it has 8 to 15 digits (its mobile ranges are not known
// here).
func NormalizeMobile(typed string) (string, error) {
	// "+49 (0)151 …" is common German notation: the (0) is not dialled.
	typed = strings.Replace(strings.TrimSpace(typed), "(0)", "", 1)
	var b strings.Builder
	for i, r := range typed {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '/' || r == '.' || r == '(' || r == ')' || r == '\u00a0':
		default:
			return "", ErrMalformed
		}
	}
	n := b.String()
	switch {
	case strings.HasPrefix(n, "+"):
	case strings.HasPrefix(n, "00"):
		n = "+" + n[2:]
	case strings.HasPrefix(n, "0"):
		n = "+49" + n[1:]
	default:
		return "", ErrMalformed
	}
	digits := n[1:]
	if len(digits) < 8 || len(digits) > 15 || digits[0] == '0' {
		return "", ErrMalformed
	}
	if national, ok := strings.CutPrefix(digits, "49"); ok {
		if national == "" || national[0] != '1' {
			return "", ErrLandline
		}
		if !strings.HasPrefix(national, "15") && !strings.HasPrefix(national, "16") && !strings.HasPrefix(national, "17") {
			return "", ErrLandline
		}
		if len(national) < 10 || len(national) > 11 {
			return "", ErrMalformed
		}
	}
	return n, nil
}

// Mask shows a phone number the way logs and screens may: the country
// code (for Germany also the network prefix) and the last four digits,
// "+49 151 ****6789". Short or odd input is masked entirely.
func Mask(number string) string {
	digits, ok := strings.CutPrefix(number, "+")
	if !ok || len(digits) < 8 {
		return "****"
	}
	last := digits[len(digits)-4:]
	if national, ok := strings.CutPrefix(digits, "49"); ok {
		return "+49 " + national[:3] + " ****" + last
	}
	return "+" + digits[:2] + " ****" + last
}
