package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/internal/mail"
	"github.com/veedel/veedel/internal/mail/mailsim"

	"github.com/veedel/veedel/appliance/sqlite"
	centralsqlite "github.com/veedel/veedel/central/sqlite"
	"github.com/veedel/veedel/sync/sitekey"
)

// testLogger discards logs unless the test runs with -v.
func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimSpace(p)))
	return len(p), nil
}

// runningNode is a node served in the background until stop is called.
type runningNode struct {
	URL  string
	stop func()
}

// testPaymentSecret is what central and its demo payment provider share
// in tests.
var testPaymentSecret = []byte("test-payment-secret-0123456789")

func startCentral(t testing.TB, dir, addr string, opts ...func(*centralConfig)) (*centralNode, runningNode) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	// Central's e-mail (confirmation codes) goes to a stand-in relay.
	sim, err := mailsim.Start("127.0.0.1:0", mailsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	cfg := centralConfig{DB: filepath.Join(dir, "central.db"), Listener: l, Logger: testLogger(t),
		Mail:         &mailConfig{Relay: sim.Addr(), TLS: mail.TLSOff, From: "Test <noreply@veedel.invalid>"},
		DemoPayments: true, PaymentSecret: testPaymentSecret}
	for _, o := range opts {
		o(&cfg)
	}
	n, err := openCentral(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	n.mailSim = sim
	return n, serveInBackground(t, n.URL, n.Run)
}

// sentCode waits for the e-mail central sent to address and returns the
// last word of its first line (the confirmation code).
func (n *centralNode) sentCode(t testing.TB, address string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		msgs := n.mailSim.Messages()
		for i := len(msgs) - 1; i >= 0; i-- {
			if strings.Contains(msgs[i].To, address) {
				line, _, _ := strings.Cut(msgs[i].Text, "\n")
				return line[strings.LastIndex(line, " ")+1:]
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no e-mail to %s within 10 s", address)
	return ""
}

func startAppliance(t testing.TB, cfg applianceConfig) (*applianceNode, runningNode) {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	if cfg.CentralURL != "" && cfg.EnrollToken == "" {
		// Tests keep central.db beside the site's file: enroll the
		// appliance there, as an operator does with veedel central enroll.
		cfg.EnrollToken = enrollmentTokenFor(t, filepath.Join(filepath.Dir(cfg.DB), "central.db"), cfg)
	}
	n, err := openAppliance(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The site's kiosk: paired once per site file, and the same kiosk
	// after a restart, as in a real site (its retries must replay).
	token, ok := kioskByDB.Load(cfg.DB)
	if ok {
		if _, err := n.Store.KioskByToken(context.Background(), token.(string)); err != nil {
			ok = false
		}
	}
	if !ok {
		token = pairTestKiosk(t, n.Store)
		kioskByDB.Store(cfg.DB, token)
	}
	kioskTokens.Store(n.URL, token)
	return n, serveInBackground(t, n.URL, n.Run)
}

// kioskTokens holds, by appliance URL, the device token of the kiosk
// startAppliance paired (kioskByDB: by the site's file): the tests issue
// as the site's kiosk (issueTickets), not as anonymous clients, whom the
// appliance limits.
var kioskTokens, kioskByDB sync.Map

// pairTestKiosk pairs a kiosk in the appliance's store, as a site lead and
// the kiosk would at /desk/kiosks and /kiosk/pair, and returns its device
// token.
func pairTestKiosk(t testing.TB, store *sqlite.Store) string {
	t.Helper()
	code, _, err := store.CreateKioskPairing(context.Background(), "Test-Kiosk", "test")
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := store.PairKiosk(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// kioskHeader is the Authorization header of the kiosk paired at the
// appliance (none for an appliance startAppliance did not start).
func kioskHeader(applianceURL string) map[string]string {
	if token, ok := kioskTokens.Load(applianceURL); ok {
		return map[string]string{"Authorization": "Bearer " + token.(string)}
	}
	return map[string]string{}
}

// enrollmentTokenFor returns a one-time enrollment token for cfg's
// appliance, created in central's SQLite file centralDB whether central
// runs or not (the file is created if need be), or "" when central knows
// the appliance's key already. An appliance without a key file yet gets a
// token; it makes its key at its first start, as in production (a key
// file without a database is refused as lost data: datadir.go).
func enrollmentTokenFor(t testing.TB, centralDB string, cfg applianceConfig) string {
	t.Helper()
	if _, err := os.Stat(cfg.keyFile()); errors.Is(err, fs.ErrNotExist) {
		return newEnrollmentToken(t, centralDB, cfg.Site, time.Hour)
	}
	key, err := sitekey.Load(cfg.keyFile())
	if err != nil {
		t.Fatal(err)
	}
	store := openCentralStore(t, centralDB)
	defer store.Close()
	token, err := enrollmentToken(context.Background(), store, cfg.Site, sitekey.Public(key), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// newEnrollmentToken creates a token for site in central's SQLite file,
// valid for ttl (negative: expired already).
func newEnrollmentToken(t testing.TB, centralDB, site string, ttl time.Duration) string {
	t.Helper()
	store := openCentralStore(t, centralDB)
	defer store.Close()
	now := time.Now()
	token, err := store.CreateEnrollmentToken(context.Background(), site, now, now.Add(ttl))
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// openCentralStore opens central's SQLite file beside a running (or not
// running) central, as the enroll and revoke commands do.
func openCentralStore(t testing.TB, path string) *centralsqlite.Store {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	store, err := centralsqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return store
}

func serveInBackground(t testing.TB, url string, run func(context.Context) error) runningNode {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("node %s: %v", url, err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("node %s did not stop within 10 s", url)
		}
	}
	t.Cleanup(stop)
	return runningNode{URL: url, stop: stop}
}

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func postJSON(t testing.TB, url string, body any, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

func getJSON(url string, v any) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, json.NewDecoder(resp.Body).Decode(v)
}

// eventually polls cond until it holds or timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v (last: %s)", what, timeout, last)
}

func issueTickets(t testing.TB, applianceURL string, n int, service string) []string {
	t.Helper()
	tokens := make([]string, 0, n)
	for i := 0; i < n; i++ {
		resp, body := postJSON(t, applianceURL+"/api/v1/tickets", map[string]string{"service": service}, kioskHeader(applianceURL))
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("issue ticket %d: %s: %s", i, resp.Status, body)
		}
		var tk struct{ Token string }
		if err := json.Unmarshal(body, &tk); err != nil || tk.Token == "" {
			t.Fatalf("issue ticket %d: no token in %s", i, body)
		}
		tokens = append(tokens, tk.Token)
	}
	return tokens
}

func siteSummary(url, site string) (waiting int, acked uint64, found bool) {
	var sites []struct {
		ID       string `json:"id"`
		Waiting  int    `json:"waiting"`
		AckedSeq uint64 `json:"acked_seq"`
	}
	if code, err := getJSON(url+"/api/v1/sites", &sites); err != nil || code != http.StatusOK {
		return 0, 0, false
	}
	for _, s := range sites {
		if s.ID == site {
			return s.Waiting, s.AckedSeq, true
		}
	}
	return 0, 0, false
}

func describe(format string, args ...any) string { return fmt.Sprintf(format, args...) }
