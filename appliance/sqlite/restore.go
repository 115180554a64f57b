package sqlite

import (
	"context"
	"fmt"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
)

// Restoring a site: a replacement appliance starts with an empty store and
// takes in the site's change-log as central stores it, page by page
// (docs/SYNC.md, "Restoring a site"). Each entry goes into the change-log
// exactly as it was (seq, HLC, payload, hashes) and through the same
// projections a command's events go through, so that the tables and the
// queue state are those the old appliance had built from the same log.
// Nothing is told to citizens again (no messages are queued).

// Restore appends entries, which must continue the store's log (the first
// page starts at seq 1 on an empty store), each checked against its own
// hash and its predecessor's, and folds them into every projection, in one
// transaction per call. open, when set, is tried after the site's box key
// wherever a workflow opens something sealed to the site (the exam
// workflow's data keys are escrowed: exam.EscrowOpener). It returns the
// seq of the last entry restored.
func (s *Store) Restore(ctx context.Context, entries []changelog.Entry, open func(info string, sealed []byte) ([]byte, error)) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken != nil {
		return 0, s.broken
	}
	var lastSeq uint64
	var lastHash []byte
	if s.last != nil {
		lastSeq, lastHash = s.last.Seq, s.last.Hash
	}
	if len(entries) == 0 {
		return lastSeq, nil
	}
	env := s.env
	if open != nil && env.Open != nil {
		box := env.Open
		env.Open = func(info string, sealed []byte) ([]byte, error) {
			if plain, err := box(info, sealed); err == nil {
				return plain, nil
			}
			return open(info, sealed)
		}
	}
	saved := s.env
	s.env = env
	defer func() { s.env = saved }()

	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	events := make([]queue.Event, len(entries))
	day := s.state.Day
	for i := range entries {
		e := &entries[i]
		if e.Site != s.site {
			return 0, veedel.Errorf(veedel.EINVALID, "entry %d belongs to site %q, not %q", e.Seq, e.Site, s.site)
		}
		if !e.Follows(lastSeq, lastHash) {
			if lastSeq == 0 && s.last == nil {
				return 0, veedel.Errorf(veedel.EINVALID, "the restored log must start at seq 1, not %d", e.Seq)
			}
			return 0, veedel.Errorf(veedel.EINVALID, "entry %d does not continue the log after %d (hash chain broken)", e.Seq, lastSeq)
		}
		if err := e.Verify(); err != nil {
			return 0, veedel.Errorf(veedel.EINVALID, "entry %d: %s", e.Seq, veedel.ErrorMessage(err))
		}
		p, err := changelog.DecodePayload(e, s.payloads)
		if err != nil {
			return 0, veedel.Errorf(veedel.EINVALID, "entry %d: %v", e.Seq, err)
		}
		if _, err := s.prepared(tx).ExecContext(ctx, sqlAppendEntry,
			e.Seq, e.Version, int64(e.HLC), e.Type, e.Entity, []byte(e.Payload), e.Prev, e.Hash); err != nil {
			return 0, fmt.Errorf("store: restore entry %d: %w", e.Seq, err)
		}
		events[i] = queue.Event{Type: e.Type, Entity: e.Entity, At: e.At(), Payload: p}
		if err := s.projectEvent(ctx, tx, events[i], &day); err != nil {
			return 0, fmt.Errorf("entry %d: %w", e.Seq, err)
		}
		lastSeq, lastHash = e.Seq, e.Hash
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: commit: %w", err)
	}
	for _, ev := range events {
		s.state.Apply(ev)
	}
	last := entries[len(entries)-1]
	s.last = &last
	s.clock.Observe(last.HLC)
	s.publishLast()
	s.estimatesStale()
	s.notify()
	return last.Seq, nil
}
