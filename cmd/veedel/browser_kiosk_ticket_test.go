package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/veedel/veedel/appliance/server"
)

// inView is a JavaScript check that the element with id is wholly on the
// screen without scrolling, and the page no wider than the screen.
func inView(id string) string {
	return fmt.Sprintf(`(() => { const r = document.getElementById(%q).getBoundingClientRect();
		return r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth && document.documentElement.scrollWidth <= innerWidth; })()`, id)
}

// TestKioskTicketPageInBrowser: on a landscape kiosk (1280×800) the ticket
// page shows "Fertig" and the SMS form without scrolling; a refused number
// is said next to its field, which is marked invalid and has focus; and
// before the page goes back to the start for the next citizen it warns,
// with a button for more time (WCAG 2.2.1), in the citizen's language.
//
// The pages' layout is checked at the kiosk's production idle time
// (-kiosk-idle unset: server.DefaultKioskIdle), so that no page goes back
// by itself during a slow browser step; the idle warning on a second
// appliance with a short -kiosk-idle, from a ticket page loaded just
// before, so that its timer starts when the test's clock does.
func TestKioskTicketPageInBrowser(t *testing.T) {
	browser := newBrowser(t)
	shots := screenshotDir(t)
	dir := t.TempDir()
	_, app := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db")})

	for _, size := range []struct {
		w, h int
		lang string
	}{{1280, 800, "de"}, {1280, 800, "ar"}, {1080, 1920, "de"}} {
		kiosk := newTab(t, browser)
		var done, form bool
		runIn(t, kiosk, fmt.Sprintf("ticket at %d×%d in %s", size.w, size.h, size.lang),
			chromedp.EmulateViewport(int64(size.w), int64(size.h)),
			chromedp.Navigate(app.URL+"/kiosk?lang="+size.lang),
			chromedp.WaitVisible(chromedp.CSS(`button[data-service="meldung"]`)),
			takeTicket("meldung"),
			chromedp.WaitVisible(chromedp.ID(`ticket-number`)),
			into(&done, chromedp.Evaluate[bool](inView("done"))),
			into(&form, chromedp.Evaluate[bool](inView("sms-submit"))),
			screenshot(shots, fmt.Sprintf("kiosk-ticket-%dx%d-%s", size.w, size.h, size.lang)),
		)
		if !done || !form {
			t.Errorf("%d×%d in %s: Fertig on screen %v, SMS form on screen %v; want both without scrolling", size.w, size.h, size.lang, done, form)
		}
	}

	// A landline: the error is next to the number, which is invalid,
	// described by it and focused; the consent given stays ticked.
	kiosk := newTab(t, browser)
	var active, invalid, described, errorText string
	var consent, near bool
	runIn(t, kiosk, "a landline is refused", append(turkishTicket(app.URL),
		chromedp.WaitVisible(chromedp.ID(`sms-phone`)),
		chromedp.SendKeys(chromedp.ID("sms-phone"), "0221 123456"),
		chromedp.Click(chromedp.CSS(`#sms input[name="consent"]`)),
		chromedp.Click(chromedp.ID("sms-submit")),
		chromedp.WaitVisible(chromedp.ID("sms-error")),
		until(`document.readyState === "complete"`),
		into(&active, chromedp.Evaluate[string](`document.activeElement.id`)),
		into(&invalid, chromedp.Evaluate[string](`document.getElementById("sms-phone").getAttribute("aria-invalid") || ""`)),
		into(&described, chromedp.Evaluate[string](`document.getElementById("sms-phone").getAttribute("aria-describedby") || ""`)),
		into(&consent, chromedp.Evaluate[bool](`document.querySelector('#sms input[name="consent"]').checked`)),
		into(&errorText, chromedp.Text(chromedp.ID("sms-error"))),
		// The message sits right by the field: at most 80 px apart.
		into(&near, chromedp.Evaluate[bool](`(() => { const e = document.getElementById("sms-error").getBoundingClientRect(), f = document.getElementById("sms-phone").getBoundingClientRect(); return Math.abs(f.top - e.bottom) < 80 || Math.abs(e.top - f.bottom) < 80; })()`)),
		screenshot(shots, "kiosk-ticket-sms-error-tr"),
	)...)
	if active != "sms-phone" || invalid != "true" || described != "sms-error" || !consent || !near {
		t.Errorf("after a landline: focus on %q, aria-invalid %q, described by %q, consent kept %v, error near the field %v; want sms-phone, true, sms-error, true, true",
			active, invalid, described, consent, near)
	}
	if !strings.Contains(errorText, "sabit hat") {
		t.Errorf("error %q is not the Turkish landline text", errorText)
	}

	// A booking code that does not exist: said at the field, which is
	// marked invalid and focused, with the code as typed.
	checkin := newTab(t, browser)
	var codeFocus, codeInvalid, codeValue, defaultIdle string
	var codeNear bool
	runIn(t, checkin, "a wrong booking code",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(app.URL+"/kiosk?lang=de"),
		chromedp.WaitVisible(chromedp.ID(`booking-code`)),
		chromedp.SendKeys(chromedp.ID(`booking-code`), "wrong-999"),
		chromedp.Click(chromedp.ID(`checkin`)),
		untilNavigated(`document.readyState === "complete" && !!document.getElementById("booking-code-error")`),
		into(&codeFocus, chromedp.Evaluate[string](`document.activeElement.id`)),
		into(&codeInvalid, chromedp.Evaluate[string](`document.getElementById("booking-code").getAttribute("aria-invalid") || ""`)),
		into(&codeValue, chromedp.Value(chromedp.ID(`booking-code`))),
		into(&defaultIdle, chromedp.Evaluate[string](`document.body.dataset.idle`)),
		into(&codeNear, chromedp.Evaluate[bool](`(() => { const e = document.getElementById("booking-code-error").getBoundingClientRect(), f = document.getElementById("booking-code").getBoundingClientRect(); return f.top - e.bottom < 80 && f.top > e.top; })()`)),
		screenshot(shots, "kiosk-checkin-wrong-code"),
	)
	if want := fmt.Sprint(int(server.DefaultKioskIdle / time.Second)); defaultIdle != want {
		t.Errorf("data-idle %q without -kiosk-idle, want the production default %s", defaultIdle, want)
	}
	if codeFocus != "booking-code" || codeInvalid != "true" || codeValue != "wrong-999" || !codeNear {
		t.Errorf("after a wrong code: focus on %q, aria-invalid %q, value %q, message right above the field %v; want booking-code, true, wrong-999, true",
			codeFocus, codeInvalid, codeValue, codeNear)
	}

	// Idle: a warning with time left and a button for more time; the
	// button keeps the page; left alone, it goes back to the German start.
	// The page has the appliance's -kiosk-idle as data-idle: 12 s, the
	// warning from 6 s before the end (ui.Page.IdleWarnSeconds).
	const idle = 12 * time.Second
	_, idleApp := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(t.TempDir(), "kalk.db"), KioskIdle: idle})
	kiosk = newTab(t, browser)
	var idleAttr string
	runIn(t, kiosk, "a Turkish ticket at a kiosk with a short idle time", turkishTicket(idleApp.URL)...)
	start := time.Now()
	runIn(t, kiosk, "the ticket page's idle time", into(&idleAttr, chromedp.Evaluate[string](`document.body.dataset.idle`)))
	if idleAttr != "12" {
		t.Fatalf("data-idle %q, want the appliance's -kiosk-idle, 12", idleAttr)
	}
	var warning, stillThere string
	runIn(t, kiosk, "the idle warning and more time",
		chromedp.WaitVisible(chromedp.ID("idle-warning")),
		into(&warning, chromedp.Text(chromedp.ID("idle-warning"))),
		focusedOn("idle-more"),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitNotVisible(chromedp.ID("idle-warning")),
		into(&stillThere, chromedp.Location()),
	)
	if waited := time.Since(start); waited > idle {
		t.Errorf("the warning came after %v, want before the %v idle time", waited, idle)
	}
	if !strings.Contains(warning, "zaman") || !strings.Contains(stillThere, "/kiosk/tickets/") {
		t.Errorf("warning %q (want Turkish), page %s after more time (want still the ticket)", warning, stillThere)
	}
	var home, lang string
	runIn(t, kiosk, "left alone, back to the German start",
		chromedp.WaitVisible(chromedp.ID("idle-warning")),
		screenshot(shots, "kiosk-ticket-idle-warning-tr"),
		untilNavigated(`location.pathname === "/kiosk" && document.readyState === "complete"`),
		into(&home, chromedp.Location()),
		into(&lang, chromedp.Evaluate[string](`document.documentElement.lang`)),
	)
	if lang != "de" {
		t.Errorf("after the idle time: %s in %q, want the German start page", home, lang)
	}
}

// turkishTicket takes a ticket in Turkish at the landscape kiosk of the
// appliance at url, up to its ticket page.
func turkishTicket(url string) []step {
	return []step{
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(url + "/kiosk?lang=tr"),
		chromedp.WaitVisible(chromedp.CSS(`button[data-service="meldung"]`)),
		takeTicket("meldung"),
		chromedp.WaitVisible(chromedp.ID(`ticket-number`)),
	}
}

// focusedOn waits until the element with id has focus.
func focusedOn(id string) step {
	return until(`document.activeElement && document.activeElement.id === "` + id + `"`)
}
