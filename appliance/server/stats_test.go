package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
)

// loginAs logs browser in with user/password (the user's name).
func (h *harness) loginAs(t *testing.T, browser *http.Client, user string) {
	t.Helper()
	res := h.postForm(t, browser, "/desk/login", "user="+user+"&password="+user)
	if res.status != http.StatusSeeOther {
		t.Fatalf("login %s: status %d", user, res.status)
	}
}

func TestDeskStats(t *testing.T) {
	clk := &fakeClock{t: jan2025(13, 7, 0)}
	h := newClockedHarness(t, clk)
	ctx := context.Background()
	exec := func(d func(*queue.State, time.Time) ([]queue.Event, error)) {
		t.Helper()
		if _, err := h.store.Execute(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	var counter string
	h.store.View(func(st *queue.State) {
		for _, id := range st.CounterOrder {
			if st.Counters[id].Serves("ausweis") {
				counter = id
				break
			}
		}
	})
	// Monday: A001 at 8:00 (shown 0 min), called 8:20, finished 8:32.
	clk.Set(jan2025(13, 8, 0))
	if _, _, err := h.store.IssueTicket(ctx, "ausweis", "kiosk", ""); err != nil {
		t.Fatal(err)
	}
	clk.Set(jan2025(13, 8, 20))
	exec(func(st *queue.State, at time.Time) ([]queue.Event, error) { return st.CallNext(at, counter, "demo") })
	clk.Set(jan2025(13, 8, 32))
	exec(func(st *queue.State, at time.Time) ([]queue.Event, error) {
		e, err := st.Finish(at, counter)
		return []queue.Event{e}, err
	})

	t.Run("RequiresLogin", func(t *testing.T) {
		for _, path := range []string{"/desk/stats", "/desk/stats?day=2025-01-13", "/desk/stats.csv?day=2025-01-13"} {
			res := h.get(t, nil, path)
			if res.status != http.StatusSeeOther || res.header.Get("Location") != "/desk/login" {
				t.Errorf("GET %s anonymous: %d to %q, want 303 to /desk/login", path, res.status, res.header.Get("Location"))
			}
			if strings.Contains(res.String(), "Ankünfte") {
				t.Errorf("GET %s anonymous shows figures", path)
			}
		}
	})
	t.Run("Page", func(t *testing.T) {
		// Every clerk may see the site's figures, not only the lead.
		for _, user := range []string{"demo", "clerk"} {
			b := h.browser(t)
			h.loginAs(t, b, user)
			res := h.get(t, b, "/desk/stats?day=2025-01-13")
			if res.status != http.StatusOK {
				t.Fatalf("%s: status %d: %s", user, res.status, res)
			}
			wantBody(t, "stats", res, `id="stats"`, "08:00–09:00", "20,0", "12,0", "Gesamt",
				`href="/desk/stats.csv?day=2025-01-13"`, `href="/desk/stats?day=2025-01-12"`, `value="2025-01-13"`)
			// The table scrolls sideways on a narrow screen: its region
			// takes focus and is named by the heading (axe: scrollable-region-focusable).
			wantBody(t, "stats region", res, `class="table-wrap" tabindex="0" role="region" aria-labelledby="stats-h"`, `id="stats-h"`)
			res = h.get(t, b, "/desk/stats?day=2025-01-13&lang=en")
			wantBody(t, "stats en", res, "Total", "20.0")
			res = h.get(t, b, "/desk/stats?day=2025-01-20")
			wantBody(t, "empty day", res, `id="stats-empty"`)
		}
	})
	t.Run("CSV", func(t *testing.T) {
		b := h.browser(t)
		h.loginAs(t, b, "clerk")
		res := h.get(t, b, "/desk/stats.csv?day=2025-01-13")
		if res.status != http.StatusOK {
			t.Fatalf("status %d: %s", res.status, res)
		}
		if got := res.header.Get("Content-Disposition"); got != "attachment; filename=veedel-statistik-kalk-2025-01-13.csv" {
			t.Errorf("Content-Disposition = %q", got)
		}
		if got := res.header.Get("Content-Type"); got != "text/csv; charset=utf-8" {
			t.Errorf("Content-Type = %q", got)
		}
		lines := strings.Split(strings.TrimPrefix(res.String(), "\uFEFF"), "\r\n")
		if !strings.HasPrefix(res.String(), "\uFEFFStandort;Tag;Stunde;Ankünfte;") || len(lines) != 4 {
			t.Fatalf("CSV:\n%q", res.String())
		}
		if want := ";2025-01-13;08:00–09:00;1;1;20,0;20,0;1;12,0;12,0;0;1;20,0;1"; !strings.HasSuffix(lines[1], want) {
			t.Errorf("hour line = %q, want suffix %q", lines[1], want)
		}
		if !strings.Contains(lines[2], ";Gesamt;1;") {
			t.Errorf("total line = %q", lines[2])
		}
		if res := h.get(t, b, "/desk/stats.csv?day=13.01.2025"); res.status != http.StatusBadRequest {
			t.Errorf("bad day: status %d, want 400", res.status)
		}
	})
}

// The statistics page shows how the estimate has calibrated its P90: per
// service, time of day and wait length, the margin's factor and how many
// walk-ins waited longer than the P90 shown at the kiosk.
func TestDeskStatsCalibration(t *testing.T) {
	clk := &fakeClock{t: jan2025(13, 7, 0)}
	h := newClockedHarness(t, clk)
	ctx := context.Background()
	exec := func(d func(*queue.State, time.Time) ([]queue.Event, error)) {
		t.Helper()
		if _, err := h.store.Execute(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	b := h.lead(t)
	if page := h.get(t, b, "/desk/stats?day=2025-01-13").String(); strings.Contains(page, `id="calibration"`) {
		t.Errorf("calibration shown before anything was measured")
	}
	// Two walk-ins at 10:00, shown "no wait" at the kiosk, called after
	// 30 minutes: both waited longer than their P90.
	clk.Set(jan2025(13, 10, 0))
	for range 2 {
		if _, _, err := h.store.IssueTicket(ctx, "meldung", "kiosk", ""); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range []string{"1", "2"} {
		clk.Set(jan2025(13, 10, 30+i))
		exec(func(st *queue.State, at time.Time) ([]queue.Event, error) { return st.CallNext(at, c, "demo") })
	}
	page := h.get(t, b, "/desk/stats?day=2025-01-13").String()
	for _, want := range []string{"Selbstkalibrierung der Wartezeit-Schätzung", `<table class="data stats" id="calibration">`,
		"Alle Anliegen", "An- und Ummeldung", "Tagesmitte", "unter 20 Min.", "2 / 2 (100,0 %)"} {
		if !strings.Contains(page, want) {
			t.Errorf("statistics page lacks %q", want)
		}
	}
	if en := h.get(t, b, "/desk/stats?day=2025-01-13&lang=en").String(); !strings.Contains(en, "Self-calibration of the wait estimate") || !strings.Contains(en, "2 / 2 (100.0 %)") {
		t.Errorf("English statistics page lacks the calibration")
	}
}
