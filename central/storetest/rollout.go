package storetest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
)

// The rollout plan is changed on the revision it was read at: of two
// admins (or central nodes) saving at once one wins and the other gets
// ECONFLICT, and the plan survives a restart.
func testRolloutRevisions(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	p, err := s.Rollout(ctx)
	if err != nil || p.Revision != 0 || p.Version != "" {
		t.Fatalf("Rollout of a new store = %+v, %v; want revision 0, no version", p, err)
	}
	plan := central.RolloutPlan{Version: "1.4.0", Stage: central.StagePilot, Pilots: []string{"kalk"}, Pins: map[string]string{"porz": "1.3.2"}}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.SetRollout(ctx, plan, start)
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch veedel.ErrorCode(err) {
		case "":
			won++
		case veedel.ECONFLICT:
		default:
			t.Errorf("SetRollout at once: %v, want nil or ECONFLICT", err)
		}
	}
	if won != 1 {
		t.Errorf("%d of 4 saves on revision 0 went through, want exactly 1", won)
	}
	s.Close()
	s = mustOpen(t, open)
	got, err := s.Rollout(ctx)
	if err != nil || got.Revision != 1 || got.Version != "1.4.0" || !slices.Equal(got.Pilots, []string{"kalk"}) || got.Pins["porz"] != "1.3.2" || !got.UpdatedAt.Equal(start) {
		t.Fatalf("Rollout after a restart = %+v, %v", got, err)
	}
	got.Stage, got.Paused = central.StageAll, true
	if again, err := s.SetRollout(ctx, got, start.Add(time.Hour)); err != nil || again.Revision != 2 {
		t.Fatalf("SetRollout on revision 1 = %+v, %v; want revision 2", again, err)
	}
	got.Paused = false
	if _, err := s.SetRollout(ctx, got, start.Add(2*time.Hour)); veedel.ErrorCode(err) != veedel.ECONFLICT {
		t.Errorf("SetRollout on the old revision 1: %v, want ECONFLICT", err)
	}
	if now, _ := s.Rollout(ctx); !now.Paused || now.Stage != central.StageAll {
		t.Errorf("a refused save changed the plan: %+v", now)
	}
}

// One report per site: the latest replaces the one before.
func testUpdateReports(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	first := central.UpdateReport{Site: "kalk", Version: "1.3.2", State: "downloading", Target: "1.4.0", Progress: 40, ReportedAt: start}
	if err := s.PutUpdateReport(ctx, first); err != nil {
		t.Fatal(err)
	}
	porz := central.UpdateReport{Site: "porz", Version: "1.3.2", State: "idle", DiskFree: 400 << 20, BootedAt: start.Add(-time.Hour), ReportedAt: start}
	if err := s.PutUpdateReport(ctx, porz); err != nil {
		t.Fatal(err)
	}
	later := central.UpdateReport{Site: "kalk", Version: "1.3.2", Slot: "a", State: "rolled-back", Target: "1.4.0", Reason: "/healthz did not answer within 5m0s", ReportedAt: start.Add(time.Hour)}
	if err := s.PutUpdateReport(ctx, later); err != nil {
		t.Fatal(err)
	}
	got, err := s.UpdateReports(ctx)
	if err != nil || len(got) != 2 {
		t.Fatalf("UpdateReports = %+v, %v; want kalk and porz", got, err)
	}
	if got[0].Site != "kalk" || got[0].State != "rolled-back" || got[0].Reason != later.Reason || !got[0].ReportedAt.Equal(later.ReportedAt) {
		t.Errorf("kalk = %+v, want the later report", got[0])
	}
	if got[1].Site != "porz" || got[1].DiskFree != porz.DiskFree || !got[1].BootedAt.Equal(porz.BootedAt) {
		t.Errorf("porz = %+v, want %+v", got[1], porz)
	}
}
