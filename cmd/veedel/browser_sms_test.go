package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestStatusPageSMSLiveInBrowser: a citizen signs up for SMS on central's
// status page while the site is offline; a landline number is refused with
// the ticked consent kept, then the page says the mobile number is on its
// way. When the site comes back and confirms it, the open page turns
// to "eingerichtet" by itself (live.js follows the ticket's event stream).
func TestStatusPageSMSLiveInBrowser(t *testing.T) {
	browser := newBrowser(t)
	shots := screenshotDir(t)
	dir := t.TempDir()
	cn, cent := startCentral(t, dir, freeAddr(t))
	cfg := applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"), CentralURL: cent.URL, PortalURL: cent.URL, Heartbeat: time.Second}
	app, appNode := startAppliance(t, cfg)
	token := issueTickets(t, app.URL, 2, "ausweis")[1]
	synced(t, cent.URL, app, 5*time.Second)
	// Central seals the numbers to the site's box key, which the site's
	// downlink polls carry: wait for the first.
	eventually(t, 10*time.Second, "central has the site's box key", func() (bool, string) {
		key, err := cn.Central.BoxKey(context.Background(), "kalk")
		return key != nil, fmt.Sprint(err)
	})
	appNode.stop() // the site's WAN is down

	var consent bool
	var phoneDesc, consentDesc string
	runIn(t, browser, "a landline is refused",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(cent.URL+"/t/"+token),
		chromedp.WaitVisible(chromedp.ID("sms-phone")),
		chromedp.SendKeys(chromedp.ID("sms-phone"), "0221 123456"),
		chromedp.Click(chromedp.CSS(`#sms input[name="consent"]`)),
		chromedp.Click(chromedp.ID("sms-submit")),
		chromedp.WaitVisible(chromedp.ID("sms-error")),
		into(&consent, chromedp.Evaluate[bool](`document.querySelector('#sms input[name="consent"]').checked`)),
		into(&phoneDesc, chromedp.Evaluate[string](`document.getElementById('sms-phone').getAttribute('aria-describedby') || ''`)),
		into(&consentDesc, chromedp.Evaluate[string](`document.querySelector('#sms input[name="consent"]').getAttribute('aria-describedby') || ''`)),
		screenshot(shots, "sms-0-status-error"),
	)
	if !consent || phoneDesc != "sms-error" || consentDesc != "" {
		t.Errorf("after a refused landline: consent ticked %v, phone described by %q, consent by %q; want ticked, sms-error, none", consent, phoneDesc, consentDesc)
	}

	runIn(t, browser, "sign up while the site is offline",
		chromedp.SetValue(chromedp.ID("sms-phone"), smsTyped),
		chromedp.Click(chromedp.ID("sms-submit")),
		chromedp.WaitVisible(chromedp.ID("sms-pending")),
		until(`!document.querySelector('.js-only').hidden`), // live.js runs
		screenshot(shots, "sms-1-status-pending"),
	)

	cfg.Listen = ""
	startAppliance(t, cfg) // the WAN is back: the downlink takes the number
	// live.js reloads the page when the state changes: ask until the
	// reloaded page says so (a question asked mid-reload fails; ask again).
	eventually(t, 10*time.Second, "the open status page turns to 'eingerichtet'", func() (bool, string) {
		var ok bool
		if err := chromedp.Do(browser, into(&ok, chromedp.Evaluate[bool](`!!document.querySelector('#sms-ok')`))); err != nil {
			return false, err.Error()
		}
		return ok, "no #sms-ok"
	})
	runIn(t, browser, "screenshot", screenshot(shots, "sms-2-status-confirmed"))
}
