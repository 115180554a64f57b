// Package ratelimit is a token bucket per client, with bounded memory:
// the anonymous issuing at the kiosk and the booking and ordering at
// central's portal are limited with it.
package ratelimit

import (
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/veedel/veedel/internal/login"
)

// MaxClients bounds a limiter's memory; past it, clients not seen before
// share one bucket (see limiter.allow).
const MaxClients = 4096

// Limit is a bucket's size and refill: Burst requests at once, then one
// Every interval.
type Limit struct {
	Burst float64
	Every time.Duration
}

// Limiter is a token bucket per client key. It is safe for concurrent use.
type Limiter struct {
	Limit
	mu       sync.Mutex
	buckets  map[string]*bucket
	overflow bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// New returns a limiter of l.
func New(l Limit) *Limiter {
	return &Limiter{Limit: l, buckets: map[string]*bucket{}, overflow: bucket{tokens: l.Burst}}
}

// refill brings b's tokens up to now.
func (l *Limiter) refill(b *bucket, now time.Time) {
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = math.Min(l.Burst, b.tokens+float64(elapsed)/float64(l.Every))
	}
	b.at = now
}

// Allow takes one token from key's bucket. When there is none it returns
// false and how long until there is one. With MaxClients buckets in
// memory, buckets that have filled up again (idle clients: the same as
// none) are dropped; if all are still in use, a new client shares the
// overflow bucket, so a flood of addresses costs memory no more than
// MaxClients and issues no more than one client.
func (l *Limiter) Allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= MaxClients {
			for k, old := range l.buckets {
				if l.refill(old, now); old.tokens >= l.Burst {
					delete(l.buckets, k)
				}
			}
		}
		if len(l.buckets) < MaxClients {
			b = &bucket{tokens: l.Burst, at: now}
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
	wait := time.Duration((1 - b.tokens) * float64(l.Every))
	return false, wait
}

// ClientKey is the limiter's key for a request: the peer's IP address, or
// its /64 for IPv6, as the login throttle keys clients. (X-Forwarded-For,
// which anyone can send, is ignored.)
func ClientKey(r *http.Request) string { return login.ClientOf(r.RemoteAddr) }

// RetryAfter is the Retry-After header's value for wait: whole seconds,
// at least one.
func RetryAfter(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}

// Peek reports whether key's bucket has a token now, without taking it,
// and how long until it has one: for limits that count only what
// succeeded (take it with Allow then). Concurrent requests may pass Peek
// together and overdraw the bucket by their number, no more.
func (l *Limiter) Peek(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) < MaxClients {
			return true, 0
		}
		b = &l.overflow
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) * float64(l.Every))
}
