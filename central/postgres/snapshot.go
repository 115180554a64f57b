package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/veedel/veedel/central"
)

var _ central.SnapshotStore = (*Store)(nil)

// SaveSnapshot replaces the snapshot of the read models and its positions
// in one transaction (central.SnapshotStore). Two nodes saving at once
// take turns on the snapshot's row; the later one's stays.
func (s *Store) SaveSnapshot(ctx context.Context, snap central.StoredSnapshot) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	_, err = tx.Exec(ctx, `INSERT INTO read_model_snapshot (id, version, taken_at, data) VALUES (1, $1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET version = excluded.version, taken_at = excluded.taken_at, data = excluded.data`,
		snap.Version, snap.TakenAt.UnixMilli(), snap.Data)
	if err != nil {
		return fmt.Errorf("store: write snapshot: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM read_model_snapshot_positions`); err != nil {
		return fmt.Errorf("store: write snapshot positions: %w", err)
	}
	rows := make([][]any, len(snap.Positions))
	for i, p := range snap.Positions {
		rows[i] = []any{p.Site, int64(p.Log), int64(p.Outbound)}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"read_model_snapshot_positions"}, []string{"site", "log_seq", "outbound_seq"}, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("store: write snapshot positions: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: commit snapshot: %w", err)
	}
	return nil
}

// LoadSnapshot returns the snapshot of the read models, false when there
// is none (central.SnapshotStore).
func (s *Store) LoadSnapshot(ctx context.Context) (central.StoredSnapshot, bool, error) {
	// One repeatable-read transaction, so that the positions are the
	// snapshot's even while another node saves a newer one.
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return central.StoredSnapshot{}, false, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	var snap central.StoredSnapshot
	var taken int64
	err = tx.QueryRow(ctx, `SELECT version, taken_at, data FROM read_model_snapshot WHERE id = 1`).Scan(&snap.Version, &taken, &snap.Data)
	if errors.Is(err, pgx.ErrNoRows) {
		return central.StoredSnapshot{}, false, nil
	} else if err != nil {
		return central.StoredSnapshot{}, false, fmt.Errorf("store: read snapshot: %w", err)
	}
	snap.TakenAt = time.UnixMilli(taken)
	rows, err := tx.Query(ctx, `SELECT site, log_seq, outbound_seq FROM read_model_snapshot_positions ORDER BY site`)
	if err != nil {
		return central.StoredSnapshot{}, false, fmt.Errorf("store: read snapshot positions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p central.SnapshotPosition
		var logSeq, outSeq int64
		if err := rows.Scan(&p.Site, &logSeq, &outSeq); err != nil {
			return central.StoredSnapshot{}, false, fmt.Errorf("store: read snapshot positions: %w", err)
		}
		p.Log, p.Outbound = uint64(logSeq), uint64(outSeq)
		snap.Positions = append(snap.Positions, p)
	}
	if err := rows.Err(); err != nil {
		return central.StoredSnapshot{}, false, fmt.Errorf("store: read snapshot positions: %w", err)
	}
	return snap, true, nil
}
