// Package sqlite is the appliance's store: the site's change-log and the
// queue state it folds into, kept in one SQLite file. Every command runs in
// one immediate transaction that appends its events to the change-log and
// updates the projections; the in-memory state is folded only after commit.
package sqlite

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/veedel/veedel/sync/blob"
	"io/fs"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/veedel/veedel/internal/mail"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/internal/login"
	"github.com/veedel/veedel/internal/login/loginsql"
	"github.com/veedel/veedel/internal/sqlitedb"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/workflow"
	"github.com/veedel/veedel/workflows"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Options configure a Store. Zero values are production defaults.
type Options struct {
	// Now is the clock the site goes by (the appliance's checked clock,
	// appliance/clock); tests set it.
	Now func() time.Time
	// CheckClock, when set, is asked before every commit with the time of
	// the log's last entry (zero: none); an error refuses the command and
	// commits nothing (appliance/clock.Clock.Check: a clock clearly wrong).
	CheckClock func(last time.Time) error
	// NewToken returns a random ticket token of at least 128 bits.
	NewToken func() string
	// Synchronous overrides PRAGMA synchronous (benchmarks only).
	Synchronous string
	// NoShowGrace is how long after a call a clerk must wait before
	// marking a no-show (zero: queue.DefaultNoShowGrace).
	NoShowGrace time.Duration
	// Logger hears failed logins (nil: slog.Default()).
	Logger *slog.Logger
	// BoxKey opens what central sealed to this site (sitekey.BoxKey):
	// the personal data of orders and bookings made at central. Nil: such
	// entries are refused until the site runs with its key.
	BoxKey *ecdh.PrivateKey
	// Workflows are the workflows beside the queue (nil: the ones
	// registered in package workflows; tests may narrow them).
	Workflows []workflow.Site
}

// Store is a site's durable queue. It is safe for concurrent use; commands
// are serialised, reads of the state take the same lock briefly.
type Store struct {
	db       *sqlitedb.DB
	site     string
	clock    *changelog.Clock
	now      func() time.Time
	newToken func() string
	// checkClock is Options.CheckClock.
	checkClock func(last time.Time) error

	// workflows beside the queue, the decoder of every payload they and
	// the queue know, and what their site parts get besides the
	// transaction.
	workflows []workflow.Site
	payloads  func(string) (any, bool)
	env       workflow.Env

	mu    sync.Mutex
	state *queue.State
	last  *changelog.Entry // last committed entry, nil for an empty log
	// snapshotSeq is the seq the newest snapshot was taken at.
	snapshotSeq uint64
	// compacted mirrors the durable compaction mark, so that the uplink's
	// every read of the outbox does not query it again.
	compacted atomic.Uint64

	subMu sync.Mutex
	subs  map[chan struct{}]struct{}

	logins login.Checker
	// guard throttles password guesses; journal keeps failed logins and
	// the machines staff logged in from (user.go).
	guard   *login.Guard
	journal loginsql.Journal
	// kiosks caches the paired kiosks' cookies (kiosk.go).
	kiosks kioskCache

	// stmts are the statements every command runs, prepared once on the
	// writer connection (stmts.go).
	stmts map[string]*sql.Stmt

	// mail queues the workflows' messages (UseMail); nil: none are sent.
	mail atomic.Pointer[mail.Outbox]
	// sms queues the workflows' messages with a phone number for the SMS
	// worker (UseSMS, message_sms.go).
	sms    atomic.Bool
	logger *slog.Logger

	// skipEstimates leaves the wait estimate out of issued tickets; only
	// BenchmarkCaptureOverhead sets it, to measure the change-log alone.
	skipEstimates bool

	// estimator recomputes the wait estimates off the write path
	// (estimates.go).
	estimator *estimator

	// group queues commands for the group commit (group.go); broken,
	// when set, refuses every command (a failed commit whose state could
	// not be folded again). broken requires mu.
	group  grouper
	broken error
	// lastSeq is s.last's seq once committed (published), for readers
	// that must not wait for a commit in flight.
	lastSeq atomic.Uint64
}

// Open opens the store at path for site, applying migrations and folding the
// change-log into the in-memory state.
func Open(ctx context.Context, path, site string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewToken == nil {
		opts.NewToken = RandomToken
	}
	migrations, _ := fs.Sub(migrationFiles, "migrations")
	db, err := sqlitedb.Open(ctx, path, migrations, sqlitedb.Options{Synchronous: opts.Synchronous})
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, site: site, now: opts.Now, checkClock: opts.CheckClock, newToken: opts.NewToken,
		state: queue.NewState(site), subs: map[chan struct{}]struct{}{}}
	s.workflows = opts.Workflows
	if s.workflows == nil {
		s.workflows = workflows.Site()
	}
	s.payloads = workflow.Payloads(queue.NewPayload, s.workflows)
	box := opts.BoxKey
	s.env = workflow.Env{Site: site, Open: func(info string, sealed []byte) ([]byte, error) {
		return changelog.Open(box, info, sealed)
	}}
	if box != nil {
		pub := box.PublicKey().Bytes()
		s.env.Seal = func(info string, plaintext []byte) ([]byte, error) { return changelog.Seal(pub, info, plaintext) }
	}
	s.journal = loginsql.Journal{Write: db.Write, Read: db.Read}
	s.guard = login.NewGuard(login.DefaultPolicy, s.journal, opts.Now, opts.Logger)
	if s.logger = opts.Logger; s.logger == nil {
		s.logger = slog.Default()
	}
	if err := s.load(ctx); err != nil {
		db.Close()
		return nil, err
	}
	compacted, err := s.compactedThroughWriter(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.compacted.Store(compacted)
	if s.stmts, err = prepare(ctx, db.Write); err != nil {
		db.Close()
		return nil, err
	}
	s.state.NoShowGrace = opts.NoShowGrace
	var last changelog.HLC
	if s.last != nil {
		last = s.last.HLC
	}
	s.clock = changelog.NewClock(opts.Now, last)
	s.publishLast()
	s.startEstimates()
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.stopEstimates()
	closeStatements(s.stmts)
	return s.db.Close()
}

// Site is the site this store belongs to.
func (s *Store) Site() string { return s.site }

// LastEntryAt is the time of the log's newest entry (zero for none): the
// site's clock must not run behind it.
func (s *Store) LastEntryAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastAt()
}

// lastAt requires s.mu.
func (s *Store) lastAt() time.Time {
	if s.last == nil {
		return time.Time{}
	}
	return s.last.HLC.Time()
}

// RandomToken returns 128 random bits, URL-safe (22 characters).
func RandomToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// load folds the whole change-log into the state. (Snapshots come with the
// sync engine's retention work.)
func (s *Store) load(ctx context.Context) error {
	// Start from the newest snapshot if there is one, then fold what came
	// after it. (Read it first: the writer has one connection.)
	snap, err := s.readSnapshot(ctx)
	if err != nil {
		return err
	}
	after := uint64(0)
	if snap != nil {
		restored, err := queue.Restore(snap.snap)
		switch {
		case err == nil:
			s.state, after, s.snapshotSeq = restored, snap.seq, snap.seq
			s.last = &changelog.Entry{Site: s.site, Seq: snap.seq, HLC: snap.hlc, Hash: snap.hash}
		default:
			// A snapshot this build cannot read: fold the whole log, which
			// is only possible while nothing has been compacted.
			compacted, cerr := s.compactedThroughWriter(ctx)
			if cerr != nil {
				return cerr
			}
			if compacted > 0 {
				return fmt.Errorf("store: %w, and entries up to %d were compacted: start the previous version", err, compacted)
			}
		}
	}
	rows, err := s.db.Write.QueryContext(ctx, `SELECT seq, version, hlc, type, entity, payload, prev, hash FROM changelog WHERE seq > ? ORDER BY seq`, after)
	if err != nil {
		return fmt.Errorf("store: load change-log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEntry(rows, s.site)
		if err != nil {
			return err
		}
		if s.last != nil && !e.Follows(s.last.Seq, s.last.Hash) {
			return fmt.Errorf("store: change-log broken at seq %d", e.Seq)
		}
		// An entry altered on disk must stop the start, not be folded in
		// silently and shipped to central.
		if err := e.Verify(); err != nil {
			return fmt.Errorf("store: change-log entry %d is damaged: %w", e.Seq, err)
		}
		p, err := changelog.DecodePayload(&e, s.payloads)
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		s.state.Apply(queue.Event{Type: e.Type, Entity: e.Entity, At: e.At(), Payload: p})
		s.last = &e
	}
	return rows.Err()
}

type scanner interface{ Scan(...any) error }

func scanEntry(row scanner, site string) (changelog.Entry, error) {
	e := changelog.Entry{Site: site}
	var hlc int64
	if err := row.Scan(&e.Seq, &e.Version, &hlc, &e.Type, &e.Entity, &e.Payload, &e.Prev, &e.Hash); err != nil {
		return e, fmt.Errorf("store: read change-log: %w", err)
	}
	e.HLC = changelog.HLC(hlc)
	if len(e.Prev) == 0 {
		e.Prev = nil
	}
	return e, nil
}

// View runs fn with the current state under the store's lock. fn must not
// keep references to the state after it returns.
func (s *Store) View(fn func(*queue.State)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.state)
}

// Decider is a command: it reads the state at time at and returns the
// events to commit, or an error that leaves everything unchanged.
type Decider func(st *queue.State, at time.Time) ([]queue.Event, error)

// TxDecider is a command of a workflow beside the queue: it decides in the
// command's transaction, reading the workflow's tables through q (and the
// queue's state, for commands that touch both), and returns the events to
// commit. It must not write: the events' projections do.
type TxDecider func(st *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error)

// Execute runs a command: decide, commit the events with their change-log
// entries in one transaction, then fold them into the state.
// Commands that arrive while a commit is in flight commit together
// (group.go); each returns only once its events are durable.
func (s *Store) Execute(ctx context.Context, decide Decider) ([]queue.Event, error) {
	return s.submit(ctx, &groupCmd{decide: queueDecider(decide)})
}

// ExecuteTx runs a workflow's command as Execute runs the queue's: the
// decision, the change-log entries and the projections in one
// transaction.
func (s *Store) ExecuteTx(ctx context.Context, decide TxDecider) ([]queue.Event, error) {
	return s.submit(ctx, &groupCmd{decide: decide})
}

// Env is what the workflows' site parts get besides the transaction (the
// site, and opening and sealing with its box key), for their commands.
func (s *Store) Env() workflow.Env { return s.env }

// Read is the store's pool of read connections, for the workflows' queries
// of their own tables.
func (s *Store) Read() workflow.Querier { return s.db.Read }

// executeTx requires s.mu: it runs a command on its own, outside the group
// commit (for callers that hold s.mu already, such as the inbox), deciding
// inside the transaction. extra runs inside the transaction after the
// events are written, for rows that belong to the same command.
func (s *Store) executeTx(ctx context.Context, decide TxDecider, extra func(*sql.Tx, []queue.Event) error) ([]queue.Event, error) {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	first := s.clock.Now()
	events, err := decide(s.state, tx, first.Time())
	if err != nil || len(events) == 0 {
		return nil, err
	}
	return s.commit(ctx, tx, first, events, extra)
}

// commit requires s.mu: it appends events (stamped from first on) to the
// change-log with their projections and extra in tx (begun here when nil),
// commits, and folds them into the state.
func (s *Store) commit(ctx context.Context, tx *sql.Tx, first changelog.HLC, events []queue.Event, extra func(*sql.Tx, []queue.Event) error) ([]queue.Event, error) {
	if s.checkClock != nil {
		if err := s.checkClock(s.lastAt()); err != nil {
			return nil, err
		}
	}
	if tx == nil {
		var err error
		if tx, err = s.db.Write.BeginTx(ctx, nil); err != nil {
			return nil, fmt.Errorf("store: begin: %w", err)
		}
		defer tx.Rollback()
	}
	last, queued, err := s.write(ctx, tx, first, events, extra)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: commit: %w", err)
	}
	for _, ev := range events {
		s.state.Apply(ev)
	}
	s.last = last
	s.publishLast()
	s.estimatesStale()
	s.notify()
	if queued {
		s.mail.Load().Kick()
	}
	return events, nil
}

// publishLast requires s.mu: s.last is committed.
func (s *Store) publishLast() {
	if s.last == nil {
		s.lastSeq.Store(0)
		return
	}
	s.lastSeq.Store(s.last.Seq)
}

// write requires s.mu: it appends events (stamped from first on) after
// s.last to the change-log in tx, with their projections, extra and the
// messages they tell citizens, and returns the last entry written and
// whether it queued a message (the mail outbox is kicked after commit).
// It neither commits nor folds.
func (s *Store) write(ctx context.Context, tx *sql.Tx, first changelog.HLC, events []queue.Event, extra func(*sql.Tx, []queue.Event) error) (*changelog.Entry, bool, error) {
	prev := s.last
	day := s.state.Day
	entries := make([]changelog.Entry, len(events))
	for i := range events {
		hlc := first
		if i > 0 {
			hlc = s.clock.Now()
		}
		e, err := changelog.NewEntry(s.site, prev, hlc, events[i].Type, events[i].Entity, events[i].Payload)
		if err != nil {
			return nil, false, fmt.Errorf("store: encode %s: %w", events[i].Type, err)
		}
		if _, err := s.prepared(tx).ExecContext(ctx, sqlAppendEntry,
			e.Seq, e.Version, int64(e.HLC), e.Type, e.Entity, []byte(e.Payload), e.Prev, e.Hash); err != nil {
			return nil, false, fmt.Errorf("store: append %s: %w", e.Type, err)
		}
		// Fold with the entry's own time, exactly as central will.
		events[i].At = e.At()
		if err := s.projectEvent(ctx, tx, events[i], &day); err != nil {
			return nil, false, err
		}
		entries[i] = e
		prev = &entries[i]
	}
	if extra != nil {
		if err := extra(tx, events); err != nil {
			return nil, false, err
		}
	}
	queued, err := s.queueMessages(ctx, tx, events)
	if err != nil {
		return nil, false, err
	}
	return prev, queued, nil
}

// projectEvent requires s.mu: it keeps the tables in step with ev (stamped
// with its entry's time) in tx; day is the business day so far, advanced
// when ev starts a later one (the reducer's rule).
func (s *Store) projectEvent(ctx context.Context, tx *sql.Tx, ev queue.Event, day *string) error {
	if next := s.state.DayOf(ev.At); next > *day && startsDay(ev) {
		if err := expireBefore(ctx, tx, next, ev.At); err != nil {
			return err
		}
		*day = next
	}
	if wf, ok := workflow.Of(s.workflows, ev.Type); ok {
		if err := wf.Project(ctx, s.prepared(tx), s.env, ev); err != nil {
			return fmt.Errorf("store: project %s: %w", ev.Type, err)
		}
		return nil
	}
	return project(ctx, s.prepared(tx), ev, s.state.DayOf(ev.At))
}

// UseMail makes the store queue the workflows' messages to citizens in o
// (internal/mail), whose table is in this file; o.DB must be Writer().
func (s *Store) UseMail(o *mail.Outbox) { s.mail.Store(o) }

// Writer is the store's one write connection, for the mail outbox.
func (s *Store) Writer() *sql.DB { return s.db.Write }

// queueMessages queues, in tx, what the events tell citizens, and reports
// whether it queued any.
func (s *Store) queueMessages(ctx context.Context, tx *sql.Tx, events []queue.Event) (bool, error) {
	o := s.mail.Load()
	if o == nil && !s.sms.Load() {
		return false, nil
	}
	queued := false
	for _, e := range events {
		wf, ok := workflow.Of(s.workflows, e.Type)
		if !ok || wf.Messages == nil {
			continue
		}
		msgs, err := wf.Messages(ctx, tx, e)
		if err != nil {
			return false, fmt.Errorf("store: messages of %s: %w", e.Type, err)
		}
		for _, m := range msgs {
			if _, err := s.queueSMS(ctx, tx, m); err != nil {
				return false, err
			}
			if m.Email == "" || o == nil {
				continue
			}
			_, err := o.Enqueue(ctx, tx, mail.Message{To: mail.Address{Name: m.Name, Email: m.Email}, Subject: m.Subject, Text: m.Text, Key: m.Key})
			if err != nil && veedel.ErrorCode(err) != veedel.EINVALID {
				return false, err
			}
			if err != nil {
				// A contact the outbox refuses must not undo the clerk's
				// step: the status page still tells the citizen.
				s.logger.Warn("message not queued", "type", e.Type, "err", veedel.ErrorMessage(err))
				continue
			}
			queued = true
		}
	}
	return queued, nil
}

// project keeps the tickets table in step with the event.
func project(ctx context.Context, tx workflow.Querier, e queue.Event, day string) error {
	var err error
	at := e.At.UnixMilli()
	switch p := e.Payload.(type) {
	case *queue.TicketIssued:
		_, err = tx.ExecContext(ctx, sqlTicketIssued,
			p.ID, day, p.Token, p.Number, p.Service, p.Channel, queue.StatusWaiting, at, p.EstimateMinutes, p.EstimateP90)
	case *queue.TicketCalled:
		_, err = tx.ExecContext(ctx, sqlTicketCalled, queue.StatusCalled, p.Counter, at, p.ID)
	case *queue.TicketRecalled:
		_, err = tx.ExecContext(ctx, `UPDATE tickets SET recalls = recalls + 1 WHERE id = ?`, p.ID)
	case *queue.TicketFinished:
		if _, err = tx.ExecContext(ctx, sqlTicketEnded, queue.StatusDone, at, p.ID); err == nil {
			err = eraseSMS(ctx, tx, p.ID)
		}
	case *queue.TicketNoShow:
		if _, err = tx.ExecContext(ctx, sqlTicketEnded, queue.StatusNoShow, at, p.ID); err == nil {
			err = eraseSMS(ctx, tx, p.ID)
		}
	case *queue.TicketParked:
		_, err = tx.ExecContext(ctx, `UPDATE tickets SET status = ?, counter = ? WHERE id = ?`, queue.StatusParked, p.Counter, p.ID)
	case *queue.TicketCalledBack:
		_, err = tx.ExecContext(ctx, `UPDATE tickets SET status = ?, counter = ? WHERE id = ?`, queue.StatusCalled, p.Counter, p.ID)
	case *queue.TicketTransferred:
		_, err = tx.ExecContext(ctx, `UPDATE tickets SET status = ?, service = ?, counter = '' WHERE id = ?`, queue.StatusWaiting, p.Service, p.ID)
	case *queue.TicketCancelled:
		if _, err = tx.ExecContext(ctx, sqlTicketEnded, queue.StatusCancelled, at, p.ID); err == nil {
			err = eraseSMS(ctx, tx, p.ID)
		}
	}
	if err != nil {
		return fmt.Errorf("store: project %s: %w", e.Type, err)
	}
	return nil
}

// startsDay reports whether the reducer starts a new business day with e
// when e falls on a later day (queue.State.Apply advances the day on these).
func startsDay(e queue.Event) bool {
	switch e.Payload.(type) {
	case *queue.CounterOpened, *queue.CounterClosed, *queue.TicketIssued, *queue.TicketCalled,
		*queue.TicketRecalled, *queue.TicketFinished, *queue.TicketNoShow,
		*queue.TicketStarted, *queue.TicketParked, *queue.TicketCalledBack, *queue.TicketTransferred, *queue.TicketCancelled:
		return true
	}
	return false
}

// expireBefore keeps the tickets table in step with the reducer when a new
// business day starts: tickets of earlier days still open expire at, and
// the SMS sign-ups of earlier days' tickets go in the same transaction
// (sms.go), and so do print records past their keeping (print.go).
func expireBefore(ctx context.Context, tx *sql.Tx, day string, at time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE tickets SET status = ?, finished_at = ? WHERE day < ? AND status IN (?, ?, ?)`,
		queue.StatusExpired, at.UnixMilli(), day, queue.StatusWaiting, queue.StatusCalled, queue.StatusParked)
	if err == nil {
		err = eraseSMSBefore(ctx, tx, day, at)
	}
	if err == nil {
		err = prunePrintJobs(ctx, tx, at)
	}
	if err != nil {
		return fmt.Errorf("store: expire tickets before %s: %w", day, err)
	}
	return nil
}

// IssueTicket issues a ticket for a service. A non-empty idempotencyKey
// that was used before returns the ticket of that first request (replayed
// true) instead of issuing a second one.
func (s *Store) IssueTicket(ctx context.Context, service, channel, idempotencyKey string) (t queue.Ticket, replayed bool, err error) {
	return s.IssueTicketClass(ctx, service, queue.ClassWalkIn, channel, idempotencyKey)
}

// IssueTicketClass is IssueTicket for a priority class (queue.ClassWalkIn
// or queue.ClassAccessibility).
func (s *Store) IssueTicketClass(ctx context.Context, service, class, channel, idempotencyKey string) (t queue.Ticket, replayed bool, err error) {
	// Its rows go into a group's transaction: a statement cut off by
	// this caller's going away must not roll back the others'.
	ctx = context.WithoutCancel(ctx)
	token := s.newToken()
	_, err = s.submit(ctx, &groupCmd{
		// The key is looked up in the command's transaction: a retry in
		// the same group sees the first request's key.
		decide: func(st *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
			if idempotencyKey != "" {
				var request, id string
				err := q.QueryRowContext(ctx, sqlIdempotencyGet, idempotencyKey).Scan(&request, &id)
				switch {
				case err == nil && request != service:
					return nil, veedel.Errorf(veedel.ECONFLICT, "Idempotency-Key wurde schon für ein anderes Anliegen benutzt / Idempotency-Key already used for another service")
				case err == nil:
					if old := st.Tickets[id]; old != nil {
						t, replayed = *old, true
						return nil, nil
					}
					return nil, veedel.Errorf(veedel.ECONFLICT, "Idempotency-Key belongs to a ticket of an earlier day")
				case !errors.Is(err, sql.ErrNoRows):
					return nil, fmt.Errorf("store: idempotency: %w", err)
				}
			}
			e, err := st.IssueTicketClass(at, service, token, channel, class)
			if err != nil {
				return nil, err
			}
			if !s.skipEstimates {
				recordEstimate(st, e)
			}
			return []queue.Event{e}, nil
		},
		extra: func(tx *sql.Tx, events []queue.Event) error {
			if idempotencyKey == "" {
				return nil
			}
			id := events[0].Payload.(*queue.TicketIssued).ID
			_, err := s.prepared(tx).ExecContext(ctx, sqlIdempotencyPut,
				idempotencyKey, service, id, s.now().UnixMilli())
			return err
		},
		after: func(st *queue.State, events []queue.Event) {
			if len(events) > 0 {
				t = *st.Tickets[events[0].Payload.(*queue.TicketIssued).ID]
			}
		},
	})
	if err != nil {
		return queue.Ticket{}, false, err
	}
	return t, replayed, nil
}

// CheckIn issues the ticket of an appointment by its booking code. A
// second check-in with the same code returns the first ticket (replayed
// true): a double tap or a re-scan never issues two tickets.
func (s *Store) CheckIn(ctx context.Context, code, channel string) (t queue.Ticket, replayed bool, err error) {
	ctx = context.WithoutCancel(ctx) // as IssueTicketClass: it decides in a group
	token := s.newToken()
	_, err = s.submit(ctx, &groupCmd{
		decide: func(st *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
			ref, err := s.bookedFor(ctx, st, q, code)
			if err != nil {
				return nil, err
			}
			e, old, err := st.CheckInFor(at, code, ref, token, channel)
			if veedel.ErrorCode(err) == veedel.ENOTFOUND {
				// Not a booking: perhaps a workflow's code (a pickup).
				e, old, err = s.checkInWorkflow(ctx, st, q, at, code, token, channel, err)
			}
			if err != nil || old != nil {
				if old != nil {
					t, replayed = *old, true
				}
				return nil, err
			}
			// No recorded estimate: an appointment is not shown a walk-in's wait.
			return []queue.Event{e}, nil
		},
		after: func(st *queue.State, events []queue.Event) {
			if len(events) > 0 {
				t = *st.Tickets[events[0].Payload.(*queue.TicketIssued).ID]
			}
		},
	})
	if err != nil {
		return queue.Ticket{}, false, err
	}
	return t, replayed, nil
}

// recordEstimate puts the wait a walk-in of the ticket's service is shown
// right now (the kiosk's figure, from the state before the ticket) into the
// TicketIssued event, so that the statistics can measure the estimate's
// accuracy on the site and at central alike.
func recordEstimate(st *queue.State, e queue.Event) {
	p, ok := e.Payload.(*queue.TicketIssued)
	if !ok || p.EstimateMinutes != nil {
		return
	}
	est := st.EstimateNew(p.Service)
	p.EstimateMinutes, p.EstimateP90 = &est.Minutes, &est.P90
}

// Subscribe returns a channel that receives a value after every commit
// (coalesced: a slow reader sees one wake-up for many commits) and a
// function that ends the subscription.
func (s *Store) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	s.subMu.Lock()
	s.subs[ch] = struct{}{}
	s.subMu.Unlock()
	return ch, func() {
		s.subMu.Lock()
		delete(s.subs, ch)
		s.subMu.Unlock()
	}
}

func (s *Store) notify() {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	for ch := range s.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// bookedFor returns the workflow record a booking code's booking is for
// (Booking.For, resolved by the workflow that knows it), "" when it is
// for none or the record is not here: the booking then checks in on its
// own.
func (s *Store) bookedFor(ctx context.Context, st *queue.State, q workflow.Querier, code string) (string, error) {
	b := st.BookingByCode(code)
	if b == nil || b.For == "" {
		return "", nil
	}
	for _, wf := range s.workflows {
		if wf.BookedFor == nil {
			continue
		}
		ref, err := wf.BookedFor(ctx, q, b.For)
		switch {
		case veedel.ErrorCode(err) == veedel.ENOTFOUND:
			continue
		case err != nil:
			return "", err
		}
		return ref, nil
	}
	return "", nil
}

// checkInWorkflow offers a code the queue does not know to the workflows
// that take codes at the kiosk; notFound is the queue's answer, kept when
// none of them knows the code either.
func (s *Store) checkInWorkflow(ctx context.Context, st *queue.State, q workflow.Querier, at time.Time, code, token, channel string, notFound error) (queue.Event, *queue.Ticket, error) {
	for _, wf := range s.workflows {
		if wf.CheckIn == nil {
			continue
		}
		ref, service, err := wf.CheckIn(ctx, q, at, code)
		switch {
		case veedel.ErrorCode(err) == veedel.ENOTFOUND:
			continue
		case err != nil:
			return queue.Event{}, nil, err
		}
		return st.IssueFor(at, ref, service, token, channel)
	}
	return queue.Event{}, nil, notFound
}

// SendDue queues the messages the workflows have due now (reminders) and
// returns how many were new. Each goes out once: the outbox knows its key.
func (s *Store) SendDue(ctx context.Context) (int, error) {
	o := s.mail.Load()
	if o == nil && !s.sms.Load() {
		return 0, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	n := 0
	for _, wf := range s.workflows {
		if wf.Due == nil {
			continue
		}
		msgs, err := wf.Due(ctx, tx, s.now())
		if err != nil {
			return 0, fmt.Errorf("store: messages due of %s: %w", wf.Name, err)
		}
		for _, m := range msgs {
			if added, err := s.queueSMS(ctx, tx, m); err != nil {
				return 0, err
			} else if added {
				n++
			}
			if m.Email == "" || o == nil {
				continue
			}
			added, err := o.Enqueue(ctx, tx, mail.Message{To: mail.Address{Name: m.Name, Email: m.Email}, Subject: m.Subject, Text: m.Text, Key: m.Key})
			if err != nil && veedel.ErrorCode(err) != veedel.EINVALID {
				return 0, err
			}
			if added {
				n++
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: commit: %w", err)
	}
	if n > 0 && o != nil {
		o.Kick()
	}
	return n, nil
}

// queueSMS queues m's SMS in tx when it has a phone number and the site
// sends SMS; false when it queued nothing.
func (s *Store) queueSMS(ctx context.Context, tx *sql.Tx, m workflow.Message) (bool, error) {
	if m.Phone == "" || !s.sms.Load() || m.Key == "" {
		return false, nil
	}
	text := m.SMS
	if text == "" {
		text = m.Text
	}
	return enqueueMessageSMS(ctx, tx, "sms:"+m.Key, m.Phone, text, s.now())
}

// Blobs returns the site's files (sync/blob): what blob.Want fetched from
// central, and what the site Put before it blob.Offer-ed it up.
func (s *Store) Blobs() *blob.Files {
	return blob.New(&blob.SQL{Write: s.db.Write, Read: s.db.Read})
}
