package changelog_test

import (
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/sync/changelog"
)

// fakeWall is a settable wall clock.
type fakeWall struct {
	mu sync.Mutex
	t  time.Time
}

func (w *fakeWall) Now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.t
}

func (w *fakeWall) Set(t time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t = t
}

var wallStart = time.Date(2025, time.January, 13, 8, 0, 0, 0, time.UTC)

func TestClock(t *testing.T) {
	t.Run("FollowsWallClock", func(t *testing.T) {
		wall := &fakeWall{t: wallStart}
		c := changelog.NewClock(wall.Now, 0)
		h := c.Now()
		if got, want := h.Time(), wallStart; !got.Equal(want) {
			t.Errorf("Now().Time() = %v, want %v", got, want)
		}
		wall.Set(wallStart.Add(1500 * time.Millisecond))
		if got, want := c.Now().Time(), wallStart.Add(1500*time.Millisecond); !got.Equal(want) {
			t.Errorf("Now().Time() after 1.5 s = %v, want %v", got, want)
		}
	})

	t.Run("StrictlyIncreasingWithinAMillisecond", func(t *testing.T) {
		wall := &fakeWall{t: wallStart}
		c := changelog.NewClock(wall.Now, 0)
		prev := c.Now()
		for i := range 1000 {
			h := c.Now()
			if h <= prev {
				t.Fatalf("call %d: %d after %d, want strictly greater", i, h, prev)
			}
			prev = h
		}
	})

	t.Run("MonotonicWhenWallGoesBackAnHour", func(t *testing.T) {
		wall := &fakeWall{t: wallStart}
		c := changelog.NewClock(wall.Now, 0)
		before := c.Now()
		wall.Set(wallStart.Add(-time.Hour))
		prev := before
		for i := range 100 {
			h := c.Now()
			if h <= prev {
				t.Fatalf("call %d after the wall went back: %d, want > %d", i, h, prev)
			}
			if got := h.Time(); got.Before(wallStart) {
				t.Fatalf("call %d after the wall went back: time %v, want not before %v", i, got, wallStart)
			}
			prev = h
		}
		// Once the wall catches up, the clock follows it again.
		later := wallStart.Add(time.Minute)
		wall.Set(later)
		h := c.Now()
		if h <= prev || !h.Time().Equal(later) {
			t.Errorf("Now() after the wall caught up = %d (%v), want > %d at %v", h, h.Time(), prev, later)
		}
	})

	t.Run("ObserveMovesPastRemote", func(t *testing.T) {
		wall := &fakeWall{t: wallStart}
		c := changelog.NewClock(wall.Now, 0)
		c.Now()
		// A node two hours ahead, with a logical counter.
		remote := changelog.HLC(wallStart.Add(2*time.Hour).UnixMilli())<<16 | 7
		c.Observe(remote)
		h := c.Now()
		if h <= remote {
			t.Errorf("Now() after Observe(%d) = %d, want greater", remote, h)
		}
		// Observing an older timestamp does not move the clock back.
		c.Observe(changelog.HLC(wallStart.UnixMilli()) << 16)
		if h2 := c.Now(); h2 <= h {
			t.Errorf("Now() after observing an old timestamp = %d, want > %d", h2, h)
		}
	})

	t.Run("ContinuesAfterRestart", func(t *testing.T) {
		// The log's last timestamp is ahead of a wall clock that was reset.
		last := changelog.HLC(wallStart.Add(time.Hour).UnixMilli())<<16 | 3
		wall := &fakeWall{t: wallStart}
		c := changelog.NewClock(wall.Now, last)
		if h := c.Now(); h <= last {
			t.Errorf("Now() = %d, want > last %d", h, last)
		}
	})

	t.Run("ConcurrentUnique", func(t *testing.T) {
		wall := &fakeWall{t: wallStart}
		c := changelog.NewClock(wall.Now, 0)
		const goroutines, each = 8, 500
		results := make([][]changelog.HLC, goroutines)
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for range each {
					results[g] = append(results[g], c.Now())
				}
			})
		}
		wg.Wait()
		seen := map[changelog.HLC]bool{}
		for _, r := range results {
			for _, h := range r {
				if seen[h] {
					t.Fatalf("timestamp %d issued twice", h)
				}
				seen[h] = true
			}
		}
		if got, want := len(seen), goroutines*each; got != want {
			t.Errorf("unique timestamps = %d, want %d", got, want)
		}
	})

	t.Run("DefaultsToTimeNow", func(t *testing.T) {
		c := changelog.NewClock(nil, 0)
		if got := c.Now().Time(); time.Since(got) > time.Minute || time.Until(got) > time.Minute {
			t.Errorf("Now() with the system clock = %v, want about %v", got, time.Now())
		}
	})
}

func TestHLCTime(t *testing.T) {
	for _, ms := range []int64{0, 1, 1736751600000, 1736751600123, 1<<47 - 1} {
		for _, logical := range []changelog.HLC{0, 1, 0xffff} {
			h := changelog.HLC(ms)<<16 | logical
			if got := h.Time().UnixMilli(); got != ms {
				t.Errorf("HLC(%d ms, logical %d).Time() = %d ms, want %d", ms, logical, got, ms)
			}
		}
	}
	// Sub-millisecond parts of the wall clock are dropped, not rounded.
	wall := &fakeWall{t: wallStart.Add(999 * time.Microsecond)}
	if got, want := changelog.NewClock(wall.Now, 0).Now().Time(), wallStart; !got.Equal(want) {
		t.Errorf("Time() of a wall at +999µs = %v, want %v", got, want)
	}
}
