package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/veedel/veedel/sync/changelog"
)

// The change-log seen as the site's outbox: the uplink reads entries after
// the cursor central last acknowledged and moves the cursor on each ack.

const cursorKey = "sync.acked_seq"

// EntriesAfter returns up to limit consecutive entries with seq > after,
// stopping before maxBytes of payload are exceeded (at least one entry is
// returned when there is one).
func (s *Store) EntriesAfter(ctx context.Context, after uint64, limit, maxBytes int) ([]changelog.Entry, error) {
	if compacted := s.compacted.Load(); after < compacted {
		return nil, errCompacted(after, compacted)
	}
	rows, err := s.db.Read.QueryContext(ctx, `SELECT seq, version, hlc, type, entity, payload, prev, hash FROM changelog WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: read outbox: %w", err)
	}
	defer rows.Close()
	var out []changelog.Entry
	size := 0
	for rows.Next() {
		e, err := scanEntry(rows, s.site)
		if err != nil {
			return nil, err
		}
		size += len(e.Payload) + len(e.Entity) + len(e.Type) + 80
		if len(out) > 0 && size > maxBytes {
			break
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// LastSeq returns the seq of the newest committed entry (0 for none). It
// does not wait for a commit in flight.
func (s *Store) LastSeq() uint64 { return s.lastSeq.Load() }

// AckedSeq returns the highest seq central has acknowledged.
func (s *Store) AckedSeq(ctx context.Context) (uint64, error) {
	var v string
	err := s.db.Read.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, cursorKey).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("store: read sync cursor: %w", err)
	}
	return strconv.ParseUint(v, 10, 64)
}

// SetAckedSeq durably records central's acknowledgement.
func (s *Store) SetAckedSeq(ctx context.Context, seq uint64) error {
	_, err := s.db.Write.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
		cursorKey, strconv.FormatUint(seq, 10))
	if err != nil {
		return fmt.Errorf("store: write sync cursor: %w", err)
	}
	return nil
}
