package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// runIn runs steps in a tab with a deadline, failing the test on error.
func runIn(t *testing.T, ctx context.Context, what string, steps ...step) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// callNext calls the next ticket at counter over the appliance's API, as
// the demo clerk.
func callNext(t *testing.T, applianceURL, counter string) {
	t.Helper()
	resp, body := postJSON(t, applianceURL+"/api/v1/counters/"+counter+"/call-next", nil,
		map[string]string{"Authorization": "Basic " + basicAuth("demo", "demo")})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("call-next at counter %s: %s: %s", counter, resp.Status, body)
	}
}

// viewportScreenshot saves what the viewport shows as dir/name.png.
// Right-to-left pages use it: chromium's capture beyond the viewport
// (FullScreenshot) draws them shifted sideways, though the page is not.
func viewportScreenshot(dir, name string) step {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		buf, err := chromedp.CaptureScreenshot()(ctx, t)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
	})
}

type box struct{ Left, Right, Top, Bottom float64 }

// kioskLayout and ticketLayout are what the Arabic kiosk test reads from
// the page.
type kioskLayout struct {
	Lang, Dir, Direction, Title, Name string
	Button, Prefix, NameBox           box
	Menu                              []string
	MenuHeights                       []float64
	Overflow                          float64 // page width beyond the viewport
}

type ticketLayout struct {
	Dir, Heading, Number, NumberDir, Facts string
	Isolated                               bool
}

// TestArabicKioskInBrowser: the kiosk in Arabic is laid out right to left
// (the prefix badge on the right of each service button), names the
// services in Arabic, offers the language menu with large targets, and its
// ticket page is Arabic with the number isolated left to right.
func TestArabicKioskInBrowser(t *testing.T) {
	browser := newBrowser(t)
	shots := screenshotDir(t)
	_, app := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(t.TempDir(), "kalk.db"), PortalURL: "http://central.example"})
	issueTickets(t, app.URL, 2, "ausweis")

	var kiosk kioskLayout
	runIn(t, browser, "Arabic kiosk",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(app.URL+"/kiosk?lang=ar"),
		chromedp.WaitVisible(chromedp.CSS(`button[data-service="ausweis"]`)),
		into(&kiosk, chromedp.Evaluate[kioskLayout](`(() => {
			const r = el => { const b = el.getBoundingClientRect(); return {Left: b.left, Right: b.right, Top: b.top, Bottom: b.bottom}; };
			const button = document.querySelector('button[data-service="ausweis"]');
			const links = [...document.querySelectorAll('.lang-menu a')];
			return {
				Lang: document.documentElement.lang, Dir: document.documentElement.dir,
				Direction: getComputedStyle(button).direction,
				Title: document.querySelector('h1').textContent, Name: button.querySelector('.name').textContent,
				Button: r(button), Prefix: r(button.querySelector('.prefix')), NameBox: r(button.querySelector('.name')),
				Menu: links.map(a => a.hreflang + '=' + a.textContent),
				MenuHeights: links.map(a => a.getBoundingClientRect().height),
				Overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
			};
		})()`)),
		viewportScreenshot(shots, "ar-1-kiosk"),
	)
	if kiosk.Lang != "ar" || kiosk.Dir != "rtl" || kiosk.Direction != "rtl" {
		t.Errorf("kiosk lang %q dir %q, computed direction %q; want ar, rtl, rtl", kiosk.Lang, kiosk.Dir, kiosk.Direction)
	}
	if kiosk.Overflow > 0 {
		t.Errorf("the Arabic kiosk is %.0f px wider than the screen", kiosk.Overflow)
	}
	if kiosk.Title != "احصل على رقم انتظار" || kiosk.Name != "بطاقة الهوية وجواز السفر" {
		t.Errorf("kiosk title %q, service %q: not Arabic", kiosk.Title, kiosk.Name)
	}
	// Mirrored: the badge sits at the button's right (inline-start) edge.
	b, p := kiosk.Button, kiosk.Prefix
	if mid := (b.Left + b.Right) / 2; p.Left < mid || b.Right-p.Right > 48 {
		t.Errorf("prefix badge %+v is not at the right edge of the button %+v", p, b)
	}
	if n := kiosk.NameBox; n.Right < p.Left {
		t.Errorf("service name %+v does not start at the right like the badge %+v", n, p)
	}
	if got, want := strings.Join(kiosk.Menu, " "), "de=Deutsch en=English tr=Türkçe ar=العربية"; got != want {
		t.Errorf("language menu %q, want %q", got, want)
	}
	for i, h := range kiosk.MenuHeights {
		if h < 56 {
			t.Errorf("language menu entry %d is %.0f px high: too small to touch", i, h)
		}
	}

	var ticket ticketLayout
	runIn(t, browser, "Arabic ticket",
		chromedp.EmulateViewport(1280, 1280),
		takeTicket("ausweis"),
		chromedp.WaitVisible(chromedp.ID(`ticket-number`)),
		into(&ticket, chromedp.Evaluate[ticketLayout](`(() => {
			const n = document.getElementById('ticket-number');
			return {Dir: document.documentElement.dir, Heading: document.querySelector('.ticket .muted').textContent,
				Number: n.textContent, NumberDir: getComputedStyle(n).direction, Isolated: !!n.querySelector('bdi'),
				Facts: document.querySelector('.ticket .facts').textContent};
		})()`)),
		viewportScreenshot(shots, "ar-2-ticket"),
	)
	if ticket.Dir != "rtl" || ticket.Heading != "رقم انتظارك" {
		t.Errorf("ticket page dir %q heading %q: want rtl and Arabic", ticket.Dir, ticket.Heading)
	}
	if ticket.Number != "A003" || ticket.NumberDir != "ltr" || !ticket.Isolated {
		t.Errorf("ticket number %q direction %q isolated %v; want A003, ltr, true", ticket.Number, ticket.NumberDir, ticket.Isolated)
	}
	if !strings.Contains(ticket.Facts, "عدد المنتظرين قبلك: 2") {
		t.Errorf("ticket facts %q lack the Arabic count ahead", ticket.Facts)
	}
	t.Logf("screenshots in %s", shots)
}

// TestDisplayAnnouncesInBrowser: on a call the display speaks a German
// announcement naming the number (spelled) and the counter. Speech
// synthesis is stubbed in the page to record what would be spoken.
func TestDisplayAnnouncesInBrowser(t *testing.T) {
	browser := newBrowser(t)
	shots := screenshotDir(t)
	_, app := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(t.TempDir(), "kalk.db"), PortalURL: "http://central.example",
		Users: []userSpec{{Name: "demo", Password: "demo", Role: "lead"}}})
	issueTickets(t, app.URL, 1, "ausweis")

	var soundHidden bool
	runIn(t, browser, "display",
		chromedp.EmulateViewport(1920, 1080),
		chromedp.Navigate(app.URL+"/display"),
		chromedp.WaitVisible(chromedp.ID(`now-number`)),
		chromedp.Evaluate[chromedp.Void](`(() => {
			window.__spoken = [];
			const record = u => window.__spoken.push({Text: u.text, Lang: u.lang});
			if (window.speechSynthesis) {
				window.speechSynthesis.speak = record;
			} else {
				Object.defineProperty(window, 'speechSynthesis', {configurable: true,
					value: {speak: record, cancel() {}, getVoices() { return []; }}});
			}
			if (!window.SpeechSynthesisUtterance) { window.SpeechSynthesisUtterance = function (text) { this.text = text; }; }
		})()`),
		into(&soundHidden, chromedp.Evaluate[bool](`document.getElementById("sound").hidden`)),
	)
	if !soundHidden {
		// No autoplay: sound needs the click, as a person gives it.
		runIn(t, browser, "sound on", chromedp.Click(chromedp.ID("sound")))
	}

	callNext(t, app.URL, "1")
	var spoken []struct{ Text, Lang string }
	runIn(t, browser, "announcement",
		until(`document.getElementById("now-number").textContent === "A001"`),
		until(`window.__spoken.length > 0`),
		into(&spoken, chromedp.Evaluate[[]struct{ Text, Lang string }](`window.__spoken`)),
		screenshot(shots, "display-announced"),
	)
	if len(spoken) != 1 {
		t.Fatalf("spoken %d announcements, want 1: %+v", len(spoken), spoken)
	}
	if got, want := spoken[0].Text, "Nummer A null null eins, bitte zu Platz 1."; got != want {
		t.Errorf("announced %q, want %q", got, want)
	}
	if got, want := spoken[0].Lang, "de-DE"; got != want {
		t.Errorf("announced in %q, want %q", got, want)
	}
}

// TestTurkishStatusPageInBrowser: the citizen's status page at central, in
// Turkish, turns to "called" live when the clerk calls the ticket, with
// the counter's name inside the Turkish sentence; the Arabic page shows
// the same call right to left.
func TestTurkishStatusPageInBrowser(t *testing.T) {
	browser := newBrowser(t)
	shots := screenshotDir(t)
	dir := t.TempDir()
	_, cent := startCentral(t, dir, freeAddr(t))
	_, app := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"),
		CentralURL: cent.URL, PortalURL: cent.URL, Users: []userSpec{{Name: "demo", Password: "demo", Role: "lead"}}})
	token := issueTickets(t, app.URL, 1, "ausweis")[0]
	// The status page needs central to know the ticket (the uplink pushes
	// after every commit).
	waitForCentral(t, cent.URL, token)

	phone := newTab(t, browser)
	var lang, state, service string
	runIn(t, phone, "Turkish status page",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(cent.URL+"/t/"+token+"?lang=tr"),
		chromedp.WaitVisible(chromedp.CSS(`[data-field="number"]`)),
		until(`!document.querySelector('.js-only').hidden`), // live.js runs
		into(&lang, chromedp.Evaluate[string](`document.documentElement.lang`)),
		into(&state, chromedp.Text(chromedp.CSS(`[data-field="state"]`))),
		into(&service, chromedp.Text(chromedp.CSS(`.status-service`))),
		screenshot(shots, "tr-1-status-waiting"),
	)
	if lang != "tr" || state != "Bekliyor" || !strings.Contains(service, "Kimlik kartı ve pasaport") {
		t.Errorf("status page lang %q, state %q, service %q; want Turkish", lang, state, service)
	}

	callNext(t, app.URL, "1")
	var called, title string
	runIn(t, phone, "status page updates live",
		until(`document.querySelector('[data-field="state"]').textContent === "Çağrıldı"`),
		until(`!document.querySelector('[data-show="called"]').hidden`),
		into(&called, chromedp.Text(chromedp.CSS(`[data-field="called"]`))),
		into(&title, chromedp.Title()),
		screenshot(shots, "tr-2-status-called"),
	)
	if want := "Sıra sizde! Lütfen şu bankoya gelin: Platz 1"; called != want {
		t.Errorf("called text %q, want %q", called, want)
	}
	if !strings.HasPrefix(title, "Sıra sizde!") {
		t.Errorf("title %q does not announce the call", title)
	}

	var arDir, arCalled string
	runIn(t, phone, "Arabic status page",
		chromedp.Navigate(cent.URL+"/t/"+token+"?lang=ar"),
		chromedp.WaitVisible(chromedp.CSS(`[data-field="called"]`)),
		into(&arDir, chromedp.Evaluate[string](`document.documentElement.dir`)),
		into(&arCalled, chromedp.Text(chromedp.CSS(`[data-field="called"]`))),
		viewportScreenshot(shots, "ar-3-status-called"),
	)
	if arDir != "rtl" || arCalled != "حان دورك! يُرجى التوجّه إلى Platz 1." {
		t.Errorf("Arabic status page dir %q, called %q", arDir, arCalled)
	}
	t.Logf("screenshots in %s", shots)
}

// TestKioskReturnsToGermanWhenIdle: a kiosk left in Arabic, on its start
// page or on a ticket, returns by itself (after -kiosk-idle) to the German
// start page, and stays German for the next citizen.
func TestKioskReturnsToGermanWhenIdle(t *testing.T) {
	browser := newBrowser(t)
	_, app := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(t.TempDir(), "kalk.db"), PortalURL: "http://central.example",
		// Long enough that a loaded CI machine loads the Arabic start page
		// and taps a service before the kiosk goes back by itself.
		KioskIdle: 8 * time.Second})
	german := `location.pathname === "/kiosk" && location.search === "?lang=de" && document.documentElement.lang === "de" && !document.getElementById("done")`
	// Every wait here tolerates navigation: the pages go back by themselves.
	runIn(t, browser, "Arabic start page left alone",
		chromedp.Navigate(app.URL+"/kiosk?lang=ar"),
		// The page has the appliance's -kiosk-idle (8 s) as data-idle.
		untilNavigated(`document.documentElement.lang === "ar" && document.body.dataset.idle === "8"`),
		untilNavigated(german),
		// The next citizen's kiosk is German, not the last one's Arabic.
		chromedp.Navigate(app.URL+"/kiosk"),
		untilNavigated(`document.documentElement.lang === "de"`),
	)
	runIn(t, browser, "Arabic ticket left alone",
		chromedp.Navigate(app.URL+"/kiosk?lang=ar"),
		untilNavigated(`document.documentElement.lang === "ar" && document.readyState === "complete"`),
		takeTicket("ausweis"), // at night or on Sundays the kiosk asks first
		untilNavigated(`document.documentElement.lang === "ar" && !!document.getElementById("done")`),
		untilNavigated(german),
		chromedp.Navigate(app.URL+"/kiosk"),
		untilNavigated(`document.documentElement.lang === "de"`),
	)
}

// untilNavigated waits for a JavaScript condition across the page's own
// navigations (which end a running poll): it asks again until it holds.
func untilNavigated(expr string) step {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for {
			ok, err := chromedp.Evaluate[bool](expr)(ctx, t)
			if err == nil && ok {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s never held (last error %v): %w", expr, err, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}
