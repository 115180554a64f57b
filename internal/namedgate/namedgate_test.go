package namedgate_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veedel/veedel/internal/namedgate"
)

// TestGates: one caller at a time per name, names independent, and a
// waiter whose context ends gives up without taking the gate.
func TestGates(t *testing.T) {
	var g namedgate.Gates
	ctx := context.Background()
	var inside atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			leave, err := g.Enter(ctx, "a")
			if err != nil {
				t.Error(err)
				return
			}
			if n := inside.Add(1); n != 1 {
				t.Errorf("%d callers through one gate", n)
			}
			time.Sleep(time.Millisecond)
			inside.Add(-1)
			leave()
		})
	}
	wg.Wait()

	leave, err := g.Enter(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	other, err := g.Enter(ctx, "b")
	if err != nil {
		t.Fatalf("gate b waits for gate a: %v", err)
	}
	other()
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := g.Enter(short, "a"); err == nil {
		t.Fatal("through gate a while it is taken")
	}
	leave()
	again, err := g.Enter(ctx, "a")
	if err != nil {
		t.Fatalf("gate a after the waiter gave up: %v", err)
	}
	again()
}
