package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/hardware/seca"
	"github.com/veedel/veedel/hardware/secasim"
	"github.com/veedel/veedel/sync/changelog"
)

// between is the part of s after the first start, up to the next end.
func between(s, start, end string) string {
	_, after, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	before, _, _ := strings.Cut(after, end)
	return before
}

// TestScaleCablePulled runs a school-health site with a simulated seca
// scale on a pty (the real driver, SQLite, HTTP, sync and central): exam
// staff get the stable reading, never one of the unstable ones before it,
// others get 403; a cable pulled in the middle of a reading is a 503 for
// the assistant, a device fault committed in the site's change-log, shown
// on the desk's device list and, after sync, in central's fleet view; with
// the cable back the next reading works and the fault clears.
func TestScaleCablePulled(t *testing.T) {
	dir := t.TempDir()
	sim, err := secasim.Start(secasim.Options{Link: filepath.Join(dir, "ttyScale")})
	if err != nil {
		t.Skipf("no pty for the scale simulator: %v", err)
	}
	defer sim.Close()
	sim.SetPerson(secasim.Person{WeightKG: 21.35, HeightCM: 117.4, Unstable: 4})
	cfg := applianceConfig{}
	if err := configureScale(&cfg, "serial://"+sim.Path()); err != nil {
		t.Fatal(err)
	}
	defer cfg.Scale.Close()
	centralAddr := freeAddr(t)
	cent, centRun := startCentral(t, dir, centralAddr)
	defer centRun.stop()
	if err := cent.store.CreateAdmin(context.Background(), "tom", central.RoleTechnician, "Technik im Keller", time.Now()); err != nil {
		t.Fatal(err)
	}
	node, app := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"),
		CentralURL: "http://" + centralAddr, PortalURL: "http://" + centralAddr, Heartbeat: 200 * time.Millisecond,
		Scale: cfg.Scale, DeviceInterval: 200 * time.Millisecond,
		Users: []userSpec{{Name: "clerk", Password: "clerk", Role: sqlite.RoleClerk}, {Name: "lead", Password: "lead", Role: sqlite.RoleLead},
			{Name: "assistenz", Password: "assistenz", Role: sqlite.RoleClerk}, {Name: "aerztin", Password: "aerztin", Role: sqlite.RoleClerk}}})
	defer app.stop()
	setRole(t, filepath.Join(dir, "kalk.db"), "assistenz", sqlite.RoleAssistant)
	setRole(t, filepath.Join(dir, "kalk.db"), "aerztin", sqlite.RoleDoctor)

	scaleDevice := func() queue.Device {
		var d queue.Device
		node.Store.View(func(st *queue.State) {
			if p := st.Devices[queue.DeviceScale]; p != nil {
				d = *p
			}
		})
		return d
	}
	eventually(t, 5*time.Second, "the scale reports itself healthy", func() (bool, string) {
		d := scaleDevice()
		return d.Up && d.Healthy() && d.Kind == queue.DeviceScale, describe("%+v", d.DeviceReported)
	})
	if got, want := scaleDevice().Address, "serial://"+sim.Path()+"?baud=9600"; got != want {
		t.Errorf("scale's address = %q, want %q", got, want)
	}

	client := &http.Client{Timeout: 30 * time.Second}
	reading := func(user string, c *http.Client) (int, string) {
		t.Helper()
		path := "/api/v1/scale/reading"
		if user == "" && c.Jar != nil {
			path = "/desk/scale/reading" // with the desk's session
		}
		req, _ := http.NewRequest(http.MethodGet, app.URL+path, nil)
		if user != "" {
			req.SetBasicAuth(user, user)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := reading("", client); code != http.StatusUnauthorized {
		t.Errorf("reading without login: %d %s, want 401", code, body)
	}
	for _, u := range []string{"clerk", "lead"} {
		if code, body := reading(u, client); code != http.StatusForbidden {
			t.Errorf("reading as %s: %d %s, want 403", u, code, body)
		}
	}
	if n := sim.State().Readings; n != 0 {
		t.Errorf("the scale was read %d times for logins that may not see it", n)
	}

	// The assistant gets the stable reading; the four unstable ones
	// before it swing by up to 2 kg and are not it.
	start := time.Now()
	code, body := reading("assistenz", client)
	t.Logf("stable reading after 4 unstable answers: %v", time.Since(start).Round(time.Millisecond))
	var got struct {
		WeightKG *float64  `json:"weight_kg"`
		HeightCM *float64  `json:"height_cm"`
		At       time.Time `json:"at"`
	}
	if err := json.Unmarshal([]byte(body), &got); code != http.StatusOK || err != nil || got.WeightKG == nil || got.HeightCM == nil {
		t.Fatalf("reading as assistant: %d %s (%v)", code, body, err)
	}
	if *got.WeightKG != 21.35 || *got.HeightCM != 117.4 || time.Since(got.At) > time.Minute {
		t.Errorf("reading = %s, want 21.35 kg, 117.4 cm, now", body)
	}
	// The doctor, logged in at the desk, reads it with her session.
	jar, _ := cookiejar.New(nil)
	doctor := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	if res, err := doctor.PostForm(app.URL+"/desk/login", url.Values{"user": {"aerztin"}, "password": {"aerztin"}}); err != nil {
		t.Fatal(err)
	} else {
		res.Body.Close()
	}
	sim.SetPerson(secasim.Person{WeightKG: 19.9, HeightCM: 112.3, Unstable: 2})
	if code, body := reading("", doctor); code != http.StatusOK || !strings.Contains(body, `"weight_kg":19.9`) {
		t.Errorf("reading as the doctor (session): %d %s", code, body)
	}

	// The cable is pulled in the middle of the next reading.
	sim.SetPerson(secasim.Person{WeightKG: 22.6, HeightCM: 119, Unstable: 1})
	sim.Inject(secasim.PullCable, 0)
	start = time.Now()
	code, body = reading("assistenz", client)
	t.Logf("cable pulled mid-reading: 503 after %v", time.Since(start).Round(time.Millisecond))
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "Waage gestört") || !strings.Contains(body, "cut off") {
		t.Errorf("reading with the cable pulled: %d %s, want 503 naming the fault", code, body)
	}
	if strings.Contains(body, "22.6") || strings.Contains(body, "22,6") {
		t.Errorf("the failed reading's answer shows the weight: %s", body)
	}
	eventually(t, 5*time.Second, "the site's change-log has the scale's fault", func() (bool, string) {
		d := scaleDevice()
		return !d.Up && !d.Healthy() && d.Error != "", describe("%+v", d.DeviceReported)
	})
	t.Logf("fault committed in the site's change-log %v after the reading began", time.Since(start).Round(time.Millisecond))
	faults := 0
	entries, err := node.Store.EntriesAfter(context.Background(), 0, 10000, 1<<24)
	if err != nil {
		t.Fatal(err)
	}
	for i := range entries {
		if entries[i].Type != queue.TypeDeviceReported {
			continue
		}
		p, err := changelog.DecodePayload(&entries[i], queue.NewPayload)
		if err != nil {
			t.Fatal(err)
		}
		if r := p.(*queue.DeviceReported); r.Device == queue.DeviceScale && !r.Up && r.Error != "" {
			faults++
		}
	}
	if faults == 0 {
		t.Error("no device.reported with the scale down in the site's change-log")
	}

	// The desk's device list says it, in German, for any staff.
	jar, _ = cookiejar.New(nil)
	clerk := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	if res, err := clerk.PostForm(app.URL+"/desk/login", url.Values{"user": {"clerk"}, "password": {"clerk"}}); err != nil {
		t.Fatal(err)
	} else {
		res.Body.Close()
	}
	res, err := clerk.Get(app.URL + "/desk/devices")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	row := between(string(page), `<tr id="device-scale">`, `</tr>`)
	if !strings.Contains(row, "Waage") || !strings.Contains(row, `class="badge fault"`) {
		t.Errorf("desk's device list: scale row %q, want Waage with a fault", row)
	}

	// Central's fleet view shows it after sync.
	eventually(t, 10*time.Second, "central's state has the scale's fault", func() (bool, string) {
		var d queue.Device
		cent.Central.ViewSite("kalk", func(st *queue.State, _ central.SiteCursor) {
			if p := st.Devices[queue.DeviceScale]; p != nil {
				d = *p
			}
		})
		return d.Kind == queue.DeviceScale && !d.Healthy(), describe("%+v", d.DeviceReported)
	})
	t.Logf("fault in central's state %v after the reading began", time.Since(start).Round(time.Millisecond))
	admin := newAdminClient(t, "http://"+centralAddr)
	admin.login("tom", "Technik im Keller")
	_, fleet := admin.do(http.MethodGet, "/admin/devices", nil)
	row = between(fleet, `data-device="scale"`, `</tr>`)
	if !strings.HasPrefix(strings.TrimSpace(row), `class="state-fault"`) || !strings.Contains(row, "Waage") {
		t.Errorf("central's fleet view: scale row %q, want Waage, state fault", row)
	}

	// The cable back: the fault stays until a reading works, then clears
	// and is kept as the last error.
	if err := sim.Replug(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // polls with the scale answering again
	if d := scaleDevice(); d.Healthy() {
		t.Errorf("the fault cleared before a reading worked: %+v", d.DeviceReported)
	}
	if code, body := reading("assistenz", client); code != http.StatusOK || !strings.Contains(body, `"weight_kg":22.6`) {
		t.Errorf("reading after the cable is back: %d %s", code, body)
	}
	eventually(t, 5*time.Second, "the scale is healthy again", func() (bool, string) {
		d := scaleDevice()
		return d.Healthy() && d.LastError != "", describe("%+v", d)
	})
}

// setRole gives a login another role in the site's database directly.
// The users table accepts the exam roles only from the exam workflow's
// migration on (branch exam-site); until it is merged the CHECK is set
// aside for this one update (a no-op once the table allows the roles).
func setRole(t *testing.T, dbPath, user, role string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(5000)&_pragma=ignore_check_constraints(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if res, err := db.Exec(`UPDATE users SET role = ? WHERE name = ?`, role, user); err != nil {
		t.Fatal(err)
	} else if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("set role of %s: %d rows", user, n)
	}
}

// TestScaleFlag: a bad -scale address stops the appliance with exit 2 and
// one line.
func TestScaleFlag(t *testing.T) {
	for _, addr := range []string{"tcp://10.0.0.1:9100", "serial:///dev/ttyUSB0?baud=fast", "serial://dev"} {
		cfg := applianceConfig{}
		err := configureScale(&cfg, addr)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "-scale") || strings.Contains(err.Error(), "\n") || cfg.Scale != nil {
			t.Errorf("-scale %q: %v, want a usage error (exit 2) in one line", addr, err)
		}
	}
	cfg := applianceConfig{}
	if err := configureScale(&cfg, ""); err != nil || cfg.Scale != nil {
		t.Errorf("no -scale: %v, %v", err, cfg.Scale)
	}
	if err := configureScale(&cfg, "serial:///dev/ttyUSB0"); err != nil || cfg.Scale == nil || cfg.Scale.Address() != fmt.Sprintf("serial:///dev/ttyUSB0?baud=%d", seca.DefaultBaud) {
		t.Errorf("-scale serial:///dev/ttyUSB0: %v", err)
	}
}

// TestDemoScale: the demo's school-health site gets a simulated scale
// that reads through the real driver, and its control page.
func TestDemoScale(t *testing.T) {
	cfg := applianceConfig{Site: "gesundheitsamt", Logger: testLogger(t)}
	var sims []*secasim.Sim
	// A relative data folder, as make load's -data var/load.
	t.Chdir(t.TempDir())
	if err := os.Mkdir("var", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := demoScale(&cfg, "var", &sims); err != nil {
		t.Fatal(err)
	}
	if len(sims) == 0 {
		t.Skip("no pty for the scale simulator")
	}
	defer sims[0].Close()
	defer cfg.Scale.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := cfg.Scale.Read(ctx)
	if err != nil || r.WeightKG != 21.4 || r.HeightCM != 118.5 {
		t.Errorf("demo scale reading = %+v, %v", r, err)
	}
	h := cfg.Mount[simScalePath]
	if h == nil {
		t.Fatal("no control page mounted")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, simScalePath, nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Waagen-Simulator") {
		t.Errorf("control page: %d", rec.Code)
	}
}

// TestSOPESSLimitsFlag: a limits file that cannot be read or does not
// hold every domain in order stops the appliance before it starts, with
// exit 2 and one line naming the flag and the fault.
func TestSOPESSLimitsFlag(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "sopess.json")
	os.WriteFile(bad, []byte(`{"zahlen_mengen":{"normal":3,"borderline":5}}`), 0o644)
	for _, file := range []string{bad, filepath.Join(dir, "missing.json")} {
		var stdout, stderr strings.Builder
		code := run(context.Background(), []string{"appliance", "-site", "gesundheitsamt", "-data", dir, "-sopess-limits", file}, &stdout, &stderr)
		msg := strings.TrimSpace(stderr.String())
		if code != 2 || !strings.Contains(msg, "-sopess-limits") || strings.Contains(msg, "\n") {
			t.Errorf("-sopess-limits %s: exit %d, %q; want exit 2 and one line", filepath.Base(file), code, msg)
		}
	}
}
