package queue_test

import (
	"slices"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
)

func TestIssueTicket(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		token := "abcdefghijklmnopqrstuv"
		at := monday(8, 0)
		e, err := f.st.IssueTicket(at, "ausweis", token, "kiosk")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := e.Type, queue.TypeTicketIssued; got != want {
			t.Errorf("type = %q, want %q", got, want)
		}
		if got, want := e.Entity, "ticket/2025-01-13/A001"; got != want {
			t.Errorf("entity = %q, want %q", got, want)
		}
		want := queue.TicketIssued{ID: "2025-01-13/A001", Token: token, Number: "A001", Service: "ausweis", Channel: "kiosk"}
		if got := *e.Payload.(*queue.TicketIssued); got != want {
			t.Errorf("payload = %+v, want %+v", got, want)
		}
		if got := f.st.WaitingCount(); got != 0 {
			t.Errorf("a command changed the state: waiting = %d, want 0", got)
		}
		f.apply(e)
		tk := f.st.TicketByToken(token)
		if tk == nil {
			t.Fatalf("TicketByToken(%q) = nil after Apply", token)
		}
		if tk.Status != queue.StatusWaiting || tk.Day != "2025-01-13" || !tk.IssuedAt.Equal(at) {
			t.Errorf("ticket = %+v, want waiting, day 2025-01-13, issued %v", *tk, at)
		}
	})

	t.Run("NumbersPerPrefix", func(t *testing.T) {
		f := newFixture(t)
		var got []string
		for i, svc := range []string{"ausweis", "ausweis", "meldung", "ausweis", "kfz", "meldung"} {
			got = append(got, f.issue(monday(8, i), svc).Number)
		}
		want := []string{"A001", "A002", "B001", "A003", "K001", "B002"}
		if !slices.Equal(got, want) {
			t.Errorf("numbers = %v, want %v", got, want)
		}
	})

	t.Run("NumbersCountCalledAndFinishedTickets", func(t *testing.T) {
		f := newFixture(t)
		f.issue(monday(8, 0), "ausweis")
		f.call(monday(8, 1), "1", "anna")
		f.finish(monday(8, 2), "1")
		if got, want := f.issue(monday(8, 3), "ausweis").Number, "A002"; got != want {
			t.Errorf("number after a finished ticket = %q, want %q", got, want)
		}
	})

	t.Run("ErrUnknownService", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.st.IssueTicket(monday(8, 0), "nope", f.token(), "kiosk")
		wantCode(t, err, veedel.EINVALID)
	})

	t.Run("ErrShortToken", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.st.IssueTicket(monday(8, 0), "ausweis", "short", "kiosk")
		wantCode(t, err, veedel.EINTERNAL)
	})
}

// TestIssueTicketNewDay checks that numbering restarts when the business day
// changes in Berlin, not in UTC.
func TestIssueTicketNewDay(t *testing.T) {
	utc := func(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name   string
		first  time.Time // two tickets issued here
		then   time.Time
		wantID string
	}{
		// Winter, UTC+1: 22:59 UTC is 23:59, 23:01 UTC is 00:01 the next day.
		{"WinterLocalMidnight", utc(2025, time.January, 14, 22, 59), utc(2025, time.January, 14, 23, 1), "2025-01-15/A001"},
		// Same UTC day, different Berlin days.
		{"WinterBeforeUTCMidnight", local(2025, time.January, 14, 23, 58), local(2025, time.January, 15, 0, 30), "2025-01-15/A001"},
		// UTC midnight is 01:00 in Berlin: same business day, numbering goes on.
		{"WinterUTCMidnight", utc(2025, time.January, 14, 23, 30), utc(2025, time.January, 15, 0, 30), "2025-01-15/A003"},
		// Summer, UTC+2: 21:59 UTC is 23:59, 22:01 UTC is 00:01 the next day.
		{"SummerLocalMidnight", utc(2025, time.July, 1, 21, 59), utc(2025, time.July, 1, 22, 1), "2025-07-02/A001"},
		{"SummerUTCMidnight", utc(2025, time.July, 1, 22, 30), utc(2025, time.July, 2, 0, 30), "2025-07-02/A003"},
		// Into and out of daylight saving time (30 March and 26 October 2025).
		{"SpringForward", local(2025, time.March, 30, 1, 59), local(2025, time.March, 30, 3, 0), "2025-03-30/A003"},
		{"FallBack", local(2025, time.October, 25, 23, 59), utc(2025, time.October, 25, 23, 30), "2025-10-26/A001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.issue(tc.first, "ausweis")
			f.issue(tc.first.Add(time.Second), "ausweis")
			got := f.issue(tc.then, "ausweis")
			if got.ID != tc.wantID {
				t.Errorf("ticket at %v (%v in Berlin) = %s, want %s", tc.then, tc.then.In(berlin), got.ID, tc.wantID)
			}
			if got, want := got.Day, tc.wantID[:10]; got != want {
				t.Errorf("day = %q, want %q", got, want)
			}
		})
	}
}

func TestCallNext(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		a1 := f.issue(monday(8, 0), "ausweis")
		at := monday(8, 5)
		events, err := f.st.CallNext(at, "1", "anna")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(events), 2; got != want {
			t.Fatalf("CallNext on a closed counter gave %d events, want %d (open, call)", got, want)
		}
		if got, want := *events[0].Payload.(*queue.CounterOpened), (queue.CounterOpened{Counter: "1", Staff: "anna"}); got != want {
			t.Errorf("first event = %+v, want %+v", got, want)
		}
		if got, want := events[0].Type, queue.TypeCounterOpened; got != want {
			t.Errorf("first event type = %q, want %q", got, want)
		}
		if got, want := *events[1].Payload.(*queue.TicketCalled), (queue.TicketCalled{ID: a1.ID, Counter: "1"}); got != want {
			t.Errorf("second event = %+v, want %+v", got, want)
		}
		if got, want := events[1].Type, queue.TypeTicketCalled; got != want {
			t.Errorf("second event type = %q, want %q", got, want)
		}
		f.apply(events...)
		c, tk := f.st.Counters["1"], f.st.Tickets[a1.ID]
		if !c.Open || c.Staff != "anna" || c.Current != a1.ID {
			t.Errorf("counter = %+v, want open by anna serving %s", *c, a1.ID)
		}
		if tk.Status != queue.StatusCalled || tk.Counter != "1" || !tk.CalledAt.Equal(at) {
			t.Errorf("ticket = %+v, want called to 1 at %v", *tk, at)
		}
		calls := f.st.RecentCalls()
		if len(calls) != 1 || calls[0].Ticket != a1.ID || calls[0].Number != "A001" || calls[0].Counter != "1" || calls[0].Recall {
			t.Errorf("recent calls = %+v, want one call of A001 to 1", calls)
		}
	})

	t.Run("LongestWaitingAmongCounterServices", func(t *testing.T) {
		f := newFixture(t)
		k1 := f.issue(monday(8, 0), "kfz")
		b1 := f.issue(monday(8, 1), "meldung")
		a1 := f.issue(monday(8, 2), "ausweis")
		b2 := f.issue(monday(8, 3), "meldung")
		for _, step := range []struct {
			counter string
			want    queue.Ticket
		}{
			{"1", b1}, // counter 1 serves ausweis and meldung; K001 waits longer but is not its service
			{"2", b2}, // counter 2 serves only meldung; A001 waits longer
			{"3", k1},
			{"4", queue.Ticket{}}, // meldung only: nothing left
		} {
			events, err := f.st.CallNext(monday(9, 0), step.counter, "staff"+step.counter)
			if step.want.ID == "" {
				wantCode(t, err, veedel.ECONFLICT)
				continue
			}
			if err != nil {
				t.Fatalf("CallNext(%s): %v", step.counter, err)
			}
			f.apply(events...)
			if got := events[len(events)-1].Payload.(*queue.TicketCalled).ID; got != step.want.ID {
				t.Errorf("counter %s called %s, want %s", step.counter, got, step.want.ID)
			}
		}
		if got, want := waitingIDs(f.st), []string{a1.ID}; !slices.Equal(got, want) {
			t.Errorf("waiting = %v, want %v", got, want)
		}
	})

	t.Run("OpensCounterOnlyWhenNeeded", func(t *testing.T) {
		f := newFixture(t)
		for i := range 3 {
			f.issue(monday(8, i), "meldung")
		}
		f.open(monday(7, 50), "2", "bernd")
		events, err := f.st.CallNext(monday(8, 10), "2", "bernd")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(events), 1; got != want {
			t.Fatalf("CallNext on a counter bernd staffs gave %d events, want %d", got, want)
		}
		f.apply(events...)
		f.finish(monday(8, 20), "2")
		// Another clerk takes the counter over.
		events, err = f.st.CallNext(monday(8, 21), "2", "carla")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(events), 2; got != want {
			t.Fatalf("CallNext by another clerk gave %d events, want %d", got, want)
		}
		f.apply(events...)
		if got, want := f.st.Counters["2"].Staff, "carla"; got != want {
			t.Errorf("staff = %q, want %q", got, want)
		}
	})

	t.Run("ErrNobodyWaiting", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.st.CallNext(monday(8, 0), "1", "anna")
		wantCode(t, err, veedel.ECONFLICT)
	})

	t.Run("ErrNobodyWaitingForCounterServices", func(t *testing.T) {
		f := newFixture(t)
		f.issue(monday(8, 0), "kfz")
		_, err := f.st.CallNext(monday(8, 1), "1", "anna")
		wantCode(t, err, veedel.ECONFLICT)
	})

	t.Run("ErrStillServing", func(t *testing.T) {
		f := newFixture(t)
		f.issue(monday(8, 0), "ausweis")
		f.issue(monday(8, 1), "ausweis")
		f.call(monday(8, 2), "1", "anna")
		_, err := f.st.CallNext(monday(8, 3), "1", "anna")
		wantCode(t, err, veedel.ECONFLICT)
		if got := f.st.WaitingCount(); got != 1 {
			t.Errorf("waiting = %d, want 1", got)
		}
	})

	t.Run("ErrUnknownCounter", func(t *testing.T) {
		f := newFixture(t)
		f.issue(monday(8, 0), "ausweis")
		_, err := f.st.CallNext(monday(8, 1), "99", "anna")
		wantCode(t, err, veedel.ENOTFOUND)
	})
}

func TestRecall(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		a1 := f.issue(monday(8, 0), "ausweis")
		f.call(monday(8, 1), "1", "anna")
		for i := range queue.MaxRecalls {
			e := f.must(f.st.Recall(monday(8, 2+i), "1"))
			if got, want := *e.Payload.(*queue.TicketRecalled), (queue.TicketRecalled{ID: a1.ID, Counter: "1"}); got != want {
				t.Errorf("recall %d = %+v, want %+v", i+1, got, want)
			}
		}
		if got, want := f.st.Tickets[a1.ID].Recalls, queue.MaxRecalls; got != want {
			t.Errorf("recalls = %d, want %d", got, want)
		}
		calls := f.st.RecentCalls()
		if got, want := len(calls), 1+queue.MaxRecalls; got != want {
			t.Fatalf("recent calls = %d, want %d", got, want)
		}
		if !calls[0].Recall || calls[len(calls)-1].Recall {
			t.Errorf("recent calls = %+v, want newest first, the newest a recall, the oldest the first call", calls)
		}
	})

	t.Run("ErrMaxRecalls", func(t *testing.T) {
		f := newFixture(t)
		f.issue(monday(8, 0), "ausweis")
		f.call(monday(8, 1), "1", "anna")
		for i := range queue.MaxRecalls {
			f.must(f.st.Recall(monday(8, 2+i), "1"))
		}
		_, err := f.st.Recall(monday(8, 10), "1")
		wantCode(t, err, veedel.ECONFLICT)
		// A no-show is still possible.
		f.must(f.st.NoShow(monday(8, 11), "1"))
	})

	t.Run("ErrNoCurrentTicket", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.st.Recall(monday(8, 0), "1")
		wantCode(t, err, veedel.ECONFLICT)
	})

	t.Run("ErrUnknownCounter", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.st.Recall(monday(8, 0), "99")
		wantCode(t, err, veedel.ENOTFOUND)
	})
}

// TestFinishAndNoShow covers the two ways a called ticket ends.
func TestFinishAndNoShow(t *testing.T) {
	for _, tc := range []struct {
		name    string
		command func(*queue.State, time.Time, string) (queue.Event, error)
		status  string
		typ     string
	}{
		{"Finish", (*queue.State).Finish, queue.StatusDone, queue.TypeTicketFinished},
		{"NoShow", (*queue.State).NoShow, queue.StatusNoShow, queue.TypeTicketNoShow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Run("OK", func(t *testing.T) {
				f := newFixture(t)
				a1 := f.issue(monday(8, 0), "ausweis")
				f.issue(monday(8, 1), "ausweis")
				f.call(monday(8, 2), "1", "anna")
				at := monday(8, 9)
				e := f.must(tc.command(f.st, at, "1"))
				if got, want := e.Type, tc.typ; got != want {
					t.Errorf("event type = %q, want %q", got, want)
				}
				if got, want := e.Entity, "ticket/"+a1.ID; got != want {
					t.Errorf("entity = %q, want %q", got, want)
				}
				tk := f.st.Tickets[a1.ID]
				if tk.Status != tc.status || !tk.FinishedAt.Equal(at) {
					t.Errorf("ticket = %+v, want %s at %v", *tk, tc.status, at)
				}
				if got := f.st.Counters["1"].Current; got != "" {
					t.Errorf("counter current = %q, want none", got)
				}
				// The counter is free for the next one.
				if got, want := f.call(monday(8, 10), "1", "anna").Number, "A002"; got != want {
					t.Errorf("next call = %q, want %q", got, want)
				}
			})

			t.Run("ErrNoCurrentTicket", func(t *testing.T) {
				f := newFixture(t)
				f.issue(monday(8, 0), "ausweis")
				_, err := tc.command(f.st, monday(8, 1), "1")
				wantCode(t, err, veedel.ECONFLICT)
			})

			t.Run("ErrAlreadyEnded", func(t *testing.T) {
				f := newFixture(t)
				f.issue(monday(8, 0), "ausweis")
				f.call(monday(8, 1), "1", "anna")
				f.must(tc.command(f.st, monday(8, 5), "1"))
				_, err := tc.command(f.st, monday(8, 6), "1")
				wantCode(t, err, veedel.ECONFLICT)
			})

			t.Run("ErrUnknownCounter", func(t *testing.T) {
				f := newFixture(t)
				_, err := tc.command(f.st, monday(8, 0), "99")
				wantCode(t, err, veedel.ENOTFOUND)
			})
		})
	}
}

func TestOpenAndCloseCounter(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		f.open(monday(8, 0), "1", "anna")
		if c := f.st.Counters["1"]; !c.Open || c.Staff != "anna" {
			t.Errorf("counter = %+v, want open by anna", *c)
		}
		f.must(f.st.CloseCounter(monday(12, 0), "1"))
		if c := f.st.Counters["1"]; c.Open || c.Staff != "" {
			t.Errorf("counter = %+v, want closed", *c)
		}
	})

	t.Run("ErrAlreadyOpen", func(t *testing.T) {
		f := newFixture(t)
		f.open(monday(8, 0), "1", "anna")
		_, err := f.st.OpenCounter(monday(8, 1), "1", "anna")
		wantCode(t, err, veedel.ECONFLICT)
		// Opened yesterday is not open today.
		if _, err := f.st.OpenCounter(tuesday(8, 0), "1", "anna"); err != nil {
			t.Errorf("OpenCounter the next day: %v, want no error", err)
		}
	})

	t.Run("ErrCloseWhileServing", func(t *testing.T) {
		f := newFixture(t)
		f.issue(monday(8, 0), "ausweis")
		f.call(monday(8, 1), "1", "anna")
		_, err := f.st.CloseCounter(monday(8, 2), "1")
		wantCode(t, err, veedel.ECONFLICT)
	})

	t.Run("ErrUnknownCounter", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.st.OpenCounter(monday(8, 0), "99", "anna")
		wantCode(t, err, veedel.ENOTFOUND)
		_, err = f.st.CloseCounter(monday(8, 0), "99")
		wantCode(t, err, veedel.ENOTFOUND)
	})
}
