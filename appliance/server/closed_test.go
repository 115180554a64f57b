package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/hardware"
)

// Issue 14: outside the opening hours the kiosk promises no wait in
// minutes anywhere, says when the site opens, and asks before issuing.
func TestKioskClosedHonest(t *testing.T) {
	// Sunday 03:50: Kalk opens Monday 07:30.
	clk := &fakeClock{t: jan2025(19, 3, 50)}
	h := newClockedHarness(t, clk)
	ctx := context.Background()
	for range 3 {
		if _, _, err := h.store.IssueTicket(ctx, "ausweis", "kiosk", ""); err != nil {
			t.Fatal(err)
		}
	}
	const opens = "Wieder geöffnet morgen ab <bdi>07:30</bdi>."

	t.Run("KioskPage", func(t *testing.T) {
		res := h.get(t, nil, "/kiosk")
		wantBody(t, "kiosk", res, `id="kiosk-closed"`, "Jetzt geschlossen. "+opens, "<bdi>3</bdi> Personen warten")
		wantNoBody(t, "kiosk", res, "Min.", "Keine Wartezeit")
		res = h.get(t, nil, "/kiosk?lang=en")
		wantNoBody(t, "kiosk en", res, " min", "No waiting time")
	})

	var ticket string
	t.Run("AsksFirst", func(t *testing.T) {
		before := h.store.LastSeq()
		res := h.postForm(t, nil, "/kiosk/tickets", "service=meldung&key=c1")
		if res.status != http.StatusOK {
			t.Fatalf("closed, unconfirmed: status %d, want 200 (the question): %s", res.status, res)
		}
		wantBody(t, "confirm", res, "Jetzt geschlossen. Trotzdem eine Nummer ziehen?", opens,
			`id="confirm-yes"`, "Ja, trotzdem", `id="confirm-back"`, "Zurück", `name="confirm" value="1"`, `name="key" value="c1"`)
		wantNoBody(t, "confirm", res, "Min.", "Schließzeit")
		if got := h.store.LastSeq(); got != before {
			t.Fatalf("a ticket was issued before confirmation: seq %d → %d", before, got)
		}
		for lang, q := range map[string]string{"en": "Closed now. Take a number anyway?",
			"tr": "Şu an kapalı. Yine de sıra numarası almak istiyor musunuz?", "ar": "مغلق الآن. هل تريد سحب رقم على أي حال؟"} {
			res := h.postForm(t, nil, "/kiosk/tickets?lang="+lang, "service=meldung&key=c1")
			wantBody(t, "confirm "+lang, res, q)
		}
		if got := h.store.LastSeq(); got != before {
			t.Fatalf("a ticket was issued before confirmation: seq %d → %d", before, got)
		}
		res = h.postForm(t, nil, "/kiosk/tickets", "service=meldung&key=c1&confirm=1")
		if res.status != http.StatusSeeOther {
			t.Fatalf("confirmed: status %d, want 303: %s", res.status, res)
		}
		ticket = res.header.Get("Location")
		if got := h.store.LastSeq(); got != before+1 {
			t.Errorf("seq %d → %d, want one ticket", before, got)
		}
	})

	t.Run("TicketPage", func(t *testing.T) {
		if ticket == "" {
			t.Skip("no ticket")
		}
		res := h.get(t, nil, ticket)
		wantBody(t, "ticket", res, `id="ticket-closed"`, "Jetzt geschlossen. "+opens)
		wantNoBody(t, "ticket", res, "Min.", "Keine Wartezeit")
	})

	t.Run("Display", func(t *testing.T) {
		waits := between(h.get(t, nil, "/display").String(), `id="waits">`, "</ul>")
		if !strings.Contains(waits, "Jetzt geschlossen. Wieder geöffnet morgen ab 07:30.") || strings.Contains(waits, "Min.") {
			t.Errorf("display's waits at night = %q, want when it opens and no minutes", waits)
		}
	})

	t.Run("Open", func(t *testing.T) {
		// Monday 09:00, open: minutes as before, and no question.
		clk.Set(jan2025(20, 9, 0))
		res := h.get(t, nil, "/kiosk")
		wantBody(t, "kiosk", res, "Min. · Wartende: <bdi>")
		wantNoBody(t, "kiosk", res, `id="kiosk-closed"`)
		if ticket != "" {
			res = h.get(t, nil, ticket)
			wantBody(t, "ticket", res, "Voraussichtliche Wartezeit: ca. <bdi>")
			wantNoBody(t, "ticket", res, `id="ticket-closed"`)
		}
		if waits := between(h.get(t, nil, "/display").String(), `id="waits">`, "</ul>"); !strings.Contains(waits, "Min.") || strings.Contains(waits, "geschlossen") {
			t.Errorf("display's waits when open = %q, want minutes", waits)
		}
		res = h.postForm(t, nil, "/kiosk/tickets", "service=meldung&key=o1")
		if res.status != http.StatusSeeOther {
			t.Fatalf("open: status %d, want 303 (issued at once): %s", res.status, res)
		}
	})
}

// A ticket printed after hours carries when the site opens, not minutes.
func TestKioskPrintsClosed(t *testing.T) {
	p := &fakePrinter{status: hardware.PrinterStatus{Online: true}}
	h, _ := newPrinterHarnessAt(t, p, func() time.Time { return jan2025(19, 3, 50) })
	if res := h.postForm(t, nil, "/kiosk/tickets", "service=meldung&key=p1&confirm=1"); res.status != http.StatusSeeOther {
		t.Fatalf("confirmed: status %d, want 303: %s", res.status, res)
	}
	printed := p.tickets()
	if len(printed) != 1 {
		t.Fatalf("printed %d tickets, want 1", len(printed))
	}
	lines := strings.Join(printed[0].Lines, "\n")
	if !strings.Contains(lines, "Jetzt geschlossen.\nWieder geöffnet morgen ab 07:30.") || strings.Contains(lines, "Min.") || strings.Contains(lines, "Keine Wartezeit") {
		t.Errorf("paper after hours:\n%s\nwant when it opens and no minutes", lines)
	}
}
