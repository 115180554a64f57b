package main

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/fxamacker/cbor/v2"

	"github.com/veedel/veedel/appliance/plates"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/web/webtest"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/workflow"
)

// sendVehicleApplication has central send an application for site down,
// sealed to the site's box key as central's portal does, with a block of
// plates, and waits until the site's downlink has taken it over; claimBy,
// when set, then claims it at the site.
func sendVehicleApplication(t *testing.T, c *central.Central, app *applianceNode, site, id, claimBy string) {
	t.Helper()
	submitVehicleApplication(t, c, site, id)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := vehicle.Get(context.Background(), app.Store.Read(), id); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("application %s not at the site within 15 s", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if claimBy != "" {
		claimVehicleApplication(t, app, id, claimBy)
	}
}

// submitVehicleApplication appends an application (and a block of
// plates) to central's outbound log to site.
func submitVehicleApplication(t *testing.T, c *central.Central, site, id string) {
	t.Helper()
	ctx := context.Background()
	// The site's box key comes with its first polls.
	var box []byte
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		var err error
		if box, err = c.BoxKey(ctx, site); err == nil {
			break
		} else if time.Since(start) > 15*time.Second {
			t.Fatal(err)
		}
	}
	a := vehicle.Application{Process: vehicle.ProcessTransfer,
		Owner: vehicle.Owner{Kind: "person", FamilyName: "Yıldırım-Schäfer", GivenNames: "Aylin", BirthDate: "1988-04-02",
			Street: "Kalker Hauptstraße 1", Postcode: "51103", City: "Köln", Email: "aylin@example.org"},
		Vehicle: vehicle.VehicleData{FIN: "WVWZZZ1JZXW000001", ZB1: "AB1234567", ZB2: "CD7654321", ZB2Code: "KX7P2M9Q", Plate: "K-XY 42"},
		EVB:     "A1B2C3D", SEPA: &vehicle.SEPA{IBAN: "DE89370400440532013000", Holder: "Aylin Yıldırım-Schäfer"},
		Plate: vehicle.PlateChoice{Mode: vehicle.PlateRandom}}
	plain, _ := cbor.Marshal(a)
	sealed, err := changelog.Seal(box, vehicle.SealInfo(site, id), plain)
	if err != nil {
		t.Fatal(err)
	}
	tok := sha256.Sum256([]byte("token-" + id))
	if err := c.SendToSite(ctx, site,
		queue.Event{Type: plates.TypeBlockGranted, Entity: "plateblock/900", Payload: &plates.BlockGranted{Block: plates.Block{ID: 900, Letters: "VX", First: 1, Last: 99}}},
		queue.Event{Type: vehicle.TypeSubmitted, Entity: "vehicle/" + id, Payload: &vehicle.ApplicationSubmitted{ID: id, Process: a.Process,
			Sealed: sealed, Submitted: time.Now().UnixMilli(), TokenHash: tok[:], PlateMode: a.Plate.Mode}}); err != nil {
		t.Fatal(err)
	}
}

// claimVehicleApplication claims id at the site for staff.
func claimVehicleApplication(t *testing.T, app *applianceNode, id, staff string) {
	t.Helper()
	ctx := context.Background()
	if _, err := app.Store.ExecuteTx(ctx, func(_ *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
		e, err := vehicle.Decide(ctx, q, at, vehicle.Step{ID: id, Action: vehicle.ActionClaim, Staff: staff})
		return []queue.Event{e}, err
	}); err != nil {
		t.Fatal(err)
	}
}

// TestVehicleDecisionInBrowser: the clerk's decision in chromium: the
// application central sent is in the worklist; the clerk claims it,
// records the four checks, approves, opens the provisional proof, and
// finds the documents on the mailing list. Screenshots of the pages at
// 1280 and 390 px go to $VEEDEL_VEHICLE_SHOTS when set.
func TestVehicleDecisionInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser journey skipped with -short")
	}
	browser := newBrowser(t)
	dir := t.TempDir()
	cn, cent := startCentral(t, dir, freeAddr(t))
	app, _ := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"),
		CentralURL: cent.URL, PortalURL: cent.URL, Heartbeat: time.Second,
		Users: []userSpec{{Name: "demo", Password: "demo", Role: "lead"}}})
	synced(t, cent.URL, app, 10*time.Second)
	sendVehicleApplication(t, cn.Central, app, "kalk", "V7001", "")

	shots := os.Getenv("VEEDEL_VEHICLE_SHOTS")
	shot := func(name string) step {
		if shots == "" {
			return chromedp.Func(func(context.Context, *chromedp.Target) error { return nil })
		}
		return saveScreenshot(filepath.Join(shots, name+".png"))
	}
	run := func(what string, actions ...step) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browser, 60*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	run("login",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(app.URL+"/desk/login"), chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SendKeys(chromedp.ID("user"), "demo"), chromedp.SendKeys(chromedp.ID("password"), "demo"),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.ID("counter")))
	run("worklist",
		chromedp.SetValue(chromedp.ID("counter"), "3"), chromedp.Submit(chromedp.ID("counter")),
		chromedp.WaitVisible(chromedp.ID("vehicle-link")),
		chromedp.Click(chromedp.ID("vehicle-link")), chromedp.WaitVisible(chromedp.ID("app-V7001")),
		webtest.Axe("vehicle worklist"), shot("worklist-1280"),
		chromedp.Click(chromedp.CSS(`#app-V7001 a`)), chromedp.WaitVisible(chromedp.ID("claim")), shot("detail-new-1280"),
		chromedp.Click(chromedp.ID("claim")), chromedp.WaitVisible(chromedp.CSS(`#check-gebuehren button`)),
		webtest.Axe("vehicle detail claimed"), shot("detail-claimed-1280"))
	for _, c := range vehicle.RequiredChecks(vehicle.ProcessTransfer) {
		run("check "+c, chromedp.Click(chromedp.CSS(`#check-`+c+` button`)),
			chromedp.WaitVisible(chromedp.CSS(`#check-`+c+` .kfz-ok`)))
	}
	run("approve",
		chromedp.Click(chromedp.ID("approve")), chromedp.WaitVisible(chromedp.ID("permit")),
		webtest.Axe("vehicle detail approved"), shot("detail-approved-1280"),
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("permit")),
		webtest.Axe("vehicle detail approved phone"), shot("detail-approved-390"),
		chromedp.Navigate(app.URL+"/desk/vehicle"), chromedp.WaitVisible(chromedp.ID("kfz-filter")), shot("worklist-390"),
		chromedp.Navigate(app.URL+"/desk/vehicle/post"), chromedp.WaitVisible(chromedp.ID("posted-V7001")),
		webtest.Axe("mailing list phone"), shot("post-390"),
		chromedp.EmulateViewport(1280, 900), chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("posted-V7001")), shot("post-1280"),
		chromedp.Click(chromedp.ID("posted-V7001")), chromedp.WaitVisible(chromedp.ID("post-none")))
	a, err := vehicle.Get(context.Background(), app.Store.Read(), "V7001")
	if err != nil || a.Status != vehicle.StatusApproved || a.Plate != "K-VX 1" || a.PostedAt.IsZero() {
		t.Fatalf("after the journey: %+v %v", a, err)
	}
}
