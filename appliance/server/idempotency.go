package server

import (
	"unicode/utf8"

	"github.com/veedel/veedel"
)

// MaxIdempotencyKey bounds the Idempotency-Key of the API and the kiosk
// form's key (kiosks send "kiosk-" and a random token, about 30
// characters): each is stored with its ticket for the day.
const MaxIdempotencyKey = 128

// checkIdempotencyKey refuses a key longer than MaxIdempotencyKey or with
// control characters.
func checkIdempotencyKey(key string) error {
	if n := utf8.RuneCountInString(key); n > MaxIdempotencyKey {
		return veedel.Errorf(veedel.EINVALID, "Idempotency-Key ist %d Zeichen lang, höchstens %d sind erlaubt / Idempotency-Key is %d characters long, at most %d are allowed", n, MaxIdempotencyKey, n, MaxIdempotencyKey)
	}
	return veedel.CheckText("Idempotency-Key", "Idempotency-Key", key)
}
