package queue_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
)

// within checks an estimate's position exactly and its minutes within a
// range (the model draws its futures), with P90 at or above the minutes.
func within(t *testing.T, what string, got queue.Estimate, pos, lo, hi int) {
	t.Helper()
	if got.Position != pos || got.Minutes < lo || got.Minutes > hi || got.P90 < got.Minutes {
		t.Errorf("%s = %+v, want position %d, minutes in [%d, %d], P90 >= minutes", what, got, pos, lo, hi)
	}
}

func TestEstimateTicket(t *testing.T) {
	// Waiting in this order: A001, K001, B001, B002, A002. ausweis (A) and
	// meldung (B) compete through counter 1; kfz (K) competes with nothing.
	setup := func(t *testing.T) (*fixture, map[string]string) {
		f := newFixture(t)
		ids := map[string]string{}
		for i, svc := range []string{"ausweis", "kfz", "meldung", "meldung", "ausweis"} {
			tk := f.issue(monday(8, i), svc)
			ids[tk.Number] = tk.ID
		}
		return f, ids
	}

	t.Run("NoCounterStaffed", func(t *testing.T) {
		// Nobody staffed counts as one counter: minutes = ahead × service minutes.
		f, ids := setup(t)
		for number, want := range map[string]queue.Estimate{
			"A001": {Position: 1, Minutes: 0},
			"K001": {Position: 1, Minutes: 0}, // A001 is ahead but competes for other counters
			"B001": {Position: 2, Minutes: 5, P90: 10},
			"B002": {Position: 3, Minutes: 10, P90: 17},
			"A002": {Position: 4, Minutes: 30, P90: 47},
		} {
			if got := f.st.EstimateTicket(ids[number]); got != want {
				t.Errorf("EstimateTicket(%s) = %+v, want %+v", number, got, want)
			}
		}
	})

	t.Run("SimulatesTheStaffedCounters", func(t *testing.T) {
		f, ids := setup(t)
		f.open(monday(8, 30), "1", "anna")
		f.open(monday(8, 30), "2", "bernd")
		f.open(monday(8, 30), "4", "dora")
		// Counter 1 calls A001, 2 and 4 call B001 and B002 at once; A002
		// waits for A001's 10 minutes at counter 1, the only one for ausweis.
		within(t, "A001", f.st.EstimateTicket(ids["A001"]), 1, 0, 0)
		within(t, "B001", f.st.EstimateTicket(ids["B001"]), 2, 0, 0)
		within(t, "B002", f.st.EstimateTicket(ids["B002"]), 3, 0, 0)
		within(t, "A002", f.st.EstimateTicket(ids["A002"]), 4, 8, 12)
		// kfz: counter 3 is closed, so the estimate falls back to one counter.
		within(t, "K001", f.st.EstimateTicket(ids["K001"]), 1, 0, 0)
	})

	t.Run("CurrentServicesAndElapsedTime", func(t *testing.T) {
		f, ids := setup(t)
		f.call(monday(9, 0), "1", "anna") // A001, 10 minutes expected
		// B001 waits for A001 at counter 1, A002 also for B001 and B002.
		within(t, "B001 at 9:00", f.st.EstimateTicket(ids["B001"]), 1, 8, 12)
		within(t, "A002 at 9:00", f.st.EstimateTicket(ids["A002"]), 3, 17, 24)
		// Time passes by the site's own events only: at 9:08 A001 has run
		// 8 minutes, so less is left.
		f.issue(monday(9, 8), "kfz")
		within(t, "B001 at 9:08", f.st.EstimateTicket(ids["B001"]), 1, 1, 5)
		// Running far longer than expected never gives a negative wait.
		f.issue(monday(10, 30), "kfz")
		within(t, "B001 at 10:30", f.st.EstimateTicket(ids["B001"]), 1, 0, 3)
	})

	t.Run("NotWaiting", func(t *testing.T) {
		f, ids := setup(t)
		f.call(monday(9, 0), "1", "anna") // A001
		if got := f.st.EstimateTicket(ids["A001"]); got != (queue.Estimate{}) {
			t.Errorf("EstimateTicket(called ticket) = %+v, want zero", got)
		}
		if got := f.st.EstimateTicket("2025-01-13/Z999"); got != (queue.Estimate{}) {
			t.Errorf("EstimateTicket(unknown) = %+v, want zero", got)
		}
	})

	t.Run("EstimateNew", func(t *testing.T) {
		f, _ := setup(t)
		f.open(monday(8, 30), "1", "anna")
		f.open(monday(8, 30), "2", "bernd")
		f.open(monday(8, 30), "4", "dora")
		// meldung: counters 2 and 4 are free after B001 or B002 (5 minutes).
		within(t, "new meldung", f.st.EstimateNew("meldung"), 5, 3, 7)
		// ausweis: counter 1 serves A001 and A002 first (2 × 10 minutes).
		within(t, "new ausweis", f.st.EstimateNew("ausweis"), 5, 16, 23)
		// kfz: nobody staffed, one counter assumed: 1 × 20.
		within(t, "new kfz", f.st.EstimateNew("kfz"), 2, 20, 20)
		want := float64(f.st.EstimateNew("meldung").Minutes+f.st.EstimateNew("ausweis").Minutes+20) / 3
		if got := f.st.SiteWaitMinutes(); math.Abs(float64(got)-want) > 0.5 {
			t.Errorf("SiteWaitMinutes = %d, want the mean over services %.1f", got, want)
		}
		if got, want := f.st.WaitingCount(), 5; got != want {
			t.Errorf("WaitingCount = %d, want %d", got, want)
		}
	})

	t.Run("Deterministic", func(t *testing.T) {
		a, ids := setup(t)
		b, _ := setup(t)
		for _, f := range []*fixture{a, b} {
			f.open(monday(8, 30), "1", "anna")
			f.call(monday(8, 31), "1", "anna")
		}
		for number, id := range ids {
			if x, y := a.st.EstimateTicket(id), b.st.EstimateTicket(id); x != y {
				t.Errorf("EstimateTicket(%s) differs between equal states: %+v, %+v", number, x, y)
			}
		}
	})

	t.Run("EmptySite", func(t *testing.T) {
		st := queue.NewState("x")
		if got := st.SiteWaitMinutes(); got != 0 {
			t.Errorf("SiteWaitMinutes without services = %d, want 0", got)
		}
	})
}

// BenchmarkEstimateRecompute measures one full recompute of every estimate
// (the cache is invalidated by an event each round) with 116 waiting
// tickets and four busy counters, and 0, 60 or 400 bookings of the day
// still to come (every 5 minutes, or every 1.2 minutes all day).
func BenchmarkEstimateRecompute(b *testing.B) {
	b.Run("Bookings0", func(b *testing.B) { benchmarkRecompute(b, 0, 0) })
	b.Run("Bookings60", func(b *testing.B) { benchmarkRecompute(b, 60, 5*time.Minute) })
	b.Run("Bookings400", func(b *testing.B) { benchmarkRecompute(b, 400, 72*time.Second) })
	b.Run("Bookings60History", func(b *testing.B) { benchmarkRecompute(b, 60, 5*time.Minute, historyDays) })
}

// historyDays is the most a site's learned staffing holds: 20 days with
// breaks at every counter.
const historyDays = 20

func benchmarkRecompute(b *testing.B, bookings int, every time.Duration, history ...int) {
	f := newFixture(b)
	day := monday(0, 0)
	if len(history) > 0 {
		day = f.history(history[0], map[string][][2]int{"1": {{hm(7, 30), hm(10, 0)}, {hm(10, 30), hm(15, 0)}},
			"2": {{hm(7, 40), hm(11, 0)}, {hm(11, 30), hm(15, 0)}}, "3": {{hm(8, 0), hm(12, 0)}, {hm(12, 30), hm(15, 0)}},
			"4": {{hm(7, 30), hm(9, 0)}, {hm(9, 20), hm(13, 0)}}})
	}
	monday := func(h, m int) time.Time { return at(day, h, m) }
	at := monday(7, 30)
	for i := range bookings {
		f.book(monday(6, 0), fmt.Sprintf("BENCH%03d", i), []string{"ausweis", "meldung", "kfz"}[i%3], at.Add(time.Duration(i+1)*every))
	}
	for _, c := range []string{"1", "2", "3", "4"} {
		f.open(at, c, "staff"+c)
	}
	services := []string{"ausweis", "meldung", "kfz"}
	for i := range 120 {
		f.issue(at.Add(time.Duration(i)*time.Second), services[i%3])
	}
	for _, c := range []string{"1", "2", "3", "4"} {
		f.call(at.Add(3*time.Minute), c, "staff"+c)
	}
	ids := make([]string, 0, 100)
	for _, t := range f.st.Waiting() {
		ids = append(ids, t.ID)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		f.st.Apply(queue.Event{Type: queue.TypeCounterOpened, At: at.Add(4 * time.Minute),
			Payload: &queue.CounterOpened{Counter: "1", Staff: "staff1"}})
		for _, id := range ids {
			f.st.EstimateTicket(id)
		}
	}
}

func TestServiceMinutes(t *testing.T) {
	t.Run("LearnedFromFinishes", func(t *testing.T) {
		f := newFixture(t)
		if got, want := f.st.ServiceMinutes("meldung"), 5.0; got != want {
			t.Errorf("ServiceMinutes before any finish = %v, want the expected %v", got, want)
		}
		ids := make([]string, 4)
		for i := range ids {
			ids[i] = f.issue(monday(8, i), "meldung").ID
		}
		f.call(monday(9, 0), "2", "bernd")
		f.finish(monday(9, 4), "2")
		if got, want := f.st.ServiceMinutes("meldung"), 4.0; got != want {
			t.Errorf("ServiceMinutes after one 4-minute service = %v, want %v", got, want)
		}
		f.call(monday(9, 4), "2", "bernd")
		f.finish(monday(9, 12), "2")
		if got, want := f.st.ServiceMinutes("meldung"), 6.0; got != want {
			t.Errorf("ServiceMinutes after 4 and 8 minutes = %v, want %v", got, want)
		}
		// Only counter 2 is staffed for meldung: B003 is called at once,
		// B004 after it (about 5 minutes learned, towards the expected 5).
		within(t, "EstimateTicket(B004)", f.st.EstimateTicket(ids[3]), 2, 4, 7)
		// A no-show teaches nothing.
		f.call(monday(9, 12), "2", "bernd")
		f.must(f.st.NoShow(monday(9, 40), "2"))
		if got, want := f.st.ServiceMinutes("meldung"), 6.0; got != want {
			t.Errorf("ServiceMinutes after a no-show = %v, want %v", got, want)
		}
		// Other services learn nothing.
		if got, want := f.st.ServiceMinutes("ausweis"), 10.0; got != want {
			t.Errorf("ServiceMinutes(ausweis) = %v, want %v", got, want)
		}
	})

	t.Run("RecentSamplesOnly", func(t *testing.T) {
		f := newFixture(t)
		at := monday(7, 30)
		serve := func(d time.Duration) {
			f.issue(at, "kfz")
			f.call(at, "3", "carla")
			at = at.Add(d)
			f.finish(at, "3")
		}
		for range 5 {
			serve(60 * time.Minute)
		}
		for range 20 {
			serve(2 * time.Minute)
		}
		if got, want := f.st.ServiceMinutes("kfz"), 2.0; got != want {
			t.Errorf("ServiceMinutes after 5 slow and 20 fast services = %v, want %v (the 20 most recent)", got, want)
		}
	})

	t.Run("AtLeastHalfAMinute", func(t *testing.T) {
		f := newFixture(t)
		f.issue(monday(8, 0), "ausweis")
		f.call(monday(8, 1), "1", "anna")
		f.finish(monday(8, 1).Add(10*time.Second), "1")
		if got, want := f.st.ServiceMinutes("ausweis"), 0.5; got != want {
			t.Errorf("ServiceMinutes after a 10 s service = %v, want %v", got, want)
		}
	})

	t.Run("Defaults", func(t *testing.T) {
		f := newFixture(t)
		f.apply(queue.Event{Type: queue.TypeServiceDefined, Payload: &queue.ServiceDefined{ID: "neu", Prefix: "N"}})
		if got, want := f.st.ServiceMinutes("neu"), 1.0; got != want {
			t.Errorf("ServiceMinutes without expected minutes = %v, want %v", got, want)
		}
		if got := f.st.ServiceMinutes("nope"); got != 0 {
			t.Errorf("ServiceMinutes(unknown) = %v, want 0", got)
		}
	})
}

// Bookings that have not checked in yet will come and, when due, go first:
// a walk-in's estimate counts them, weighted by how many bookings come.
func TestEstimateCountsBookings(t *testing.T) {
	// Counter 3 alone serves kfz (20 min); one kfz walk-in is being served.
	setup := func(t *testing.T) *fixture {
		f := newFixture(t)
		f.issue(monday(8, 0), "kfz")
		f.call(monday(8, 0), "3", "carla")
		return f
	}
	base := setup(t).st.EstimateNew("kfz")

	t.Run("DueSoonPushesBack", func(t *testing.T) {
		f := setup(t)
		for i, slot := range []time.Time{monday(8, 10), monday(8, 20), monday(8, 30)} {
			f.book(monday(7, 0), fmt.Sprintf("KFZ%d000", i), "kfz", slot)
		}
		f.apply(queue.Event{Type: queue.TypeCounterOpened, At: monday(8, 1), Payload: &queue.CounterOpened{Counter: "1", Staff: "anna"}})
		got := f.st.EstimateNew("kfz")
		if got.Minutes < base.Minutes+20 {
			t.Errorf("walk-in estimate with three kfz bookings due soon = %+v, want at least 20 minutes more than %+v", got, base)
		}
		if got.Position != base.Position {
			t.Errorf("position %d, want %d: bookings not here yet are nobody ahead", got.Position, base.Position)
		}
	})
	t.Run("OtherServicesAndPastCheckInIgnored", func(t *testing.T) {
		f := setup(t)
		f.book(monday(7, 0), "MELD0001", "meldung", monday(8, 10)) // counter 3 does not serve meldung
		f.book(monday(7, 0), "LATE0001", "kfz", monday(7, 30))     // check-in closed at 7:45
		f.book(monday(7, 0), "TUES0001", "kfz", tuesday(8, 10))    // another day
		f.apply(queue.Event{Type: queue.TypeCounterOpened, At: monday(8, 1), Payload: &queue.CounterOpened{Counter: "1", Staff: "anna"}})
		b := setup(t)
		b.apply(queue.Event{Type: queue.TypeCounterOpened, At: monday(8, 1), Payload: &queue.CounterOpened{Counter: "1", Staff: "anna"}})
		if got, want := f.st.EstimateNew("kfz"), b.st.EstimateNew("kfz"); got != want {
			t.Errorf("estimate with irrelevant bookings %+v, want %+v as without", got, want)
		}
	})
	t.Run("FarAheadDoesNotMatter", func(t *testing.T) {
		f := setup(t)
		f.book(monday(7, 0), "KFZ14000", "kfz", monday(14, 0))
		b := setup(t)
		f.apply(queue.Event{Type: queue.TypeCounterOpened, At: monday(8, 1), Payload: &queue.CounterOpened{Counter: "1", Staff: "anna"}})
		b.apply(queue.Event{Type: queue.TypeCounterOpened, At: monday(8, 1), Payload: &queue.CounterOpened{Counter: "1", Staff: "anna"}})
		if got, want := f.st.EstimateNew("kfz"), b.st.EstimateNew("kfz"); got.Minutes != want.Minutes {
			t.Errorf("estimate with a booking at 14:00 %+v, want %+v", got, want)
		}
	})
	t.Run("MissedBookingsLowerTheWeight", func(t *testing.T) {
		// Many bookings of the morning never came: the coming ones count
		// less.
		f, g := setup(t), setup(t)
		for i := range 20 {
			f.book(monday(6, 0), fmt.Sprintf("GONE%04d", i), "meldung", monday(7, 0).Add(time.Duration(i)*time.Minute))
		}
		for _, x := range []*fixture{f, g} {
			for i := range 3 {
				x.book(monday(7, 0), fmt.Sprintf("KFZ%d000", i), "kfz", monday(8, 10+10*i))
			}
			x.apply(queue.Event{Type: queue.TypeCounterOpened, At: monday(8, 1), Payload: &queue.CounterOpened{Counter: "1", Staff: "anna"}})
		}
		if got, more := f.st.EstimateNew("kfz"), g.st.EstimateNew("kfz"); got.Minutes >= more.Minutes {
			t.Errorf("after 20 missed bookings %+v, want less than %+v", got, more)
		}
	})
}

// The indexed simulation calls exactly as the calling rule does: on random
// days (walk-ins, accessibility needs, bookings checked in early, due and
// late or never, transfers, counters opening and closing), every estimate
// equals the reference simulation's that scans every waiting ticket and
// booking per call.
func TestEstimateMatchesReference(t *testing.T) {
	services := []string{"ausweis", "meldung", "kfz"}
	counters := []string{"1", "2", "3", "4"}
	checked := 0
	for seed := range uint64(6) {
		rnd := rand.New(rand.NewPCG(seed, 7))
		f := newFixture(t)
		at := monday(7, 0)
		var codes []string
		try := func(e queue.Event, err error) {
			if err == nil {
				f.apply(e)
			}
		}
		// Bookings of the day, some known before opening.
		for i := range rnd.IntN(80) {
			code := fmt.Sprintf("S%02dB%03d", seed, i)
			slot := monday(7, 30).Add(time.Duration(rnd.IntN(7*60)) * time.Minute)
			try(f.st.CreateBooking(at, code, services[rnd.IntN(3)], slot))
			codes = append(codes, code)
		}
		for step := range 300 {
			at = at.Add(time.Duration(rnd.IntN(90)) * time.Second)
			ctr := counters[rnd.IntN(len(counters))]
			switch x := rnd.IntN(20); {
			case x < 6:
				try(f.st.IssueTicket(at, services[rnd.IntN(3)], f.token(), "kiosk"))
			case x < 7:
				try(f.st.IssueTicketClass(at, services[rnd.IntN(3)], f.token(), "kiosk", queue.ClassAccessibility))
			case x < 9 && len(codes) > 0:
				e, _, err := f.st.CheckIn(at, codes[rnd.IntN(len(codes))], f.token(), "kiosk")
				try(e, err)
			case x < 10:
				code := fmt.Sprintf("S%02dL%03d", seed, step)
				try(f.st.CreateBooking(at, code, services[rnd.IntN(3)], at.Add(time.Duration(rnd.IntN(180))*time.Minute)))
				codes = append(codes, code)
			case x < 11:
				try(f.st.OpenCounter(at, ctr, "staff"+ctr))
			case x < 12 && rnd.IntN(4) == 0:
				try(f.st.CloseCounter(at, ctr))
			case x < 15:
				if events, err := f.st.CallNext(at, ctr, "staff"+ctr); err == nil {
					f.apply(events...)
				}
			case x < 18:
				try(f.st.Finish(at, ctr))
			case x < 19:
				try(f.st.NoShow(at, ctr))
			default:
				try(f.st.Transfer(at, ctr, services[rnd.IntN(3)], counters[rnd.IntN(len(counters))]))
			}
			if step%30 != 29 {
				continue
			}
			tickets, fresh := f.st.ReferenceEstimates()
			for _, tk := range f.st.Waiting() {
				if got, want := f.st.EstimateTicket(tk.ID), tickets[tk.ID]; got != want {
					t.Errorf("seed %d step %d: EstimateTicket(%s) = %+v, reference %+v", seed, step, tk.Number, got, want)
				}
				checked++
			}
			for _, svc := range services {
				if got, want := f.st.EstimateNew(svc), fresh[svc]; got != want {
					t.Errorf("seed %d step %d: EstimateNew(%s) = %+v, reference %+v", seed, step, svc, got, want)
				}
			}
		}
	}
	t.Logf("checked %d", checked)
	if checked < 200 {
		t.Errorf("compared only %d estimates of waiting tickets", checked)
	}
}
