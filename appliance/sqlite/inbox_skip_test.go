package sqlite_test

import (
	"context"
	"testing"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
)

// TestInboxSkipsUnknownTypes: an entry of a type the build does not know
// is recorded as skipped, durably, and the entries behind it apply; a
// later build that knows the type needs a replay, and clears only the
// skips of the types it knows.
func TestInboxSkipsUnknownTypes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.seed(2)
	out := newOutboundLog(t, "kalk")
	out.add("queue.tomorrows_thing", "ticket/t1", map[int]string{1: "x"})
	group := out.add(queue.TypeGroupDefined, "group/kfz", &queue.GroupDefined{ID: "kfz", Name: "Kfz", NameEN: "Vehicles", Prefix: "K"})
	out.service(queue.ServiceDefined{ID: "ausweis", Name: "Ausweis", NameEN: "ID card", Prefix: "A", ExpectedMinutes: 15})

	// An "older" build that does not know groups.
	older := e.store.AsOlderBuild(queue.TypeGroupDefined)
	before := e.store.LastSeq()
	for i, want := range []string{sqlite.InboxSkipped, sqlite.InboxSkipped, sqlite.InboxApplied} {
		got, err := older.ApplyInbound(ctx, out.entries[i])
		if err != nil || got != want {
			t.Fatalf("entry %d (%s): %q, %v; want %q", i+1, out.entries[i].Type, got, err, want)
		}
	}
	if got, want := e.store.LastSeq(), before+1; got != want {
		t.Errorf("site log last seq = %d, want %d: skips commit no site events", got, want)
	}
	if got, err := older.ApplyInbound(ctx, group); err != nil || got != sqlite.InboxDuplicate {
		t.Errorf("skipped entry again = %q, %v; want a duplicate", got, err)
	}

	e.reopen()
	skipped, err := e.store.SkippedEntries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 2 || skipped[0].Seq != 1 || skipped[0].Type != "queue.tomorrows_thing" || skipped[1].Seq != 2 || skipped[1].Type != queue.TypeGroupDefined {
		t.Fatalf("skipped after a restart = %+v, want seq 1 and 2 with their types", skipped)
	}
	rows, err := e.store.InboxEntries(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].Outcome != sqlite.InboxSkipped || rows[1].Outcome != sqlite.InboxSkipped {
		t.Errorf("inbox rows = %+v, want two skipped, one applied", rows)
	}

	older = e.store.AsOlderBuild(queue.TypeGroupDefined)
	if need, err := older.RejoinNeeded(ctx); err != nil || need {
		t.Errorf("older build: RejoinNeeded = %v, %v; want false (it knows none of the skipped types)", need, err)
	}
	if need, err := e.store.RejoinNeeded(ctx); err != nil || !need {
		t.Errorf("current build: RejoinNeeded = %v, %v; want true (it knows groups)", need, err)
	}
	if n, err := older.ClearSkipped(ctx, 3); err != nil || n != 0 {
		t.Errorf("older build: ClearSkipped = %d, %v; want 0", n, err)
	}
	if n, err := e.store.ClearSkipped(ctx, 1); err != nil || n != 0 {
		t.Errorf("ClearSkipped(1) = %d, %v; want 0: the group was skipped after seq 1", n, err)
	}
	if n, err := e.store.ClearSkipped(ctx, 3); err != nil || n != 1 {
		t.Errorf("ClearSkipped(3) = %d, %v; want the group's skip cleared", n, err)
	}
	skipped, err = e.store.SkippedEntries(ctx)
	if err != nil || len(skipped) != 1 || skipped[0].Type != "queue.tomorrows_thing" {
		t.Errorf("skipped after clearing = %+v, %v; want the type still unknown", skipped, err)
	}
	if need, err := e.store.RejoinNeeded(ctx); err != nil || need {
		t.Errorf("RejoinNeeded after clearing = %v, %v; want false", need, err)
	}
}

// TestInboxRecordsAcknowledgedReplay: the replay central acknowledged is
// recorded durably until ClearSkipped forgets it with the skips it caught
// up on.
func TestInboxRecordsAcknowledgedReplay(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.seed(1)
	pending := func() (uint64, uint64, bool) {
		t.Helper()
		after, through, ok, err := e.store.PendingReplay(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return after, through, ok
	}
	if _, _, ok := pending(); ok {
		t.Fatal("a new store has a pending replay")
	}
	out := newOutboundLog(t, "kalk")
	out.add(queue.TypeGroupDefined, "group/kfz", &queue.GroupDefined{ID: "kfz", Name: "Kfz", NameEN: "Vehicles", Prefix: "K"})
	older := e.store.AsOlderBuild(queue.TypeGroupDefined)
	if got, err := older.ApplyInbound(ctx, out.entries[0]); err != nil || got != sqlite.InboxSkipped {
		t.Fatalf("group on the older build = %q, %v; want skipped", got, err)
	}

	if err := e.store.ReplayAcknowledged(ctx, 1, 3); err != nil {
		t.Fatal(err)
	}
	if err := e.store.ReplayAcknowledged(ctx, 1, 7); err != nil {
		t.Fatalf("a second acknowledgement: %v, want it to replace the first", err)
	}
	if err := e.store.ReplayAcknowledged(ctx, 5, 4); err == nil {
		t.Error("an acknowledgement through a seq below its after was recorded")
	}
	e.reopen()
	if after, through, ok := pending(); !ok || after != 1 || through != 7 {
		t.Fatalf("pending replay after a reopen = %d..%d (%v), want 1..7", after, through, ok)
	}

	if n, err := e.store.ClearSkipped(ctx, 1); err != nil || n != 1 {
		t.Fatalf("ClearSkipped(1) = %d, %v; want the group's skip cleared", n, err)
	}
	if _, _, ok := pending(); ok {
		t.Error("the replay is still pending after ClearSkipped")
	}
	e.reopen()
	if _, _, ok := pending(); ok {
		t.Error("the replay is pending again after a reopen")
	}

	// The older build's wrapper records and clears the same row.
	older = e.store.AsOlderBuild(queue.TypeGroupDefined)
	if err := older.ReplayAcknowledged(ctx, 1, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := older.ClearSkipped(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := pending(); ok {
		t.Error("the replay is still pending after the older build's ClearSkipped")
	}
}
