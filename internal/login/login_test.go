package login_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/veedel/veedel/internal/login"
	"golang.org/x/crypto/bcrypt"
)

func TestChecker(t *testing.T) {
	hash, err := login.HashPassword("geheim")
	if err != nil {
		t.Fatal(err)
	}
	var c login.Checker
	now := time.Now()
	if !c.Check("anna", "geheim", hash, now) {
		t.Fatal("right password refused")
	}
	if c.Check("anna", "falsch", hash, now) {
		t.Fatal("wrong password accepted")
	}
	// Remembered: even a garbage stored hash passes within the TTL only if
	// it is the same hash, so a changed hash is checked again.
	other, _ := login.HashPassword("neu")
	if c.Check("anna", "geheim", other, now) {
		t.Error("old password accepted against a changed hash")
	}
	if !c.Check("anna", "geheim", hash, now.Add(login.CheckTTL-time.Second)) {
		t.Error("remembered check refused within the TTL")
	}
}

func TestSession(t *testing.T) {
	a, ha := login.NewSession()
	b, _ := login.NewSession()
	if a == b || len(a) < 43 {
		t.Fatalf("session tokens %q and %q: want distinct 256-bit tokens", a, b)
	}
	if !bytes.Equal(ha, login.SessionHash(a)) || bytes.Contains(ha, []byte(a)) {
		t.Error("stored hash does not match its token, or contains it")
	}
}

// TestHashCost: outside FastHashesForTests (this package's tests do not
// call it) hashes use bcrypt's default cost, as production does.
func TestHashCost(t *testing.T) {
	hash, err := login.HashPassword("geheim")
	if err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost([]byte(hash)); err != nil || cost != bcrypt.DefaultCost {
		t.Errorf("cost = %d (%v), want %d", cost, err, bcrypt.DefaultCost)
	}
}
