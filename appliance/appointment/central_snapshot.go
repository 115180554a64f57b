package appointment

import (
	"github.com/veedel/veedel/workflow"
)

// centralSnapshotVersion changes whenever centralSnapshot's shape does.
const centralSnapshotVersion = 1

// centralSnapshot is what the model folds from the logs that central's
// store does not keep: when each booking's site took it over. (The
// legacy bookings are in the store once Backfill ran, which it does at
// every start before a snapshot can be taken.)
type centralSnapshot struct {
	AtSite map[string]int64 `json:"at_site"`
}

var _ workflow.Snapshotter = (*Central)(nil)

// Snapshot freezes which bookings their sites took over.
func (c *Central) Snapshot() (int, any) {
	c.mu.Lock()
	snap := centralSnapshot{AtSite: make(map[string]int64, len(c.atSite))}
	for code, at := range c.atSite {
		snap.AtSite[code] = workflow.Millis(at)
	}
	c.mu.Unlock()
	return centralSnapshotVersion, snap
}

// Restore thaws a Snapshot into the (empty) model.
func (c *Central) Restore(version int, data []byte) error {
	var snap centralSnapshot
	if err := workflow.DecodeSnapshot("appointment", version, centralSnapshotVersion, data, &snap); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for code, at := range snap.AtSite {
		c.atSite[code] = workflow.AtMillis(at)
	}
	return nil
}
