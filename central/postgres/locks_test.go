package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/plates"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/postgres"
	"github.com/veedel/veedel/central/postgres/pgtest"
	"github.com/veedel/veedel/sync/changelog"
)

// TestTwoNodesCutNoBlockTwice: two central nodes on one PostgreSQL (two
// store handles, no gossip between them, so that only the database lock
// and the catch-up under it keep them apart) refill the registration
// site's plate blocks at the same moment, again and again. The site gets
// one block, not one from each node, and no plate is in two blocks.
func TestTwoNodesCutNoBlockTwice(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	var nodes []*central.Central
	for range 2 {
		s, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		c, err := central.New(ctx, s, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Plates().SetSites([]string{"zulassung"})
		nodes = append(nodes, c)
	}
	// The site has sent its log (a site gets blocks once it has).
	store, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	e, err := changelog.NewEntry("zulassung", nil, changelog.HLCAt(time.Now()), queue.TypeSiteDescribed, "site/zulassung",
		&queue.SiteDescribed{ID: "zulassung", Name: "Kfz-Zulassungsstelle", TimeZone: "Europe/Berlin"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.Append(ctx, &changelog.Batch{Version: changelog.SchemaVersion, Site: "zulassung", Entries: []changelog.Entry{e}}, time.Now(), true); err != nil {
		t.Fatal(err)
	}
	for _, c := range nodes {
		if _, err := c.CatchUpSite(ctx, "zulassung", time.Time{}); err != nil {
			t.Fatal(err)
		}
	}

	var wg sync.WaitGroup
	for _, c := range nodes {
		for range 3 {
			wg.Go(func() {
				if err := c.RefillPlates(ctx); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()

	entries, _, err := store.Outbound(ctx, "zulassung", 0, 1000, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []plates.Block
	for i := range entries {
		if entries[i].Type != plates.TypeBlockGranted {
			continue
		}
		var g plates.BlockGranted
		if err := changelog.Unmarshal(entries[i].Payload, &g); err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, g.Block)
	}
	if len(blocks) != 1 {
		t.Errorf("the site got %d blocks from two nodes refilling at once, want 1: %+v", len(blocks), blocks)
	}
	for i := range blocks {
		for j := range i {
			a, b := blocks[i], blocks[j]
			if a.ID == b.ID || a.Letters == b.Letters && a.First <= b.Last && b.First <= a.Last {
				t.Errorf("blocks %+v and %+v overlap", a, b)
			}
		}
	}
}
