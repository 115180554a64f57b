package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/workflow"
)

// TestRestoreKeepsVehicleSettings: a registration site's lead turns the
// four-eyes check on; the setting goes up in the site's log; the box is
// lost, and the site restored from central's copy of its log has the
// setting again, with who set it and when, and in force (vehicle.FourEyes
// is what Approve asks).
func TestRestoreKeepsVehicleSettings(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, central := startCentral(t, dir, "127.0.0.1:0")
	const site = "zulassung"
	cfg := applianceConfig{Site: site, DB: filepath.Join(dir, site+".db"), CentralURL: central.URL, Heartbeat: 100 * time.Millisecond,
		Users: []userSpec{{Name: "leitung", Password: "geheim-123", Role: sqlite.RoleLead}}}
	old, oldRun := startAppliance(t, cfg)
	if _, err := old.Store.ExecuteTx(ctx, func(_ *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
		return vehicle.ChangeSettings(ctx, q, at, "leitung", true)
	}); err != nil {
		t.Fatal(err)
	}
	before, err := vehicle.Settings(ctx, old.Store.Read())
	if err != nil || !before.FourEyes {
		t.Fatalf("settings before: %+v, %v", before, err)
	}
	last := old.Store.LastSeq()
	waitAcked(t, central.URL, site, last)
	oldRun.stop()
	for _, f := range []string{site + ".db", site + ".db-wal", site + ".db-shm", site + ".key"} {
		os.Remove(filepath.Join(dir, f))
	}

	token := newEnrollmentToken(t, filepath.Join(dir, "central.db"), site, time.Hour)
	res, err := restoreSite(ctx, restoreConfig{Site: site, DB: cfg.DB, CentralURL: central.URL, EnrollToken: token, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Entries != last {
		t.Fatalf("restored %d entries, want %d", res.Entries, last)
	}
	cfg.EnrollToken = ""
	restored, _ := startAppliance(t, cfg)
	after, err := vehicle.Settings(ctx, restored.Store.Read())
	if err != nil || after.FourEyes != before.FourEyes || after.By != "leitung" || !after.At.Equal(before.At) {
		t.Fatalf("settings after the restore: %+v, %v; want %+v", after, err, before)
	}
	if on, _ := vehicle.FourEyes(ctx, restored.Store.Read()); !on {
		t.Fatal("four eyes are not in force after the restore")
	}
}
