package postgres_test

import (
	"context"
	"errors"
	"fmt"
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
	nodes := twoNodes(t, url)
	for _, c := range nodes {
		c.Plates().SetSites([]string{"zulassung"})
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

// TestTwoNodesSubmitOnce: the same form posted to two central nodes at
// once (a double tap a load balancer splits) is made once; both posts get
// its token. A first post that failed makes nothing, and the next post
// makes it afresh.
func TestTwoNodesSubmitOnce(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	nodes := twoNodes(t, url)
	const key = "AAAAAAAAAAAAAAAAAAAAAA" // 22 characters, as a form's
	var made sync.Mutex
	n := 0
	first := func() (string, error) {
		made.Lock()
		n++
		token := fmt.Sprintf("token-%d", n)
		made.Unlock()
		time.Sleep(20 * time.Millisecond) // the hold being made
		return token, nil
	}
	type answer struct {
		token  string
		repeat bool
	}
	answers := make(chan answer, 8)
	var wg sync.WaitGroup
	for i := range 8 {
		c := nodes[i%2]
		wg.Go(func() {
			token, repeat, err := c.SubmitOnce(ctx, "booking", key, time.Hour, first)
			if err != nil {
				t.Error(err)
			}
			answers <- answer{token, repeat}
		})
	}
	wg.Wait()
	close(answers)
	firsts := 0
	for a := range answers {
		if a.token != "token-1" {
			t.Errorf("a post got %q, want the first post's token-1", a.token)
		}
		if !a.repeat {
			firsts++
		}
	}
	if n != 1 || firsts != 1 {
		t.Errorf("8 posts of one form on two nodes made %d (%d answered as first), want 1", n, firsts)
	}

	// Another form whose first post fails: nothing recorded, the next
	// post (on the other node) makes it.
	const other = "BBBBBBBBBBBBBBBBBBBBBB"
	if _, _, err := nodes[0].SubmitOnce(ctx, "booking", other, time.Hour, func() (string, error) { return "", errors.New("slot taken") }); err == nil {
		t.Fatal("the failing first post reported no error")
	}
	token, repeat, err := nodes[1].SubmitOnce(ctx, "booking", other, time.Hour, first)
	if err != nil || repeat || token != "token-2" {
		t.Errorf("after a failed first post: %q, repeat %v, %v; want a new token-2", token, repeat, err)
	}
	// The same key on another form kind is another form.
	if token, repeat, _ := nodes[0].SubmitOnce(ctx, "order", key, time.Hour, first); repeat || token != "token-3" {
		t.Errorf("the booking's key on the order form: %q, repeat %v; want a new token-3", token, repeat)
	}
}

// twoNodes opens two central nodes on the database at url, each with a
// store handle of its own.
func twoNodes(t *testing.T, url string) []*central.Central {
	t.Helper()
	var nodes []*central.Central
	for range 2 {
		s, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		c, err := central.New(context.Background(), s, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, c)
	}
	return nodes
}
