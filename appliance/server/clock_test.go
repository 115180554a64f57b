package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance"
	"github.com/veedel/veedel/appliance/clock"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/server"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/ui"
)

// A kiosk whose clock is a year behind its log (a dead RTC battery, no
// central) tells citizens in their language that no ticket can be issued,
// shows no service to press, and a press issues nothing.
func TestKioskRefusesWithAWrongClock(t *testing.T) {
	ctx := context.Background()
	var wall atomic.Int64
	wall.Store(time.Date(2026, time.December, 8, 9, 0, 0, 0, time.UTC).UnixNano())
	clk := clock.New(func() time.Time { return time.Unix(0, wall.Load()) })
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kalk.db"), "kalk", sqlite.Options{Now: clk.Now, CheckClock: clk.Check})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Execute(ctx, func(_ *queue.State, at time.Time) ([]queue.Event, error) {
		return appliance.Catalog["kalk"].Events(at), nil
	}); err != nil {
		t.Fatal(err)
	}
	renderer, err := ui.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&server.Server{Store: store, Renderer: renderer, Clock: clk}).Handler())
	t.Cleanup(srv.Close)
	h := &harness{store: store, url: srv.URL, client: srv.Client()}
	h.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	if page := h.get(t, h.client, "/kiosk"); !strings.Contains(page.String(), `class="service-button"`) || strings.Contains(page.String(), `id="kiosk-clock"`) {
		t.Fatal("kiosk with a right clock: no buttons, or a clock notice")
	}
	seq := store.LastSeq()
	wall.Store(time.Date(2025, time.December, 8, 9, 0, 0, 0, time.UTC).UnixNano())
	page := h.get(t, h.client, "/kiosk?lang=tr")
	if !strings.Contains(page.String(), "Şu anda bilet verilemiyor") || strings.Contains(page.String(), `class="service-button"`) {
		t.Errorf("kiosk in Turkish with a wrong clock:\n%s", page)
	}
	res := h.postForm(t, h.client, "/kiosk/tickets", "service=meldung&key=k1")
	if res.status != http.StatusServiceUnavailable || !strings.Contains(res.String(), `id="kiosk-clock"`) {
		t.Errorf("kiosk press with a wrong clock: %d", res.status)
	}
	if res := h.postJSON(t, "/api/v1/tickets", `{"service":"meldung"}`); res.status != http.StatusServiceUnavailable {
		t.Errorf("API with a wrong clock: %d %s", res.status, res)
	}
	if got := store.LastSeq(); got != seq {
		t.Errorf("a wrong clock wrote entries: seq %d, want %d", got, seq)
	}
	var health struct {
		Clock clock.Status `json:"clock"`
	}
	if err := json.Unmarshal(h.get(t, h.client, "/healthz").body, &health); err != nil {
		t.Fatal(err)
	}
	if health.Clock.State != clock.Wrong {
		t.Errorf("/healthz clock state %q, want wrong", health.Clock.State)
	}
}
