package server

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestLimiterBoundedMemory: a flood of addresses keeps at most maxClients
// buckets; clients past that share one overflow bucket (so the flood
// issues no more than one client would), and buckets that filled up again
// make room for new clients.
func TestLimiterBoundedMemory(t *testing.T) {
	l := newLimiter(limit{burst: 2, every: time.Minute})
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for i := range maxClients {
		if ok, _ := l.allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256), now); !ok {
			t.Fatalf("client %d refused its first ticket", i)
		}
	}
	allowed := 0
	for i := range 100 {
		if ok, _ := l.allow(fmt.Sprintf("10.1.0.%d", i), now); ok {
			allowed++
		}
	}
	if len(l.buckets) > maxClients {
		t.Errorf("%d buckets, want at most %d", len(l.buckets), maxClients)
	}
	if allowed != 2 {
		t.Errorf("100 new clients past the bound issued %d tickets, want the overflow bucket's 2", allowed)
	}
	// A minute later every bucket has refilled: idle clients are dropped
	// and a new client gets its own bucket again.
	later := now.Add(time.Minute)
	if ok, _ := l.allow("10.2.0.1", later); !ok {
		t.Errorf("a new client after the others went idle was refused")
	}
	if _, own := l.buckets["10.2.0.1"]; !own || len(l.buckets) != 1 {
		t.Errorf("after the sweep: %d buckets, own bucket %v; want only the new client's", len(l.buckets), own)
	}
}

// TestLimiterRefill: the burst, then one per interval, with the wait said.
func TestLimiterRefill(t *testing.T) {
	l := newLimiter(limit{burst: 3, every: 20 * time.Second})
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for i := range 3 {
		if ok, _ := l.allow("a", now); !ok {
			t.Fatalf("ticket %d of the burst refused", i+1)
		}
	}
	ok, wait := l.allow("a", now.Add(5*time.Second))
	if ok || wait != 15*time.Second || retryAfter(wait) != 15 {
		t.Errorf("past the burst: ok %v, wait %v; want refused, 15 s", ok, wait)
	}
	if ok, _ := l.allow("b", now); !ok {
		t.Errorf("another client refused")
	}
	if ok, _ := l.allow("a", now.Add(20*time.Second)); !ok {
		t.Errorf("refused after the interval")
	}
	if ok, _ := l.allow("a", now.Add(21*time.Second)); ok {
		t.Errorf("a second ticket one second after the refill")
	}
}

func TestClientKey(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.7:51234":                   "192.0.2.7",
		"[2001:db8:1:2:aaaa::1]:443":        "2001:db8:1:2::/64",
		"[2001:db8:1:2:bbbb:cccc::9]:80":    "2001:db8:1:2::/64",
		"[::ffff:192.0.2.7]:51234":          "192.0.2.7",
		"[fe80::1%eth0]:8080":               "fe80::/64",
		"not-an-address":                    "not-an-address",
		"[2001:db8:1:3:aaaa::1]:443":        "2001:db8:1:3::/64",
		"198.51.100.1:1":                    "198.51.100.1",
		"[2001:db8:ffff:ffff:ffff::1]:1234": "2001:db8:ffff:ffff::/64",
	} {
		r := &http.Request{RemoteAddr: addr, Header: http.Header{"X-Forwarded-For": {"203.0.113.9"}}}
		if got := clientKey(r); got != want {
			t.Errorf("clientKey(%q) = %q, want %q", addr, got, want)
		}
	}
}
