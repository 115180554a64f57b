package cluster_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/cluster"
	"github.com/veedel/veedel/central/sqlite"
	"github.com/veedel/veedel/sync/changelog"
)

// TestTwoNodesFanOut: two nodes on one database (one SQLite file, as two
// processes on one PostgreSQL would share it), joined on loopback with an
// encrypted gossip. What node A commits and announces is in node B's read
// model well within a second, long before B's periodic catch-up; both
// list each other alive, with their tags.
func TestTwoNodesFanOut(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path := filepath.Join(t.TempDir(), "central.db")
	key, err := cluster.ParseKey("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		t.Fatal(err)
	}
	type node struct {
		store *sqlite.Store
		c     *central.Central
		cl    *cluster.Cluster
	}
	start := func(name string, join []string) node {
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		c, err := central.New(ctx, s, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		cl, err := cluster.Start(cluster.Config{Name: name, Bind: "127.0.0.1:0", Join: join, Key: key,
			HTTP: "http://" + name + ".test:8080", Version: "test"}, c)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cl.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		return node{s, c, cl}
	}
	a := start("a", nil)
	b := start("b", []string{a.cl.Addr()})
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := b.cl.Status()
		if len(st.Nodes) == 2 && st.Nodes[0].State == "alive" && st.Nodes[1].State == "alive" {
			if !st.Encrypted || st.Nodes[0].HTTP != "http://a.test:8080" || st.Nodes[0].Version != "test" || st.Nodes[0].TagsError != "" || !st.Nodes[1].Self {
				t.Errorf("B sees %+v, want A and itself with their tags, encrypted", st)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B sees %+v, want two alive nodes", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Let B's first catch-up pass, so that what follows is the fan-out's.
	time.Sleep(200 * time.Millisecond)

	entry, err := changelog.NewEntry("kalk", nil, changelog.HLCAt(time.Now()), queue.TypeSiteDescribed, "site/kalk",
		&queue.SiteDescribed{ID: "kalk", Name: "Kundenzentrum Kalk", TimeZone: "Europe/Berlin"})
	if err != nil {
		t.Fatal(err)
	}
	committed := time.Now()
	if _, acked, err := a.store.Append(ctx, &changelog.Batch{Version: changelog.SchemaVersion, Site: "kalk", Entries: []changelog.Entry{entry}}, committed, true); err != nil || acked != 1 {
		t.Fatalf("append at A: %d, %v", acked, err)
	}
	woken, end := b.c.Subscribe("kalk")
	defer end()
	a.cl.SiteAdvanced("kalk", 1)
	select {
	case <-woken:
	case <-time.After(cluster.CatchUpEvery - 200*time.Millisecond):
		t.Fatal("B's subscribers were not woken before its periodic catch-up")
	}
	took := time.Since(committed)
	var acked uint64
	var name string
	b.c.ViewSite("kalk", func(st *queue.State, cur central.SiteCursor) { acked, name = cur.Acked, st.Site.Name })
	if acked != 1 || name != "Kundenzentrum Kalk" {
		t.Errorf("B's model: acked %d, name %q; want A's entry", acked, name)
	}
	t.Logf("A's commit in B's read model after %v", took.Round(time.Millisecond))
	if took > time.Second {
		t.Errorf("B followed after %v, want within 1 s", took)
	}
	if st := b.cl.Status(); st.LastEventName != "veedel-advanced" || st.LastEvent.IsZero() {
		t.Errorf("B's last event = %q at %v, want veedel-advanced", st.LastEventName, st.LastEvent)
	}
}
