package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/veedel/veedel/central/business"
	"github.com/veedel/veedel/internal/login"
)

// TestBrowser_BusinessDashboard: a company admin logs in with password
// and enrols the authenticator app from the QR code (the code typed from
// the secret the page shows), uploads a CSV of three applications, one
// with a mistyped FIN: the results stand beside each row, the bad one
// naming vehicle.fin; the list and the webhook's delivery log show the
// two new applications. At 1280 and 390 px, axe-checked, reflowing to
// 320 px; then a new API key, shown once.
func TestBrowser_BusinessDashboard(t *testing.T) {
	b := newBizEnv(t, manyLimit)
	ctx := browser(t)
	shots := orderShots(t)
	if err := chromedp.Do(ctx); err != nil { // the browser, in ctx for every run below
		t.Fatal(err)
	}
	bg := context.Background()
	hash, _ := login.HashPassword("ein langer Satz aus Wörtern")
	if err := b.Biz.PutUser(bg, "rheinflotte", "anna", business.RoleAdmin, hash, b.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	key, _ := b.Central.BusinessKey(bg)
	_, sealed, _ := business.NewWebhookSecret(key, "rheinflotte")
	b.Biz.SetWebhook(bg, "rheinflotte", "https://erp.rheinflotte.example/veedel", sealed)

	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		for i, a := range actions {
			if err := chromedp.Do(c, a); err != nil {
				t.Fatalf("%s, step %d: %v", what, i+1, err)
			}
		}
	}
	var ok bool
	var problems, text string
	check := func(page string) {
		t.Helper()
		run("a11y "+page, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), orderEval(&problems, a11yProblems), orderEval(&ok, noSideways))
		if problems != "" {
			t.Errorf("%s: %s", page, problems)
		}
		if !ok {
			t.Errorf("%s scrolls sideways", page)
		}
		run("320 px "+page, chromedp.EmulateViewport(320, 640, chromedp.EmulateMobile), orderEval(&ok, noSideways),
			chromedp.EmulateViewport(1280, 900))
		if !ok {
			t.Errorf("%s scrolls sideways at 320 px", page)
		}
	}

	run("login",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(b.BizURL+"/unternehmen"),
		chromedp.WaitVisible(chromedp.ID("company")),
		orderShot(shots, "business-1-login"),
		chromedp.SendKeys(chromedp.ID("company"), "rheinflotte"),
		chromedp.SendKeys(chromedp.ID("user"), "anna"),
		chromedp.SendKeys(chromedp.ID("password"), "ein langer Satz aus Wörtern"),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("totp-qr")),
		orderShot(shots, "business-2-totp-enrol"),
		orderEval(&text, `document.getElementById("totp-secret").textContent`),
	)
	check("totp")
	secret, err := base32NoPad(strings.ReplaceAll(text, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	run("code",
		chromedp.SendKeys(chromedp.ID("code"), business.TOTPCode(secret, business.TOTPStep(b.Clock.Now()))),
		chromedp.Submit(chromedp.ID("code")),
		chromedp.WaitVisible(chromedp.ID("no-apps")),
	)

	row := func(key, fin string) string {
		return key + ";umschreibung;person;Schmitz;Anna;1984-03-17;Venloer Str. 12;50672;Köln;" + fin + ";AB1234567C;K7QM4XP;AF7654321;K7QM4XPA2B3C;K-AB 123;A1B2C3D;DE89370400440532013000;Anna Schmitz;random\n"
	}
	file := filepath.Join(t.TempDir(), "antraege.csv")
	os.WriteFile(file, []byte("row_key;process;owner.kind;owner.family_name;owner.given_names;owner.birth_date;owner.street;owner.postcode;owner.city;vehicle.fin;vehicle.zb1_number;vehicle.zb1_code;vehicle.zb2_number;vehicle.zb2_code;vehicle.current_plate;evb;sepa.iban;sepa.holder;plate.mode\n"+
		row("AUF-0001", "WVWZZZ1JZXW000001")+row("AUF-0002", "WVWZZZ1JZXW00000O")+row("AUF-0003", "WVWZZZ1JZXW000003")), 0o644)
	run("upload",
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{file}),
		chromedp.Submit(chromedp.ID("file")),
		chromedp.WaitVisible(chromedp.ID("results")),
		orderEval(&text, `document.getElementById("results-summary").textContent + "|" + document.querySelector('tr[data-row="2"]').textContent + "|" + document.querySelectorAll("#apps tbody tr").length + "|" + document.querySelectorAll("#deliveries tbody tr").length`),
		orderShot(shots, "business-3-results-1280"),
	)
	parts := strings.Split(text, "|")
	if len(parts) != 4 || !strings.Contains(parts[0], "2 eingereicht") || !strings.Contains(parts[1], "vehicle.fin") || parts[2] != "2" || parts[3] != "2" {
		t.Errorf("after the upload: %q", text)
	}
	check("results")
	// On a phone every application's state and plate are on the screen,
	// not behind a sideways scroll.
	const inView = `Array.prototype.every.call(document.querySelectorAll("#apps td.app-status, #apps td.app-plate, #results td, #deliveries td"), function (td) {
		var r = td.getBoundingClientRect(); return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth; })`
	var in390, in320 bool
	run("phone",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		orderEval(&in390, inView),
		orderShot(shots, "business-4-results-390"),
		chromedp.EmulateViewport(320, 640, chromedp.EmulateMobile),
		orderEval(&in320, inView),
		orderShot(shots, "business-4-results-320"),
		chromedp.EmulateViewport(1280, 900),
	)
	if !in390 || !in320 {
		t.Errorf("cells off the screen: at 390 px %v, at 320 px %v", !in390, !in320)
	}

	run("settings",
		chromedp.Navigate(b.BizURL+"/unternehmen/einstellungen"),
		chromedp.WaitVisible(chromedp.ID("key_name")),
		chromedp.SendKeys(chromedp.ID("key_name"), "Warenwirtschaft"),
		chromedp.Submit(chromedp.ID("key_name")),
		chromedp.WaitVisible(chromedp.ID("new-key")),
		orderEval(&text, `document.getElementById("new-key").value`),
		orderShot(shots, "business-5-settings-1280"),
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		orderShot(shots, "business-6-settings-390"),
		chromedp.EmulateViewport(1280, 900),
	)
	check("settings")
	if c, err := b.Biz.Authenticate(bg, text); err != nil || c != "rheinflotte" {
		t.Errorf("the key shown: %q %v", c, err)
	}
}
