package queue_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
)

// berlin is the site's time zone; every test time is fixed in it (or in UTC
// where the difference matters).
var berlin = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return loc
}()

// local returns a fixed wall time in Berlin.
func local(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, berlin)
}

// Days used throughout: Monday 13 to Wednesday 15 January 2025 (CET, UTC+1).
var (
	monday    = func(hh, mm int) time.Time { return local(2025, time.January, 13, hh, mm) }
	tuesday   = func(hh, mm int) time.Time { return local(2025, time.January, 14, hh, mm) }
	wednesday = func(hh, mm int) time.Time { return local(2025, time.January, 15, hh, mm) }
)

// Hours of the fixture site: Monday 7:30–15:00, Tuesday 8:00–16:00 and
// 17:00–19:00, Wednesday 7:30–12:00.
var fixtureHours = []queue.OpeningHours{
	{Weekday: time.Monday, Open: 7*60 + 30, Close: 15 * 60},
	{Weekday: time.Tuesday, Open: 8 * 60, Close: 16 * 60},
	{Weekday: time.Tuesday, Open: 17 * 60, Close: 19 * 60},
	{Weekday: time.Wednesday, Open: 7*60 + 30, Close: 12 * 60},
}

// fixture is a queue State of a small site, built only through Apply:
//
//	services: ausweis (A, 10 min), meldung (B, 5 min), kfz (K, 20 min)
//	counters: 1 {ausweis, meldung}, 2 {meldung}, 3 {kfz}, 4 {meldung}
//
// ausweis and meldung compete (counter 1 serves both); kfz competes with
// nothing. Every event the fixture applies is kept in events.
type fixture struct {
	t      testing.TB
	st     *queue.State
	events []queue.Event
	tokens int
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{t: t, st: queue.NewState("kalk")}
	at := monday(6, 0)
	f.apply(
		queue.Event{Type: queue.TypeSiteDescribed, Entity: "site/kalk", At: at,
			Payload: &queue.SiteDescribed{ID: "kalk", Name: "Kundenzentrum Kalk", TimeZone: "Europe/Berlin", Hours: fixtureHours}},
		queue.Event{Type: queue.TypeServiceDefined, Entity: "service/ausweis", At: at,
			Payload: &queue.ServiceDefined{ID: "ausweis", Name: "Personalausweis", NameEN: "ID card", Prefix: "A", ExpectedMinutes: 10}},
		queue.Event{Type: queue.TypeServiceDefined, Entity: "service/meldung", At: at,
			Payload: &queue.ServiceDefined{ID: "meldung", Name: "Anmeldung", NameEN: "Registration", Prefix: "B", ExpectedMinutes: 5}},
		queue.Event{Type: queue.TypeServiceDefined, Entity: "service/kfz", At: at,
			Payload: &queue.ServiceDefined{ID: "kfz", Name: "Zulassung", NameEN: "Vehicles", Prefix: "K", ExpectedMinutes: 20}},
		queue.Event{Type: queue.TypeCounterDefined, Entity: "counter/1", At: at,
			Payload: &queue.CounterDefined{ID: "1", Name: "Platz 1", Services: []string{"ausweis", "meldung"}}},
		queue.Event{Type: queue.TypeCounterDefined, Entity: "counter/2", At: at,
			Payload: &queue.CounterDefined{ID: "2", Name: "Platz 2", Services: []string{"meldung"}}},
		queue.Event{Type: queue.TypeCounterDefined, Entity: "counter/3", At: at,
			Payload: &queue.CounterDefined{ID: "3", Name: "Platz 3", Services: []string{"kfz"}}},
		queue.Event{Type: queue.TypeCounterDefined, Entity: "counter/4", At: at,
			Payload: &queue.CounterDefined{ID: "4", Name: "Platz 4", Services: []string{"meldung"}}},
	)
	return f
}

// apply folds events into the fixture's state and records them.
func (f *fixture) apply(events ...queue.Event) {
	for _, e := range events {
		f.st.Apply(e)
		f.events = append(f.events, e)
	}
}

// must applies the event of a command that has to succeed.
func (f *fixture) must(e queue.Event, err error) queue.Event {
	f.t.Helper()
	if err != nil {
		f.t.Fatalf("command: %v", err)
	}
	f.apply(e)
	return e
}

// token returns a new, repeatable ticket token of the required length.
func (f *fixture) token() string {
	f.tokens++
	return fmt.Sprintf("tok-%022d", f.tokens)
}

// issue issues and applies a ticket, returning a copy of it.
func (f *fixture) issue(at time.Time, service string) queue.Ticket {
	f.t.Helper()
	e := f.must(f.st.IssueTicket(at, service, f.token(), "kiosk"))
	return *f.st.Tickets[e.Payload.(*queue.TicketIssued).ID]
}

// call runs CallNext, applies its events and returns the called ticket.
func (f *fixture) call(at time.Time, counter, staff string) queue.Ticket {
	f.t.Helper()
	events, err := f.st.CallNext(at, counter, staff)
	if err != nil {
		f.t.Fatalf("CallNext(%s): %v", counter, err)
	}
	f.apply(events...)
	last := events[len(events)-1].Payload.(*queue.TicketCalled)
	return *f.st.Tickets[last.ID]
}

func (f *fixture) open(at time.Time, counter, staff string) {
	f.t.Helper()
	f.must(f.st.OpenCounter(at, counter, staff))
}

func (f *fixture) finish(at time.Time, counter string) {
	f.t.Helper()
	f.must(f.st.Finish(at, counter))
}

// wantCode fails unless err carries the application error code want.
func wantCode(t testing.TB, err error, want string) {
	t.Helper()
	if got := veedel.ErrorCode(err); got != want {
		t.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
}

// waitingIDs lists the waiting tickets in calling order.
func waitingIDs(st *queue.State) []string {
	var ids []string
	for _, t := range st.Waiting() {
		ids = append(ids, t.ID)
	}
	return ids
}

// observation is everything a user of State can see, in a comparable form.
type observation struct {
	Site         queue.Site
	Location     string
	Day          string
	ServiceOrder []string
	CounterOrder []string
	Tickets      map[string]queue.Ticket
	Counters     map[string]queue.Counter
	Waiting      []string
	Estimates    map[string]queue.Estimate
	New          map[string]queue.Estimate
	Minutes      map[string]float64
	SiteWait     int
	Recent       []queue.Call
	ByToken      map[string]string
	Bookings     map[string]queue.Booking
	Next         map[string]string // what each counter would call now
	Groups       map[string]queue.Group
	GroupOrder   []string
	Prefixes     map[string]string // each service's ticket prefix
}

func observe(st *queue.State) observation {
	o := observation{
		Site: st.Site, Day: st.Day, ServiceOrder: st.ServiceOrder, CounterOrder: st.CounterOrder,
		Tickets: map[string]queue.Ticket{}, Counters: map[string]queue.Counter{},
		Waiting: waitingIDs(st), Estimates: map[string]queue.Estimate{}, New: map[string]queue.Estimate{},
		Minutes: map[string]float64{}, SiteWait: st.SiteWaitMinutes(), Recent: st.RecentCalls(),
		ByToken: map[string]string{}, Bookings: map[string]queue.Booking{}, Next: map[string]string{},
		Groups: map[string]queue.Group{}, GroupOrder: st.GroupOrder, Prefixes: map[string]string{},
	}
	for id, g := range st.Groups {
		o.Groups[id] = *g
	}
	for _, id := range st.ServiceOrder {
		o.Prefixes[id] = st.TicketPrefix(id)
	}
	o.Site.Location, o.Location = nil, st.Site.Location.String() // one *Location per LoadLocation call
	for id, t := range st.Tickets {
		o.Tickets[id] = *t
		o.Estimates[id] = st.EstimateTicket(id)
		if bt := st.TicketByToken(t.Token); bt != nil {
			o.ByToken[t.Token] = bt.ID
		}
	}
	for id, c := range st.Counters {
		o.Counters[id] = *c
		if t := st.NextFor(c, st.Now()); t != nil {
			o.Next[id] = t.ID
		}
	}
	for _, b := range st.Bookings() {
		o.Bookings[b.Code] = b
	}
	for id := range st.Services {
		o.New[id] = st.EstimateNew(id)
		o.Minutes[id] = st.ServiceMinutes(id)
	}
	return o
}

func TestApply(t *testing.T) {
	t.Run("Definitions", func(t *testing.T) {
		f := newFixture(t)
		if got, want := f.st.Site.Name, "Kundenzentrum Kalk"; got != want {
			t.Errorf("site name = %q, want %q", got, want)
		}
		if got, want := f.st.Site.Location.String(), "Europe/Berlin"; got != want {
			t.Errorf("site location = %q, want %q", got, want)
		}
		if got, want := f.st.ServiceOrder, []string{"ausweis", "meldung", "kfz"}; !slices.Equal(got, want) {
			t.Errorf("service order = %v, want %v", got, want)
		}
		if got, want := f.st.CounterOrder, []string{"1", "2", "3", "4"}; !slices.Equal(got, want) {
			t.Errorf("counter order = %v, want %v", got, want)
		}
		// Redefining keeps the order and changes the fields.
		f.apply(queue.Event{Type: queue.TypeServiceDefined, Payload: &queue.ServiceDefined{ID: "ausweis", Name: "Ausweis", Prefix: "P", ExpectedMinutes: 7}})
		if got, want := f.st.ServiceOrder, []string{"ausweis", "meldung", "kfz"}; !slices.Equal(got, want) {
			t.Errorf("service order after redefinition = %v, want %v", got, want)
		}
		if got, want := f.st.Services["ausweis"].Prefix, "P"; got != want {
			t.Errorf("prefix after redefinition = %q, want %q", got, want)
		}
	})

	t.Run("UnknownTypesIgnored", func(t *testing.T) {
		f := newFixture(t)
		f.issue(monday(8, 0), "ausweis")
		f.call(monday(8, 1), "1", "anna")
		f.issue(monday(8, 2), "meldung")
		before := observe(f.st)
		applied := f.st.Applied

		type futurePayload struct{ ID string }
		f.st.Apply(queue.Event{Type: "queue.ticket_teleported", Entity: "ticket/x", At: wednesday(9, 0), Payload: &futurePayload{ID: "2025-01-13/A001"}})
		f.st.Apply(queue.Event{Type: "queue.something_new", At: wednesday(9, 0)})

		if got, want := f.st.Applied, applied+2; got != want {
			t.Errorf("Applied = %d, want %d", got, want)
		}
		if got := observe(f.st); !reflect.DeepEqual(got, before) {
			t.Errorf("unknown events changed the state:\n got %+v\nwant %+v", got, before)
		}
	})

	t.Run("EventsForUnknownEntitiesIgnored", func(t *testing.T) {
		f := newFixture(t)
		f.issue(monday(8, 0), "ausweis")
		before := observe(f.st)
		f.st.Apply(queue.Event{Type: queue.TypeTicketCalled, At: monday(8, 1), Payload: &queue.TicketCalled{ID: "2025-01-13/Z999", Counter: "1"}})
		f.st.Apply(queue.Event{Type: queue.TypeTicketCalled, At: monday(8, 1), Payload: &queue.TicketCalled{ID: "2025-01-13/A001", Counter: "99"}})
		f.st.Apply(queue.Event{Type: queue.TypeTicketFinished, At: monday(8, 1), Payload: &queue.TicketFinished{ID: "2025-01-13/Z999", Counter: "1"}})
		f.st.Apply(queue.Event{Type: queue.TypeCounterOpened, At: monday(8, 1), Payload: &queue.CounterOpened{Counter: "99", Staff: "x"}})
		if got := observe(f.st); !reflect.DeepEqual(got, before) {
			t.Errorf("events for unknown tickets or counters changed the state:\n got %+v\nwant %+v", got, before)
		}
	})
}

// TestApplyDeterministic folds the same event sequence, made by random but
// valid commands over three days, into fresh states and compares everything
// observable.
func TestApplyDeterministic(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 42, 2025} {
		t.Run(fmt.Sprintf("Seed%d", seed), func(t *testing.T) {
			f := newFixture(t)
			rnd := rand.New(rand.NewPCG(seed, seed))
			for _, day := range []func(int, int) time.Time{monday, tuesday, wednesday} {
				randomDay(t, f, rnd, day)
			}
			want := observe(f.st)
			if len(want.Tickets) == 0 {
				t.Fatalf("seed %d: no tickets made; the test proves nothing", seed)
			}
			for i := range 2 {
				st := queue.NewState("kalk")
				for _, e := range f.events {
					st.Apply(e)
				}
				if got := observe(st); !reflect.DeepEqual(got, want) {
					t.Fatalf("seed %d: fold %d differs from the original state:\n got %+v\nwant %+v", seed, i, got, want)
				}
				if got, want := st.Applied, f.st.Applied; got != want {
					t.Errorf("seed %d: Applied = %d, want %d", seed, got, want)
				}
			}
		})
	}
}

func TestDayRollover(t *testing.T) {
	// Monday: A001 done, A002 waiting, B001 called at counter 2.
	setup := func(t *testing.T) (*fixture, map[string]queue.Ticket) {
		f := newFixture(t)
		a1 := f.issue(monday(8, 0), "ausweis")
		f.call(monday(8, 1), "1", "anna")
		f.finish(monday(8, 10), "1")
		a2 := f.issue(monday(8, 20), "ausweis")
		b1 := f.issue(monday(8, 21), "meldung")
		f.call(monday(8, 22), "2", "bernd")
		return f, map[string]queue.Ticket{"a1": a1, "a2": a2, "b1": b1}
	}

	t.Run("ExpiresOpenTickets", func(t *testing.T) {
		f, m := setup(t)
		at := tuesday(7, 45)
		a1 := f.issue(at, "ausweis")
		if got, want := a1.Number, "A001"; got != want {
			t.Errorf("first number on Tuesday = %q, want %q", got, want)
		}
		if got, want := f.st.Day, "2025-01-14"; got != want {
			t.Errorf("Day = %q, want %q", got, want)
		}
		for name, want := range map[string]string{"a1": queue.StatusDone, "a2": queue.StatusExpired, "b1": queue.StatusExpired} {
			tk := f.st.Tickets[m[name].ID]
			if tk == nil {
				t.Fatalf("Monday's ticket %s forgotten on Tuesday", m[name].ID)
			}
			if got := tk.Status; got != want {
				t.Errorf("%s status = %q, want %q", tk.ID, got, want)
			}
		}
		if got, want := f.st.Tickets[m["a2"].ID].FinishedAt, at; !got.Equal(want) {
			t.Errorf("expired ticket FinishedAt = %v, want %v", got, want)
		}
		if got, want := waitingIDs(f.st), []string{a1.ID}; !slices.Equal(got, want) {
			t.Errorf("waiting = %v, want %v", got, want)
		}
		for _, c := range f.st.Counters {
			if c.Open || c.Staff != "" || c.Current != "" {
				t.Errorf("counter %s after rollover = %+v, want closed and idle", c.ID, *c)
			}
		}
		if got := f.st.RecentCalls(); len(got) != 0 {
			t.Errorf("recent calls after rollover = %v, want none", got)
		}
	})

	t.Run("AnyTimedEventRollsOver", func(t *testing.T) {
		f, m := setup(t)
		f.open(tuesday(7, 0), "3", "carla")
		if got, want := f.st.Tickets[m["a2"].ID].Status, queue.StatusExpired; got != want {
			t.Errorf("status after CounterOpened on Tuesday = %q, want %q", got, want)
		}
		if got := f.st.WaitingCount(); got != 0 {
			t.Errorf("waiting count = %d, want 0", got)
		}
		if c := f.st.Counters["3"]; !c.Open || c.Staff != "carla" {
			t.Errorf("counter 3 = %+v, want open by carla", *c)
		}
	})

	t.Run("ForgetsTicketsOlderThanPreviousDay", func(t *testing.T) {
		f, m := setup(t)
		tue := f.issue(tuesday(9, 0), "ausweis")
		f.issue(wednesday(9, 0), "ausweis")
		for _, name := range []string{"a1", "a2", "b1"} {
			if tk := f.st.Tickets[m[name].ID]; tk != nil {
				t.Errorf("Monday's ticket %s still known on Wednesday", tk.ID)
			}
			if tk := f.st.TicketByToken(m[name].Token); tk != nil {
				t.Errorf("Monday's token still resolves to %s on Wednesday", tk.ID)
			}
		}
		tk := f.st.Tickets[tue.ID]
		if tk == nil {
			t.Fatalf("Tuesday's ticket %s forgotten on Wednesday", tue.ID)
		}
		if got, want := tk.Status, queue.StatusExpired; got != want {
			t.Errorf("Tuesday's ticket status = %q, want %q", got, want)
		}
		if got := f.st.TicketByToken(tue.Token); got == nil || got.ID != tue.ID {
			t.Errorf("TicketByToken(Tuesday's token) = %v, want %s", got, tue.ID)
		}
	})

	t.Run("YesterdaysCurrentTicketIsNotServed", func(t *testing.T) {
		// No event on Tuesday yet: B001 is still "called" in the state, but
		// Tuesday's commands must not act on it.
		f, _ := setup(t)
		at := tuesday(8, 0)
		_, err := f.st.Finish(at, "2")
		wantCode(t, err, veedel.ECONFLICT)
		_, err = f.st.Recall(at, "2")
		wantCode(t, err, veedel.ECONFLICT)
		_, err = f.st.CallNext(at, "1", "anna")
		wantCode(t, err, veedel.ECONFLICT) // A002 waits since Monday: not Tuesday's queue
		if _, err := f.st.CloseCounter(at, "2"); err != nil {
			t.Errorf("CloseCounter on Tuesday: %v, want no error", err)
		}
	})
}

func TestIsOpen(t *testing.T) {
	f := newFixture(t)
	utc := func(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name string
		at   time.Time
		want bool
	}{
		{"MondayBeforeOpening", monday(7, 29), false},
		{"MondayOpening", monday(7, 30), true},
		{"MondayLastMinute", monday(14, 59), true},
		{"MondayClosing", monday(15, 0), false},
		{"TuesdayLunchGap", tuesday(16, 30), false},
		{"TuesdaySecondInterval", tuesday(17, 0), true},
		{"TuesdayEvening", tuesday(18, 59), true},
		{"Saturday", local(2025, time.January, 18, 10, 0), false},
		{"Sunday", local(2025, time.January, 19, 10, 0), false},
		// 06:30 UTC is 07:30 in Berlin in winter (UTC+1).
		{"WinterUTCOpening", utc(2025, time.January, 13, 6, 30), true},
		{"WinterUTCBeforeOpening", utc(2025, time.January, 13, 6, 29), false},
		// 05:30 UTC is 07:30 in Berlin in summer (UTC+2); 06:30 UTC would
		// still be open too, but 05:29 UTC is not.
		{"SummerUTCOpening", utc(2025, time.July, 7, 5, 30), true},
		{"SummerUTCBeforeOpening", utc(2025, time.July, 7, 5, 29), false},
		// 13:30 UTC on a summer Monday is 15:30 in Berlin: closed, although
		// 13:30 falls inside Monday's hours if read as local time.
		{"SummerUTCAfterClosing", utc(2025, time.July, 7, 13, 30), false},
		// Wednesday 06:45 UTC is 07:45 in Berlin, after Wednesday's 7:30.
		{"WednesdayViaUTC", utc(2025, time.January, 15, 6, 45), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := f.st.IsOpen(tc.at); got != tc.want {
				t.Errorf("IsOpen(%v) = %v, want %v", tc.at, got, tc.want)
			}
		})
	}

	t.Run("NoHours", func(t *testing.T) {
		st := queue.NewState("x")
		if st.IsOpen(monday(10, 0)) {
			t.Errorf("IsOpen without opening hours = true, want false")
		}
	})
}

func TestSiteTimeZone(t *testing.T) {
	st := queue.NewState("nyc")
	st.Apply(queue.Event{Type: queue.TypeSiteDescribed, Payload: &queue.SiteDescribed{ID: "nyc", Name: "NYC", TimeZone: "America/New_York"}})
	// 03:00 UTC on 14 January is 22:00 on 13 January in New York.
	at := time.Date(2025, time.January, 14, 3, 0, 0, 0, time.UTC)
	if got, want := st.DayOf(at), "2025-01-13"; got != want {
		t.Errorf("DayOf(%v) = %q, want %q", at, got, want)
	}
	// A bad or empty zone keeps the previous one.
	st.Apply(queue.Event{Type: queue.TypeSiteDescribed, Payload: &queue.SiteDescribed{ID: "nyc", Name: "NYC", TimeZone: "Mars/Olympus"}})
	if got, want := st.Site.Location.String(), "America/New_York"; got != want {
		t.Errorf("location after an unknown zone = %q, want %q", got, want)
	}
}
