package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/veedel/veedel/appliance/registration"
)

// TestOrderBackOfficeInBrowser walks the back office of issue 10 in
// chromium: a citizen orders a Meldebescheinigung for pickup at central's
// API; it comes down to Kalk; a clerk logs in at the desk, sees the badge,
// opens the orders, claims the order with the mouse and marks it ready
// with the keyboard; the citizen's status at central says "ready".
func TestOrderBackOfficeInBrowser(t *testing.T) {
	browser := newBrowser(t)
	shots := screenshotDir(t)
	dir := t.TempDir()
	_, cent := startCentral(t, dir, freeAddr(t))
	_, app := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"),
		CentralURL: cent.URL, PortalURL: cent.URL, Heartbeat: 200 * time.Millisecond,
		Users: []userSpec{{Name: "demo", Password: "demo", Role: "lead"}}})

	body := `{"kind":"meldebescheinigung","site":"kalk","delivery":"pickup","copies":2,` +
		`"person":{"family_name":"Yıldırım-Schäfer","given_names":"Ayşe","birth_date":"1987-03-14","birth_place":"Köln"},` +
		`"contact":{"email":"ayse@example.de"},"consent":true}`
	var placed struct{ Code, Token string }
	// The order waits for the site's first signed poll (its box key).
	eventually(t, 20*time.Second, "central takes the order", func() (bool, string) {
		resp, err := http.Post(cent.URL+"/api/v1/orders", "application/json", strings.NewReader(body))
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return false, resp.Status
		}
		if err := json.NewDecoder(resp.Body).Decode(&placed); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	eventually(t, 10*time.Second, "the order is at the site", func() (bool, string) {
		req, _ := http.NewRequest(http.MethodGet, app.URL+"/api/v1/orders?status=at_site", nil)
		req.SetBasicAuth("demo", "demo")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		var list []registration.Order
		json.NewDecoder(resp.Body).Decode(&list)
		return len(list) == 1 && list[0].Code == placed.Code, resp.Status
	})

	var badge, row, status, flash, name string
	desk := newTab(t, browser)
	runIn(t, desk, "desk to orders", append(deskLogin(app.URL, "demo", "demo", "3"),
		chromedp.EmulateViewport(1280, 800),
		chromedp.WaitVisible(chromedp.ID("orders-badge")),
		into(&badge, chromedp.Text(chromedp.ID("orders-link"))),
		screenshot(shots, "orders-1-desk-badge"),
		chromedp.Click(chromedp.ID("orders-link")),
		chromedp.WaitVisible(chromedp.ID("orders")),
		into(&row, chromedp.Text(chromedp.ID("order-"+placed.Code))),
		screenshot(shots, "orders-2-list"),
		chromedp.Click(chromedp.CSS(`#order-`+placed.Code+` a`)),
		chromedp.WaitVisible(chromedp.ID("claim")),
		into(&name, chromedp.Text(chromedp.ID("person-name"))),
		screenshot(shots, "orders-3-detail"),
		chromedp.Click(chromedp.ID("claim")),
		chromedp.WaitVisible(chromedp.ID("ready")),
		into(&status, chromedp.Text(chromedp.ID("order-status"))),
		screenshot(shots, "orders-4-claimed"),
	)...)
	if !strings.Contains(badge, "1") {
		t.Errorf("orders link %q: want the badge 1", badge)
	}
	for _, want := range []string{placed.Code, "Meldebescheinigung", "2", "20,00", "Abholung", "Neu"} {
		if !strings.Contains(row, want) {
			t.Errorf("list row %q lacks %q", row, want)
		}
	}
	if name != "Ayşe Yıldırım-Schäfer" {
		t.Errorf("detail shows name %q", name)
	}
	if status != "In Bearbeitung" {
		t.Errorf("status after claim %q, want In Bearbeitung", status)
	}

	// Ready with the keyboard: focus the button, press Enter.
	runIn(t, desk, "ready by keyboard",
		chromedp.Focus(chromedp.ID("ready")),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.ID("collect")),
		into(&status, chromedp.Text(chromedp.ID("order-status"))),
		into(&flash, chromedp.Text(chromedp.CSS(".flash"))),
		screenshot(shots, "orders-5-ready"),
	)
	if status != "Fertig" || !strings.Contains(flash, "fertig") {
		t.Errorf("after ready: status %q, flash %q", status, flash)
	}

	// A reason of blanks is refused at its field, in the page's language
	// (English here), and the order stays ready.
	var reasonErr, invalid, described string
	runIn(t, desk, "refused reason",
		chromedp.Navigate(app.URL+"/desk/orders/"+placed.Code+"?lang=en"),
		chromedp.WaitVisible(chromedp.ID("reason")),
		chromedp.SendKeys(chromedp.ID("reason"), "   "),
		chromedp.Click(chromedp.ID("reject")),
		chromedp.WaitVisible(chromedp.ID("reason-error")),
		into(&reasonErr, chromedp.Text(chromedp.ID("reason-error"))),
		into(&invalid, chromedp.Evaluate[string](`document.getElementById("reason").getAttribute("aria-invalid")`)),
		into(&described, chromedp.Evaluate[string](`document.getElementById("reason").getAttribute("aria-describedby")`)),
		into(&status, chromedp.Text(chromedp.ID("order-status"))),
		screenshot(shots, "orders-6-reason-refused-en"),
	)
	if reasonErr != "Give a reason the citizen can read" || invalid != "true" || described != "reason-hint reason-error" || status != "Ready" {
		t.Errorf("refused reason: error %q, aria-invalid %q, aria-describedby %q, status %q", reasonErr, invalid, described, status)
	}

	// The step went up: the citizen's status page says ready.
	eventually(t, 10*time.Second, "central shows ready", func() (bool, string) {
		var st struct{ Status string }
		code, err := getJSON(cent.URL+"/api/v1/orders/"+placed.Token, &st)
		if err != nil || code != http.StatusOK {
			return false, http.StatusText(code)
		}
		return st.Status == registration.StatusReady, st.Status
	})

	// The pickup slip, as the desk's link serves it, has the site's
	// address from the wiring (siteAddress) and the citizen's name.
	if _, err := exec.LookPath("pdftotext"); err != nil && os.Getenv("CI") == "" {
		t.Log("pdftotext not installed: slip not read back")
		return
	}
	jar, _ := cookiejar.New(nil)
	clerk := &http.Client{Jar: jar}
	resp, err := clerk.PostForm(app.URL+"/desk/login", url.Values{"user": {"demo"}, "password": {"demo"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = clerk.Get(app.URL + "/desk/orders/" + placed.Code + "/slip.pdf")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	slip := filepath.Join(dir, "slip.pdf")
	f, err := os.Create(slip)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(f, resp.Body)
	f.Close()
	out, err := exec.Command("pdftotext", slip, "-").CombinedOutput()
	if resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("slip: %s, pdftotext: %v %s", resp.Status, err, out)
	}
	for _, want := range []string{placed.Code, "Ayşe Yıldırım-Schäfer", "Kundenzentrum Kalk", "Kalker Hauptstraße 247–273", "51103 Köln"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("slip lacks %q:\n%s", want, out)
		}
	}
}
