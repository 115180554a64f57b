package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/workflow"
)

// openGroupStore opens a store with one service and counter.
func openGroupStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "site.db"), "kalk", Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Execute(context.Background(), func(_ *queue.State, at time.Time) ([]queue.Event, error) {
		return []queue.Event{{Type: queue.TypeServiceDefined, Entity: "service/meldung", At: at,
			Payload: &queue.ServiceDefined{ID: "meldung", Name: "Anmeldung", Prefix: "B", ExpectedMinutes: 5}},
			{Type: queue.TypeCounterDefined, Entity: "counter/1", At: at,
				Payload: &queue.CounterDefined{ID: "1", Name: "Platz 1", Services: []string{"meldung"}}}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

// holdGroup holds the store's lock while n commands queue behind a first
// one, so that those n go as one group when release is called.
func holdGroup(t *testing.T, s *Store, n int) (release func()) {
	t.Helper()
	s.mu.Lock()
	deadline := time.Now().Add(10 * time.Second)
	return func() {
		for {
			s.group.mu.Lock()
			queued := len(s.group.waiting)
			s.group.mu.Unlock()
			if queued >= n {
				break
			}
			if time.Now().After(deadline) {
				s.mu.Unlock()
				t.Fatalf("%d of %d commands queued", queued, n)
			}
			time.Sleep(time.Millisecond)
		}
		s.mu.Unlock()
	}
}

// TestGroupCommitIsolation: commands that wait for the same commit go as
// one group; a command that fails in it (here: its extra rows) is rolled
// back to its savepoint and leaves no trace, while the commands before and
// after it commit, each decided on the state its predecessors left, in a
// gap-free chain.
func TestGroupCommitIsolation(t *testing.T) {
	ctx := context.Background()
	s := openGroupStore(t)
	before := s.GroupStats()
	release := holdGroup(t, s, 5)

	var wg sync.WaitGroup
	results := make([]error, 6)
	numbers := make([]string, 6)
	// The first one leads and waits for the lock; the next five queue.
	issue := func(i int, extra func(*sql.Tx, []queue.Event) error) {
		var tk queue.Ticket
		_, err := s.submit(ctx, &groupCmd{
			decide: queueDecider(func(st *queue.State, at time.Time) ([]queue.Event, error) {
				e, err := st.IssueTicket(at, "meldung", fmt.Sprintf("token-%018d", i), "kiosk")
				return []queue.Event{e}, err
			}),
			extra: extra,
			after: func(st *queue.State, events []queue.Event) {
				if len(events) > 0 {
					tk = *st.Tickets[events[0].Payload.(*queue.TicketIssued).ID]
				}
			},
		})
		results[i], numbers[i] = err, tk.Number
	}
	wg.Go(func() { issue(0, nil) })
	for {
		s.group.mu.Lock()
		leading := s.group.leading && len(s.group.waiting) == 0
		s.group.mu.Unlock()
		if leading {
			break
		}
		time.Sleep(time.Millisecond)
	}
	failing := errors.New("extra rows refused")
	for i := 1; i < 6; i++ {
		var extra func(*sql.Tx, []queue.Event) error
		if i == 3 {
			// Writes a row, then fails: the row must go with the rest.
			extra = func(tx *sql.Tx, events []queue.Event) error {
				if _, err := tx.Exec(`INSERT INTO idempotency_keys (key, request, ticket_id, created_at) VALUES ('k', 'meldung', 'x', 0)`); err != nil {
					return err
				}
				return failing
			}
		}
		wg.Go(func() { issue(i, extra) })
		// In order of arrival: wait until it is queued.
		for {
			s.group.mu.Lock()
			queued := len(s.group.waiting)
			s.group.mu.Unlock()
			if queued == i {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	release()
	wg.Wait()

	if !errors.Is(results[3], failing) {
		t.Errorf("the failing command: %v, want its own error", results[3])
	}
	want := []string{"B001", "B002", "B003", "", "B004", "B005"}
	for i := range 6 {
		if i != 3 && results[i] != nil {
			t.Errorf("command %d: %v", i, results[i])
		}
		if numbers[i] != want[i] {
			t.Errorf("command %d got ticket %q, want %q", i, numbers[i], want[i])
		}
	}
	if got := s.GroupStats(); got.Groups-before.Groups != 2 || got.Commands-before.Commands != 5 {
		t.Errorf("groups %+v (before %+v): want 2 more groups committing 5 commands", got, before)
	}
	var keys int
	s.db.Read.QueryRow(`SELECT count(*) FROM idempotency_keys`).Scan(&keys)
	if keys != 0 {
		t.Errorf("%d idempotency rows: the failed command's row stayed", keys)
	}
	entries, err := s.EntriesAfter(ctx, 0, 1000, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	tickets := 0
	for i, e := range entries {
		if err := e.Verify(); err != nil || uint64(i+1) != e.Seq || (i > 0 && !e.Follows(entries[i-1].Seq, entries[i-1].Hash)) {
			t.Fatalf("entry %d: chain broken (%v)", e.Seq, err)
		}
		if e.Type == queue.TypeTicketIssued {
			tickets++
		}
	}
	if tickets != 5 {
		t.Errorf("%d tickets in the log, want 5", tickets)
	}
	// Reopened, the file says the same as the state did.
	path := s.db.Path
	s.Close()
	again, err := Open(ctx, path, "kalk", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	again.View(func(st *queue.State) {
		if n := len(st.Waiting()); n != 5 {
			t.Errorf("reopened: %d waiting, want 5", n)
		}
	})
}

// TestGroupCommitConcurrent: many clients at once get distinct tickets in
// fewer commits than commands, and an idempotent retry racing its first
// request in the same group gets the same ticket.
func TestGroupCommitConcurrent(t *testing.T) {
	ctx := context.Background()
	s := openGroupStore(t)
	before := s.GroupStats()
	const clients, each = 16, 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]string{}
	// Hold the store while the clients send their first commands, so
	// that they queue behind the first one's commit as they would behind
	// a slow disk: on a fast disk and a busy machine they may otherwise
	// each find no commit in flight, and the test would measure luck.
	s.mu.Lock()
	released := false
	release := func() {
		if !released {
			released = true
			s.mu.Unlock()
		}
	}
	defer release()
	for c := range clients {
		wg.Go(func() {
			for i := range each {
				key := fmt.Sprintf("c%d-%d", c, i%(each/2)) // every key twice
				tk, _, err := s.IssueTicket(ctx, "meldung", "kiosk", key)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if old, ok := seen[key]; ok && old != tk.ID {
					t.Errorf("key %s: %s and %s", key, old, tk.ID)
				}
				seen[key] = tk.ID
				mu.Unlock()
			}
		})
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		s.group.mu.Lock()
		queued := len(s.group.waiting)
		s.group.mu.Unlock()
		if queued >= clients-1 {
			break // the first leads, blocked on the lock; the rest wait
		}
	}
	release()
	wg.Wait()
	got := s.GroupStats()
	groups, commands := got.Groups-before.Groups, got.Commands-before.Commands
	t.Logf("%d commands committed in %d groups", commands, groups)
	if commands != clients*each/2 {
		t.Errorf("%d commands committed, want %d (one per key)", commands, clients*each/2)
	}
	if groups >= commands {
		t.Errorf("%d groups for %d commands: no commit was shared", groups, commands)
	}
	s.View(func(st *queue.State) {
		if n := len(st.Waiting()); n != clients*each/2 {
			t.Errorf("%d waiting, want %d", n, clients*each/2)
		}
	})
}

// TestGroupCommitCallerGone: a command whose caller has gone away (its
// context cancelled) is still decided with the group's context once
// queued: a statement of it cancelled half-way would make SQLite roll back
// the whole group's transaction.
func TestGroupCommitCallerGone(t *testing.T) {
	s := openGroupStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tk, _, err := s.IssueTicket(ctx, "meldung", "kiosk", "gone-1")
	if err != nil {
		t.Fatalf("issue for a caller gone: %v", err)
	}
	if _, err := s.ExecuteTx(ctx, func(st *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
		var n int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM idempotency_keys`).Scan(&n); err != nil || n != 1 {
			return nil, fmt.Errorf("read in the group: %d, %v", n, err)
		}
		e, err := st.IssueTicket(at, "meldung", "token-gone-00000000002", "kiosk")
		return []queue.Event{e}, err
	}); err != nil {
		t.Fatalf("a decision reading with a cancelled context: %v", err)
	}
	s.View(func(st *queue.State) {
		if len(st.Waiting()) != 2 || st.Tickets[tk.ID] == nil {
			t.Errorf("%d waiting, want both tickets", len(st.Waiting()))
		}
	})
}

// TestGroupCommitPanic: a command that panics (a bug) fails alone with an
// internal error, as it did on its own; the store goes on.
func TestGroupCommitPanic(t *testing.T) {
	ctx := context.Background()
	s := openGroupStore(t)
	_, err := s.Execute(ctx, func(*queue.State, time.Time) ([]queue.Event, error) { panic("a bug") })
	if veedel.ErrorCode(err) != veedel.EINTERNAL {
		t.Fatalf("a panicking command: %v, want %s", err, veedel.EINTERNAL)
	}
	if _, _, err := s.IssueTicket(ctx, "meldung", "kiosk", ""); err != nil {
		t.Fatalf("after it: %v", err)
	}
}

// TestReadersSeeOnlyCommitted: a group folds each command's events before
// the group commits (the next command decides on them), but a reader
// never sees that: every state a reader is shown is already in the file.
// (A fresh store folds one event per entry: Applied is the last seq.)
func TestReadersSeeOnlyCommitted(t *testing.T) {
	ctx := context.Background()
	s := openGroupStore(t)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, _, err := s.IssueTicket(ctx, "meldung", "kiosk", ""); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	reads := 0
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		var applied uint64
		s.View(func(st *queue.State) { applied = st.Applied })
		last := s.LastSeq()
		var seq uint64
		if err := s.db.Read.QueryRow(`SELECT coalesce(max(seq), 0) FROM changelog`).Scan(&seq); err != nil {
			t.Fatal(err)
		}
		if seq < applied {
			t.Fatalf("a reader saw %d events folded while the file had %d", applied, seq)
		}
		if last > seq {
			t.Fatalf("LastSeq %d ahead of the file's %d", last, seq)
		}
		reads++
	}
	close(done)
	wg.Wait()
	if g := s.GroupStats(); g.Commands <= g.Groups {
		t.Errorf("no commit was shared (%+v): the test saw no group", g)
	}
	t.Logf("%d reads, %+v", reads, s.GroupStats())
}
