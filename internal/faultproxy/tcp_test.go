package faultproxy_test

import (
	"bytes"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/veedel/veedel/internal/faultproxy"
)

func newProxy(t *testing.T, tg *target, faults ...faultproxy.Fault) *faultproxy.Proxy {
	t.Helper()
	u, _ := url.Parse(tg.URL)
	p, err := faultproxy.Listen(u.Host, faultproxy.Script(faults...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestProxy(t *testing.T) {
	body := payload()
	t.Run("Pass", func(t *testing.T) {
		tg := newTarget(t)
		p := newProxy(t, tg)
		got, err := post(p.URL(), body)
		if err != nil || !bytes.Equal(got, reply(body)) {
			t.Fatalf("answer %d bytes, %v; want the reply to the body", len(got), err)
		}
		if a := tg.wait(t, 1); !bytes.Equal(a[0].body, body) {
			t.Errorf("target got %d bytes, want the body unchanged", len(a[0].body))
		}
		// The proxy counts a chunk right after writing it, so the target may
		// have the whole body, and the client the whole answer, a moment
		// before the count: let both settle.
		st := p.Stats()
		for deadline := time.Now().Add(2 * time.Second); (st.BytesUp < uint64(len(body)) || st.BytesDown < uint64(len(body))) && time.Now().Before(deadline); st = p.Stats() {
			time.Sleep(time.Millisecond)
		}
		if st.Count != 1 || len(st.Faults) != 0 || st.BytesUp < uint64(len(body)) || st.BytesDown < uint64(len(body)) {
			t.Errorf("stats %v: want 1 connection, no faults, the body counted both ways", st)
		}
	})
	t.Run("Drop", func(t *testing.T) {
		tg := newTarget(t)
		p := newProxy(t, tg, faultproxy.Fault{Kind: faultproxy.Drop})
		if _, err := post(p.URL(), body); err == nil {
			t.Fatal("dropped connection answered")
		}
		if _, err := post(p.URL(), body); err != nil {
			t.Fatalf("next connection: %v", err)
		}
		if a := tg.wait(t, 1); len(a) != 1 {
			t.Errorf("target got %d requests, want only the second", len(a))
		}
		if st := p.Stats(); st.Faults[faultproxy.Drop] != 1 || st.Count != 2 {
			t.Errorf("stats %v", st)
		}
	})
	t.Run("Delay", func(t *testing.T) {
		tg := newTarget(t)
		p := newProxy(t, tg, faultproxy.Fault{Kind: faultproxy.Delay, Delay: 300 * time.Millisecond})
		start := time.Now()
		if _, err := post(p.URL(), body); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Errorf("answered after %v, want at least 300ms", d)
		}
	})
	t.Run("CutMidBody", func(t *testing.T) {
		tg := newTarget(t)
		p := newProxy(t, tg, faultproxy.Fault{Kind: faultproxy.Cut, Fraction: 0.5})
		if _, err := post(p.URL(), body); err == nil {
			t.Fatal("cut request answered")
		}
		a := tg.wait(t, 1)
		if a[0].err == nil || len(a[0].body) != len(body)/2 || !bytes.Equal(a[0].body, body[:len(body)/2]) {
			t.Errorf("target read %d bytes (err %v), want the first %d and an error", len(a[0].body), a[0].err, len(body)/2)
		}
	})
	t.Run("Corrupt", func(t *testing.T) {
		tg := newTarget(t)
		p := newProxy(t, tg, faultproxy.Fault{Kind: faultproxy.Corrupt, Flips: 3, Seed: 9})
		got, err := post(p.URL(), body)
		if err != nil {
			t.Fatal(err)
		}
		a := tg.wait(t, 1)
		if diff := differing(a[0].body, body); len(a[0].body) != len(body) || len(diff) != 3 {
			t.Errorf("target got %d bytes differing at %v, want %d bytes differing at 3 offsets", len(a[0].body), diff, len(body))
		}
		if !bytes.Equal(got, reply(a[0].body)) {
			t.Error("the answer should pass unchanged")
		}
	})
	t.Run("CorruptWithoutBodyPasses", func(t *testing.T) {
		tg := newTarget(t)
		p := newProxy(t, tg, faultproxy.Fault{Kind: faultproxy.Corrupt, Flips: 4, Seed: 2})
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}
		resp, err := c.Get(p.URL() + "/api/v1/sync/outbound?site=kalk&after=1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET through Corrupt: %s, want 200: the head must stay intact", resp.Status)
		}
	})
	t.Run("LoseReply", func(t *testing.T) {
		tg := newTarget(t)
		p := newProxy(t, tg, faultproxy.Fault{Kind: faultproxy.LoseReply})
		if _, err := post(p.URL(), body); err == nil {
			t.Fatal("client heard the answer")
		}
		if a := tg.wait(t, 1); !bytes.Equal(a[0].body, body) || a[0].err != nil {
			t.Errorf("target got %d bytes (err %v), want the whole body", len(a[0].body), a[0].err)
		}
	})
	t.Run("CorruptReply", func(t *testing.T) {
		tg := newTarget(t)
		p := newProxy(t, tg, faultproxy.Fault{Kind: faultproxy.CorruptReply, Flips: 2, Seed: 3})
		got, err := post(p.URL(), body)
		if err != nil {
			t.Fatal(err)
		}
		if diff := differing(got, reply(body)); len(got) != len(reply(body)) || len(diff) != 2 {
			t.Errorf("answer differs at %v, want 2 offsets", diff)
		}
		if a := tg.wait(t, 1); !bytes.Equal(a[0].body, body) {
			t.Error("the request should pass unchanged")
		}
	})
	t.Run("HTTPOnlyKindsPass", func(t *testing.T) {
		tg := newTarget(t)
		p := newProxy(t, tg, faultproxy.Fault{Kind: faultproxy.Duplicate}, faultproxy.Fault{Kind: faultproxy.Reorder})
		for range 2 {
			if _, err := post(p.URL(), body); err != nil {
				t.Fatal(err)
			}
		}
		if a := tg.wait(t, 2); len(a) != 2 {
			t.Errorf("target got %d requests, want 2", len(a))
		}
		if st := p.Stats(); len(st.Faults) != 0 {
			t.Errorf("stats %v: a TCP proxy cannot duplicate or reorder", st)
		}
	})
	t.Run("TargetDown", func(t *testing.T) {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := l.Addr().String()
		l.Close()
		p, err := faultproxy.Listen(addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if _, err := post(p.URL(), body); err == nil {
			t.Fatal("answer from a target that is down")
		}
	})
	t.Run("CloseConns", func(t *testing.T) {
		tg := newTarget(t)
		p := newProxy(t, tg)
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		time.Sleep(50 * time.Millisecond) // accepted
		p.CloseConns()
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Error("connection still open")
		}
	})
}
