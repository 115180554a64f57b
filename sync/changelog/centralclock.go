package changelog

import (
	"net/http"
	"sync"
	"time"
)

// CentralClock is a site's estimate of central's clock, for signing: central
// refuses a request or batch whose time is more than FreshWindow from its
// own, and a site's clock may be hours off (a dead RTC battery). Every sync
// answer carries central's time in its Date header; Observe measures the
// offset from it, and Now is the local clock corrected by that offset.
//
// Offsets within offsetTolerance are taken as zero (the Date header has
// one-second resolution and the round trip adds to it); a site whose clock
// is right signs with its own clock. The zero value is ready: no offset
// until the first answer.
type CentralClock struct {
	mu     sync.Mutex
	offset time.Duration
}

// offsetTolerance is how far central's clock may be from the site's before
// the site corrects for it: well inside FreshWindow, well above the Date
// header's resolution and a round trip.
const offsetTolerance = 30 * time.Second

// Now returns local corrected by the measured offset.
func (c *CentralClock) Now(local time.Time) time.Time {
	return local.Add(c.Offset())
}

// Offset returns how far central's clock is ahead of the site's (negative:
// behind), as last measured; zero while within offsetTolerance.
func (c *CentralClock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

// Observe measures the offset from the Date header of central's answer
// received at local (the site's clock). It reports whether the offset
// changed: a request central refused as too old or too new is worth
// signing again at once.
func (c *CentralClock) Observe(resp *http.Response, local time.Time) bool {
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return false
	}
	// Date is truncated to the second: its middle is the better guess.
	measured := date.Add(500 * time.Millisecond).Sub(local)
	if measured > -offsetTolerance && measured < offsetTolerance {
		measured = 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d := measured - c.offset; d > -offsetTolerance && d < offsetTolerance {
		return false
	}
	c.offset = measured
	return true
}
