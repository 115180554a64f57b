package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
)

// The inbox is the site's end of central's outbound log: the downlink hands
// each entry to ApplyInbound, which turns it into ordinary site events and
// records the entry in the inbox table in the same transaction. The inbox's
// highest seq is the downlink's cursor, so an entry is applied exactly once
// however often it is delivered and wherever the process dies.

// Outcomes of ApplyInbound, as recorded in the inbox table.
const (
	InboxApplied   = "applied"   // the entry became site events
	InboxUnchanged = "unchanged" // the site had it already: nothing to commit
	InboxRefused   = "refused"   // the site's rules refused it; recorded, skipped
	InboxDuplicate = "duplicate" // delivered again; not recorded a second time
)

// InboxCursor returns the seq of the last entry of central's outbound log
// that this site has taken in (0 for none).
func (s *Store) InboxCursor(ctx context.Context) (uint64, error) {
	var seq sql.NullInt64
	if err := s.db.Read.QueryRowContext(ctx, `SELECT max(seq) FROM inbox`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("store: read inbox cursor: %w", err)
	}
	return uint64(seq.Int64), nil
}

// ApplyInbound takes in one entry of central's outbound log for this site.
// The entry must continue the inbox's chain (seq and previous hash); one
// already taken in is a duplicate and changes nothing (and a different
// entry under a known seq is refused as a fork of central's log). Events
// that change the site are committed through the change-log like any
// command, in the same transaction as the inbox row. An entry the site's
// rules refuse is recorded as refused and skipped, so that it cannot block
// the entries after it; an entry of a type this version does not know
// stops the inbox (EUNAVAILABLE) until the appliance is updated.
func (s *Store) ApplyInbound(ctx context.Context, e changelog.Entry) (string, error) {
	if e.Site != s.site {
		return "", veedel.Errorf(veedel.EINVALID, "outbound entry %d is for site %q, this is %q", e.Seq, e.Site, s.site)
	}
	if err := e.Verify(); err != nil {
		return "", err
	}
	payload, err := changelog.DecodePayload(&e, queue.NewPayload)
	if err != nil {
		if _, known := queue.NewPayload(e.Type); !known {
			return "", veedel.Errorf(veedel.EUNAVAILABLE, "outbound entry %d has type %s, unknown to this version: update the appliance", e.Seq, e.Type)
		}
		return "", veedel.Errorf(veedel.EINVALID, "outbound entry %d: %v", e.Seq, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	head, headHash, err := s.inboxHead(ctx)
	if err != nil {
		return "", err
	}
	if e.Seq <= head {
		var have []byte
		err := s.db.Write.QueryRowContext(ctx, `SELECT hash FROM inbox WHERE seq = ?`, e.Seq).Scan(&have)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return "", fmt.Errorf("store: read inbox entry %d: %w", e.Seq, err)
		}
		if err == nil && !bytes.Equal(have, e.Hash) {
			return "", veedel.Errorf(veedel.ECONFLICT, "outbound entry %d differs from the one applied before: central's outbound log has forked (restored from a backup?)", e.Seq)
		}
		return InboxDuplicate, nil
	}
	if !e.Follows(head, headHash) {
		return "", veedel.Errorf(veedel.ECONFLICT, "outbound entry %d does not continue the inbox after %d", e.Seq, head)
	}

	ev := queue.Event{Type: e.Type, Entity: e.Entity, At: e.At(), Payload: payload}
	decide := func(st *queue.State, at time.Time) ([]queue.Event, error) { return st.AcceptFromCentral(at, ev) }
	var first uint64
	if s.last != nil {
		first = s.last.Seq + 1
	} else {
		first = 1
	}
	events, err := s.execute(ctx, decide, func(tx *sql.Tx, events []queue.Event) error {
		return insertInbox(ctx, tx, e, InboxApplied, "", first, first+uint64(len(events))-1, s.now())
	})
	switch {
	case err != nil && veedel.ErrorCode(err) == veedel.EINTERNAL:
		return "", err
	case err != nil:
		// The site's rules said no: record the decision so that the entry
		// is not offered again, and go on with the next one.
		return InboxRefused, s.recordInbox(ctx, e, InboxRefused, veedel.ErrorMessage(err))
	case len(events) == 0:
		return InboxUnchanged, s.recordInbox(ctx, e, InboxUnchanged, "")
	}
	return InboxApplied, nil
}

// inboxHead returns the last entry taken in; requires s.mu.
func (s *Store) inboxHead(ctx context.Context) (uint64, []byte, error) {
	var seq uint64
	var hash []byte
	err := s.db.Write.QueryRowContext(ctx, `SELECT seq, hash FROM inbox ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	} else if err != nil {
		return 0, nil, fmt.Errorf("store: read inbox head: %w", err)
	}
	return seq, hash, nil
}

// recordInbox records an entry that changed nothing in the change-log;
// requires s.mu.
func (s *Store) recordInbox(ctx context.Context, e changelog.Entry, outcome, detail string) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	if err := insertInbox(ctx, tx, e, outcome, detail, 0, 0, s.now()); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit inbox: %w", err)
	}
	return nil
}

func insertInbox(ctx context.Context, tx *sql.Tx, e changelog.Entry, outcome, detail string, first, last uint64, at time.Time) error {
	var firstSeq, lastSeq any
	if first > 0 && last >= first {
		firstSeq, lastSeq = first, last
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO inbox (seq, hash, type, entity, outcome, detail, first_seq, last_seq, applied_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.Hash, e.Type, e.Entity, outcome, detail, firstSeq, lastSeq, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: record inbox entry %d: %w", e.Seq, err)
	}
	return nil
}

// InboxEntry is one entry of central's outbound log as the site took it in.
type InboxEntry struct {
	Seq       uint64
	Type      string
	Entity    string
	Outcome   string
	Detail    string
	FirstSeq  uint64 // site change-log seqs it became (0 when none)
	LastSeq   uint64
	AppliedAt time.Time
}

// InboxEntries returns the inbox rows with seq > after, oldest first, at
// most limit.
func (s *Store) InboxEntries(ctx context.Context, after uint64, limit int) ([]InboxEntry, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT seq, type, entity, outcome, detail, coalesce(first_seq, 0), coalesce(last_seq, 0), applied_at FROM inbox WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: read inbox: %w", err)
	}
	defer rows.Close()
	var out []InboxEntry
	for rows.Next() {
		var e InboxEntry
		var at int64
		if err := rows.Scan(&e.Seq, &e.Type, &e.Entity, &e.Outcome, &e.Detail, &e.FirstSeq, &e.LastSeq, &at); err != nil {
			return nil, fmt.Errorf("store: read inbox: %w", err)
		}
		e.AppliedAt = time.UnixMilli(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
