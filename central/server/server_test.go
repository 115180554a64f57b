package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/server"
	"github.com/veedel/veedel/central/sqlite"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/ui"
)

const (
	siteID   = "kz-innenstadt"
	siteName = "Kundenzentrum Innenstadt"
	// Tokens as the kiosk makes them: random, unguessable, in the QR link.
	tokenA = "qA7fT2mZ9xWcL4nR8vKe1sYb"
	tokenB = "pX3dH6jQ0uGtN5wM2zFa7cVr"
)

var berlin = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return loc
}()

// start is a Wednesday, 10:00 in Cologne: the site is open.
var start = time.Date(2026, 3, 4, 10, 0, 0, 0, berlin)

// clock is the injected time of central, the server and the site's log.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// lockedBuffer collects log output written from handler goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is central with a real SQLite store behind a real HTTP server. The
// site siteID is enrolled with siteKey(siteID).
type env struct {
	t       *testing.T
	URL     string
	Clock   *clock
	Central *central.Central
	Store   *sqlite.Store
	Logs    *lockedBuffer
	DB      string // the store's file
	// Releases is the server's releases directory (empty at first).
	Releases string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "central.db")
	store, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clk := &clock{t: start}
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := central.New(ctx, store, clk.Now, logger)
	if err != nil {
		t.Fatal(err)
	}
	renderer, err := ui.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	releases := t.TempDir()
	s := &server.Server{Central: c, Renderer: renderer, Logger: logger, Now: clk.Now, Releases: releases}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	e := &env{t: t, URL: ts.URL, Clock: clk, Central: c, Store: store, Logs: logs, DB: dbPath, Releases: releases}
	e.enroll(siteID, siteKey(siteID))
	return e
}

// siteLog builds a site's change-log the way the appliance does.
type siteLog struct {
	t       *testing.T
	clk     *clock
	site    string
	hlc     *changelog.Clock
	entries []changelog.Entry
}

func newSiteLog(t *testing.T, clk *clock) *siteLog {
	return &siteLog{t: t, clk: clk, site: siteID, hlc: changelog.NewClock(clk.Now, 0)}
}

func (l *siteLog) add(eventType, entity string, payload any) {
	l.t.Helper()
	var prev *changelog.Entry
	if n := len(l.entries); n > 0 {
		prev = &l.entries[n-1]
	}
	e, err := changelog.NewEntry(l.site, prev, l.hlc.Now(), eventType, entity, payload)
	if err != nil {
		l.t.Fatal(err)
	}
	l.entries = append(l.entries, e)
}

// entries returns copies of the entries with seq from..to.
func (l *siteLog) slice(from, to uint64) []changelog.Entry {
	var out []changelog.Entry
	for _, e := range l.entries[from-1 : to] {
		e.Payload = bytes.Clone(e.Payload)
		e.Prev, e.Hash = bytes.Clone(e.Prev), bytes.Clone(e.Hash)
		out = append(out, e)
	}
	return out
}

func (l *siteLog) batch(from, to uint64) []byte {
	l.t.Helper()
	return mustBatch(l.t, l.clk, l.site, l.slice(from, to))
}

// mustBatch encodes a batch signed with siteKey(site), fresh at clk's time
// (a new nonce), as an appliance sends it.
func mustBatch(t *testing.T, clk *clock, site string, entries []changelog.Entry) []byte {
	t.Helper()
	b := changelog.Batch{Version: changelog.SchemaVersion, Site: site, Entries: entries}
	if err := b.SignFresh(siteKey(site), clk.Now()); err != nil {
		t.Fatal(err)
	}
	data, err := changelog.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// heartbeat encodes a signed empty batch sent at the given time, with a
// nonce (fresh) or without one (as an appliance built before nonces).
func heartbeat(t *testing.T, site string, sentAt time.Time, nonce bool) []byte {
	t.Helper()
	b := changelog.Batch{Version: changelog.SchemaVersion, Site: site, SentAt: changelog.HLC(sentAt.UnixMilli()) << 16}
	if nonce {
		b.Nonce = changelog.NewNonce()
	}
	if err := b.Sign(siteKey(site)); err != nil {
		t.Fatal(err)
	}
	data, err := changelog.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// opening is a site's morning: described, one service, one counter, and
// two tickets drawn (seq 1–5).
func opening(t *testing.T, clk *clock) *siteLog {
	l := newSiteLog(t, clk)
	var weekdays []queue.OpeningHours
	for d := time.Monday; d <= time.Friday; d++ {
		weekdays = append(weekdays, queue.OpeningHours{Weekday: d, Open: 7*60 + 30, Close: 18 * 60})
	}
	l.add(queue.TypeSiteDescribed, "site/"+siteID, &queue.SiteDescribed{ID: siteID, Name: siteName, TimeZone: "Europe/Berlin", Hours: weekdays})
	l.add(queue.TypeServiceDefined, "service/ausweis", &queue.ServiceDefined{ID: "ausweis", Name: "Personalausweis", NameEN: "Identity card", Prefix: "A", ExpectedMinutes: 10})
	l.add(queue.TypeCounterDefined, "counter/p3", &queue.CounterDefined{ID: "p3", Name: "Platz 3", Services: []string{"ausweis"}})
	l.add(queue.TypeTicketIssued, "ticket/2026-03-04/A001", &queue.TicketIssued{ID: "2026-03-04/A001", Token: tokenA, Number: "A001", Service: "ausweis", Channel: "kiosk"})
	l.add(queue.TypeTicketIssued, "ticket/2026-03-04/A002", &queue.TicketIssued{ID: "2026-03-04/A002", Token: tokenB, Number: "A002", Service: "ausweis", Channel: "kiosk"})
	return l
}

func ticketIssued(id, token, number string) *queue.TicketIssued {
	return &queue.TicketIssued{ID: id, Token: token, Number: number, Service: "ausweis", Channel: "online"}
}

// call adds the counter opening and the call of A001 (seq 6–7).
func call(l *siteLog) {
	l.add(queue.TypeCounterOpened, "counter/p3", &queue.CounterOpened{Counter: "p3", Staff: "mueller"})
	l.add(queue.TypeTicketCalled, "ticket/2026-03-04/A001", &queue.TicketCalled{ID: "2026-03-04/A001", Counter: "p3"})
}

// post sends a batch body and decodes the Ack (CBOR or JSON, by the
// response's Content-Type).
func (e *env) post(body []byte, header ...string) (int, changelog.Ack) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.URL+"/api/v1/sync/batches", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/cbor")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	var ack changelog.Ack
	switch ct := resp.Header.Get("Content-Type"); {
	case ct == "application/cbor":
		err = changelog.Unmarshal(data, &ack)
	case strings.HasPrefix(ct, "application/json"):
		err = json.Unmarshal(data, &ack)
	default:
		e.t.Fatalf("POST batch: Content-Type %q, body %q", ct, data)
	}
	if err != nil {
		e.t.Fatalf("POST batch: decode ack: %v", err)
	}
	return resp.StatusCode, ack
}

// mustPost posts a batch that has to be stored in full.
func (e *env) mustPost(body []byte) changelog.Ack {
	e.t.Helper()
	status, ack := e.post(body)
	if got, want := status, http.StatusOK; got != want {
		e.t.Fatalf("POST batch: status = %d, want %d (ack %+v)", got, want, ack)
	}
	return ack
}

func (e *env) get(path string, header ...string) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, string(body)
}

func (e *env) getJSON(path string, v any) int {
	e.t.Helper()
	resp, body := e.get(path)
	if got, want := resp.Header.Get("Content-Type"), "application/json; charset=utf-8"; got != want {
		e.t.Fatalf("GET %s: Content-Type = %q, want %q", path, got, want)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		e.t.Fatalf("GET %s: %v in %q", path, err, body)
	}
	return resp.StatusCode
}

// site returns the site's summary from the API.
func (e *env) site() central.SiteSummary {
	e.t.Helper()
	var sites []central.SiteSummary
	if got, want := e.getJSON("/api/v1/sites", &sites), http.StatusOK; got != want {
		e.t.Fatalf("GET /api/v1/sites: status = %d, want %d", got, want)
	}
	for _, s := range sites {
		if s.ID == siteID {
			return s
		}
	}
	e.t.Fatalf("GET /api/v1/sites: %s missing in %+v", siteID, sites)
	return central.SiteSummary{}
}

func (e *env) ticket(token string) central.TicketStatus {
	e.t.Helper()
	var st central.TicketStatus
	if got, want := e.getJSON("/api/v1/tickets/"+token, &st), http.StatusOK; got != want {
		e.t.Fatalf("GET ticket: status = %d, want %d", got, want)
	}
	return st
}

func (e *env) html(path string, wantStatus int) string {
	e.t.Helper()
	resp, body := e.get(path)
	if got, want := resp.StatusCode, wantStatus; got != want {
		e.t.Fatalf("GET %s: status = %d, want %d", path, got, want)
	}
	if got, want := resp.Header.Get("Content-Type"), "text/html; charset=utf-8"; got != want {
		e.t.Fatalf("GET %s: Content-Type = %q, want %q", path, got, want)
	}
	return body
}

func contains(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(body, want) {
			t.Errorf("%s does not contain %q", what, want)
		}
	}
}

func TestHealthz(t *testing.T) {
	e := newEnv(t)
	e.mustPost(opening(t, e.Clock).batch(1, 5))
	var got struct {
		Role    string `json:"role"`
		Version string `json:"version"`
		Sites   int    `json:"sites"`
	}
	if status := e.getJSON("/healthz", &got); status != http.StatusOK {
		t.Fatalf("status = %d, want 200", status)
	}
	if got.Role != "central" || got.Version != veedel.Version || got.Sites != 1 {
		t.Errorf("healthz = %+v, want role central, version %s, 1 site", got, veedel.Version)
	}
}

func TestSync(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		l := opening(t, e.Clock)
		ack := e.mustPost(l.batch(1, 5))
		if got, want := ack, (changelog.Ack{Site: siteID, Acked: 5}); got != want {
			t.Errorf("ack = %+v, want %+v", got, want)
		}
		s := e.site()
		if got, want := s.Name, siteName; got != want {
			t.Errorf("name = %q, want %q", got, want)
		}
		if got, want := s.Waiting, 2; got != want {
			t.Errorf("waiting = %d, want %d", got, want)
		}
		// Two ahead of a walk-in, 10 minutes each, one counter.
		if got, want := s.EstimatedWaitMinutes, 20; got != want {
			t.Errorf("estimated wait = %d, want %d", got, want)
		}
		if got, want := s.Open, true; got != want {
			t.Errorf("open = %v, want %v", got, want)
		}
		if got, want := s.Stale, false; got != want {
			t.Errorf("stale = %v, want %v", got, want)
		}
		if got, want := s.LastSync, start; !got.Equal(want) {
			t.Errorf("last_sync = %v, want %v", got, want)
		}
	})

	t.Run("Heartbeat", func(t *testing.T) {
		e := newEnv(t)
		e.mustPost(opening(t, e.Clock).batch(1, 5))
		e.Clock.Add(11 * time.Minute)
		if got, want := e.site().Stale, true; got != want {
			t.Fatalf("stale before heartbeat = %v, want %v", got, want)
		}
		// A heartbeat captured yesterday and replayed is refused: it is
		// outside the freshness window.
		if status, _ := e.post(heartbeat(t, siteID, e.Clock.Now().Add(-25*time.Hour), true)); status != http.StatusUnauthorized {
			t.Errorf("old heartbeat: status %d, want 401", status)
		}
		if got, want := e.site().Stale, true; got != want {
			t.Errorf("stale after an old heartbeat = %v, want %v", got, want)
		}
		// One without a nonce (an appliance built before nonces) may be a
		// replay: acknowledged, but not contact, however current it says
		// it is.
		ack := e.mustPost(heartbeat(t, siteID, e.Clock.Now(), false))
		if got, want := ack, (changelog.Ack{Site: siteID, Acked: 5}); got != want {
			t.Errorf("ack of a heartbeat without nonce = %+v, want %+v", got, want)
		}
		if got, want := e.site().Stale, true; got != want {
			t.Errorf("stale after a heartbeat without nonce = %v, want %v", got, want)
		}
		// A fresh one is contact.
		ack = e.mustPost(heartbeat(t, siteID, e.Clock.Now().Add(-time.Minute), true))
		if got, want := ack, (changelog.Ack{Site: siteID, Acked: 5}); got != want {
			t.Errorf("ack = %+v, want %+v", got, want)
		}
		s := e.site()
		if got, want := s.Stale, false; got != want {
			t.Errorf("stale after heartbeat = %v, want %v", got, want)
		}
		if got, want := s.LastSync, e.Clock.Now(); !got.Equal(want) {
			t.Errorf("last_sync = %v, want %v", got, want)
		}
		if got, want := s.Waiting, 2; got != want {
			t.Errorf("waiting = %d, want %d", got, want)
		}
	})

	t.Run("Resend", func(t *testing.T) {
		e := newEnv(t)
		l := opening(t, e.Clock)
		e.mustPost(l.batch(1, 5))
		// The uplink resends the same entries in a new batch (new nonce).
		ack := e.mustPost(l.batch(1, 5))
		if got, want := ack, (changelog.Ack{Site: siteID, Acked: 5}); got != want {
			t.Errorf("ack of resend = %+v, want %+v", got, want)
		}
		if got, want := e.site().Waiting, 2; got != want {
			t.Errorf("waiting after resend = %d, want %d", got, want)
		}
		if got, want := applied(t, e), uint64(5); got != want {
			t.Errorf("events folded after resend = %d, want %d", got, want)
		}
		// A batch overlapping what central has stores only the new part.
		call(l)
		ack = e.mustPost(l.batch(4, 7))
		if got, want := ack.Acked, uint64(7); got != want {
			t.Errorf("acked after overlap = %d, want %d", got, want)
		}
		if got, want := applied(t, e), uint64(7); got != want {
			t.Errorf("events folded after overlap = %d, want %d", got, want)
		}
		if got, want := e.site().Waiting, 1; got != want {
			t.Errorf("waiting after overlap = %d, want %d", got, want)
		}
	})

	t.Run("ErrGap", func(t *testing.T) {
		e := newEnv(t)
		l := opening(t, e.Clock)
		e.mustPost(l.batch(1, 5))
		call(l)
		before := e.site()
		status, ack := e.post(l.batch(7, 7)) // seq 6 never sent
		if got, want := status, http.StatusConflict; got != want {
			t.Fatalf("status = %d, want %d", got, want)
		}
		if got, want := ack.Acked, uint64(5); got != want {
			t.Errorf("acked = %d, want %d", got, want)
		}
		if got, want := ack.Site, siteID; got != want {
			t.Errorf("ack site = %q, want %q", got, want)
		}
		if ack.Error == "" {
			t.Error("ack has no error message")
		}
		if got, want := e.site(), before; got != want {
			t.Errorf("site after refused batch = %+v, want %+v", got, want)
		}
		if got, want := e.ticket(tokenA).Status, queue.StatusWaiting; got != want {
			t.Errorf("A001 status = %q, want %q", got, want)
		}
		// Resuming after Acked works.
		if got, want := e.mustPost(l.batch(ack.Acked+1, 7)).Acked, uint64(7); got != want {
			t.Errorf("acked after resume = %d, want %d", got, want)
		}
	})

	t.Run("ErrFork", func(t *testing.T) {
		e := newEnv(t)
		l := opening(t, e.Clock)
		e.mustPost(l.batch(1, 5))
		// Another history from seq 5 on: a well-formed chain central refuses.
		fork := newSiteLog(t, e.Clock)
		fork.entries = l.slice(1, 4)
		fork.add(queue.TypeTicketIssued, "ticket/2026-03-04/A002", &queue.TicketIssued{ID: "2026-03-04/A002", Token: "other-token-0123456789", Number: "A002", Service: "ausweis"})
		status, ack := e.post(fork.batch(5, 5))
		if got, want := status, http.StatusConflict; got != want {
			t.Fatalf("status = %d, want %d", got, want)
		}
		if got, want := ack.Acked, uint64(5); got != want {
			t.Errorf("acked = %d, want %d", got, want)
		}
	})

	t.Run("AcceptJSON", func(t *testing.T) {
		e := newEnv(t)
		l := opening(t, e.Clock)
		req, err := http.NewRequest(http.MethodPost, e.URL+"/api/v1/sync/batches", bytes.NewReader(l.batch(1, 5)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/cbor")
		req.Header.Set("Accept", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if got, want := resp.Header.Get("Content-Type"), "application/json; charset=utf-8"; got != want {
			t.Errorf("Content-Type = %q, want %q", got, want)
		}
		var got map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			t.Fatal(err)
		}
		if got["site"] != siteID || got["acked"] != float64(5) {
			t.Errorf("ack = %v, want site %s, acked 5", got, siteID)
		}
		status, ack := e.post([]byte{0xff}, "Accept", "application/json")
		if status != http.StatusBadRequest || ack.Error == "" {
			t.Errorf("bad batch with JSON: status %d, ack %+v; want 400 with an error", status, ack)
		}
	})
}

// applied is how many events central folded into the site's read model.
func applied(t *testing.T, e *env) uint64 {
	t.Helper()
	var n uint64
	if !e.Central.ViewSite(siteID, func(st *queue.State, _ central.SiteCursor) { n = st.Applied }) {
		t.Fatalf("site %s unknown", siteID)
	}
	return n
}

func TestSync_ErrBadBatch(t *testing.T) {
	e := newEnv(t)
	l := opening(t, e.Clock)
	e.mustPost(l.batch(1, 5))
	call(l)
	good := l.batch(6, 7)

	tamperedHash := l.slice(6, 7)
	tamperedHash[0].Hash[0] ^= 0xff
	tamperedPayload := l.slice(6, 7)
	tamperedPayload[1].Payload, _ = changelog.Marshal(&queue.TicketCalled{ID: "2026-03-04/A002", Counter: "p3"})
	other := newSiteLog(t, e.Clock)
	other.site = "kz-porz"
	other.add(queue.TypeSiteDescribed, "site/kz-porz", &queue.SiteDescribed{ID: "kz-porz", Name: "Porz"})

	for _, tt := range []struct {
		name     string
		body     []byte
		header   []string
		wantSite string // "" when the batch is unreadable
	}{
		{name: "Malformed", body: []byte{0xff, 0xfe, 0x00, 0x13, 0x37}},
		{name: "Empty", body: nil},
		{name: "Truncated", body: good[:len(good)-9]},
		{name: "TrailingBytes", body: append(bytes.Clone(good), 0x00), wantSite: ""},
		{name: "TamperedHash", body: mustBatch(t, e.Clock, siteID, tamperedHash), wantSite: siteID},
		{name: "TamperedPayload", body: mustBatch(t, e.Clock, siteID, tamperedPayload), wantSite: siteID},
		{name: "ForeignEntry", body: mustBatch(t, e.Clock, siteID, other.slice(1, 1)), wantSite: siteID},
		{name: "NoSite", body: mustBatch(t, e.Clock, "", nil)},
		{name: "WrongContentType", body: good, header: []string{"Content-Type", "application/json"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := e.site()
			status, ack := e.post(tt.body, tt.header...)
			if got, want := status, http.StatusBadRequest; got != want {
				t.Fatalf("status = %d, want %d (ack %+v)", got, want, ack)
			}
			if ack.Error == "" {
				t.Error("ack has no error message")
			}
			if got, want := ack.Site, tt.wantSite; got != want {
				t.Errorf("ack site = %q, want %q", got, want)
			}
			if tt.wantSite != "" {
				if got, want := ack.Acked, uint64(5); got != want {
					t.Errorf("ack acked = %d, want %d", got, want)
				}
			}
			if got, want := e.site(), before; got != want {
				t.Errorf("site after bad batch = %+v, want %+v", got, want)
			}
			if got, want := e.ticket(tokenA).Status, queue.StatusWaiting; got != want {
				t.Errorf("A001 status = %q, want %q", got, want)
			}
			if got, want := applied(t, e), uint64(5); got != want {
				t.Errorf("events folded = %d, want %d", got, want)
			}
		})
	}

	// The good batch still goes through after all that.
	if got, want := e.mustPost(good).Acked, uint64(7); got != want {
		t.Errorf("acked after good batch = %d, want %d", got, want)
	}
}

func TestTicketAPI(t *testing.T) {
	t.Run("Waiting", func(t *testing.T) {
		e := newEnv(t)
		e.mustPost(opening(t, e.Clock).batch(1, 5))
		got := e.ticket(tokenB)
		want := central.TicketStatus{Number: "A002", Site: siteID, SiteName: siteName, Service: "ausweis",
			ServiceName: "Personalausweis", ServiceNameEN: "Identity card", Status: queue.StatusWaiting,
			Position: 2, EstimatedWaitMinutes: 10, EstimatedWaitP90Minutes: got.EstimatedWaitP90Minutes, IssuedAt: got.IssuedAt, LastSync: got.LastSync}
		if got != want {
			t.Errorf("ticket = %+v, want %+v", got, want)
		}
		if got.EstimatedWaitP90Minutes < got.EstimatedWaitMinutes {
			t.Errorf("P90 bound %d below the estimate %d", got.EstimatedWaitP90Minutes, got.EstimatedWaitMinutes)
		}
		if !got.LastSync.Equal(start) {
			t.Errorf("last_sync = %v, want %v", got.LastSync, start)
		}
	})

	t.Run("Called", func(t *testing.T) {
		e := newEnv(t)
		l := opening(t, e.Clock)
		e.mustPost(l.batch(1, 5))
		call(l)
		e.mustPost(l.batch(6, 7))
		a := e.ticket(tokenA)
		if got, want := a.Status, queue.StatusCalled; got != want {
			t.Errorf("A001 status = %q, want %q", got, want)
		}
		if got, want := a.Counter+" "+a.CounterName, "p3 Platz 3"; got != want {
			t.Errorf("A001 counter = %q, want %q", got, want)
		}
		if got, want := a.Position, 0; got != want {
			t.Errorf("A001 position = %d, want %d", got, want)
		}
		if got, want := e.ticket(tokenB).Position, 1; got != want {
			t.Errorf("A002 position = %d, want %d", got, want)
		}
		if got, want := e.site().Waiting, 1; got != want {
			t.Errorf("waiting = %d, want %d", got, want)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		e := newEnv(t)
		e.mustPost(opening(t, e.Clock).batch(1, 5))
		for _, path := range []string{"/api/v1/tickets/no-such-token-0123456789", "/api/v1/nothing"} {
			var body map[string]string
			if got, want := e.getJSON(path, &body), http.StatusNotFound; got != want {
				t.Errorf("GET %s: status = %d, want %d", path, got, want)
			}
			if body["error"] == "" {
				t.Errorf("GET %s: body %v has no error", path, body)
			}
		}
	})
}

func TestPortal(t *testing.T) {
	e := newEnv(t)
	e.mustPost(opening(t, e.Clock).batch(1, 5))

	body := e.html("/", http.StatusOK)
	contains(t, "portal", body, `<html lang="de"`, "Wartezeiten in den Kundenzentren", siteName,
		`data-field="waiting">2 Personen warten<`, `data-field="minutes">20<`, `class="badge open" data-field="open">Geöffnet<`,
		"Stand 10:00", "Heute 07:30–18:00", `data-field="stale-note" hidden>`, `src="/static/live.js"`)

	e.Clock.Add(2 * time.Hour) // "Stand" shows the last contact, not the time now
	body = e.html("/?lang=en", http.StatusOK)
	contains(t, "portal in English", body, `<html lang="en"`, siteName, "2 waiting", ">Open<", "As of 10:00", "Today 07:30–18:00")

	e.Clock.Add(9 * time.Hour) // 21:00: closed
	body = e.html("/", http.StatusOK)
	contains(t, "portal at night", body, `class="badge closed" data-field="open">Geschlossen<`,
		`data-field="opens">Wieder geöffnet morgen ab 07:30.<`, " data-shut")
	// Closed, nobody is called before it opens: no wait in minutes (issue 14).
	if strings.Contains(body, `data-field="minutes"`) || strings.Contains(body, "Min.") {
		t.Errorf("portal at night shows a wait in minutes:\n%s", body)
	}
	contains(t, "portal at night in English", e.html("/?lang=en", http.StatusOK), `data-field="opens">Opens again tomorrow at 07:30.<`)

	e.Clock.Add(11 * time.Hour) // 08:00 the next morning: open, minutes as before
	body = e.html("/", http.StatusOK)
	contains(t, "portal next morning", body, `data-field="minutes">`, "Min.")
	if strings.Contains(body, `data-field="opens"`) || strings.Contains(body, " data-shut") {
		t.Errorf("open portal says when it opens:\n%s", body)
	}
}

func TestPortal_Empty(t *testing.T) {
	e := newEnv(t)
	contains(t, "portal", e.html("/", http.StatusOK), "Noch keine Standorte verbunden.")
	resp, body := e.get("/api/v1/sites")
	if got, want := resp.StatusCode, http.StatusOK; got != want {
		t.Errorf("GET /api/v1/sites: status = %d, want %d", got, want)
	}
	if got, want := strings.TrimSpace(body), "[]"; got != want {
		t.Errorf("GET /api/v1/sites = %s, want %s", got, want)
	}
}

func TestStale(t *testing.T) {
	e := newEnv(t)
	e.mustPost(opening(t, e.Clock).batch(1, 5))

	e.Clock.Add(9 * time.Minute)
	if got, want := e.site().Stale, false; got != want {
		t.Errorf("stale after 9 min = %v, want %v", got, want)
	}

	e.Clock.Add(2 * time.Minute)
	if got, want := e.site().Stale, true; got != want {
		t.Errorf("stale after 11 min = %v, want %v", got, want)
	}
	if got, want := e.ticket(tokenA).Stale, true; got != want {
		t.Errorf("ticket stale after 11 min = %v, want %v", got, want)
	}
	contains(t, "portal", e.html("/", http.StatusOK),
		`class="site card stale"`, `data-field="stale">Keine aktuellen Daten<`,
		`data-field="stale-note">Die Verbindung zu diesem Standort ist unterbrochen.`, "Stand 10:00")
	contains(t, "status page", e.html("/t/"+tokenA, http.StatusOK),
		`class="card narrow status stale"`, `data-field="stale">Keine aktuellen Daten<`,
		`data-show="stale">Die Verbindung zum Standort ist unterbrochen`, "Stand 10:00")
}

func TestStatusPage(t *testing.T) {
	e := newEnv(t)
	l := opening(t, e.Clock)
	e.mustPost(l.batch(1, 5))

	body := e.html("/t/"+tokenB, http.StatusOK)
	contains(t, "waiting ticket", body, siteName, `data-field="number" dir="ltr"><bdi>A002</bdi><`, "Personalausweis",
		`data-field="state">Wartend<`, `data-field="position">1<`, `data-field="wait">10</b> <span class="unit" data-field="wait-unit">Min.<`,
		`data-show="waiting">`, `data-show="called" hidden>`, `aria-live="polite"`, "Stand 10:00",
		`data-events="/t/`+tokenB+`/events"`,
		`class="p90" data-field="p90">meist höchstens <bdi>`) // the P90 bound beside the estimate
	if strings.Contains(body, "Sie sind dran") && !strings.Contains(body, `data-show="called" hidden>`) {
		t.Error("waiting ticket shows the call")
	}

	call(l)
	e.mustPost(l.batch(6, 7))
	body = e.html("/t/"+tokenA, http.StatusOK)
	contains(t, "called ticket", body, `data-show="called"><span data-field="called">Sie sind dran! Bitte kommen Sie zu <bdi>Platz 3</bdi>.</span>`,
		`data-field="state">Aufgerufen<`, `data-show="waiting" hidden>`)
	contains(t, "called ticket in English", e.html("/t/"+tokenA+"?lang=en", http.StatusOK),
		"It&#39;s your turn! Please go to <bdi>Platz 3</bdi>.", "Identity card")
	contains(t, "next ticket", e.html("/t/"+tokenB, http.StatusOK),
		`data-show="next">Sie sind als Nächstes dran.`,
		// Next, but A001 is still being served at the only counter: minutes, not "Gleich".
		`data-field="wait-unit">Min.<`)

	body = e.html("/t/no-such-token-0123456789", http.StatusNotFound)
	contains(t, "unknown ticket", body, "Ticket nicht gefunden", "Dieses Ticket kennen wir nicht (mehr).", `href="/"`)
	contains(t, "unknown page", e.html("/no/such/page", http.StatusNotFound), "Seite nicht gefunden")
}

// TestPages_CSP checks what the Content Security Policy demands: no inline
// script or style, so that the pages work under it.
func TestPages_CSP(t *testing.T) {
	e := newEnv(t)
	e.mustPost(opening(t, e.Clock).batch(1, 5))
	scriptTag := regexp.MustCompile(`<script[^>]*>`)
	for _, path := range []string{"/", "/t/" + tokenA, "/nope"} {
		resp, body := e.get(path)
		if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "script-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy = %q", path, got)
		}
		if strings.Contains(body, " style=") || strings.Contains(body, "<style") {
			t.Errorf("GET %s: inline style", path)
		}
		for _, tag := range scriptTag.FindAllString(body, -1) {
			if !strings.Contains(tag, ` src="/static/`) && !strings.Contains(tag, `type="application/json"`) {
				t.Errorf("GET %s: inline script %s", path, tag)
			}
		}
	}
}

func TestStatic(t *testing.T) {
	e := newEnv(t)
	for path, want := range map[string]string{"/static/app.css": "/* portal additions */", "/static/live.js": "EventSource"} {
		resp, body := e.get(path)
		if got, want := resp.StatusCode, http.StatusOK; got != want {
			t.Errorf("GET %s: status = %d, want %d", path, got, want)
		}
		contains(t, path, body, want)
	}
}

// TestTokenNotLogged: the token is the key to a citizen's ticket; it stays
// out of logs.
func TestTokenNotLogged(t *testing.T) {
	e := newEnv(t)
	e.mustPost(opening(t, e.Clock).batch(1, 5))
	e.html("/t/"+tokenA, http.StatusOK)
	e.html("/t/unknown-token-abcdefghijkl", http.StatusNotFound)
	e.ticket(tokenA)
	ctx, cancel := context.WithCancel(context.Background())
	events := openStream(t, ctx, e.URL+"/t/"+tokenA+"/events")
	nextEvent(t, events)
	cancel()
	for range events {
	}
	logs := e.Logs.String()
	contains(t, "log", logs, "route=/t/{token}")
	for _, token := range []string{tokenA, "unknown-token-abcdefghijkl"} {
		if strings.Contains(logs, token) {
			t.Errorf("log contains the token %s:\n%s", token, logs)
		}
	}
}

type sseEvent struct{ Name, Data string }

// openStream reads Server-Sent Events from url until ctx ends.
func openStream(t *testing.T, ctx context.Context, url string) <-chan sseEvent {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := resp.StatusCode, http.StatusOK; got != want {
		resp.Body.Close()
		t.Fatalf("GET %s: status = %d, want %d", url, got, want)
	}
	if got, want := resp.Header.Get("Content-Type"), "text/event-stream"; got != want {
		t.Errorf("GET %s: Content-Type = %q, want %q", url, got, want)
	}
	ch := make(chan sseEvent)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "" && ev.Name != "":
				select {
				case ch <- ev:
				case <-ctx.Done():
					return
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.Name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.Data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return ch
}

func nextEvent(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("event stream ended")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	return sseEvent{}
}

func TestTicketEvents(t *testing.T) {
	e := newEnv(t)
	l := opening(t, e.Clock)
	e.mustPost(l.batch(1, 5))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := openStream(t, ctx, e.URL+"/t/"+tokenA+"/events")

	decode := func(ev sseEvent) central.TicketStatus {
		t.Helper()
		if got, want := ev.Name, "ticket"; got != want {
			t.Fatalf("event = %q, want %q", got, want)
		}
		var st central.TicketStatus
		if err := json.Unmarshal([]byte(ev.Data), &st); err != nil {
			t.Fatalf("event data %q: %v", ev.Data, err)
		}
		return st
	}
	first := decode(nextEvent(t, events))
	if got, want := first.Status+" "+first.Number, "waiting A001"; got != want {
		t.Fatalf("first event: %q, want %q", got, want)
	}

	call(l)
	e.mustPost(l.batch(6, 7))
	var st central.TicketStatus
	for st.Status != queue.StatusCalled {
		st = decode(nextEvent(t, events))
	}
	if got, want := st.CounterName, "Platz 3"; got != want {
		t.Errorf("counter in event = %q, want %q", got, want)
	}

	resp, _ := e.get("/t/no-such-token-0123456789/events")
	if got, want := resp.StatusCode, http.StatusNotFound; got != want {
		t.Errorf("events of unknown ticket: status = %d, want %d", got, want)
	}
}

func TestPortalEvents(t *testing.T) {
	e := newEnv(t)
	l := opening(t, e.Clock)
	e.mustPost(l.batch(1, 5))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := openStream(t, ctx, e.URL+"/events")

	waiting := func(ev sseEvent) int {
		t.Helper()
		if got, want := ev.Name, "sites"; got != want {
			t.Fatalf("event = %q, want %q", got, want)
		}
		var sites []central.SiteSummary
		if err := json.Unmarshal([]byte(ev.Data), &sites); err != nil || len(sites) != 1 {
			t.Fatalf("event data %q: %v", ev.Data, err)
		}
		return sites[0].Waiting
	}
	if got, want := waiting(nextEvent(t, events)), 2; got != want {
		t.Fatalf("waiting in first event = %d, want %d", got, want)
	}
	l.add(queue.TypeTicketIssued, "ticket/2026-03-04/A003", ticketIssued("2026-03-04/A003", "a3-token-0123456789abcdef", "A003"))
	e.mustPost(l.batch(6, 6))
	if got, want := waiting(nextEvent(t, events)), 3; got != want {
		t.Errorf("waiting after new ticket = %d, want %d", got, want)
	}
}

// TestPublicStreamsAllowCarrierNAT: many citizens' phones reach central
// from one carrier NAT address, so the portal's and ticket pages' event
// streams take far more than an appliance's LAN bound from one address.
func TestPublicStreamsAllowCarrierNAT(t *testing.T) {
	e := newEnv(t)
	e.mustPost(opening(t, e.Clock).batch(1, 5))
	addr := strings.TrimPrefix(e.URL, "http://")
	for i := 1; i <= web.MaxStreamsPerClient+1; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"))
		status, _ := bufio.NewReader(c).ReadString('\n')
		if got := strings.TrimSpace(status); got != "HTTP/1.1 200 OK" {
			t.Fatalf("stream %d from one address: %q, want 200 (phones behind one carrier NAT)", i, got)
		}
	}
}
