package storetest

import (
	"context"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance"
	"github.com/veedel/veedel/central"
)

// A new central's directory starts from the Cologne seed, exactly once: a
// seeded site an admin changed stays changed when central starts again,
// and the seed holds every site of the built-in catalogue, as a customer
// centre with an address and a public page.
func testSiteDirectorySeededOnce(t *testing.T, open Opener) {
	ctx := context.Background()
	s, err := open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sites, err := s.Directory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sites) != len(appliance.Catalog) {
		t.Errorf("a new directory has %d sites, want the %d of the built-in catalogue", len(sites), len(appliance.Catalog))
	}
	for _, site := range sites {
		seed, ok := appliance.Catalog[site.ID]
		centre := site.Kind == central.KindCustomerCentre && site.Page != ""
		office := site.ID == "zulassung" && site.Kind == central.KindVehicleRegistration || // no public page known yet
			site.ID == "gesundheitsamt" && site.Kind == central.KindSchoolHealth
		if !ok || site.Name != seed.Site.Name || !(centre || office) || site.Address == "" {
			t.Errorf("seeded site %+v: want a catalogue site's name, its kind, an address and (a customer centre) a page", site)
		}
		if err := site.Validate(); err != nil {
			t.Errorf("seeded site %s: %v", site.ID, err)
		}
	}

	kalk, err := s.DirectorySite(ctx, "kalk")
	if err != nil {
		t.Fatal(err)
	}
	kalk.Name, kalk.Page = "Bürgeramt Kalk", ""
	if err := s.UpdateSite(ctx, kalk); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.DirectorySite(ctx, "kalk"); err != nil || got.Name != "Bürgeramt Kalk" || got.Page != "" {
		t.Errorf("kalk after a restart = %+v, %v; want the admin's change kept", got, err)
	}
}

func testSiteDirectoryAddUpdate(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	poll := central.Site{ID: "kfz-poll", Name: "Kfz-Zulassungsstelle Poll", Kind: central.KindVehicleRegistration,
		Page: "/service/adressen/00190/index.html", Address: "Poller Kirchweg 1, 51105 Köln", AddedAt: time.UnixMilli(1_700_000_000_000)}
	if _, err := s.DirectorySite(ctx, poll.ID); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Errorf("DirectorySite before AddSite: %v, want ENOTFOUND", err)
	}
	if err := s.AddSite(ctx, poll); err != nil {
		t.Fatal(err)
	}
	if got, err := s.DirectorySite(ctx, poll.ID); err != nil || got != poll {
		t.Errorf("DirectorySite = %+v, %v; want %+v", got, err, poll)
	}
	again := poll
	again.Name = "Poll"
	if err := s.AddSite(ctx, again); veedel.ErrorCode(err) != veedel.ECONFLICT {
		t.Errorf("AddSite twice: %v, want ECONFLICT", err)
	}
	if got, _ := s.DirectorySite(ctx, poll.ID); got.Name != poll.Name {
		t.Errorf("a refused AddSite changed the site: %+v", got)
	}
	if err := s.UpdateSite(ctx, central.Site{ID: "atlantis", Name: "Atlantis", Kind: central.KindCustomerCentre}); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Errorf("UpdateSite of an unknown site: %v, want ENOTFOUND", err)
	}
}

// Only a site of the directory gets an enrollment token; the error says
// how to add one.
func testNewEnrollmentTokenUnknownSite(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	now := time.Now()
	_, err := central.NewEnrollmentToken(ctx, s, "kfz-poll", now, time.Hour)
	if veedel.ErrorCode(err) != veedel.ENOTFOUND || !strings.Contains(veedel.ErrorMessage(err), "veedel central site add -id kfz-poll") {
		t.Errorf("token for an unknown site: %v, want ENOTFOUND saying how to add it", err)
	}
	if err := s.AddSite(ctx, central.Site{ID: "kfz-poll", Name: "Poll", Kind: central.KindVehicleRegistration, AddedAt: now}); err != nil {
		t.Fatal(err)
	}
	if token, err := central.NewEnrollmentToken(ctx, s, "kfz-poll", now, time.Hour); err != nil || token == "" {
		t.Errorf("token for an added site: %q, %v", token, err)
	}
}

// A site that never enrolled nor sent anything can be removed (a seed's
// site the city does not have), with its unused tokens; one that enrolled
// stays, and the refusal says what to do instead.
func testSiteDirectoryRemove(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	now := time.Now()
	token, err := s.CreateEnrollmentToken(ctx, "rodenkirchen", now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveSite(ctx, "rodenkirchen"); err != nil {
		t.Fatalf("RemoveSite of a seeded, never enrolled site: %v", err)
	}
	if _, err := s.DirectorySite(ctx, "rodenkirchen"); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Errorf("DirectorySite after RemoveSite: %v, want ENOTFOUND", err)
	}
	pub, _, _ := ed25519.GenerateKey(nil)
	if _, err := s.Enroll(ctx, "rodenkirchen", token, pub, now); err == nil {
		t.Error("the removed site's token still enrolls a key")
	}
	if err := s.RemoveSite(ctx, "rodenkirchen"); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Errorf("RemoveSite twice: %v, want ENOTFOUND", err)
	}

	token, err = s.CreateEnrollmentToken(ctx, "kalk", now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enroll(ctx, "kalk", token, pub, now); err != nil {
		t.Fatal(err)
	}
	err = s.RemoveSite(ctx, "kalk")
	if veedel.ErrorCode(err) != veedel.ECONFLICT || !strings.Contains(veedel.ErrorMessage(err), "veedel central revoke -site kalk") {
		t.Errorf("RemoveSite of an enrolled site: %v, want ECONFLICT saying to revoke", err)
	}
	if _, err := s.DirectorySite(ctx, "kalk"); err != nil {
		t.Errorf("the refused removal took kalk away: %v", err)
	}
}
