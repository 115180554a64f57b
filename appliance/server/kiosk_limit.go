package server

import (
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/veedel/veedel/internal/login"
)

// Anonymous issuing is limited per client: a token bucket per remote
// address. Paired kiosks (pairing.go) and staff are not limited; an
// unpaired browser on /kiosk and a POST /api/v1/tickets without
// credentials are. The address is the TCP peer's: the appliance serves
// its LAN directly, so X-Forwarded-For (anyone can send it) is ignored.
// IPv6 clients are keyed by their /64, which one device can fill with
// addresses of its own.

// Limits of anonymous clients. issueLimit: six tickets at once (a family,
// a retry), then one every 20 seconds: an unpaired kiosk at a quiet site
// still works, a script gets 180 an hour instead of 1,405 a minute.
// pairLimit bounds guessing of pairing codes: five tries, then one a
// minute, against 2^40 codes that live 15 minutes.
var (
	issueLimit = limit{burst: 6, every: 20 * time.Second}
	pairLimit  = limit{burst: 5, every: time.Minute}
)

// maxClients bounds a limiter's memory; past it, clients not seen before
// share one bucket (see limiter.allow).
const maxClients = 4096

type limit struct {
	burst float64
	every time.Duration
}

// limiter is a token bucket per client key. It is safe for concurrent use.
type limiter struct {
	limit
	mu       sync.Mutex
	buckets  map[string]*bucket
	overflow bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(l limit) *limiter {
	return &limiter{limit: l, buckets: map[string]*bucket{}, overflow: bucket{tokens: l.burst}}
}

// refill brings b's tokens up to now.
func (l *limiter) refill(b *bucket, now time.Time) {
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+float64(elapsed)/float64(l.every))
	}
	b.at = now
}

// allow takes one token from key's bucket. When there is none it returns
// false and how long until there is one. With maxClients buckets in
// memory, buckets that have filled up again (idle clients: the same as
// none) are dropped; if all are still in use, a new client shares the
// overflow bucket, so a flood of addresses costs memory no more than
// maxClients and issues no more than one client.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxClients {
			for k, old := range l.buckets {
				if l.refill(old, now); old.tokens >= l.burst {
					delete(l.buckets, k)
				}
			}
		}
		if len(l.buckets) < maxClients {
			b = &bucket{tokens: l.burst, at: now}
			l.buckets[key] = b
		} else {
			b = &l.overflow
		}
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) * float64(l.every))
	return false, wait
}

// clientKey is the limiter's key for a request: the peer's IP address, or
// its /64 for IPv6, as the login throttle keys clients.
func clientKey(r *http.Request) string { return login.ClientOf(r.RemoteAddr) }

// retryAfter is the Retry-After header's value for wait: whole seconds,
// at least one.
func retryAfter(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}
