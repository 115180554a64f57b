package server_test

import (
	"context"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/internal/web/webtest"
)

// browser starts a headless Chromium for the test, or skips the test when
// there is none (or with -short).
func browser(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Skip("no Chromium installed")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(390, 844),
		// A German phone: citizen pages follow Accept-Language.
		chromedp.Flag("lang", "de-DE"), chromedp.Flag("accept-lang", "de-DE,de"))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelTimeout)
	return ctx
}

// waitText polls the page until the element's text is want.
func waitText(t *testing.T, ctx context.Context, selector, want string) {
	t.Helper()
	var got string
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		got, err = chromedp.Run(ctx, chromedp.Evaluate[string](`(function(){var e=document.querySelector(`+"`"+selector+"`"+`);return e?(e.hidden?"(hidden)":e.textContent):"(missing)";})()`))
		if err != nil {
			t.Fatal(err)
		}
		if got == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: text = %q, want %q", selector, got, want)
}

// TestBrowser_Live checks live.js in a real browser: the pages follow new
// batches without a reload.
func TestBrowser_Live(t *testing.T) {
	e := newEnv(t)
	ctx := browser(t) // after newEnv: its cleanup closes the browser before the server
	l := opening(t, e.Clock)
	e.mustPost(l.batch(1, 5))

	if err := chromedp.Do(ctx, chromedp.Navigate(e.URL+"/t/"+tokenA)); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, `.js-only`, " · Aktualisiert sich automatisch.")
	waitText(t, ctx, `[data-show="called"]`, "(hidden)")
	call(l)
	e.mustPost(l.batch(6, 7))
	waitText(t, ctx, `[data-show="called"]`, "Sie sind dran! Bitte kommen Sie zu Platz 3.")
	waitText(t, ctx, `[data-field="state"]`, "Aufgerufen")
	waitText(t, ctx, `[data-show="waiting"]`, "(hidden)")
	if err := chromedp.Do(ctx, webtest.Axe("status page after a live call")); err != nil {
		t.Error(err)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(e.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, `[data-site="kz-innenstadt"] [data-field="waiting"]`, "1 Person wartet")
	l.add("queue.ticket_issued", "ticket/2026-03-04/A003", ticketIssued("2026-03-04/A003", "a3-token-0123456789abcdef", "A003"))
	e.mustPost(l.batch(8, 8))
	waitText(t, ctx, `[data-site="kz-innenstadt"] [data-field="waiting"]`, "2 Personen warten")
	waitText(t, ctx, `[data-site="kz-innenstadt"] [data-field="stale-note"]`, "(hidden)")
	// Back to one, updated live: the singular (live.js once wrote "1
	// Personen warten").
	l.add(queue.TypeTicketCalled, "ticket/2026-03-04/A002", &queue.TicketCalled{ID: "2026-03-04/A002", Counter: "p3"})
	e.mustPost(l.batch(9, 9))
	waitText(t, ctx, `[data-site="kz-innenstadt"] [data-field="waiting"]`, "1 Person wartet")

	// A site falling silent turns stale on the next refresh of the stream;
	// a new batch of another site wakes the stream at once.
	e.Clock.Add(11 * time.Minute)
	other := newSiteLog(t, e.Clock)
	other.site = "kz-porz"
	other.add("queue.site_described", "site/kz-porz", map[int]any{1: "kz-porz", 2: "Kundenzentrum Porz", 3: "Europe/Berlin"})
	e.enroll("kz-porz", siteKey("kz-porz"))
	e.mustPost(mustBatch(t, e.Clock, "kz-porz", other.slice(1, 1)))
	// The list changed (a new site): live.js renders it anew.
	waitText(t, ctx, `[data-site="kz-porz"] h2`, "Kundenzentrum Porz")
	waitText(t, ctx, `[data-site="kz-innenstadt"] [data-field="stale"]`, "Keine aktuellen Daten")
	if err := chromedp.Do(ctx, webtest.Axe("portal with a stale site, updated live")); err != nil {
		t.Error(err)
	}
	if resp, _ := e.get("/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /: status = %d", resp.StatusCode)
	}
}
