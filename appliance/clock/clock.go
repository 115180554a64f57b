// Package clock checks the site's wall clock, on which the ticket day, the
// opening hours and the printed date depend. An appliance's clock can be
// wrong: a dead RTC battery resets it after a power cut, and while the WAN
// is down there is no time server. The rules (docs/ARCHITECTURE.md,
// "Clock"):
//
//   - Every answer from central carries an HTTP Date header. Transport reads
//     it, with the request's round trip, into a measurement of how far the
//     site's clock is from central's.
//   - Once measured, a clock more than Tolerance off is corrected: Now is
//     central's time (carried on by the monotonic clock, so that stepping
//     the wall clock changes nothing), and staff and central are warned.
//   - Without a measurement since the start the site's own clock is used,
//     unless it is clearly wrong: more than Tolerance before the log's last
//     entry, or before NotBefore (a reset RTC). Then Check refuses every
//     command, with a message staff understand, until the clock is set or
//     central answers. A clock that is right is never refused, however long
//     central is unreachable.
//
// A clock that is ahead cannot be noticed before central first answers;
// see the architecture notes for what that means.
package clock

import (
	"fmt"
	"sync"
	"time"

	"github.com/veedel/veedel"
)

// Tolerance is how far the site's clock may be off central's, or behind
// its log's last entry, before staff are warned and central's time is used
// (or, without central's time, commands are refused).
const Tolerance = time.Minute

// MaxUncertainty is the widest measurement taken: half a round trip plus
// the Date header's second. A long poll that waited 25 s still counts.
const MaxUncertainty = 30 * time.Second

// renewAfter is when a measurement is replaced by a less exact one: the
// monotonic clock that carries it on drifts a few seconds a day.
const renewAfter = 10 * time.Minute

// NotBefore is the earliest time a working appliance can show: this
// version's year. A clock before it was reset (an RTC without battery
// starts at 1970 or 2000).
var NotBefore = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// State is what the site's clock is known to be.
type State string

const (
	// Unchecked: not compared with central since the start, and not
	// clearly wrong. The site's own clock is used.
	Unchecked State = "unchecked"
	// OK: within Tolerance of central's clock.
	OK State = "ok"
	// Corrected: more than Tolerance off central's; central's time is used.
	Corrected State = "corrected"
	// Wrong: not compared with central, and before the log's last entry or
	// before NotBefore. Commands are refused.
	Wrong State = "wrong"
)

// Status is the clock's state at a moment, for the desk, /healthz and the
// report to central.
type Status struct {
	State State `json:"state"`
	// Wall is the device's own clock; Now the time the appliance uses.
	Wall time.Time `json:"wall"`
	Now  time.Time `json:"now"`
	// Measured: central's time is known. Offset is how far the device's
	// clock is ahead of central's (negative: behind), give or take
	// Uncertainty; MeasuredAt is when it was last measured (site time).
	Measured      bool          `json:"measured"`
	Offset        time.Duration `json:"-"`
	OffsetMS      int64         `json:"offset_ms"`
	Uncertainty   time.Duration `json:"-"`
	UncertaintyMS int64         `json:"uncertainty_ms"`
	MeasuredAt    time.Time     `json:"measured_at,omitzero"`
	// Last is the time of the log's last entry; Behind how far Now is
	// before it (0: not before). The change-log's hybrid logical clock
	// never goes back, so events written meanwhile carry Last's time.
	Last   time.Time     `json:"last_entry,omitzero"`
	Behind time.Duration `json:"-"`
}

// Warn reports whether staff should be told: the clock is corrected or
// wrong, or the log runs ahead of the time used.
func (s Status) Warn() bool {
	return s.State == Corrected || s.State == Wrong || s.Behind > Tolerance
}

// sample is one measurement: at mono (a reading of the monotonic clock)
// central's clock showed central.
type sample struct {
	mono    time.Duration
	central time.Time
	half    time.Duration // uncertainty
}

// Clock is the site's clock, checked against central's. Safe for
// concurrent use.
type Clock struct {
	wall func() time.Time
	mono func() time.Duration

	mu        sync.Mutex
	s         *sample
	corrected bool // hysteresis: on beyond Tolerance, off within half of it
	measured  chan struct{}
}

// New returns a clock reading wall (nil: time.Now), carrying central's
// time on with the machine's monotonic clock.
func New(wall func() time.Time) *Clock {
	start := time.Now()
	return NewMonotonic(wall, func() time.Duration { return time.Since(start) })
}

// NewMonotonic is New with a monotonic clock of its own: mono returns the
// time elapsed since some fixed moment (simulated clocks in tests).
func NewMonotonic(wall func() time.Time, mono func() time.Duration) *Clock {
	if wall == nil {
		wall = time.Now
	}
	return &Clock{wall: wall, mono: mono, measured: make(chan struct{}, 1)}
}

// Monotonic reads the clock's monotonic clock (for Observe).
func (c *Clock) Monotonic() time.Duration { return c.mono() }

// Wall is the device's own clock.
func (c *Clock) Wall() time.Time { return c.wall() }

// Now is the time the appliance goes by: central's when the device's clock
// is known to be more than Tolerance off it, the device's otherwise.
func (c *Clock) Now() time.Time {
	w, m := c.wall(), c.mono()
	c.mu.Lock()
	defer c.mu.Unlock()
	now, _ := c.nowLocked(w, m)
	return now
}

// nowLocked requires c.mu; it returns the time used and the offset of the
// wall clock's w from central's time (0 without a measurement), m being
// the monotonic clock's reading at w.
func (c *Clock) nowLocked(w time.Time, m time.Duration) (time.Time, time.Duration) {
	if c.s == nil {
		return w, 0
	}
	// Central's time carried on by the monotonic clock: a step of the wall
	// clock since the measurement does not move it.
	ref := c.s.central.Add(m - c.s.mono)
	off := w.Round(0).Sub(ref)
	switch a := abs(off); {
	case a > Tolerance:
		c.corrected = true
	case a <= Tolerance/2:
		c.corrected = false
	}
	if c.corrected {
		return ref, off
	}
	return w, off
}

// Observe records a measurement: a request sent at sent and answered at
// received (readings of Monotonic) whose answer said date (central's clock
// at some moment between, truncated to the second, as HTTP's Date is). It
// reports whether the measurement was taken.
func (c *Clock) Observe(sent, received time.Duration, date time.Time) bool {
	rtt := received - sent
	if rtt < 0 || date.IsZero() {
		return false
	}
	n := &sample{mono: sent + rtt/2, central: date.Add(time.Second / 2), half: (rtt + time.Second) / 2}
	if n.half > MaxUncertainty {
		return false
	}
	c.mu.Lock()
	if cur := c.s; cur == nil || n.half <= cur.half || n.mono-cur.mono > renewAfter || !consistent(cur, n) {
		c.s = n
	}
	c.mu.Unlock()
	select {
	case c.measured <- struct{}{}:
	default:
	}
	return true
}

// consistent reports whether two measurements agree within their
// uncertainties.
func consistent(a, b *sample) bool {
	// Central's time at b.local according to a:
	at := a.central.Add(b.mono - a.mono)
	return abs(at.Sub(b.central)) <= a.half+b.half+time.Second
}

// Measured receives a value after measurements (coalesced).
func (c *Clock) Measured() <-chan struct{} { return c.measured }

// Status is the clock's state now, given the time of the log's last entry
// (zero: an empty log).
func (c *Clock) Status(last time.Time) Status {
	w, m := c.wall(), c.mono()
	c.mu.Lock()
	now, off := c.nowLocked(w, m)
	st := Status{State: Unchecked, Wall: w.Round(0), Now: now.Round(0), Last: last}
	if s := c.s; s != nil {
		st.Measured, st.Offset, st.Uncertainty = true, off, s.half
		st.MeasuredAt = s.central
		st.State = OK
		if c.corrected {
			st.State = Corrected
		}
	}
	c.mu.Unlock()
	if !last.IsZero() && last.After(now) {
		st.Behind = last.Sub(now)
	}
	if !st.Measured && (now.Before(NotBefore) || st.Behind > Tolerance) {
		st.State = Wrong
	}
	st.OffsetMS, st.UncertaintyMS = st.Offset.Milliseconds(), st.Uncertainty.Milliseconds()
	return st
}

// Check returns an error when commands must be refused: the clock is
// Wrong. last is the time of the log's last entry. The store asks it
// before every commit (sqlite.Options.CheckClock).
func (c *Clock) Check(last time.Time) error {
	st := c.Status(last)
	if st.State != Wrong {
		return nil
	}
	return veedel.Errorf(veedel.EUNAVAILABLE, "%s / %s", Explain("de", st), Explain("en", st))
}

// Explain says in lang ("de" or "en") what is wrong with a Wrong clock and
// what to do, with the times in Europe/Berlin.
func Explain(lang string, st Status) string {
	shows := st.Now.In(berlin).Format("02.01.2006 15:04")
	if lang == "de" {
		why := "vor dem " + NotBefore.In(berlin).Format("02.01.2006")
		if st.Behind > Tolerance {
			why = "der letzte Eintrag ist vom " + st.Last.In(berlin).Format("02.01.2006 15:04")
		}
		return fmt.Sprintf("Die Uhr dieses Geräts geht falsch (sie zeigt %s, %s). Bitte Zeit prüfen: Datum und Uhrzeit des Geräts richtig stellen oder die Verbindung zur Zentrale herstellen, dann gilt deren Zeit. Bis dahin werden keine Tickets ausgegeben.", shows, why)
	}
	why := "before " + NotBefore.In(berlin).Format("2006-01-02")
	if st.Behind > Tolerance {
		why = "the last entry is from " + st.Last.In(berlin).Format("2006-01-02 15:04")
	}
	return fmt.Sprintf("This device's clock is wrong (it shows %s, %s). Please check the time: set the device's date and time, or connect it to central, whose time then applies. Until then no tickets are issued.", shows, why)
}

var berlin = func() *time.Location {
	if loc, err := time.LoadLocation("Europe/Berlin"); err == nil {
		return loc
	}
	return time.UTC
}()

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
