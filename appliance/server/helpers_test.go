package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/server"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/ui"
)

const portal = "http://portal.test"

// openMorning is Tuesday 14 January 2025, 09:00 in Cologne: Kalk is open.
func openMorning() time.Time {
	return time.Date(2025, time.January, 14, 9, 0, 0, 0, time.FixedZone("CET", 3600))
}

// syncBuffer is a bytes.Buffer the server's logger and the test can share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harness is an appliance for the Kalk customer centre served over real
// HTTP on loopback, with one lead clerk "demo" (password "demo") and one
// kiosk paired at the start, as whose device h.client calls the API.
type harness struct {
	store  *sqlite.Store
	url    string
	client *http.Client // follows no redirects, keeps no cookies; the paired kiosk
	// anon is a client without credentials, like h.client otherwise.
	anon *http.Client
	// transport reaches the server with no credentials; browsers use it.
	transport http.RoundTripper
	// kioskToken is the paired kiosk's device token.
	kioskToken string
	logs       *syncBuffer
}

// pairedKiosk sends a paired kiosk's device token (Authorization: Bearer)
// with every request that carries no other credentials: integrators'
// kiosks issue without the anonymous limit.
type pairedKiosk struct {
	base  http.RoundTripper
	token string
}

func (p pairedKiosk) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Authorization") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("Authorization", "Bearer "+p.token)
	}
	return p.base.RoundTrip(req)
}

// pairKiosk pairs a kiosk directly in the store, as a lead and the kiosk
// would, and returns its device token.
func pairKiosk(t *testing.T, store *sqlite.Store, name string) string {
	t.Helper()
	code, _, err := store.CreateKioskPairing(context.Background(), name, "demo")
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := store.PairKiosk(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	// No no-show grace: the flows below mark no-shows right after a call
	// (TestNoShowGrace covers the grace).
	return newHarnessOpts(t, sqlite.Options{NoShowGrace: -1})
}

func newHarnessOpts(t *testing.T, opts sqlite.Options) *harness {
	t.Helper()
	ctx := context.Background()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if opts.Logger == nil {
		opts.Logger = logger
	}
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kalk.db"), "kalk", opts)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Execute(ctx, func(_ *queue.State, at time.Time) ([]queue.Event, error) {
		return appliance.Catalog["kalk"].Events(at), nil
	}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	if err := store.CreateUser(ctx, sqlite.User{Name: "demo", DisplayName: "Demo", Role: sqlite.RoleLead}, "demo"); err != nil {
		t.Fatalf("create user: %v", err)
	}
	renderer, err := ui.NewRenderer()
	if err != nil {
		t.Fatalf("renderer: %v", err)
	}
	// The kiosk's opening-hours notes read Now: a fixed Tuesday morning,
	// well inside Kalk's hours, so that no test depends on the wall clock.
	srv := httptest.NewServer((&server.Server{Store: store, Renderer: renderer, Logger: logger, PortalURL: portal, Now: openMorning}).Handler())
	t.Cleanup(srv.Close)
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	transport := srv.Client().Transport
	kioskToken := pairKiosk(t, store, "Test-Kiosk")
	client := &http.Client{Transport: pairedKiosk{base: transport, token: kioskToken}, CheckRedirect: noRedirect, Timeout: 30 * time.Second}
	anon := &http.Client{Transport: transport, CheckRedirect: noRedirect, Timeout: 30 * time.Second}
	return &harness{store: store, url: srv.URL, client: client, anon: anon, transport: transport, kioskToken: kioskToken, logs: logs}
}

// browser returns a client with a cookie jar that follows no redirects.
func (h *harness) browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{
		Jar:           jar,
		Transport:     h.transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
}

// kioskBrowser is a browser paired as a kiosk: it carries the harness's
// kiosk's device cookie, as after /kiosk/pair.
func (h *harness) kioskBrowser(t *testing.T) *http.Client {
	t.Helper()
	b := h.browser(t)
	b.Jar.SetCookies(mustURL(t, h.url), []*http.Cookie{{Name: "veedel_kiosk", Value: h.kioskToken, Path: "/"}})
	return b
}

// response is a finished HTTP exchange with its body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) String() string { return string(r.body) }

// send runs one request with client (h.client when nil).
func (h *harness) send(t *testing.T, client *http.Client, req *http.Request) response {
	t.Helper()
	if client == nil {
		client = h.client
	}
	// Pages show the estimates the store published last (it recomputes
	// them in the background, at most sqlite.EstimateBound late): settled
	// first, so that a test sees those of the state as it is.
	h.store.SettleEstimates()
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: body}
}

func (h *harness) newRequest(t *testing.T, method, path string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, h.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func (h *harness) get(t *testing.T, client *http.Client, path string) response {
	t.Helper()
	return h.send(t, client, h.newRequest(t, http.MethodGet, path, nil))
}

// postForm posts an HTML form.
func (h *harness) postForm(t *testing.T, client *http.Client, path, form string) response {
	t.Helper()
	req := h.newRequest(t, http.MethodPost, path, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return h.send(t, client, req)
}

// postJSON posts a JSON body with optional header pairs (name, value, …).
func (h *harness) postJSON(t *testing.T, path, body string, headers ...string) response {
	t.Helper()
	req := h.newRequest(t, http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return h.send(t, nil, req)
}

// counterAction runs a desk action over the API as demo/demo.
func (h *harness) counterAction(t *testing.T, counter, action string) response {
	t.Helper()
	req := h.newRequest(t, http.MethodPost, "/api/v1/counters/"+counter+"/"+action, nil)
	req.SetBasicAuth("demo", "demo")
	return h.send(t, nil, req)
}

// apiTicket is the API's ticket, as a client reads it.
type apiTicket struct {
	ID                   string `json:"id"`
	Number               string `json:"number"`
	Token                string `json:"token"`
	Service              string `json:"service"`
	Status               string `json:"status"`
	Position             int    `json:"position"`
	EstimatedWaitMinutes *int   `json:"estimated_wait_minutes"`
	Counter              string `json:"counter"`
	CounterName          string `json:"counter_name"`
	StatusURL            string `json:"status_url"`
}

type apiQueue struct {
	Site    string      `json:"site"`
	Waiting int         `json:"waiting"`
	Tickets []apiTicket `json:"tickets"`
	Called  []apiTicket `json:"called"`
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %T from %q: %v", v, r.body, err)
	}
	return v
}

// issue takes a ticket over the API.
func (h *harness) issue(t *testing.T, service string) apiTicket {
	t.Helper()
	res := h.postJSON(t, "/api/v1/tickets", `{"service":"`+service+`"}`)
	if got, want := res.status, http.StatusCreated; got != want {
		t.Fatalf("issue %s: status = %d, want %d: %s", service, got, want, res)
	}
	return decode[apiTicket](t, res)
}

func (h *harness) queue(t *testing.T) apiQueue {
	t.Helper()
	res := h.get(t, nil, "/api/v1/queue")
	if got, want := res.status, http.StatusOK; got != want {
		t.Fatalf("GET /api/v1/queue: status = %d, want %d: %s", got, want, res)
	}
	return decode[apiQueue](t, res)
}

// snapshot is what must not change when a request is refused.
type snapshot struct {
	waiting int
	called  int
	seq     uint64
}

func (h *harness) snapshot(t *testing.T) snapshot {
	t.Helper()
	q := h.queue(t)
	return snapshot{waiting: q.Waiting, called: len(q.Called), seq: h.store.LastSeq()}
}

// ticketStatus reads a ticket's status by token over the API.
func (h *harness) ticketStatus(t *testing.T, token string) string {
	t.Helper()
	res := h.get(t, nil, "/api/v1/tickets/"+token)
	if got, want := res.status, http.StatusOK; got != want {
		t.Fatalf("GET ticket: status = %d, want %d: %s", got, want, res)
	}
	return decode[apiTicket](t, res).Status
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
