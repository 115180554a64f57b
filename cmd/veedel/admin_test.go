package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

// adminClient is an admin's browser: it keeps the session cookie and does
// not follow redirects.
type adminClient struct {
	t      *testing.T
	base   string
	client *http.Client
}

func newAdminClient(t *testing.T, base string) *adminClient {
	jar, _ := cookiejar.New(nil)
	return &adminClient{t: t, base: base, client: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (a *adminClient) do(method, path string, form url.Values) (*http.Response, string) {
	a.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, a.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

// login logs in through the login form, as a person does.
func (a *adminClient) login(user, password string) {
	a.t.Helper()
	if resp, body := a.do(http.MethodGet, "/admin/login", nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="password"`) {
		a.t.Fatalf("login form: %s", resp.Status)
	}
	resp, body := a.do(http.MethodPost, "/admin/login", url.Values{"user": {user}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin" {
		a.t.Fatalf("login: %s: %s", resp.Status, body)
	}
}

// mustSave posts an admin form that has to be accepted.
func (a *adminClient) mustSave(path string, form url.Values) {
	a.t.Helper()
	resp, body := a.do(http.MethodPost, path, form)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin?saved=") {
		a.t.Fatalf("POST %s: %s (Location %q): %s", path, resp.Status, resp.Header.Get("Location"), body)
	}
}

type kioskService struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	NameEN          string `json:"name_en"`
	Prefix          string `json:"prefix"`
	ExpectedMinutes int    `json:"expected_minutes"`
}

// kioskService returns a service as the appliance's kiosk API lists it.
func kioskServiceOf(applianceURL, id string) (kioskService, bool) {
	var services []kioskService
	if code, err := getJSON(applianceURL+"/api/v1/services", &services); err != nil || code != http.StatusOK {
		return kioskService{}, false
	}
	for _, s := range services {
		if s.ID == id {
			return s, true
		}
	}
	return kioskService{}, false
}

// centralService returns a service as central's read model of site has it.
func centralService(c *central.Central, site, id string) (queue.Service, bool) {
	var svc queue.Service
	found := false
	c.ViewSite(site, func(st *queue.State, _ central.SiteCursor) {
		if s := st.Services[id]; s != nil {
			svc, found = *s, true
		}
	})
	return svc, found
}

// TestAdminEditReachesSite is the download path end to end over real HTTP
// on loopback: an admin logs in through the form and changes a service;
// the running appliance applies it within 2 s (its kiosk API shows it) as
// its own event, which comes back up to central's read model. New
// services and opening hours travel the same way, and a restart of central
// keeps the outbound log.
func TestAdminEditReachesSite(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cn, cent := startCentral(t, dir, addr)
	if err := cn.store.CreateAdmin(context.Background(), "anna", central.RoleAdmin, "Domplatte am Rhein", time.Now()); err != nil {
		t.Fatal(err)
	}
	app, _ := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"),
		CentralURL: cent.URL, PortalURL: cent.URL, Heartbeat: time.Second})
	synced(t, cent.URL, app, 5*time.Second)

	admin := newAdminClient(t, cent.URL)
	admin.login("anna", "Domplatte am Rhein")

	// 1. Change a service of the city's catalogue.
	before := app.Store.LastSeq()
	sent := time.Now()
	admin.mustSave("/admin/services", url.Values{"id": {"ausweis"}, "name": {"Personalausweis und Reisepass"},
		"name_en": {"Identity card and passport"}, "prefix": {"A"}, "expected_minutes": {"25"}})
	eventually(t, 2*time.Second, "the appliance's kiosk shows the edit", func() (bool, string) {
		s, ok := kioskServiceOf(app.URL, "ausweis")
		return ok && s.ExpectedMinutes == 25 && s.NameEN == "Identity card and passport", describe("%+v", s)
	})
	t.Logf("edit reached the kiosk in %v", time.Since(sent).Round(time.Millisecond))
	if got, want := app.Store.LastSeq(), before+1; got != want {
		t.Errorf("site log last seq = %d, want %d: the edit is one site event", got, want)
	}
	eventually(t, 5*time.Second, "central's read model has the site's event", func() (bool, string) {
		s, ok := centralService(cn.Central, "kalk", "ausweis")
		return ok && s.ExpectedMinutes == 25, describe("%+v", s)
	})
	if _, body := admin.do(http.MethodGet, "/admin", nil); !strings.Contains(body, "1 von 1 aktuell") {
		t.Errorf("the catalogue page does not show the site as current")
	}

	// 2. A new service: the site's all-round counter serves it.
	admin.mustSave("/admin/services", url.Values{"new": {"1"}, "id": {"fuehrerschein"}, "name": {"Führerschein"},
		"name_en": {"Driving licence"}, "prefix": {"F"}, "expected_minutes": {"15"}})
	eventually(t, 2*time.Second, "the kiosk offers the new service", func() (bool, string) {
		s, ok := kioskServiceOf(app.URL, "fuehrerschein")
		return ok && s.Prefix == "F", describe("%+v", s)
	})
	if tk := issueTickets(t, app.URL, 1, "fuehrerschein"); len(tk) != 1 {
		t.Fatal("no ticket for the new service")
	}
	var serves bool
	app.Store.View(func(st *queue.State) { serves = st.Counters["4"].Serves("fuehrerschein") })
	if !serves {
		t.Errorf("counter 4 (serves everything) does not serve the new service")
	}

	// 3. Opening hours of the site, every day the same, so that the
	// portal's "today" line shows them whatever day the test runs.
	hours := url.Values{}
	for d := range 7 {
		hours.Set(describe("open-%d-0", d), "06:15")
		hours.Set(describe("close-%d-0", d), "21:45")
	}
	admin.mustSave("/admin/sites/kalk/hours", hours)
	eventually(t, 2*time.Second, "the appliance has the new hours", func() (bool, string) {
		var got []queue.OpeningHours
		app.Store.View(func(st *queue.State) { got = st.Site.Hours })
		return len(got) == 7 && got[0].Open == 6*60+15 && got[0].Close == 21*60+45, describe("%+v", got)
	})
	eventually(t, 5*time.Second, "the portal shows the new hours", func() (bool, string) {
		resp, err := http.Get(cent.URL + "/")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return bytes.Contains(body, []byte("Heute 06:15–21:45")), "portal without the hours"
	})

	// 4. Central restarts: the outbound log is kept, the downlink comes
	// back, and the next edit continues the log.
	heads, err := cn.store.OutboundHeads(context.Background())
	if err != nil || heads["kalk"] != 3 {
		t.Fatalf("outbound head of kalk = %d, %v; want 3", heads["kalk"], err)
	}
	cent.stop()
	cn, cent = startCentral(t, dir, addr)
	if heads, _ := cn.store.OutboundHeads(context.Background()); heads["kalk"] != 3 {
		t.Fatalf("outbound head after restart = %d, want 3", heads["kalk"])
	}
	// The admin's session survives the restart (it is in central's file).
	admin.mustSave("/admin/services", url.Values{"id": {"ausweis"}, "name": {"Personalausweis und Reisepass"},
		"name_en": {"Identity card and passport"}, "prefix": {"A"}, "expected_minutes": {"30"}})
	eventually(t, 8*time.Second, "the edit after the restart reaches the kiosk", func() (bool, string) {
		s, _ := kioskServiceOf(app.URL, "ausweis")
		return s.ExpectedMinutes == 30, describe("%+v", s)
	})
	rows, err := app.Store.InboxEntries(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("inbox = %+v, want 4 entries", rows)
	}
	for i, r := range rows {
		if r.Seq != uint64(i+1) || r.Outcome != "applied" {
			t.Errorf("inbox row %d = seq %d %s, want seq %d applied", i, r.Seq, r.Outcome, i+1)
		}
	}
	var health struct {
		Download struct {
			Cursor uint64 `json:"cursor"`
			Head   uint64 `json:"head"`
		} `json:"download"`
	}
	if _, err := getJSON(app.URL+"/healthz", &health); err != nil || health.Download.Cursor != 4 || health.Download.Head != 4 {
		t.Errorf("appliance health download = %+v, %v; want cursor and head 4", health.Download, err)
	}
}

func TestCentralAddUser(t *testing.T) {
	dir := t.TempDir()
	adduser := func(stdin string, args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		err := runCentralAddUser(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr)
		switch {
		case err == nil:
			return 0, stdout.String(), stderr.String()
		case errors.Is(err, errUsage):
			return 2, stdout.String(), stderr.String() + err.Error()
		}
		return 1, stdout.String(), stderr.String() + err.Error()
	}
	// While central runs: the new login works at once.
	_, cent := startCentral(t, dir, freeAddr(t))
	code, out, errOut := adduser("Domplatte am Rhein\n", "-name", "anna", "-role", "admin", "-data", dir)
	if code != 0 || !strings.Contains(out, "anna (admin)") {
		t.Fatalf("adduser: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	newAdminClient(t, cent.URL).login("anna", "Domplatte am Rhein")

	t.Run("PasswordFromEnvironment", func(t *testing.T) {
		t.Setenv("VEEDEL_PASSWORD", "Technik im Keller")
		if code, _, errOut := adduser("", "-name", "tom", "-role", "technician", "-data", dir); code != 0 {
			t.Fatalf("adduser: %s", errOut)
		}
		newAdminClient(t, cent.URL).login("tom", "Technik im Keller")
	})
	t.Run("ResetPassword", func(t *testing.T) {
		if code, _, errOut := adduser("ganz anders jetzt\n", "-name", "anna", "-data", dir); code != 0 {
			t.Fatalf("adduser: %s", errOut)
		}
		a := newAdminClient(t, cent.URL)
		if resp, _ := a.do(http.MethodPost, "/admin/login", url.Values{"user": {"anna"}, "password": {"Domplatte am Rhein"}}); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("old password after reset: %s, want 401", resp.Status)
		}
		a.login("anna", "ganz anders jetzt")
	})
	for _, tc := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"ErrNoName", "Domplatte am Rhein\n", []string{"-data", dir}, "-name is required"},
		{"ErrRole", "Domplatte am Rhein\n", []string{"-name", "x", "-role", "root", "-data", dir}, `unknown role "root"`},
		{"ErrShortPassword", "abc\n", []string{"-name", "x", "-data", dir}, "at least 12 characters"},
		{"ErrStillShortPassword", "geheim123\n", []string{"-name", "x", "-data", dir}, "at least 12 characters"},
		{"ErrCommonPassword", "Passwort1234\n", []string{"-name", "x", "-data", dir}, "too common"},
		{"ErrNoPassword", "", []string{"-name", "x", "-data", dir}, "at least 12 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := adduser(tc.stdin, tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("code %d, stderr %q; want 2 with %q", code, errOut, tc.want)
			}
			// The command line speaks English, as its help does: not
			// the German half of a two-language message.
			if strings.Contains(errOut, " / ") {
				t.Errorf("stderr %q is in two languages", errOut)
			}
		})
	}
	t.Run("Dispatch", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"central", "adduser", "-help"}, &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "Usage: veedel central adduser") {
			t.Errorf("veedel central adduser -help: code %d, stderr %q", code, stderr.String())
		}
	})
}

// TestAdminInBrowser logs in at /admin in Chromium, edits a service and
// looks at the sync page, taking screenshots of each for review.
func TestAdminInBrowser(t *testing.T) {
	browser := newBrowser(t)
	shots := screenshotDir(t)
	dir := t.TempDir()
	cn, cent := startCentral(t, dir, freeAddr(t))
	if err := cn.store.CreateAdmin(context.Background(), "admin", central.RoleAdmin, "admin", time.Now()); err != nil {
		t.Fatal(err)
	}
	var apps []*applianceNode
	for _, site := range []string{"kalk", "porz"} {
		app, _ := startAppliance(t, applianceConfig{Site: site, DB: filepath.Join(dir, site+".db"), CentralURL: cent.URL, PortalURL: cent.URL, Heartbeat: time.Second})
		apps = append(apps, app)
	}
	for _, app := range apps {
		synced(t, cent.URL, app, 5*time.Second)
	}
	issueTickets(t, apps[0].URL, 4, "meldung")
	// An unsigned batch, as an appliance of an old version would send.
	unsigned, _ := changelog.Marshal(changelog.Batch{Version: changelog.SchemaVersion, Site: "nippes"})
	if resp, err := http.Post(cent.URL+"/api/v1/sync/batches", "application/cbor", bytes.NewReader(unsigned)); err == nil {
		resp.Body.Close()
	}

	run := func(what string, actions ...step) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browser, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	var minutes string
	run("admin",
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(cent.URL+"/admin"),
		chromedp.WaitVisible(chromedp.ID("password")),
		screenshot(shots, "admin-1-login"),
		chromedp.SendKeys(chromedp.ID("user"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), "admin"),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("services")),
		screenshot(shots, "admin-2-catalog"),
		chromedp.Navigate(cent.URL+"/admin/services/ausweis"),
		chromedp.WaitVisible(chromedp.ID("expected_minutes")),
		chromedp.SetValue(chromedp.ID("expected_minutes"), "18"),
		screenshot(shots, "admin-3-service"),
		chromedp.Submit(chromedp.ID("expected_minutes")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
		into(&minutes, chromedp.Text(chromedp.CSS(`tr[data-service="ausweis"] [data-field="minutes"]`))),
		screenshot(shots, "admin-4-saved"),
	)
	if minutes != "18 Min." {
		t.Errorf("catalogue shows %q for ausweis, want 18 Min.", minutes)
	}
	for _, app := range apps {
		eventually(t, 2*time.Second, "the site has the edit", func() (bool, string) {
			s, _ := kioskServiceOf(app.URL, "ausweis")
			return s.ExpectedMinutes == 18, describe("%+v", s)
		})
	}
	run("hours and sync",
		chromedp.Navigate(cent.URL+"/admin/sites/kalk/hours"),
		chromedp.WaitVisible(chromedp.ID("hours-form")),
		chromedp.SetValue(chromedp.ID("open-2-0"), "16:00"),
		chromedp.SetValue(chromedp.ID("close-2-0"), "08:00"),
		chromedp.Submit(chromedp.ID("close-2-0")),
		chromedp.WaitVisible(chromedp.CSS(".error")),
		screenshot(shots, "admin-5-hours-error"),
		chromedp.Navigate(cent.URL+"/admin"),
		until(`document.querySelector('tr[data-service="ausweis"] .badge').textContent.includes("2 von 2")`),
		chromedp.Navigate(cent.URL+"/admin/sync"),
		chromedp.WaitVisible(chromedp.ID("sync")),
		screenshot(shots, "admin-6-sync"),
		chromedp.Navigate(cent.URL+"/admin/sync?lang=en"),
		chromedp.WaitVisible(chromedp.ID("sync")),
		screenshot(shots, "admin-7-sync-en"),
	)
	t.Logf("screenshots in %s", shots)
}

// The site lead's password from VEEDEL_ADMIN_PASSWORD follows the
// operator policy: a weak one stops the start with one line.
func TestApplianceAdminPasswordPolicy(t *testing.T) {
	t.Setenv("VEEDEL_ADMIN_PASSWORD", "admin")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"appliance", "-site", "kalk", "-data", t.TempDir(), "-listen", "127.0.0.1:0"}, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "VEEDEL_ADMIN_PASSWORD: das Passwort braucht mindestens 12 Zeichen") || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
		t.Errorf("weak VEEDEL_ADMIN_PASSWORD: code %d, stderr %q; want 2 and one line", code, stderr.String())
	}
}
