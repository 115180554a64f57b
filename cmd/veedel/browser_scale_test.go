package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/hardware/secasim"
)

// TestScaleFaultInBrowser looks at the scale's fault where people see it:
// the cable is pulled in the middle of the assistant's reading; the desk's
// banner and device page name the scale, central's fleet view shows it
// as faulty; and the simulator's control page, as the demo shows it, at
// 320 px. Every page passes axe.
func TestScaleFaultInBrowser(t *testing.T) {
	browser := newBrowser(t)
	shots := screenshotDir(t)
	dir := t.TempDir()
	sim, err := secasim.Start(secasim.Options{Link: filepath.Join(dir, "ttyScale")})
	if err != nil {
		t.Skipf("no pty for the scale simulator: %v", err)
	}
	defer sim.Close()
	cfg := applianceConfig{}
	if err := configureScale(&cfg, "serial://"+sim.Path()); err != nil {
		t.Fatal(err)
	}
	defer cfg.Scale.Close()
	cn, cent := startCentral(t, dir, freeAddr(t))
	if err := cn.store.CreateAdmin(context.Background(), "admin", central.RoleAdmin, "admin", time.Now()); err != nil {
		t.Fatal(err)
	}
	node, app := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"),
		CentralURL: cent.URL, PortalURL: cent.URL, Heartbeat: 200 * time.Millisecond,
		Scale: cfg.Scale, DeviceInterval: 200 * time.Millisecond,
		Users: []userSpec{{Name: "demo", Password: "demo", Role: sqlite.RoleLead}, {Name: "assistenz", Password: "assistenz", Role: sqlite.RoleClerk}}})
	setRole(t, filepath.Join(dir, "kalk.db"), "assistenz", sqlite.RoleAssistant)

	sim.SetPerson(secasim.Person{WeightKG: 22.6, HeightCM: 119, Unstable: 2})
	sim.Inject(secasim.PullCable, 0)
	req, _ := http.NewRequest(http.MethodGet, app.URL+"/api/v1/scale/reading", nil)
	req.SetBasicAuth("assistenz", "assistenz")
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("reading with the cable pulled: %s, want 503", res.Status)
	}
	eventually(t, 10*time.Second, "central has the scale's fault", func() (bool, string) {
		var d queue.Device
		cn.Central.ViewSite("kalk", func(st *queue.State, _ central.SiteCursor) {
			if p := st.Devices[queue.DeviceScale]; p != nil {
				d = *p
			}
		})
		return d.Kind == queue.DeviceScale && !d.Healthy(), describe("%+v", d.DeviceReported)
	})
	_ = node

	var banner, row string
	desk := newTab(t, browser)
	runIn(t, desk, "desk sees the scale's fault", append(deskLogin(app.URL, "demo", "demo", "3"),
		chromedp.WaitVisible(chromedp.ID(`device-alert`)),
		into(&banner, chromedp.Text(chromedp.ID("device-alert"))),
		screenshot(shots, "scale-1-desk-banner"),
		chromedp.Navigate(app.URL+"/desk/devices"),
		chromedp.WaitVisible(chromedp.ID(`device-scale`)),
		into(&row, chromedp.Text(chromedp.ID("device-scale"))),
		screenshot(shots, "scale-2-desk-devices"),
	)...)
	if !strings.Contains(banner, "Waage") {
		t.Errorf("desk banner %q does not name the scale", banner)
	}
	if !strings.Contains(row, "Waage") || !strings.Contains(row, "Gestört") {
		t.Errorf("desk's device row %q, want Waage, Gestört", row)
	}

	var state string
	admin := newTab(t, browser)
	runIn(t, admin, "central's fleet view",
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(cent.URL+"/admin/login"),
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("user"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), "admin"),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("services")),
		chromedp.Navigate(cent.URL+"/admin/devices"),
		chromedp.WaitVisible(chromedp.ID("devices")),
		into(&state, chromedp.Text(chromedp.CSS(`tr[data-device="scale"] [data-field="state"]`))),
		screenshot(shots, "scale-3-central-fleet"),
	)
	if state != "Gestört" {
		t.Errorf("central's fleet view shows the scale as %q, want Gestört", state)
	}

	// The demo's control page of the simulator, on a phone.
	mux := http.NewServeMux()
	mux.Handle(simScalePath, http.StripPrefix(strings.TrimSuffix(simScalePath, "/"), sim.Handler()))
	page := httptest.NewServer(mux)
	defer page.Close()
	var overflow bool
	runIn(t, newTab(t, browser), "the simulator's page at 320 px",
		chromedp.EmulateViewport(320, 700),
		chromedp.Navigate(page.URL+simScalePath),
		chromedp.WaitVisible(chromedp.ID("weight")),
		into(&overflow, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > document.documentElement.clientWidth`)),
		screenshot(shots, "scale-4-simulator-320"),
	)
	if overflow {
		t.Error("the simulator's page scrolls sideways at 320 px")
	}
}
