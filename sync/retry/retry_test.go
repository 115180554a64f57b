package retry_test

import (
	"context"
	"testing"
	"time"

	"github.com/veedel/veedel/sync/retry"
)

func TestJittered(t *testing.T) {
	seen := map[time.Duration]bool{}
	for range 200 {
		d := retry.Jittered(time.Second)
		if d < 500*time.Millisecond || d > time.Second {
			t.Fatalf("Jittered(1s) = %v, want 500ms…1s", d)
		}
		seen[d] = true
	}
	if len(seen) < 100 {
		t.Errorf("only %d distinct pauses in 200: not jittered", len(seen))
	}
	if got := retry.Jittered(0); got != 0 {
		t.Errorf("Jittered(0) = %v", got)
	}
}

func TestSleep(t *testing.T) {
	if !retry.Sleep(context.Background(), time.Millisecond) {
		t.Error("Sleep without cancellation reported an early end")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if retry.Sleep(ctx, time.Hour) {
		t.Error("Sleep on a cancelled context reported the full pause")
	}
	if time.Since(start) > time.Second {
		t.Error("Sleep did not end with its context")
	}
}
