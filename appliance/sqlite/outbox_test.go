package sqlite_test

import (
	"context"
	"testing"
	"time"
)

func TestEntriesAfter(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.seed(2)
	for i := range 12 {
		e.clock.Add(time.Minute)
		e.issue([]string{"ausweis", "meldung"}[i%3%2])
	}
	all := e.entries() // verified chain from 1
	last := e.store.LastSeq()
	if got := uint64(len(all)); got != last {
		t.Fatalf("entries = %d, LastSeq = %d", got, last)
	}

	t.Run("Limit", func(t *testing.T) {
		got, err := e.store.EntriesAfter(ctx, 3, 4, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 4 {
			t.Fatalf("entries = %d, want 4", len(got))
		}
		for i, en := range got {
			if want := uint64(4 + i); en.Seq != want {
				t.Errorf("entry %d has seq %d, want %d", i, en.Seq, want)
			}
			if err := en.Verify(); err != nil {
				t.Errorf("entry %d: %v", en.Seq, err)
			}
		}
		if !got[0].Follows(all[2].Seq, all[2].Hash) {
			t.Errorf("first entry after 3 does not continue the chain")
		}
	})

	t.Run("Tail", func(t *testing.T) {
		got, err := e.store.EntriesAfter(ctx, last-2, 100, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Seq != last-1 || got[1].Seq != last {
			t.Errorf("entries after %d = %d entries, want seq %d and %d", last-2, len(got), last-1, last)
		}
	})

	t.Run("NothingAfterLast", func(t *testing.T) {
		got, err := e.store.EntriesAfter(ctx, last, 100, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Errorf("entries after the last = %d, want 0", len(got))
		}
	})

	t.Run("MaxBytes", func(t *testing.T) {
		prevN := 0
		for _, maxBytes := range []int{0, 1, 100, 300, 600, 1200, 5000, 1 << 20} {
			got, err := e.store.EntriesAfter(ctx, 2, 100, maxBytes)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 {
				t.Fatalf("maxBytes %d: no entry, want at least one", maxBytes)
			}
			payload := 0
			for i, en := range got {
				if want := uint64(3 + i); en.Seq != want {
					t.Fatalf("maxBytes %d: entry %d has seq %d, want %d (consecutive)", maxBytes, i, en.Seq, want)
				}
				payload += len(en.Payload)
			}
			if len(got) > 1 && payload > maxBytes {
				t.Errorf("maxBytes %d: %d entries with %d payload bytes", maxBytes, len(got), payload)
			}
			if len(got) < prevN {
				t.Errorf("maxBytes %d: %d entries, fewer than %d for a smaller limit", maxBytes, len(got), prevN)
			}
			prevN = len(got)
		}
		if want := int(last) - 2; prevN != want {
			t.Errorf("with a large maxBytes: %d entries, want all %d", prevN, want)
		}
	})
}

func TestAckedSeq(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	got, err := e.store.AckedSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got != 0 {
		t.Errorf("AckedSeq of a new store = %d, want 0", got)
	}
	for _, seq := range []uint64{5, 7, 1 << 40} {
		if err := e.store.SetAckedSeq(ctx, seq); err != nil {
			t.Fatal(err)
		}
		if got, err := e.store.AckedSeq(ctx); err != nil || got != seq {
			t.Errorf("AckedSeq = %d, %v; want %d", got, err, seq)
		}
	}
	e.reopen()
	if got, err := e.store.AckedSeq(ctx); err != nil || got != 1<<40 {
		t.Errorf("AckedSeq after reopen = %d, %v; want %d", got, err, uint64(1<<40))
	}
}
