package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestKioskWalkInHours: Kalk's walk-in hours are Cologne's (Monday
// 7:30–15:00, Wednesday 7:30–12:00). Open outside them, the kiosk says
// that only appointments are served, puts the booking-code check-in first
// and shows the walk-in services as secondary buttons below; taking a
// walk-in ticket still works at once (said, never enforced).
func TestKioskWalkInHours(t *testing.T) {
	clk := &fakeClock{t: jan2025(13, 9, 0)}
	h := newClockedHarness(t, clk)

	order := func(t *testing.T, res response) (checkin, services int) {
		t.Helper()
		body := res.String()
		checkin, services = strings.Index(body, `id="checkin-form"`), strings.Index(body, `data-service="ausweis"`)
		if checkin < 0 || services < 0 {
			t.Fatalf("kiosk without check-in or services:\n%s", body)
		}
		return checkin, services
	}

	t.Run("WalkInMonday", func(t *testing.T) {
		clk.Set(jan2025(13, 9, 0))
		res := h.get(t, nil, "/kiosk")
		wantNoBody(t, "kiosk", res, `id="kiosk-appointments"`, "Heute nur mit Termin", "services-secondary", `id="kiosk-closed"`)
		if c, s := order(t, res); c < s {
			t.Error("during walk-in hours the check-in comes before the services")
		}
	})
	for _, tc := range []struct {
		name string
		day  int
		hh   int
	}{
		{"Tuesday", 14, 9},           // open 8:00–16:00, no walk-ins
		{"WednesdayMorning", 15, 11}, // walk-ins until 12:00: no note
		{"Thursday", 16, 17},         // open until 18:00, no walk-ins
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk.Set(jan2025(tc.day, tc.hh, 0))
			res := h.get(t, nil, "/kiosk")
			if tc.name == "WednesdayMorning" {
				wantNoBody(t, "kiosk at 11:00 on Wednesday", res, `id="kiosk-appointments"`)
				return
			}
			wantBody(t, "kiosk", res, `<p class="notice kiosk-appointments" id="kiosk-appointments" role="status">Heute nur mit Termin: bitte Buchungscode eingeben</p>`,
				`<ul class="services services-secondary" aria-labelledby="walkin-h">`, `id="walkin-h">Ohne Termin</h2>`, `class="checkin checkin-first"`)
			wantNoBody(t, "kiosk", res, `id="kiosk-closed"`)
			if c, s := order(t, res); c > s {
				t.Error("outside walk-in hours the check-in must come first")
			}
		})
	}
	t.Run("Languages", func(t *testing.T) {
		clk.Set(jan2025(14, 9, 0))
		for lang, want := range map[string]string{
			"en": "Appointments only today: please enter your booking code",
			"tr": "Bugün yalnızca randevu ile: lütfen rezervasyon kodunuzu girin",
			"ar": "اليوم بموعد فقط: يُرجى إدخال رمز الحجز",
		} {
			res := h.get(t, nil, "/kiosk?lang="+lang)
			wantBody(t, "kiosk "+lang, res, `id="kiosk-appointments"`, want)
		}
	})
	t.Run("WalkInStillIssues", func(t *testing.T) {
		clk.Set(jan2025(14, 9, 0))
		before := h.store.LastSeq()
		res := h.postForm(t, nil, "/kiosk/tickets", "service=meldung&key=w1")
		if res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/kiosk/tickets/") {
			t.Fatalf("walk-in outside walk-in hours: %d to %q, want 303 to the ticket", res.status, res.header.Get("Location"))
		}
		if got := h.store.LastSeq(); got != before+1 {
			t.Errorf("seq %d → %d, want one ticket", before, got)
		}
	})
	t.Run("ClosedWins", func(t *testing.T) {
		clk.Set(jan2025(14, 20, 0)) // Tuesday evening: closed, not "appointments only"
		res := h.get(t, nil, "/kiosk")
		wantBody(t, "kiosk", res, `id="kiosk-closed"`)
		wantNoBody(t, "kiosk", res, `id="kiosk-appointments"`, "services-secondary")
	})
}
