package server_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

// An admin defines a service group and puts a service into it; both go to
// every site as outbound events.
func TestAdminServiceGroups(t *testing.T) {
	e := newEnv(t)
	e.createAdmin("anna", central.RoleAdmin, "geheim123")
	e.mustPost(opening(t, e.Clock).batch(1, 5)) // the site defines ausweis (A, 10 min)
	a := e.newAdmin()
	a.login("anna", "geheim123")

	resp, body := a.get("/admin/services/ausweis")
	wantStatus(t, "edit form", resp, http.StatusOK)
	contains(t, "edit form", body, `id="group-form"`, `name="group"`, "Noch keine Gruppen.", "Neue Gruppe")

	group := url.Values{"form": {"group"}, "group_new": {"1"}, "group_id": {"ausweis-pass"}, "group_name": {"Ausweis und Pass"}, "group_prefix": {"P"}}
	with := func(key, value string) url.Values {
		v := url.Values{}
		for k, vs := range group {
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
		{"ErrPrefixEmpty", with("group_prefix", ""), "Kennbuchstabe fehlt"},
		{"ErrPrefixOfService", with("group_prefix", "A"), "Kennbuchstabe A ist schon an „Personalausweis“ vergeben"},
		{"ErrNameEmpty", with("group_name", ""), "deutsche Name der Gruppe fehlt"},
		{"ErrBadID", with("group_id", "A P"), "Kennung der Gruppe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := a.post("/admin/services", tc.form)
			wantStatus(t, "POST", resp, http.StatusBadRequest)
			contains(t, "400 page", body, `class="error" role="alert"`, tc.want, `id="group-form"`)
			if head := e.outboundHead(siteID); head != 0 {
				t.Errorf("bad input sent %d outbound entries", head)
			}
		})
	}

	resp, _ = a.post("/admin/services", group)
	wantRedirect(t, "POST group", resp, "/admin?saved=group")
	entries, _, err := e.Store.Outbound(context.Background(), siteID, 0, 10, 1<<20)
	if err != nil || len(entries) != 1 || entries[0].Type != queue.TypeGroupDefined {
		t.Fatalf("outbound after the group = %v, %v", entries, err)
	}
	var g queue.GroupDefined
	if err := changelog.Unmarshal(entries[0].Payload, &g); err != nil {
		t.Fatal(err)
	}
	if want := (queue.GroupDefined{ID: "ausweis-pass", Name: "Ausweis und Pass", NameEN: "Ausweis und Pass", Prefix: "P"}); g != want {
		t.Errorf("sent %+v, want %+v", g, want)
	}
	resp, body = a.get("/admin?saved=group")
	wantStatus(t, "GET /admin", resp, http.StatusOK)
	contains(t, "catalogue after save", body, "Die Gruppe wird an alle Standorte übertragen.")

	resp, _ = a.post("/admin/services", group)
	wantStatus(t, "the same new group again", resp, http.StatusBadRequest)

	// The service joins the group without a prefix of its own: it gets P.
	resp, body = a.get("/admin/services/ausweis?group=ausweis-pass")
	wantStatus(t, "edit form", resp, http.StatusOK)
	contains(t, "edit form with groups", body, `data-group="ausweis-pass"`, `<option value="ausweis-pass">P · Ausweis und Pass</option>`,
		`name="group_id" value="ausweis-pass"`, "Gruppe „Ausweis und Pass“ bearbeiten")
	resp, _ = a.post("/admin/services", url.Values{"id": {"ausweis"}, "name": {"Personalausweis"}, "name_en": {"Identity card"},
		"group": {"ausweis-pass"}, "expected_minutes": {"10"}})
	wantRedirect(t, "POST service", resp, "/admin?saved=service")
	entries, _, _ = e.Store.Outbound(context.Background(), siteID, 1, 10, 1<<20)
	var svc queue.ServiceDefined
	if len(entries) != 1 || changelog.Unmarshal(entries[0].Payload, &svc) != nil {
		t.Fatalf("outbound after the service = %v", entries)
	}
	if want := (queue.ServiceDefined{ID: "ausweis", Name: "Personalausweis", NameEN: "Identity card", Prefix: "P", ExpectedMinutes: 10, Group: "ausweis-pass"}); svc != want {
		t.Errorf("sent %+v, want %+v", svc, want)
	}

	t.Run("PostWithoutGroupFieldKeepsIt", func(t *testing.T) {
		// The site has not applied the edit yet, so the catalogue knows the
		// group from central's own reference data only.
		resp, _ := a.post("/admin/services", url.Values{"id": {"ausweis"}, "name": {"Personalausweis"}, "prefix": {"P"}, "expected_minutes": {"11"}})
		wantRedirect(t, "POST service", resp, "/admin?saved=service")
		entries, _, _ := e.Store.Outbound(context.Background(), siteID, 2, 10, 1<<20)
		var svc queue.ServiceDefined
		if len(entries) != 1 || changelog.Unmarshal(entries[0].Payload, &svc) != nil || svc.Group != "ausweis-pass" {
			t.Errorf("sent %+v, want the service still in its group", svc)
		}
	})
	t.Run("ErrUnknownGroup", func(t *testing.T) {
		resp, body := a.post("/admin/services", url.Values{"id": {"ausweis"}, "name": {"Personalausweis"}, "group": {"gibtsnicht"}, "expected_minutes": {"10"}})
		wantStatus(t, "POST", resp, http.StatusBadRequest)
		contains(t, "400 page", body, "Unbekannte Gruppe")
	})
	t.Run("ErrNewServiceOnGroupPrefix", func(t *testing.T) {
		resp, body := a.post("/admin/services", url.Values{"new": {"1"}, "id": {"neu"}, "name": {"Neu"}, "prefix": {"P"}, "expected_minutes": {"10"}})
		wantStatus(t, "POST", resp, http.StatusBadRequest)
		contains(t, "400 page", body, "Kennbuchstabe P ist schon an Gruppe „Ausweis und Pass“ vergeben")
	})
}
