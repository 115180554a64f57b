package login_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/internal/login"
)

// journal is an in-memory login.Journal.
type journal struct {
	mu       sync.Mutex
	failures []login.Failure
	known    map[[2]string]time.Time
}

func (j *journal) RecordLoginFailure(_ context.Context, f login.Failure) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.failures = append(j.failures, f)
	return nil
}

func (j *journal) KnownLoginClient(_ context.Context, name, client string, since time.Time) (bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	at, ok := j.known[[2]string{name, client}]
	return ok && !at.Before(since), nil
}

func (j *journal) RememberLoginClient(_ context.Context, name, client string, at time.Time) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.known == nil {
		j.known = map[[2]string]time.Time{}
	}
	j.known[[2]string{name, client}] = at
	return nil
}

func (j *journal) reasons() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []string
	for _, f := range j.failures {
		out = append(out, f.Reason)
	}
	return out
}

// rig is a Guard on a settable clock with a password check that counts
// its runs.
type rig struct {
	t     *testing.T
	now   time.Time
	j     *journal
	g     *login.Guard
	check int
}

func newRig(t *testing.T) *rig {
	r := &rig{t: t, now: time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC), j: &journal{}}
	r.g = login.NewGuard(login.DefaultPolicy, r.j, func() time.Time { return r.now }, nil)
	return r
}

// try logs in as name from client; the password is right when ok.
func (r *rig) try(name, client string, ok bool) error {
	return r.g.Login(context.Background(), login.Attempt{Name: name, Client: client, Via: login.ViaForm}, func() error {
		r.check++
		switch {
		case name == "nobody":
			return login.ErrUnknownName
		case !ok:
			return login.ErrWrongPassword
		}
		return nil
	})
}

func (r *rig) mustThrottle(name, client string, want time.Duration) {
	r.t.Helper()
	before := r.check
	err := r.try(name, client, true)
	th, ok := login.RetryAfter(err)
	if !ok {
		r.t.Fatalf("%s from %s: err %v, want throttled", name, client, err)
	}
	if th.Wait != want {
		r.t.Errorf("%s from %s: wait %s, want %s", name, client, th.Wait, want)
	}
	if r.check != before {
		r.t.Error("a throttled attempt ran the password check")
	}
	if veedel.ErrorCode(err) != veedel.EUNAVAILABLE {
		r.t.Errorf("code %q, want %q for callers that know nothing of throttles", veedel.ErrorCode(err), veedel.EUNAVAILABLE)
	}
}

func TestGuardClientLockGrowsAndEnds(t *testing.T) {
	r := newRig(t)
	p := login.DefaultPolicy
	for i := range p.ClientFree {
		if err := r.try("anna", "10.0.0.66:4711", false); !errors.Is(err, login.ErrWrongPassword) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	r.mustThrottle("anna", "10.0.0.66:5000", p.FirstDelay)
	// The lock is the client's: another name from it waits too.
	r.mustThrottle("bernd", "10.0.0.66:5001", p.FirstDelay)
	r.now = r.now.Add(p.FirstDelay)
	if err := r.try("anna", "10.0.0.66:1", false); !errors.Is(err, login.ErrWrongPassword) {
		t.Fatalf("after the lock: %v", err)
	}
	r.mustThrottle("anna", "10.0.0.66:1", 2*p.FirstDelay)
	// Growing, but capped.
	for range 10 {
		r.now = r.now.Add(p.ClientMax)
		r.try("anna", "10.0.0.66:1", false)
	}
	r.mustThrottle("anna", "10.0.0.66:1", p.ClientMax)
	// The right password works once the lock is over.
	r.now = r.now.Add(p.ClientMax)
	if err := r.try("anna", "10.0.0.66:1", true); err != nil {
		t.Fatalf("right password after the lock: %v", err)
	}
	reasons := r.j.reasons()
	if reasons[0] != login.ReasonPassword || reasons[p.ClientFree] != login.ReasonLockedClient {
		t.Errorf("recorded %v: want failures, then a client lock", reasons)
	}
}

func TestGuardForgetsAfterQuiet(t *testing.T) {
	r := newRig(t)
	p := login.DefaultPolicy
	for range p.ClientFree - 1 {
		r.try("anna", "10.0.0.5", false)
	}
	r.now = r.now.Add(p.Forget + time.Second)
	for range p.ClientFree - 1 {
		r.try("anna", "10.0.0.5", false)
	}
	if err := r.try("anna", "10.0.0.5", true); err != nil {
		t.Fatalf("failures an hour apart add up: %v", err)
	}
}

// The clerk's case: someone on the LAN hammers her name from many
// addresses; her own machine, known from an earlier login, is not locked
// out, not even after a reboot (a new Guard on the same journal); an
// unknown machine waits at most AccountMax per lock.
func TestGuardAccountLockSparesKnownClients(t *testing.T) {
	r := newRig(t)
	p := login.DefaultPolicy
	if err := r.try("anna", "10.0.0.20:1234", true); err != nil {
		t.Fatal(err)
	}
	r.now = r.now.Add(24 * time.Hour)
	r.g = login.NewGuard(p, r.j, func() time.Time { return r.now }, nil) // reboot
	for i := range 200 {
		r.now = r.now.Add(time.Second)
		r.try("anna", fmt.Sprintf("10.0.%d.%d", 1+i/250, i%250), false)
	}
	if err := r.try("anna", "10.0.0.20:999", true); err != nil {
		t.Fatalf("the clerk's own machine during the attack: %v", err)
	}
	// A machine the account has never seen waits, but not long.
	err := r.try("anna", "10.0.0.21", true)
	th, ok := login.RetryAfter(err)
	if !ok || th.Wait > p.AccountMax {
		t.Fatalf("unknown machine: %v, want a wait of at most %s", err, p.AccountMax)
	}
	r.now = r.now.Add(th.Wait)
	if err := r.try("anna", "10.0.0.21", true); err != nil {
		t.Fatalf("unknown machine after the account lock: %v", err)
	}
	// Another account is not affected at all.
	if err := r.try("bernd", "10.0.0.22", true); err != nil {
		t.Fatal(err)
	}
	locks := 0
	for _, reason := range r.j.reasons() {
		if reason == login.ReasonLockedAccount {
			locks++
		}
	}
	if locks == 0 {
		t.Error("no account lock recorded")
	}
}

// Parallel attempts are counted while in flight: the guesses a client
// gets do not grow with the number of connections.
func TestGuardCountsAttemptsInFlight(t *testing.T) {
	r := newRig(t)
	p := login.DefaultPolicy
	for range p.ClientFree - 1 {
		r.try("anna", "10.0.0.7", false)
	}
	var nested error
	err := r.g.Login(context.Background(), login.Attempt{Name: "anna", Client: "10.0.0.7"}, func() error {
		nested = r.try("anna", "10.0.0.7", false) // a second connection, same moment
		return login.ErrWrongPassword
	})
	if !errors.Is(err, login.ErrWrongPassword) {
		t.Fatal(err)
	}
	if _, ok := login.RetryAfter(nested); !ok {
		t.Errorf("attempt beside the last free one: %v, want throttled", nested)
	}
}

func TestGuardRecordsNoUnknownNames(t *testing.T) {
	r := newRig(t)
	for range 20 {
		r.now = r.now.Add(time.Hour)
		r.try("nobody", "10.0.0.8", false)
	}
	for _, f := range r.j.failures {
		if f.Name != "" || f.Reason == login.ReasonLockedAccount {
			t.Fatalf("recorded %+v: an unknown name is neither recorded nor reported locked", f)
		}
	}
	if len(r.j.failures) == 0 || r.j.failures[0].Reason != login.ReasonUnknownName || r.j.failures[0].Client != "10.0.0.8" {
		t.Errorf("recorded %+v", r.j.failures)
	}
}

func TestClientOf(t *testing.T) {
	for in, want := range map[string]string{
		"10.1.2.3:4567":                "10.1.2.3",
		"[::ffff:10.1.2.3]:80":         "10.1.2.3",
		"[2001:db8:1:2:3:4:5:6]:443":   "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:1":     "2001:db8:1:2::/64",
		"[fe80::1%eth0]:8080":          "fe80::/64",
		"pipe":                         "pipe",
		"192.168.178.20":               "192.168.178.20",
		"[2001:db8:1:3::1]:1":          "2001:db8:1:3::/64",
		"[2001:db8:1:2::]:1":           "2001:db8:1:2::/64",
		"[::1]:1":                      "::/64",
		"127.0.0.1:9":                  "127.0.0.1",
		"[2001:db8:0:0:1:2:3:4]:65535": "2001:db8::/64",
	} {
		if got := login.ClientOf(in); got != want {
			t.Errorf("ClientOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestThrottledMessage(t *testing.T) {
	n, de, _ := login.WaitText(30 * time.Second)
	if n != 30 || de != "Sekunden" {
		t.Errorf("30s: %d %s", n, de)
	}
	n, de, _ = login.WaitText(5*time.Minute - time.Second)
	if n != 5 || de != "Minuten" {
		t.Errorf("4m59s: %d %s", n, de)
	}
}

func TestThrottledOneSecond(t *testing.T) {
	if n, de, en := login.WaitText(time.Second); n != 1 || de != "Sekunde" || en != "second" {
		t.Errorf("1s: %d %s %s", n, de, en)
	}
}
