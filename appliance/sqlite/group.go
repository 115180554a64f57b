package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/workflow"
)

// Group commit. A durable commit (synchronous=FULL: an fsync) costs more
// than deciding a command and writing its rows, so commands that arrive
// while a commit is in flight wait for it together and then go as one
// group: the first of them leads, takes every command waiting, decides
// them in order of arrival in one transaction, each on the state its
// predecessors left, each in a SAVEPOINT of its own (a command that fails
// rolls back to it and changes nothing, the others go on), and commits
// once. Every command of the group is answered only after that commit:
// an answer still means "on disk". While the group is written the store's
// lock is held, so readers see the state before the group or after its
// commit, never between. Should the commit fail, the state folded for the
// group is thrown away and folded again from the file (refold).

// groupCmd is one command of a group.
type groupCmd struct {
	decide TxDecider
	// extra runs in the command's savepoint after its events are written.
	extra func(*sql.Tx, []queue.Event) error
	// after runs under the lock right after the command's events were
	// folded (events may be empty), to read its result from the state.
	after func(st *queue.State, events []queue.Event)

	events []queue.Event
	err    error
	mailed bool      // it queued a message for the mail outbox
	turn   chan bool // true: lead the next group; false: answered
}

// grouper queues the commands waiting for the commit in flight.
type grouper struct {
	mu      sync.Mutex
	waiting []*groupCmd
	leading bool // a leader is writing a group

	// groups and commands count what was committed, for GroupStats.
	groups, commands uint64
}

// GroupStats says how many groups committed how many commands since
// Open (only commands sent through the group commit: Execute, ExecuteTx,
// issuing and check-in).
type GroupStats struct{ Groups, Commands uint64 }

// GroupStats reports the group commit's counts.
func (s *Store) GroupStats() GroupStats {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return GroupStats{Groups: s.group.groups, Commands: s.group.commands}
}

// submit runs c in a group commit and returns when its group is durable
// (or c failed). Once queued a command is always decided: a caller that
// gives up (ctx) still waits, since its command may commit.
func (s *Store) submit(ctx context.Context, c *groupCmd) ([]queue.Event, error) {
	c.turn = make(chan bool, 1)
	g := &s.group
	g.mu.Lock()
	g.waiting = append(g.waiting, c)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if !lead && !<-c.turn {
		return c.events, c.err
	}
	g.mu.Lock()
	batch := g.waiting
	g.waiting = nil
	g.mu.Unlock()

	s.mu.Lock()
	committed := s.commitGroup(context.WithoutCancel(ctx), batch)
	s.mu.Unlock()

	g.mu.Lock()
	g.groups++
	g.commands += uint64(committed)
	if len(g.waiting) > 0 {
		g.waiting[0].turn <- true // they came during this commit: the next group
	} else {
		g.leading = false
	}
	g.mu.Unlock()
	for _, b := range batch {
		if b != c {
			b.turn <- false
		}
	}
	return c.events, c.err
}

// commitGroup requires s.mu: it decides and writes batch in one
// transaction and commits it, setting each command's events and error.
// It returns how many commands committed events.
func (s *Store) commitGroup(ctx context.Context, batch []*groupCmd) int {
	fail := func(err error) {
		for _, c := range batch {
			c.events, c.err = nil, err
		}
	}
	if s.broken != nil {
		fail(s.broken)
		return 0
	}
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		fail(fmt.Errorf("store: begin: %w", err))
		return 0
	}
	defer tx.Rollback()
	folded := 0
	for _, c := range batch {
		var broken error
		c.events, c.err, broken = s.decideInGroup(ctx, tx, c)
		if broken != nil {
			// The transaction cannot go on: nothing of it commits, and
			// what the group folded (c itself perhaps half-way) is
			// thrown away.
			c.events = nil
			if c.err == nil {
				c.err = broken
			}
			for _, other := range batch {
				if other != c && (len(other.events) > 0 || other.err == nil) {
					other.events, other.err = nil, broken
				}
			}
			tx.Rollback()
			s.refold(ctx)
			return 0
		}
		if len(c.events) > 0 {
			folded++
		}
	}
	if folded == 0 {
		return 0 // nothing written: nothing to make durable
	}
	if err := tx.Commit(); err != nil {
		err = fmt.Errorf("store: commit: %w", err)
		for _, c := range batch {
			if len(c.events) > 0 {
				c.events, c.err = nil, err
			}
		}
		s.refold(ctx)
		return 0
	}
	s.publishLast()
	s.estimatesStale()
	s.notify()
	for _, c := range batch {
		if c.mailed && len(c.events) > 0 {
			s.mail.Load().Kick()
			break
		}
	}
	return folded
}

// decideInGroup requires s.mu: it decides and writes one command of a
// group in a savepoint and folds its events. A failure of the command is
// err (its savepoint rolled back); broken means the transaction itself
// failed.
func (s *Store) decideInGroup(ctx context.Context, tx *sql.Tx, c *groupCmd) (events []queue.Event, err, broken error) {
	ptx := s.prepared(tx)
	if _, err := ptx.ExecContext(ctx, sqlSavepoint); err != nil {
		return nil, nil, fmt.Errorf("store: savepoint: %w", err)
	}
	first := s.clock.Now()
	var last *changelog.Entry
	err = func() (err error) {
		// A command that panics (a bug) fails alone, as it did when it
		// ran on its own under the caller's recoverer: its savepoint is
		// rolled back below, and the other commands go on.
		defer func() {
			if p := recover(); p != nil {
				err = veedel.Errorf(veedel.EINTERNAL, "store: command failed: %v", p)
			}
		}()
		events, err = c.decide(s.state, groupTx{q: ptx, ctx: ctx}, first.Time())
		if err == nil && len(events) > 0 && s.checkClock != nil {
			err = s.checkClock(s.lastAt())
		}
		if err == nil && len(events) > 0 {
			last, c.mailed, err = s.write(ctx, tx, first, events, c.extra)
		}
		return err
	}()
	if err != nil {
		if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO command`); rerr != nil {
			return nil, err, fmt.Errorf("store: roll back a failed command: %w", rerr)
		}
		events = nil
	}
	if _, rerr := ptx.ExecContext(ctx, sqlRelease); rerr != nil {
		return nil, err, fmt.Errorf("store: release savepoint: %w", rerr)
	}
	if err != nil {
		return nil, err, nil
	}
	// Folding cannot be undone: should it panic half-way, the group
	// fails and the state is folded again from the file (commitGroup).
	defer func() {
		if p := recover(); p != nil {
			events, err, broken = nil, nil, veedel.Errorf(veedel.EINTERNAL, "store: folding a command failed: %v", p)
		}
	}()
	for _, ev := range events {
		s.state.Apply(ev)
	}
	if len(events) > 0 {
		s.last = last
	}
	if c.after != nil {
		c.after(s.state, events)
	}
	return events, nil, nil
}

// refold requires s.mu: after a group that was folded but not committed,
// it folds the state again from the file. Should that fail too, the store
// refuses every further command (s.broken): a state that may hold what
// the file does not must not decide anything.
func (s *Store) refold(ctx context.Context) {
	grace, published := s.state.NoShowGrace, s.estimator != nil
	s.state, s.last, s.snapshotSeq = queue.NewState(s.site), nil, 0
	if err := s.load(ctx); err != nil {
		s.broken = veedel.Errorf(veedel.EINTERNAL, "store: a commit failed and the state could not be read again from the file (%v): restart the appliance", err)
		return
	}
	s.state.NoShowGrace = grace
	s.publishLast()
	if published {
		s.state.UseEstimates(s.state.ComputeEstimates())
	}
}

// groupTx is a group's transaction as a command's decision reads it: with
// the group's context, not the caller's. A statement cancelled half-way
// (its client went away) would make SQLite roll back the whole
// transaction, and with it the group's other commands.
type groupTx struct {
	q   preparedTx
	ctx context.Context
}

func (g groupTx) ExecContext(_ context.Context, query string, args ...any) (sql.Result, error) {
	return g.q.ExecContext(g.ctx, query, args...)
}

func (g groupTx) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	return g.q.QueryContext(g.ctx, query, args...)
}

func (g groupTx) QueryRowContext(_ context.Context, query string, args ...any) *sql.Row {
	return g.q.QueryRowContext(g.ctx, query, args...)
}

// queueDecider makes a Decider a TxDecider.
func queueDecider(decide Decider) TxDecider {
	return func(st *queue.State, _ workflow.Querier, at time.Time) ([]queue.Event, error) {
		return decide(st, at)
	}
}
