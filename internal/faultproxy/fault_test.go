package faultproxy_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/internal/faultproxy"
)

func TestRandom(t *testing.T) {
	rates := faultproxy.Rates{faultproxy.Drop: 0.1, faultproxy.Cut: 0.05, faultproxy.Duplicate: 0.2}
	t.Run("SameSeedSameFaults", func(t *testing.T) {
		a := faultproxy.Random(42, rates, time.Second)
		b := faultproxy.Random(42, rates, time.Second)
		want := make([]faultproxy.Fault, 1000)
		for n := range want {
			want[n] = a(uint64(n))
		}
		// Asking in another order must not change any answer.
		for n := len(want) - 1; n >= 0; n-- {
			if got := b(uint64(n)); got != want[n] {
				t.Fatalf("fault %d: %v, want %v", n, got, want[n])
			}
		}
	})
	t.Run("OtherSeedOtherFaults", func(t *testing.T) {
		a, b := faultproxy.Random(1, rates, 0), faultproxy.Random(2, rates, 0)
		same := 0
		for n := range uint64(200) {
			if a(n) == b(n) {
				same++
			}
		}
		if same > 10 {
			t.Errorf("%d of 200 faults equal for different seeds", same)
		}
	})
	t.Run("Rates", func(t *testing.T) {
		s := faultproxy.Random(7, rates, 300*time.Millisecond)
		const n = 20000
		got := map[faultproxy.Kind]int{}
		for i := range uint64(n) {
			f := s(i)
			got[f.Kind]++
			if f.Delay <= 0 || f.Delay > 300*time.Millisecond {
				t.Fatalf("fault %d: delay %v out of (0, 300ms]", i, f.Delay)
			}
			if f.Fraction < 0 || f.Fraction >= 1 || f.Flips < 1 {
				t.Fatalf("fault %d: fraction %v flips %d", i, f.Fraction, f.Flips)
			}
		}
		for k, rate := range rates {
			if share := float64(got[k]) / n; math.Abs(share-rate) > 0.015 {
				t.Errorf("%s: share %.3f, want %.3f", k, share, rate)
			}
		}
		if share := float64(got[faultproxy.Pass]) / n; math.Abs(share-0.65) > 0.015 {
			t.Errorf("pass: share %.3f, want 0.65", share)
		}
	})
}

func TestScript(t *testing.T) {
	s := faultproxy.Script(faultproxy.Fault{Kind: faultproxy.Drop}, faultproxy.Fault{Kind: faultproxy.Cut})
	for n, want := range []faultproxy.Kind{faultproxy.Drop, faultproxy.Cut, faultproxy.Pass, faultproxy.Pass} {
		if got := s(uint64(n)).Kind; got != want {
			t.Errorf("fault %d: %s, want %s", n, got, want)
		}
	}
	if got := faultproxy.Always(faultproxy.Fault{Kind: faultproxy.Delay})(12345).Kind; got != faultproxy.Delay {
		t.Errorf("Always: %s", got)
	}
}

// target is an HTTP server that records what arrives in full or in part.
type target struct {
	*httptest.Server
	mu       sync.Mutex
	received []arrival
	arrived  chan struct{}
}

type arrival struct {
	body []byte
	err  error // reading the body failed (a cut)
}

// reply is what the target answers to a request whose body is b.
func reply(b []byte) []byte { return append([]byte("got:"), b...) }

func newTarget(t *testing.T) *target {
	tg := &target{arrived: make(chan struct{}, 100)}
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		tg.mu.Lock()
		tg.received = append(tg.received, arrival{body, err})
		tg.mu.Unlock()
		tg.arrived <- struct{}{}
		if err != nil {
			return
		}
		out := reply(body)
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		w.Write(out)
	}))
	t.Cleanup(tg.Close)
	return tg
}

func (tg *target) arrivals() []arrival {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return append([]arrival(nil), tg.received...)
}

// wait waits for n arrivals in all.
func (tg *target) wait(t *testing.T, n int) []arrival {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for len(tg.arrivals()) < n {
		select {
		case <-tg.arrived:
		case <-deadline:
			t.Fatalf("%d requests arrived, want %d", len(tg.arrivals()), n)
		}
	}
	return tg.arrivals()
}

// post sends body on a new connection and returns the answer's body.
func post(url string, body []byte) ([]byte, error) {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := c.Post(url, "application/cbor", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = errors.New(resp.Status)
	}
	return out, err
}

// payload is a body large enough to be cut and corrupted.
func payload() []byte {
	b := make([]byte, 10000)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// differing returns the offsets where a and b (of equal length) differ.
func differing(a, b []byte) []int {
	var out []int
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			out = append(out, i)
		}
	}
	return out
}
