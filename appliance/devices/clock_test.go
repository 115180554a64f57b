package devices_test

import (
	"context"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/clock"
	"github.com/veedel/veedel/appliance/devices"
	"github.com/veedel/veedel/appliance/queue"
)

// The clock's report is committed when the clock is found off, when an off
// clock's offset moves by a minute and when it is right again; not on every
// measurement, and not for a clock that was never off: every report is a
// change-log entry synced to central.
func TestClockWatchReportsChangesOnly(t *testing.T) {
	store := mustOpenStore(t)
	base := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	var el, skew time.Duration
	c := clock.NewMonotonic(func() time.Time { return base.Add(el + skew) }, func() time.Duration { return el })
	w := &devices.ClockWatch{Store: store, Clock: c}
	ctx := context.Background()
	measure := func() {
		t.Helper()
		// Central answers within 10 ms with its time, base + el.
		if !c.Observe(el, el+10*time.Millisecond, base.Add(el)) {
			t.Fatal("measurement not taken")
		}
		if err := w.Record(ctx); err != nil {
			t.Fatal(err)
		}
		el += time.Minute
	}
	if err := w.Record(ctx); err != nil || store.LastSeq() != 0 {
		t.Fatalf("reported before any measurement: seq %d, %v", store.LastSeq(), err)
	}
	steps := []struct {
		skew    time.Duration
		reports uint64 // entries so far
		warn    bool
	}{
		{2 * time.Second, 0, false},              // right: nothing to tell
		{20 * time.Second, 0, false},             // still right
		{24 * time.Hour, 1, true},                // off: reported
		{24*time.Hour + 30*time.Second, 1, true}, // moved by less than a minute
		{24*time.Hour + 2*time.Minute, 2, true},  // moved by two
		{0, 3, false},                            // set right: reported
		{10 * time.Second, 3, false},             // still right
	}
	for _, s := range steps {
		skew = s.skew
		measure()
		if got := store.LastSeq(); got != s.reports {
			t.Fatalf("skew %v: %d reports, want %d", s.skew, got, s.reports)
		}
		if s.reports == 0 {
			continue
		}
		d, ok := device(store, queue.DeviceClock)
		if !ok || d.Healthy() == s.warn {
			t.Fatalf("skew %v: report %+v, want warn %v", s.skew, d.DeviceReported, s.warn)
		}
	}
}
