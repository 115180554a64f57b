package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
)

// Retention: the change-log would grow by a few thousand entries a day for
// ever. Once central has acknowledged entries and they are older than the
// retention window, the site keeps a snapshot of its state instead of them.

const compactedKey = "retention.compacted_through"

// compactChunk bounds each delete transaction, so that compaction never
// holds the writer for long and the WAL stays small.
const compactChunk = 5000

// snapshotRow is a snapshot as stored.
type snapshotRow struct {
	seq  uint64
	hlc  changelog.HLC
	hash []byte
	snap queue.Snapshot
}

func (s *Store) readSnapshot(ctx context.Context) (*snapshotRow, error) {
	var row snapshotRow
	var hlc int64
	var data []byte
	err := s.db.Write.QueryRowContext(ctx, `SELECT seq, hlc, hash, state FROM snapshots WHERE id = 1`).Scan(&row.seq, &hlc, &row.hash, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("store: read snapshot: %w", err)
	}
	row.hlc = changelog.HLC(hlc)
	if err := json.Unmarshal(data, &row.snap); err != nil {
		return nil, fmt.Errorf("store: decode snapshot: %w", err)
	}
	return &row, nil
}

// WriteSnapshot freezes the current state at the last committed entry.
func (s *Store) WriteSnapshot(ctx context.Context) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writeSnapshot(ctx)
}

// writeSnapshot requires s.mu.
func (s *Store) writeSnapshot(ctx context.Context) (uint64, error) {
	if s.last == nil {
		return 0, nil
	}
	data, err := json.Marshal(s.state.Snapshot())
	if err != nil {
		return 0, fmt.Errorf("store: encode snapshot: %w", err)
	}
	_, err = s.db.Write.ExecContext(ctx, `INSERT INTO snapshots (id, seq, hlc, hash, state, taken_at) VALUES (1, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hlc = excluded.hlc, hash = excluded.hash, state = excluded.state, taken_at = excluded.taken_at`,
		s.last.Seq, int64(s.last.HLC), s.last.Hash, data, s.now().UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: write snapshot: %w", err)
	}
	s.snapshotSeq = s.last.Seq
	return s.last.Seq, nil
}

// SnapshotSeq is the seq of the newest snapshot (0 for none).
func (s *Store) SnapshotSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshotSeq
}

// CompactedThrough is the highest seq removed from the change-log (0 when
// the log is complete).
func (s *Store) CompactedThrough(ctx context.Context) (uint64, error) {
	var v string
	err := s.db.Read.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, compactedKey).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("store: read compaction mark: %w", err)
	}
	return strconv.ParseUint(v, 10, 64)
}

// compactedThroughWriter reads the compaction mark on the writer connection
// (during Open, before the reader pool exists).
func (s *Store) compactedThroughWriter(ctx context.Context) (uint64, error) {
	var v string
	err := s.db.Write.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, compactedKey).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("store: read compaction mark: %w", err)
	}
	return strconv.ParseUint(v, 10, 64)
}

// Compact removes change-log entries that central has acknowledged (seq <=
// acked) and that are older than before, after writing a snapshot that
// covers them. It deletes in bounded chunks and truncates the WAL after.
// It returns how many entries it removed.
func (s *Store) Compact(ctx context.Context, before time.Time, acked uint64) (int64, error) {
	s.mu.Lock()
	snapSeq, err := s.writeSnapshot(ctx)
	s.mu.Unlock()
	if err != nil || snapSeq == 0 {
		return 0, err
	}
	cutoffHLC := int64(changelog.HLCAt(before))
	var through sql.NullInt64
	err = s.db.Read.QueryRowContext(ctx, `SELECT max(seq) FROM changelog WHERE seq <= ? AND seq <= ? AND hlc < ?`,
		acked, snapSeq, cutoffHLC).Scan(&through)
	if err != nil {
		return 0, fmt.Errorf("store: find compaction point: %w", err)
	}
	if !through.Valid {
		return 0, nil
	}
	var removed int64
	for {
		res, err := s.db.Write.ExecContext(ctx, `DELETE FROM changelog WHERE seq IN (SELECT seq FROM changelog WHERE seq <= ? ORDER BY seq LIMIT ?)`,
			through.Int64, compactChunk)
		if err != nil {
			return removed, fmt.Errorf("store: compact: %w", err)
		}
		n, _ := res.RowsAffected()
		removed += n
		if n < compactChunk {
			break
		}
	}
	if _, err := s.db.Write.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE CAST(excluded.value AS INTEGER) > CAST(settings.value AS INTEGER)`,
		compactedKey, strconv.FormatInt(through.Int64, 10)); err != nil {
		return removed, fmt.Errorf("store: record compaction: %w", err)
	}
	s.compacted.Store(max(s.compacted.Load(), uint64(through.Int64)))
	if _, err := s.db.Write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return removed, fmt.Errorf("store: checkpoint after compaction: %w", err)
	}
	return removed, nil
}

// errCompacted says the uplink asked for entries that no longer exist.
func errCompacted(after, through uint64) error {
	return veedel.Errorf(veedel.ECONFLICT, "central asks for entries after %d, but entries up to %d were compacted after central had acknowledged them: central's copy of this site is older than its acknowledgement (restored from a backup?); see docs/SYNC.md", after, through)
}

// ErasePersonalData has every workflow erase the personal data whose
// keeping time is over, each in one transaction on the writer (so that a
// workflow's rows and the files they release, sync/blob, go together),
// and returns how many records went. After an erasure the WAL is
// checkpointed and truncated, so that the old pages' bytes do not linger
// in it (the files' deletes zero the freed pages: blob.Release).
func (s *Store) ErasePersonalData(ctx context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var total int64
	for _, wf := range s.workflows {
		if wf.Erase == nil {
			continue
		}
		tx, err := s.db.Write.BeginTx(ctx, nil)
		if err != nil {
			return total, fmt.Errorf("store: erase personal data of %s: %w", wf.Name, err)
		}
		n, err := wf.Erase(ctx, tx, s.now())
		if err == nil {
			err = tx.Commit()
		} else {
			tx.Rollback()
		}
		if err != nil {
			return total, fmt.Errorf("store: erase personal data of %s: %w", wf.Name, err)
		}
		total += n
	}
	if total > 0 {
		if _, err := s.db.Write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return total, fmt.Errorf("store: checkpoint after erasure: %w", err)
		}
	}
	return total, nil
}
