package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/veedel/veedel/central"
)

var _ central.SnapshotStore = (*Store)(nil)

// SaveSnapshot replaces the snapshot of the read models and its positions
// in one transaction (central.SnapshotStore).
func (s *Store) SaveSnapshot(ctx context.Context, snap central.StoredSnapshot) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO read_model_snapshot (id, version, taken_at, data) VALUES (1, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET version = excluded.version, taken_at = excluded.taken_at, data = excluded.data`,
		snap.Version, snap.TakenAt.UnixMilli(), snap.Data)
	if err != nil {
		return fmt.Errorf("store: write snapshot: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM read_model_snapshot_positions`); err != nil {
		return fmt.Errorf("store: write snapshot positions: %w", err)
	}
	for _, p := range snap.Positions {
		if _, err := tx.ExecContext(ctx, `INSERT INTO read_model_snapshot_positions (site, log_seq, outbound_seq) VALUES (?, ?, ?)`,
			p.Site, p.Log, p.Outbound); err != nil {
			return fmt.Errorf("store: write snapshot positions: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit snapshot: %w", err)
	}
	return nil
}

// LoadSnapshot returns the snapshot of the read models, false when there
// is none (central.SnapshotStore).
func (s *Store) LoadSnapshot(ctx context.Context) (central.StoredSnapshot, bool, error) {
	// One read transaction, so that the positions are the snapshot's.
	tx, err := s.db.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return central.StoredSnapshot{}, false, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	var snap central.StoredSnapshot
	var taken int64
	err = tx.QueryRowContext(ctx, `SELECT version, taken_at, data FROM read_model_snapshot WHERE id = 1`).Scan(&snap.Version, &taken, &snap.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return central.StoredSnapshot{}, false, nil
	} else if err != nil {
		return central.StoredSnapshot{}, false, fmt.Errorf("store: read snapshot: %w", err)
	}
	snap.TakenAt = time.UnixMilli(taken)
	rows, err := tx.QueryContext(ctx, `SELECT site, log_seq, outbound_seq FROM read_model_snapshot_positions ORDER BY site`)
	if err != nil {
		return central.StoredSnapshot{}, false, fmt.Errorf("store: read snapshot positions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p central.SnapshotPosition
		if err := rows.Scan(&p.Site, &p.Log, &p.Outbound); err != nil {
			return central.StoredSnapshot{}, false, fmt.Errorf("store: read snapshot positions: %w", err)
		}
		snap.Positions = append(snap.Positions, p)
	}
	if err := rows.Err(); err != nil {
		return central.StoredSnapshot{}, false, fmt.Errorf("store: read snapshot positions: %w", err)
	}
	return snap, true, nil
}
