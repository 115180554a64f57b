package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/internal/web/webtest"
)

// The registration desk's plates page in chromium: reached from the desk
// once the site has a block, it assigns the next plate, refuses an unknown
// reservation code at its field, and reflows at 320 px; axe-core finds
// nothing in German or English. Screenshots in VEEDEL_SCREENSHOTS.
func TestPlatesDeskInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	browser := newBrowser(t)
	if !webtest.AxeInstalled() {
		if err := chromedp.Do(browser, webtest.Axe("probe")); err != nil {
			t.Fatal(err)
		}
		t.Skip("axe-core not installed")
	}
	dir := t.TempDir()
	_, centralRun := startPlateCentral(t, dir, plateConfig{BlockSize: 10, LowWater: 3, Every: 100 * time.Millisecond})
	app, _ := startAppliance(t, applianceConfig{Site: "zulassung", DB: filepath.Join(dir, "zulassung.db"), CentralURL: centralRun.URL,
		Heartbeat: 100 * time.Millisecond, Users: []userSpec{{Name: "demo", Password: "demo", Role: sqlite.RoleLead}}})
	eventually(t, 15*time.Second, "the site has a block", func() (bool, string) {
		status, body := plateCall(t, "GET", app.URL+"/api/v1/plates", "", "demo", "demo")
		return status == 200 && body["left"].(float64) > 0, fmt.Sprint(status, body)
	})
	shots := screenshotDir(t)
	var plate, tokenError, counts string
	var invalid chromedp.AttributeResult
	runIn(t, browser, "desk plates", append(deskLogin(app.URL, "demo", "demo", "1"),
		chromedp.Click(chromedp.ID("plates-link")),
		chromedp.WaitVisible(chromedp.ID("plate-blocks")),
		screenshot(shots, "plates-1-desk"),
		chromedp.SendKeys(chromedp.ID("plate-ref"), "V-2026-0042"),
		chromedp.Click(chromedp.ID("plate-assign-submit")),
		chromedp.WaitVisible(chromedp.ID("plate-new")),
		into(&plate, chromedp.Text(chromedp.ID("plate-new"))),
		into(&counts, chromedp.Text(chromedp.ID("plates-left"))),
		screenshot(shots, "plates-2-assigned"),
		chromedp.SendKeys(chromedp.ID("plate-token"), "gibt-es-nicht"),
		chromedp.Click(chromedp.ID("plate-assign-submit")),
		chromedp.WaitVisible(chromedp.ID("plate-token-error")),
		into(&tokenError, chromedp.Text(chromedp.ID("plate-token-error"))),
		into(&invalid, chromedp.AttributeValue(chromedp.ID("plate-token"), "aria-invalid")),
		screenshot(shots, "plates-3-unknown-token"),
		chromedp.Navigate(app.URL+"/desk/plates?lang=en"),
		chromedp.WaitVisible(chromedp.ID("plate-blocks")),
		screenshot(shots, "plates-4-en"),
		chromedp.EmulateViewport(320, 800),
		chromedp.Navigate(app.URL+"/desk/plates"),
		chromedp.WaitVisible(chromedp.ID("plate-blocks")),
		until(`document.documentElement.scrollWidth <= 320`),
		screenshot(shots, "plates-5-320px"),
	)...)
	if plate != "K-A 1" {
		t.Errorf("assigned %q, want K-A 1 (the first of the site's first block)", plate)
	}
	if !strings.Contains(counts, "Noch frei: 9") || !strings.Contains(counts, "zugeteilt: 1,") {
		t.Errorf("counts after one assignment: %q, want 9 free and 1 assigned", counts)
	}
	if tokenError == "" || invalid.Value != "true" {
		t.Errorf("unknown reservation code: error %q, aria-invalid %+v; want the error at the field", tokenError, invalid)
	}
	t.Logf("screenshots in %s", shots)
}
