package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	_ "image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/central/business"
	"github.com/veedel/veedel/internal/qrtest"
)

// The i-Kfz journeys across both halves in chromium: central's portal and
// business dashboard, the registration site "zulassung" with its desk,
// syncing over real HTTP on loopback. Every page is checked with axe-core
// and photographed (screenshot: $VEEDEL_SCREENSHOTS, make screenshots).

// journeyWait bounds every wait on the other half: long enough for a
// slow, loaded CI machine; the sync itself runs every 100 ms.
const journeyWait = 60 * time.Second

// kfzHalves is central and the registration site, connected.
type kfzHalves struct {
	central *centralNode
	site    *applianceNode
}

// startKfzHalves starts central (small plate blocks, checked every 100 ms)
// and the registration site "zulassung" (heartbeat 100 ms, its permits'
// QR codes pointing at central, the staff login demo / demo), and waits
// until the site holds a block of plates.
func startKfzHalves(t *testing.T) kfzHalves {
	t.Helper()
	dir := t.TempDir()
	cn, cent := startCentral(t, dir, freeAddr(t), func(c *centralConfig) {
		c.Plates = plateConfig{BlockSize: 20, LowWater: 5, Every: 100 * time.Millisecond}
	})
	site, _ := startAppliance(t, applianceConfig{Site: "zulassung", DB: filepath.Join(dir, "zulassung.db"), CentralURL: cent.URL,
		PortalURL: cent.URL, Heartbeat: 100 * time.Millisecond, Users: []userSpec{{Name: "demo", Password: "demo", Role: sqlite.RoleLead}}})
	eventually(t, journeyWait, "a block of plates at the site", func() (bool, string) {
		_, out := plateCall(t, http.MethodGet, site.URL+"/api/v1/plates", "", "demo", "demo")
		left, _ := out["left"].(float64)
		return left > 0, fmt.Sprint(out)
	})
	return kfzHalves{central: cn, site: site}
}

// journeyRun runs a group of browser steps with a generous deadline,
// names the group and the step that failed, and logs how long the group
// took (go test -v), to see where a slow machine spends its time.
func journeyRun(t *testing.T, ctx context.Context, what string, actions ...step) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 2*journeyWait)
	defer cancel()
	start := time.Now()
	for i, a := range actions {
		if err := chromedp.Do(c, a); err != nil {
			t.Fatalf("%s, step %d (after %v): %v", what, i+1, time.Since(start).Round(time.Millisecond), err)
		}
	}
	t.Logf("%s: %v", what, time.Since(start).Round(time.Millisecond))
}

// waitJS waits, without reloading, until the JavaScript condition holds;
// across a navigation (a form's post and redirect) it asks again.
func waitJS(expr string) step { return pollJS(expr, 100*time.Millisecond, false) }

// reloadUntil reloads the page, as a person presses F5, until the
// JavaScript condition holds: for pages that do not update themselves
// (the status page, the desk's worklist, the dashboard) while the other
// half's change comes by sync.
func reloadUntil(expr string) step { return pollJS(expr, 200*time.Millisecond, true) }

// pollJS asks the JavaScript condition every interval until it holds or
// journeyWait has passed, reloading the page between asks when reload is
// set.
func pollJS(expr string, interval time.Duration, reload bool) step {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		deadline := time.Now().Add(journeyWait)
		for {
			ok, err := chromedp.Evaluate[bool](expr)(ctx, t)
			if err == nil && ok {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s: not within %v (%v)", expr, journeyWait, err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(interval):
			}
			if reload {
				if _, err := chromedp.Reload()(ctx, t); err != nil {
					return err
				}
			}
		}
	})
}

// js evaluates a JavaScript expression into dst.
func js[T any](dst *T, expr string) step { return into(dst, chromedp.Evaluate[T](expr)) }

// clerkToWorklist logs the clerk in at the site's desk (1280 px) at
// counter 1 and opens the i-Kfz worklist from the desk.
func clerkToWorklist(siteURL string) []step {
	return append(deskLogin(siteURL, "demo", "demo", "1"),
		chromedp.WaitVisible(chromedp.ID("vehicle-link")),
		chromedp.Click(chromedp.ID("vehicle-link")), chromedp.WaitVisible(chromedp.ID("kfz-filter")))
}

// TestVehicleJourneyAcrossSitesBrowser: a citizen's Umschreibung from a
// phone at central to the clerk's decision at the registration site and
// back, in chromium, over real sync:
//  1. at central's /kfz (390 px, touch) the citizen chooses Umschreibung,
//     fills the form, attaches the power of attorney (a PDF) and submits;
//  2. the application and its file reach the site; the clerk (1280 px)
//     claims it from the worklist, records the checks and asks for more;
//  3. the citizen's status page shows the question; the answer (a note
//     and a PDF) crosses sync to the site, where the clerk reads it;
//  4. the clerk approves: the plate comes from the site's block; the status
//     page shows approved, the plate and the permit once the PDF is up;
//  5. the permit, fetched by the browser from the link, is the site's
//     PDF byte for byte, and its QR code reads central's /verify/{code};
//  6. the verification page shows plate, FIN and valid-until, nothing of
//     the owner.
func TestVehicleJourneyAcrossSitesBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser journey skipped with -short")
	}
	start := time.Now()
	browser := newBrowser(t)
	shots := screenshotDir(t)
	k := startKfzHalves(t)
	centralURL, siteURL := k.central.URL, k.site.URL
	files := t.TempDir()
	authority := miniPDF("Vollmacht: Zofia Kowalczyk-Oeztuerk bevollmaechtigt Jan Kowalczyk, Koeln, 2. Dezember 2026")
	contract := miniPDF("Kaufvertrag ueber den Pkw WVWZZZ1JZXW000001 vom 28. November 2026")
	for name, b := range map[string][]byte{"vollmacht.pdf": authority, "kaufvertrag.pdf": contract} {
		if err := os.WriteFile(filepath.Join(files, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	const (
		family, given = "Kowalczyk-Öztürk", "Zofia"
		street        = "Venloer Str. 12"
		iban          = "DE89370400440532013000"
		fin           = "WVWZZZ1JZXW000001"
		question      = "Bitte reichen Sie den Kaufvertrag nach: der Voreigentümer ist in der Vollmacht nicht genannt."
		answer        = "Anbei der Kaufvertrag, vom Verkäufer unterschrieben."
	)

	// 1. The citizen's phone.
	phone := newTab(t, browser)
	type kv struct{ id, value string }
	fill := func(fields ...kv) []step {
		var out []step
		for _, f := range fields {
			out = append(out, chromedp.SendKeys(chromedp.ID(f.id), f.value))
		}
		return out
	}
	var location, text string
	journeyRun(t, phone, "the citizen chooses the Umschreibung",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(centralURL+"/kfz"),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/kfz/umschreibung"]`)),
		screenshot(shots, "kfz-journey-01-choose-390"),
		chromedp.Click(chromedp.CSS(`a[href="/kfz/umschreibung"]`)),
		chromedp.WaitVisible(chromedp.ID("f-vehicle-fin")),
		screenshot(shots, "kfz-journey-02-form-390"),
	)
	steps := fill(kv{"f-owner-family_name", family}, kv{"f-owner-given_names", given}, kv{"f-owner-birth_date", "28.02.1990"},
		kv{"f-owner-street", street}, kv{"f-owner-postcode", "50672"}, kv{"f-owner-city", "Köln"},
		kv{"f-vehicle-fin", fin}, kv{"f-vehicle-current_plate", "K-AB 123"},
		kv{"f-vehicle-zb1_number", "AB1234567C"}, kv{"f-vehicle-zb1_code", "K7QM4XP"},
		kv{"f-vehicle-zb2_number", "AF7654321"}, kv{"f-vehicle-zb2_code", "K7QM4XPA2B3C"},
		kv{"f-evb", "A1B2C3D"}, kv{"f-sepa-iban", "DE89 3704 0044 0532 0130 00"}, kv{"f-sepa-holder", "Zofia Kowalczyk-Öztürk"})
	steps = append(steps,
		chromedp.Click(chromedp.ID("f-plate-mode-random")),
		chromedp.SetUploadFiles(chromedp.ID("f-file-vollmacht"), []string{filepath.Join(files, "vollmacht.pdf")}),
		screenshot(shots, "kfz-journey-03-form-filled-390"),
		chromedp.Click(chromedp.ID("kfz-submit")),
		chromedp.WaitVisible(chromedp.ID("status-link")),
		into(&location, chromedp.Location()),
		js(&text, `document.getElementById("kfz-state").textContent`),
		screenshot(shots, "kfz-journey-04-submitted-390"),
	)
	journeyRun(t, phone, "the citizen submits", steps...)
	// Received at central, or already at the site: sync runs every 100 ms
	// and may have carried it there before the page was read (CI
	// 2026-12-06: "Bei der Zulassungsstelle: wartet auf Bearbeitung").
	if !strings.Contains(text, "Eingegangen") && !strings.Contains(text, "Bei der Zulassungsstelle") {
		t.Errorf("state after submitting: %q, want Eingegangen or Bei der Zulassungsstelle", text)
	}
	u := strings.TrimSuffix(location, "/bestaetigung")
	token := u[strings.LastIndex(u, "/")+1:]
	app, ok := k.central.Central.VehicleApplications().ByToken(token)
	if !ok {
		t.Fatalf("central knows no application for the status page %s", location)
	}
	id := app.ID
	statusPage := centralURL + "/kfz/s/" + token
	authoritySum := sha256.Sum256(authority)

	// 2. The clerk: the application and its file at the site; claim,
	// checks, ask for more.
	desk := newTab(t, browser)
	journeyRun(t, desk, "the clerk opens the worklist", clerkToWorklist(siteURL)...)
	journeyRun(t, desk, "the application in the worklist",
		reloadUntil(`!!document.getElementById("app-`+id+`")`),
		screenshot(shots, "kfz-journey-05-worklist-1280"),
		chromedp.Click(chromedp.CSS(`#app-`+id+` a`)),
		chromedp.WaitVisible(chromedp.ID("claim")),
		// The power of attorney is listed once its bytes are here.
		reloadUntil(`!!document.querySelector('#app-files a[href$="/files/`+hex.EncodeToString(authoritySum[:])+`"]')`),
		js(&text, `document.getElementById("owner-name").textContent`),
		screenshot(shots, "kfz-journey-06-detail-1280"),
	)
	if text != given+" "+family {
		t.Errorf("the clerk reads the owner %q", text)
	}
	assertBlob(t, k.site, authority, "the power of attorney")
	journeyRun(t, desk, "claim", chromedp.Click(chromedp.ID("claim")), chromedp.WaitVisible(chromedp.CSS(`#check-gebuehren button`)))
	for _, c := range vehicle.RequiredChecks(vehicle.ProcessTransfer) {
		journeyRun(t, desk, "check "+c, chromedp.Click(chromedp.CSS(`#check-`+c+` button`)),
			chromedp.WaitVisible(chromedp.CSS(`#check-`+c+` .kfz-ok`)))
	}
	journeyRun(t, desk, "ask for more",
		screenshot(shots, "kfz-journey-07-checked-1280"),
		chromedp.SendKeys(chromedp.ID("info-reason"), question),
		chromedp.Click(chromedp.ID("request-info")),
		waitJS(`!!document.getElementById("app-reason")`),
		js(&text, `document.getElementById("app-reason").textContent + "|" + !!document.getElementById("steps-waiting") + "|" + !!document.getElementById("steps-none")`),
		screenshot(shots, "kfz-journey-08-info-requested-1280"),
	)
	// While the applicant is asked, the desk says it waits for the answer
	// (not that the application is decided).
	if text != question+"|true|false" {
		t.Errorf("the site's reason and steps: %q, want %q", text, question+"|true|false")
	}

	// 3. The citizen reads the question and answers with a note and the
	// contract; the answer crosses sync to the clerk.
	journeyRun(t, phone, "the citizen reads the question",
		chromedp.Navigate(statusPage),
		reloadUntil(`!!document.getElementById("kfz-supplement")`),
		js(&text, `document.querySelector(".order-reason").textContent`),
		screenshot(shots, "kfz-journey-09-question-390"),
	)
	if !strings.Contains(text, question) {
		t.Errorf("the status page shows the reason %q, want %q", text, question)
	}
	journeyRun(t, phone, "the citizen answers",
		chromedp.SendKeys(chromedp.ID("f-note"), answer),
		chromedp.SetUploadFiles(chromedp.ID("f-supplement-file"), []string{filepath.Join(files, "kaufvertrag.pdf")}),
		screenshot(shots, "kfz-journey-10-answer-390"),
		chromedp.Click(chromedp.ID("kfz-supplement-send")),
		chromedp.WaitNotPresent(chromedp.ID("kfz-supplement")),
		chromedp.WaitVisible(chromedp.ID("kfz-state")),
		screenshot(shots, "kfz-journey-11-answered-390"),
	)
	contractSum := sha256.Sum256(contract)
	journeyRun(t, desk, "the clerk reads the answer",
		chromedp.Navigate(siteURL+"/desk/vehicle/"+id),
		reloadUntil(`!!document.getElementById("app-supplements") && !!document.querySelector('#app-files a[href$="/files/`+hex.EncodeToString(contractSum[:])+`"]')`),
		js(&text, `document.getElementById("app-supplements").textContent`),
		screenshot(shots, "kfz-journey-12-answer-at-site-1280"),
	)
	if !strings.Contains(text, answer) {
		t.Errorf("the site shows the supplement %q, want %q", text, answer)
	}
	assertBlob(t, k.site, contract, "the supplement's contract")

	// 4. The clerk approves (the application came back to the worklist:
	// claimed again; the checks stand).
	var plate string
	journeyRun(t, desk, "approve",
		chromedp.Click(chromedp.ID("claim")),
		chromedp.WaitVisible(chromedp.ID("approve")),
		chromedp.Click(chromedp.ID("approve")),
		chromedp.WaitVisible(chromedp.ID("app-plate")),
		js(&plate, `document.getElementById("app-plate").textContent`),
		screenshot(shots, "kfz-journey-13-approved-1280"),
	)
	decided, err := vehicle.Get(context.Background(), k.site.Store.Read(), id)
	if err != nil || decided.Status != vehicle.StatusApproved || decided.Permit == nil || decided.Plate != plate || !strings.HasPrefix(plate, "K-") {
		t.Fatalf("at the site after the approval: %+v %v (page: %q)", decided, err, plate)
	}
	journeyRun(t, phone, "the status page approved",
		reloadUntil(`!!document.getElementById("kfz-permit")`),
		js(&text, `document.getElementById("kfz-plate").textContent + "|" + document.getElementById("kfz-application").dataset.status`),
		screenshot(shots, "kfz-journey-14-approved-390"),
	)
	if text != plate+"|approved" {
		t.Errorf("the status page shows %q, want %s|approved", text, plate)
	}

	// 5. The permit through the browser's link: the site's bytes; its QR
	// code reads central's verification URL.
	var b64 string
	journeyRun(t, phone, "the permit downloaded",
		into(&b64, chromedp.Evaluate[string](`fetch(document.getElementById("kfz-permit").href).then(r => {
			if (!r.ok || r.headers.get("Content-Type") !== "application/pdf") throw new Error(r.status + " " + r.headers.get("Content-Type"));
			return r.arrayBuffer();
		}).then(b => { let s = ""; for (const c of new Uint8Array(b)) s += String.fromCharCode(c); return btoa(s) })`, chromedp.EvalAwaitPromise)))
	pdf, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	sitePDF := blobBytes(t, k.site, decided.Permit.SHA256)
	if !bytes.Equal(pdf, sitePDF) || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("the permit from central's link (%d bytes) is not the site's (%d bytes)", len(pdf), len(sitePDF))
	}
	permitFile := filepath.Join(files, "genehmigung.pdf")
	if err := os.WriteFile(permitFile, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	verifyURL := centralURL + "/verify/" + decided.Code
	if got := pdfQR(t, permitFile, filepath.Join(shots, "kfz-journey-15-permit")); got != verifyURL {
		t.Errorf("the permit's QR code reads %q, want %s", got, verifyURL)
	}

	// 6. The verification page, as the police open it from the QR code.
	journeyRun(t, phone, "verify",
		chromedp.Navigate(verifyURL),
		chromedp.WaitVisible(chromedp.ID("verify-state")),
		js(&text, `["verify-plate", "verify-fin", "verify-until"].map(id => document.getElementById(id).textContent.trim()).join("|") + "|" + document.body.innerText`),
		screenshot(shots, "kfz-journey-16-verify-390"),
	)
	until, err := time.Parse(time.DateOnly, decided.ValidUntil)
	if err != nil {
		t.Fatal(err)
	}
	want := plate + "|" + fin + "|" + until.Format("02.01.2006") + "|"
	if !strings.HasPrefix(text, want) {
		t.Errorf("the verification page shows %q, want it to begin %q", text, want)
	}
	for _, secret := range []string{family, "Kowalczyk", given, street, "Venloer", "50672", iban, "DE89 3704", "A1B2C3D", "AF7654321"} {
		if strings.Contains(text, secret) {
			t.Errorf("the verification page shows %q", secret)
		}
	}
	t.Logf("journey in %v; screenshots in %s", time.Since(start).Round(time.Millisecond), shots)
}

// TestBusinessDashboardAcrossSitesBrowser: a company (created as
// `veedel central company add` does) logs in at central's /unternehmen
// with password and TOTP, uploads docs/business-upload.csv through the
// dashboard's form in chromium and sees a result per row; once the
// registration site has approved one of the applications, the dashboard
// shows it approved with its plate.
func TestBusinessDashboardAcrossSitesBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser journey skipped with -short")
	}
	start := time.Now()
	browser := newBrowser(t)
	shots := screenshotDir(t)
	k := startKfzHalves(t)
	const password = "Domplatte am Rhein bei Nacht"
	var out, errOut bytes.Buffer
	if err := runCentralCompany(context.Background(), []string{"add", "-id", "rheinflotte", "-name", "Rheinflotte GmbH", "-admin", "anna",
		"-data", filepath.Dir(k.central.cfg.DB)}, strings.NewReader(password+"\n"), &out, &errOut); err != nil {
		t.Fatalf("company add: %v %s", err, errOut.String())
	}
	csv, err := filepath.Abs(filepath.Join("..", "..", "docs", "business-upload.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := os.ReadFile(csv)
	if err != nil {
		t.Fatal(err)
	}
	wantRows := strings.Count(strings.TrimSpace(string(rows)), "\n")

	tab := newTab(t, browser)
	var secret, text string
	journeyRun(t, tab, "login",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(k.central.URL+"/unternehmen"),
		chromedp.WaitVisible(chromedp.ID("company")),
		screenshot(shots, "kfz-business-01-login-1280"),
		chromedp.SendKeys(chromedp.ID("company"), "rheinflotte"),
		chromedp.SendKeys(chromedp.ID("user"), "anna"),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("totp-qr")),
		js(&secret, `document.getElementById("totp-secret").textContent`),
		screenshot(shots, "kfz-business-02-totp-1280"),
	)
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(strings.Join(strings.Fields(secret), "")))
	if err != nil {
		t.Fatalf("the TOTP secret %q: %v", secret, err)
	}
	journeyRun(t, tab, "second factor",
		chromedp.SendKeys(chromedp.ID("code"), business.TOTPCode(key, business.TOTPStep(time.Now()))),
		chromedp.Submit(chromedp.ID("code")),
		chromedp.WaitVisible(chromedp.ID("no-apps")),
		screenshot(shots, "kfz-business-03-dashboard-empty-1280"),
	)
	var results []string
	journeyRun(t, tab, "upload",
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{csv}),
		chromedp.Click(chromedp.ID("upload")),
		chromedp.WaitVisible(chromedp.ID("results")),
		js(&text, `document.getElementById("results-summary").textContent`),
		js(&results, `[...document.querySelectorAll("#results tbody tr")].map(tr => tr.dataset.status + "|" + tr.cells[1].textContent.trim() + "|" + tr.cells[3].textContent.trim())`),
		screenshot(shots, "kfz-business-04-results-1280"),
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		screenshot(shots, "kfz-business-05-results-390"),
		chromedp.EmulateViewport(1280, 900),
	)
	if len(results) != wantRows || !strings.Contains(text, fmt.Sprintf("%d eingereicht", wantRows)) {
		t.Fatalf("after the upload of %d rows: %q %q", wantRows, text, results)
	}
	ids := map[string]string{} // row key → application id
	for _, r := range results {
		parts := strings.Split(r, "|")
		if len(parts) != 3 || parts[0] != "201" {
			t.Fatalf("a row's result: %q", r)
		}
		ids[parts[1]] = parts[2]
	}
	id := ids["AUF-2026-0001"]
	if id == "" {
		t.Fatalf("no application for AUF-2026-0001: %q", results)
	}

	// The site decides the Umschreibung (its clerk, through the site's
	// API): claimed, checked, approved.
	act := func(action, body string) map[string]any {
		t.Helper()
		status, out := plateCall(t, http.MethodPost, k.site.URL+"/api/v1/vehicle-applications/"+id+"/"+action, body, "demo", "demo")
		if status != http.StatusOK {
			t.Fatalf("%s: %d %v", action, status, out)
		}
		return out
	}
	eventually(t, journeyWait, "the company's application at the site", func() (bool, string) {
		_, err := vehicle.Get(context.Background(), k.site.Store.Read(), id)
		return err == nil, fmt.Sprint(err)
	})
	act("claim", `{}`)
	for _, c := range vehicle.RequiredChecks(vehicle.ProcessTransfer) {
		act("check", fmt.Sprintf(`{"check":%q,"ok":true}`, c))
	}
	plate, _ := act("approve", `{}`)["plate"].(string)
	journeyRun(t, tab, "the dashboard after the decision",
		chromedp.Navigate(k.central.URL+"/unternehmen"),
		reloadUntil(`(document.querySelector('#apps tr[data-app="`+id+`"]') || {dataset: {}}).dataset.status === "approved"`),
		js(&text, `document.querySelector('#apps tr[data-app="`+id+`"]').textContent`),
		screenshot(shots, "kfz-business-06-decided-1280"),
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		screenshot(shots, "kfz-business-07-decided-390"),
	)
	if plate == "" || !strings.Contains(text, plate) || !strings.Contains(text, "AUF-2026-0001") {
		t.Errorf("the dashboard's row after the approval: %q, want the plate %q and AUF-2026-0001 in it", text, plate)
	}
	t.Logf("business journey in %v; screenshots in %s", time.Since(start).Round(time.Millisecond), shots)
}

// assertBlob waits until the site holds want as a file, by its SHA-256.
func assertBlob(t *testing.T, site *applianceNode, want []byte, what string) {
	t.Helper()
	sum := sha256.Sum256(want)
	if got := blobBytes(t, site, hex.EncodeToString(sum[:])); !bytes.Equal(got, want) {
		t.Errorf("%s at the site: %d bytes differ from the %d sent", what, len(got), len(want))
	}
}

// blobBytes reads a file the site holds.
func blobBytes(t *testing.T, site *applianceNode, sha string) []byte {
	t.Helper()
	rc, _, err := site.Store.Blobs().Open(context.Background(), sha)
	if err != nil {
		t.Fatalf("file %s at the site: %v", sha, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pdfQR renders a PDF's first page with poppler's pdftoppm at 150 dpi into
// png (the path without .png, kept beside the screenshots) and decodes
// its QR code.
func pdfQR(t *testing.T, file, png string) string {
	t.Helper()
	tool, err := exec.LookPath("pdftoppm")
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("VEEDEL_REQUIRE_BROWSER") != "" {
			t.Fatal("pdftoppm not installed (Debian package poppler-utils)")
		}
		t.Skip("pdftoppm not installed (Debian package poppler-utils)")
	}
	text, err := qrtest.PDFPage(tool, file, 150, png)
	if err != nil {
		t.Fatalf("the permit's QR code: %v", err)
	}
	return text
}

// miniPDF is a valid one-page A4 PDF with a line of (ASCII) text, as a
// scanner or a word processor would make it, only smaller.
func miniPDF(line string) []byte {
	var b bytes.Buffer
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	b.WriteString("%PDF-1.4\n")
	content := fmt.Sprintf("BT /F1 12 Tf 56 780 Td (%s) Tj ET", line)
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>")
	obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}
