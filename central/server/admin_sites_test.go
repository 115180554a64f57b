package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/central"
)

// An admin adds a site on the sites page (bad input is shown next to its
// field, nothing saved), and the site can then be enrolled; changing a
// site's page changes the open data's link at once. A technician sees the
// directory but changes nothing.
func TestAdminSites(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.createAdmin("anna", central.RoleAdmin, "geheim123")
	e.createAdmin("tom", central.RoleTechnician, "geheim123")
	e.addSite("kalk", "Kundenzentrum Kalk", 28)
	// A site enrolled with a token from before the directory: recorded
	// from its log as it describes itself.
	e.addSite("kz-neu", "Kundenzentrum Neu", 5)
	if got, err := e.Store.DirectorySite(ctx, "kz-neu"); err != nil || got.Name != "Kundenzentrum Neu" || got.Kind != central.KindCustomerCentre {
		t.Errorf("kz-neu in the directory = %+v, %v; want it recorded from its log", got, err)
	}
	a := e.newAdmin()
	a.login("anna", "geheim123")

	resp, body := a.get("/admin/sites")
	wantStatus(t, "GET /admin/sites", resp, http.StatusOK)
	contains(t, "sites page", body, `data-site="kalk"`, "Kalker Hauptstraße", `href="/admin/sites/new"`, `aria-current="page"`)
	if !strings.Contains(body, `data-site="porz"`) {
		t.Errorf("sites page does not list porz, a seeded site that never reported")
	}

	if _, err := central.NewEnrollmentToken(ctx, e.Store, "kfz-poll", e.Clock.Now(), time.Hour); err == nil {
		t.Fatal("a token for kfz-poll before it was added")
	}
	poll := url.Values{"new": {"1"}, "id": {"kfz-poll"}, "name": {"Kfz-Zulassungsstelle Poll"}, "kind": {"kfz-zulassung"},
		"address": {"Poller Kirchweg 1, 51105 Köln"}, "page": {"/service/adressen/00190/index.html"}}
	with := func(key, value string) url.Values {
		v := url.Values{}
		for k, vs := range poll {
			v[k] = append([]string(nil), vs...)
		}
		v.Set(key, value)
		return v
	}
	for _, tc := range []struct {
		name, field, want string
		form              url.Values
	}{
		{"ErrID", "id", "Kennung", with("id", "Kfz Poll")},
		{"ErrIDTaken", "id", "Den Standort kalk gibt es schon", with("id", "kalk")},
		{"ErrName", "name", "Der Name fehlt", with("name", " ")},
		{"ErrKind", "kind", "Art", with("kind", "zoo")},
		{"ErrPage", "page", "Öffentliche Seite", with("page", "javascript:alert(1)")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := a.post("/admin/sites", tc.form)
			wantStatus(t, "POST", resp, http.StatusBadRequest)
			contains(t, "400 page", body, `id="`+tc.field+`-error"`, tc.want, `aria-invalid="true"`, `id="site-form"`)
			if n := strings.Count(body, `aria-invalid="true"`); n != 1 {
				t.Errorf("%d fields marked invalid, want 1", n)
			}
			if tc.name == "ErrIDTaken" {
				contains(t, "the existing site's link", body, `id="existing-link"`, `href="/admin/sites/kalk"`)
			}
			// The German page's message is German only.
			msg := body[strings.Index(body, `id="`+tc.field+`-error"`):]
			if msg = msg[:strings.Index(msg, "</p>")]; strings.Contains(msg, " / ") {
				t.Errorf("the German form's message is in two languages: %s", msg)
			}
		})
	}
	if _, err := e.Store.DirectorySite(ctx, "kfz-poll"); err == nil {
		t.Fatal("bad input saved kfz-poll")
	}
	if got, _ := e.Store.DirectorySite(ctx, "kalk"); got.Name != "Kundenzentrum Kalk" {
		t.Errorf("a refused new site changed kalk: %+v", got)
	}

	resp, _ = a.post("/admin/sites", poll)
	wantRedirect(t, "POST new site", resp, "/admin/sites?saved=added&site=kfz-poll")
	got, err := e.Store.DirectorySite(ctx, "kfz-poll")
	if err != nil || got.Name != "Kfz-Zulassungsstelle Poll" || got.Kind != central.KindVehicleRegistration ||
		got.Page != "/service/adressen/00190/index.html" || got.Address != "Poller Kirchweg 1, 51105 Köln" {
		t.Fatalf("kfz-poll in the directory = %+v, %v", got, err)
	}
	if token, err := central.NewEnrollmentToken(ctx, e.Store, "kfz-poll", e.Clock.Now(), time.Hour); err != nil || token == "" {
		t.Errorf("token for the added site: %q, %v", token, err)
	}
	resp, body = a.get("/admin/sites?saved=added&site=kfz-poll")
	wantStatus(t, "GET /admin/sites", resp, http.StatusOK)
	contains(t, "sites page after adding", body, `data-site="kfz-poll"`, "Standort kfz-poll hinzugefügt", "Kfz-Zulassung und Führerscheine")

	// Kalk's page changes: the open data links the new one.
	resp, body = a.get("/admin/sites/kalk")
	wantStatus(t, "edit form", resp, http.StatusOK)
	contains(t, "edit form", body, `name="id" value="kalk"`, "readonly", `<option value="kundenzentrum" selected>`)
	resp, _ = a.post("/admin/sites", url.Values{"id": {"kalk"}, "name": {"Kundenzentrum Kalk"}, "kind": {"kundenzentrum"},
		"address": {"Kalker Hauptstraße 247–273, 51103 Köln"}, "page": {"https://example.org/kalk"}})
	wantRedirect(t, "POST changed site", resp, "/admin/sites?saved=changed")
	if got := odItems(t, e.URL)["Kundenzentrum Kalk"]["link"]; got != "https://example.org/kalk" {
		t.Errorf("open data link after the change = %q", got)
	}
	resp, _ = a.get("/admin/sites/atlantis")
	wantStatus(t, "edit an unknown site", resp, http.StatusNotFound)

	tom := e.newAdmin()
	tom.login("tom", "geheim123")
	resp, body = tom.get("/admin/sites")
	wantStatus(t, "technician's sites page", resp, http.StatusOK)
	if strings.Contains(body, `href="/admin/sites/new"`) || strings.Contains(body, `href="/admin/sites/kalk"`) {
		t.Errorf("technician's sites page offers editing")
	}
	resp, _ = tom.post("/admin/sites", with("id", "kfz-mitte"))
	wantStatus(t, "technician adds a site", resp, http.StatusForbidden)
	if _, err := e.Store.DirectorySite(ctx, "kfz-mitte"); err == nil {
		t.Error("a technician added a site")
	}
}
