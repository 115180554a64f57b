package sqlite_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
)

// busyDays issues, calls and finishes tickets over several days.
func busyDays(e *env, days int) {
	e.t.Helper()
	for d := 0; d < days; d++ {
		e.clock.Set(monday(8, 0).AddDate(0, 0, d))
		for i := 0; i < 12; i++ {
			e.issue("ausweis")
			e.clock.Add(time.Minute)
		}
		for i := 0; i < 8; i++ {
			e.exec(callNext("1", "anna"))
			e.clock.Add(3 * time.Minute)
			e.exec(finish("1"))
		}
	}
}

func TestSnapshotAndCompaction(t *testing.T) {
	ctx := context.Background()

	t.Run("ReopenFromSnapshot", func(t *testing.T) {
		e := newEnv(t)
		e.seed(2)
		busyDays(e, 2)
		if _, err := e.store.WriteSnapshot(ctx); err != nil {
			t.Fatal(err)
		}
		busyDays(e, 1) // more after the snapshot
		want, last := e.snapshot(), e.store.LastSeq()
		e.reopen()
		if got := e.snapshot(); !reflect.DeepEqual(got, want) {
			t.Fatalf("state after reopening from a snapshot differs:\n got %+v\nwant %+v", got, want)
		}
		if got := e.store.LastSeq(); got != last {
			t.Errorf("LastSeq after reopen = %d, want %d", got, last)
		}
	})

	t.Run("CompactsOnlyAckedAndOld", func(t *testing.T) {
		e := newEnv(t)
		e.seed(2)
		busyDays(e, 5)
		last := e.store.LastSeq()
		acked := last - 40 // central has not yet seen the newest 40 entries
		before := e.clock.Now().Add(-36 * time.Hour)

		removed, err := e.store.Compact(ctx, before, acked)
		if err != nil {
			t.Fatal(err)
		}
		if removed == 0 {
			t.Fatal("Compact removed nothing; the test proves nothing")
		}
		through, err := e.store.CompactedThrough(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if through != uint64(removed) || through > acked {
			t.Errorf("compacted through %d after removing %d entries with acked %d", through, removed, acked)
		}
		// What central still needs is all there, consecutive.
		rest, err := e.store.EntriesAfter(ctx, acked, 10_000, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		if len(rest) != 40 || rest[0].Seq != acked+1 || rest[len(rest)-1].Seq != last {
			t.Errorf("entries after acked: %d from %d, want 40 from %d to %d", len(rest), rest[0].Seq, acked+1, last)
		}
		// Asking for compacted entries is a clear conflict, not silence.
		_, err = e.store.EntriesAfter(ctx, 0, 10, 1<<20)
		wantCode(t, err, veedel.ECONFLICT)

		// Nothing newer than the window went, whatever was acked.
		var oldest int64
		if err := e.openSecond().QueryRow(`SELECT min(hlc) FROM changelog`).Scan(&oldest); err != nil {
			t.Fatal(err)
		}
		if got := time.UnixMilli(oldest >> 16); got.Before(before) && through < acked {
			t.Errorf("an entry from %v before the window %v was kept although acked", got, before)
		}

		// Reopen: the state is the same, and the chain continues.
		want := e.snapshot()
		e.reopen()
		if got := e.snapshot(); !reflect.DeepEqual(got, want) {
			t.Fatalf("state after compaction and reopen differs:\n got %+v\nwant %+v", got, want)
		}
		tk := e.issue("meldung")
		next, err := e.store.EntriesAfter(ctx, last, 10, 1<<20)
		if err != nil || len(next) != 1 || !next[0].Follows(rest[len(rest)-1].Seq, rest[len(rest)-1].Hash) {
			t.Fatalf("the entry for %s does not continue the chain: %v %+v", tk.Number, err, next)
		}
	})

	t.Run("NothingAckedNothingRemoved", func(t *testing.T) {
		e := newEnv(t)
		e.seed(1)
		busyDays(e, 3)
		removed, err := e.store.Compact(ctx, e.clock.Now(), 0)
		if err != nil || removed != 0 {
			t.Errorf("Compact with nothing acked removed %d (err %v), want 0", removed, err)
		}
		if got := len(e.entries()); uint64(got) != e.store.LastSeq() {
			t.Errorf("log has %d entries, want all %d", got, e.store.LastSeq())
		}
	})

	t.Run("SnapshotOfEmptyStore", func(t *testing.T) {
		e := newEnv(t)
		if seq, err := e.store.WriteSnapshot(ctx); err != nil || seq != 0 {
			t.Errorf("WriteSnapshot on an empty log = %d, %v; want 0, nil", seq, err)
		}
		e.store.View(func(st *queue.State) {
			if len(st.Tickets) != 0 {
				t.Error("empty store has tickets")
			}
		})
	})
}
