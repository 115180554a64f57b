package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/hardware/printer"
	"github.com/veedel/veedel/hardware/printersim"
)

// TestPrinterOutOfPaperInBrowser looks at the hardware issue's surfaces in
// chromium: a citizen presses a service while the kiosk's printer has no
// paper and still gets the ticket on screen with its QR code and the SMS
// option; the clerk's desk shows the fault before anyone complains; the
// site's device page and central's fleet view say what is wrong.
func TestPrinterOutOfPaperInBrowser(t *testing.T) {
	browser := newBrowser(t)
	shots := screenshotDir(t)
	dir := t.TempDir()
	sim := printersim.New(printersim.Options{})
	if err := sim.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	p, err := printer.Open(sim.Addr(), printer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cn, cent := startCentral(t, dir, freeAddr(t))
	if err := cn.store.CreateAdmin(context.Background(), "admin", central.RoleAdmin, "admin", time.Now()); err != nil {
		t.Fatal(err)
	}
	_, app := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"),
		CentralURL: cent.URL, PortalURL: cent.URL, Heartbeat: 200 * time.Millisecond,
		Printer: p, PrinterAddress: p.Address(), DeviceInterval: 200 * time.Millisecond,
		Users: []userSpec{{Name: "demo", Password: "demo", Role: "lead"}}})
	issueTickets(t, app.URL, 2, "ausweis")
	sim.SetPaper(printersim.PaperOut)

	var number, alert string
	var sms bool
	runIn(t, browser, "kiosk without paper",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(app.URL+"/kiosk"),
		chromedp.WaitVisible(chromedp.CSS(`button[data-service="meldung"]`)),
		takeTicket("meldung"),
		chromedp.WaitVisible(chromedp.ID(`ticket-number`)),
		into(&number, chromedp.Text(chromedp.ID("ticket-number"))),
		into(&alert, chromedp.Text(chromedp.ID("print-failed"))),
		into(&sms, chromedp.Evaluate[bool](`!!document.querySelector('#sms-phone') && !!document.querySelector('img[src$="qr.png"]')`)),
		screenshot(shots, "hw-1-kiosk-paper-out"),
	)
	if number != "B001" || !strings.Contains(alert, "Drucker") || !sms {
		t.Errorf("kiosk ticket %q, alert %q, QR and SMS form %v: want B001 on screen with the printer message, QR and SMS", number, alert, sms)
	}
	if n, d := sim.Printed(), sim.Discarded(); n != 0 || d != 0 {
		t.Errorf("the printer got %d tickets and discarded %d, want none: the driver asks before printing into no paper", n, d)
	}

	var banner string
	desk := newTab(t, browser)
	runIn(t, desk, "desk sees the fault", append(deskLogin(app.URL, "demo", "demo", "3"),
		chromedp.WaitVisible(chromedp.ID(`device-alert`)),
		into(&banner, chromedp.Text(chromedp.ID("device-alert"))),
		screenshot(shots, "hw-2-desk-banner"),
		chromedp.Navigate(app.URL+"/desk/devices"),
		chromedp.WaitVisible(chromedp.ID(`device-alert`)),
		screenshot(shots, "hw-3-desk-devices"),
	)...)
	if !strings.Contains(banner, "Papier") {
		t.Errorf("desk banner %q does not name the paper", banner)
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
		into(&state, chromedp.Text(chromedp.CSS(`tr[data-device="printer"] [data-field="state"]`))),
		screenshot(shots, "hw-4-central-fleet"),
	)
	if state != "Gestört" {
		t.Errorf("central's fleet view shows the printer as %q, want Gestört", state)
	}
}
