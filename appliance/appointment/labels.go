package appointment

import (
	"context"
	"crypto/sha256"
	"strings"
	"time"
	"unicode/utf8"
)

// What the portal's booking pages show of a hold beyond Appt: where the
// code went (masked), when the hold ends and how many attempts are left.
// Nothing here changes state.

// HoldInfo is a live hold as the citizen's code page shows it.
type HoldInfo struct {
	// SentTo is the contact the code went to, masked: "e…@example.de",
	// "…67" for a phone. Never the whole contact.
	SentTo       string
	Email        bool // SentTo is an e-mail address
	Expires      time.Time
	AttemptsLeft int
}

// HoldOf returns the live hold of a citizen's token; false when the token
// names no hold (unknown, confirmed, expired or cancelled).
func (c *Central) HoldOf(ctx context.Context, host Host, token string, now time.Time) (HoldInfo, bool) {
	h := sha256.Sum256([]byte(token))
	r, err := host.AppointmentByToken(ctx, h[:])
	if err != nil || r.Status != StatusHeld || !now.Before(r.Expires) {
		return HoldInfo{}, false
	}
	return HoldInfo{SentTo: r.SentTo, Email: strings.Contains(r.SentTo, "@"), Expires: r.Expires, AttemptsLeft: c.confirmAttempts() - r.Attempts}, true
}

// MaskEmail shows an address's first character and its domain:
// "e…@example.de". Enough for its owner to recognise, too little to
// reach anyone by.
func MaskEmail(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" {
		return "…"
	}
	r, _ := utf8.DecodeRuneInString(local)
	return string(r) + "…@" + domain
}

// MaskPhone shows a number's last two digits: "…67".
func MaskPhone(phone string) string {
	digits := []rune{}
	for _, r := range phone {
		if r >= '0' && r <= '9' {
			digits = append(digits, r)
		}
	}
	if len(digits) < 2 {
		return "…"
	}
	return "…" + string(digits[len(digits)-2:])
}
