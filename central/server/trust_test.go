package server_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/sitekey"
)

// siteKey is a deterministic test key per site.
func siteKey(site string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("test key of " + site))
	return ed25519.NewKeyFromSeed(seed[:])
}

// siteBox is the box key of siteKey(site), as the appliance derives it.
func siteBox(site string) *ecdh.PrivateKey {
	box, err := sitekey.BoxKey(siteKey(site))
	if err != nil {
		panic(err)
	}
	return box
}

func pub(key ed25519.PrivateKey) ed25519.PublicKey { return key.Public().(ed25519.PublicKey) }

// token creates an enrollment token for site in the store, valid for ttl
// from the test clock's now.
func (e *env) token(site string, ttl time.Duration) string {
	e.t.Helper()
	now := e.Clock.Now()
	token, err := e.Store.CreateEnrollmentToken(context.Background(), site, now, now.Add(ttl))
	if err != nil {
		e.t.Fatal(err)
	}
	return token
}

// enroll enrolls key for site through the HTTP endpoint.
func (e *env) enroll(site string, key ed25519.PrivateKey) {
	e.t.Helper()
	status, body := e.postEnroll(changelog.Enrollment{Site: site, Token: e.token(site, time.Hour), PublicKey: pub(key)})
	if status != http.StatusOK {
		e.t.Fatalf("enroll %s: status %d: %s", site, status, body)
	}
}

func (e *env) postEnroll(req any) (int, string) {
	e.t.Helper()
	data, _ := json.Marshal(req)
	resp, err := http.Post(e.URL+"/api/v1/sync/enroll", "application/json", bytes.NewReader(data))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// signedWith encodes a batch of site signed with key, fresh at clk's time.
func signedWith(t *testing.T, clk *clock, key ed25519.PrivateKey, site string, entries []changelog.Entry) []byte {
	t.Helper()
	b := changelog.Batch{Version: changelog.SchemaVersion, Site: site, Entries: entries}
	if err := b.SignFresh(key, clk.Now()); err != nil {
		t.Fatal(err)
	}
	data, err := changelog.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// rejections is what the admin page lists (GET /api/v1/sync/rejections
// answers the same, behind the admin login).
func (e *env) rejections() []central.Rejection {
	e.t.Helper()
	got, err := e.Central.Rejections(context.Background(), 100)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

func (e *env) stored(site string) uint64 {
	e.t.Helper()
	var n uint64
	if err := e.Store.Scan(context.Background(), site, 0, func(changelog.Entry) error { n++; return nil }); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestEnroll(t *testing.T) {
	newKey := siteKey("replacement appliance")

	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		status, body := e.postEnroll(changelog.Enrollment{Site: "kz-porz", Token: e.token("kz-porz", time.Hour), PublicKey: pub(newKey)})
		if status != http.StatusOK {
			t.Fatalf("status = %d (%s), want 200", status, body)
		}
		var got changelog.Enrolled
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		if want := (changelog.Enrolled{Site: "kz-porz", KeyID: changelog.KeyIDString(changelog.KeyID(pub(newKey)))}); got != want {
			t.Errorf("answer = %+v, want %+v", got, want)
		}
		keys, err := e.Central.SiteKeys(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 2 || keys[1].Site != "kz-porz" || !keys[1].Active() || !keys[1].PublicKey.Equal(pub(newKey)) {
			t.Errorf("keys = %+v, want kz-innenstadt's and kz-porz's active", keys)
		}
		if got := e.rejections(); len(got) != 0 {
			t.Errorf("rejections = %+v, want none", got)
		}
	})

	t.Run("OKRepeated", func(t *testing.T) {
		// The answer got lost; the appliance sends the same request again.
		e := newEnv(t)
		req := changelog.Enrollment{Site: "kz-porz", Token: e.token("kz-porz", time.Hour), PublicKey: pub(newKey)}
		for i := range 2 {
			if status, body := e.postEnroll(req); status != http.StatusOK {
				t.Fatalf("attempt %d: status = %d (%s), want 200", i+1, status, body)
			}
		}
		// Not with another key, though.
		req.PublicKey = pub(siteKey("thief"))
		if status, _ := e.postEnroll(req); status != http.StatusUnauthorized {
			t.Errorf("used token with another key: status = %d, want 401", status)
		}
	})

	for _, tc := range []struct {
		name       string
		req        func(e *env) any
		wantStatus int
		wantError  string
	}{
		{"ErrTokenUsed", func(e *env) any {
			token := e.token("kz-porz", time.Hour)
			e.postEnroll(changelog.Enrollment{Site: "kz-porz", Token: token, PublicKey: pub(siteKey("first"))})
			return changelog.Enrollment{Site: "kz-porz", Token: token, PublicKey: pub(newKey)}
		}, http.StatusUnauthorized, "already used"},
		{"ErrTokenExpired", func(e *env) any {
			token := e.token("kz-porz", time.Hour)
			e.Clock.Add(time.Hour)
			return changelog.Enrollment{Site: "kz-porz", Token: token, PublicKey: pub(newKey)}
		}, http.StatusUnauthorized, "expired"},
		{"ErrTokenOfOtherSite", func(e *env) any {
			return changelog.Enrollment{Site: "kz-porz", Token: e.token("kz-kalk", time.Hour), PublicKey: pub(newKey)}
		}, http.StatusUnauthorized, "issued for site kz-kalk"},
		{"ErrTokenUnknown", func(e *env) any {
			return changelog.Enrollment{Site: "kz-porz", Token: "ABCDEFGHIJKLMNOPQRSTUVWXYZ", PublicKey: pub(newKey)}
		}, http.StatusUnauthorized, "unknown enrollment token"},
		{"ErrShortKey", func(e *env) any {
			return changelog.Enrollment{Site: "kz-porz", Token: e.token("kz-porz", time.Hour), PublicKey: []byte{1, 2, 3}}
		}, http.StatusBadRequest, "public key has 3 bytes"},
		{"ErrNoToken", func(e *env) any {
			return changelog.Enrollment{Site: "kz-porz", PublicKey: pub(newKey)}
		}, http.StatusBadRequest, "token"},
		{"ErrUnknownField", func(e *env) any {
			return map[string]any{"site": "kz-porz", "token": "x", "public_key": pub(newKey), "admin": true}
		}, http.StatusBadRequest, "admin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			status, body := e.postEnroll(tc.req(e))
			if status != tc.wantStatus {
				t.Fatalf("status = %d (%s), want %d", status, body, tc.wantStatus)
			}
			var got struct{ Error string }
			if err := json.Unmarshal([]byte(body), &got); err != nil || !strings.Contains(got.Error, tc.wantError) {
				t.Errorf("error = %q (%v), want it to contain %q", got.Error, err, tc.wantError)
			}
			// The refused key is nowhere: the site keeps no active key.
			keys, _ := e.Store.KeysByID(context.Background(), changelog.KeyID(pub(newKey)))
			if len(keys) != 0 {
				t.Errorf("refused key stored: %+v", keys)
			}
			rej := e.rejections()
			if len(rej) != 1 || rej[0].Status != tc.wantStatus || !strings.HasPrefix(rej[0].Reason, "enrollment: ") || rej[0].RemoteAddr == "" {
				t.Errorf("rejections = %+v, want one enrollment refusal with %d", rej, tc.wantStatus)
			}
		})
	}
}

// TestSync_ErrTrust: central refuses, before storing anything, every batch
// not signed by its site's active key, and records why.
func TestSync_ErrTrust(t *testing.T) {
	otherSite := "kz-porz"
	for _, tc := range []struct {
		name       string
		body       func(e *env, l *siteLog) []byte
		wantStatus int
		wantError  string
	}{
		{"Unsigned", func(e *env, l *siteLog) []byte {
			data, _ := changelog.Marshal(changelog.Batch{Version: changelog.SchemaVersion, Site: siteID, Entries: l.slice(6, 7)})
			return data
		}, http.StatusUnauthorized, "not signed"},
		{"UnknownKey", func(e *env, l *siteLog) []byte {
			return signedWith(t, e.Clock, siteKey("stranger"), siteID, l.slice(6, 7))
		}, http.StatusUnauthorized, "unknown key"},
		{"BadSignature", func(e *env, l *siteLog) []byte {
			b := changelog.Batch{Version: changelog.SchemaVersion, Site: siteID, Entries: l.slice(6, 7)}
			b.Sign(siteKey(siteID))
			b.Entries = b.Entries[:1] // a batch cut down after signing
			data, _ := changelog.Marshal(b)
			return data
		}, http.StatusUnauthorized, "does not verify"},
		{"RevokedKey", func(e *env, l *siteLog) []byte {
			if _, err := e.Store.RevokeSiteKeys(context.Background(), siteID, e.Clock.Now()); err != nil {
				t.Fatal(err)
			}
			return l.batch(6, 7)
		}, http.StatusForbidden, "revoked"},
		{"OtherSitesKey", func(e *env, l *siteLog) []byte {
			// Site kz-porz's appliance signs entries claiming to be siteID.
			e.enroll(otherSite, siteKey(otherSite))
			return signedWith(t, e.Clock, siteKey(otherSite), siteID, l.slice(6, 7))
		}, http.StatusForbidden, "belongs to another site"},
		{"ReplayedForOtherSite", func(e *env, l *siteLog) []byte {
			// siteID's heartbeat, sent again as kz-porz's.
			e.enroll(otherSite, siteKey(otherSite))
			b := changelog.Batch{Version: changelog.SchemaVersion, Site: siteID}
			b.Sign(siteKey(siteID))
			b.Site = otherSite
			data, _ := changelog.Marshal(b)
			return data
		}, http.StatusForbidden, "belongs to another site"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			l := opening(t, e.Clock)
			e.mustPost(l.batch(1, 5))
			call(l)
			before := e.site()
			e.Clock.Add(time.Minute)
			body := tc.body(e, l)
			status, ack := e.post(body)
			if status != tc.wantStatus {
				t.Fatalf("status = %d (ack %+v), want %d", status, ack, tc.wantStatus)
			}
			if !strings.Contains(ack.Error, tc.wantError) {
				t.Errorf("ack error = %q, want it to contain %q", ack.Error, tc.wantError)
			}
			if ack.Acked != 0 {
				t.Errorf("ack tells the position %d to an unauthenticated sender", ack.Acked)
			}
			// Nothing stored, nothing folded, not even the contact.
			if got, want := e.stored(siteID), uint64(5); got != want {
				t.Errorf("stored entries = %d, want %d", got, want)
			}
			if got, want := e.stored(otherSite), uint64(0); got != want {
				t.Errorf("stored entries of %s = %d, want %d", otherSite, got, want)
			}
			if got, want := applied(t, e), uint64(5); got != want {
				t.Errorf("events folded = %d, want %d", got, want)
			}
			if got := e.site(); got != before {
				t.Errorf("site after refused batch = %+v, want %+v", got, before)
			}
			if got, want := e.ticket(tokenA).Status, queue.StatusWaiting; got != want {
				t.Errorf("A001 status = %q, want %q", got, want)
			}
			// Recorded for admins, logged without the remote address.
			rej := e.rejections()
			if len(rej) != 1 {
				t.Fatalf("rejections = %+v, want 1", rej)
			}
			r := rej[0]
			if r.Status != tc.wantStatus || !strings.Contains(r.Reason, tc.wantError) || r.Site == "" ||
				!strings.HasPrefix(r.RemoteAddr, "127.0.0.1:") || !r.At.Equal(e.Clock.Now()) {
				t.Errorf("rejection = %+v", r)
			}
			if tc.name == "Unsigned" {
				if r.KeyID != "" || r.Entries != 2 {
					t.Errorf("rejection of unsigned batch = %+v, want no key id, 2 entries", r)
				}
			}
			if logs := e.Logs.String(); !strings.Contains(logs, "sync request rejected") || strings.Contains(logs, r.RemoteAddr) {
				t.Errorf("log should name the rejection but not the remote address %s:\n%s", r.RemoteAddr, logs)
			}
		})
	}
}

// TestSync_Reenroll: enrolling the site again (a replaced appliance)
// revokes the old key; the new appliance continues the log without a gap.
func TestSync_Reenroll(t *testing.T) {
	e := newEnv(t)
	l := opening(t, e.Clock)
	e.mustPost(l.batch(1, 5))
	call(l)

	replacement := siteKey("replacement appliance")
	e.enroll(siteID, replacement)

	status, ack := e.post(l.batch(6, 7)) // the old appliance's key
	if status != http.StatusForbidden || !strings.Contains(ack.Error, "revoked") {
		t.Fatalf("old key after re-enrollment: status %d, ack %+v; want 403 revoked", status, ack)
	}
	status, ack = e.post(signedWith(t, e.Clock, replacement, siteID, l.slice(6, 7)))
	if status != http.StatusOK || ack.Acked != 7 {
		t.Fatalf("new key: status %d, ack %+v; want 200 acked 7", status, ack)
	}
	if got, want := e.stored(siteID), uint64(7); got != want {
		t.Errorf("stored = %d, want %d", got, want)
	}
	if got, want := e.ticket(tokenA).Status, queue.StatusCalled; got != want {
		t.Errorf("A001 status = %q, want %q", got, want)
	}
	keys, _ := e.Central.SiteKeys(context.Background())
	var active int
	for _, k := range keys {
		if k.Site == siteID && k.Active() {
			active++
			if !k.PublicKey.Equal(pub(replacement)) {
				t.Errorf("active key is %s, want the replacement's", k.KeyID)
			}
		}
	}
	if active != 1 {
		t.Errorf("%d active keys for %s, want 1: %+v", active, siteID, keys)
	}
}

func TestRejections(t *testing.T) {
	e := newEnv(t)
	for range 3 {
		e.post([]byte{0xff}) // malformed: recorded too
	}
	e.post(mustBatch(t, e.Clock, "kz-unknown", nil))
	got := e.rejections()
	// Aggregated per source, kind and status: the three malformed ones
	// are one record that counts three.
	if len(got) != 2 {
		t.Fatalf("rejections = %+v, want 2 aggregates", got)
	}
	if got[0].Site != "kz-unknown" || got[0].Status != http.StatusUnauthorized || got[0].Count != 1 ||
		got[1].Status != http.StatusBadRequest || got[1].Count != 3 {
		t.Errorf("rejections not newest first, or miscounted: %+v", got)
	}
	if got[1].Source != "127.0.0.1" || got[1].Kind != "POST /api/v1/sync/batches" {
		t.Errorf("source %q, kind %q; want 127.0.0.1 and the route", got[1].Source, got[1].Kind)
	}
	latest, err := e.Central.Rejections(context.Background(), 2)
	if err != nil || len(latest) != 2 {
		t.Fatalf("Central.Rejections(2) = %+v, %v; want 2", latest, err)
	}
	if a, b := latest[0], got[0]; !a.At.Equal(b.At) || a.Site != b.Site || a.Reason != b.Reason || a.RemoteAddr != b.RemoteAddr {
		t.Errorf("Central.Rejections(2)[0] = %+v, want %+v", a, b)
	}
	// A claimed site of any length is recorded cut short.
	e.post(mustBatch(t, e.Clock, strings.Repeat("x", 5000), nil))
	if got := e.rejections()[0].Site; len(got) > 210 {
		t.Errorf("recorded site has %d bytes", len(got))
	}
}

// TestRejectionsAPI: GET /api/v1/sync/rejections lists the same records,
// for admins only.
func TestRejectionsAPI(t *testing.T) {
	e := newEnv(t)
	if err := e.Store.CreateAdmin(context.Background(), "it-ops", central.RoleTechnician, "secret-password", e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.post(mustBatch(t, e.Clock, "kz-unknown", nil))
	e.post([]byte{0xff})
	get := func(query string, auth bool) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/api/v1/sync/rejections"+query, nil)
		if auth {
			req.SetBasicAuth("it-ops", "secret-password")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	if status, _ := get("", false); status != http.StatusUnauthorized {
		t.Errorf("without login: status %d, want 401", status)
	}
	status, body := get("?limit=1", true)
	var got []central.Rejection
	if err := json.Unmarshal(body, &got); status != http.StatusOK || err != nil || len(got) != 1 {
		t.Fatalf("limit=1: status %d, %v, %s; want one rejection", status, err, body)
	}
	if got[0].Status != http.StatusBadRequest || got[0].RemoteAddr == "" {
		t.Errorf("newest rejection = %+v, want the malformed batch with its remote address", got[0])
	}
	for _, q := range []string{"0", "x", "1001"} {
		if status, body := get("?limit="+q, true); status != http.StatusBadRequest || !strings.Contains(string(body), "limit") {
			t.Errorf("limit=%s: status %d, %s; want 400", q, status, body)
		}
	}
}
