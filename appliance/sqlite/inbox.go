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
	"github.com/veedel/veedel/workflow"
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
	InboxSkipped   = "skipped"   // its type is unknown to this build; recorded, skipped
	InboxParked    = "parked"    // its workflow cannot take it yet (workflow.Wait); kept for RetryParked
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
// the entries after it. An entry of a type this build does not know is
// skipped too (InboxSkipped): the inbox row and a row in inbox_skipped are
// committed together, and a later build that knows the type catches up
// through a replay of the reference data (RejoinNeeded, ClearSkipped).
// A malformed entry of a known type is refused with EINVALID and stops the
// inbox: central sent something wrong, and skipping it would hide that.
func (s *Store) ApplyInbound(ctx context.Context, e changelog.Entry) (string, error) {
	return s.applyInbound(ctx, e, s.knownType)
}

// knownType reports whether this build applies entries of eventType.
func (s *Store) knownType(eventType string) bool {
	_, known := s.payloads(eventType)
	return known
}

func (s *Store) applyInbound(ctx context.Context, e changelog.Entry, known func(string) bool) (string, error) {
	if e.Site != s.site {
		return "", veedel.Errorf(veedel.EINVALID, "outbound entry %d is for site %q, this is %q", e.Seq, e.Site, s.site)
	}
	if err := e.Verify(); err != nil {
		return "", err
	}
	var payload any
	skip := !known(e.Type)
	if !skip {
		var err error
		if payload, err = changelog.DecodePayload(&e, s.payloads); err != nil {
			return "", veedel.Errorf(veedel.EINVALID, "outbound entry %d: %v", e.Seq, err)
		}
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
	if skip {
		return InboxSkipped, s.recordInbox(ctx, e, InboxSkipped, "type unknown to this build")
	}

	// An entry of a workflow with entries parked waits behind them, so
	// that the workflow takes central's entries in their order.
	if reason, err := s.parkedBefore(ctx, e.Type); err != nil {
		return "", err
	} else if reason != "" {
		return InboxParked, s.park(ctx, e, reason)
	}
	events, err := s.acceptInbound(ctx, e, payload, func(tx *sql.Tx, first, last uint64) error {
		return insertInbox(ctx, tx, e, InboxApplied, "", first, last, s.now())
	})
	if reason, ok := workflow.WaitReason(err); ok {
		// Its workflow cannot take it yet: park it, and go on with the
		// entries after it.
		return InboxParked, s.park(ctx, e, reason)
	}
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

// acceptInbound decides what central's entry e (payload decoded) changes
// at the site and commits it, with record(tx, first, last) for the site's
// change-log seqs it became, in one transaction; it requires s.mu.
func (s *Store) acceptInbound(ctx context.Context, e changelog.Entry, payload any, record func(tx *sql.Tx, first, last uint64) error) ([]queue.Event, error) {
	ev := queue.Event{Type: e.Type, Entity: e.Entity, At: e.At(), Payload: payload}
	decide := func(st *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
		if wf, ok := workflow.Of(s.workflows, ev.Type); ok {
			if wf.Accept == nil {
				return nil, veedel.Errorf(veedel.EINVALID, "Ereignis %s wird von der Zentrale nicht angenommen / event %s is not accepted from central", ev.Type, ev.Type)
			}
			return wf.Accept(ctx, q, s.env, at, ev)
		}
		return st.AcceptFromCentral(at, ev)
	}
	var first uint64
	if s.last != nil {
		first = s.last.Seq + 1
	} else {
		first = 1
	}
	return s.executeTx(ctx, decide, func(tx *sql.Tx, events []queue.Event) error {
		return record(tx, first, first+uint64(len(events))-1)
	})
}

// SkippedEntry is an entry of central's outbound log that the inbox skipped
// because its type was unknown to the build that took it in, and that no
// replay has caught up on yet.
type SkippedEntry struct {
	Seq  uint64
	Type string
	At   time.Time
}

// SkippedEntries returns the skipped entries still to catch up, oldest first.
func (s *Store) SkippedEntries(ctx context.Context) ([]SkippedEntry, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT seq, type, at FROM inbox_skipped ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("store: read skipped entries: %w", err)
	}
	defer rows.Close()
	var out []SkippedEntry
	for rows.Next() {
		var e SkippedEntry
		var at int64
		if err := rows.Scan(&e.Seq, &e.Type, &at); err != nil {
			return nil, fmt.Errorf("store: read skipped entries: %w", err)
		}
		e.At = time.UnixMilli(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// RejoinNeeded reports whether the inbox skipped an entry of a type this
// build applies (it was taken in by an older build): the downlink then
// asks central to replay the reference data.
func (s *Store) RejoinNeeded(ctx context.Context) (bool, error) {
	return s.rejoinNeeded(ctx, s.knownType)
}

func (s *Store) rejoinNeeded(ctx context.Context, known func(string) bool) (bool, error) {
	skipped, err := s.SkippedEntries(ctx)
	if err != nil {
		return false, err
	}
	for _, e := range skipped {
		if known(e.Type) {
			return true, nil
		}
	}
	return false, nil
}

// ClearSkipped forgets the skipped entries at or below seq whose types this
// build applies, once central's replay of the reference data has been
// applied (see downlink), and returns how many it forgot. Entries of types
// still unknown stay for a later build. The acknowledged replay
// (ReplayAcknowledged) is forgotten in the same transaction.
func (s *Store) ClearSkipped(ctx context.Context, through uint64) (int, error) {
	return s.clearSkipped(ctx, through, s.knownType)
}

func (s *Store) clearSkipped(ctx context.Context, through uint64, known func(string) bool) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT seq, type FROM inbox_skipped WHERE seq <= ?`, through)
	if err != nil {
		return 0, fmt.Errorf("store: read skipped entries: %w", err)
	}
	var clear []uint64
	for rows.Next() {
		var seq uint64
		var typ string
		if err := rows.Scan(&seq, &typ); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: read skipped entries: %w", err)
		}
		if known(typ) {
			clear = append(clear, seq)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("store: read skipped entries: %w", err)
	}
	for _, seq := range clear {
		if _, err := tx.ExecContext(ctx, `DELETE FROM inbox_skipped WHERE seq = ?`, seq); err != nil {
			return 0, fmt.Errorf("store: clear skipped entry %d: %w", seq, err)
		}
	}
	// The replay that brought them is applied: nothing to resume.
	if _, err := tx.ExecContext(ctx, `DELETE FROM inbox_replay`); err != nil {
		return 0, fmt.Errorf("store: forget acknowledged replay: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: commit cleared skipped entries: %w", err)
	}
	return len(clear), nil
}

// ReplayAcknowledged records that central acknowledged the site's request
// for a replay of the reference data made with cursor after, and that the
// replay lies in the outbound log up to through (central's head in the
// acknowledging answer). The record survives a restart (PendingReplay), so
// that the site finishes applying that replay instead of asking again; it
// replaces an earlier one and goes with ClearSkipped.
func (s *Store) ReplayAcknowledged(ctx context.Context, after, through uint64) error {
	if through < after {
		return veedel.Errorf(veedel.EINVALID, "replay acknowledged after %d through %d: through is below after", after, through)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.db.Write.ExecContext(ctx, `INSERT INTO inbox_replay (id, after, through, at) VALUES (1, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET after = excluded.after, through = excluded.through, at = excluded.at`,
		after, through, s.now().UnixMilli())
	if err != nil {
		return fmt.Errorf("store: record acknowledged replay: %w", err)
	}
	return nil
}

// PendingReplay returns the replay central acknowledged that the site has
// not finished applying (ReplayAcknowledged); ok is false when there is
// none.
func (s *Store) PendingReplay(ctx context.Context) (after, through uint64, ok bool, err error) {
	err = s.db.Read.QueryRowContext(ctx, `SELECT after, through FROM inbox_replay WHERE id = 1`).Scan(&after, &through)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, 0, false, nil
	case err != nil:
		return 0, 0, false, fmt.Errorf("store: read acknowledged replay: %w", err)
	}
	return after, through, true, nil
}

// OlderBuildInbox is the store's inbox as a build that does not know some
// event types would run it: entries of those types are skipped, and they
// count as unknown for RejoinNeeded and ClearSkipped. It is the seam for
// tests of a fleet with mixed versions (an "older" site, then the same
// store opened as the current build); production uses the Store itself.
type OlderBuildInbox struct {
	*Store
	unknown map[string]bool
}

// AsOlderBuild returns the store's inbox as a build that does not know the
// given types.
func (s *Store) AsOlderBuild(unknown ...string) *OlderBuildInbox {
	in := &OlderBuildInbox{Store: s, unknown: map[string]bool{}}
	for _, t := range unknown {
		in.unknown[t] = true
	}
	return in
}

func (in *OlderBuildInbox) known(eventType string) bool {
	return !in.unknown[eventType] && in.Store.knownType(eventType)
}

// ApplyInbound is Store.ApplyInbound for the older build.
func (in *OlderBuildInbox) ApplyInbound(ctx context.Context, e changelog.Entry) (string, error) {
	return in.applyInbound(ctx, e, in.known)
}

// RejoinNeeded is Store.RejoinNeeded for the older build.
func (in *OlderBuildInbox) RejoinNeeded(ctx context.Context) (bool, error) {
	return in.rejoinNeeded(ctx, in.known)
}

// ClearSkipped is Store.ClearSkipped for the older build.
func (in *OlderBuildInbox) ClearSkipped(ctx context.Context, through uint64) (int, error) {
	return in.clearSkipped(ctx, through, in.known)
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

// recordInbox records an entry that changed nothing in the change-log; a
// skipped one also goes on the list a later build catches up on, in the
// same transaction. It requires s.mu.
func (s *Store) recordInbox(ctx context.Context, e changelog.Entry, outcome, detail string) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	at := s.now()
	if err := insertInbox(ctx, tx, e, outcome, detail, 0, 0, at); err != nil {
		return err
	}
	if outcome == InboxSkipped {
		if _, err := tx.ExecContext(ctx, `INSERT INTO inbox_skipped (seq, type, at) VALUES (?, ?, ?)`, e.Seq, e.Type, at.UnixMilli()); err != nil {
			return fmt.Errorf("store: record skipped entry %d: %w", e.Seq, err)
		}
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
