package login

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/veedel/veedel"
)

// What a login attempt is, how it fails, and what is recorded of it.

// Reasons of a Failure.
const (
	ReasonPassword      = "password"       // a wrong password for an existing account
	ReasonUnknownName   = "unknown_name"   // a name no account has (the name is not recorded)
	ReasonLockedClient  = "locked_client"  // the client is locked out until Until
	ReasonLockedAccount = "locked_account" // the account is locked for unknown clients until Until
)

// Failure is a failed login or a lock, as admins see it. It never holds
// the password, nor the name tried when no account has it: people type
// their password into the name field.
type Failure struct {
	At     time.Time `json:"at"`
	Name   string    `json:"name"`   // the account; "" for an unknown name
	Client string    `json:"client"` // the client's address (IPv6: its /64)
	Via    string    `json:"via"`    // ViaForm or ViaBasic
	Reason string    `json:"reason"` // Reason…
	Until  time.Time `json:"until,omitzero"`
}

// How a login came.
const (
	ViaForm  = "form"
	ViaBasic = "basic"
)

// Attempt is one login attempt.
type Attempt struct {
	Name     string
	Password string
	Client   string // the request's remote address (host:port or host)
	Via      string // ViaForm or ViaBasic
}

// Journal keeps what must outlive the process; each store implements it.
type Journal interface {
	// RecordLoginFailure stores a failure or lock for admins.
	RecordLoginFailure(ctx context.Context, f Failure) error
	// KnownLoginClient reports whether client logged in to name at or
	// after since.
	KnownLoginClient(ctx context.Context, name, client string, since time.Time) (bool, error)
	// RememberLoginClient records a successful login of name from client.
	RememberLoginClient(ctx context.Context, name, client string, at time.Time) error
}

var errBadLogin = veedel.Errorf(veedel.EUNAUTHORIZED, "Benutzername oder Passwort falsch / wrong user name or password")

// badLogin is a refused password: one message and code for both kinds, so
// that names cannot be probed; the Guard tells them apart.
type badLogin struct{ unknownName bool }

func (e *badLogin) Error() string { return errBadLogin.Error() }
func (e *badLogin) Unwrap() error { return errBadLogin }

// The errors a store's password check returns: both EUNAUTHORIZED with
// the same message.
var (
	ErrWrongPassword error = &badLogin{}
	ErrUnknownName   error = &badLogin{unknownName: true}
)

// ThrottledError refuses an attempt without checking it.
type ThrottledError struct {
	Wait time.Duration
	err  *veedel.Error
}

func (e *ThrottledError) Error() string { return e.err.Error() }

// Unwrap gives the message and EUNAVAILABLE ("retry later"), for callers
// that know nothing of throttling; HTTP handlers answer 429 (RetryAfter).
func (e *ThrottledError) Unwrap() error { return e.err }

// Seconds is the wait in whole seconds, rounded up, at least 1: the
// Retry-After value.
func (e *ThrottledError) Seconds() int {
	return int((e.Wait + time.Second - 1) / time.Second)
}

func throttled(wait time.Duration) *ThrottledError {
	e := &ThrottledError{Wait: wait}
	if e.Seconds() < 1 {
		e.Wait = time.Second
	}
	n, de, en := WaitText(e.Wait)
	e.err = veedel.Errorf(veedel.EUNAVAILABLE, "Zu viele Fehlversuche: bitte in %d %s erneut versuchen / too many failed logins: try again in %d %s", n, de, n, en)
	return e
}

// WaitText says a wait the way people do: n seconds below two minutes,
// else n minutes (rounded up), with the German and English unit.
func WaitText(d time.Duration) (n int, de, en string) {
	if d < 2*time.Minute {
		n = int((d + time.Second - 1) / time.Second)
		if n == 1 {
			return 1, "Sekunde", "second"
		}
		return n, "Sekunden", "seconds"
	}
	return int((d + time.Minute - 1) / time.Minute), "Minuten", "minutes"
}

// RetryAfter returns the throttle in err's chain, if any.
func RetryAfter(err error) (*ThrottledError, bool) {
	var t *ThrottledError
	ok := errors.As(err, &t)
	return t, ok
}

// ClientOf is the client key of a remote address: the IP (IPv6: its /64,
// which one machine can fill at will), or the address as given.
func ClientOf(remoteAddr string) string {
	host := remoteAddr
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
