package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/workflow"
)

// Parked entries: an entry of central's outbound log whose workflow cannot
// take it yet (its Accept answered workflow.Wait: the school-entry exams
// without the health office's escrow key) is parked in inbox_parked,
// whole, and the inbox goes on with the entries after it, so that one
// missing key holds up only what needs it. Later entries of the same
// workflow park behind it, to keep central's order. RetryParked offers the
// parked entries again, oldest first, once the site may have what they
// lacked (at start, after each downlink round).

// ParkedEntry is an entry of central's outbound log that waits.
type ParkedEntry struct {
	Seq    uint64
	Type   string
	Reason string // what the site lacks ("German / English")
	At     time.Time
}

// ParkedEntries returns the parked entries, oldest first.
func (s *Store) ParkedEntries(ctx context.Context) ([]ParkedEntry, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT seq, type, reason, at FROM inbox_parked ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("store: read parked entries: %w", err)
	}
	defer rows.Close()
	var out []ParkedEntry
	for rows.Next() {
		var p ParkedEntry
		var at int64
		if err := rows.Scan(&p.Seq, &p.Type, &p.Reason, &at); err != nil {
			return nil, fmt.Errorf("store: read parked entries: %w", err)
		}
		p.At = time.UnixMilli(at)
		out = append(out, p)
	}
	return out, rows.Err()
}

// parkedBefore returns the reason an entry of eventType's workflow waits
// for, when one is parked; "" when none is. It requires s.mu.
func (s *Store) parkedBefore(ctx context.Context, eventType string) (string, error) {
	wf, ok := workflow.Of(s.workflows, eventType)
	if !ok {
		return "", nil
	}
	var reason string
	err := s.db.Write.QueryRowContext(ctx, `SELECT reason FROM inbox_parked WHERE substr(type, 1, ?) = ? ORDER BY seq LIMIT 1`,
		len(wf.Prefix), wf.Prefix).Scan(&reason)
	if err == sql.ErrNoRows {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("store: read parked entries: %w", err)
	}
	return reason, nil
}

// park records e as parked for reason: its inbox row and the entry, in one
// transaction. It requires s.mu.
func (s *Store) park(ctx context.Context, e changelog.Entry, reason string) error {
	blob, err := changelog.Marshal(e)
	if err != nil {
		return fmt.Errorf("store: park entry %d: %w", e.Seq, err)
	}
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	at := s.now()
	if err := insertInbox(ctx, tx, e, InboxParked, reason, 0, 0, at); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO inbox_parked (seq, type, entry, reason, at) VALUES (?, ?, ?, ?, ?)`,
		e.Seq, e.Type, blob, reason, at.UnixMilli()); err != nil {
		return fmt.Errorf("store: park entry %d: %w", e.Seq, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit parked entry %d: %w", e.Seq, err)
	}
	return nil
}

// RetryParked offers the parked entries to their workflows again, oldest
// first, and returns how many it took off the list (applied, unchanged or
// refused: the inbox row then says which). A workflow that still cannot
// take one keeps it and every later entry of that workflow parked.
func (s *Store) RetryParked(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rows, err := s.db.Write.QueryContext(ctx, `SELECT seq, entry FROM inbox_parked ORDER BY seq`)
	if err != nil {
		return 0, fmt.Errorf("store: read parked entries: %w", err)
	}
	type parked struct {
		seq  uint64
		blob []byte
	}
	var list []parked
	for rows.Next() {
		var p parked
		if err := rows.Scan(&p.seq, &p.blob); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: read parked entries: %w", err)
		}
		list = append(list, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("store: read parked entries: %w", err)
	}
	done := 0
	waiting := map[string]bool{} // prefixes still waiting
	for _, p := range list {
		var e changelog.Entry
		if err := changelog.Unmarshal(p.blob, &e); err != nil {
			return done, fmt.Errorf("store: parked entry %d unreadable: %w", p.seq, err)
		}
		prefix := e.Type
		if wf, ok := workflow.Of(s.workflows, e.Type); ok {
			prefix = wf.Prefix
		}
		if waiting[prefix] {
			continue
		}
		payload, err := changelog.DecodePayload(&e, s.payloads)
		if err != nil {
			return done, veedel.Errorf(veedel.EINVALID, "parked entry %d: %v", e.Seq, err)
		}
		events, err := s.acceptInbound(ctx, e, payload, func(tx *sql.Tx, first, last uint64) error {
			return settleParked(ctx, tx, e.Seq, InboxApplied, "", first, last, s.now())
		})
		if reason, ok := workflow.WaitReason(err); ok {
			waiting[prefix] = true
			if _, err := s.db.Write.ExecContext(ctx, `UPDATE inbox_parked SET reason = ? WHERE seq = ?`, reason, e.Seq); err != nil {
				return done, fmt.Errorf("store: parked entry %d: %w", e.Seq, err)
			}
			continue
		}
		switch {
		case err != nil && veedel.ErrorCode(err) == veedel.EINTERNAL:
			return done, err
		case err != nil:
			err = s.settleParkedTx(ctx, e.Seq, InboxRefused, veedel.ErrorMessage(err))
		case len(events) == 0:
			err = s.settleParkedTx(ctx, e.Seq, InboxUnchanged, "")
		}
		if err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}

// settleParkedTx settles a parked entry that changed nothing in the
// change-log, in its own transaction.
func (s *Store) settleParkedTx(ctx context.Context, seq uint64, outcome, detail string) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	if err := settleParked(ctx, tx, seq, outcome, detail, 0, 0, s.now()); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit parked entry %d: %w", seq, err)
	}
	return nil
}

// settleParked turns a parked entry's inbox row into its outcome and takes
// the entry off the list.
func settleParked(ctx context.Context, tx *sql.Tx, seq uint64, outcome, detail string, first, last uint64, at time.Time) error {
	var firstSeq, lastSeq any
	if first > 0 && last >= first {
		firstSeq, lastSeq = first, last
	}
	if _, err := tx.ExecContext(ctx, `UPDATE inbox SET outcome = ?, detail = ?, first_seq = ?, last_seq = ?, applied_at = ? WHERE seq = ? AND outcome = ?`,
		outcome, detail, firstSeq, lastSeq, at.UnixMilli(), seq, InboxParked); err != nil {
		return fmt.Errorf("store: settle parked entry %d: %w", seq, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM inbox_parked WHERE seq = ?`, seq); err != nil {
		return fmt.Errorf("store: settle parked entry %d: %w", seq, err)
	}
	return nil
}
