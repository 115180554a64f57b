package sqlite_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/sqlite"
)

// A new central's directory starts from the Cologne seed, exactly once: a
// seeded site an admin changed stays changed when central starts again,
// and the seed holds every site of the built-in catalogue, as a customer
// centre with an address and a public page.
func TestSiteDirectory_SeededOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "central.db")
	s, err := sqlite.Open(ctx, path)
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
		if !ok || site.Name != seed.Site.Name || site.Kind != central.KindCustomerCentre || site.Address == "" || site.Page == "" {
			t.Errorf("seeded site %+v: want a catalogue site's name, a customer centre, an address and a page", site)
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

	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.DirectorySite(ctx, "kalk"); err != nil || got.Name != "Bürgeramt Kalk" || got.Page != "" {
		t.Errorf("kalk after a restart = %+v, %v; want the admin's change kept", got, err)
	}
}

func TestSiteDirectory_AddUpdate(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "central.db"))
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
func TestNewEnrollmentToken_UnknownSite(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "central.db"))
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
