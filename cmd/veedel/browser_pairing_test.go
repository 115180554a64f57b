package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestKioskPairingInBrowser: the technician's way. The lead creates a
// pairing code on the desk's kiosk page; the kiosk's browser, which shows
// a hint for staff while unpaired, opens /kiosk/pair, types the code and
// is the site's kiosk from then on. A browser that is not paired takes a
// few tickets and is then asked, in German, to wait.
func TestKioskPairingInBrowser(t *testing.T) {
	browser := newBrowser(t)
	shots := screenshotDir(t)
	_, app := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(t.TempDir(), "kalk.db"), PortalURL: "http://central.example",
		Users: []userSpec{{Name: "demo", Password: "demo", Role: "lead"}}})
	run := func(ctx context.Context, what string, actions ...step) {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	desk := browser
	var code string
	run(desk, "desk: create a pairing code",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(app.URL+"/desk"),
		chromedp.WaitVisible(chromedp.ID(`user`)),
		chromedp.SendKeys(chromedp.ID("user"), "demo"),
		chromedp.SendKeys(chromedp.ID("password"), "demo"),
		chromedp.Submit(chromedp.ID(`password`)),
		chromedp.WaitVisible(chromedp.ID(`kiosks-link`)),
		chromedp.Click(chromedp.ID(`kiosks-link`)),
		chromedp.WaitVisible(chromedp.ID(`kiosk-name`)),
		chromedp.SendKeys(chromedp.ID(`kiosk-name`), "Kiosk Eingang"),
		chromedp.Click(chromedp.ID(`kiosk-create`)),
		chromedp.WaitVisible(chromedp.ID(`pair-code`)),
		into(&code, chromedp.Text(chromedp.ID(`pair-code`))),
		screenshot(shots, "pairing-1-desk-code"),
	)
	if len(code) != 9 {
		t.Fatalf("desk shows pairing code %q", code)
	}

	// The kiosk: its own browser (own cookies).
	kiosk := newBrowser(t)
	var hint, paired string
	run(kiosk, "kiosk: pair",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(app.URL+"/kiosk"),
		chromedp.WaitVisible(chromedp.ID(`kiosk-unpaired`)),
		into(&hint, chromedp.Text(chromedp.ID(`kiosk-unpaired`))),
		chromedp.Click(chromedp.ID(`kiosk-pair-link`)),
		chromedp.WaitVisible(chromedp.ID(`pair-code`)),
		chromedp.SendKeys(chromedp.ID(`pair-code`), strings.ToLower(code)),
		screenshot(shots, "pairing-2-kiosk-form"),
		chromedp.Click(chromedp.ID(`pair-submit`)),
		chromedp.WaitVisible(chromedp.ID(`paired`)),
		into(&paired, chromedp.Text(chromedp.ID(`paired`))),
		screenshot(shots, "pairing-3-kiosk-paired"),
		chromedp.Click(chromedp.ID(`to-kiosk`)),
		chromedp.WaitVisible(chromedp.CSS(`button[data-service="ausweis"]`)),
	)
	if !strings.Contains(hint, "nicht als Kiosk gekoppelt") {
		t.Errorf("unpaired kiosk's hint: %q", hint)
	}
	if !strings.Contains(paired, "Kiosk Eingang") {
		t.Errorf("pairing page says %q", paired)
	}
	var unpairedNow bool
	var afterBack string
	run(kiosk, "paired kiosk: a ticket, done, and back",
		into(&unpairedNow, chromedp.Evaluate[bool](`document.getElementById("kiosk-unpaired") !== null`)),
		takeTicket("ausweis"),
		chromedp.WaitVisible(chromedp.ID(`ticket-number`)),
		chromedp.Click(chromedp.ID(`done`)),
		chromedp.WaitVisible(chromedp.CSS(`button[data-service="ausweis"]`)),
		chromedp.NavigateBack(),
		chromedp.WaitVisible(chromedp.CSS(`body`)),
		into(&afterBack, chromedp.Location()),
	)
	if unpairedNow {
		t.Errorf("the paired kiosk still shows the hint")
	}
	// The next citizen's "back" must not reach the ticket's page: its
	// address carries the token, which cancels the ticket.
	if strings.Contains(afterBack, "/kiosk/tickets/") {
		t.Errorf("back after Done shows %s: the ticket's page stayed in the kiosk's history", afterBack)
	}
	var listed string
	run(desk, "desk lists the kiosk",
		chromedp.Navigate(app.URL+"/desk/kiosks"),
		chromedp.WaitVisible(chromedp.ID(`kiosks`)),
		into(&listed, chromedp.Text(chromedp.ID(`kiosks`))),
		screenshot(shots, "pairing-4-desk-list"),
	)
	if !strings.Contains(strings.ToLower(listed), "kiosk eingang") {
		t.Errorf("desk's kiosk list: %q", listed)
	}

	// A browser that is not paired, taking ticket after ticket.
	other := newBrowser(t)
	var alert string
	steps := []step{chromedp.EmulateViewport(1280, 900)}
	for range 7 {
		steps = append(steps,
			chromedp.Navigate(app.URL+"/kiosk"),
			chromedp.WaitVisible(chromedp.CSS(`button[data-service="meldung"]`)),
			takeTicket("meldung"),
			chromedp.WaitVisible(chromedp.CSS(`#ticket-number, [role="alert"]`)),
		)
	}
	steps = append(steps,
		chromedp.WaitVisible(chromedp.CSS(`[role="alert"]`)),
		into(&alert, chromedp.Text(chromedp.CSS(`[role="alert"]`))),
		screenshot(shots, "pairing-5-kiosk-limited"),
	)
	run(other, "unpaired browser reaches the limit", steps...)
	if !strings.Contains(alert, "Bitte einen Moment Geduld") {
		t.Errorf("the limit's message: %q", alert)
	}
}
