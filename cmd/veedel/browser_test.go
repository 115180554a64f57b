package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/veedel/veedel/internal/web/webtest"
)

// chromium finds Debian's chromium. Without it the browser tests skip,
// unless VEEDEL_REQUIRE_BROWSER is set (CI sets it), where they fail.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("VEEDEL_REQUIRE_BROWSER") != "" {
		t.Fatal("chromium not found, and VEEDEL_REQUIRE_BROWSER is set: apt-get install -y chromium")
	}
	t.Skip("chromium not installed; skipping browser test")
	return ""
}

// newBrowser starts a headless chromium with a fresh profile and no
// background networking (the machine's network is closed).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		// A German browser: central's citizen pages follow Accept-Language.
		chromedp.Flag("lang", "de-DE"), chromedp.Flag("accept-lang", "de-DE,de"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// newTab opens a tab in the browser. Its first action runs here without a
// deadline: the context of a tab's first action owns the tab's lifetime.
func newTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	return ctx
}

// screenshotDir is where screenshots go: $VEEDEL_SCREENSHOTS (make
// screenshots sets it) or a temporary directory.
func screenshotDir(t *testing.T) string {
	if dir := os.Getenv("VEEDEL_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

type step = chromedp.Action[chromedp.Void]

// screenshot checks the page with axe-core (webtest.Axe: no WCAG 2.1 A/AA
// violation) and saves a full-page PNG as dir/name.png.
func screenshot(dir, name string) step {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := webtest.Axe(name)(ctx, t); err != nil {
			return err
		}
		buf, err := chromedp.FullScreenshot(100)(ctx, t)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
	})
}

// into runs an action that returns a value and stores the value in dst.
func into[T any](dst *T, a chromedp.Action[T]) step {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		v, err := a(ctx, t)
		*dst = v
		return err
	})
}

// until waits for a JavaScript condition to hold.
func until(expr string) step {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(10*time.Second), chromedp.WithPollingInterval(100*time.Millisecond))(ctx, t)
		return err
	})
}

// TestTicketJourneyInBrowser walks the skeleton's path in a real browser:
// the kiosk issues a ticket, the desk calls it, the call display shows it
// live, and the citizen's status page at central names the counter.
func TestTicketJourneyInBrowser(t *testing.T) {
	browser := newBrowser(t)
	shots := screenshotDir(t)
	dir := t.TempDir()
	centralAddr := freeAddr(t)
	_, cent := startCentral(t, dir, centralAddr)
	_, app := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"),
		CentralURL: cent.URL, PortalURL: cent.URL, Users: []userSpec{{Name: "demo", Password: "demo", Role: "lead"}}})
	// Somebody is already waiting, so the ticket shows a realistic wait.
	issueTickets(t, app.URL, 3, "ausweis")

	run := func(ctx context.Context, what string, actions ...step) {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	// Kiosk: take a ticket for "An- und Ummeldung".
	kiosk := browser
	var number, ticketURL string
	run(kiosk, "kiosk",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(app.URL+"/kiosk"),
		chromedp.WaitVisible(chromedp.CSS(`button[data-service="meldung"]`)),
		screenshot(shots, "1-kiosk"),
		takeTicket("meldung"),
		chromedp.WaitVisible(chromedp.ID(`ticket-number`)),
		into(&number, chromedp.Text(chromedp.ID("ticket-number"))),
		into(&ticketURL, chromedp.Location()),
		screenshot(shots, "2-kiosk-ticket"),
	)
	if number != "B001" {
		t.Errorf("kiosk ticket number %q, want B001", number)
	}
	token := ticketURL[strings.LastIndex(ticketURL, "/")+1:]

	// The call display is open before the call and must update live.
	display := newTab(t, browser)
	run(display, "display",
		chromedp.EmulateViewport(1920, 1080),
		chromedp.Navigate(app.URL+"/display"),
		chromedp.WaitVisible(chromedp.ID(`now-number`)),
	)

	// Desk: log in, take counter 3 (it serves registrations), call next.
	desk := newTab(t, browser)
	var called string
	run(desk, "desk",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(app.URL+"/desk"),
		chromedp.WaitVisible(chromedp.ID(`user`)),
		screenshot(shots, "3-desk-login"),
		chromedp.SendKeys(chromedp.ID("user"), "demo"),
		chromedp.SendKeys(chromedp.ID("password"), "demo"),
		chromedp.Submit(chromedp.ID(`password`)),
		chromedp.WaitVisible(chromedp.ID(`counter`)),
		chromedp.SetValue(chromedp.ID("counter"), "3"),
		chromedp.Submit(chromedp.ID(`counter`)),
		chromedp.WaitVisible(chromedp.ID(`call-next`)),
		chromedp.Click(chromedp.ID(`call-next`)),
		chromedp.WaitVisible(chromedp.ID(`finish`)),
		into(&called, chromedp.Text(chromedp.ID("current-number"))),
		screenshot(shots, "4-desk"),
	)
	if called != number {
		t.Errorf("desk called %q, want %q (counter 3 serves registrations only)", called, number)
	}

	var shown, counter string
	run(display, "display shows the call",
		until(`document.getElementById("now-number").textContent === "`+number+`"`),
		into(&counter, chromedp.Text(chromedp.ID("now-counter"))),
		into(&shown, chromedp.Text(chromedp.ID("now-number"))),
		screenshot(shots, "5-display"),
	)
	if counter != "Platz 3" {
		t.Errorf("display shows counter %q, want Platz 3", counter)
	}
	// A ticket issued meanwhile updates the display (its wait list), but
	// the current call's assertive live region stays untouched: a screen
	// reader must not read "B001, Platz 3" again for somebody else's ticket.
	var nowChanges, zero int
	run(display, "display watched",
		into(&zero, chromedp.Evaluate[int](`window.nowChanges = 0; window.renders = 0;
			new MutationObserver(() => window.nowChanges++).observe(document.getElementById("now"), {subtree: true, childList: true, characterData: true});
			new MutationObserver(() => window.renders++).observe(document.getElementById("waits"), {childList: true}); 0`)),
	)
	issueTickets(t, app.URL, 1, "ausweis")
	run(display, "display after an unrelated ticket",
		until(`window.renders > 0`),
		into(&nowChanges, chromedp.Evaluate[int](`window.nowChanges`)),
	)
	if nowChanges != 0 {
		t.Errorf("the current call's live region changed %d times for an unrelated ticket", nowChanges)
	}

	// The citizen's phone: the status page behind the QR code at central.
	phone := newTab(t, browser)
	var status string
	run(phone, "portal status page",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(cent.URL+"/t/"+token),
		until(`document.body.innerText.includes("Platz 3")`),
		into(&status, chromedp.Text(chromedp.CSS("main"))),
		screenshot(shots, "6-portal-ticket"),
		chromedp.Navigate(cent.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`main`)),
		screenshot(shots, "7-portal-sites"),
	)
	if !strings.Contains(status, number) {
		t.Errorf("status page does not show the number %s: %q", number, status)
	}
	t.Logf("screenshots in %s", shots)
}
