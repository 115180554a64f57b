package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/web/webtest"
)

// TestAxeEveryPageInBrowser has axe-core check every page of the appliance
// and of central that a citizen, a clerk or an admin opens: in all four
// languages at 1280×800, and in German and Arabic (right to left) on a
// 390×844 phone, a 1080×1920 portrait kiosk and a 1440×900 desktop, and in
// German at 320×640, the reflow width. A
// ticket waits and one is called, so the queue pages show their states.
func TestAxeEveryPageInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser sweep skipped with -short")
	}
	browser := newBrowser(t)
	if !webtest.AxeInstalled() {
		// Outside CI (webtest says so once); under CI webtest.Axe fails.
		if err := chromedp.Do(browser, webtest.Axe("probe")); err != nil {
			t.Fatal(err)
		}
		t.Skip("axe-core not installed")
	}
	dir := t.TempDir()
	cn, cent := startCentral(t, dir, freeAddr(t))
	if err := cn.store.CreateAdmin(context.Background(), "admin", central.RoleAdmin, "admin", time.Now()); err != nil {
		t.Fatal(err)
	}
	app, _ := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"),
		CentralURL: cent.URL, PortalURL: cent.URL, Heartbeat: time.Second,
		Users: []userSpec{{Name: "demo", Password: "demo", Role: "lead"}}})
	tokens := issueTickets(t, app.URL, 3, "meldung")
	synced(t, cent.URL, app, 10*time.Second)
	// An i-Kfz application claimed by the clerk: its page shows the
	// checks and the decision's forms.
	sendVehicleApplication(t, cn.Central, app, "kalk", "V7002", "demo")

	run := func(what string, actions ...step) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browser, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// The login pages before logging in, and after a wrong password.
	run("login pages",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(app.URL+"/desk/login"), chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SendKeys(chromedp.ID("user"), "demo"), chromedp.SendKeys(chromedp.ID("password"), "falsch"),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.CSS(".error")), webtest.Axe("desk login refused"),
		chromedp.Navigate(cent.URL+"/admin/login"), chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SendKeys(chromedp.ID("user"), "admin"), chromedp.SendKeys(chromedp.ID("password"), "falsch"),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.CSS(".error")), webtest.Axe("admin login refused"),
		chromedp.Navigate(app.URL+"/desk/login"), chromedp.WaitVisible(chromedp.ID("user")), webtest.Axe("desk login"),
		chromedp.Navigate(cent.URL+"/admin/login"), chromedp.WaitVisible(chromedp.ID("user")), webtest.Axe("admin login"),
		chromedp.Navigate(app.URL+"/desk/login?lang=en"), chromedp.WaitVisible(chromedp.ID("user")), webtest.Axe("desk login en"),
		chromedp.Navigate(cent.URL+"/admin/login?lang=en"), chromedp.WaitVisible(chromedp.ID("user")), webtest.Axe("admin login en"),
	)
	// The clerk at counter 3 calls the first ticket; the admin logs in.
	run("desk", append(deskLogin(app.URL, "demo", "demo", "3"),
		chromedp.Click(chromedp.ID(`call-next`)), chromedp.WaitVisible(chromedp.ID(`finish`)))...)
	run("admin",
		chromedp.Navigate(cent.URL+"/admin/login"), chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SendKeys(chromedp.ID("user"), "admin"), chromedp.SendKeys(chromedp.ID("password"), "admin"),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.ID("services")))

	pages := []string{
		app.URL + "/kiosk",
		app.URL + "/kiosk/tickets/" + tokens[1],
		app.URL + "/kiosk/tickets/" + tokens[1] + "/print",
		app.URL + "/kiosk/pair",
		app.URL + "/display",
		app.URL + "/desk",
		app.URL + "/desk/stats",
		app.URL + "/desk/devices",
		app.URL + "/desk/orders",
		app.URL + "/desk/setup",
		app.URL + "/desk/logins",
		app.URL + "/desk/kiosks",
		app.URL + "/desk/plates",
		app.URL + "/desk/vehicle",
		app.URL + "/desk/vehicle/V7002",
		app.URL + "/desk/vehicle/post",
		cent.URL + "/",
		cent.URL + "/t/" + tokens[0],
		cent.URL + "/t/" + tokens[1],
		cent.URL + "/bestellen",
		cent.URL + "/termin",
		cent.URL + "/schuleingang",
		cent.URL + "/kfz",
		cent.URL + "/kfz/neuzulassung",
		cent.URL + "/kfz/umschreibung",
		cent.URL + "/kfz/wiederzulassung",
		cent.URL + "/kfz/ausserbetriebsetzung",
		cent.URL + "/kfz/adressaenderung",
		cent.URL + "/kfz/s/unbekannt", // the status and verification pages with data: central/server's TestBrowser_VehicleJourney
		cent.URL + "/verify/unbekannt",
		cent.URL + "/termin?service=ausweis",
		cent.URL + "/termin?service=ausweis&site=kalk",
		cent.URL + "/admin",
		cent.URL + "/admin/sync",
		cent.URL + "/admin/stats",
		cent.URL + "/admin/devices",
		cent.URL + "/admin/rollout",
		cent.URL + "/admin/sites",
		cent.URL + "/admin/sites/kalk",
		cent.URL + "/admin/sites/kalk/hours",
		cent.URL + "/admin/services/new",
		cent.URL + "/admin/services/ausweis",
		cent.URL + "/admin/logins",
		cent.URL + "/admin/exam",
		cent.URL + "/admin/exam/statistics?year=2027",
		cent.URL + "/admin/unternehmen",
		cent.URL + "/unternehmen/anmelden", // after the login (TOTP): central/server's TestBrowser_BusinessDashboard
		cent.URL + "/gibt-es-nicht",
	}
	type screen struct {
		w, h   int64
		mobile bool
		langs  []string
	}
	screens := []screen{
		{1280, 800, false, []string{"de", "en", "tr", "ar"}},
		{390, 844, true, []string{"de", "ar"}},
		// WCAG 1.4.10's reflow width: 320 CSS px, no sideways scrolling.
		{320, 640, true, []string{"de"}},
		{1080, 1920, false, []string{"de", "ar"}},
		{1440, 900, false, []string{"de", "ar"}},
	}
	// make screenshots keeps a picture of every page at every size.
	shots := os.Getenv("VEEDEL_SCREENSHOTS")
	if shots != "" {
		shots = screenshotDir(t)
	}
	for _, s := range screens {
		for _, lang := range s.langs {
			for _, p := range pages {
				u := p + "?lang=" + lang
				if strings.Contains(p, "?") {
					u = p + "&lang=" + lang
				}
				name := fmt.Sprintf("%s %s %d×%d", strings.TrimPrefix(strings.TrimPrefix(p, app.URL), cent.URL), lang, s.w, s.h)
				var opts []chromedp.EmulateViewportOption
				if s.mobile {
					opts = append(opts, chromedp.EmulateMobile)
				}
				run(name,
					chromedp.EmulateViewport(s.w, s.h, opts...),
					chromedp.Navigate(u),
					chromedp.WaitReady(chromedp.CSS("body")),
				)
				// Every page's violations, not only the first page's.
				ctx, cancel := context.WithTimeout(browser, 30*time.Second)
				if err := chromedp.Do(ctx, webtest.Axe(name)); err != nil {
					t.Error(err)
				}
				// No page is wider than its screen (WCAG 1.4.10 reflow):
				// what sticks out is named, scroll containers excepted.
				var wide string
				if err := chromedp.Do(ctx, into(&wide, chromedp.Evaluate[string](overflowJS))); err != nil {
					t.Error(err)
				} else if wide != "" {
					t.Errorf("%s: %s", name, wide)
				}
				if shots != "" {
					file := strings.NewReplacer("/", "_", "?", "_", "&", "_", "=", "-", " ", "_", "×", "x").Replace(strings.TrimPrefix(name, "/"))
					if err := chromedp.Do(ctx, saveScreenshot(filepath.Join(shots, "page_"+file+".png"))); err != nil {
						t.Error(err)
					}
				}
				cancel()
			}
		}
	}
}

// overflowJS names the elements that stick out of the viewport sideways
// when the page is wider than it ("" when it is not); elements inside a
// container that scrolls or clips sideways are that container's business.
const overflowJS = `(() => {
	const W = document.documentElement.clientWidth;
	if (document.documentElement.scrollWidth <= W + 1) return "";
	const sticksOut = el => el.getBoundingClientRect().right > W + 1;
	// loose: el sticks out and no container within the screen clips it
	// (a container clips what it contains, but an absolutely positioned
	// element only from its positioned ancestor on).
	const loose = el => {
		if (!sticksOut(el)) return false;
		let abs = ["absolute", "fixed"].includes(getComputedStyle(el).position);
		for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
			const cs = getComputedStyle(p);
			if (abs && cs.position === "static") continue;
			if (cs.overflowX !== "visible" && !sticksOut(p)) return false;
			abs = ["absolute", "fixed"].includes(cs.position);
		}
		return true;
	};
	const out = [];
	for (const el of document.querySelectorAll("body *")) {
		if (el.getBoundingClientRect().width === 0 || !loose(el)) continue;
		// Name where the overflow starts, not every descendant.
		if (el.parentElement && el.parentElement !== document.body && loose(el.parentElement)) continue;
		out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
			(typeof el.className === "string" && el.className ? "." + el.className.trim().split(/\s+/).join(".") : "") +
			" to " + Math.round(el.getBoundingClientRect().right) + " px");
	}
	return "page is " + document.documentElement.scrollWidth + " px wide on a " + W + " px screen: " + out.slice(0, 6).join(", ");
})()`

// saveScreenshot saves the whole page as a PNG.
func saveScreenshot(file string) step {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		buf, err := chromedp.FullScreenshot(100)(ctx, t)
		if err != nil {
			return err
		}
		return os.WriteFile(file, buf, 0o644)
	})
}
