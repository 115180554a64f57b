package storetest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	appsqlite "github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/central"
)

// A group edited after its services has the newest reference row; a site
// joining afterwards must still get the group before the services in it,
// or its inbox refuses them ("group not known") for good.
func testJoinSiteGroupEditedAfterItsService(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	clock := hlcClock()
	inGroup := central.Outgoing{Type: queue.TypeServiceDefined, Entity: "service/ausweis",
		Payload: &queue.ServiceDefined{ID: "ausweis", Name: "Ausweis", NameEN: "ID card", Prefix: "P", ExpectedMinutes: 10, Group: "pass"}}
	for _, o := range []central.Outgoing{group("pass", "Pass", "P"), inGroup, group("pass", "Ausweis und Pass", "P")} {
		if _, err := s.AppendOutbound(ctx, "", []central.Outgoing{o}, start, clock); err != nil {
			t.Fatal(err)
		}
	}

	knownSite(t, s, "nippes")
	if joined, err := s.JoinSite(ctx, "nippes", start, clock); err != nil || !joined {
		t.Fatalf("JoinSite(nippes) = %v, %v; want true", joined, err)
	}
	entries := outbound(t, s, "nippes")
	for i := 1; i < len(entries); i++ {
		if entries[i].HLC <= entries[i-1].HLC {
			t.Errorf("outbound %d: HLC %d not after %d", entries[i].Seq, entries[i].HLC, entries[i-1].HLC)
		}
	}

	// A fresh appliance takes the site's outbound log in.
	app, err := appsqlite.Open(ctx, filepath.Join(t.TempDir(), "nippes.db"), "nippes", appsqlite.Options{Now: func() time.Time { return start }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	for _, e := range entries {
		outcome, err := app.ApplyInbound(ctx, e)
		if err != nil || outcome != "applied" {
			t.Errorf("apply %d (%s): %q, %v; want applied", e.Seq, e.Entity, outcome, err)
		}
	}
	app.View(func(st *queue.State) {
		svc, g := st.Services["ausweis"], st.Groups["pass"]
		switch {
		case g == nil || g.Name != "Ausweis und Pass":
			t.Errorf("group pass = %+v, want it renamed", g)
		case svc == nil || svc.Group != "pass":
			t.Errorf("service ausweis = %+v, want it in group pass", svc)
		}
	})
}
