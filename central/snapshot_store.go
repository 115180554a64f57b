package central

import (
	"context"
	"time"
)

// SnapshotStore keeps the newest snapshot of central's read models
// (snapshot.go). Both stores implement it; a store that does not makes
// central fold every log at start, as before snapshots.
type SnapshotStore interface {
	// SaveSnapshot replaces the stored snapshot with s, its positions
	// with it, in one transaction.
	SaveSnapshot(ctx context.Context, s StoredSnapshot) error
	// LoadSnapshot returns the stored snapshot; false when there is none.
	LoadSnapshot(ctx context.Context) (StoredSnapshot, bool, error)
}

// StoredSnapshot is a snapshot of the read models as the store keeps it:
// the encoded models (Data, of the shape Version) and, per site, how far
// its log and its outbound log are folded into them.
type StoredSnapshot struct {
	Version   int
	TakenAt   time.Time
	Positions []SnapshotPosition // ordered by site
	Data      []byte
}

// SnapshotPosition is how far a snapshot covers one site: its log up to
// and including seq Log, its outbound log up to Outbound.
type SnapshotPosition struct {
	Site     string
	Log      uint64
	Outbound uint64
}
