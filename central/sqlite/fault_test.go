package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
)

// TestFaultFullDisk: a failure injected before commit leaves nothing
// stored, and the same batch goes in once the disk has room again.
func TestFaultFullDisk(t *testing.T) {
	ctx := context.Background()
	store, err := Open(ctx, filepath.Join(t.TempDir(), "central.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var entries []changelog.Entry
	var prev *changelog.Entry
	for i := range 5 {
		id := fmt.Sprintf("2026-11-30/B%03d", i+1)
		e, err := changelog.NewEntry("kalk", prev, changelog.HLC(i+1)<<16, queue.TypeTicketIssued, "ticket/"+id,
			&queue.TicketIssued{ID: id, Token: fmt.Sprintf("token-%018d", i), Number: id[11:], Service: "meldung", Channel: "kiosk"})
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
		prev = &entries[i]
	}
	batch := &changelog.Batch{Version: changelog.SchemaVersion, Site: "kalk", Entries: entries}

	var stages []string
	store.SetFault(func(_ context.Context, stage string) error {
		stages = append(stages, stage)
		return fmt.Errorf("database or disk is full: %w", syscall.ENOSPC)
	})
	if _, _, err := store.Append(ctx, batch, time.Now(), true); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Append on a full disk: %v, want ENOSPC", err)
	}
	if len(stages) != 1 || stages[0] != "commit" {
		t.Errorf("fault called at %v, want [commit]", stages)
	}
	n := 0
	if err := store.Scan(ctx, "kalk", 0, func(changelog.Entry) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("%d entries stored after a failed commit (%v), want none", n, err)
	}

	store.SetFault(nil)
	accepted, acked, err := store.Append(ctx, batch, time.Now(), true)
	if err != nil || len(accepted) != 5 || acked != 5 {
		t.Fatalf("Append after the disk has room: %d accepted, acked %d, %v; want 5, 5, nil", len(accepted), acked, err)
	}
}
