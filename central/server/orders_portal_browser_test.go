package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/fxamacker/cbor/v2"

	"github.com/veedel/veedel/appliance/registration"
)

// orderShots is where the journey's screenshots go: $VEEDEL_SCREENSHOTS
// (make screenshots sets it) or a temporary directory.
func orderShots(t *testing.T) string {
	if dir := os.Getenv("VEEDEL_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

func orderShot(dir, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		buf, err := chromedp.FullScreenshot(100)(ctx, t)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
	})
}

// orderViewShot saves what the phone's screen shows (not the whole page).
func orderViewShot(dir, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		buf, err := chromedp.CaptureScreenshot()(ctx, t)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
	})
}

func orderEval[T any](dst *T, expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		v, err := chromedp.Evaluate[T](expr)(ctx, t)
		*dst = v
		return err
	})
}

func orderUntil(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(10*time.Second), chromedp.WithPollingInterval(100*time.Millisecond))(ctx, t)
		return err
	})
}

// noSideways is a check that the page does not scroll sideways at its
// width (WCAG 1.4.10 reflow).
const noSideways = `document.documentElement.scrollWidth <= screen.width`

// a11yProblems lists what a screen reader would stumble over (the project
// has no axe-core): inputs without a label, aria-describedby naming no
// element, duplicate ids, summary links to nowhere, images without alt.
const a11yProblems = `(function(){var bad=[];
document.querySelectorAll('input:not([type=hidden]),select,textarea').forEach(function(e){if(!e.labels||e.labels.length===0){bad.push('no label: '+e.id);}});
document.querySelectorAll('[aria-describedby]').forEach(function(e){e.getAttribute('aria-describedby').split(/\s+/).forEach(function(id){if(!document.getElementById(id)){bad.push('describedby '+id+' missing');}});});
var ids={};document.querySelectorAll('[id]').forEach(function(e){if(ids[e.id]){bad.push('duplicate id '+e.id);}ids[e.id]=1;});
document.querySelectorAll('.error-summary a').forEach(function(a){if(!document.getElementById(a.hash.slice(1))){bad.push('summary link to nowhere: '+a.hash);}});
document.querySelectorAll('img:not([alt])').forEach(function(e){bad.push('img without alt');});
document.querySelectorAll('fieldset').forEach(function(f){if(!f.querySelector(':scope > legend')){bad.push('fieldset without legend: '+f.id);}});
return bad.join('; ');})()`

// TestBrowser_OrderJourney: on a 390×844 phone a citizen opens the portal,
// goes to "Urkunde bestellen", sends the form half filled (the error
// summary takes the focus and links to the fields), completes it and
// orders a Meldebescheinigung for pickup: the confirmation shows the
// code, the status page follows the site's steps live without moving the
// focus. Every page reflows to 320 px without scrolling sideways.
func TestBrowser_OrderJourney(t *testing.T) {
	e, l := orderSite(t)
	ctx := browser(t)
	shots := orderShots(t)
	// Open the tab on the test's own context: a tab first used under a
	// step's shorter context would close with it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		for i, a := range actions {
			if err := chromedp.Do(c, a); err != nil {
				t.Fatalf("%s, step %d: %v", what, i+1, err)
			}
		}
	}
	var ok bool
	var problems string
	check := func(page string) {
		t.Helper()
		run("a11y "+page, orderEval(&problems, a11yProblems))
		if problems != "" {
			t.Errorf("%s: %s", page, problems)
		}
	}
	var focused, code, state string

	run("portal to the form",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(e.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/bestellen"]`)),
		orderShot(shots, "order-1-portal"),
		chromedp.Click(chromedp.CSS(`a[href="/bestellen"]`)),
		chromedp.WaitVisible(chromedp.ID("f-kind-meldebescheinigung")),
		orderEval(&ok, noSideways),
		orderShot(shots, "order-2-form"),
	)
	if !ok {
		t.Error("the form scrolls sideways at 390 px")
	}
	check("form")

	// Half filled: the name only, then send.
	run("half-filled form",
		chromedp.Click(chromedp.ID("f-kind-meldebescheinigung")),
		chromedp.SendKeys(chromedp.ID("f-person-family_name"), "Kowalczyk-Öztürk"),
		chromedp.Click(chromedp.ID("order-submit")),
		chromedp.WaitVisible(chromedp.ID("error-summary")),
		orderUntil(`document.activeElement && document.activeElement.id === "error-summary"`),
		orderEval(&focused, `document.activeElement.id`),
		orderViewShot(shots, "order-3-errors-screen"),
		orderShot(shots, "order-3-errors"),
	)
	if focused != "error-summary" {
		t.Errorf("after the failed post the focus is on %q, want the error summary", focused)
	}
	check("form with errors")
	// The summary's link moves to its field; what was typed is still there.
	var typed string
	run("summary link",
		chromedp.Click(chromedp.CSS(`#error-summary a[href="#f-person-given_names"]`)),
		orderUntil(`document.activeElement.id === "f-person-given_names"`),
		orderEval(&typed, `document.getElementById("f-person-family_name").value`),
	)
	if typed != "Kowalczyk-Öztürk" {
		t.Errorf("family name after the failed post: %q", typed)
	}

	run("complete and order",
		chromedp.SendKeys(chromedp.ID("f-person-given_names"), "Zofia"),
		chromedp.SendKeys(chromedp.ID("f-person-birth_date"), "28.02.1990"),
		chromedp.SetValue(chromedp.ID("f-site"), siteID),
		chromedp.SendKeys(chromedp.ID("f-contact-email"), "zofia@example.de"),
		chromedp.Click(chromedp.ID("f-consent")),
		orderEval(&ok, `document.getElementById("event-group").hidden && document.getElementById("address-group").hidden`),
		chromedp.Click(chromedp.ID("order-submit")),
		chromedp.WaitVisible(chromedp.ID("order-code")),
		orderEval(&code, `document.getElementById("order-code").textContent.replace(/\s+/g, "")`),
		orderShot(shots, "order-4-confirmation"),
	)
	if !ok {
		t.Error("a Meldebescheinigung for pickup shows the civil-status or address section")
	}
	if len(code) != 10 || code[0] != 'U' {
		t.Fatalf("order code %q", code)
	}
	check("confirmation")
	var fee string
	run("fee", orderEval(&fee, `document.getElementById("order-fee").textContent`))
	if fee != "10,00 €" {
		t.Errorf("fee %q, want 10,00 €", fee)
	}

	run("status page",
		chromedp.Click(chromedp.ID("status-link")),
		chromedp.WaitVisible(chromedp.ID("order")),
		orderUntil(`!document.querySelector("#order .js-only").hidden`),
		orderEval(&state, `document.querySelector('[data-field="state"]').textContent`),
	)
	if !strings.Contains(state, "eingegangen") {
		t.Errorf("status %q", state)
	}

	// The site takes the order and marks it ready while the page is open
	// and the reader's focus is on the portal link: the page follows, the
	// focus stays.
	entries := e.outboundLog(siteID)
	var p registration.OrderPlaced
	if err := cbor.Unmarshal(entries[len(entries)-1].Payload, &p); err != nil {
		t.Fatal(err)
	}
	if p.Code != code {
		t.Fatalf("placed %s, page shows %s", p.Code, code)
	}
	run("focus", chromedp.Evaluate[chromedp.Void](`document.querySelector('a[href="/"]').focus()`))
	l.add(registration.TypeOrderReceived, "order/"+p.Code, &registration.OrderReceived{OrderPlaced: p})
	l.add(registration.TypeOrderClaimed, "order/"+p.Code, &registration.OrderClaimed{Code: p.Code, Staff: "anna"})
	l.add(registration.TypeOrderReady, "order/"+p.Code, &registration.OrderReady{Code: p.Code, Staff: "anna"})
	n := uint64(len(l.entries))
	e.mustPost(l.batch(n-2, n))
	waitText(t, ctx, `[data-field="state"]`, "Ihre Urkunde liegt zur Abholung bereit: "+siteName+".")
	waitText(t, ctx, `[aria-current="step"] .label`, "Abholbereit")
	run("after the live update",
		orderEval(&focused, `document.activeElement.getAttribute("href")`),
		orderEval(&ok, noSideways),
		orderShot(shots, "order-5-status-ready"),
	)
	if focused != "/" {
		t.Errorf("the live update moved the focus to %q", focused)
	}
	check("status")
	if !ok {
		t.Error("the status page scrolls sideways at 390 px")
	}

	// 320 px: every page reflows (and in Arabic, right to left).
	status := e.URL + "/o/" + strings.TrimPrefix(strings.TrimSuffix(mustLocation(t, ctx), ""), e.URL+"/o/")
	for _, page := range []struct{ name, url string }{
		{"form", e.URL + "/bestellen"},
		{"form-ar", e.URL + "/bestellen?lang=ar"},
		{"status", status},
		{"confirmation", status + "/bestaetigung"},
	} {
		run("320 px "+page.name,
			chromedp.EmulateViewport(320, 640, chromedp.EmulateMobile),
			chromedp.Navigate(page.url),
			chromedp.WaitVisible(chromedp.ID("main")),
			orderEval(&ok, noSideways),
			orderShot(shots, "order-6-320-"+page.name),
		)
		if !ok {
			var wide string
			run("widest", orderEval(&wide, `(function(){var w=null,m=0;document.querySelectorAll("body *").forEach(function(e){var r=e.getBoundingClientRect().right;if(r>=m){m=r;w=e;}});var out=[];document.querySelectorAll("body *").forEach(function(e){var r=e.getBoundingClientRect();if(r.left<0||r.right>320){out.push(Math.round(r.left)+".."+Math.round(r.right)+" "+e.outerHTML.slice(0,80));}});return m+" "+out.join(" | ")})()`))
			t.Errorf("%s scrolls sideways at 320 px: widest element %s", page.name, wide)
		}
	}
	// Arabic, right to left: a failed post speaks Arabic beside each field.
	var msg string
	run("Arabic errors",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(e.URL+"/bestellen?lang=ar"),
		chromedp.WaitVisible(chromedp.ID("order-submit")),
		chromedp.Click(chromedp.ID("order-submit")),
		chromedp.WaitVisible(chromedp.ID("error-summary")),
		orderUntil(`document.activeElement && document.activeElement.id === "error-summary"`),
		orderEval(&msg, `document.getElementById("f-person-family_name-error").textContent`),
		orderEval(&ok, noSideways),
		orderViewShot(shots, "order-7-errors-ar-screen"),
	)
	if !strings.Contains(msg, "يُرجى إدخال اسم العائلة.") {
		t.Errorf("Arabic message beside the family name: %q", msg)
	}
	if !ok {
		t.Error("the Arabic form with errors scrolls sideways")
	}
	check("Arabic form with errors")

	// Back to German for whoever uses the browser's cookie next.
	run("reset", chromedp.Navigate(e.URL+"/?lang=de"))
}

func mustLocation(t *testing.T, ctx context.Context) string {
	t.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
