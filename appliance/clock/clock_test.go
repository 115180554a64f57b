package clock_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/clock"
)

// skewed is a wall clock off the real one by a settable amount; it keeps
// the monotonic reading, as the machine's clock does.
type skewed struct{ off atomic.Int64 }

func (s *skewed) Now() time.Time                { return time.Now().Add(time.Duration(s.off.Load())) }
func (s *skewed) Set(d time.Duration)           { s.off.Store(int64(d)) }
func near(a, b time.Time, d time.Duration) bool { return a.Sub(b) < d && b.Sub(a) < d }

// measure sends one request through the clock's transport to a real HTTP
// server on loopback, whose Date header is the real time.
func measure(t *testing.T, c *clock.Clock) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	client := &http.Client{Transport: c.Transport(nil)}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestUncheckedClockIsUsedAsItIs(t *testing.T) {
	w := &skewed{}
	w.Set(24 * time.Hour)
	c := clock.New(w.Now)
	if got := c.Now(); !near(got, time.Now().Add(24*time.Hour), time.Second) {
		t.Fatalf("Now = %v, want the device's own clock", got)
	}
	st := c.Status(time.Now().Add(-time.Hour))
	if st.State != clock.Unchecked || st.Warn() {
		t.Fatalf("state %s warn %v, want unchecked without a warning", st.State, st.Warn())
	}
	if err := c.Check(time.Now()); err != nil {
		t.Fatalf("a clock ahead of the log is not refused without central's time: %v", err)
	}
}

func TestClockBehindTheLogIsRefusedWithoutCentral(t *testing.T) {
	w := &skewed{}
	w.Set(-365 * 24 * time.Hour)
	c := clock.New(w.Now)
	last := time.Now().Add(-time.Hour) // written an hour ago, with a good clock
	st := c.Status(last)
	if st.State != clock.Wrong || !st.Warn() {
		t.Fatalf("state %s, want wrong", st.State)
	}
	err := c.Check(last)
	if veedel.ErrorCode(err) != veedel.EUNAVAILABLE {
		t.Fatalf("Check = %v, want unavailable", err)
	}
	if msg := veedel.ErrorMessage(err); !strings.Contains(msg, "Die Uhr dieses Geräts geht falsch") || !strings.Contains(msg, "Bitte Zeit prüfen") {
		t.Fatalf("message %q does not tell staff what is wrong", msg)
	}
	// A few seconds behind is the hybrid logical clock's business, not a
	// wrong clock.
	w.Set(-30 * time.Second)
	if err := c.Check(time.Now()); err != nil {
		t.Fatalf("30 s behind the last entry refused: %v", err)
	}
}

func TestResetClockIsRefusedEvenWithAnEmptyLog(t *testing.T) {
	c := clock.New(func() time.Time { return time.Date(1970, 1, 1, 0, 0, 5, 0, time.UTC) })
	if st := c.Status(time.Time{}); st.State != clock.Wrong {
		t.Fatalf("a clock at 1970 is %s, want wrong", st.State)
	}
}

func TestMeasuredClockIsCorrectedFromCentral(t *testing.T) {
	for _, skew := range []time.Duration{24 * time.Hour, -365 * 24 * time.Hour} {
		w := &skewed{}
		w.Set(skew)
		c := clock.New(w.Now)
		measure(t, c)
		if got := c.Now(); !near(got, time.Now(), 2*time.Second) {
			t.Fatalf("skew %v: Now = %v, want central's time %v", skew, got, time.Now())
		}
		st := c.Status(time.Now().Add(-time.Minute))
		if st.State != clock.Corrected || !st.Warn() {
			t.Fatalf("skew %v: state %s, want corrected with a warning", skew, st.State)
		}
		if d := st.Offset - skew; d > 2*time.Second || d < -2*time.Second {
			t.Fatalf("skew %v: measured offset %v", skew, st.Offset)
		}
		if err := c.Check(time.Now().Add(-time.Minute)); err != nil {
			t.Fatalf("skew %v: a corrected clock is refused: %v", skew, err)
		}
	}
}

func TestGoodClockIsKeptAndAStepLaterIsIgnored(t *testing.T) {
	w := &skewed{}
	w.Set(20 * time.Second) // within the tolerance: the device's own clock stays
	c := clock.New(w.Now)
	measure(t, c)
	if st := c.Status(time.Time{}); st.State != clock.OK || st.Warn() {
		t.Fatalf("state %s, want ok", st.State)
	}
	if got := c.Now(); !near(got, time.Now().Add(20*time.Second), time.Second) {
		t.Fatalf("Now = %v, want the device's own clock within the tolerance", got)
	}
	// The wall clock is stepped a day ahead after the measurement (a bad
	// time server, a hand): the monotonic clock carries central's time on.
	w.Set(24 * time.Hour)
	if got := c.Now(); !near(got, time.Now(), 2*time.Second) {
		t.Fatalf("after a step: Now = %v, want central's time", got)
	}
	if st := c.Status(time.Time{}); st.State != clock.Corrected {
		t.Fatalf("after a step: state %s, want corrected", st.State)
	}
	// Set right again: back to the device's clock.
	w.Set(0)
	if st := c.Status(time.Time{}); st.State != clock.OK {
		t.Fatalf("set right: state %s, want ok", st.State)
	}
}

func TestWideMeasurementDoesNotReplaceAnExactOne(t *testing.T) {
	// A simulated machine: the wall clock and the monotonic clock both
	// at the test's hand.
	base := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	var el time.Duration
	c := clock.NewMonotonic(func() time.Time { return base.Add(el) }, func() time.Duration { return el })
	// Exact: central said 10:02:00 within 10 ms (the device is 2 min behind).
	if !c.Observe(0, 10*time.Millisecond, base.Add(2*time.Minute)) {
		t.Fatal("exact measurement not taken")
	}
	// A long poll that waited 25 s, consistent with it: ignored.
	c.Observe(time.Second, 26*time.Second, base.Add(2*time.Minute+20*time.Second))
	el = 30 * time.Second
	if got, want := c.Now(), base.Add(2*time.Minute+30*time.Second+500*time.Millisecond-5*time.Millisecond); !near(got, want, 10*time.Millisecond) {
		t.Fatalf("Now = %v, want %v from the exact measurement", got, want)
	}
	// Wider than MaxUncertainty: not taken at all.
	if c.Observe(0, 2*time.Minute, base) {
		t.Fatal("a measurement of two minutes' round trip was taken")
	}
	// An exact one that disagrees (central's clock was set) replaces it.
	now := base.Add(el)
	c.Observe(el, el+10*time.Millisecond, now)
	if got := c.Now(); !near(got, now, time.Second) {
		t.Fatalf("Now = %v after central's clock changed, want %v", got, now)
	}
}
