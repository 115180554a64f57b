package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

var cologne = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return loc
}()

// fakeClock is a settable clock shared by the store and the server.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// jan2025 is a time in Cologne in January 2025 (the 13th is a Monday).
func jan2025(day, hh, mm int) time.Time {
	return time.Date(2025, time.January, day, hh, mm, 0, 0, cologne)
}

// newClockedHarness is Kalk (Monday 7:30–15:00, Tuesday 8:00–16:00, …)
// with store and server on clk, seeded at clk's time, with the lead
// "demo" and the clerk "clerk" (password "clerk").
func newClockedHarness(t *testing.T, clk *fakeClock) *harness {
	t.Helper()
	ctx := context.Background()
	n := 0
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kalk.db"), "kalk", sqlite.Options{Now: clk.Now,
		NewToken: func() string { n++; return fmt.Sprintf("token-%018d", n) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Execute(ctx, func(_ *queue.State, at time.Time) ([]queue.Event, error) {
		return appliance.Catalog["kalk"].Events(at), nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []sqlite.User{{Name: "demo", DisplayName: "Demo", Role: sqlite.RoleLead}, {Name: "clerk", DisplayName: "Clerk", Role: sqlite.RoleClerk}} {
		if err := store.CreateUser(ctx, u, u.Name); err != nil {
			t.Fatal(err)
		}
	}
	renderer, err := ui.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	srv := httptest.NewServer((&server.Server{Store: store, Renderer: renderer, Logger: slog.New(slog.NewTextHandler(logs, nil)),
		PortalURL: portal, Now: clk.Now}).Handler())
	t.Cleanup(srv.Close)
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &harness{store: store, url: srv.URL, client: client, logs: logs}
}

func wantBody(t *testing.T, what string, res response, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(res.String(), w) {
			t.Errorf("%s: missing %q in:\n%s", what, w, res)
		}
	}
}

func wantNoBody(t *testing.T, what string, res response, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(res.String(), w) {
			t.Errorf("%s: unexpected %q", what, w)
		}
	}
}

func TestKioskOverload(t *testing.T) {
	clk := &fakeClock{t: jan2025(13, 14, 0)}
	h := newClockedHarness(t, clk)
	ctx := context.Background()
	// Monday 14:30, half an hour before closing: three ID-card tickets
	// wait and no counter is open, so a new one's P90 is far past 15:00.
	clk.Set(jan2025(13, 14, 30))
	for range 3 {
		if _, _, err := h.store.IssueTicket(ctx, "ausweis", "kiosk", ""); err != nil {
			t.Fatal(err)
		}
	}
	var p90 int
	h.store.SettleEstimates()
	h.store.View(func(st *queue.State) { p90 = st.EstimateNew("ausweis").P90 })
	if p90 <= 30 {
		t.Fatalf("setup: P90 %d min does not run past closing", p90)
	}

	t.Run("Note", func(t *testing.T) {
		res := h.get(t, nil, "/kiosk")
		wantBody(t, "kiosk", res, `id="late-ausweis"`, "Heute wahrscheinlich nicht mehr: bitte Termin buchen oder morgen ab <bdi>08:00</bdi> wiederkommen")
		wantNoBody(t, "kiosk", res, `id="kiosk-closed"`)
		res = h.get(t, nil, "/kiosk?lang=tr")
		wantBody(t, "kiosk tr", res, "randevu alın veya yarın saat <bdi>08:00</bdi>")
		res = h.get(t, nil, "/kiosk?lang=ar")
		wantBody(t, "kiosk ar", res, "يرجى حجز موعد أو العودة غدًا من الساعة <bdi>08:00</bdi>")
	})
	t.Run("ConfirmFirst", func(t *testing.T) {
		before := h.store.LastSeq()
		res := h.postForm(t, nil, "/kiosk/tickets", "service=ausweis&key=k1")
		if res.status != http.StatusOK {
			t.Fatalf("POST without confirm: status %d, want 200 (the question): %s", res.status, res)
		}
		wantBody(t, "confirm", res, "Ihre Wartezeit reicht wahrscheinlich über die Schließzeit (<bdi>15:00</bdi>) hinaus. Trotzdem eine Wartenummer ziehen?",
			`id="confirm-yes"`, "Ja, trotzdem", `href="`+portal+`/"`, "Termin buchen", `href="/kiosk"`, "Zurück",
			`name="confirm" value="1"`, `name="key" value="k1"`)
		if got := h.store.LastSeq(); got != before {
			t.Fatalf("a ticket was issued before confirmation: seq %d → %d", before, got)
		}
		// Confirming issues it, once, however often it is tapped.
		res = h.postForm(t, nil, "/kiosk/tickets", "service=ausweis&key=k1&confirm=1")
		if res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/kiosk/tickets/") {
			t.Fatalf("confirmed: %d to %q, want 303 to the ticket", res.status, res.header.Get("Location"))
		}
		again := h.postForm(t, nil, "/kiosk/tickets", "service=ausweis&key=k1&confirm=1")
		if again.header.Get("Location") != res.header.Get("Location") {
			t.Errorf("double tap: %q, then %q", res.header.Get("Location"), again.header.Get("Location"))
		}
		if got := h.store.LastSeq(); got != before+1 {
			t.Errorf("seq %d → %d, want one ticket", before, got)
		}
	})
	t.Run("NoQuestionWhenInTime", func(t *testing.T) {
		// Tuesday 9:00, open until 16:00: the same queue fits.
		clk.Set(jan2025(14, 9, 0))
		res := h.get(t, nil, "/kiosk")
		wantNoBody(t, "kiosk", res, "late-note", `id="kiosk-closed"`)
		res = h.postForm(t, nil, "/kiosk/tickets", "service=ausweis&key=k2")
		if res.status != http.StatusSeeOther {
			t.Fatalf("in time: status %d, want 303 (issued at once): %s", res.status, res)
		}
	})
}

func TestKioskClosed(t *testing.T) {
	clk := &fakeClock{t: jan2025(13, 6, 0)}
	h := newClockedHarness(t, clk)
	for _, tc := range []struct {
		name string
		at   time.Time
		want string
	}{
		{"BeforeOpening", jan2025(13, 6, 0), "Jetzt geschlossen. Geöffnet heute ab <bdi>07:30</bdi>."},
		{"AfterClosing", jan2025(13, 16, 0), "Jetzt geschlossen. Wieder geöffnet morgen ab <bdi>08:00</bdi>."},
		{"Weekend", jan2025(17, 13, 0), "Jetzt geschlossen. Wieder geöffnet am <bdi>20.01.</bdi> ab <bdi>07:30</bdi>."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk.Set(tc.at)
			res := h.get(t, nil, "/kiosk")
			wantBody(t, "kiosk", res, `id="kiosk-closed"`, tc.want)
			wantNoBody(t, "kiosk", res, "late-note")
		})
	}
	t.Run("StillIssues", func(t *testing.T) {
		// Closed is said, never enforced: staff may still serve. The kiosk
		// asks first (issue 14; TestKioskClosedHonest), then issues.
		res := h.postForm(t, nil, "/kiosk/tickets", "service=meldung&key=c1&confirm=1")
		if res.status != http.StatusSeeOther {
			t.Fatalf("closed: status %d, want 303: %s", res.status, res)
		}
	})
}
