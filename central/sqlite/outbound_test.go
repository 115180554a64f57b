package sqlite_test

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/sqlite"
	"github.com/veedel/veedel/sync/changelog"
)

var start = time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)

func mustOpen(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// hlcClock is a deterministic outbound clock.
func hlcClock() func() changelog.HLC {
	c := changelog.NewClock(func() time.Time { return start }, 0)
	return c.Now
}

func service(id, prefix string, minutes int) central.Outgoing {
	return central.Outgoing{Type: queue.TypeServiceDefined, Entity: "service/" + id,
		Payload: &queue.ServiceDefined{ID: id, Name: id, NameEN: id, Prefix: prefix, ExpectedMinutes: minutes}}
}

// outbound reads a site's whole outbound log and checks it is one chain
// from seq 1 up to the head.
func outbound(t *testing.T, s *sqlite.Store, site string) []changelog.Entry {
	t.Helper()
	entries, head, err := s.Outbound(context.Background(), site, 0, 10_000, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	for i := range entries {
		e := &entries[i]
		if err := e.Verify(); err != nil {
			t.Fatalf("%s outbound %d: %v", site, e.Seq, err)
		}
		if e.Site != site {
			t.Fatalf("%s outbound %d belongs to %q", site, e.Seq, e.Site)
		}
		var prevSeq uint64
		var prevHash []byte
		if i > 0 {
			prevSeq, prevHash = entries[i-1].Seq, entries[i-1].Hash
		}
		if !e.Follows(prevSeq, prevHash) {
			t.Fatalf("%s outbound %d does not follow %d", site, e.Seq, prevSeq)
		}
	}
	if got := uint64(len(entries)); got != head {
		t.Fatalf("%s outbound: %d entries, head %d", site, got, head)
	}
	return entries
}

// knownSite stores one entry of a site's log, as its first batch would.
func knownSite(t *testing.T, s *sqlite.Store, site string) {
	t.Helper()
	e, err := changelog.NewEntry(site, nil, changelog.HLC(start.UnixMilli())<<16, queue.TypeSiteDescribed, "site/"+site, &queue.SiteDescribed{ID: site, Name: site})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Append(context.Background(), &changelog.Batch{Version: changelog.SchemaVersion, Site: site, Entries: []changelog.Entry{e}}, start, true); err != nil {
		t.Fatal(err)
	}
}

func TestOutboundLog(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "central.db")
	s := mustOpen(t, path)
	clock := hlcClock()
	sites, err := s.AppendOutbound(ctx, "kalk", []central.Outgoing{service("a", "A", 5), service("b", "B", 6), service("c", "C", 7)}, start, clock)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sites, []string{"kalk"}) {
		t.Errorf("sites = %v, want [kalk]", sites)
	}
	first := outbound(t, s, "kalk")
	if len(first) != 3 || first[1].Entity != "service/b" {
		t.Fatalf("outbound = %+v, want 3 entries in order", first)
	}
	if other := outbound(t, s, "porz"); len(other) != 0 {
		t.Errorf("porz got %d entries of kalk's", len(other))
	}

	t.Run("BoundedRead", func(t *testing.T) {
		got, head, err := s.Outbound(ctx, "kalk", 1, 1, 1<<20)
		if err != nil || len(got) != 1 || got[0].Seq != 2 || head != 3 {
			t.Errorf("Outbound(after 1, limit 1) = %d entries (first %v), head %d, %v; want entry 2, head 3", len(got), got, head, err)
		}
		got, _, _ = s.Outbound(ctx, "kalk", 0, 10, 1)
		if len(got) != 1 {
			t.Errorf("Outbound with 1 byte = %d entries, want at least and at most one", len(got))
		}
		got, head, _ = s.Outbound(ctx, "kalk", 3, 10, 1<<20)
		if len(got) != 0 || head != 3 {
			t.Errorf("Outbound(after head) = %d entries, head %d; want none, 3", len(got), head)
		}
	})

	t.Run("SurvivesRestart", func(t *testing.T) {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = mustOpen(t, path)
		again := outbound(t, s, "kalk")
		if len(again) != len(first) {
			t.Fatalf("after restart: %d entries, want %d", len(again), len(first))
		}
		for i := range again {
			if !bytes.Equal(again[i].Hash, first[i].Hash) {
				t.Errorf("entry %d changed by the restart", again[i].Seq)
			}
		}
		last, err := s.LastOutboundHLC(ctx)
		if err != nil || last != first[2].HLC {
			t.Errorf("LastOutboundHLC = %d, %v; want %d", last, err, first[2].HLC)
		}
		// The log continues the chain after the restart.
		if _, err := s.AppendOutbound(ctx, "kalk", []central.Outgoing{service("d", "D", 8)}, start, changelog.NewClock(func() time.Time { return start }, last).Now); err != nil {
			t.Fatal(err)
		}
		all := outbound(t, s, "kalk")
		if len(all) != 4 || all[3].HLC <= first[2].HLC {
			t.Errorf("after append: %d entries, last HLC %d; want 4 and later than %d", len(all), all[3].HLC, first[2].HLC)
		}
		heads, err := s.OutboundHeads(ctx)
		if err != nil || heads["kalk"] != 4 || len(heads) != 1 {
			t.Errorf("OutboundHeads = %v, %v; want kalk: 4", heads, err)
		}
	})
}

func TestCityReference(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "central.db"))
	clock := hlcClock()
	knownSite(t, s, "kalk")
	knownSite(t, s, "porz")
	if joined, err := s.JoinSite(ctx, "kalk", start, clock); err != nil || !joined {
		t.Fatalf("JoinSite(kalk) = %v, %v; want true", joined, err)
	}
	if joined, err := s.JoinSite(ctx, "kalk", start, clock); err != nil || joined {
		t.Fatalf("JoinSite(kalk) again = %v, %v; want false", joined, err)
	}
	if n := len(outbound(t, s, "kalk")); n != 0 {
		t.Fatalf("kalk joined with %d entries, want 0 (no reference data yet)", n)
	}

	// City-wide: kalk (joined) gets it; porz (known, not joined) joins in
	// the same transaction and gets all reference data.
	sites, err := s.AppendOutbound(ctx, "", []central.Outgoing{service("ausweis", "A", 12)}, start, clock)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(sites)
	if !slices.Equal(sites, []string{"kalk", "porz"}) {
		t.Errorf("sites = %v, want kalk and porz", sites)
	}
	for _, site := range []string{"kalk", "porz"} {
		if got := outbound(t, s, site); len(got) != 1 || got[0].Entity != "service/ausweis" {
			t.Errorf("%s outbound = %+v, want the service once", site, got)
		}
	}
	if joined, _ := s.JoinSite(ctx, "porz", start, clock); joined {
		t.Errorf("porz joined twice")
	}

	// A change of the same entity replaces the reference, and goes out.
	if _, err := s.AppendOutbound(ctx, "", []central.Outgoing{service("ausweis", "A", 15), service("meldung", "B", 9)}, start, clock); err != nil {
		t.Fatal(err)
	}
	refs, err := s.CityReference(ctx, queue.TypeServiceDefined)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 2 {
		t.Fatalf("reference = %d entries, want 2", len(refs))
	}
	var svc queue.ServiceDefined
	if err := changelog.Unmarshal(refs[0].Payload.([]byte), &svc); err != nil || svc.ID != "ausweis" || svc.ExpectedMinutes != 15 {
		t.Errorf("reference[0] = %+v, %v; want ausweis with 15 minutes", svc, err)
	}

	// A site that appears later joins with the current reference only.
	knownSite(t, s, "nippes")
	if joined, err := s.JoinSite(ctx, "nippes", start, clock); err != nil || !joined {
		t.Fatalf("JoinSite(nippes) = %v, %v", joined, err)
	}
	got := outbound(t, s, "nippes")
	if len(got) != 2 {
		t.Fatalf("nippes outbound = %d entries, want the 2 current references", len(got))
	}
	if err := changelog.Unmarshal(got[0].Payload, &svc); err != nil || svc.ExpectedMinutes != 15 {
		t.Errorf("nippes got %+v, want the current definition (15 minutes)", svc)
	}
	if n := len(outbound(t, s, "kalk")); n != 3 {
		t.Errorf("kalk outbound = %d entries, want 3", n)
	}
}

func TestAdmins(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "central.db")
	s := mustOpen(t, path)
	if err := s.CreateAdmin(ctx, "anna", central.RoleAdmin, "geheim123", start); err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		a, err := s.AuthenticateAdmin(ctx, "anna", "geheim123")
		if err != nil || a.Name != "anna" || a.Role != central.RoleAdmin {
			t.Fatalf("AuthenticateAdmin = %+v, %v", a, err)
		}
	})
	for _, tc := range []struct{ name, user, password string }{
		{"ErrWrongPassword", "anna", "geheim124"},
		{"ErrUnknownUser", "bert", "geheim123"},
		{"ErrEmptyPassword", "anna", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.AuthenticateAdmin(ctx, tc.user, tc.password)
			if veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
				t.Errorf("AuthenticateAdmin(%s) = %v, want %s", tc.user, err, veedel.EUNAUTHORIZED)
			}
		})
	}
	for _, tc := range []struct{ name, user, role, password string }{
		{"ErrRole", "carl", "root", "geheim123"},
		{"ErrShortPassword", "carl", central.RoleAdmin, "abc"},
		{"ErrName", "Carl Meier", central.RoleAdmin, "geheim123"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.CreateAdmin(ctx, tc.user, tc.role, tc.password, start); veedel.ErrorCode(err) != veedel.EINVALID {
				t.Errorf("CreateAdmin = %v, want %s", err, veedel.EINVALID)
			}
		})
	}
	t.Run("PasswordChangeByAnotherProcess", func(t *testing.T) {
		// A successful login is cached; a reset from another process (the
		// adduser command) must still end the old password at once.
		if _, err := s.AuthenticateAdmin(ctx, "anna", "geheim123"); err != nil {
			t.Fatal(err)
		}
		other := mustOpen(t, path)
		if err := other.CreateAdmin(ctx, "anna", central.RoleTechnician, "neues-passwort", start); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AuthenticateAdmin(ctx, "anna", "geheim123"); veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
			t.Errorf("old password after reset: %v, want %s", err, veedel.EUNAUTHORIZED)
		}
		a, err := s.AuthenticateAdmin(ctx, "anna", "neues-passwort")
		if err != nil || a.Role != central.RoleTechnician {
			t.Errorf("new password: %+v, %v; want the technician", a, err)
		}
	})
	t.Run("Sessions", func(t *testing.T) {
		token, err := s.CreateAdminSession(ctx, "anna", start, start.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if a, err := s.AdminSession(ctx, token, start.Add(time.Minute)); err != nil || a.Name != "anna" {
			t.Errorf("AdminSession = %+v, %v", a, err)
		}
		if _, err := s.AdminSession(ctx, token, start.Add(2*time.Hour)); veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
			t.Errorf("expired session: %v, want %s", err, veedel.EUNAUTHORIZED)
		}
		if _, err := s.AdminSession(ctx, token+"x", start); veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
			t.Errorf("wrong token: %v, want %s", err, veedel.EUNAUTHORIZED)
		}
		if err := s.DeleteAdminSession(ctx, token); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AdminSession(ctx, token, start); veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
			t.Errorf("session after logout: %v, want %s", err, veedel.EUNAUTHORIZED)
		}
	})
}
