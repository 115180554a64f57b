package business

import (
	"testing"
	"time"
)

// TestTOTPRFC6238: the RFC's SHA-1 test vectors (Appendix B), cut to 6
// digits; a step either side is accepted, two are not.
func TestTOTPRFC6238(t *testing.T) {
	secret := []byte("12345678901234567890")
	for _, c := range []struct {
		unix int64
		want string // the RFC's 8 digits, last 6
	}{{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"}, {1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"}} {
		if got := TOTPCode(secret, TOTPStep(time.Unix(c.unix, 0))); got != c.want {
			t.Errorf("at %d: %s, want %s", c.unix, got, c.want)
		}
	}
	now := time.Unix(1111111111, 0)
	n := TOTPStep(now)
	for d, want := range map[int64]bool{-2: false, -1: true, 0: true, 1: true, 2: false} {
		code := TOTPCode(secret, n+d)
		if got := MatchTOTP(secret, code[:3]+" "+code[3:], now) == n+d; got != want {
			t.Errorf("step %+d: matched %v", d, got)
		}
	}
	if MatchTOTP(secret, "12345", now) != 0 || MatchTOTP(secret, "abcdef", now) != 0 {
		t.Error("a malformed code matched")
	}
}

// TestSealBound: a sealed secret opens only for its own row.
func TestSealBound(t *testing.T) {
	key := make([]byte, 32)
	sealed, err := Seal(key, TOTPAAD("a", "anna"), []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Open(key, TOTPAAD("a", "anna"), sealed); err != nil || string(got) != "secret" {
		t.Errorf("%q %v", got, err)
	}
	if _, err := Open(key, TOTPAAD("a", "bert"), sealed); err == nil {
		t.Error("opened for another user")
	}
}
