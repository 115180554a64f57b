package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

// TestLimiterBoundedMemory: a flood of addresses keeps at most MaxClients
// buckets; clients past that share one overflow bucket (so the flood
// issues no more than one client would), and buckets that filled up again
// make room for new clients.
func TestLimiterBoundedMemory(t *testing.T) {
	l := New(Limit{Burst: 2, Every: time.Minute})
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for i := range MaxClients {
		if ok, _ := l.Allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256), now); !ok {
			t.Fatalf("client %d refused its first ticket", i)
		}
	}
	allowed := 0
	for i := range 100 {
		if ok, _ := l.Allow(fmt.Sprintf("10.1.0.%d", i), now); ok {
			allowed++
		}
	}
	if len(l.buckets) > MaxClients {
		t.Errorf("%d buckets, want at most %d", len(l.buckets), MaxClients)
	}
	if allowed != 2 {
		t.Errorf("100 new clients past the bound issued %d tickets, want the overflow bucket's 2", allowed)
	}
	// A minute later every bucket has refilled: idle clients are dropped
	// and a new client gets its own bucket again.
	later := now.Add(time.Minute)
	if ok, _ := l.Allow("10.2.0.1", later); !ok {
		t.Errorf("a new client after the others went idle was refused")
	}
	if _, own := l.buckets["10.2.0.1"]; !own || len(l.buckets) != 1 {
		t.Errorf("after the sweep: %d buckets, own bucket %v; want only the new client's", len(l.buckets), own)
	}
}

// TestLimiterRefill: the burst, then one per interval, with the wait said.
func TestLimiterRefill(t *testing.T) {
	l := New(Limit{Burst: 3, Every: 20 * time.Second})
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for i := range 3 {
		if ok, _ := l.Allow("a", now); !ok {
			t.Fatalf("ticket %d of the burst refused", i+1)
		}
	}
	ok, wait := l.Allow("a", now.Add(5*time.Second))
	if ok || wait != 15*time.Second || RetryAfter(wait) != 15 {
		t.Errorf("past the burst: ok %v, wait %v; want refused, 15 s", ok, wait)
	}
	if ok, _ := l.Allow("b", now); !ok {
		t.Errorf("another client refused")
	}
	if ok, _ := l.Allow("a", now.Add(20*time.Second)); !ok {
		t.Errorf("refused after the interval")
	}
	if ok, _ := l.Allow("a", now.Add(21*time.Second)); ok {
		t.Errorf("a second ticket one second after the refill")
	}
}

// TestPeek: Peek never takes a token; it says what Allow would.
func TestPeek(t *testing.T) {
	l := New(Limit{Burst: 1, Every: time.Minute})
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for range 3 {
		if ok, _ := l.Peek("a", now); !ok {
			t.Fatal("Peek refused a full bucket")
		}
	}
	if ok, _ := l.Allow("a", now); !ok {
		t.Fatal("Allow refused after Peeks")
	}
	if ok, wait := l.Peek("a", now.Add(15*time.Second)); ok || wait != 45*time.Second {
		t.Fatalf("Peek of an empty bucket: %v %v", ok, wait)
	}
}
