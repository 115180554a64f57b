package login

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Throttling password guesses. The same rules hold on every login of
// Veedel: the desk form and the site API's HTTP Basic auth at an
// appliance, the admin form and the admin API's HTTP Basic auth at
// central. The rules (docs/ARCHITECTURE.md, "Security", says the same):
//
//   - Per client (its IP address; IPv6 by its /64): after ClientFree
//     failures the client is locked out for FirstDelay; each further
//     failure doubles the lock, at most ClientMax. The lock holds for
//     every name the client tries: one machine cannot spray guesses over
//     many accounts.
//   - Per account (the name tried, known or not, so that locks do not tell
//     which names exist): after AccountFree failures from anywhere, the
//     account is locked for FirstDelay, doubled by each further failure, at most
//     AccountMax (short: minutes, not hours), and the lock applies only
//     to unknown clients. A client that has logged in to the account
//     before (in the last KnownFor) is never locked out by failures of
//     other clients: the clerk at her counter on Monday logs in while
//     someone else on the LAN hammers her name. Only her own machine's
//     failures (the per-client rule) slow her down.
//   - Failures are forgotten after Forget without a new one; a success
//     does not reset the counters (an attacker with an account of his own
//     could otherwise clear his slate between guesses).
//   - A throttled attempt is refused before the password is looked at: no
//     bcrypt runs, nothing is counted, and the caller gets a
//     *ThrottledError with the wait (429 + Retry-After on the API paths,
//     a message on the forms). Attempts in flight count too, so a burst
//     of parallel requests gets no more guesses than a sequence.
//
// Counters and locks live in memory: a restart of an appliance is a
// reboot of the box, and an attacker who can reboot it has it in his
// hands anyway; a restart of central is an operator's act. What must
// survive is on disk through the Journal: every failure and lock (for
// admins to read) and the clients that logged in successfully (so a
// reboot during an attack does not turn every clerk into an unknown
// client).

// Policy are the throttle's numbers.
type Policy struct {
	ClientFree  int           // failures a client may make before it is locked
	AccountFree int           // failures on an account before it is locked for unknown clients
	FirstDelay  time.Duration // the first lock; every further failure doubles it
	ClientMax   time.Duration // a client's longest lock
	AccountMax  time.Duration // an account's longest lock (unknown clients only)
	Forget      time.Duration // failures are forgotten after this long without one
	KnownFor    time.Duration // how long a successful login makes a client known to the account
}

// DefaultPolicy: five free failures per client, ten per account; locks of
// 30 s doubling to 15 min per client and to 5 min per account; forgotten
// after an hour of quiet; a client stays known for 90 days.
var DefaultPolicy = Policy{
	ClientFree: 5, AccountFree: 10,
	FirstDelay: 30 * time.Second, ClientMax: 15 * time.Minute, AccountMax: 5 * time.Minute,
	Forget: time.Hour, KnownFor: 90 * 24 * time.Hour,
}

// accountKey is the counter key of a name: a long one (no account has
// it) by its hash, so that the map stays small.
func accountKey(name string) string {
	if len(name) <= 64 {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return string(sum[:])
}

// counter is one client's or account's failures.
type counter struct {
	fails   int
	pending int       // attempts let through and not finished
	until   time.Time // locked until
	last    time.Time // last failure
}

// maxTracked bounds each map; above it, counters not needed any more are
// dropped.
const maxTracked = 10000

// Guard throttles logins (see the rules above). Create it with NewGuard;
// it is safe for concurrent use.
type Guard struct {
	policy  Policy
	journal Journal
	now     func() time.Time
	log     *slog.Logger

	mu       sync.Mutex
	clients  map[string]*counter
	accounts map[string]*counter
	known    map[[2]string]time.Time // (name, client) -> last remembered in the journal
}

// NewGuard returns a Guard with the policy, writing to journal; now nil is
// time.Now, log nil slog.Default().
func NewGuard(p Policy, journal Journal, now func() time.Time, log *slog.Logger) *Guard {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Guard{policy: p, journal: journal, now: now, log: log,
		clients: map[string]*counter{}, accounts: map[string]*counter{}, known: map[[2]string]time.Time{}}
}

// get returns the live counter of key, forgetting an old one.
func (g *Guard) get(m map[string]*counter, key string, now time.Time) *counter {
	c := m[key]
	if c != nil && c.pending == 0 && now.Sub(c.last) > g.policy.Forget && !now.Before(c.until) {
		c = nil
	}
	if c == nil {
		if len(m) >= maxTracked {
			g.prune(m, now)
		}
		c = &counter{}
		m[key] = c
	}
	return c
}

func (g *Guard) prune(m map[string]*counter, now time.Time) {
	for k, c := range m {
		if c.pending == 0 && now.Sub(c.last) > g.policy.Forget && !now.Before(c.until) {
			delete(m, k)
		}
	}
}

// wait is how long c refuses another attempt: its lock, or a second while
// the attempts in flight use up what it allows.
func (c *counter) wait(free int, now time.Time) time.Duration {
	if now.Before(c.until) {
		return c.until.Sub(now)
	}
	if c.pending >= max(free-c.fails, 1) {
		return time.Second
	}
	return 0
}

// fail counts a failure and reports whether it started a lock.
func (c *counter) fail(free int, first, most time.Duration, now time.Time) bool {
	c.fails++
	c.last = now
	if c.fails < free {
		return false
	}
	d := first
	for i := free; i < c.fails && d < most; i++ {
		d *= 2
	}
	c.until = now.Add(min(d, most))
	return true
}

// Login runs check (the store's password check: nil, ErrWrongPassword,
// ErrUnknownName or another error) for a, unless a is throttled, and counts,
// logs and records its outcome. It returns check's error, or a
// *ThrottledError without calling check.
func (g *Guard) Login(ctx context.Context, a Attempt, check func() error) error {
	now := g.now()
	client := ClientOf(a.Client)
	p := g.policy

	// Is the account locked? Then whether the client is known to it
	// decides, and that may need the journal: asked outside the lock.
	account := accountKey(a.Name)
	g.mu.Lock()
	accountWait := g.get(g.accounts, account, now).wait(p.AccountFree, now)
	g.mu.Unlock()
	known := false
	if accountWait > 0 {
		known = g.isKnown(ctx, a.Name, client, now)
	}

	g.mu.Lock()
	cc, ac := g.get(g.clients, client, now), g.get(g.accounts, account, now)
	wait := cc.wait(p.ClientFree, now)
	if !known {
		wait = max(wait, ac.wait(p.AccountFree, now))
	}
	if wait > 0 {
		g.mu.Unlock()
		return throttled(wait)
	}
	cc.pending++
	ac.pending++
	g.mu.Unlock()

	err := check()

	var bad *badLogin
	failed := errors.As(err, &bad)
	g.mu.Lock()
	cc.pending--
	ac.pending--
	var clientLock, accountLock time.Time
	if failed {
		if cc.fail(p.ClientFree, p.FirstDelay, p.ClientMax, now) {
			clientLock = cc.until
		}
		if ac.fail(p.AccountFree, p.FirstDelay, p.AccountMax, now) {
			accountLock = ac.until
		}
	}
	g.mu.Unlock()

	switch {
	case err == nil:
		g.remember(ctx, a.Name, client, now)
	case failed:
		f := Failure{At: now, Name: a.Name, Client: client, Via: a.Via, Reason: ReasonPassword}
		if bad.unknownName {
			f.Name, f.Reason = "", ReasonUnknownName
		}
		g.record(ctx, f)
		if !clientLock.IsZero() {
			f.Reason, f.Until = ReasonLockedClient, clientLock
			g.record(ctx, f)
		}
		if !accountLock.IsZero() && !bad.unknownName {
			f.Reason, f.Until = ReasonLockedAccount, accountLock
			g.record(ctx, f)
		}
	}
	return err
}

// record logs a failure (name and reason: no address, no password) and
// stores it for admins.
func (g *Guard) record(ctx context.Context, f Failure) {
	args := []any{"name", f.Name, "reason", f.Reason, "via", f.Via}
	if !f.Until.IsZero() {
		args = append(args, "until", f.Until.UTC().Format(time.RFC3339))
	}
	g.log.Warn("login refused", args...)
	if err := g.journal.RecordLoginFailure(context.WithoutCancel(ctx), f); err != nil {
		g.log.Error("login: record failure", "err", err)
	}
}

func (g *Guard) isKnown(ctx context.Context, name, client string, now time.Time) bool {
	g.mu.Lock()
	at, ok := g.known[[2]string{name, client}]
	g.mu.Unlock()
	if ok && now.Sub(at) < g.policy.KnownFor {
		return true
	}
	known, err := g.journal.KnownLoginClient(ctx, name, client, now.Add(-g.policy.KnownFor))
	if err != nil {
		g.log.Error("login: known client", "err", err)
	}
	return known
}

// rememberEvery is how often a client's repeated logins (HTTP Basic on
// every request) are written to the journal.
const rememberEvery = time.Hour

func (g *Guard) remember(ctx context.Context, name, client string, now time.Time) {
	key := [2]string{name, client}
	g.mu.Lock()
	at, ok := g.known[key]
	if ok && now.Sub(at) < rememberEvery {
		g.mu.Unlock()
		return
	}
	if len(g.known) >= maxTracked {
		clear(g.known)
	}
	g.known[key] = now
	g.mu.Unlock()
	if err := g.journal.RememberLoginClient(context.WithoutCancel(ctx), name, client, now); err != nil {
		g.log.Error("login: remember client", "err", err)
	}
}

// String describes the policy in one line (for start-up logs and docs).
func (p Policy) String() string {
	return fmt.Sprintf("client: %d free, then %s doubling to %s; account: %d free, then %s doubling to %s for unknown clients; forgotten after %s",
		p.ClientFree, p.FirstDelay, p.ClientMax, p.AccountFree, p.FirstDelay, p.AccountMax, p.Forget)
}
