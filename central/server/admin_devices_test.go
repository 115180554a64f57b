package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
)

// The fleet view shows what the sites' change-logs last said about their
// devices, faults first, and marks a site that stopped reporting as stale.
func TestAdminDevices(t *testing.T) {
	e := newEnv(t)
	e.createAdmin("anna", central.RoleAdmin, "geheim123")
	e.createAdmin("tom", central.RoleTechnician, "technik42")
	l := opening(t, e.Clock)
	l.add(queue.TypeDeviceReported, "device/printer", &queue.DeviceReported{Device: "printer", Kind: queue.DevicePrinter, Address: "tcp://192.0.2.10:9100", Up: true})
	l.add(queue.TypeDeviceReported, "device/modem", &queue.DeviceReported{Device: "modem", Kind: queue.DeviceModem, Address: "serial:///dev/ttyUSB0", Up: true, SignalDBM: -71, Network: "registered"})
	e.mustPost(l.batch(1, 7))

	t.Run("ErrAnonymous", func(t *testing.T) {
		resp, _ := e.newAdmin().get("/admin/devices")
		wantRedirect(t, "GET /admin/devices", resp, "/admin/login")
		resp, _ = e.get("/api/v1/devices")
		wantStatus(t, "GET /api/v1/devices", resp, http.StatusUnauthorized)
	})

	t.Run("OK", func(t *testing.T) {
		a := e.newAdmin()
		a.login("tom", "technik42")
		resp, body := a.get("/admin/devices")
		wantStatus(t, "GET", resp, http.StatusOK)
		contains(t, "fleet page", body, `data-device="printer"`, "Ticketdrucker", "In Ordnung", "-71 dBm", "Alle Geräte in Ordnung", "Netz: eingebucht")
	})

	// The printer runs out of paper: the page says so, with the error.
	l.add(queue.TypeDeviceReported, "device/printer", &queue.DeviceReported{Device: "printer", Kind: queue.DevicePrinter, Address: "tcp://192.0.2.10:9100", Up: true, PaperOut: true, Error: "Papier leer: Rolle wechseln"})
	e.mustPost(l.batch(8, 8))
	t.Run("Fault", func(t *testing.T) {
		a := e.newAdmin()
		a.login("anna", "geheim123")
		_, body := a.get("/admin/devices?lang=en")
		contains(t, "fleet page", body, "1 device faulty", "out of paper", "Papier leer: Rolle wechseln")
		row := body[strings.Index(body, `data-device="printer"`):]
		row = row[:strings.Index(row, "</tr>")]
		contains(t, "printer row", row, `state-fault`, "Faulty")
	})

	t.Run("JSON", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/api/v1/devices", nil)
		req.SetBasicAuth("anna", "geheim123")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		wantStatus(t, "GET", resp, http.StatusOK)
		var got struct {
			Sites []central.SiteDevices `json:"sites"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			t.Fatal(err)
		}
		if len(got.Sites) != 1 || len(got.Sites[0].Devices) != 2 {
			t.Fatalf("sites = %+v, want one site with two devices", got.Sites)
		}
		p := got.Sites[0].Devices[0]
		if p.Device != "printer" || !p.PaperOut || p.Healthy() || got.Sites[0].Stale {
			t.Errorf("printer = %+v (stale %v), want paper out, fresh", p, got.Sites[0].Stale)
		}
	})

	// A site silent for longer than the stale window: its devices' state
	// is as old as its last contact, and the page says so.
	e.Clock.Add(central.StaleAfter + time.Minute)
	t.Run("Stale", func(t *testing.T) {
		a := e.newAdmin()
		a.login("anna", "geheim123")
		_, body := a.get("/admin/devices")
		contains(t, "fleet page", body, "Veraltet")
	})
}

// A site's clock report carries the site's English words for its log; the
// fleet view says it in the page's language, in every column.
func TestAdminDevicesClockInPageLanguage(t *testing.T) {
	e := newEnv(t)
	e.createAdmin("anna", central.RoleAdmin, "geheim123")
	l := opening(t, e.Clock)
	l.add(queue.TypeDeviceReported, "device/clock", &queue.DeviceReported{Device: queue.DeviceClock, Kind: queue.DeviceClock, Up: true,
		ClockOffsetMS: (24 * time.Hour).Milliseconds(),
		Error:         "clock is 24h0m0s ahead of central's: the site goes by central's time; set the device's clock (time server, RTC battery)"})
	e.mustPost(l.batch(1, 6))
	a := e.newAdmin()
	a.login("anna", "geheim123")
	_, body := a.get("/admin/devices")
	row := body[strings.Index(body, `data-device="clock"`):]
	row = row[:strings.Index(row, "</tr>")]
	contains(t, "clock row", row, "geht 24 Std. 0 Min. vor", "Uhr falsch: am Gerät")
	if strings.Contains(row, "ahead of central") {
		t.Errorf("the German fleet view shows the site's English words:\n%s", row)
	}
	_, body = a.get("/admin/devices?lang=en")
	contains(t, "English fleet page", body, "24 h 0 min fast", "clock off: have it set")
}

// The fleet view's software section: each box's release, its update state
// with the reason of a rollback, uptime, free disk and clock, and the
// rollout; the JSON carries the same.
func TestAdminDevicesUpdates(t *testing.T) {
	e := newEnv(t)
	e.createAdmin("anna", central.RoleAdmin, "geheim123")
	ctx := t.Context()
	if _, _, err := e.Central.ReportUpdate(ctx, central.UpdateReport{Site: "kalk", Version: "1.0", Slot: "a", State: "rolled-back", Target: "2.0",
		Reason: "release 2.0 did not prove itself within 10m0s: /healthz: connection refused", BootedAt: e.Clock.Now().Add(-50 * time.Hour), DiskFree: 300 << 20, ClockOffsetMS: -1500}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Central.ReportUpdate(ctx, central.UpdateReport{Site: "porz", Version: "1.0", State: "downloading", Target: "2.0", Progress: 42}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Central.SetRollout(ctx, central.RolloutPlan{Version: "2.0", Pilots: []string{"kalk"}}); err != nil {
		t.Fatal(err)
	}
	a := e.newAdmin()
	a.login("anna", "geheim123")
	resp, body := a.get("/admin/devices")
	wantStatus(t, "GET", resp, http.StatusOK)
	contains(t, "fleet page", body, "Verteilung: Version 2.0", "an die Pilotstandorte", "Lädt herunter", "(42 %)", "300 MiB", "50 h")
	row := body[strings.Index(body, `data-site="kalk" class="state-fault"`):]
	row = row[:strings.Index(row, "</tr>")]
	contains(t, "kalk's row", row, "Zurückgerollt", "→ 2.0", "/healthz: connection refused", "(Slot a)")

	req, _ := http.NewRequest(http.MethodGet, e.URL+"/api/v1/devices", nil)
	req.SetBasicAuth("anna", "geheim123")
	jr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer jr.Body.Close()
	var got struct {
		Rollout struct {
			Plan    central.RolloutPlan    `json:"plan"`
			Reports []central.UpdateReport `json:"reports"`
		} `json:"rollout"`
	}
	if err := json.NewDecoder(jr.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Rollout.Plan.Version != "2.0" || len(got.Rollout.Reports) != 2 || got.Rollout.Reports[0].State != "rolled-back" || got.Rollout.Reports[0].ClockOffsetMS != -1500 {
		t.Errorf("JSON rollout = %+v", got.Rollout)
	}
}
