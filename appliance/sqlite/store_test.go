package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/sync/changelog"
)

var berlin = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return loc
}()

// monday is Monday 13 January 2025, a working day, in Berlin.
func monday(hh, mm int) time.Time { return time.Date(2025, time.January, 13, hh, mm, 0, 0, berlin) }

// testClock is the injected wall clock, settable and safe for concurrent use.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a store on a real SQLite file with a controlled clock and
// repeatable ticket tokens.
type env struct {
	t      testing.TB
	path   string
	clock  *testClock
	tokens *atomic.Int64
	store  *sqlite.Store
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	e := &env{t: tb, path: filepath.Join(tb.TempDir(), "site.db"), clock: &testClock{t: monday(7, 45)}, tokens: new(atomic.Int64)}
	e.open()
	return e
}

// open (re)opens the store on the env's file; the store is closed when the
// test ends.
func (e *env) open() {
	e.t.Helper()
	s, err := sqlite.Open(context.Background(), e.path, "kalk", sqlite.Options{
		Now:      e.clock.Now,
		NewToken: func() string { return fmt.Sprintf("token-%016d", e.tokens.Add(1)) },
	})
	if err != nil {
		e.t.Fatalf("Open: %v", err)
	}
	e.t.Cleanup(func() { s.Close() })
	e.store = s
}

func (e *env) reopen() {
	e.t.Helper()
	if err := e.store.Close(); err != nil {
		e.t.Fatalf("Close: %v", err)
	}
	e.open()
}

// seed commits the site definition: services ausweis (A) and meldung (B);
// counters 1…n serving both.
func (e *env) seed(counters int) {
	e.t.Helper()
	e.exec(func(_ *queue.State, at time.Time) ([]queue.Event, error) {
		events := []queue.Event{
			{Type: queue.TypeSiteDescribed, Entity: "site/kalk", Payload: &queue.SiteDescribed{ID: "kalk", Name: "Kundenzentrum Kalk", TimeZone: "Europe/Berlin"}},
			{Type: queue.TypeServiceDefined, Entity: "service/ausweis", Payload: &queue.ServiceDefined{ID: "ausweis", Name: "Ausweis", Prefix: "A", ExpectedMinutes: 10}},
			{Type: queue.TypeServiceDefined, Entity: "service/meldung", Payload: &queue.ServiceDefined{ID: "meldung", Name: "Anmeldung", Prefix: "B", ExpectedMinutes: 5}},
		}
		for i := 1; i <= counters; i++ {
			id := fmt.Sprint(i)
			events = append(events, queue.Event{Type: queue.TypeCounterDefined, Entity: "counter/" + id,
				Payload: &queue.CounterDefined{ID: id, Name: "Platz " + id, Services: []string{"ausweis", "meldung"}}})
		}
		for i := range events {
			events[i].At = at
		}
		return events, nil
	})
}

// exec runs a command that must succeed.
func (e *env) exec(d sqlite.Decider) []queue.Event {
	e.t.Helper()
	events, err := e.store.Execute(context.Background(), d)
	if err != nil {
		e.t.Fatalf("Execute: %v", err)
	}
	return events
}

// issue issues a ticket as a kiosk does whose page showed the estimates
// of the state as it is (settled: the estimator runs in the background).
func (e *env) issue(service string) queue.Ticket {
	e.t.Helper()
	e.store.SettleEstimates()
	t, _, err := e.store.IssueTicket(context.Background(), service, "kiosk", "")
	if err != nil {
		e.t.Fatalf("IssueTicket(%s): %v", service, err)
	}
	return t
}

// Deciders for the counter commands.
func callNext(counter, staff string) sqlite.Decider {
	return func(st *queue.State, at time.Time) ([]queue.Event, error) { return st.CallNext(at, counter, staff) }
}

func one(cmd func(*queue.State, time.Time, string) (queue.Event, error), counter string) sqlite.Decider {
	return func(st *queue.State, at time.Time) ([]queue.Event, error) {
		ev, err := cmd(st, at, counter)
		if err != nil {
			return nil, err
		}
		return []queue.Event{ev}, nil
	}
}

func finish(counter string) sqlite.Decider { return one((*queue.State).Finish, counter) }
func recall(counter string) sqlite.Decider { return one((*queue.State).Recall, counter) }
func noShow(counter string) sqlite.Decider { return one((*queue.State).NoShow, counter) }

// snapshot is what the store's state shows, comparable across reopening.
type snapshot struct {
	Day       string
	Tickets   map[string]queue.Ticket
	Counters  map[string]queue.Counter
	Waiting   []string
	Estimates map[string]queue.Estimate
	Recent    []queue.Call
	Minutes   float64
}

func (e *env) snapshot() snapshot {
	var s snapshot
	e.store.SettleEstimates()
	e.store.View(func(st *queue.State) {
		s = snapshot{Day: st.Day, Tickets: map[string]queue.Ticket{}, Counters: map[string]queue.Counter{},
			Estimates: map[string]queue.Estimate{}, Recent: st.RecentCalls(), Minutes: st.ServiceMinutes("ausweis")}
		for id, t := range st.Tickets {
			s.Tickets[id] = *t
			s.Estimates[id] = st.EstimateTicket(id)
		}
		for id, c := range st.Counters {
			s.Counters[id] = *c
		}
		for _, t := range st.Waiting() {
			s.Waiting = append(s.Waiting, t.ID)
		}
	})
	return s
}

// entries returns the whole change-log, checking that it is a verified,
// gap-free chain from seq 1.
func (e *env) entries() []changelog.Entry {
	e.t.Helper()
	all, err := e.store.EntriesAfter(context.Background(), 0, 1_000_000, 1<<30)
	if err != nil {
		e.t.Fatalf("EntriesAfter: %v", err)
	}
	for i := range all {
		if err := all[i].Verify(); err != nil {
			e.t.Fatalf("entry %d: %v", all[i].Seq, err)
		}
		if i == 0 {
			if all[i].Seq != 1 {
				e.t.Fatalf("first entry has seq %d, want 1", all[i].Seq)
			}
		} else if !all[i].Follows(all[i-1].Seq, all[i-1].Hash) {
			e.t.Fatalf("entry %d does not follow entry %d", all[i].Seq, all[i-1].Seq)
		}
	}
	return all
}

func wantCode(tb testing.TB, err error, want string) {
	tb.Helper()
	if got := veedel.ErrorCode(err); got != want {
		tb.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
}

// openSecond opens an independent connection to the store's file, as
// another process (a backup, a report) would.
func (e *env) openSecond() *sql.DB {
	e.t.Helper()
	db, err := sql.Open("sqlite", "file:"+e.path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	return db
}

func TestExecute(t *testing.T) {
	t.Run("SurvivesReopen", func(t *testing.T) {
		e := newEnv(t)
		e.seed(3)
		for _, svc := range []string{"ausweis", "meldung", "ausweis", "meldung"} {
			e.clock.Add(time.Minute)
			e.issue(svc)
		}
		e.clock.Add(time.Minute)
		e.exec(callNext("1", "anna"))
		e.exec(callNext("2", "bernd"))
		e.clock.Add(3 * time.Minute)
		e.exec(recall("2"))
		e.exec(finish("1"))
		e.exec(noShow("2"))
		e.exec(callNext("1", "anna"))

		want, wantSeq := e.snapshot(), e.store.LastSeq()
		wantLog := e.entries()
		if got := uint64(len(wantLog)); got != wantSeq {
			t.Fatalf("change-log has %d entries, LastSeq = %d", got, wantSeq)
		}

		e.reopen()
		if got := e.store.LastSeq(); got != wantSeq {
			t.Errorf("LastSeq after reopen = %d, want %d", got, wantSeq)
		}
		if got := e.snapshot(); !reflect.DeepEqual(got, want) {
			t.Errorf("state after reopen:\n got %+v\nwant %+v", got, want)
		}
		if got := e.entries(); !reflect.DeepEqual(got, wantLog) {
			t.Errorf("change-log changed by reopening")
		}

		// The wall clock went back an hour meanwhile (NTP, a dead RTC
		// battery): the log goes on from where it was, after the last
		// entry's time.
		e.clock.Add(-time.Hour)
		ticket := e.issue("ausweis")
		all := e.entries()
		if got, want := len(all), len(wantLog)+1; got != want {
			t.Fatalf("entries after one more command = %d, want %d", got, want)
		}
		last, prev := all[len(all)-1], all[len(all)-2]
		if last.HLC <= prev.HLC {
			t.Errorf("HLC after reopen = %d, want > %d", last.HLC, prev.HLC)
		}
		if got, want := ticket.Number, "A003"; got != want {
			t.Errorf("number after reopen = %q, want %q (numbering continues)", got, want)
		}
	})

	t.Run("ErrBrokenLogOnReopen", func(t *testing.T) {
		for name, change := range map[string]string{
			"Gap":         `DELETE FROM changelog WHERE seq = 5`,
			"ForeignPrev": `UPDATE changelog SET prev = zeroblob(32) WHERE seq = 6`,
		} {
			t.Run(name, func(t *testing.T) {
				e := newEnv(t)
				e.seed(1)
				for range 4 {
					e.issue("ausweis")
				}
				e.store.Close()
				if _, err := e.openSecond().Exec(change); err != nil {
					t.Fatal(err)
				}
				s, err := sqlite.Open(context.Background(), e.path, "kalk", sqlite.Options{Now: e.clock.Now})
				if err == nil {
					s.Close()
					t.Fatalf("Open of a change-log with a broken chain: err = nil, want an error")
				}
			})
		}
	})

	t.Run("EventsCarryTheEntryTime", func(t *testing.T) {
		e := newEnv(t)
		e.seed(1)
		e.clock.Set(monday(9, 30))
		ticket := e.issue("ausweis")
		all := e.entries()
		last := all[len(all)-1]
		if !ticket.IssuedAt.Equal(last.At()) {
			t.Errorf("IssuedAt = %v, want the entry's time %v", ticket.IssuedAt, last.At())
		}
		if got, want := last.At(), monday(9, 30); !got.Equal(want) {
			t.Errorf("entry time = %v, want %v", got, want)
		}
		if got, want := last.Type, queue.TypeTicketIssued; got != want {
			t.Errorf("entry type = %q, want %q", got, want)
		}
	})

	t.Run("ErrDeciderWritesNothing", func(t *testing.T) {
		e := newEnv(t)
		e.seed(2)
		e.issue("ausweis")
		before, seq, n := e.snapshot(), e.store.LastSeq(), len(e.entries())
		errRefused := veedel.Errorf(veedel.ECONFLICT, "refused")
		for name, d := range map[string]sqlite.Decider{
			"Error": func(*queue.State, time.Time) ([]queue.Event, error) { return nil, errRefused },
			"EventsAndError": func(st *queue.State, at time.Time) ([]queue.Event, error) {
				ev, _ := st.IssueTicket(at, "ausweis", "token-that-is-long-enough", "kiosk")
				return []queue.Event{ev}, errRefused
			},
		} {
			t.Run(name, func(t *testing.T) {
				events, err := e.store.Execute(context.Background(), d)
				if !errors.Is(err, errRefused) {
					t.Errorf("Execute err = %v, want the decider's error", err)
				}
				if events != nil {
					t.Errorf("Execute events = %v, want none", events)
				}
				if got := e.store.LastSeq(); got != seq {
					t.Errorf("LastSeq = %d, want %d", got, seq)
				}
				if got := len(e.entries()); got != n {
					t.Errorf("entries = %d, want %d", got, n)
				}
				if got := e.snapshot(); !reflect.DeepEqual(got, before) {
					t.Errorf("state changed:\n got %+v\nwant %+v", got, before)
				}
			})
		}
		// A real command error, too.
		_, err := e.store.Execute(context.Background(), finish("2"))
		wantCode(t, err, veedel.ECONFLICT)
		if got := e.store.LastSeq(); got != seq {
			t.Errorf("LastSeq after a refused Finish = %d, want %d", got, seq)
		}
	})

	t.Run("ErrCommitWritesNothing", func(t *testing.T) {
		// The second event breaks a constraint of the projection (the same
		// QR token twice): the first must not stay in the log either.
		e := newEnv(t)
		e.seed(1)
		before, seq := e.snapshot(), e.store.LastSeq()
		_, err := e.store.Execute(context.Background(), func(_ *queue.State, at time.Time) ([]queue.Event, error) {
			token := "same-token-for-both-tickets"
			return []queue.Event{
				{Type: queue.TypeTicketIssued, Entity: "ticket/2025-01-13/A901", At: at,
					Payload: &queue.TicketIssued{ID: "2025-01-13/A901", Token: token, Number: "A901", Service: "ausweis", Channel: "kiosk"}},
				{Type: queue.TypeTicketIssued, Entity: "ticket/2025-01-13/A902", At: at,
					Payload: &queue.TicketIssued{ID: "2025-01-13/A902", Token: token, Number: "A902", Service: "ausweis", Channel: "kiosk"}},
			}, nil
		})
		if err == nil {
			t.Fatal("Execute with a duplicate token: err = nil, want an error")
		}
		if got := e.store.LastSeq(); got != seq {
			t.Errorf("LastSeq = %d, want %d", got, seq)
		}
		if got := uint64(len(e.entries())); got != seq {
			t.Errorf("entries = %d, want %d", got, seq)
		}
		if got := e.snapshot(); !reflect.DeepEqual(got, before) {
			t.Errorf("state changed:\n got %+v\nwant %+v", got, before)
		}
		var n int
		if err := e.openSecond().QueryRow("SELECT count(*) FROM tickets").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("tickets rows = %d, want 0", n)
		}
		// The store goes on normally.
		if got, want := e.issue("ausweis").Number, "A001"; got != want {
			t.Errorf("next ticket = %q, want %q", got, want)
		}
		e.entries()
	})

	t.Run("NoEventsNoEntry", func(t *testing.T) {
		e := newEnv(t)
		e.seed(1)
		seq := e.store.LastSeq()
		events, err := e.store.Execute(context.Background(), func(*queue.State, time.Time) ([]queue.Event, error) { return nil, nil })
		if err != nil || events != nil {
			t.Errorf("Execute = %v, %v; want nil, nil", events, err)
		}
		if got := e.store.LastSeq(); got != seq {
			t.Errorf("LastSeq = %d, want %d", got, seq)
		}
	})

	t.Run("Subscribe", func(t *testing.T) {
		e := newEnv(t)
		ch, cancel := e.store.Subscribe()
		defer cancel()
		e.seed(1)
		select {
		case <-ch:
		default:
			t.Errorf("no wake-up after a commit")
		}
		_, _ = e.store.Execute(context.Background(), finish("1")) // refused
		select {
		case <-ch:
			t.Errorf("wake-up after a refused command")
		default:
		}
	})
}

// TestCallNextConcurrent lets 50 clerks press "call next" at 5 counters at
// once. No ticket may go to two counters.
func TestCallNextConcurrent(t *testing.T) {
	e := newEnv(t)
	e.seed(5)
	e.clock.Set(monday(8, 0))
	const tickets, clerks, counters = 50, 50, 5
	for i := range tickets {
		e.issue([]string{"ausweis", "meldung"}[i%2])
	}
	e.clock.Set(monday(9, 0))

	ctx := context.Background()
	called := make(chan string, tickets*2)
	var wg sync.WaitGroup
	for g := range clerks {
		counter := fmt.Sprint(g%counters + 1)
		wg.Go(func() {
			for range 10 * tickets {
				events, err := e.store.Execute(ctx, callNext(counter, "clerk"+counter))
				if err == nil {
					for _, ev := range events {
						if p, ok := ev.Payload.(*queue.TicketCalled); ok {
							called <- p.ID
						}
					}
					return
				}
				if veedel.ErrorCode(err) != veedel.ECONFLICT {
					t.Errorf("CallNext(%s): %v", counter, err)
					return
				}
				// Busy or empty: finish whoever the counter serves, stop
				// when nobody waits any more.
				empty := false
				e.store.View(func(st *queue.State) { empty = st.WaitingCount() == 0 })
				if empty {
					return
				}
				if _, err := e.store.Execute(ctx, finish(counter)); err != nil && veedel.ErrorCode(err) != veedel.ECONFLICT {
					t.Errorf("Finish(%s): %v", counter, err)
					return
				}
			}
			t.Errorf("clerk at %s gave up", counter)
		})
	}
	wg.Wait()
	close(called)

	seen := map[string]bool{}
	for id := range called {
		if seen[id] {
			t.Errorf("ticket %s was given to two counters", id)
		}
		seen[id] = true
	}
	if got := len(seen); got != tickets {
		t.Errorf("tickets called = %d, want %d", got, tickets)
	}

	// The change-log tells the same story.
	logged := map[string]int{}
	for _, en := range e.entries() {
		if en.Type != queue.TypeTicketCalled {
			continue
		}
		p, err := changelog.DecodePayload(&en, queue.NewPayload)
		if err != nil {
			t.Fatal(err)
		}
		logged[p.(*queue.TicketCalled).ID]++
	}
	for id, n := range logged {
		if n != 1 {
			t.Errorf("change-log calls %s %d times, want once", id, n)
		}
	}
	if got := len(logged); got != tickets {
		t.Errorf("change-log has %d called tickets, want %d", got, tickets)
	}

	e.store.View(func(st *queue.State) {
		if got := st.WaitingCount(); got != 0 {
			t.Errorf("waiting = %d, want 0", got)
		}
		current := map[string]string{}
		for _, c := range st.Counters {
			if c.Current == "" {
				continue
			}
			if other, ok := current[c.Current]; ok {
				t.Errorf("ticket %s is current at counters %s and %s", c.Current, other, c.ID)
			}
			current[c.Current] = c.ID
		}
	})
}

func TestIssueTicket(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		e.seed(1)
		seq := e.store.LastSeq()
		tk, replayed, err := e.store.IssueTicket(ctx, "meldung", "kiosk", "")
		if err != nil {
			t.Fatal(err)
		}
		if replayed {
			t.Errorf("replayed = true for a new ticket")
		}
		if tk.Number != "B001" || tk.Status != queue.StatusWaiting || tk.Channel != "kiosk" || tk.Token != "token-0000000000000001" {
			t.Errorf("ticket = %+v, want B001 waiting from the kiosk with the injected token", tk)
		}
		if got, want := e.store.LastSeq(), seq+1; got != want {
			t.Errorf("LastSeq = %d, want %d", got, want)
		}
	})

	t.Run("IdempotencyKeyReplays", func(t *testing.T) {
		e := newEnv(t)
		e.seed(1)
		seq := e.store.LastSeq()
		first, replayed, err := e.store.IssueTicket(ctx, "ausweis", "api", "api-key-1")
		if err != nil || replayed {
			t.Fatalf("first IssueTicket = replayed %v, %v; want false, nil", replayed, err)
		}
		second, replayed, err := e.store.IssueTicket(ctx, "ausweis", "api", "api-key-1")
		if err != nil {
			t.Fatal(err)
		}
		if !replayed {
			t.Errorf("replayed = false for a repeated key, want true")
		}
		if second.ID != first.ID || second.Token != first.Token {
			t.Errorf("repeated key gave %s (%s), want %s (%s)", second.ID, second.Token, first.ID, first.Token)
		}
		if got, want := e.store.LastSeq(), seq+1; got != want {
			t.Errorf("LastSeq = %d, want %d: the log must grow by one entry only", got, want)
		}
		if got, want := len(e.entries()), int(seq)+1; got != want {
			t.Errorf("entries = %d, want %d", got, want)
		}
		// Another key is another ticket.
		third, replayed, err := e.store.IssueTicket(ctx, "ausweis", "api", "api-key-2")
		if err != nil || replayed || third.ID == first.ID {
			t.Errorf("other key = %s, replayed %v, %v; want a new ticket", third.ID, replayed, err)
		}
		// The key survives a restart.
		e.reopen()
		again, replayed, err := e.store.IssueTicket(ctx, "ausweis", "api", "api-key-1")
		if err != nil || !replayed || again.ID != first.ID {
			t.Errorf("after reopen = %s, replayed %v, %v; want %s replayed", again.ID, replayed, err, first.ID)
		}
	})

	t.Run("ErrIdempotencyKeyOtherService", func(t *testing.T) {
		e := newEnv(t)
		e.seed(1)
		if _, _, err := e.store.IssueTicket(ctx, "ausweis", "api", "api-key-1"); err != nil {
			t.Fatal(err)
		}
		seq := e.store.LastSeq()
		_, replayed, err := e.store.IssueTicket(ctx, "meldung", "api", "api-key-1")
		wantCode(t, err, veedel.ECONFLICT)
		if replayed {
			t.Errorf("replayed = true with an error")
		}
		if got := e.store.LastSeq(); got != seq {
			t.Errorf("LastSeq = %d, want %d", got, seq)
		}
	})

	t.Run("ErrUnknownService", func(t *testing.T) {
		e := newEnv(t)
		e.seed(1)
		seq := e.store.LastSeq()
		_, _, err := e.store.IssueTicket(ctx, "nope", "api", "api-key-1")
		wantCode(t, err, veedel.EINVALID)
		if got := e.store.LastSeq(); got != seq {
			t.Errorf("LastSeq = %d, want %d", got, seq)
		}
		// The key was not taken by the failed request.
		tk, replayed, err := e.store.IssueTicket(ctx, "ausweis", "api", "api-key-1")
		if err != nil || replayed || tk.Number != "A001" {
			t.Errorf("IssueTicket after a failed one = %s, replayed %v, %v; want A001, new", tk.Number, replayed, err)
		}
	})
}

func TestTicketsProjection(t *testing.T) {
	e := newEnv(t)
	e.seed(3)
	// Monday: a day's work, some of it left open.
	for i, svc := range []string{"ausweis", "meldung", "ausweis", "meldung", "ausweis", "meldung"} {
		e.clock.Set(monday(8, i))
		e.issue(svc)
	}
	e.clock.Set(monday(9, 0))
	e.exec(callNext("1", "anna"))
	e.exec(callNext("2", "bernd"))
	e.exec(callNext("3", "carla"))
	e.clock.Set(monday(9, 7))
	e.exec(recall("2"))
	e.exec(recall("2"))
	e.exec(finish("1"))
	e.exec(noShow("2"))
	e.exec(callNext("1", "anna"))
	e.clock.Set(monday(9, 20))
	e.exec(finish("1"))
	check := func(t *testing.T) {
		t.Helper()
		compareProjection(t, e)
	}
	t.Run("SameDay", check)

	// Tuesday morning: Monday's open tickets expire in the state.
	e.clock.Set(monday(8, 0).AddDate(0, 0, 1))
	e.issue("meldung")
	e.exec(callNext("2", "bernd"))
	t.Run("AfterDayRollover", check)

	e.reopen()
	t.Run("AfterReopen", check)
}

// compareProjection checks every ticket the state knows against its row in
// the tickets table, read through an independent connection.
func compareProjection(t *testing.T, e *env) {
	t.Helper()
	db := e.openSecond()
	rows, err := db.Query(`SELECT id, day, token, number, service, channel, status, counter, recalls, issued_at, called_at, finished_at FROM tickets`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	ms := func(v sql.NullInt64) time.Time {
		if !v.Valid {
			return time.Time{}
		}
		return time.UnixMilli(v.Int64)
	}
	inDB := map[string]queue.Ticket{}
	for rows.Next() {
		var tk queue.Ticket
		var issued int64
		var called, finished sql.NullInt64
		if err := rows.Scan(&tk.ID, &tk.Day, &tk.Token, &tk.Number, &tk.Service, &tk.Channel, &tk.Status, &tk.Counter, &tk.Recalls, &issued, &called, &finished); err != nil {
			t.Fatal(err)
		}
		tk.IssuedAt, tk.CalledAt, tk.FinishedAt = time.UnixMilli(issued), ms(called), ms(finished)
		inDB[tk.ID] = tk
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var ids []string
	e.store.View(func(st *queue.State) {
		for id, mem := range st.Tickets {
			ids = append(ids, id)
			row, ok := inDB[id]
			if !ok {
				t.Errorf("ticket %s is in the state but not in the tickets table", id)
				continue
			}
			if row.Day != mem.Day || row.Token != mem.Token || row.Number != mem.Number || row.Service != mem.Service ||
				row.Channel != mem.Channel || row.Status != mem.Status || row.Counter != mem.Counter || row.Recalls != mem.Recalls ||
				!row.IssuedAt.Equal(mem.IssuedAt) || !row.CalledAt.Equal(mem.CalledAt) || !row.FinishedAt.Equal(mem.FinishedAt) {
				t.Errorf("ticket %s:\n table %+v\n state %+v", id, row, *mem)
			}
		}
	})
	if len(ids) == 0 {
		t.Fatal("no tickets in the state; the comparison proves nothing")
	}
	for id := range inDB {
		if !slices.Contains(ids, id) {
			// Forgotten by the state after two days is fine; anything
			// else is a row without its event.
			t.Errorf("ticket %s is in the table but not in the state", id)
		}
	}
}
