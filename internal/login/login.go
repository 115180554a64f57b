// Package login owns how Veedel checks staff passwords and keeps login
// sessions, for the appliance's desk and central's admin pages alike:
// bcrypt hashes, a short-lived memory of successful checks (so HTTP Basic
// clients do not pay for bcrypt on every request), constant work for
// unknown names, session tokens of which only a hash is stored, and the
// throttle on password guesses with its record of failed logins
// (throttle.go, attempt.go; the SQL journal is loginsql).
package login

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// CheckTTL is how long a successful password check is remembered.
const CheckTTL = 5 * time.Minute

// hashCost is bcrypt's cost for new hashes (and for the stand-in hash
// that unknown names are checked against, so both take as long).
var hashCost = bcrypt.DefaultCost

// FastHashesForTests makes new hashes use bcrypt's minimum cost. Test
// binaries call it (an init in a _test.go file): under the race detector
// one hash or check at the default cost takes about 0.9 s of CPU against
// 60 ms without, and the tests log in hundreds of times. It panics outside
// a test binary, so no production build can lower the cost.
func FastHashesForTests() {
	if !testing.Testing() {
		panic("login: FastHashesForTests outside a test binary")
	}
	hashCost = bcrypt.MinCost
}

// HashPassword returns the bcrypt hash to store for a password.
func HashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), hashCost)
	return string(h), err
}

// Checker verifies passwords against stored hashes. The zero value is
// ready to use and safe for concurrent use.
type Checker struct {
	mu     sync.Mutex
	passed map[[32]byte]time.Time // key -> expiry
}

// Check reports whether password matches the stored hash of name. A
// success is remembered for CheckTTL, keyed by name, password and the
// stored hash, so that a password changed elsewhere (another process)
// takes effect at the next check.
func (c *Checker) Check(name, password, storedHash string, now time.Time) bool {
	key := sha256.Sum256([]byte(name + "\x00" + password + "\x00" + storedHash))
	c.mu.Lock()
	exp, ok := c.passed[key]
	c.mu.Unlock()
	if ok && now.Before(exp) {
		return true
	}
	bcryptRuns.Add(1)
	if bcrypt.CompareHashAndPassword([]byte(storedHash), []byte(password)) != nil {
		return false
	}
	c.mu.Lock()
	if c.passed == nil || len(c.passed) > 1000 {
		c.passed = map[[32]byte]time.Time{}
	}
	c.passed[key] = now.Add(CheckTTL)
	c.mu.Unlock()
	return true
}

var bcryptRuns atomic.Uint64

// BcryptRuns counts the password comparisons run since start: what a
// throttle saves (tests assert that a throttled attempt runs none).
func BcryptRuns() uint64 { return bcryptRuns.Load() }

// Unknown spends the time a wrong password costs, for a name that does
// not exist: timing must not tell which names do.
func Unknown(password string) {
	bcryptRuns.Add(1)
	bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
}

var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("veedel-dummy"), hashCost)
	return h
})

// NewSession returns a session cookie value (256 random bits) and the
// hash to store in its place, so a copy of the database cannot log in.
func NewSession() (token string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, SessionHash(token)
}

// SessionHash is what is stored for a session cookie value.
func SessionHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
