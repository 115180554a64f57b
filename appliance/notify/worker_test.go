package notify_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/veedel/veedel/appliance"
	"github.com/veedel/veedel/appliance/notify"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
)

const phone = "+4915123456789"

// clock is a settable clock for the store and the worker.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// sender records what it sends; err, when set, fails every send.
type sender struct {
	mu   sync.Mutex
	sent []sent
	err  error
}

type sent struct{ to, text string }

func (s *sender) Send(_ context.Context, to, text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.sent = append(s.sent, sent{to, text})
	return nil
}

func (s *sender) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

func (s *sender) texts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, m := range s.sent {
		out = append(out, m.text)
	}
	return out
}

// fixture is a Kalk appliance store with counter 1 open, a clock on a
// Monday morning and a worker whose logs go to a buffer.
type fixture struct {
	path   string
	clock  *clock
	store  *sqlite.Store
	sender *sender
	logs   *bytes.Buffer
	worker *notify.Worker
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{path: filepath.Join(t.TempDir(), "kalk.db"), sender: &sender{}, logs: &bytes.Buffer{},
		clock: &clock{t: time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)}} // Monday 09:00 in Cologne
	f.open(t)
	f.exec(t, func(_ *queue.State, at time.Time) ([]queue.Event, error) {
		return appliance.Catalog["kalk"].Events(at), nil
	})
	f.exec(t, func(st *queue.State, at time.Time) ([]queue.Event, error) {
		e, err := st.OpenCounter(at, "1", "demo")
		return []queue.Event{e}, err
	})
	return f
}

// open (re)opens the store and makes a new worker on it.
func (f *fixture) open(t *testing.T) {
	t.Helper()
	store, err := sqlite.Open(context.Background(), f.path, "kalk", sqlite.Options{Now: f.clock.Now})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	f.store = store
	logger := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.worker = &notify.Worker{Store: store, Sender: f.sender, Logger: logger, Now: f.clock.Now,
		Lead: 10 * time.Minute, Backoff: time.Minute, MaxAttempts: 3}
}

func (f *fixture) exec(t *testing.T, d sqlite.Decider) {
	t.Helper()
	if _, err := f.store.Execute(context.Background(), d); err != nil {
		t.Fatalf("execute: %v", err)
	}
}

func (f *fixture) issue(t *testing.T, service string) queue.Ticket {
	t.Helper()
	tk, _, err := f.store.IssueTicket(context.Background(), service, "kiosk", "")
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	return tk
}

func (f *fixture) callNext(t *testing.T) {
	t.Helper()
	f.exec(t, func(st *queue.State, at time.Time) ([]queue.Event, error) { return st.CallNext(at, "1", "demo") })
}

func (f *fixture) finish(t *testing.T) {
	t.Helper()
	f.exec(t, func(st *queue.State, at time.Time) ([]queue.Event, error) {
		e, err := st.Finish(at, "1")
		return []queue.Event{e}, err
	})
}

func (f *fixture) step(t *testing.T) {
	t.Helper()
	f.store.SettleEstimates() // the worker reads the published estimates
	if err := f.worker.Step(context.Background()); err != nil {
		t.Fatalf("step: %v", err)
	}
}

// estimate is a ticket's estimate as the store publishes it, settled
// first (the store recomputes estimates in the background).
func (f *fixture) estimate(id string) queue.Estimate {
	f.store.SettleEstimates()
	var est queue.Estimate
	f.store.View(func(st *queue.State) { est = st.EstimateTicket(id) })
	return est
}

// rows counts a table's rows for a ticket, reading the file directly.
func (f *fixture) rows(t *testing.T, table, ticket string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+f.path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM `+table+` WHERE ticket_id = ?`, ticket).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// noNumberInLogs fails when the logs hold the number in any usual form.
func (f *fixture) noNumberInLogs(t *testing.T) {
	t.Helper()
	logs := f.logs.String()
	for _, form := range []string{phone, "15123456789", "015123456789", "23456789"} {
		if strings.Contains(logs, form) {
			t.Errorf("logs contain the number (%s):\n%s", form, logs)
		}
	}
}

func TestTriggersFireOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	var tickets []queue.Ticket
	for range 3 {
		tickets = append(tickets, f.issue(t, "ausweis")) // 12 minutes expected each
	}
	mine := tickets[2]
	if err := f.store.SignUpSMS(ctx, mine.ID, phone, "de"); err != nil {
		t.Fatalf("sign up: %v", err)
	}

	// Two citizens ahead, nobody served yet: well beyond the lead.
	if est := f.estimate(mine.ID); est.Minutes <= 15 {
		t.Fatalf("estimate with two ahead = %d min, want > 15", est.Minutes)
	}
	f.step(t)
	if got := f.sender.texts(); len(got) != 0 {
		t.Fatalf("sent %q before the lead", got)
	}

	// The first served, the second called: next in line, within the lead.
	f.worker.Lead = 15 * time.Minute
	f.callNext(t)
	f.clock.Add(12 * time.Minute)
	f.finish(t)
	f.callNext(t)
	est := f.estimate(mine.ID)
	if est.Minutes > 15 || est.Minutes <= 1 {
		t.Fatalf("estimate as next in line = %d min, want 2 to 15", est.Minutes)
	}
	f.step(t)
	f.step(t)
	want := []string{"Ihre Nummer " + mine.Number + ": noch ca. " + strconv.Itoa(est.Minutes) + " Minuten"}
	if got := f.sender.texts(); !equalStrings(got, want) {
		t.Fatalf("sent %q, want %q", got, want)
	}

	// The call: once, with the counter's name, however often we look.
	f.finish(t)
	f.callNext(t)
	f.step(t)
	f.step(t)
	f.exec(t, func(st *queue.State, at time.Time) ([]queue.Event, error) {
		e, err := st.Recall(at, "1")
		return []queue.Event{e}, err
	})
	f.step(t)
	want = append(want, mine.Number+" bitte zu Platz 1")
	if got := f.sender.texts(); !equalStrings(got, want) {
		t.Fatalf("sent %q, want %q", got, want)
	}
	if got := f.sender.sent[0].to; got != phone {
		t.Errorf("sent to %q, want %q", got, phone)
	}
	f.noNumberInLogs(t)
}

func TestTriggersInCitizensLanguage(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ lang, want string }{
		{"de", "A001 bitte zu Platz 1"},
		{"en", "A001 please go to Platz 1"},
		{"tr", "A001 lütfen şu bankoya gelin: Platz 1"},
		{"ar", "A001 يُرجى التوجه إلى Platz 1"},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			tk := f.issue(t, "ausweis")
			if err := f.store.SignUpSMS(context.Background(), tk.ID, phone, tt.lang); err != nil {
				t.Fatal(err)
			}
			f.callNext(t) // before any scan: only the call goes out
			f.step(t)
			if got := f.sender.texts(); !equalStrings(got, []string{tt.want}) {
				t.Errorf("sent %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEraseWhenTicketEnds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("Finished", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		tk := f.issue(t, "ausweis")
		if err := f.store.SignUpSMS(ctx, tk.ID, phone, "de"); err != nil {
			t.Fatal(err)
		}
		f.step(t) // the "soon" message: nobody ahead
		if got, want := f.sender.texts(), []string{"Ihre Nummer " + tk.Number + ": Sie sind gleich dran"}; !equalStrings(got, want) {
			t.Errorf("sent %q, want %q", got, want)
		}
		if got, want := f.rows(t, "sms_signups", tk.ID), 1; got != want {
			t.Fatalf("sign-ups = %d, want %d", got, want)
		}
		f.callNext(t)
		f.finish(t)
		f.step(t)
		if got := f.rows(t, "sms_signups", tk.ID) + f.rows(t, "sms_outbox", tk.ID); got != 0 {
			t.Errorf("rows left after the ticket ended: %d, want 0", got)
		}
		f.noNumberInLogs(t)
	})
	t.Run("Cancelled", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.issue(t, "ausweis")
		tk := f.issue(t, "ausweis")
		if err := f.store.SignUpSMS(ctx, tk.ID, phone, "de"); err != nil {
			t.Fatal(err)
		}
		f.exec(t, func(st *queue.State, at time.Time) ([]queue.Event, error) {
			e, err := st.Cancel(at, tk.Token)
			return []queue.Event{e}, err
		})
		f.step(t)
		if got := f.rows(t, "sms_signups", tk.ID); got != 0 {
			t.Errorf("sign-ups after cancel = %d, want 0", got)
		}
	})
	t.Run("ExpiredOvernight", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.issue(t, "ausweis")
		f.issue(t, "ausweis")
		tk := f.issue(t, "ausweis")
		if err := f.store.SignUpSMS(ctx, tk.ID, phone, "de"); err != nil {
			t.Fatal(err)
		}
		f.step(t)
		// No event the next morning yet: the ticket is still "waiting" in
		// the state, but of yesterday. The number goes all the same.
		f.clock.Add(24 * time.Hour)
		f.step(t)
		if got := f.rows(t, "sms_signups", tk.ID); got != 0 {
			t.Errorf("sign-ups the next day = %d, want 0", got)
		}
	})
	t.Run("NotLive", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		tk := f.issue(t, "ausweis")
		f.callNext(t)
		f.finish(t)
		if err := f.store.SignUpSMS(ctx, tk.ID, phone, "de"); err == nil {
			t.Errorf("sign-up for a finished ticket: no error")
		}
		if got := f.rows(t, "sms_signups", tk.ID); got != 0 {
			t.Errorf("sign-ups = %d, want 0", got)
		}
	})
}

// A queued message survives a restart of the appliance and is sent once.
func TestOutboxDurable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	tk := f.issue(t, "ausweis")
	if err := f.store.SignUpSMS(ctx, tk.ID, phone, "de"); err != nil {
		t.Fatal(err)
	}
	f.sender.fail(errors.New("gateway down for " + phone)) // a sender that leaks the number
	f.step(t)
	if got, want := f.rows(t, "sms_outbox", tk.ID), 1; got != want {
		t.Fatalf("outbox rows = %d, want %d", got, want)
	}
	kinds, err := f.store.SMSKinds(ctx, tk.ID)
	if err != nil || kinds[notify.KindSoon] != sqlite.SMSPending {
		t.Fatalf("kinds = %v, %v; want soon pending", kinds, err)
	}

	// Restart: a new store and worker on the same file; the gateway is back.
	f.store.Close()
	f.open(t)
	f.sender.fail(nil)
	f.step(t)
	if got := f.sender.texts(); len(got) != 0 {
		t.Fatalf("sent %q before the backoff ended", got)
	}
	f.clock.Add(time.Minute)
	f.step(t)
	f.step(t)
	if got := f.sender.texts(); len(got) != 1 || !strings.HasPrefix(got[0], "Ihre Nummer "+tk.Number) {
		t.Fatalf("sent %q, want one soon message", got)
	}
	f.store.Close()
	f.open(t)
	f.clock.Add(time.Hour)
	f.step(t)
	if got := f.sender.texts(); len(got) != 1 {
		t.Fatalf("after a second restart sent %q, want the one message only", got)
	}
	f.noNumberInLogs(t)
}

func TestOutboxGivesUp(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	tk := f.issue(t, "ausweis")
	if err := f.store.SignUpSMS(ctx, tk.ID, phone, "de"); err != nil {
		t.Fatal(err)
	}
	f.sender.fail(errors.New("status 500"))
	for range 10 {
		f.step(t)
		f.clock.Add(time.Hour)
	}
	kinds, err := f.store.SMSKinds(ctx, tk.ID)
	if err != nil || kinds[notify.KindSoon] != sqlite.SMSFailed {
		t.Fatalf("kinds = %v, %v; want soon failed", kinds, err)
	}
	if got, want := strings.Count(f.logs.String(), "sms failed"), 3; got != want {
		t.Errorf("failed attempts logged = %d, want %d (MaxAttempts)", got, want)
	}
	f.noNumberInLogs(t)
}

func TestWorkerRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tk := f.issue(t, "ausweis")
	if err := f.store.SignUpSMS(context.Background(), tk.ID, phone, "en"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	f.worker.Poll = 10 * time.Millisecond
	go func() {
		defer close(done)
		f.worker.Run(ctx)
	}()
	f.callNext(t) // a commit wakes the worker
	deadline := time.Now().Add(5 * time.Second)
	for len(f.sender.texts()) < 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	got := f.sender.texts()
	if len(got) == 0 || got[len(got)-1] != tk.Number+" please go to Platz 1" {
		t.Errorf("sent %q, want the call in English last", got)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Before opening (no counter staffed) the estimate means nothing: no
// "soon" message, however short it is.
func TestNoSoonWhileClosed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.exec(t, func(st *queue.State, at time.Time) ([]queue.Event, error) {
		e, err := st.CloseCounter(at, "1")
		return []queue.Event{e}, err
	})
	tk := f.issue(t, "ausweis")
	if err := f.store.SignUpSMS(context.Background(), tk.ID, phone, "de"); err != nil {
		t.Fatal(err)
	}
	f.step(t)
	if got := f.sender.texts(); len(got) != 0 {
		t.Errorf("sent %q with no counter open", got)
	}
}
