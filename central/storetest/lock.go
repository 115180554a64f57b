package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testLockTwoHandles: a lock excludes the holders of another handle on
// the same database (another central node) as well as this one's; other
// names are free meanwhile; a waiter whose context ends goes without
// taking it, and the lock is free again once released.
func testLockTwoHandles(t *testing.T, open Opener) {
	ctx := context.Background()
	handles := []Store{mustOpen(t, open), mustOpen(t, open)}

	// Many callers on both handles: never two inside at once.
	var inside, entered atomic.Int32
	var wg sync.WaitGroup
	for i := range 16 {
		s := handles[i%2]
		wg.Go(func() {
			unlock, err := s.Lock(ctx, "sell kalk")
			if err != nil {
				t.Error(err)
				return
			}
			if n := inside.Add(1); n != 1 {
				t.Errorf("%d holders of one lock at once", n)
			}
			entered.Add(1)
			time.Sleep(2 * time.Millisecond)
			inside.Add(-1)
			unlock()
		})
	}
	wg.Wait()
	if entered.Load() != 16 {
		t.Fatalf("%d of 16 callers got the lock", entered.Load())
	}

	unlock, err := handles[0].Lock(ctx, "plates")
	if err != nil {
		t.Fatal(err)
	}
	other, err := handles[1].Lock(ctx, "sell kalk")
	if err != nil {
		t.Fatalf("another name, while plates is held: %v", err)
	}
	other()
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if u, err := handles[1].Lock(short, "plates"); err == nil {
		u()
		t.Fatal("the other handle took plates while it was held")
	}
	got := make(chan func(), 1)
	go func() {
		u, err := handles[1].Lock(ctx, "plates")
		if err != nil {
			t.Error(err)
			u = func() {}
		}
		got <- u
	}()
	select {
	case u := <-got:
		u()
		t.Fatal("the other handle took plates while it was held")
	case <-time.After(100 * time.Millisecond):
	}
	unlock()
	select {
	case u := <-got:
		u()
	case <-time.After(5 * time.Second):
		t.Fatal("the other handle did not get plates within 5 s of its release")
	}
}
