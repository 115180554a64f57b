package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/hardware/modem"
	"github.com/veedel/veedel/hardware/modemsim"
	"github.com/veedel/veedel/hardware/printer"
	"github.com/veedel/veedel/hardware/printersim"
)

// TestPrinterFaults runs a site with a simulated ESC/POS printer over TCP
// (the real driver, SQLite, HTTP and central): a ticket cut short by a
// pulled cable and a printer out of paper still give the citizen a ticket
// on screen, staff see the fault on the desk, central gets the device's
// report, and nothing prints twice.
func TestPrinterFaults(t *testing.T) {
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
	centralAddr := freeAddr(t)
	cent, centRun := startCentral(t, dir, centralAddr)
	defer centRun.stop()
	node, app := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"),
		CentralURL: "http://" + centralAddr, PortalURL: "http://" + centralAddr, Heartbeat: 200 * time.Millisecond,
		Printer: p, PrinterAddress: p.Address(), DeviceInterval: 200 * time.Millisecond,
		Users: []userSpec{{Name: "clerk", Password: "clerk", Role: sqlite.RoleClerk}}})
	defer app.stop()

	client := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, c *http.Client) (int, string) {
		t.Helper()
		res, err := c.Get(app.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	take := func(key string) string {
		t.Helper()
		res, err := client.PostForm(app.URL+"/kiosk/tickets", url.Values{"service": {"ausweis"}, "key": {key}, "confirm": {"1"}}) // confirmed: the test runs at any hour (issue 14)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("kiosk press %s: status %d", key, res.StatusCode)
		}
		return res.Header.Get("Location")
	}
	ticketPage := func(loc string) string {
		t.Helper()
		code, page := get(loc, client)
		if code != http.StatusOK || !strings.Contains(page, `class="qr"`) {
			t.Fatalf("ticket page %s: status %d, or no QR code", loc, code)
		}
		return page
	}

	// A good ticket, and a double tap: printed once.
	loc := take("k1")
	if take("k1") != loc {
		t.Fatal("double tap issued a second ticket")
	}
	if page := ticketPage(loc); !strings.Contains(page, `id="print-ok"`) {
		t.Error("ticket page does not say the ticket printed")
	}
	if got := sim.Printed(); got != 1 {
		t.Errorf("printer got %d jobs after a double tap, want 1", got)
	}

	// Unplugged mid-ticket: the citizen gets the ticket on screen.
	sim.CutAfter(60)
	loc2 := take("k2")
	if page := ticketPage(loc2); !strings.Contains(page, `id="print-failed"`) || !strings.Contains(page, `id="sms-phone"`) {
		t.Error("ticket page after a cut-off print: no printer message or no SMS sign-up")
	}
	take("k2") // the citizen taps again: not printed again
	if got := sim.Printed(); got != 2 {
		t.Errorf("printer got %d jobs, want 2 (one cut short, never retried)", got)
	} else if ts := sim.Tickets(); !ts[1].Partial {
		t.Errorf("second job not cut short: %+v", ts[1].Text)
	}

	// Out of paper: the API issues the ticket and says it did not print.
	sim.SetPaper(printersim.PaperOut)
	res, body := postJSON(t, app.URL+"/api/v1/tickets", map[string]any{"service": "ausweis", "print": true}, map[string]string{"Idempotency-Key": "api-1"})
	if res.StatusCode != http.StatusCreated || !strings.Contains(string(body), `"printed":false`) || !strings.Contains(string(body), "paper") {
		t.Errorf("API issue with paper out: %d %s", res.StatusCode, body)
	}
	if got := sim.Printed(); got != 2 {
		t.Errorf("printer got %d jobs with paper out, want still 2", got)
	}
	var waiting int
	node.Store.View(func(st *queue.State) { waiting = st.WaitingCount() })
	if waiting != 3 {
		t.Errorf("%d waiting, want 3 tickets issued", waiting)
	}

	// Staff see it: the device's state, the desk's banner.
	eventually(t, 5*time.Second, "the site's state reports paper out", func() (bool, string) {
		var d queue.Device
		node.Store.View(func(st *queue.State) {
			if p := st.Devices["printer"]; p != nil {
				d = *p
			}
		})
		return d.PaperOut, describe("%+v", d.DeviceReported)
	})
	jar, _ := cookiejar.New(nil)
	staff := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	if res, err := staff.PostForm(app.URL+"/desk/login", url.Values{"user": {"clerk"}, "password": {"clerk"}}); err != nil {
		t.Fatal(err)
	} else {
		res.Body.Close()
	}
	if _, desk := get("/desk", staff); !strings.Contains(desk, `id="device-alert"`) || !strings.Contains(desk, "Papier leer") {
		t.Error("desk shows no printer alert")
	}
	// Central has the report after sync.
	eventually(t, 10*time.Second, "central's state has the printer's report", func() (bool, string) {
		var d queue.Device
		cent.Central.ViewSite("kalk", func(st *queue.State, _ central.SiteCursor) {
			if p := st.Devices["printer"]; p != nil {
				d = *p
			}
		})
		return d.PaperOut, describe("%+v", d.DeviceReported)
	})

	// Paper back: the next ticket prints, the banner goes.
	sim.SetPaper(printersim.PaperOK)
	loc4 := take("k4")
	if page := ticketPage(loc4); !strings.Contains(page, `id="print-ok"`) {
		t.Error("ticket after the paper came back did not print")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := sim.WaitTickets(ctx, 3); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the desk's alert clears", func() (bool, string) {
		_, desk := get("/desk", staff)
		return !strings.Contains(desk, `id="device-alert"`), ""
	})
}

// TestModemUnplugged runs a site whose SMS go out through a simulated GSM
// modem on a pty (the real AT driver): while the modem is unplugged the
// citizen's SMS waits in the outbox and staff see the modem down; after
// the modem is plugged in again each SMS arrives exactly once.
func TestModemUnplugged(t *testing.T) {
	dir := t.TempDir()
	sim, err := modemsim.Start(modemsim.Options{Link: filepath.Join(dir, "ttyGSM")})
	if err != nil {
		t.Skipf("no pty for the modem simulator: %v", err)
	}
	defer sim.Close()
	addr := "serial://" + sim.Path()
	m, err := modem.Open(addr, modem.Options{CommandTimeout: time.Second, Backoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	node, app := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"),
		SMSSender: m, Modem: modemHealth(m), ModemAddress: addr, SMSBackoff: 300 * time.Millisecond,
		DeviceInterval: 200 * time.Millisecond,
		Users:          []userSpec{{Name: "demo", Password: "demo", Role: sqlite.RoleLead}}})
	defer app.stop()
	modemDevice := func() queue.Device {
		var d queue.Device
		node.Store.View(func(st *queue.State) {
			if p := st.Devices["modem"]; p != nil {
				d = *p
			}
		})
		return d
	}
	eventually(t, 5*time.Second, "the modem reports itself healthy", func() (bool, string) {
		d := modemDevice()
		return d.Up && d.Healthy(), describe("%+v", d.DeviceReported)
	})

	sim.Unplug()
	eventually(t, 5*time.Second, "the site's state has the modem down", func() (bool, string) {
		d := modemDevice()
		return d.Kind == queue.DeviceModem && !d.Up, describe("%+v", d.DeviceReported)
	})
	tokens := issueTickets(t, app.URL, 1, "ausweis")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.PostForm(app.URL+"/kiosk/tickets/"+tokens[0]+"/sms", url.Values{"phone": {"0151 23456789"}, "consent": {"yes"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("SMS sign-up: status %d", res.StatusCode)
	}
	var counter string
	node.Store.View(func(st *queue.State) {
		for _, id := range st.CounterOrder {
			if st.Counters[id].Serves("ausweis") {
				counter = id
				break
			}
		}
	})
	callNext(t, app.URL, counter)
	time.Sleep(500 * time.Millisecond) // the outbox tries, and fails
	if n := len(sim.Messages()); n != 0 {
		t.Fatalf("%d SMS arrived through an unplugged modem", n)
	}

	if err := sim.Replug(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the call's SMS arrives", func() (bool, string) {
		for _, msg := range sim.Messages() {
			if strings.Contains(msg.Text, "bitte zu") {
				return true, ""
			}
		}
		return false, describe("%d messages", len(sim.Messages()))
	})
	time.Sleep(time.Second) // anything sent twice would arrive meanwhile
	seen := map[string]int{}
	for _, msg := range sim.Messages() {
		if msg.To != "+4915123456789" {
			t.Errorf("SMS to %q", msg.To)
		}
		seen[msg.Text]++
	}
	for text, n := range seen {
		if n != 1 {
			t.Errorf("SMS %q arrived %d times, want once", text, n)
		}
	}
	eventually(t, 5*time.Second, "the modem reports itself healthy again", func() (bool, string) {
		d := modemDevice()
		return d.Up && d.Healthy(), describe("%+v", d.DeviceReported)
	})
}
