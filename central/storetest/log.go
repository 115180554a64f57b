package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
)

// siteLog builds n chained ticket entries of site, one second apart from
// start.
func siteLog(t testing.TB, site string, n int) []changelog.Entry {
	t.Helper()
	entries := make([]changelog.Entry, n)
	var prev *changelog.Entry
	for i := range entries {
		id := fmt.Sprintf("2026-03-04/B%03d", i+1)
		hlc := changelog.HLCAt(start.Add(time.Duration(i) * time.Second))
		e, err := changelog.NewEntry(site, prev, hlc, queue.TypeTicketIssued, "ticket/"+id,
			&queue.TicketIssued{ID: id, Token: fmt.Sprintf("token-%s-%015d", site, i), Number: id[11:], Service: "meldung", Channel: "kiosk"})
		if err != nil {
			t.Fatal(err)
		}
		entries[i] = e
		prev = &entries[i]
	}
	return entries
}

func batchOf(site string, entries []changelog.Entry) *changelog.Batch {
	return &changelog.Batch{Version: changelog.SchemaVersion, Site: site, Entries: entries}
}

// stored reads a site's whole log and checks it is one chain from seq 1.
func stored(t *testing.T, s Store, site string) []changelog.Entry {
	t.Helper()
	var out []changelog.Entry
	if err := s.Scan(context.Background(), site, 0, func(e changelog.Entry) error { out = append(out, e); return nil }); err != nil {
		t.Fatal(err)
	}
	for i := range out {
		var prevSeq uint64
		var prevHash []byte
		if i > 0 {
			prevSeq, prevHash = out[i-1].Seq, out[i-1].Hash
		}
		if err := out[i].Verify(); err != nil || !out[i].Follows(prevSeq, prevHash) || out[i].Site != site {
			t.Fatalf("%s's stored entry %d does not continue the chain after %d (%v)", site, out[i].Seq, prevSeq, err)
		}
	}
	return out
}

// Append stores what continues the chain, skips what it has (a resend),
// refuses a fork or a gap with ECONFLICT (keeping what came before), and
// moves the last contact only for a contact.
func testAppend(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	log := siteLog(t, "kalk", 10)

	accepted, acked, err := s.Append(ctx, batchOf("kalk", log[:4]), start, true)
	if err != nil || len(accepted) != 4 || acked != 4 {
		t.Fatalf("first batch: %d accepted, acked %d, %v; want 4, 4", len(accepted), acked, err)
	}
	// A resend overlapping what is stored: only the new entries count.
	accepted, acked, err = s.Append(ctx, batchOf("kalk", log[2:6]), start.Add(time.Minute), false)
	if err != nil || len(accepted) != 2 || accepted[0].Seq != 5 || acked != 6 {
		t.Fatalf("overlapping resend: %d accepted, acked %d, %v; want 5 and 6, acked 6", len(accepted), acked, err)
	}
	// A fork: entry 6 with another content.
	forked := siteLog(t, "kalk", 6)
	forked[5].Entity = "ticket/other"
	forked[5].Hash, _ = forked[5].ComputeHash()
	if _, acked, err = s.Append(ctx, batchOf("kalk", forked[5:6]), start, true); veedel.ErrorCode(err) != veedel.ECONFLICT || acked != 6 {
		t.Errorf("forked entry: acked %d, %v; want 6, ECONFLICT", acked, err)
	}
	// A gap: 8 without 7; and 7, 8 then a gap: 7 and 8 stay stored.
	if accepted, acked, err = s.Append(ctx, batchOf("kalk", log[7:8]), start, true); veedel.ErrorCode(err) != veedel.ECONFLICT || len(accepted) != 0 || acked != 6 {
		t.Errorf("gap: %d accepted, acked %d, %v; want none, 6, ECONFLICT", len(accepted), acked, err)
	}
	gappy := append(append([]changelog.Entry{}, log[6:8]...), log[9])
	if accepted, acked, err = s.Append(ctx, batchOf("kalk", gappy), start, true); veedel.ErrorCode(err) != veedel.ECONFLICT || len(accepted) != 2 || acked != 8 {
		t.Errorf("batch with a gap after 8: %d accepted, acked %d, %v; want 2, 8, ECONFLICT", len(accepted), acked, err)
	}
	all := stored(t, s, "kalk")
	if len(all) != 8 {
		t.Fatalf("stored %d entries, want 8", len(all))
	}
	for i := range all {
		if !bytes.Equal(all[i].Hash, log[i].Hash) || !bytes.Equal(all[i].Payload, log[i].Payload) || all[i].HLC != log[i].HLC || all[i].Version != log[i].Version {
			t.Errorf("stored entry %d differs from the site's", all[i].Seq)
		}
	}
	if all[0].Prev != nil {
		t.Errorf("first entry's prev = %x, want nil", all[0].Prev)
	}
	var after []uint64
	if err := s.Scan(ctx, "kalk", 6, func(e changelog.Entry) error { after = append(after, e.Seq); return nil }); err != nil || len(after) != 2 || after[0] != 7 {
		t.Errorf("Scan after 6 = %v, %v; want [7 8]", after, err)
	}

	// A heartbeat without contact changes nothing; another site is apart.
	if _, _, err := s.Append(ctx, batchOf("porz", nil), start.Add(time.Hour), false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Append(ctx, batchOf("porz", siteLog(t, "porz", 1)), start.Add(2*time.Hour), true); err != nil {
		t.Fatal(err)
	}
	cursors, err := s.Sites(ctx)
	if err != nil || len(cursors) != 2 {
		t.Fatalf("Sites = %+v, %v; want kalk and porz", cursors, err)
	}
	kalk, porz := cursors[0], cursors[1]
	if kalk.Site != "kalk" || kalk.Acked != 8 || kalk.LastHLC != log[7].HLC || !kalk.LastContact.Equal(start) {
		t.Errorf("kalk's cursor = %+v; want acked 8, the HLC of 8, contact at %v (the resend without contact left it)", kalk, start)
	}
	if porz.Site != "porz" || porz.Acked != 1 || !porz.LastContact.Equal(start.Add(2*time.Hour)) {
		t.Errorf("porz's cursor = %+v; want acked 1, contact 2 hours after start", porz)
	}
}

// Several writers (central nodes, or requests racing on one) send the same
// log in overlapping batches at once: each entry is stored exactly once,
// in one chain, and every writer's ack is one it may resume from.
func testAppendConcurrent(t *testing.T, open Opener) {
	ctx := context.Background()
	const writers, n, size = 4, 60, 7
	log := siteLog(t, "kalk", n)
	stores := make([]Store, writers)
	for i := range stores {
		stores[i] = mustOpen(t, open)
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var acked uint64
			for acked < n {
				lo := int(acked)
				hi := min(lo+size+w, n)
				_, got, err := stores[w].Append(ctx, batchOf("kalk", log[lo:hi]), start, true)
				if err != nil && veedel.ErrorCode(err) != veedel.ECONFLICT {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
				if got < acked || got > n {
					errs <- fmt.Errorf("writer %d: acked went from %d to %d", w, acked, got)
					return
				}
				acked = got
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if all := stored(t, stores[0], "kalk"); len(all) != n {
		t.Errorf("stored %d entries, want %d", len(all), n)
	}
}

// A failure before commit (a full disk, a lost connection) leaves nothing
// stored, and the same batch goes in once it is gone.
func testFaultBeforeCommit(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	batch := batchOf("kalk", siteLog(t, "kalk", 5))
	var stages []string
	s.SetFault(func(_ context.Context, stage string) error {
		stages = append(stages, stage)
		return fmt.Errorf("database or disk is full: %w", syscall.ENOSPC)
	})
	if _, _, err := s.Append(ctx, batch, time.Now(), true); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Append on a full disk: %v, want ENOSPC", err)
	}
	if len(stages) != 1 || stages[0] != "commit" {
		t.Errorf("fault called at %v, want [commit]", stages)
	}
	if n := len(stored(t, s, "kalk")); n != 0 {
		t.Fatalf("%d entries stored after a failed commit, want none", n)
	}
	if cursors, err := s.Sites(ctx); err != nil || len(cursors) > 1 || (len(cursors) == 1 && cursors[0].Acked != 0) {
		t.Errorf("Sites after a failed commit = %+v, %v; want nothing acked", cursors, err)
	}
	s.SetFault(nil)
	accepted, acked, err := s.Append(ctx, batch, time.Now(), true)
	if err != nil || len(accepted) != 5 || acked != 5 {
		t.Fatalf("Append after the disk has room: %d accepted, acked %d, %v; want 5, 5, nil", len(accepted), acked, err)
	}
}

// ScanRange reads one stretch of HLCs, in seq order.
func testScanRange(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	log := siteLog(t, "kalk", 10)
	if _, _, err := s.Append(ctx, batchOf("kalk", log), start, true); err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	err := s.ScanRange(ctx, "kalk", log[3].HLC, log[7].HLC, func(e changelog.Entry) error { seqs = append(seqs, e.Seq); return nil })
	if err != nil || fmt.Sprint(seqs) != "[4 5 6 7]" {
		t.Errorf("ScanRange = %v, %v; want [4 5 6 7]", seqs, err)
	}
	stop := errors.New("stop")
	if err := s.Scan(ctx, "kalk", 0, func(changelog.Entry) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("Scan with a failing fn = %v, want its error", err)
	}
}

// ScanPage reads a page of a site's log after a seq, of at most limit
// entries, and nothing of another site's.
func testScanPage(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	log := siteLog(t, "kalk", 10)
	if _, _, err := s.Append(ctx, batchOf("kalk", log), start, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Append(ctx, batchOf("porz", siteLog(t, "porz", 3)), start, true); err != nil {
		t.Fatal(err)
	}
	page := func(site string, after uint64, limit int) string {
		var seqs []uint64
		err := s.ScanPage(ctx, site, after, limit, func(e changelog.Entry) error {
			if e.Site != site || !bytes.Equal(e.Hash, log[e.Seq-1].Hash) && site == "kalk" {
				t.Errorf("ScanPage gave %s's entry %d, not as stored", e.Site, e.Seq)
			}
			seqs = append(seqs, e.Seq)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(seqs)
	}
	for _, tc := range []struct {
		site  string
		after uint64
		limit int
		want  string
	}{{"kalk", 0, 4, "[1 2 3 4]"}, {"kalk", 4, 4, "[5 6 7 8]"}, {"kalk", 8, 4, "[9 10]"}, {"kalk", 10, 4, "[]"}, {"porz", 0, 100, "[1 2 3]"}, {"mülheim", 0, 5, "[]"}} {
		if got := page(tc.site, tc.after, tc.limit); got != tc.want {
			t.Errorf("ScanPage(%s, after %d, limit %d) = %s, want %s", tc.site, tc.after, tc.limit, got, tc.want)
		}
	}
}
