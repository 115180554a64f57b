package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/server"
	"github.com/veedel/veedel/sync/changelog"
)

// Sync requests are fresh and single-use (issue 9, findings 2, 5 and 6).

// signedPoll is a download poll for siteID signed at the test clock's now,
// with the site's box key when it asks for hand-overs.
func (e *env) signedPoll(query string, at time.Time) *http.Request {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.URL+"/api/v1/sync/outbound?"+query, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/cbor")
	if strings.Contains(query, "sms=1") {
		req.Header.Set(changelog.HeaderBoxKey, base64.RawURLEncoding.EncodeToString(siteBox(siteID).PublicKey().Bytes()))
	}
	changelog.SignRequest(req, siteID, siteKey(siteID), at)
	return req
}

// send sends a copy of req (same headers: a replay when sent twice).
func (e *env) send(req *http.Request) (int, changelog.Download, []byte) {
	e.t.Helper()
	again, err := http.NewRequest(req.Method, req.URL.String(), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	again.Header = req.Header.Clone()
	resp, err := http.DefaultClient.Do(again)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	dl, err := changelog.ReadDownload(bytes.NewReader(raw))
	if err != nil {
		e.t.Fatalf("poll answer: %v", err)
	}
	return resp.StatusCode, *dl, raw
}

// rejected returns the aggregate of kind and status, if recorded.
func (e *env) rejected(kind string, status int) (central.Rejection, bool) {
	e.t.Helper()
	for _, r := range e.rejections() {
		if r.Kind == kind && r.Status == status {
			return r, true
		}
	}
	return central.Rejection{}, false
}

// TestPoll_ReplayRefused: a captured poll, replayed, is refused and
// recorded; the SMS hand-over it carried is not handed out again.
func TestPoll_ReplayRefused(t *testing.T) {
	e := newEnv(t)
	e.mustPost(opening(t, e.Clock).batch(1, 5))
	e.poll("site=" + siteID + "&after=5&sms=1") // the site takes hand-overs
	if _, err := e.Central.SignUpSMS(context.Background(), tokenA, mobile, "de"); err != nil {
		t.Fatal(err)
	}
	poll := e.signedPoll("site="+siteID+"&after=0&sms=1", e.Clock.Now())
	status, dl, _ := e.send(poll)
	if status != http.StatusOK || len(dl.SMS) != 1 {
		t.Fatalf("the site's poll: status %d, %d hand-overs; want 200 with the hand-over", status, len(dl.SMS))
	}
	for _, wait := range []time.Duration{time.Second, 4 * time.Minute} {
		e.Clock.Add(wait)
		status, dl, _ = e.send(poll)
		if status != http.StatusUnauthorized || len(dl.SMS) != 0 || len(dl.Entries) != 0 || !strings.Contains(dl.Error, "replay") {
			t.Errorf("replay after %v: status %d, %d entries, %d hand-overs, error %q; want 401 (replay) and nothing", wait, status, len(dl.Entries), len(dl.SMS), dl.Error)
		}
	}
	// Beyond the window the nonce is forgotten, and the time refuses it.
	e.Clock.Add(2 * time.Minute)
	status, dl, _ = e.send(poll)
	if status != http.StatusUnauthorized || len(dl.SMS) != 0 || !strings.Contains(dl.Error, "from central's clock") {
		t.Errorf("replay after the window: status %d, %d hand-overs, error %q; want 401 (time)", status, len(dl.SMS), dl.Error)
	}
	rej, ok := e.rejected("GET /api/v1/sync/outbound", http.StatusUnauthorized)
	if !ok || rej.Count != 3 || rej.Site != siteID {
		t.Errorf("recorded %+v (found %v), want the three replays counted for %s", rej, ok, siteID)
	}
}

// TestPoll_ErrOutsideWindow: a poll signed more than the window before or
// after central's clock is refused and recorded; within it, it passes.
func TestPoll_ErrOutsideWindow(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		skew time.Duration
		want int
	}{
		{-changelog.FreshWindow - time.Second, http.StatusUnauthorized},
		{changelog.FreshWindow + time.Second, http.StatusUnauthorized},
		{-changelog.FreshWindow + time.Second, http.StatusOK},
		{changelog.FreshWindow - time.Second, http.StatusOK},
	} {
		status, _, _ := e.send(e.signedPoll("site="+siteID+"&after=0", e.Clock.Now().Add(tc.skew)))
		if status != tc.want {
			t.Errorf("poll signed %v off: status %d, want %d", tc.skew, status, tc.want)
		}
	}
	if rej, ok := e.rejected("GET /api/v1/sync/outbound", http.StatusUnauthorized); !ok || rej.Count != 2 {
		t.Errorf("recorded %+v, want the two stale polls", rej)
	}
}

// TestPoll_WithoutNonceGetsNoPersonalData: an older appliance's poll
// (signed without nonce, "veedel-request-v1") still gets its entries, but
// no SMS hand-over: it could be a replay, and its box key is not signed.
func TestPoll_WithoutNonceGetsNoPersonalData(t *testing.T) {
	e := newEnv(t)
	e.mustPost(opening(t, e.Clock).batch(1, 5))
	e.boxKeyRecorded()
	if _, err := e.Central.SignUpSMS(context.Background(), tokenA, mobile, "de"); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/api/v1/sync/outbound?site="+siteID+"&after=0&sms=1", nil)
	at := strconv.FormatInt(e.Clock.Now().UnixMilli(), 10)
	req.Header.Set(changelog.HeaderSite, siteID)
	req.Header.Set(changelog.HeaderKeyID, changelog.KeyIDString(changelog.KeyID(pub(siteKey(siteID)))))
	req.Header.Set(changelog.HeaderTime, at)
	req.Header.Set(changelog.HeaderBoxKey, base64.RawURLEncoding.EncodeToString(siteBox(siteID).PublicKey().Bytes()))
	sig := ed25519.Sign(siteKey(siteID), []byte("veedel-request-v1\nGET\n"+req.URL.RequestURI()+"\n"+siteID+"\n"+at))
	req.Header.Set(changelog.HeaderSignature, base64.StdEncoding.EncodeToString(sig))
	status, dl, raw := e.send(req)
	if status != http.StatusOK {
		t.Fatalf("old appliance's poll: status %d (%s); want 200", status, dl.Error)
	}
	if len(dl.SMS) != 0 || bytes.Contains(raw, []byte("4917012345678")) {
		t.Errorf("old appliance's poll got %d hand-overs", len(dl.SMS))
	}
	if e.Central.SMSOffered(siteID) {
		t.Error("SMS sign-up still offered for a site that cannot receive it sealed")
	}
}

// TestBatch_ReplayRefused: a captured batch with entries, replayed, is
// neither stored twice nor makes the silent site look live: within the
// window its nonce refuses it, after it its time; an older appliance's
// batch without nonce is taken idempotently but is not contact.
func TestBatch_ReplayRefused(t *testing.T) {
	e := newEnv(t)
	l := opening(t, e.Clock)
	captured := l.batch(1, 5)
	e.mustPost(captured)
	contact := e.site().LastSync
	e.Clock.Add(time.Minute)
	if status, ack := e.post(captured); status != http.StatusUnauthorized || !strings.Contains(ack.Error, "replay") {
		t.Errorf("replay within the window: status %d, %+v; want 401 (replay)", status, ack)
	}
	e.Clock.Add(StaleAfter())
	if status, ack := e.post(captured); status != http.StatusUnauthorized || !strings.Contains(ack.Error, "from central's clock") {
		t.Errorf("replay after the window: status %d, %+v; want 401 (time)", status, ack)
	}
	// The same entries without nonce, as an appliance built before nonces
	// sends them (or an attacker who strips it: then the signature fails).
	legacy := changelog.Batch{Version: changelog.SchemaVersion, Site: siteID, Entries: l.slice(1, 5), SentAt: changelog.HLCAt(e.Clock.Now())}
	if err := legacy.Sign(siteKey(siteID)); err != nil {
		t.Fatal(err)
	}
	data, _ := changelog.Marshal(legacy)
	if ack := e.mustPost(data); ack.Acked != 5 {
		t.Errorf("batch without nonce: ack %+v, want acked 5", ack)
	}
	var stripped changelog.Batch
	if err := changelog.Unmarshal(captured, &stripped); err != nil {
		t.Fatal(err)
	}
	stripped.Nonce = nil
	data, _ = changelog.Marshal(stripped)
	if status, _ := e.post(data); status != http.StatusUnauthorized {
		t.Errorf("captured batch with its nonce stripped: status %d, want 401", status)
	}
	s := e.site()
	if !s.Stale || !s.LastSync.Equal(contact) {
		t.Errorf("after the replays: stale %v, last sync %v; want stale, last sync %v", s.Stale, s.LastSync, contact)
	}
	if got := applied(t, e); got != 5 {
		t.Errorf("events folded = %d, want 5 (nothing twice)", got)
	}
	// The site itself, sending fresh, is live again.
	e.mustPost(heartbeat(t, siteID, e.Clock.Now(), true))
	if s := e.site(); s.Stale || !s.LastSync.Equal(e.Clock.Now()) {
		t.Errorf("after a fresh heartbeat: %+v, want live", s)
	}
}

// StaleAfter is the portal's staleness threshold plus a minute.
func StaleAfter() time.Duration { return central.StaleAfter + time.Minute }

// TestBatch_ErrFutureDated: a batch signed beyond the window ahead of
// central's clock is refused; one within it is taken.
func TestBatch_ErrFutureDated(t *testing.T) {
	e := newEnv(t)
	l := opening(t, e.Clock)
	b := changelog.Batch{Version: changelog.SchemaVersion, Site: siteID, Entries: l.slice(1, 5)}
	if err := b.SignFresh(siteKey(siteID), e.Clock.Now().Add(changelog.FreshWindow+time.Second)); err != nil {
		t.Fatal(err)
	}
	data, _ := changelog.Marshal(b)
	if status, _ := e.post(data); status != http.StatusUnauthorized {
		t.Errorf("future-dated batch: status %d, want 401", status)
	}
	if err := b.SignFresh(siteKey(siteID), e.Clock.Now().Add(changelog.FreshWindow-time.Second)); err != nil {
		t.Fatal(err)
	}
	data, _ = changelog.Marshal(b)
	if ack := e.mustPost(data); ack.Acked != 5 {
		t.Errorf("batch within the window: %+v, want acked 5", ack)
	}
}

// TestSMS_SealedToSite: the number travels sealed to the receiving site's
// box key: the poll answer's bytes do not contain it, the site opens it,
// another site's key does not, nor does it open for another ticket.
func TestSMS_SealedToSite(t *testing.T) {
	e := newEnv(t)
	e.mustPost(opening(t, e.Clock).batch(1, 5))
	e.boxKeyRecorded()
	if _, err := e.Central.SignUpSMS(context.Background(), tokenA, mobile, "de"); err != nil {
		t.Fatal(err)
	}
	r := e.poll("site=" + siteID + "&after=0&sms=1")
	if r.status != http.StatusOK || len(r.dl.SMS) != 1 {
		t.Fatalf("poll: status %d, %d hand-overs", r.status, len(r.dl.SMS))
	}
	for _, clear := range []string{mobile, strings.TrimPrefix(mobile, "+"), "12345678"} {
		if bytes.Contains(r.raw, []byte(clear)) {
			t.Errorf("the poll answer contains %q in clear", clear)
		}
	}
	h := r.dl.SMS[0]
	if h.Phone != "" || len(h.Sealed) == 0 {
		t.Fatalf("hand-over %#v: want the number sealed", h)
	}
	opened, err := changelog.OpenSMS(h, siteID, siteBox(siteID))
	if err != nil || opened.Phone != mobile {
		t.Fatalf("the site opens %v, %v; want %s", opened, err, "the number")
	}
	if _, err := changelog.OpenSMS(h, "kz-porz", siteBox("kz-porz")); err == nil {
		t.Error("another site's key opens the number")
	}
	if _, err := changelog.OpenSMS(h, "kz-porz", siteBox(siteID)); err == nil {
		t.Error("the number opens as another site's")
	}
	moved := h
	moved.Ticket = "2026-03-04/A002"
	if _, err := changelog.OpenSMS(moved, siteID, siteBox(siteID)); err == nil {
		t.Error("the sealed number opens for another ticket")
	}
}

// countingHandler counts log records.
type countingHandler struct {
	mu sync.Mutex
	n  int
}

func (h *countingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (h *countingHandler) Handle(context.Context, slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n++
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }
func (h *countingHandler) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// TestRejections_Flood: 10,400 one-byte POSTs from one source leave a
// single real rejection from another source visible, counted apart, and
// write a bounded number of log lines (finding 6: the flood pushed a real
// 401 out of the kept rows and wrote 10,401 log lines).
func TestRejections_Flood(t *testing.T) {
	e := newEnv(t)
	logs := &countingHandler{}
	c, err := central.New(context.Background(), e.Store, e.Clock.Now, slog.New(logs))
	if err != nil {
		t.Fatal(err)
	}
	h := (&server.Server{Central: c, Logger: slog.New(logs), Now: e.Clock.Now}).Handler()
	post := func(remote string, body []byte) int {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/sync/batches", bytes.NewReader(body))
		req.RemoteAddr = remote
		req.Header.Set("Content-Type", "application/cbor")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	// The real one: the site's batch signed with a key central does not
	// know (the key file was replaced), from the site's address.
	l := opening(t, e.Clock)
	if status := post("198.51.100.9:4711", signedWith(t, e.Clock, siteKey("replaced"), siteID, l.slice(1, 5))); status != http.StatusUnauthorized {
		t.Fatalf("real rejection: status %d, want 401", status)
	}
	for i := range 10400 {
		if status := post("203.0.113.66:"+strconv.Itoa(1024+i%60000), []byte{0xff}); status != http.StatusBadRequest {
			t.Fatalf("junk %d: status %d, want 400", i, status)
		}
	}
	got, err := c.Rejections(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	var real, flood *central.Rejection
	for i := range got {
		switch got[i].Source {
		case "198.51.100.9":
			real = &got[i]
		case "203.0.113.66":
			flood = &got[i]
		}
	}
	if real == nil || real.Count != 1 || real.Status != http.StatusUnauthorized || !strings.Contains(real.Reason, "unknown key") || real.Site != siteID {
		t.Errorf("the real rejection: %+v, want it listed apart (401, unknown key, %s)", real, siteID)
	}
	if flood == nil || flood.Count != 10400 || flood.Status != http.StatusBadRequest {
		t.Errorf("the flood: %+v, want one aggregate counting 10400", flood)
	}
	if len(got) != 2 {
		t.Errorf("%d aggregates, want 2: %+v", len(got), got)
	}
	if n := logs.count(); n > 4 {
		t.Errorf("%d log lines for 10,401 rejections, want at most 4", n)
	}
	// After a minute the flood's source is logged once more, with how many
	// were not logged.
	e.Clock.Add(time.Minute)
	post("203.0.113.66:999", []byte{0xff})
	if n := logs.count(); n > 5 {
		t.Errorf("%d log lines, want at most 5", n)
	}
}

// TestRejectionSource: the source a rejection is counted under.
func TestRejectionSource(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7:5123":             "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:80":  "2001:db8:1:2::/64",
		"[::ffff:192.0.2.7]:80":      "192.0.2.7",
		"not an address":             "not an address",
		"[fe80::1%eth0]:80":          "fe80::/64",
	} {
		if got := central.RejectionSource(in); got != want {
			t.Errorf("RejectionSource(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRejections_AdminPage: the admin sync page lists the aggregates:
// how many, from which source, first and last seen.
func TestRejections_AdminPage(t *testing.T) {
	e := newEnv(t)
	if err := e.Store.CreateAdmin(context.Background(), "anna", central.RoleTechnician, "geheim123", e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	for range 7 {
		e.post([]byte{0xff})
	}
	a := e.newAdmin()
	a.login("anna", "geheim123")
	resp, body := a.get("/admin/sync")
	wantStatus(t, "GET /admin/sync", resp, http.StatusOK)
	contains(t, "sync page", body, `data-field="count">7<`, "127.0.0.1", "POST /api/v1/sync/batches", "Anzahl", "Zuerst")
}

// TestRejections_FloodFromManySources: a flood from more sources than the
// admin page lists (an IPv6 /56 has 256 /64s) cannot push the rejection
// that matters off it: a batch of a real site, signed with its revoked
// key. Junk that claims the revoked key without its signature is a 401
// (the signature does not verify), never the site's 403 (issue 9,
// finding 6).
func TestRejections_FloodFromManySources(t *testing.T) {
	e := newEnv(t)
	h := (&server.Server{Central: e.Central, Logger: slog.New(&countingHandler{}), Now: e.Clock.Now}).Handler()
	post := func(remote string, body []byte) int {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/sync/batches", bytes.NewReader(body))
		req.RemoteAddr = remote
		req.Header.Set("Content-Type", "application/cbor")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	if _, err := e.Store.RevokeSiteKeys(context.Background(), siteID, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	l := opening(t, e.Clock)
	if status := post("198.51.100.9:4711", signedWith(t, e.Clock, siteKey(siteID), siteID, l.slice(1, 3))); status != http.StatusForbidden {
		t.Fatalf("the site's batch signed with its revoked key: status %d, want 403", status)
	}
	// The forgery: the revoked key's ID, someone else's signature.
	forged := changelog.Batch{Version: changelog.SchemaVersion, Site: siteID, Entries: l.slice(1, 3)}
	if err := forged.SignFresh(siteKey("attacker"), e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	forged.KeyID = changelog.KeyID(pub(siteKey(siteID)))
	forgedData, err := changelog.Marshal(forged)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		if status := post(fmt.Sprintf("[2001:db8:0:%x::1]:443", i), forgedData); status != http.StatusUnauthorized {
			t.Fatalf("forged batch %d claiming the revoked key: status %d, want 401", i, status)
		}
		if status := post(fmt.Sprintf("[2001:db8:1:%x::1]:443", i), []byte{0xff}); status != http.StatusBadRequest {
			t.Fatalf("junk %d: status %d, want 400", i, status)
		}
	}
	got, err := e.Central.Rejections(context.Background(), 20) // what the admin page shows
	if err != nil {
		t.Fatal(err)
	}
	var real []central.Rejection
	for _, r := range got {
		if r.Status == http.StatusForbidden {
			real = append(real, r)
		}
	}
	if len(real) != 1 || real[0].Count != 1 || real[0].Site != siteID || !strings.Contains(real[0].Reason, "revoked") || real[0].RemoteAddr != "198.51.100.9:4711" {
		t.Errorf("the admin page's 20 rejections hold %+v as 403s; want the site's one revoked-key batch from 198.51.100.9", real)
	}
}
