package main

import (
	"context"
	"encoding/json"
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
)

// TestWrongClock runs an appliance whose clock is a day ahead, then a year
// behind (a dead RTC battery), against central on loopback: staff at the
// desk and the operator at central's fleet view are warned, every ticket
// belongs to the real day (numbering goes on A001, A002, A003), while the
// clock is wrong and central unreachable nothing is issued and staff are
// told why, and every entry reaches central, gap-free.
func TestWrongClock(t *testing.T) {
	if now := time.Now().In(mustLocation(t, "Europe/Berlin")); now.Hour() == 23 && now.Minute() >= 50 {
		t.Skip("too close to midnight in Cologne: the day would change during the test")
	}
	today := time.Now().In(mustLocation(t, "Europe/Berlin")).Format(time.DateOnly)
	dir := t.TempDir()
	centralAddr := freeAddr(t)
	cn, cent := startCentral(t, dir, centralAddr)
	if err := cn.store.CreateAdmin(context.Background(), "anna", central.RoleAdmin, "geheim123", time.Now()); err != nil {
		t.Fatal(err)
	}
	wall := &skewClock{}
	cfg := applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"), CentralURL: "http://" + centralAddr, PortalURL: "http://" + centralAddr,
		Heartbeat: 200 * time.Millisecond, Now: wall.Now, Users: []userSpec{{Name: "clerk", Password: "clerk-pass", Role: sqlite.RoleClerk}}}

	// A good clock: the first ticket.
	node, app := startAppliance(t, cfg)
	first := issueOne(t, app.URL, "meldung", http.StatusCreated)
	waitClock(t, app.URL, "ok")
	synced(t, cent.URL, node, 5*time.Second)
	app.stop()

	// A day ahead. Until central first answers the fast clock cannot be
	// told from a right one; after that the site goes by central's time.
	wall.Set(24 * time.Hour)
	node, app = startAppliance(t, cfg)
	waitClock(t, app.URL, "corrected")
	desk := deskPage(t, app.URL, "/desk")
	if !strings.Contains(desk, `id="clock-banner"`) || !strings.Contains(desk, "geht 24 Std. 0 Min. vor") {
		t.Errorf("desk does not warn of the fast clock:\n%s", desk)
	}
	if page := deskPage(t, app.URL, "/desk/devices"); !strings.Contains(page, `id="clock"`) || !strings.Contains(page, `data-state="corrected"`) ||
		!strings.Contains(page, "24 Std. 0 Min.") {
		t.Errorf("desk's devices page does not show the clock:\n%s", page)
	}
	second := issueOne(t, app.URL, "meldung", http.StatusCreated)
	clockReported(t, node, 24*time.Hour)
	synced(t, cent.URL, node, 5*time.Second)
	fleetShows(t, cent.URL, 24*time.Hour, "geht 24 Std. 0 Min. vor")
	app.stop()

	// A year behind, and central down: the clock is before the log's last
	// entry. Nothing is issued; kiosk, API and desk say why.
	cent.stop()
	wall.Set(-365 * 24 * time.Hour)
	node, app = startAppliance(t, cfg)
	seq := node.Store.LastSeq()
	waitClock(t, app.URL, "wrong")
	if code, page := get(t, app.URL+"/kiosk"); code != http.StatusOK || !strings.Contains(page, `id="kiosk-clock"`) || strings.Contains(page, `class="service-button"`) {
		t.Errorf("kiosk with a wrong clock: status %d, no notice or still buttons", code)
	}
	res, err := http.PostForm(app.URL+"/kiosk/tickets", url.Values{"service": {"meldung"}, "key": {"k-wrong"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(page), "Tickets können gerade nicht ausgegeben werden") {
		t.Errorf("kiosk press with a wrong clock: status %d", res.StatusCode)
	}
	if body := issueOne(t, app.URL, "meldung", http.StatusServiceUnavailable); !strings.Contains(body.raw, "Die Uhr dieses Geräts geht falsch") {
		t.Errorf("API with a wrong clock says: %s", body.raw)
	}
	desk = deskPage(t, app.URL, "/desk")
	if !strings.Contains(desk, `data-state="wrong"`) || !strings.Contains(desk, "Die Uhr dieses Geräts geht falsch") || !strings.Contains(desk, "Bitte Zeit prüfen") {
		t.Errorf("desk does not say the clock is wrong:\n%s", desk)
	}
	if got := node.Store.LastSeq(); got != seq {
		t.Errorf("entries written with the wrong clock: seq %d, want %d", got, seq)
	}

	// Central answers again: its time applies, tickets are issued for the
	// real day, and the operator sees the slow clock.
	cn, cent = startCentral(t, dir, centralAddr)
	defer cent.stop()
	waitClock(t, app.URL, "corrected")
	third := issueOne(t, app.URL, "meldung", http.StatusCreated)
	if desk := deskPage(t, app.URL, "/desk"); !strings.Contains(desk, "geht 365 Tage nach") {
		t.Errorf("desk does not warn of the slow clock:\n%s", desk)
	}
	clockReported(t, node, -365*24*time.Hour)
	synced(t, cent.URL, node, 10*time.Second)
	fleetShows(t, cent.URL, -365*24*time.Hour, "geht 365 Tage nach")

	// Every ticket belongs to today, at the site and at central, numbered
	// on: a day-ahead ticket would have been A001 of tomorrow.
	for i, tk := range []issued{first, second, third} {
		want := []string{"B001", "B002", "B003"}[i]
		var siteDay, centralDay, number string
		node.Store.View(func(st *queue.State) {
			if x := st.Tickets[tk.ID]; x != nil {
				siteDay, number = x.Day, x.Number
			}
		})
		cn.Central.ViewSite("kalk", func(st *queue.State, _ central.SiteCursor) {
			if x := st.Tickets[tk.ID]; x != nil {
				centralDay = x.Day
			}
		})
		if siteDay != today || centralDay != today || number != want {
			t.Errorf("ticket %d: %s of %s at the site, of %q at central; want %s of %s", i+1, number, siteDay, centralDay, want, today)
		}
	}
	// Nothing lost: the site's log is one verified chain, and central has
	// all of it, seq 1..last.
	all, err := node.Store.EntriesAfter(context.Background(), 0, 1_000_000, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	for i := range all {
		if all[i].Seq != uint64(i+1) || all[i].Verify() != nil || i > 0 && !all[i].Follows(all[i-1].Seq, all[i-1].Hash) {
			t.Fatalf("site log broken at entry %d (seq %d)", i, all[i].Seq)
		}
	}
	last := node.Store.LastSeq()
	app.stop()
	cent.stop()
	if got := storedAtCentral(t, filepath.Join(dir, "central.db"), "kalk"); got != last {
		t.Errorf("central stores %d entries, the site has %d", got, last)
	}
}

type issued struct {
	ID, Number string
	raw        string
}

// issueOne takes a ticket through the API and expects status.
func issueOne(t *testing.T, applianceURL, service string, status int) issued {
	t.Helper()
	resp, body := postJSON(t, applianceURL+"/api/v1/tickets", map[string]string{"service": service}, nil)
	if resp.StatusCode != status {
		t.Fatalf("issue a ticket: %s, want %d: %s", resp.Status, status, body)
	}
	var tk issued
	json.Unmarshal(body, &tk)
	tk.raw = string(body)
	return tk
}

// waitClock waits until the appliance's /healthz shows the clock's state.
func waitClock(t *testing.T, applianceURL, state string) {
	t.Helper()
	eventually(t, 10*time.Second, "the appliance's clock is "+state, func() (bool, string) {
		var h struct {
			Clock struct {
				State    string `json:"state"`
				OffsetMS int64  `json:"offset_ms"`
			} `json:"clock"`
		}
		_, err := getJSON(applianceURL+"/healthz", &h)
		return err == nil && h.Clock.State == state, describe("%+v %v", h.Clock, err)
	})
}

// clockReported waits until the site's log has the clock's report of an
// offset of about offset.
func clockReported(t *testing.T, node *applianceNode, offset time.Duration) {
	t.Helper()
	eventually(t, 10*time.Second, "the site reports its clock", func() (bool, string) {
		var d queue.Device
		node.Store.View(func(st *queue.State) {
			if c := st.Devices[queue.DeviceClock]; c != nil {
				d = *c
			}
		})
		off := time.Duration(d.ClockOffsetMS) * time.Millisecond
		return d.Kind == queue.DeviceClock && off-offset < 5*time.Second && offset-off < 5*time.Second, describe("%+v", d.DeviceReported)
	})
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// deskPage logs the clerk in and returns the desk's page at path.
func deskPage(t *testing.T, applianceURL, path string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	staff := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	res, err := staff.PostForm(applianceURL+"/desk/login", url.Values{"user": {"clerk"}, "password": {"clerk-pass"}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("desk after login: %s", res.Status)
	}
	if path == "/desk" {
		return string(b)
	}
	res2, err := staff.Get(applianceURL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res2.Body.Close()
	b, _ = io.ReadAll(res2.Body)
	if res2.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s", path, res2.Status)
	}
	return string(b)
}

// fleetShows waits until central's fleet view (JSON and page) shows the
// site's clock off by about offset, with words on the page.
func fleetShows(t *testing.T, centralURL string, offset time.Duration, words string) {
	t.Helper()
	admin := newAdminClient(t, centralURL)
	admin.login("anna", "geheim123")
	eventually(t, 10*time.Second, "central's fleet view shows the clock", func() (bool, string) {
		req, _ := http.NewRequest(http.MethodGet, centralURL+"/api/v1/devices", nil)
		req.SetBasicAuth("anna", "geheim123")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err.Error()
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var out struct {
			Sites []central.SiteDevices `json:"sites"`
		}
		json.Unmarshal(body, &out)
		for _, s := range out.Sites {
			if s.Site == "kalk" && s.Clock != nil {
				off := time.Duration(s.Clock.OffsetSeconds) * time.Second
				return s.Clock.Warn && !s.Clock.Stale && off-offset < 5*time.Second && offset-off < 5*time.Second, describe("%+v", *s.Clock)
			}
		}
		return false, string(body)
	})
	if _, page := admin.do(http.MethodGet, "/admin/devices", nil); !strings.Contains(page, `data-device="clock"`) || !strings.Contains(page, words) {
		t.Errorf("admin fleet page does not show the clock %q:\n%s", words, page)
	}
}

func mustLocation(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
