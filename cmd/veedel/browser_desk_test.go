package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// focusCheck fails when focus has fallen to the page's body (or nowhere).
const focusCheck = `(() => { const a = document.activeElement; return a && a !== document.body && a !== document.documentElement ? (a.id || a.tagName) : ""; })()`

// tabTo presses Tab (Shift+Tab with back) until the element with id has
// focus, at most max times; focus must never fall to the body on the way.
func tabTo(id string, back bool, max int) step {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		var opts []chromedp.KeyOption
		if back {
			opts = append(opts, chromedp.KeyModifiers(chromedp.ModifierShift))
		}
		var path []string
		for range max {
			if _, err := chromedp.KeyEvent(kb.Tab, opts...)(ctx, t); err != nil {
				return err
			}
			at, err := chromedp.Evaluate[string](focusCheck)(ctx, t)
			if err != nil {
				return err
			}
			path = append(path, at)
			if at == id {
				return nil
			}
		}
		return fmt.Errorf("Tab %d times did not reach #%s; focus went %v", max, id, path)
	})
}

// focused waits until the element with id has focus.
func focused(id string) step {
	return until(`document.activeElement && document.activeElement.id === "` + id + `"`)
}

// TestDeskKeyboardInBrowser works a counter by keyboard alone through a
// ticket's whole life (call, arrival, service, finish; a no-show, asked
// first) while the other counters call: the desk updates in place, focus
// never falls to the page, the clerk's choice in a form stays, and calls
// elsewhere are announced politely.
func TestDeskKeyboardInBrowser(t *testing.T) {
	browser := newBrowser(t)
	shots := screenshotDir(t)
	dir := t.TempDir()
	_, app := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"), NoShowGrace: time.Nanosecond, Users: []userSpec{
		{Name: "demo", Password: "demo", Role: "clerk"},
		{Name: "anna", Password: "anna-pass", Role: "clerk"},
		{Name: "ben", Password: "ben-pass", Role: "clerk"},
	}})
	issueTickets(t, app.URL, 4, "meldung") // B001–B004
	issueTickets(t, app.URL, 2, "ausweis") // A001, A002
	// otherDoes has counter run action over the API, as the clerk there
	// would, and returns the ticket's number.
	otherDoes := func(counter, action, user, password string) string {
		t.Helper()
		resp, body := postJSON(t, app.URL+"/api/v1/counters/"+counter+"/"+action, nil,
			map[string]string{"Authorization": "Basic " + basicAuth(user, password)})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("counter %s %s: %s: %s", counter, action, resp.Status, body)
		}
		var v struct {
			Number string `json:"number"`
		}
		json.Unmarshal(body, &v)
		return v.Number
	}
	otherCalls := func(counter, user, password string) string {
		t.Helper()
		return otherDoes(counter, "call-next", user, password)
	}
	alive := until(focusCheck + ` !== ""`)
	// The page is never loaded again: a mark set once stays.
	sameDoc := until(`window.deskMark === 1`)

	desk := newTab(t, browser)
	var h1 string
	runIn(t, desk, "log in and take counter 3 by keyboard",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(app.URL+"/desk"),
		chromedp.WaitVisible(chromedp.ID(`user`)),
		tabTo("user", false, 8), chromedp.KeyEvent("demo"),
		tabTo("password", false, 2), chromedp.KeyEvent("demo"+kb.Enter),
		chromedp.WaitVisible(chromedp.ID(`counter`)),
		tabTo("counter", false, 8),
		chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.ArrowDown),
		until(`document.getElementById("counter").value === "3"`),
		chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.ID(`call-next`)),
		into(&h1, chromedp.Text(chromedp.CSS(`h1`))),
		chromedp.Evaluate[chromedp.Void](`window.deskMark = 1`),
	)
	if !strings.Contains(h1, "Platz 3") {
		t.Errorf("desk h1 %q, want it to name Platz 3", h1)
	}

	var number string
	runIn(t, desk, "call the next number",
		tabTo("call-next", false, 20), chromedp.KeyEvent(kb.Enter),
		focused("start"), sameDoc,
		into(&number, chromedp.Text(chromedp.ID(`current-number`))),
	)
	if number != "B001" {
		t.Fatalf("counter 3 called %q, want B001", number)
	}

	// Counter 1 calls while the clerk is on "Ist da": focus stays, the
	// call is announced.
	elsewhere := otherCalls("1", "anna", "anna-pass")
	runIn(t, desk, "counter 1 calls",
		until(`document.getElementById("desk-live").textContent.includes("`+elsewhere+`")`),
		focused("start"), alive, sameDoc,
	)

	// The citizen arrives; the clerk chooses a transfer target and, while
	// on it, counter 2 calls: focus and the choice stay.
	var choice string
	runIn(t, desk, "start, then choose a transfer target",
		chromedp.KeyEvent(kb.Enter),
		focused("finish"), sameDoc,
		tabTo("transfer-to", false, 6),
		chromedp.KeyEvent(kb.ArrowDown),
		into(&choice, chromedp.Evaluate[string](`document.getElementById("transfer-to").value`)),
		tabTo("transfer", false, 2),
	)
	elsewhere = otherCalls("2", "ben", "ben-pass")
	var kept string
	runIn(t, desk, "counter 2 calls while the clerk is on Weiterleiten",
		until(`document.getElementById("desk-live").textContent.includes("`+elsewhere+`")`),
		focused("transfer"), alive, sameDoc,
		into(&kept, chromedp.Evaluate[string](`document.getElementById("transfer-to").value`)),
		screenshot(shots, "desk-keyboard-1-transfer-focus"),
	)
	if kept != choice {
		t.Errorf("transfer choice %q became %q when another counter called", choice, kept)
	}

	// Finish; call the next; a no-show is asked first.
	runIn(t, desk, "finish and call the next",
		tabTo("finish", true, 8), chromedp.KeyEvent(kb.Enter),
		focused("call-next"), sameDoc,
		chromedp.KeyEvent(kb.Enter),
		focused("start"), sameDoc,
		into(&number, chromedp.Text(chromedp.ID(`current-number`))),
	)
	var question string
	runIn(t, desk, "no-show asks first",
		tabTo("no-show", false, 12), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.ID(`no-show-q`)),
		focused("no-show-q"), sameDoc,
		// A change elsewhere does not take the question away.
		chromedp.Func(func(context.Context, *chromedp.Target) error {
			otherDoes("1", "no-show", "anna", "anna-pass")
			otherCalls("1", "anna", "anna-pass")
			return nil
		}),
		until(`document.getElementById("desk-live").textContent.includes("A001")`),
		focused("no-show-q"),
		into(&question, chromedp.Text(chromedp.ID(`no-show-q`))),
		screenshot(shots, "desk-keyboard-2-noshow-confirm"),
	)
	if !strings.Contains(question, number) {
		t.Errorf("no-show question %q does not name %s", question, number)
	}
	if waiting, called := queueNow(t, app.URL); !strings.Contains(numbers(called), number) {
		t.Errorf("%s is no longer called after the question alone (waiting %s, called %s)", number, numbers(waiting), numbers(called))
	}
	runIn(t, desk, "cancel keeps the ticket, confirm records it",
		tabTo("no-show-cancel", false, 3), chromedp.KeyEvent(kb.Enter),
		focused("start"), sameDoc,
		tabTo("no-show", false, 12), chromedp.KeyEvent(kb.Enter),
		focused("no-show-q"),
		tabTo("no-show-yes", false, 2), chromedp.KeyEvent(kb.Enter),
		until(`document.getElementById("current-number").textContent === "–"`),
		alive, sameDoc,
		screenshot(shots, "desk-keyboard-3-after-noshow"),
	)
	if waiting, called := queueNow(t, app.URL); strings.Contains(numbers(called)+numbers(waiting), number) {
		t.Errorf("%s still in the queue after the confirmed no-show (waiting %s, called %s)", number, numbers(waiting), numbers(called))
	}
	// Nobody waits for counter 3 now: focus is on the part's heading.
	// A new ticket makes the call button usable and is announced.
	issueTickets(t, app.URL, 1, "meldung")
	runIn(t, desk, "a new ticket for this counter",
		until(`document.getElementById("desk-live").textContent.includes("1 Person wartet")`),
		until(`!document.getElementById("call-next").disabled`),
		alive, sameDoc,
		tabTo("call-next", false, 3),
		screenshot(shots, "desk-keyboard-4-new-ticket"),
	)
}
