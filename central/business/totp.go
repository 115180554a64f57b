package business

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// TOTP (RFC 6238 over RFC 4226): HMAC-SHA1, 30-second steps, 6 digits,
// the step before and after accepted for clocks a little off. A code is
// good once: the store keeps the last step used per user (UseTOTPStep).

const (
	totpStep   = 30 * time.Second
	totpDigits = 1_000_000
)

// NewTOTPSecret returns 20 random bytes (160 bits, RFC 4226's
// recommendation).
func NewTOTPSecret() []byte {
	b := make([]byte, 20)
	rand.Read(b)
	return b
}

// TOTPText is the secret as people type it into an authenticator app
// (base32 without padding).
func TOTPText(secret []byte) string {
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
}

// TOTPURL is the otpauth:// URL an authenticator app reads from a QR code.
func TOTPURL(issuer, account string, secret []byte) string {
	v := url.Values{"secret": {TOTPText(secret)}, "issuer": {issuer}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}
	return "otpauth://totp/" + url.PathEscape(issuer+":"+account) + "?" + v.Encode()
}

// TOTPCode is the code of secret at time step n.
func TOTPCode(secret []byte, n int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(n))
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%totpDigits)
}

// TOTPStep is the time step of t.
func TOTPStep(t time.Time) int64 { return t.Unix() / int64(totpStep/time.Second) }

// MatchTOTP returns the step (now's, or one either side) whose code is
// code, or 0. Spaces in code do not matter.
func MatchTOTP(secret []byte, code string, now time.Time) int64 {
	code = strings.ReplaceAll(code, " ", "")
	if len(code) != 6 {
		return 0
	}
	n := TOTPStep(now)
	for _, s := range []int64{n, n - 1, n + 1} {
		if hmac.Equal([]byte(TOTPCode(secret, s)), []byte(code)) {
			return s
		}
	}
	return 0
}
