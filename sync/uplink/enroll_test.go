package uplink_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/uplink"
)

// trustingCentral is fakeCentral behind enrollment: it enrolls a key with
// its one valid token and accepts only batches signed by that key.
type trustingCentral struct {
	fakeCentral

	tmu       sync.Mutex
	token     string
	tokenUsed bool
	key       ed25519.PublicKey
	enrolls   int
	loseReply bool // store the enrollment, then answer 502 (once)
	refused   int  // batches refused for their signature
}

func (c *trustingCentral) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/api/v1/sync/enroll":
		c.enroll(w, r)
	case "/api/v1/sync/batches":
		data, _ := io.ReadAll(r.Body)
		b, err := changelog.ReadBatch(bytes.NewReader(data))
		c.tmu.Lock()
		key := c.key
		c.tmu.Unlock()
		if err == nil && (key == nil || b.VerifySignature(key) != nil) {
			c.tmu.Lock()
			c.refused++
			c.tmu.Unlock()
			ack, _ := changelog.Marshal(changelog.Ack{Site: b.Site, Error: "unknown key"})
			w.WriteHeader(http.StatusUnauthorized)
			w.Write(ack)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(data))
		c.fakeCentral.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (c *trustingCentral) enroll(w http.ResponseWriter, r *http.Request) {
	c.tmu.Lock()
	defer c.tmu.Unlock()
	c.enrolls++
	var req changelog.Enrollment
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Site != "kalk" || len(req.PublicKey) != ed25519.PublicKeySize {
		http.Error(w, `{"error": "bad request"}`, http.StatusBadRequest)
		return
	}
	pub := ed25519.PublicKey(req.PublicKey)
	switch {
	case req.Token != c.token:
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error": "unknown enrollment token"}`))
		return
	case c.tokenUsed && !pub.Equal(c.key):
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error": "enrollment token was already used"}`))
		return
	}
	c.tokenUsed, c.key = true, pub
	if c.loseReply {
		c.loseReply = false
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	json.NewEncoder(w).Encode(changelog.Enrolled{Site: req.Site, KeyID: changelog.KeyIDString(changelog.KeyID(pub))})
}

func (c *trustingCentral) counts() (enrolls, refused int) {
	c.tmu.Lock()
	defer c.tmu.Unlock()
	return c.enrolls, c.refused
}

// memEnrollments is the site's record of its enrollment, in memory.
type memEnrollments struct {
	mu               sync.Mutex
	keyID, tokenHash string
}

func (m *memEnrollments) EnrolledKey(context.Context) (string, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.keyID, m.tokenHash, nil
}

func (m *memEnrollments) SetEnrolledKey(_ context.Context, keyID, tokenHash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keyID, m.tokenHash = keyID, tokenHash
	return nil
}

func (m *memEnrollments) get() (string, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.keyID, m.tokenHash
}

// countingHandler counts log records by level.
type countingHandler struct {
	mu     sync.Mutex
	errors []string
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.mu.Lock()
		h.errors = append(h.errors, r.Message)
		h.mu.Unlock()
	}
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }

func (h *countingHandler) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.errors)
}

func testKey(b byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
}

func keyID(key ed25519.PrivateKey) string {
	return changelog.KeyIDString(changelog.KeyID(key.Public().(ed25519.PublicKey)))
}

func TestUplink_Enrollment(t *testing.T) {
	const token = "TOKEN0123456789TOKEN012345"
	key := testKey(1)

	t.Run("OK", func(t *testing.T) {
		out, central, rec := newOutbox(), &trustingCentral{token: token}, &memEnrollments{}
		out.commit(t, 12)
		u := startServing(t, out, central, func(u *uplink.Uplink) { u.Key, u.EnrollToken, u.Enrollments = key, token, rec })
		waitFor(t, "central has all 12", func() bool { return central.count() == 12 })
		if id, hash := rec.get(); id != keyID(key) || hash == "" || strings.Contains(hash, token) {
			t.Errorf("recorded enrollment = %q, %q; want the key id and the token's hash", id, hash)
		}
		if st := u.Status(); !st.Enrolled || st.KeyID != keyID(key) {
			t.Errorf("status = %+v, want enrolled with %s", st, keyID(key))
		}
		if enrolls, refused := central.counts(); enrolls != 1 || refused != 0 {
			t.Errorf("%d enrollments, %d refused batches; want 1, 0", enrolls, refused)
		}
	})

	t.Run("OKLostAnswer", func(t *testing.T) {
		out, central, rec := newOutbox(), &trustingCentral{token: token, loseReply: true}, &memEnrollments{}
		out.commit(t, 3)
		startServing(t, out, central, func(u *uplink.Uplink) { u.Key, u.EnrollToken, u.Enrollments = key, token, rec })
		waitFor(t, "central has all 3", func() bool { return central.count() == 3 })
		if enrolls, _ := central.counts(); enrolls != 2 {
			t.Errorf("%d enrollment requests, want 2 (the first answer was lost)", enrolls)
		}
	})

	t.Run("TokenUsedOnlyOnce", func(t *testing.T) {
		// Restarted with the token still configured: no second enrollment.
		out, central := newOutbox(), &trustingCentral{token: token, tokenUsed: true, key: key.Public().(ed25519.PublicKey)}
		rec := &memEnrollments{}
		first := &trustingCentral{token: token}
		out.commit(t, 2)
		startServing(t, out, first, func(u *uplink.Uplink) { u.Key, u.EnrollToken, u.Enrollments = key, token, rec })
		waitFor(t, "first run syncs", func() bool { return first.count() == 2 })

		out2 := newOutbox()
		out2.commit(t, 4)
		startServing(t, out2, central, func(u *uplink.Uplink) { u.Key, u.EnrollToken, u.Enrollments = key, token, rec })
		waitFor(t, "second run syncs", func() bool { return central.count() == 4 })
		if enrolls, _ := central.counts(); enrolls != 0 {
			t.Errorf("%d enrollment requests with a used token, want 0", enrolls)
		}
	})

	t.Run("RefusedTokenKeepsEverything", func(t *testing.T) {
		out, central, rec := newOutbox(), &trustingCentral{token: token}, &memEnrollments{}
		logs := &countingHandler{}
		out.commit(t, 5)
		u := startServing(t, out, central, func(u *uplink.Uplink) {
			u.Key, u.EnrollToken, u.Enrollments, u.Logger = key, "WRONG-TOKEN", rec, slog.New(logs)
		})
		waitFor(t, "several attempts", func() bool { n, _ := central.counts(); return n >= 3 })
		if st := u.Status(); !strings.Contains(st.LastError, "unknown enrollment token") || st.Enrolled {
			t.Errorf("status = %+v, want the refusal, not enrolled", st)
		}
		if _, refused := central.counts(); refused != 0 || central.count() != 0 {
			t.Errorf("batches sent before enrollment: %d refused, %d stored", refused, central.count())
		}
		if a, _ := out.AckedSeq(context.Background()); a != 0 || out.LastSeq() != 5 {
			t.Errorf("acked %d of %d; want everything kept", a, out.LastSeq())
		}
		if n := logs.count(); n != 1 {
			t.Errorf("%d error logs, want the refusal logged once", n)
		}
	})

	t.Run("NewTokenWhileEnrolledRefused", func(t *testing.T) {
		// Enrolled already; a new token that central refuses does not stop
		// the pushes under the existing enrollment.
		central := &trustingCentral{token: token, tokenUsed: true, key: key.Public().(ed25519.PublicKey)}
		rec := &memEnrollments{keyID: keyID(key), tokenHash: "old"}
		out := newOutbox()
		out.commit(t, 6)
		startServing(t, out, central, func(u *uplink.Uplink) { u.Key, u.EnrollToken, u.Enrollments = key, "ANOTHER-TOKEN", rec })
		waitFor(t, "central has all 6", func() bool { return central.count() == 6 })
	})

	t.Run("NewKeyNeedsNewToken", func(t *testing.T) {
		// The key file was lost: the recorded enrollment is another key's,
		// and the configured token is the used one. Central refuses the
		// batches; the site keeps them.
		central := &trustingCentral{token: token, tokenUsed: true, key: key.Public().(ed25519.PublicKey)}
		rec := &memEnrollments{}
		out := newOutbox()
		out.commit(t, 1)
		startServing(t, out, central, func(u *uplink.Uplink) { u.Key, u.EnrollToken, u.Enrollments = key, token, rec })
		waitFor(t, "enrolled", func() bool { return central.count() == 1 })

		lost := testKey(2)
		out.commit(t, 1)
		u := startServing(t, out, central, func(u *uplink.Uplink) { u.Key, u.EnrollToken, u.Enrollments = lost, token, rec })
		waitFor(t, "refused", func() bool { _, refused := central.counts(); return refused >= 1 })
		if st := u.Status(); st.Enrolled || st.KeyID != keyID(lost) {
			t.Errorf("status = %+v, want not enrolled with key %s", st, keyID(lost))
		}
		if enrolls, _ := central.counts(); enrolls != 1 {
			t.Errorf("%d enrollments, want 1: the used token is not tried again", enrolls)
		}
	})
}

// startServing runs an uplink against any handler, tuned as start does.
func startServing(t *testing.T, out *memOutbox, h http.Handler, tune func(*uplink.Uplink)) *uplink.Uplink {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u := &uplink.Uplink{Outbox: out, Site: "kalk", CentralURL: srv.URL, MaxBackoff: 50 * time.Millisecond,
		RefusedBackoff: 100 * time.Millisecond, Heartbeat: time.Hour}
	if tune != nil {
		tune(u)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { u.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return u
}
