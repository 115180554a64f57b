package changelog

import (
	"sync"
	"time"
)

// HLC is a hybrid logical clock timestamp: milliseconds since the Unix epoch
// in the upper 48 bits, a logical counter in the lower 16. It never goes
// backwards on one node even when the wall clock does, and it orders events
// across nodes consistently with causality.
type HLC uint64

const logicalBits = 16

// Time returns the wall-clock part.
func (h HLC) Time() time.Time { return time.UnixMilli(int64(h >> logicalBits)) }

// HLCAt is the earliest timestamp of t's millisecond (logical counter 0):
// the bound for "entries before t".
func HLCAt(t time.Time) HLC { return HLC(t.UnixMilli()) << logicalBits }

// Clock issues HLC timestamps. It is safe for concurrent use.
type Clock struct {
	mu   sync.Mutex
	now  func() time.Time
	last HLC
}

// NewClock returns a clock reading now, continuing after last (the highest
// timestamp this node already issued, e.g. from its log after a restart).
func NewClock(now func() time.Time, last HLC) *Clock {
	if now == nil {
		now = time.Now
	}
	return &Clock{now: now, last: last}
}

// Now returns a timestamp greater than every one issued or observed before.
func (c *Clock) Now() HLC {
	c.mu.Lock()
	defer c.mu.Unlock()
	wall := HLCAt(c.now())
	if wall > c.last {
		c.last = wall
	} else {
		c.last++
	}
	return c.last
}

// Observe moves the clock past a timestamp received from another node.
func (c *Clock) Observe(remote HLC) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if remote > c.last {
		c.last = remote
	}
}
