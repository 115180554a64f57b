package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
)

func TestPrintJobs(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kalk.db"), "kalk", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Execute(ctx, func(_ *queue.State, at time.Time) ([]queue.Event, error) {
		return appliance.Catalog["kalk"].Events(at), nil
	}); err != nil {
		t.Fatal(err)
	}
	tk, _, err := store.IssueTicket(ctx, appliance.Catalog["kalk"].Services[0].ID, "kiosk", "")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("ErrUnknownTicket", func(t *testing.T) {
		if _, _, err := store.BeginPrint(ctx, "nope"); veedel.ErrorCode(err) != veedel.ENOTFOUND {
			t.Errorf("BeginPrint(unknown) = %v, want ENOTFOUND", err)
		}
	})
	t.Run("OnceOnly", func(t *testing.T) {
		if _, claimed, err := store.BeginPrint(ctx, tk.ID); err != nil || !claimed {
			t.Fatalf("first BeginPrint: claimed %v, err %v", claimed, err)
		}
		job, claimed, err := store.BeginPrint(ctx, tk.ID)
		if err != nil || claimed || job.State != sqlite.PrintPrinting {
			t.Fatalf("second BeginPrint: %+v claimed %v err %v, want the running job, unclaimed", job, claimed, err)
		}
		if err := store.ReprintTicket(ctx, tk.ID); veedel.ErrorCode(err) != veedel.ECONFLICT {
			t.Errorf("reprint while printing = %v, want ECONFLICT", err)
		}
		if err := store.FinishPrint(ctx, tk.ID, "paper out"); err != nil {
			t.Fatal(err)
		}
		job, claimed, _ = store.BeginPrint(ctx, tk.ID)
		if claimed || job.State != sqlite.PrintFailed || job.Error != "paper out" {
			t.Errorf("after a failure: %+v claimed %v, want failed and not claimed again", job, claimed)
		}
	})
	t.Run("Reprint", func(t *testing.T) {
		if err := store.ReprintTicket(ctx, tk.ID); err != nil {
			t.Fatalf("reprint: %v", err)
		}
		job, ok, err := store.PrintJob(ctx, tk.ID)
		if err != nil || !ok || job.Attempts != 2 || job.State != sqlite.PrintPrinting {
			t.Fatalf("reprint: %+v, %v, %v", job, ok, err)
		}
		store.FinishPrint(ctx, tk.ID, "")
		job, ok, err = store.PrintJob(ctx, tk.ID)
		if err != nil || !ok || job.State != sqlite.PrintPrinted || job.Error != "" {
			t.Errorf("after reprint: %+v %v %v", job, ok, err)
		}
	})
}

// Print records go after two weeks, with the day that starts after them.
func TestPrintJobsPruned(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kalk.db"), "kalk", sqlite.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Execute(ctx, func(_ *queue.State, at time.Time) ([]queue.Event, error) {
		return appliance.Catalog["kalk"].Events(at), nil
	}); err != nil {
		t.Fatal(err)
	}
	service := appliance.Catalog["kalk"].Services[0].ID
	old, _, err := store.IssueTicket(ctx, service, "kiosk", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.BeginPrint(ctx, old.ID); err != nil {
		t.Fatal(err)
	}
	now = now.Add(13 * 24 * time.Hour)
	recent, _, err := store.IssueTicket(ctx, service, "kiosk", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.BeginPrint(ctx, recent.ID); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := store.PrintJob(ctx, old.ID); !found {
		t.Fatal("a 13-day-old print record is gone already")
	}
	now = now.Add(2 * 24 * time.Hour)
	if _, _, err := store.IssueTicket(ctx, service, "kiosk", ""); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := store.PrintJob(ctx, old.ID); found {
		t.Error("a 15-day-old print record is still kept")
	}
	if _, found, _ := store.PrintJob(ctx, recent.ID); !found {
		t.Error("a 2-day-old print record is gone")
	}
}
