package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBookingJourneyInBrowser: a citizen books an appointment on a
// 390×844 phone at central's portal, with a real appliance connected:
// from the start page's link through the four steps (a missing consent
// refused first, the error summary focused), the code read from the
// e-mail central sent to the SMTP stand-in, to the booking's page with
// its code and QR code. Every page reflows to 320 px without sideways
// scrolling.
func TestBookingJourneyInBrowser(t *testing.T) {
	browser := newBrowser(t)
	shots := screenshotDir(t)
	dir := t.TempDir()
	cn, cent := startCentral(t, dir, freeAddr(t))
	app, _ := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"), CentralURL: cent.URL, PortalURL: cent.URL, Heartbeat: time.Second})
	synced(t, cent.URL, app, 30*time.Second)
	// Central seals the contact to the site's box key, which it learns
	// from the site's first signed poll.
	eventually(t, 30*time.Second, "central knows kalk's box key", func() (bool, string) {
		_, err := cn.Central.BoxKey(context.Background(), "kalk")
		return err == nil, describe("%v", err)
	})

	// reflows checks the page at 320 px wide: nothing wider than the screen.
	reflows := func(what string) {
		t.Helper()
		var wide int
		runIn(t, browser, what+" at 320 px",
			chromedp.EmulateViewport(320, 640, chromedp.EmulateMobile),
			into(&wide, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)),
			chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		)
		if wide > 320 {
			t.Errorf("%s: %d px wide at a 320 px screen", what, wide)
		}
	}

	runIn(t, browser, "the portal links to the booking",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(cent.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("book-link")),
		chromedp.Click(chromedp.ID("book-link")),
		chromedp.WaitVisible(chromedp.CSS(`[data-service="ausweis"] a`)),
		screenshot(shots, "booking-1-service"),
	)
	reflows("step 1")
	runIn(t, browser, "choose the service",
		chromedp.Click(chromedp.CSS(`[data-service="ausweis"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-site="kalk"] a`)),
		screenshot(shots, "booking-2-site"),
	)
	reflows("step 2")
	var slot string
	runIn(t, browser, "choose the site; the first free day is chosen",
		chromedp.Click(chromedp.CSS(`[data-site="kalk"] a`)),
		chromedp.WaitVisible(chromedp.ID("slots")),
		into(&slot, chromedp.Evaluate[string](`document.querySelector('.slot input').id`)),
		screenshot(shots, "booking-3-slot"),
	)
	reflows("step 3")
	runIn(t, browser, "choose a time",
		chromedp.Click(chromedp.CSS(`label[for="`+slot+`"]`)),
		chromedp.Click(chromedp.ID("slot-next")),
		chromedp.WaitVisible(chromedp.ID("f-name")),
	)
	reflows("step 4")

	var focused, described string
	runIn(t, browser, "a missing consent is refused, the summary focused",
		chromedp.SendKeys(chromedp.ID("f-name"), "Erika Muster"),
		chromedp.SendKeys(chromedp.ID("f-email"), "erika.muster@example.de"),
		chromedp.Click(chromedp.ID("book-submit")),
		chromedp.WaitVisible(chromedp.ID("error-summary")),
		until(`document.activeElement && document.activeElement.id === 'error-summary'`),
		into(&focused, chromedp.Evaluate[string](`document.activeElement.id`)),
		into(&described, chromedp.Evaluate[string](`document.getElementById('f-consent').getAttribute('aria-describedby') || ''`)),
		screenshot(shots, "booking-4-error"),
	)
	if focused != "error-summary" || !strings.Contains(described, "f-consent-error") {
		t.Errorf("after a refused post: focus on %q, consent described by %q", focused, described)
	}
	var name string
	runIn(t, browser, "the summary's link goes to the field; consent and submit",
		into(&name, chromedp.Evaluate[string](`document.getElementById('f-name').value`)),
		chromedp.Click(chromedp.CSS(`#error-summary a[href="#f-consent"]`)),
		until(`location.hash === '#f-consent' && document.activeElement.id === 'f-consent'`),
		chromedp.Click(chromedp.ID("f-consent")),
		chromedp.Click(chromedp.ID("book-submit")),
		chromedp.WaitVisible(chromedp.ID("f-code")),
		screenshot(shots, "booking-5-code"),
	)
	if name != "Erika Muster" {
		t.Errorf("the name typed is gone after the refusal: %q", name)
	}
	reflows("code page")
	var sentTo, url string
	runIn(t, browser, "read the code page",
		into(&sentTo, chromedp.Evaluate[string](`document.getElementById('sent-to').textContent`)),
		into(&url, chromedp.Evaluate[string](`location.pathname + location.search`)),
	)
	if !strings.Contains(sentTo, "e…@example.de") || strings.Contains(sentTo, "erika.muster") {
		t.Errorf("code page says the code went to %q", sentTo)
	}
	if strings.Contains(url, "erika") || strings.Contains(url, "example") || !strings.HasPrefix(url, "/b/") {
		t.Errorf("the code page's address %q", url)
	}

	code := cn.sentCode(t, "erika.muster@example.de")
	var qrWidth int
	var bookingCode string
	runIn(t, browser, "confirm with the code from the e-mail",
		chromedp.SendKeys(chromedp.ID("f-code"), code),
		chromedp.Click(chromedp.ID("code-submit")),
		chromedp.WaitVisible(chromedp.ID("booking-code")),
		until(`document.getElementById('qr').complete`),
		into(&qrWidth, chromedp.Evaluate[int](`document.getElementById('qr').naturalWidth`)),
		into(&bookingCode, chromedp.Evaluate[string](`document.getElementById('booking-code').textContent`)),
		screenshot(shots, "booking-6-booked"),
	)
	if qrWidth == 0 {
		t.Error("the QR code did not load")
	}
	compact := strings.ReplaceAll(bookingCode, " ", "")
	if len(compact) != 10 || compact[0] != 'T' || !strings.Contains(bookingCode, " ") {
		t.Errorf("booking code shown as %q, want T and 9 characters in groups", bookingCode)
	}
	reflows("booking page")
	// The confirmation e-mail carries the code and the private link back.
	eventually(t, 30*time.Second, "the confirmation e-mail", func() (bool, string) {
		for _, m := range cn.mailSim.Messages() {
			if strings.Contains(m.To, "erika.muster@example.de") && strings.Contains(m.Text, cent.URL+url) && strings.Contains(m.Text, compact) {
				return true, ""
			}
		}
		return false, describe("%d messages", len(cn.mailSim.Messages()))
	})

	// The site gets the booking through its download: the open page
	// follows by itself (booking.js on the status stream).
	eventually(t, 30*time.Second, "the open page says the booking is at the site", func() (bool, string) {
		var state string
		if err := chromedp.Do(browser, into(&state, chromedp.Evaluate[string](`(document.getElementById('state')||{}).textContent||''`))); err != nil {
			return false, err.Error()
		}
		return state == "Beim Standort angekommen", state
	})
	runIn(t, browser, "screenshot at the site", screenshot(shots, "booking-6b-at-site"))
	runIn(t, browser, "Arabic, right to left",
		chromedp.Navigate(cent.URL+url+"?lang=ar"),
		chromedp.WaitVisible(chromedp.ID("booking-code")),
		screenshot(shots, "booking-7-booked-ar"),
	)
	reflows("Arabic booking page")

	// Step 4 in Arabic, sent empty: every message beside its field.
	var step4 string
	runIn(t, browser, "Arabic step 4 refused",
		chromedp.Navigate(cent.URL+"/termin?service=ausweis&site=kalk"),
		chromedp.WaitVisible(chromedp.ID("slots")),
		chromedp.Click(chromedp.CSS(`.slot:last-child label`)),
		chromedp.Click(chromedp.ID("slot-next")),
		chromedp.WaitVisible(chromedp.ID("f-name")),
		into(&step4, chromedp.Evaluate[string](`location.href`)),
		chromedp.Click(chromedp.ID("book-submit")),
		chromedp.WaitVisible(chromedp.ID("error-summary")),
		into(&focused, chromedp.Evaluate[string](`document.activeElement.id`)),
		screenshot(shots, "booking-8-error-ar"),
	)
	if focused != "error-summary" {
		t.Errorf("Arabic refusal: focus on %q", focused)
	}
	reflows("Arabic step 4 with errors")

	// The cancellation asks first; then the place is free again.
	runIn(t, browser, "cancel with a confirmation step",
		chromedp.Navigate(cent.URL+url+"?lang=de"),
		chromedp.WaitVisible(chromedp.ID("cancel")),
		chromedp.Click(chromedp.ID("cancel")),
		chromedp.WaitVisible(chromedp.ID("cancel-submit")),
		screenshot(shots, "booking-9-cancel-ask"),
		chromedp.Click(chromedp.ID("cancel-submit")),
		chromedp.WaitVisible(chromedp.ID("cancelled-h")),
		screenshot(shots, "booking-10-cancelled"),
	)
}
