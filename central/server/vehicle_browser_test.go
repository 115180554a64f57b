package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/sync/blob"
)

// TestBrowser_VehicleJourney: on a 390×844 phone a citizen chooses the
// Umschreibung, sends the form with a mistyped IBAN (the error summary
// takes the focus, the message stands beside the field), corrects it and
// submits: the confirmation shows the status link. The site approves; the
// status page shows the plate and the permit's link, and /verify shows
// plate, FIN and valid-until. Every page passes axe and reflows to 320 px.
func TestBrowser_VehicleJourney(t *testing.T) {
	e, l := vehicleSite(t)
	ctx := browser(t)
	shots := orderShots(t)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
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
	var problems, focused, text string
	check := func(page string) {
		t.Helper()
		run("a11y "+page, orderEval(&problems, a11yProblems), orderEval(&ok, noSideways))
		if problems != "" {
			t.Errorf("%s: %s", page, problems)
		}
		if !ok {
			t.Errorf("%s scrolls sideways", page)
		}
		run("320 px "+page, chromedp.EmulateViewport(320, 640, chromedp.EmulateMobile), orderEval(&ok, noSideways),
			chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		if !ok {
			t.Errorf("%s scrolls sideways at 320 px", page)
		}
	}
	type kv struct{ id, value string }
	fill := func(fields ...kv) []chromedp.Action[chromedp.Void] {
		var out []chromedp.Action[chromedp.Void]
		for _, f := range fields {
			out = append(out, chromedp.SendKeys(chromedp.ID(f.id), f.value))
		}
		return out
	}

	run("portal to the form",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(e.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("kfz-link")),
		chromedp.Click(chromedp.ID("kfz-link")),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/kfz/umschreibung"]`)),
		orderShot(shots, "kfz-1-choose"),
		chromedp.Click(chromedp.CSS(`a[href="/kfz/umschreibung"]`)),
		chromedp.WaitVisible(chromedp.ID("f-vehicle-fin")),
		orderShot(shots, "kfz-2-form"),
	)
	check("form")

	steps := fill(kv{"f-owner-family_name", "Kowalczyk-Öztürk"}, kv{"f-owner-given_names", "Zofia"}, kv{"f-owner-birth_date", "28.02.1990"},
		kv{"f-owner-street", "Venloer Str. 12"}, kv{"f-owner-postcode", "50672"}, kv{"f-owner-city", "Köln"},
		kv{"f-vehicle-fin", "WVWZZZ1JZXW000001"}, kv{"f-vehicle-current_plate", "K-AB 123"},
		kv{"f-vehicle-zb1_number", "AB1234567C"}, kv{"f-vehicle-zb1_code", "K7QM4XP"},
		kv{"f-vehicle-zb2_number", "AF7654321"}, kv{"f-vehicle-zb2_code", "K7QM4XPA2B3C"},
		kv{"f-evb", "A1B2C3D"}, kv{"f-sepa-iban", "DE89 3704 0044 0532 0130 01"}, kv{"f-sepa-holder", "Zofia Kowalczyk"})
	steps = append(steps, chromedp.Click(chromedp.ID("f-plate-mode-keep")), chromedp.Click(chromedp.ID("kfz-submit")),
		chromedp.WaitVisible(chromedp.ID("error-summary")),
		orderUntil(`document.activeElement && document.activeElement.id === "error-summary"`),
		orderEval(&focused, `document.activeElement.id`),
		orderEval(&text, `document.getElementById("f-sepa-iban-error").textContent`),
		orderViewShot(shots, "kfz-3-errors-screen"),
		orderShot(shots, "kfz-3-errors"))
	run("a mistyped IBAN", steps...)
	if focused != "error-summary" || !strings.Contains(text, "Prüfziffer") {
		t.Errorf("after the failed post: focus %q, IBAN message %q", focused, text)
	}
	check("form with errors")

	run("corrected",
		chromedp.Click(chromedp.CSS(`#error-summary a[href="#f-sepa-iban"]`)),
		orderUntil(`document.activeElement.id === "f-sepa-iban"`),
		orderEval(&text, `document.getElementById("f-sepa-iban").value = ""`),
		chromedp.SendKeys(chromedp.ID("f-sepa-iban"), "DE89 3704 0044 0532 0130 00"),
		chromedp.Click(chromedp.ID("kfz-submit")),
		chromedp.WaitVisible(chromedp.ID("status-link")),
		orderEval(&text, `document.getElementById("kfz-state").textContent`),
		orderShot(shots, "kfz-4-confirmation"),
	)
	if !strings.Contains(text, "Eingegangen") {
		t.Errorf("state after submitting: %q", text)
	}
	check("confirmation")

	sent := e.submittedEvents(siteID)
	if len(sent) != 1 {
		t.Fatalf("%d applications sent", len(sent))
	}
	id := sent[0].ID
	permit := []byte("%PDF-1.4\n% vorlaeufiger Zulassungsnachweis\n%%EOF\n")
	sum := sha256.Sum256(permit)
	if _, err := e.Central.Blobs().Put(context.Background(), bytes.NewReader(permit), "permit.pdf", 1<<20); err != nil {
		t.Fatal(err)
	}
	n := len(l.entries)
	l.add(vehicle.TypeReceived, vehicle.Entity(id), &vehicle.ApplicationReceived{ApplicationSubmitted: sent[0]})
	l.add(vehicle.TypeClaimed, vehicle.Entity(id), &vehicle.ApplicationClaimed{ID: id, Staff: "demo"})
	l.add(vehicle.TypeInfoRequested, vehicle.Entity(id), &vehicle.InfoRequested{ID: id, Staff: "demo", Reason: "Bitte die Vollmacht des Verkäufers nachreichen."})
	e.mustPost(l.batch(uint64(n+1), uint64(len(l.entries))))
	vollmacht := filepath.Join(t.TempDir(), "vollmacht-verkaeufer.pdf")
	if err := os.WriteFile(vollmacht, []byte("%PDF-1.4\n% Vollmacht\n%%EOF\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("asked for more",
		chromedp.Click(chromedp.ID("status-link")),
		chromedp.WaitVisible(chromedp.ID("kfz-supplement")),
		chromedp.SendKeys(chromedp.ID("f-note"), "Die Vollmacht kommt heute per Post."),
		chromedp.SetUploadFiles(chromedp.ID("f-supplement-file"), []string{vollmacht}),
		orderShot(shots, "kfz-5a-info-requested"),
		chromedp.Click(chromedp.ID("kfz-supplement-send")),
		chromedp.WaitNotPresent(chromedp.ID("kfz-supplement")),
		chromedp.WaitVisible(chromedp.ID("kfz-answer")),
		orderEval(&text, `document.getElementById("kfz-heading").textContent + "|" + document.getElementById("kfz-state").textContent + "|" + document.getElementById("kfz-answer").textContent + "|" + location.pathname`),
		orderShot(shots, "kfz-5b-answered-390"),
		chromedp.EmulateViewport(320, 640, chromedp.EmulateMobile),
		orderShot(shots, "kfz-5b-answered-320"),
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
	)
	if parts := strings.Split(text, "|"); len(parts) != 4 || !strings.Contains(parts[0], "Antwort gesendet") || !strings.Contains(parts[1], "unterwegs zur Zulassungsstelle") ||
		!strings.Contains(parts[2], "geht an die Zulassungsstelle") || !strings.Contains(parts[2], "vollmacht-verkaeufer.pdf") || !strings.HasSuffix(parts[3], "/antwort") || strings.Contains(text, "Vollmacht kommt") {
		t.Errorf("after the answer: %q", text)
	}
	check("answered")
	n = len(l.entries)
	l.add(vehicle.TypeReceived, vehicle.Entity(id), &vehicle.ApplicationReceived{ApplicationSubmitted: sent[0]})
	l.add(vehicle.TypeApproved, vehicle.Entity(id), &vehicle.ApplicationApproved{ID: id, Staff: "demo", Plate: "K-AB 123", FIN: "WVWZZZ1JZXW000001",
		Code: "V3R1FY", ValidUntil: e.Clock.Now().AddDate(0, 0, 10).Format(time.DateOnly), Permit: blob.Ref{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(permit)), Type: "application/pdf"}})
	e.mustPost(l.batch(uint64(n+1), uint64(len(l.entries))))

	run("status page",
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.ID("kfz-permit")),
		orderEval(&text, `document.getElementById("kfz-plate").textContent`),
		orderShot(shots, "kfz-5-approved"),
	)
	if text != "K-AB 123" {
		t.Errorf("plate %q", text)
	}
	check("status page")

	run("verify",
		chromedp.Navigate(e.URL+"/verify/V3R1FY"),
		chromedp.WaitVisible(chromedp.ID("verify-state")),
		orderEval(&text, `document.querySelector("main").textContent`),
		orderShot(shots, "kfz-6-verify"),
	)
	if !strings.Contains(text, "WVWZZZ1JZXW000001") || !strings.Contains(text, "Gültig") || strings.Contains(text, "Kowalczyk") {
		t.Errorf("verify page: %q", text)
	}
	check("verify")
	e.Clock.Add(30 * 24 * time.Hour)
	run("verify expired",
		chromedp.Navigate(e.URL+"/verify/V3R1FY?lang=ar"),
		chromedp.WaitVisible(chromedp.ID("verify-state")),
		orderShot(shots, "kfz-7-verify-expired-ar"),
		chromedp.Navigate(e.URL+"/kfz/umschreibung?lang=ar"),
		chromedp.WaitVisible(chromedp.ID("f-vehicle-fin")),
		orderShot(shots, "kfz-8-form-ar"),
	)
	check("form in Arabic")
}

// TestBrowser_VehicleOwnerKind: with JavaScript the /kfz form shows only
// the chosen owner's fieldset; the other is hidden and disabled, so what
// was typed there is not sent. The choice works from the keyboard (arrow
// keys in the radio group), and the errors stand beside the fields of the
// chosen fieldset. At 390 and 320 px, axe-checked.
func TestBrowser_VehicleOwnerKind(t *testing.T) {
	e, _ := vehicleSite(t)
	ctx := browser(t)
	shots := orderShots(t)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
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
	const groups = `["person-group","company-group","owner-kind-note"].map(function(id){var g=document.getElementById(id);return id+(g.hidden?" hidden":" shown")+(g.disabled?" disabled":"");}).join(", ")`
	var text, problems string
	var ok bool
	run("the form",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(e.URL+"/kfz/umschreibung"),
		chromedp.WaitVisible(chromedp.ID("f-vehicle-fin")),
		orderEval(&text, groups),
	)
	if text != "person-group shown, company-group hidden disabled, owner-kind-note hidden" {
		t.Errorf("on load: %s", text)
	}
	run("company by keyboard",
		chromedp.SendKeys(chromedp.ID("f-owner-family_name"), "Schmitz"),
		chromedp.Focus(chromedp.ID("f-owner-kind-person")),
		chromedp.KeyEvent(kb.ArrowDown),
		orderUntil(`document.getElementById("f-owner-kind-company").checked`),
		orderEval(&text, groups),
		chromedp.SendKeys(chromedp.ID("f-owner-company_name"), "Rheinflotte GmbH"),
		orderShot(shots, "kfz-owner-company-390"),
		orderEval(&problems, a11yProblems),
		chromedp.EmulateViewport(320, 640, chromedp.EmulateMobile),
		orderEval(&ok, noSideways),
		orderShot(shots, "kfz-owner-company-320"),
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
	)
	if text != "person-group hidden disabled, company-group shown, owner-kind-note hidden" {
		t.Errorf("after the arrow key: %s", text)
	}
	if problems != "" || !ok {
		t.Errorf("company form: %q, no sideways scroll %v", problems, ok)
	}
	run("send the incomplete form",
		chromedp.Click(chromedp.ID("kfz-submit")),
		chromedp.WaitVisible(chromedp.ID("error-summary")),
		orderEval(&text, `[document.getElementById("f-owner-kind-company").checked, document.getElementById("f-owner-company_name").value, document.getElementById("f-owner-family_name").value, !!document.querySelector("#company-group .field-error, #person-group .field-error")].join("|") + "|" + `+groups),
		orderShot(shots, "kfz-owner-errors-390"),
	)
	if !strings.HasPrefix(text, "true|Rheinflotte GmbH||false|person-group hidden disabled, company-group shown") {
		t.Errorf("after the post: %s", text)
	}
}
