package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

// admin is a browser-like client of the admin pages: it keeps cookies and
// does not follow redirects, so that tests see them.
type admin struct {
	e      *env
	client *http.Client
}

func (e *env) newAdmin() *admin {
	jar, _ := cookiejar.New(nil)
	return &admin{e: e, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// createAdmin adds an admin user to central's store.
func (e *env) createAdmin(name, role, password string) {
	e.t.Helper()
	if err := e.Store.CreateAdmin(context.Background(), name, role, password, start); err != nil {
		e.t.Fatal(err)
	}
}

func (a *admin) do(method, path string, form url.Values, header ...string) (*http.Response, string) {
	a.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, a.e.URL+path, body)
	if err != nil {
		a.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := a.client.Do(req)
	if err != nil {
		a.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		a.e.t.Fatal(err)
	}
	return resp, string(data)
}

func (a *admin) get(path string) (*http.Response, string) { return a.do(http.MethodGet, path, nil) }

func (a *admin) post(path string, form url.Values) (*http.Response, string) {
	return a.do(http.MethodPost, path, form)
}

// login logs in through the form and fails the test unless it works.
func (a *admin) login(user, password string) {
	a.e.t.Helper()
	resp, body := a.post("/admin/login", url.Values{"user": {user}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin" {
		a.e.t.Fatalf("login: %s, Location %q: %s", resp.Status, resp.Header.Get("Location"), body)
	}
}

func wantStatus(t *testing.T, what string, resp *http.Response, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s: status = %d, want %d", what, resp.StatusCode, want)
	}
}

func wantRedirect(t *testing.T, what string, resp *http.Response, location string) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != location {
		t.Fatalf("%s: %s to %q, want 303 to %q", what, resp.Status, resp.Header.Get("Location"), location)
	}
}

// outboundHead is the head of a site's outbound log.
func (e *env) outboundHead(site string) uint64 {
	e.t.Helper()
	heads, err := e.Store.OutboundHeads(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return heads[site]
}

func TestAdminLogin(t *testing.T) {
	e := newEnv(t)
	e.createAdmin("anna", central.RoleAdmin, "geheim123")
	e.createAdmin("tom", central.RoleTechnician, "technik42")

	t.Run("AnonymousGoesToLogin", func(t *testing.T) {
		a := e.newAdmin()
		for _, path := range []string{"/admin", "/admin/", "/admin/sync", "/admin/services/new", "/admin/services/ausweis", "/admin/sites/kz-innenstadt/hours"} {
			resp, _ := a.get(path)
			wantRedirect(t, "GET "+path, resp, "/admin/login")
		}
		resp, body := a.get("/admin/login")
		wantStatus(t, "login form", resp, http.StatusOK)
		contains(t, "login form", body, `action="/admin/login"`, "Anmeldung Verwaltung")
	})
	t.Run("AnonymousPostRefused", func(t *testing.T) {
		resp, body := e.newAdmin().post("/admin/services", url.Values{"new": {"1"}, "id": {"neu"}, "name": {"Neu"}, "prefix": {"N"}, "expected_minutes": {"5"}})
		wantStatus(t, "anonymous POST", resp, http.StatusUnauthorized)
		contains(t, "anonymous POST", body, "Sitzung abgelaufen")
		if refs, _ := e.Store.CityReference(context.Background(), queue.TypeServiceDefined); len(refs) != 0 {
			t.Errorf("anonymous POST defined %d services", len(refs))
		}
	})
	for _, tc := range []struct{ name, user, password string }{
		{"ErrWrongPassword", "anna", "geheim124"},
		{"ErrUnknownUser", "niemand", "geheim123"},
		{"ErrEmpty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.newAdmin()
			resp, body := a.post("/admin/login", url.Values{"user": {tc.user}, "password": {tc.password}})
			wantStatus(t, "login", resp, http.StatusUnauthorized)
			contains(t, "login page", body, "Benutzername oder Passwort falsch")
			if c := resp.Header.Get("Set-Cookie"); strings.Contains(c, "veedel_admin") {
				t.Errorf("refused login sets a cookie: %s", c)
			}
			resp, _ = a.get("/admin")
			wantRedirect(t, "GET /admin after a refused login", resp, "/admin/login")
		})
	}
	t.Run("OK", func(t *testing.T) {
		a := e.newAdmin()
		resp, _ := a.post("/admin/login", url.Values{"user": {"anna"}, "password": {"geheim123"}})
		wantRedirect(t, "login", resp, "/admin")
		cookie := resp.Header.Get("Set-Cookie")
		for _, want := range []string{"veedel_admin=", "Path=/admin", "HttpOnly", "SameSite=Strict"} {
			if !strings.Contains(cookie, want) {
				t.Errorf("cookie %q lacks %q", cookie, want)
			}
		}
		resp, body := a.get("/admin")
		wantStatus(t, "GET /admin", resp, http.StatusOK)
		contains(t, "catalogue page", body, "Katalog und Öffnungszeiten", `id="admin-name">anna<`, `href="/admin/services/new"`)
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("Cache-Control = %q, want no-store", got)
		}
		resp, _ = a.get("/admin/login")
		wantRedirect(t, "login form while logged in", resp, "/admin")

		// Logging out ends the session on the server, not only the cookie.
		stolen := a.client.Jar.Cookies(mustURL(t, e.URL+"/admin"))
		resp, _ = a.post("/admin/logout", url.Values{})
		wantRedirect(t, "logout", resp, "/admin/login")
		replay := e.newAdmin()
		replay.client.Jar.SetCookies(mustURL(t, e.URL+"/admin"), stolen)
		resp, _ = replay.get("/admin")
		wantRedirect(t, "GET /admin with the old cookie", resp, "/admin/login")
	})
	t.Run("ErrCrossOrigin", func(t *testing.T) {
		a := e.newAdmin()
		resp, _ := a.do(http.MethodPost, "/admin/login", url.Values{"user": {"anna"}, "password": {"geheim123"}}, "Sec-Fetch-Site", "cross-site")
		wantStatus(t, "cross-site login", resp, http.StatusForbidden)
		a.login("anna", "geheim123")
		resp, _ = a.do(http.MethodPost, "/admin/services", url.Values{"id": {"ausweis"}, "name": {"x"}, "prefix": {"A"}, "expected_minutes": {"5"}}, "Origin", "https://evil.example")
		wantStatus(t, "cross-origin edit", resp, http.StatusForbidden)
	})
	t.Run("TechnicianReadsOnly", func(t *testing.T) {
		a := e.newAdmin()
		a.login("tom", "technik42")
		resp, body := a.get("/admin")
		wantStatus(t, "GET /admin", resp, http.StatusOK)
		if strings.Contains(body, `href="/admin/services/new"`) {
			t.Errorf("the technician's page offers to add a service")
		}
		resp, _ = a.get("/admin/sync")
		wantStatus(t, "GET /admin/sync", resp, http.StatusOK)
		resp, _ = a.get("/admin/services/new")
		wantStatus(t, "GET new service form", resp, http.StatusForbidden)
		resp, _ = a.post("/admin/services", url.Values{"new": {"1"}, "id": {"neu"}, "name": {"Neu"}, "prefix": {"N"}, "expected_minutes": {"5"}})
		wantStatus(t, "POST service", resp, http.StatusForbidden)
	})
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestAdminEditService(t *testing.T) {
	e := newEnv(t)
	e.createAdmin("anna", central.RoleAdmin, "geheim123")
	e.mustPost(opening(t, e.Clock).batch(1, 5)) // the site defines ausweis (A, 10 min)
	a := e.newAdmin()
	a.login("anna", "geheim123")

	resp, body := a.get("/admin")
	wantStatus(t, "GET /admin", resp, http.StatusOK)
	contains(t, "catalogue", body, `data-service="ausweis"`, "Personalausweis", "10 Min.", siteName)

	resp, body = a.get("/admin/services/ausweis")
	wantStatus(t, "edit form", resp, http.StatusOK)
	contains(t, "edit form", body, `name="id" value="ausweis"`, "readonly", `value="10"`)

	valid := url.Values{"id": {"ausweis"}, "name": {"Personalausweis"}, "name_en": {"Identity card"}, "prefix": {"A"}, "expected_minutes": {"14"}}
	with := func(key, value string) url.Values {
		v := url.Values{}
		for k, vs := range valid {
			v[k] = append([]string(nil), vs...)
		}
		v.Set(key, value)
		return v
	}
	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"ErrPrefixLower", with("prefix", "a"), "genau ein Großbuchstabe A–Z"},
		{"ErrPrefixTwo", with("prefix", "AB"), "genau ein Großbuchstabe A–Z"},
		{"ErrMinutesZero", with("expected_minutes", "0"), "1 bis 240 Minuten"},
		{"ErrMinutesTooMany", with("expected_minutes", "241"), "1 bis 240 Minuten"},
		{"ErrMinutesText", with("expected_minutes", "zehn"), "keine ganze Zahl"},
		{"ErrNameEmpty", with("name", ""), "deutsche Name fehlt"},
		{"ErrNewWithTakenPrefix", url.Values{"new": {"1"}, "id": {"reisepass"}, "name": {"Reisepass"}, "prefix": {"A"}, "expected_minutes": {"5"}}, "Kennbuchstabe A ist schon an „Personalausweis“ vergeben"},
		{"ErrNewWithExistingID", url.Values{"new": {"1"}, "id": {"ausweis"}, "name": {"Ausweis"}, "prefix": {"Z"}, "expected_minutes": {"5"}}, "gibt es schon"},
		{"ErrBadID", url.Values{"new": {"1"}, "id": {"Reise Pass"}, "name": {"Reisepass"}, "prefix": {"R"}, "expected_minutes": {"5"}}, "Kennung"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := a.post("/admin/services", tc.form)
			wantStatus(t, "POST", resp, http.StatusBadRequest)
			contains(t, "400 page", body, `class="error" role="alert"`, tc.want, `id="service-form"`)
			// The page keeps what was typed.
			contains(t, "400 page", body, `value="`+tc.form.Get("name")+`"`)
			if head := e.outboundHead(siteID); head != 0 {
				t.Errorf("bad input sent %d outbound entries", head)
			}
		})
	}

	t.Run("OK", func(t *testing.T) {
		resp, _ := a.post("/admin/services", valid)
		wantRedirect(t, "POST", resp, "/admin?saved=service")
		entries, head, err := e.Store.Outbound(context.Background(), siteID, 0, 10, 1<<20)
		if err != nil || head != 1 || len(entries) != 1 {
			t.Fatalf("outbound = %d entries, head %d, %v; want 1", len(entries), head, err)
		}
		var svc queue.ServiceDefined
		if err := changelog.Unmarshal(entries[0].Payload, &svc); err != nil {
			t.Fatal(err)
		}
		if want := (queue.ServiceDefined{ID: "ausweis", Name: "Personalausweis", NameEN: "Identity card", Prefix: "A", ExpectedMinutes: 14}); svc != want {
			t.Errorf("sent %+v, want %+v", svc, want)
		}
		resp, body := a.get("/admin?saved=service")
		wantStatus(t, "GET /admin", resp, http.StatusOK)
		contains(t, "catalogue after save", body, "Gespeichert.", "14 Min.", "0 von 1 aktuell")
	})
	t.Run("OKNewServiceEnglishDefaultsToGerman", func(t *testing.T) {
		resp, _ := a.post("/admin/services", url.Values{"new": {"1"}, "id": {"fuehrerschein"}, "name": {"Führerschein"}, "prefix": {"F"}, "expected_minutes": {"20"}})
		wantRedirect(t, "POST", resp, "/admin?saved=service")
		entries, _, _ := e.Store.Outbound(context.Background(), siteID, 1, 10, 1<<20)
		var svc queue.ServiceDefined
		if len(entries) != 1 || changelog.Unmarshal(entries[0].Payload, &svc) != nil || svc.NameEN != "Führerschein" {
			t.Errorf("sent %+v, want the new service with the German name in English too", svc)
		}
	})
	t.Run("ErrUnknownService", func(t *testing.T) {
		resp, _ := a.get("/admin/services/gibtsnicht")
		wantStatus(t, "GET unknown service", resp, http.StatusNotFound)
	})
}

func TestAdminOpeningHours(t *testing.T) {
	e := newEnv(t)
	e.createAdmin("anna", central.RoleAdmin, "geheim123")
	e.mustPost(opening(t, e.Clock).batch(1, 5))
	a := e.newAdmin()
	a.login("anna", "geheim123")
	path := "/admin/sites/" + siteID + "/hours"

	_, body := a.get("/admin")
	contains(t, "catalogue", body, `data-site="`+siteID+`"`, "07:30–18:00", `href="`+path+`"`)
	resp, body := a.get(path)
	wantStatus(t, "hours form", resp, http.StatusOK)
	contains(t, "hours form", body, `name="open-1-0" value="07:30"`, `name="close-5-0" value="18:00"`, `name="open-6-0" value=""`)

	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"ErrNotHHMM", url.Values{"open-1-0": {"7:30"}, "close-1-0": {"15:00"}}, "„7:30“ ist keine Uhrzeit im Format HH:MM"},
		{"ErrHour25", url.Values{"open-1-0": {"07:30"}, "close-1-0": {"25:00"}}, "keine Uhrzeit"},
		{"ErrOpenAfterClose", url.Values{"open-2-0": {"16:00"}, "close-2-0": {"08:00"}}, "Dienstag: Öffnung 16:00 muss vor Schließung 08:00 liegen"},
		{"ErrHalf", url.Values{"open-3-0": {"08:00"}}, "Mittwoch: bitte Öffnung und Schließung angeben"},
		{"ErrOverlap", url.Values{"open-4-0": {"08:00"}, "close-4-0": {"12:00"}, "open-4-1": {"11:00"}, "close-4-1": {"14:00"}}, "Zeiträume überschneiden sich"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := a.post(path, tc.form)
			wantStatus(t, "POST", resp, http.StatusBadRequest)
			contains(t, "400 page", body, `class="error" role="alert"`, tc.want, `id="hours-form"`)
			if head := e.outboundHead(siteID); head != 0 {
				t.Errorf("bad input sent %d outbound entries", head)
			}
		})
	}
	t.Run("OK", func(t *testing.T) {
		resp, _ := a.post(path, url.Values{"open-1-0": {"07:30"}, "close-1-0": {"12:00"}, "open-1-1": {"13:00"}, "close-1-1": {"15:00"},
			"open-5-0": {"08:00"}, "close-5-0": {"24:00"}})
		wantRedirect(t, "POST", resp, "/admin?saved=hours")
		entries, _, _ := e.Store.Outbound(context.Background(), siteID, 0, 10, 1<<20)
		if len(entries) != 1 || entries[0].Type != queue.TypeSiteDescribed {
			t.Fatalf("outbound = %+v, want one site description", entries)
		}
		var d queue.SiteDescribed
		if err := changelog.Unmarshal(entries[0].Payload, &d); err != nil {
			t.Fatal(err)
		}
		want := []queue.OpeningHours{{Weekday: time.Monday, Open: 450, Close: 720}, {Weekday: time.Monday, Open: 780, Close: 900}, {Weekday: time.Friday, Open: 480, Close: 1440}}
		if d.ID != siteID || d.Name != siteName || d.TimeZone != "Europe/Berlin" || len(d.Hours) != 3 || d.Hours[0] != want[0] || d.Hours[1] != want[1] || d.Hours[2] != want[2] {
			t.Errorf("sent %+v, want %s with hours %+v", d, siteName, want)
		}
	})
	t.Run("ErrUnknownSite", func(t *testing.T) {
		resp, _ := a.get("/admin/sites/atlantis/hours")
		wantStatus(t, "GET", resp, http.StatusNotFound)
		resp, _ = a.post("/admin/sites/atlantis/hours", url.Values{})
		wantStatus(t, "POST", resp, http.StatusNotFound)
	})
}

// TestAdminWalkInHours: the hours page edits the walk-in hours too, with
// the same validation plus "within the opening hours", and sends both in
// one site description; the catalogue shows what the site has.
func TestAdminWalkInHours(t *testing.T) {
	e := newEnv(t)
	e.createAdmin("anna", central.RoleAdmin, "geheim123")
	l := opening(t, e.Clock)
	// The site describes itself again with Cologne's walk-in hours (seq 6).
	var weekdays []queue.OpeningHours
	for d := time.Monday; d <= time.Friday; d++ {
		weekdays = append(weekdays, queue.OpeningHours{Weekday: d, Open: 7*60 + 30, Close: 18 * 60})
	}
	l.add(queue.TypeSiteDescribed, "site/"+siteID, &queue.SiteDescribed{ID: siteID, Name: siteName, TimeZone: "Europe/Berlin", Hours: weekdays,
		WalkIn: []queue.OpeningHours{{Weekday: time.Monday, Open: 450, Close: 900}, {Weekday: time.Wednesday, Open: 450, Close: 720}}})
	e.mustPost(l.batch(1, 6))
	a := e.newAdmin()
	a.login("anna", "geheim123")
	path := "/admin/sites/" + siteID + "/hours"

	_, body := a.get("/admin")
	contains(t, "catalogue", body, "ohne Termin: 07:30–15:00", "ohne Termin: 07:30–12:00", "ohne Termin: nur mit Termin")
	resp, body := a.get(path)
	wantStatus(t, "hours form", resp, http.StatusOK)
	contains(t, "hours form", body, `id="walkin-table"`, "Sprechzeiten ohne Termin",
		`name="walkin-open-1-0" value="07:30"`, `name="walkin-close-1-0" value="15:00"`, `name="walkin-close-3-0" value="12:00"`,
		`name="walkin-open-2-0" value=""`, `name="open-2-0" value="07:30"`)

	week := url.Values{"open-1-0": {"07:30"}, "close-1-0": {"15:00"}, "open-2-0": {"08:00"}, "close-2-0": {"16:00"},
		"open-3-0": {"07:30"}, "close-3-0": {"12:00"}}
	with := func(pairs ...string) url.Values {
		v := url.Values{}
		for k, vs := range week {
			v[k] = vs
		}
		for i := 0; i+1 < len(pairs); i += 2 {
			v.Set(pairs[i], pairs[i+1])
		}
		return v
	}
	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"ErrNotHHMM", with("walkin-open-1-0", "7:30", "walkin-close-1-0", "15:00"), "Ohne Termin: Montag: „7:30“ ist keine Uhrzeit im Format HH:MM"},
		{"ErrHalf", with("walkin-open-1-0", "07:30"), "Ohne Termin: Montag: bitte Öffnung und Schließung angeben"},
		{"ErrOpenAfterClose", with("walkin-open-1-0", "12:00", "walkin-close-1-0", "08:00"), "Ohne Termin: Montag: Öffnung 12:00 muss vor Schließung 08:00 liegen"},
		{"ErrBeforeOpening", with("walkin-open-1-0", "07:00", "walkin-close-1-0", "15:00"), "Montag: Sprechzeit ohne Termin 07:00–15:00 liegt nicht innerhalb der Öffnungszeiten"},
		{"ErrClosedDay", with("walkin-open-4-0", "08:00", "walkin-close-4-0", "12:00"), "Donnerstag: Sprechzeit ohne Termin 08:00–12:00 liegt nicht innerhalb der Öffnungszeiten"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := a.post(path, tc.form)
			wantStatus(t, "POST", resp, http.StatusBadRequest)
			contains(t, "400 page", body, `class="error" role="alert"`, tc.want, `id="hours-form"`, `id="walkin-table"`)
			if head := e.outboundHead(siteID); head != 0 {
				t.Errorf("bad input sent %d outbound entries", head)
			}
		})
	}
	sent := func(t *testing.T, seq int) queue.SiteDescribed {
		t.Helper()
		entries, _, _ := e.Store.Outbound(context.Background(), siteID, 0, 10, 1<<20)
		if len(entries) != seq || entries[seq-1].Type != queue.TypeSiteDescribed {
			t.Fatalf("outbound = %+v, want %d entries, the last a site description", entries, seq)
		}
		var d queue.SiteDescribed
		if err := changelog.Unmarshal(entries[seq-1].Payload, &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	t.Run("OK", func(t *testing.T) {
		resp, _ := a.post(path, with("walkin-open-1-0", "07:30", "walkin-close-1-0", "15:00", "walkin-open-3-0", "07:30", "walkin-close-3-0", "12:00"))
		wantRedirect(t, "POST", resp, "/admin?saved=hours")
		d := sent(t, 1)
		wantHours := []queue.OpeningHours{{Weekday: time.Monday, Open: 450, Close: 900}, {Weekday: time.Tuesday, Open: 480, Close: 960}, {Weekday: time.Wednesday, Open: 450, Close: 720}}
		wantWalkIn := []queue.OpeningHours{{Weekday: time.Monday, Open: 450, Close: 900}, {Weekday: time.Wednesday, Open: 450, Close: 720}}
		if d.ID != siteID || d.Name != siteName || !slices.Equal(d.Hours, wantHours) || !slices.Equal(d.WalkIn, wantWalkIn) {
			t.Errorf("sent %+v, want hours %+v and walk-in %+v", d, wantHours, wantWalkIn)
		}
		// The site takes it over as it is.
		st := queue.NewState(siteID)
		st.Apply(queue.Event{Type: queue.TypeSiteDescribed, Payload: &queue.SiteDescribed{ID: siteID, Name: siteName, TimeZone: "Europe/Berlin", Hours: weekdays}})
		if events, err := st.AcceptSiteDescription(e.Clock.Now(), d); err != nil || len(events) != 1 {
			t.Errorf("site accepts the description: %+v, %v", events, err)
		}
	})
	t.Run("OKNoWalkInHours", func(t *testing.T) {
		resp, _ := a.post(path, week)
		wantRedirect(t, "POST", resp, "/admin?saved=hours")
		if d := sent(t, 2); d.WalkIn != nil || len(d.Hours) != 3 {
			t.Errorf("sent %+v, want three opening intervals and no walk-in hours", d)
		}
	})
}

func TestSyncStatus(t *testing.T) {
	e := newEnv(t)
	e.createAdmin("anna", central.RoleAdmin, "geheim123")
	l := opening(t, e.Clock)
	e.mustPost(l.batch(1, 5))
	e.Clock.Add(90 * time.Second)

	t.Run("ErrAnonymous", func(t *testing.T) {
		resp, body := e.get("/api/v1/sync/status")
		wantStatus(t, "GET", resp, http.StatusUnauthorized)
		if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("WWW-Authenticate = %q, want Basic", resp.Header.Get("WWW-Authenticate"))
		}
		contains(t, "401", body, `"error"`)
		resp, _ = e.get("/api/v1/sync/rejections")
		wantStatus(t, "GET rejections", resp, http.StatusUnauthorized)
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/api/v1/sync/status", nil)
		req.SetBasicAuth("anna", "falsch")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		wantStatus(t, "GET", resp, http.StatusUnauthorized)
	})
	t.Run("OKBasic", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/api/v1/sync/status", nil)
		req.SetBasicAuth("anna", "geheim123")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		wantStatus(t, "GET", resp, http.StatusOK)
		var st struct {
			Sites      []central.SiteSync  `json:"sites"`
			Rejections []central.Rejection `json:"rejections"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			t.Fatal(err)
		}
		if len(st.Sites) != 1 {
			t.Fatalf("sites = %+v, want one", st.Sites)
		}
		s := st.Sites[0]
		if s.Site != siteID || s.AckedSeq != 5 || s.ContactAgeSeconds == nil || *s.ContactAgeSeconds != 90 || s.LagSeconds == nil || *s.LagSeconds < 90 {
			t.Errorf("site = %+v, want %s acked 5, contact 90 s ago", s, siteID)
		}
		if s.SiteSeq != nil || s.OutboundCursor != nil {
			t.Errorf("site seq %v, outbound cursor %v: want unknown (null) before the site reports", s.SiteSeq, s.OutboundCursor)
		}
		if st.Rejections == nil {
			t.Errorf("rejections = null, want a list")
		}
	})
	t.Run("OKSessionAndPage", func(t *testing.T) {
		// The site reports its last seq in a batch and polls downloads.
		b := changelog.Batch{Version: changelog.SchemaVersion, Site: siteID, Last: 9}
		if err := b.SignFresh(siteKey(siteID), e.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		data, _ := changelog.Marshal(b)
		e.mustPost(data)
		if err := e.Central.SendToSite(context.Background(), siteID, queue.Event{Type: queue.TypeServiceDefined, Entity: "service/x",
			Payload: &queue.ServiceDefined{ID: "x", Name: "X", NameEN: "X", Prefix: "X", ExpectedMinutes: 3}}); err != nil {
			t.Fatal(err)
		}
		if r := e.poll("site=" + siteID + "&after=0"); r.status != http.StatusOK {
			t.Fatalf("poll: %d", r.status)
		}
		a := e.newAdmin()
		a.login("anna", "geheim123")
		resp, body := a.get("/admin/sync")
		wantStatus(t, "GET /admin/sync", resp, http.StatusOK)
		contains(t, "sync page", body, `data-site="`+siteID+`"`, `data-field="acked">5<`, `data-field="site-seq">9<`,
			`data-field="lag"><strong>4<`, `data-field="cursor">0 / 1<`, `data-field="pending"><strong>1<`, "Rückstand", "Keine abgelehnten Übertragungen")
		// It updates in place (refresh.js) with a button, never by reloading
		// itself every 15 s (axe: meta-refresh).
		if strings.Contains(body, `http-equiv="refresh"`) {
			t.Error("the sync page reloads itself (meta refresh)")
		}
		contains(t, "sync page", body, `id="refresh"`, `role="status"`, `data-live="sync" data-refresh="15"`, `src="/static/refresh.js"`,
			`tabindex="0" role="region" aria-labelledby="sites-h"`)
		// The session cookie is scoped to /admin; an API client sending
		// it explicitly is let in too.
		cookies := a.client.Jar.Cookies(mustURL(t, e.URL+"/admin"))
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/api/v1/sync/status", nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		r2, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r2.Body.Close()
		wantStatus(t, "GET status with the session", r2, http.StatusOK)
	})
}

// poll is one download poll's answer.
type pollResult struct {
	status int
	dl     changelog.Download
	raw    []byte // the answer's bytes as they travelled
	took   time.Duration
}

// poll asks for a site's outbound entries, signed with siteKey(site) as the
// site's downlink signs them.
func (e *env) poll(query string) pollResult {
	start := time.Now()
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/api/v1/sync/outbound?"+query, nil)
	req.Header.Set("Accept", "application/cbor")
	if site := req.URL.Query().Get("site"); site != "" {
		if req.URL.Query().Get("sms") == "1" {
			// A site that takes hand-overs sends its box key.
			req.Header.Set(changelog.HeaderBoxKey, base64.RawURLEncoding.EncodeToString(siteBox(site).PublicKey().Bytes()))
		}
		changelog.SignRequest(req, site, siteKey(site), e.Clock.Now())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Error(err)
		return pollResult{}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	dl, err := changelog.ReadDownload(bytes.NewReader(raw))
	if err != nil {
		e.t.Errorf("poll %s: %v", query, err)
		return pollResult{}
	}
	return pollResult{status: resp.StatusCode, dl: *dl, raw: raw, took: time.Since(start)}
}

func TestOutboundLongPoll(t *testing.T) {
	e := newEnv(t)
	e.mustPost(opening(t, e.Clock).batch(1, 5))
	send := func(minutes int) {
		t.Helper()
		if err := e.Central.SendToSite(context.Background(), siteID, queue.Event{Type: queue.TypeServiceDefined, Entity: "service/ausweis",
			Payload: &queue.ServiceDefined{ID: "ausweis", Name: "Personalausweis", NameEN: "Identity card", Prefix: "A", ExpectedMinutes: minutes}}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("ReturnsEarlyOnAppend", func(t *testing.T) {
		done := make(chan pollResult, 1)
		go func() { done <- e.poll("site=" + siteID + "&after=0&wait=20s") }()
		time.Sleep(300 * time.Millisecond)
		select {
		case r := <-done:
			t.Fatalf("poll returned before anything was appended: %+v", r)
		default:
		}
		appended := time.Now()
		send(11)
		select {
		case r := <-done:
			if r.status != http.StatusOK || len(r.dl.Entries) != 1 || r.dl.Head != 1 || r.dl.Entries[0].Seq != 1 {
				t.Fatalf("poll = %d %+v, want entry 1", r.status, r.dl)
			}
			if err := r.dl.Validate(); err != nil {
				t.Errorf("download does not validate: %v", err)
			}
			t.Logf("answered %v after the append", time.Since(appended))
		case <-time.After(2 * time.Second):
			t.Fatal("poll not answered within 2 s of the append")
		}
	})
	t.Run("ImmediateWhenWaiting", func(t *testing.T) {
		r := e.poll("site=" + siteID + "&after=0&wait=20s")
		if r.status != http.StatusOK || len(r.dl.Entries) != 1 || r.took > time.Second {
			t.Errorf("poll = %d, %d entries after %v; want entry 1 at once", r.status, len(r.dl.Entries), r.took)
		}
	})
	t.Run("EmptyWhenWaitEnds", func(t *testing.T) {
		r := e.poll("site=" + siteID + "&after=1&wait=200ms")
		if r.status != http.StatusOK || len(r.dl.Entries) != 0 || r.dl.Head != 1 || r.took < 200*time.Millisecond {
			t.Errorf("poll = %d %+v after %v; want empty with head 1 after the wait", r.status, r.dl, r.took)
		}
	})
	t.Run("Bounded", func(t *testing.T) {
		send(12)
		send(13)
		r := e.poll("site=" + siteID + "&after=0&limit=2")
		if len(r.dl.Entries) != 2 || r.dl.Head != 3 {
			t.Errorf("poll with limit 2 = %d entries, head %d; want 2 and 3", len(r.dl.Entries), r.dl.Head)
		}
	})
	t.Run("ErrSiteNotEnrolled", func(t *testing.T) {
		r := e.poll("site=kz-porz&after=0")
		if r.status != http.StatusUnauthorized && r.status != http.StatusForbidden || len(r.dl.Entries) != 0 {
			t.Errorf("poll for a site without an enrolled key = %d %+v, want 401/403 and nothing", r.status, r.dl)
		}
	})
	t.Run("ErrUnsigned", func(t *testing.T) {
		resp, _ := e.get("/api/v1/sync/outbound?site="+siteID+"&after=0", "Accept", "application/cbor")
		wantStatus(t, "unsigned poll", resp, http.StatusUnauthorized)
	})
	t.Run("ErrCursorBeyondHead", func(t *testing.T) {
		r := e.poll("site=" + siteID + "&after=7&wait=5s")
		if r.status != http.StatusConflict || !strings.Contains(r.dl.Error, "restored") || r.dl.Head != 3 || r.took > time.Second {
			t.Errorf("poll = %d %+v after %v, want 409 at once with head 3", r.status, r.dl, r.took)
		}
	})
	for _, q := range []string{"after=0", "site=KALK", "site=" + siteID + "&after=-1", "site=" + siteID + "&wait=2m", "site=" + siteID + "&wait=soon", "site=" + siteID + "&limit=0", "site=" + siteID + "&limit=5000"} {
		t.Run("ErrBadQuery/"+q, func(t *testing.T) {
			if r := e.poll(q); r.status != http.StatusBadRequest || r.dl.Error == "" {
				t.Errorf("poll(%s) = %d %q, want 400 with a reason", q, r.status, r.dl.Error)
			}
		})
	}
	t.Run("JSON", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/api/v1/sync/outbound?site="+siteID+"&after=2", nil)
		req.Header.Set("Accept", "application/json")
		changelog.SignRequest(req, siteID, siteKey(siteID), e.Clock.Now())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		body := string(data)
		wantStatus(t, "GET", resp, http.StatusOK)
		contains(t, "JSON download", body, `"Head":3`, `"Seq":3`)
	})
}
