package central_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/sqlite"
	"github.com/veedel/veedel/central/storetest"
	"github.com/veedel/veedel/sync/blob"
	"github.com/veedel/veedel/sync/changelog"
)

// RunSnapshots takes a snapshot once enough entries were folded since the
// last, not before, and a last one when it stops; a restart starts from
// it with the read models the running central had.
func TestRunSnapshots(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "central.db")
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c, err := central.New(ctx, store, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	key := enrollTestKey(t, c, store, "kalk")
	log := siteLog(t, 300)
	ingest := func(lo, hi int) {
		t.Helper()
		b := &changelog.Batch{Version: changelog.SchemaVersion, Site: "kalk", Entries: log[lo:hi]}
		if err := b.SignFresh(key, time.Now()); err != nil {
			t.Fatal(err)
		}
		if ack, err := c.Ingest(ctx, b); err != nil || ack.Acked != uint64(hi) {
			t.Fatalf("Ingest = %+v, %v", ack, err)
		}
	}
	covered := func() uint64 {
		t.Helper()
		snap, ok, err := store.LoadSnapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return 0
		}
		for _, p := range snap.Positions {
			if p.Site == "kalk" {
				return p.Log
			}
		}
		return 0
	}

	run, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { c.RunSnapshots(run, 5*time.Millisecond, 100, time.Hour) })
	ingest(0, 50)
	time.Sleep(100 * time.Millisecond)
	if got := covered(); got != 0 {
		t.Fatalf("a snapshot at %d after 50 entries; want none before 100", got)
	}
	ingest(50, 200)
	deadline := time.Now().Add(10 * time.Second)
	for covered() != 200 {
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("no snapshot at 200 after 150 more entries (at %d)", covered())
		}
		time.Sleep(5 * time.Millisecond)
	}
	ingest(200, 230)
	time.Sleep(50 * time.Millisecond)
	if got := covered(); got != 200 {
		t.Fatalf("a snapshot at %d after 30 more entries; want it to stay at 200", got)
	}
	stop()
	wg.Wait()
	if got := covered(); got != 230 {
		t.Fatalf("snapshot at %d after stopping; want the last one at 230", got)
	}

	var buf bytes.Buffer
	again, err := central.New(ctx, store, nil, slog.New(slog.NewTextHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "restored from their snapshot") {
		t.Fatalf("the restart did not start from the snapshot:\n%s", buf.String())
	}
	if !sameReadModels(t, again, c) {
		t.Fatal("the read models after the restart differ from those before")
	}
	g, w := again.Sites(), c.Sites()
	for _, l := range [][]central.SiteSummary{g, w} {
		for i := range l {
			l[i].LastSync = time.UnixMilli(l[i].LastSync.UnixMilli()) // as the store keeps it
		}
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("Sites after the restart = %+v, want %+v", g, w)
	}
}

// Snapshots taken while sites' batches arrive at once each cover exactly
// what their positions say: a restart from any of them, folding the rest,
// has the read models of a full fold (an entry folded twice would count
// a plate twice, one missed would lose a ticket).
func TestSnapshotDuringIngest(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "central.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c, err := central.New(ctx, store, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	sites := []string{"chorweiler", "kalk", "porz"}
	var wg sync.WaitGroup
	for _, site := range sites {
		key := enrollTestKey(t, c, store, site)
		log := storetest.HistoryLog(t, site, 1500, 30)
		wg.Go(func() {
			for lo := 0; lo < len(log); lo += 25 {
				b := &changelog.Batch{Version: changelog.SchemaVersion, Site: site, Entries: log[lo:min(lo+25, len(log))]}
				if err := b.SignFresh(key, time.Now()); err != nil {
					t.Error(err)
					return
				}
				if _, err := c.Ingest(ctx, b); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var snaps []central.StoredSnapshot
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		if saved, err := c.SaveSnapshot(ctx); err != nil || !saved {
			t.Fatalf("SaveSnapshot = %v, %v", saved, err)
		}
		snap, _, err := store.LoadSnapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, snap)
	}
	if len(snaps) < 3 {
		t.Fatalf("%d snapshots during ingest; want several", len(snaps))
	}
	full, err := central.New(ctx, fullFoldStore{store}, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(snaps)-1; i += max(1, len(snaps)/6) { // six of them
		snap := snaps[i]
		if err := store.SaveSnapshot(ctx, snap); err != nil {
			t.Fatal(err)
		}
		restarted, err := central.New(ctx, store, nil, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if !sameReadModels(t, restarted, full) {
			t.Fatalf("restart from snapshot %d of %d (at %+v): read models differ from the full fold's", i, len(snaps), snap.Positions)
		}
	}
}

// sameReadModels reports whether got's read models are want's, frozen.
func sameReadModels(t *testing.T, got, want *central.Central) bool {
	t.Helper()
	g, _, err := got.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := want.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(g.Positions, w.Positions) && bytes.Equal(g.Data, w.Data)
}

// fullFoldStore is a store without snapshots.
type fullFoldStore struct{ central.LogStore }

// The files the logs reference (which a site may send up or fetch) are
// part of the snapshot: a restart from it still lets the site have them.
func TestSnapshotKeepsBlobReferences(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "central.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c, err := central.New(ctx, store, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	key := enrollTestKey(t, c, store, "kalk")
	b := &changelog.Batch{Version: changelog.SchemaVersion, Site: "kalk", Entries: siteLog(t, 20)}
	if err := b.SignFresh(key, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Ingest(ctx, b); err != nil {
		t.Fatal(err)
	}
	up := blob.Ref{SHA256: strings.Repeat("a", 64), Size: 10, Type: "application/pdf"}
	down := blob.Ref{SHA256: strings.Repeat("b", 64), Size: 20, Type: "image/jpeg"}
	c.ReferenceBlob("kalk", blob.Up, up)
	c.ReferenceBlob("kalk", blob.Down, down)
	if saved, err := c.SaveSnapshot(ctx); err != nil || !saved {
		t.Fatalf("SaveSnapshot = %v, %v", saved, err)
	}
	again, err := central.New(ctx, store, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.BlobFromSite("kalk", up.SHA256); err != nil || got != up {
		t.Errorf("BlobFromSite after the restart = %+v, %v; want %+v", got, err, up)
	}
	if got, err := again.BlobForSite("kalk", down.SHA256); err != nil || got != down {
		t.Errorf("BlobForSite after the restart = %+v, %v; want %+v", got, err, down)
	}
	if _, err := again.BlobForSite("kalk", up.SHA256); err == nil {
		t.Error("BlobForSite of a file only the site's own log references: no error")
	}
}
