package central_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/sqlite"
	"github.com/veedel/veedel/sync/changelog"
)

// peersSeen records what a node tells the others.
type peersSeen struct{ advanced, outbound, sms []string }

func (p *peersSeen) SiteAdvanced(site string, _ uint64) { p.advanced = append(p.advanced, site) }
func (p *peersSeen) OutboundAppended(site string)       { p.outbound = append(p.outbound, site) }
func (p *peersSeen) SMSHandover(site string)            { p.sms = append(p.sms, site) }

// TestTwoNodes: two central nodes on one database (here one SQLite file
// opened twice), one told nothing by the other. A batch acked by node A
// is in node B's read model once B catches up; and a batch that continues
// the log at node B before B caught up is folded on top of what A stored,
// never onto a gap: the model B answers with always holds what B acked.
func TestTwoNodes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "central.db")
	open := func() (*sqlite.Store, *central.Central) {
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		c, err := central.New(ctx, s, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s, c
	}
	storeA, a := open()
	_, b := open()
	told := &peersSeen{}
	a.SetPeers(told)
	key := enrollTestKey(t, a, storeA, "kalk")
	log := siteLog(t, 30)
	ingest := func(c *central.Central, entries []changelog.Entry) changelog.Ack {
		t.Helper()
		batch := &changelog.Batch{Version: changelog.SchemaVersion, Site: "kalk", Entries: entries}
		if err := batch.SignFresh(key, time.Now()); err != nil {
			t.Fatal(err)
		}
		ack, err := c.Ingest(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		return ack
	}
	folded := func(c *central.Central) (uint64, int) {
		var acked uint64
		waiting := -1
		c.ViewSite("kalk", func(st *queue.State, cur central.SiteCursor) { acked, waiting = cur.Acked, st.WaitingCount() })
		return acked, waiting
	}
	truth := queue.NewState("kalk")
	for _, e := range log {
		p, err := changelog.DecodePayload(&e, func(t string) (any, bool) { return queue.NewPayload(t) })
		if err != nil {
			t.Fatal(err)
		}
		truth.Apply(queue.Event{Type: e.Type, Entity: e.Entity, At: e.At(), Payload: p})
	}

	if ack := ingest(a, log[:10]); ack.Acked != 10 {
		t.Fatalf("A acked %d, want 10", ack.Acked)
	}
	if !slices.Equal(told.advanced, []string{"kalk"}) {
		t.Errorf("A told the others %v, want kalk advanced", told.advanced)
	}
	if acked, _ := folded(b); acked != 0 {
		t.Fatalf("B has %d before any catch-up, want 0 (nobody told it)", acked)
	}
	lags, err := b.Lags(ctx)
	if err != nil || len(lags) != 1 || lags[0].Stored != 10 || lags[0].Folded != 0 {
		t.Errorf("B's lags = %+v, %v; want kalk stored 10, folded 0", lags, err)
	}

	// The site's next batch reaches B, which was told nothing.
	if ack := ingest(b, log[10:20]); ack.Acked != 20 {
		t.Fatalf("B acked %d, want 20", ack.Acked)
	}
	if acked, _ := folded(b); acked != 20 {
		t.Errorf("B's model is at %d after acking 20", acked)
	}

	// A catches up on B's batch from the store.
	if sites, err := a.CatchUp(ctx); err != nil || !slices.Equal(sites, []string{"kalk"}) {
		t.Errorf("A caught up on %v, %v; want kalk", sites, err)
	}
	ingest(a, log[20:])
	for name, c := range map[string]*central.Central{"A": a, "B": b} {
		if name == "B" {
			if _, err := c.CatchUpSite(ctx, "kalk", time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		acked, waiting := folded(c)
		if acked != uint64(len(log)) || waiting != truth.WaitingCount() {
			t.Errorf("%s: acked %d, %d waiting; want %d, %d", name, acked, waiting, len(log), truth.WaitingCount())
		}
	}
	// Every ticket is in both models, once.
	for _, e := range log {
		if e.Type != queue.TypeTicketIssued {
			continue
		}
		p, _ := changelog.DecodePayload(&e, func(t string) (any, bool) { return queue.NewPayload(t) })
		token := p.(*queue.TicketIssued).Token
		for name, c := range map[string]*central.Central{"A": a, "B": b} {
			if _, ok := c.Ticket(token); !ok {
				t.Errorf("%s lacks ticket %s", name, token)
			}
		}
	}
}
