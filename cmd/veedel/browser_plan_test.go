package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestSetupPlanInBrowser: the site lead plans counter 2's Monday at
// /desk/setup (a break from 10:00 to 10:30) and sees it saved; a plan
// that makes no sense is refused with a message naming the day.
func TestSetupPlanInBrowser(t *testing.T) {
	browser := newBrowser(t)
	shots := screenshotDir(t)
	_, app := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(t.TempDir(), "kalk.db"), PortalURL: "http://central.example",
		Users: []userSpec{{Name: "demo", Password: "demo", Role: "lead"}}})
	run := func(what string, actions ...step) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browser, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	var flash, value, refused string
	run("plan counter 2",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(app.URL+"/desk/setup"),
		chromedp.WaitVisible(chromedp.ID(`user`)),
		chromedp.SendKeys(chromedp.ID("user"), "demo"),
		chromedp.SendKeys(chromedp.ID("password"), "demo"),
		chromedp.Submit(chromedp.ID(`password`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/desk/setup"]`)),
		chromedp.Navigate(app.URL+"/desk/setup"),
		chromedp.WaitVisible(chromedp.ID(`plan-2-1`)),
		chromedp.SendKeys(chromedp.ID(`plan-2-1`), "7:30-10:00, 10:30-15:00"),
		chromedp.Click(chromedp.ID(`plan-save-2`)),
		chromedp.WaitVisible(chromedp.CSS(`p.flash`)),
		into(&flash, chromedp.Text(chromedp.CSS(`p.flash`))),
		into(&value, chromedp.Value(chromedp.ID(`plan-2-1`))),
		screenshot(shots, "setup-plan-1-saved"),
		chromedp.SetValue(chromedp.ID(`plan-2-1`), "10:00-8:00"),
		chromedp.Click(chromedp.ID(`plan-save-2`)),
		chromedp.WaitVisible(chromedp.ID(`plan-2-error`)),
		into(&refused, chromedp.Text(chromedp.ID(`plan-2-error`))),
		screenshot(shots, "setup-plan-2-refused"),
	)
	if !strings.Contains(flash, "Geplante Besetzung von Platz 2 gespeichert") {
		t.Errorf("after saving, the page says %q", flash)
	}
	if value != "07:30–10:00, 10:30–15:00" {
		t.Errorf("Monday's plan field shows %q", value)
	}
	if !strings.Contains(refused, "Montag") {
		t.Errorf("a backwards plan is refused with %q, want a message naming Monday", refused)
	}
}
