package main

import (
	"context"
	"time"
)

// DefaultRetention is how long a site keeps acknowledged change-log entries
// before compacting them into a snapshot.
const DefaultRetention = 30 * 24 * time.Hour

// snapshotEvery is how many new entries make a fresh snapshot worthwhile,
// so that a restart folds at most this many entries.
const snapshotEvery = 10_000

// retentionLoop snapshots and compacts the site's change-log every interval
// until ctx ends. Only entries central has acknowledged and that are older
// than the retention window go; a zero window keeps everything.
func (n *applianceNode) retentionLoop(ctx context.Context, interval time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		n.retain(ctx)
	}
}

func (n *applianceNode) retain(ctx context.Context) {
	log := n.cfg.Logger
	// Reminders due (the day before an appointment) go out once each.
	if sent, err := n.Store.SendDue(ctx); err != nil {
		log.Error("reminders", "err", err)
	} else if sent > 0 {
		log.Info("reminders queued", "site", n.cfg.Site, "messages", sent)
	}
	// Personal data of the workflows (orders) go when their keeping time
	// is over, whatever the change-log's retention.
	if erased, err := n.Store.ErasePersonalData(ctx); err != nil {
		log.Error("retention: erase personal data", "err", err)
	} else if erased > 0 {
		log.Info("retention: erased personal data past its keeping time", "site", n.cfg.Site, "records", erased)
	}
	if n.cfg.Retention > 0 {
		acked, err := n.Store.AckedSeq(ctx)
		if err != nil {
			log.Error("retention: read sync cursor", "err", err)
			return
		}
		// Never beyond what this site wrote, whatever the cursor says.
		acked = min(acked, n.Store.LastSeq())
		removed, err := n.Store.Compact(ctx, n.now().Add(-n.cfg.Retention), acked)
		if err != nil {
			log.Error("retention: compact", "err", err)
			return
		}
		if removed > 0 {
			log.Info("retention: compacted acknowledged change-log entries", "site", n.cfg.Site, "removed", removed)
		}
		return
	}
	if n.Store.LastSeq()-n.Store.SnapshotSeq() >= snapshotEvery {
		if _, err := n.Store.WriteSnapshot(ctx); err != nil {
			log.Error("retention: snapshot", "err", err)
		}
	}
}
