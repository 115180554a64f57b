package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/central"
)

// TestVehicleRoutingTwoSites: with two registration sites, an application
// goes to its owner's postcode route's site (the longest prefix), else to
// the site with fewer undecided applications, ties to the smaller site
// id; decisions at a site make room there; a route to a site that runs
// no vehicle workflow is ignored; with one registration site everything
// goes there. Each application is in exactly one site's outbound log.
func TestVehicleRoutingTwoSites(t *testing.T) {
	e, l := vehicleSite(t)
	ctx := context.Background()
	const kalk = "kz-kalk" // siteID, kz-innenstadt, sorts first
	if err := e.Central.RecordBoxKey(ctx, kalk, siteBox(kalk).PublicKey().Bytes()); err != nil {
		t.Fatal(err)
	}
	e.Central.Plates().SetSites([]string{kalk, siteID})
	routes, err := central.ParseVehicleRoutes("51=kz-kalk, 51143=kz-innenstadt,50999=kz-gibtsnicht")
	if err != nil {
		t.Fatal(err)
	}
	e.Central.SetVehicleRoutes(routes)

	submit := func(postcode string) string {
		t.Helper()
		body := strings.Replace(transferBody("DE89370400440532013000", `{"mode":"random"}`), `"postcode":"50672"`, `"postcode":"`+postcode+`"`, 1)
		status, out := e.postJSON("/api/v1/vehicle-applications", body)
		if status != http.StatusCreated {
			t.Fatalf("postcode %s: %d %v", postcode, status, out)
		}
		a, ok := e.Central.VehicleApplications().ByID(out["id"].(string))
		if !ok {
			t.Fatalf("postcode %s: not in the read model", postcode)
		}
		return a.Site
	}
	var got []string
	for _, postcode := range []string{
		"50672", "50672", "50672", // by load: tie, then the emptier, then tie again
		"51105", "51105", // Kalk's route, however full Kalk is
		"51143", // the longer prefix: the Innenstadt
		"50999", // a route to no registration site: by load (3 : 3)
	} {
		got = append(got, postcode+":"+submit(postcode))
	}
	want := "50672:kz-innenstadt 50672:kz-kalk 50672:kz-innenstadt 51105:kz-kalk 51105:kz-kalk 51143:kz-innenstadt 50999:kz-innenstadt"
	if strings.Join(got, " ") != want {
		t.Errorf("routed\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
	if open := e.Central.VehicleApplications().Open(); open[siteID] != 4 || open[kalk] != 3 {
		t.Errorf("open %v", open)
	}

	// The Innenstadt decides three: now it has fewer undecided.
	inner := e.submittedEvents(siteID)
	n := len(l.entries)
	for _, s := range inner[:3] {
		l.add(vehicle.TypeReceived, vehicle.Entity(s.ID), &vehicle.ApplicationReceived{ApplicationSubmitted: s})
		l.add(vehicle.TypeRejected, vehicle.Entity(s.ID), &vehicle.ApplicationRejected{ID: s.ID, Staff: "demo", Reason: "Steuerrückstand"})
	}
	e.mustPost(l.batch(uint64(n+1), uint64(len(l.entries))))
	// 1 : 3 open, 2 : 3, then 3 : 3 (the tie to the smaller id).
	if s1, s2, s3 := submit("50672"), submit("50672"), submit("50672"); s1 != siteID || s2 != siteID || s3 != siteID {
		t.Errorf("after the decisions (1 : 3 open): %s %s %s", s1, s2, s3)
	}
	if s := submit("50672"); s != kalk { // 4 : 3
		t.Errorf("4 : 3 open: %s", s)
	}

	// One owner each: every application in exactly one outbound log.
	seen := map[string]string{}
	for _, site := range []string{siteID, kalk} {
		for _, s := range e.submittedEvents(site) {
			if other, ok := seen[s.ID]; ok {
				t.Errorf("%s sent to %s and %s", s.ID, other, site)
			}
			seen[s.ID] = site
		}
	}
	if len(seen) != 11 {
		t.Errorf("%d applications sent, want 11", len(seen))
	}

	// One registration site: everything goes there, as before routing.
	e.Central.Plates().SetSites([]string{kalk})
	if s1, s2 := submit("50672"), submit("51143"); s1 != kalk || s2 != kalk {
		t.Errorf("one site: %s %s", s1, s2)
	}
}

// TestParseVehicleRoutes: -vehicle-routes' form, and what it refuses.
func TestParseVehicleRoutes(t *testing.T) {
	got, err := central.ParseVehicleRoutes(" 50667=zulassung , 51=kalk-kfz,")
	if err != nil || len(got) != 2 || got[0] != (central.VehicleRoute{Prefix: "50667", Site: "zulassung"}) || got[1].Site != "kalk-kfz" {
		t.Errorf("%+v %v", got, err)
	}
	for _, bad := range []string{"50667", "506670=zulassung", "5a=zulassung", "=zulassung", "51=", "51=Kalk", "51=kalk,51=porz"} {
		if _, err := central.ParseVehicleRoutes(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
