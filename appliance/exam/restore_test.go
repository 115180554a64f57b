package exam_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/sitekey"
	"github.com/veedel/veedel/workflow"
)

// freshStore opens an empty store for the site with the box key of key
// (nil: a new one).
func freshStore(t *testing.T, now time.Time, key ...ed25519.PrivateKey) *sqlite.Store {
	t.Helper()
	k := ed25519.PrivateKey(nil)
	if len(key) > 0 {
		k = key[0]
	} else {
		_, k, _ = ed25519.GenerateKey(rand.Reader)
	}
	box, err := sitekey.BoxKey(k)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "site.db"), siteID, sqlite.Options{Now: func() time.Time { return now }, BoxKey: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestRestoreWithEscrow: a store restored from the site's log (in two
// pages) with the escrow keys, and no key of the old box, holds every
// exam record byte for byte; the data keys wrapped again to its box key
// let a store with only that box key open them from its own log; a
// tampered, gapped or foreign log is refused and leaves nothing behind.
func TestRestoreWithEscrow(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	s.assign("c-1", child, "RESTORE1")
	id := s.only(t)
	if err := s.exec("assistenz", exam.RoleAssistant, func(c exam.Command, q workflow.Querier) ([]workflow.Event, error) {
		return c.Record(ctx, q, id, fullInput())
	}); err != nil {
		t.Fatal(err)
	}
	// The escrow key is replaced: the second data key is escrowed to it.
	newEscrow := filepath.Join(t.TempDir(), "new.key")
	if _, err := exam.WriteEscrowKey(newEscrow); err != nil {
		t.Fatal(err)
	}
	pub, _ := exam.ReadEscrowPublic(newEscrow + ".pub")
	if err := exam.UseEscrow(ctx, s.store.Writer(), pub); err != nil {
		t.Fatal(err)
	}
	if err := s.exec("assistenz", exam.RoleAssistant, func(c exam.Command, q workflow.Querier) ([]workflow.Event, error) {
		return c.Record(ctx, q, id, exam.Input{HeightCM: f(119), WeightKG: f(26.5)})
	}); err != nil {
		t.Fatal(err)
	}
	want, _ := exam.Records(ctx, s.store.Read())
	entries, _ := s.store.EntriesAfter(ctx, 0, 10000, 1<<24)
	oldPriv, _ := exam.ReadEscrowPrivate(s.escrow)
	newPriv, _ := exam.ReadEscrowPrivate(newEscrow)
	escrows := []*ecdh.PrivateKey{oldPriv, newPriv}

	// Refusals: nothing is written.
	bad := freshStore(t, s.now)
	tampered := append([]changelog.Entry(nil), entries...)
	tampered[3].Payload = append(bytes.Clone(tampered[3].Payload[:len(tampered[3].Payload)-1]), tampered[3].Payload[len(tampered[3].Payload)-1]^1)
	gapped := append(append([]changelog.Entry(nil), entries[:3]...), entries[4:]...)
	for name, log := range map[string][]changelog.Entry{"Tampered": tampered, "Gap": gapped, "NotFromTheStart": entries[1:]} {
		if _, err := bad.Restore(ctx, log, exam.EscrowOpener(escrows)); err == nil {
			t.Fatalf("%s: restored", name)
		}
		if bad.LastSeq() != 0 {
			t.Fatalf("%s: a refused restore left entries", name)
		}
	}
	if _, err := s.store.Restore(ctx, entries, nil); err == nil {
		t.Fatal("restored into a store with its own log")
	}

	// Without the escrow keys the data keys stay closed.
	closed := freshStore(t, s.now)
	if _, err := closed.Restore(ctx, entries, nil); err != nil {
		t.Fatal(err)
	}
	if ids, _ := exam.Unopened(ctx, closed.Read()); len(ids) != 2 {
		t.Fatalf("%d keys unopened without escrow, want 2", len(ids))
	}
	if recs, _ := exam.Records(ctx, closed.Read()); len(recs) != 0 {
		t.Fatalf("%d records without the keys", len(recs))
	}

	// With them, in two pages.
	_, newBox, _ := ed25519.GenerateKey(rand.Reader)
	r := freshStore(t, s.now.Add(time.Hour), newBox)
	half := len(entries) / 2
	if last, err := r.Restore(ctx, entries[:half], exam.EscrowOpener(escrows)); err != nil || last != entries[half-1].Seq {
		t.Fatalf("first page: %d %v", last, err)
	}
	if last, err := r.Restore(ctx, entries[half:], exam.EscrowOpener(escrows)); err != nil || last != entries[len(entries)-1].Seq {
		t.Fatalf("second page: %d %v", last, err)
	}
	got, _ := exam.Records(ctx, r.Read())
	if len(got) != 1 || !bytes.Equal(got[id], want[id]) {
		t.Fatalf("restored records differ: %d records", len(got))
	}
	if ids, _ := exam.Unopened(ctx, r.Read()); len(ids) != 0 {
		t.Fatalf("keys unopened: %v", ids)
	}
	if p, _ := exam.EscrowInForce(ctx, r.Read()); !bytes.Equal(p, pub) {
		t.Fatal("the escrow in force is not the newest key's")
	}
	var rewrapped []queue.Event
	rewrapped, err := r.ExecuteTx(ctx, func(_ *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
		return exam.Rewrap(ctx, q, r.Env(), at)
	})
	if err != nil || len(rewrapped) != 2 {
		t.Fatalf("rewrap: %d events, %v", len(rewrapped), err)
	}
	all, _ := r.EntriesAfter(ctx, 0, 10000, 1<<24)
	if len(all) != len(entries)+2 || !bytes.Equal(all[len(entries)-1].Hash, entries[len(entries)-1].Hash) {
		t.Fatalf("restored log: %d entries, want %d and the two keys", len(all), len(entries))
	}
	// The new box key alone opens the keys from the restored log: a
	// store with only that key (no escrow) holds them once it has read
	// the re-wrapped ones.
	own := freshStore(t, s.now.Add(2*time.Hour), newBox)
	if _, err := own.Restore(ctx, all, nil); err != nil {
		t.Fatal(err)
	}
	if ids, _ := exam.Unopened(ctx, own.Read()); len(ids) != 0 {
		t.Fatalf("the new box key does not open the re-wrapped keys: %v", ids)
	}
	// The escrow keys open the whole log, re-wrapped keys included, to
	// the same record.
	if again, err := exam.OpenWithEscrowKeys(escrows, all); err != nil || !bytes.Equal(again[id], want[id]) {
		t.Fatalf("escrow over the restored log: %v", err)
	}
}
