package faultproxy_test

import (
	"bytes"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/veedel/veedel/internal/faultproxy"
)

func newHandler(t *testing.T, tg *target, faults ...faultproxy.Fault) (*faultproxy.Handler, string) {
	t.Helper()
	h, err := faultproxy.NewHandler(tg.URL, faultproxy.Script(faults...))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		h.Close()
	})
	return h, srv.URL
}

func TestHandler(t *testing.T) {
	body := payload()
	t.Run("Pass", func(t *testing.T) {
		tg := newTarget(t)
		_, url := newHandler(t, tg)
		got, err := post(url+"/api/v1/sync/batches?x=1", body)
		if err != nil || !bytes.Equal(got, reply(body)) {
			t.Fatalf("answer %d bytes, %v", len(got), err)
		}
		if a := tg.wait(t, 1); !bytes.Equal(a[0].body, body) {
			t.Error("target got another body")
		}
	})
	t.Run("Drop", func(t *testing.T) {
		tg := newTarget(t)
		h, url := newHandler(t, tg, faultproxy.Fault{Kind: faultproxy.Drop})
		if _, err := post(url, body); err == nil {
			t.Fatal("dropped request answered")
		}
		time.Sleep(100 * time.Millisecond)
		if a := tg.arrivals(); len(a) != 0 {
			t.Errorf("target got %d requests, want none", len(a))
		}
		if st := h.Stats(); st.Faults[faultproxy.Drop] != 1 {
			t.Errorf("stats %v", st)
		}
	})
	t.Run("Delay", func(t *testing.T) {
		tg := newTarget(t)
		_, url := newHandler(t, tg, faultproxy.Fault{Kind: faultproxy.Delay, Delay: 300 * time.Millisecond})
		start := time.Now()
		if _, err := post(url, body); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Errorf("answered after %v, want at least 300ms", d)
		}
	})
	t.Run("CutMidBody", func(t *testing.T) {
		tg := newTarget(t)
		_, url := newHandler(t, tg, faultproxy.Fault{Kind: faultproxy.Cut, Fraction: 0.25})
		if _, err := post(url, body); err == nil {
			t.Fatal("cut request answered")
		}
		a := tg.wait(t, 1)
		if a[0].err == nil || !bytes.Equal(a[0].body, body[:len(body)/4]) {
			t.Errorf("target read %d bytes (err %v), want the first %d and an error", len(a[0].body), a[0].err, len(body)/4)
		}
	})
	t.Run("Corrupt", func(t *testing.T) {
		tg := newTarget(t)
		_, url := newHandler(t, tg, faultproxy.Fault{Kind: faultproxy.Corrupt, Flips: 4, Seed: 1})
		got, err := post(url, body)
		if err != nil {
			t.Fatal(err)
		}
		a := tg.wait(t, 1)
		if diff := differing(a[0].body, body); len(a[0].body) != len(body) || len(diff) != 4 {
			t.Errorf("target got a body differing at %v, want 4 offsets", diff)
		}
		if !bytes.Equal(got, reply(a[0].body)) {
			t.Error("the answer should pass unchanged")
		}
	})
	t.Run("LoseReply", func(t *testing.T) {
		tg := newTarget(t)
		_, url := newHandler(t, tg, faultproxy.Fault{Kind: faultproxy.LoseReply})
		if _, err := post(url, body); err == nil {
			t.Fatal("client heard the answer")
		}
		if a := tg.wait(t, 1); !bytes.Equal(a[0].body, body) {
			t.Error("target should get the whole request")
		}
	})
	t.Run("CorruptReply", func(t *testing.T) {
		tg := newTarget(t)
		_, url := newHandler(t, tg, faultproxy.Fault{Kind: faultproxy.CorruptReply, Flips: 1, Seed: 5})
		got, err := post(url, body)
		if err != nil {
			t.Fatal(err)
		}
		if diff := differing(got, reply(body)); len(diff) != 1 {
			t.Errorf("answer differs at %v, want 1 offset", diff)
		}
	})
	t.Run("Duplicate", func(t *testing.T) {
		tg := newTarget(t)
		_, url := newHandler(t, tg, faultproxy.Fault{Kind: faultproxy.Duplicate})
		got, err := post(url, body)
		if err != nil || !bytes.Equal(got, reply(body)) {
			t.Fatalf("answer %d bytes, %v", len(got), err)
		}
		a := tg.wait(t, 2)
		if len(a) != 2 || !bytes.Equal(a[0].body, body) || !bytes.Equal(a[1].body, body) {
			t.Errorf("target got %d requests, want the same body twice", len(a))
		}
	})
	t.Run("Reorder", func(t *testing.T) {
		tg := newTarget(t)
		_, url := newHandler(t, tg, faultproxy.Fault{Kind: faultproxy.Reorder, Delay: 10 * time.Second})
		first, second := []byte("first"), []byte("second")
		if _, err := post(url, first); err == nil {
			t.Fatal("held request answered")
		}
		time.Sleep(50 * time.Millisecond)
		if a := tg.arrivals(); len(a) != 0 {
			t.Fatalf("held request arrived at once")
		}
		if got, err := post(url, second); err != nil || !bytes.Equal(got, reply(second)) {
			t.Fatalf("next request: %q, %v", got, err)
		}
		a := tg.wait(t, 2)
		if !bytes.Equal(a[0].body, second) || !bytes.Equal(a[1].body, first) {
			t.Errorf("target got %q then %q, want second then first", a[0].body, a[1].body)
		}
	})
	t.Run("ReorderHoldsAtMostDelay", func(t *testing.T) {
		tg := newTarget(t)
		_, url := newHandler(t, tg, faultproxy.Fault{Kind: faultproxy.Reorder, Delay: 200 * time.Millisecond})
		start := time.Now()
		post(url, body)
		a := tg.wait(t, 1)
		if d := time.Since(start); d < 200*time.Millisecond || !bytes.Equal(a[0].body, body) {
			t.Errorf("held request arrived after %v, want the body after 200ms", d)
		}
	})
	t.Run("CloseDeliversHeld", func(t *testing.T) {
		tg := newTarget(t)
		h, url := newHandler(t, tg, faultproxy.Fault{Kind: faultproxy.Reorder, Delay: time.Minute})
		post(url, body)
		h.Close()
		if a := tg.wait(t, 1); !bytes.Equal(a[0].body, body) {
			t.Error("held request lost on Close")
		}
	})
	t.Run("TargetDown", func(t *testing.T) {
		tg := newTarget(t)
		_, url := newHandler(t, tg)
		tg.Close()
		if _, err := post(url, body); err == nil {
			t.Fatal("answer from a target that is down")
		}
	})
	t.Run("BadTarget", func(t *testing.T) {
		if _, err := faultproxy.NewHandler("ftp://x", nil); err == nil {
			t.Error("ftp target accepted")
		}
	})
}
