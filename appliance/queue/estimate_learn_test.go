package queue_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
)

// staffed opens and closes counters on a day as given: per counter its
// open intervals as minutes since midnight.
func (f *fixture) staffed(day time.Time, plan map[string][][2]int) {
	f.t.Helper()
	type ev struct {
		at   time.Time
		e    queue.Event
		open bool
	}
	var all []ev
	for c, ivs := range plan {
		for _, iv := range ivs {
			all = append(all,
				ev{day.Add(time.Duration(iv[0]) * time.Minute), queue.Event{Type: queue.TypeCounterOpened, Entity: "counter/" + c, Payload: &queue.CounterOpened{Counter: c, Staff: "staff" + c}}, true},
				ev{day.Add(time.Duration(iv[1]) * time.Minute), queue.Event{Type: queue.TypeCounterClosed, Entity: "counter/" + c, Payload: &queue.CounterClosed{Counter: c}}, false})
		}
	}
	// In time order (opening before closing at the same minute).
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			if all[j].at.Before(all[i].at) || (all[j].at.Equal(all[i].at) && all[j].open && !all[i].open) {
				all[i], all[j] = all[j], all[i]
			}
		}
	}
	for _, x := range all {
		x.e.At = x.at
		f.apply(x.e)
	}
}

// history gives the fixture n Mondays (from 13 January) staffed by plan,
// and returns the next Monday at midnight.
func (f *fixture) history(n int, plan map[string][][2]int) time.Time {
	day := monday(0, 0)
	for range n {
		f.staffed(day, plan)
		day = day.AddDate(0, 0, 7)
	}
	return day
}

func hm(h, m int) int { return h*60 + m }

// at is a time on day.
func at(day time.Time, h, m int) time.Time {
	return day.Add(time.Duration(hm(h, m)) * time.Minute)
}

// The staffing of recent days is foreseen: a counter that opens at 8:00
// every day joins the queue, a counter that takes a break at 10:00 leaves
// it, and one on its usual break comes back.
func TestEstimateForeseesStaffing(t *testing.T) {
	queueOf := func(f *fixture, from time.Time, n int) {
		for i := range n {
			f.issue(from.Add(time.Duration(i)*time.Second), "meldung")
		}
	}
	t.Run("LateOpening", func(t *testing.T) {
		plan := map[string][][2]int{"1": {{hm(7, 30), hm(15, 0)}}, "2": {{hm(8, 0), hm(15, 0)}}}
		with := newFixture(t)
		today := with.history(4, plan)
		without := newFixture(t)
		for _, f := range []*fixture{with, without} {
			f.open(at(today, 7, 30), "1", "staff1")
			queueOf(f, at(today, 7, 30), 12)
		}
		w, wo := with.st.EstimateNew("meldung"), without.st.EstimateNew("meldung")
		t.Logf("with history %+v, without %+v", w, wo)
		if w.Minutes > wo.Minutes-8 {
			t.Errorf("counter 2 opens at 8:00 on every recent Monday: estimate %+v, want well below %+v", w, wo)
		}
	})
	t.Run("Break", func(t *testing.T) {
		plan := map[string][][2]int{"1": {{hm(7, 30), hm(15, 0)}},
			"2": {{hm(7, 30), hm(10, 0)}, {hm(10, 45), hm(15, 0)}}, "4": {{hm(7, 30), hm(10, 0)}, {hm(10, 45), hm(15, 0)}}}
		with := newFixture(t)
		today := with.history(4, plan)
		without := newFixture(t)
		for _, f := range []*fixture{with, without} {
			for _, c := range []string{"1", "2", "4"} {
				f.open(at(today, 7, 30), c, "staff"+c)
			}
			queueOf(f, at(today, 9, 50), 20)
		}
		w, wo := with.st.EstimateNew("meldung"), without.st.EstimateNew("meldung")
		t.Logf("with history %+v, without %+v", w, wo)
		if w.Minutes < wo.Minutes+5 {
			t.Errorf("counters 2 and 4 leave at 10:00 for 45 minutes on every recent Monday: estimate %+v, want well above %+v", w, wo)
		}
	})
	t.Run("BackFromBreak", func(t *testing.T) {
		plan := map[string][][2]int{"1": {{hm(7, 30), hm(15, 0)}}, "2": {{hm(7, 30), hm(10, 0)}, {hm(10, 30), hm(15, 0)}}}
		with := newFixture(t)
		today := with.history(6, plan)
		without := newFixture(t)
		for _, f := range []*fixture{with, without} {
			f.open(at(today, 7, 30), "1", "staff1")
			f.open(at(today, 7, 30), "2", "staff2")
			f.apply(queue.Event{Type: queue.TypeCounterClosed, Entity: "counter/2", At: at(today, 10, 0), Payload: &queue.CounterClosed{Counter: "2"}})
			queueOf(f, at(today, 10, 10), 10)
		}
		w, wo := with.st.EstimateNew("meldung"), without.st.EstimateNew("meldung")
		t.Logf("with history %+v, without %+v", w, wo)
		if w.Minutes > wo.Minutes-10 {
			t.Errorf("counter 2 comes back from a 30-minute break on every recent Monday: estimate %+v, want well below %+v", w, wo)
		}
	})
	t.Run("LeftForTheDay", func(t *testing.T) {
		// Closed at closing time on every recent day: that is the end of
		// the day, not a break, and the queue is still served.
		plan := map[string][][2]int{"1": {{hm(7, 30), hm(15, 10)}}}
		f := newFixture(t)
		today := f.history(4, plan)
		f.open(at(today, 7, 30), "1", "staff1")
		queueOf(f, at(today, 14, 50), 6)
		if got := f.st.EstimateNew("meldung"); got.Minutes < 25 || got.Minutes > 40 {
			t.Errorf("six ahead at the only counter near closing: %+v, want about 30 minutes", got)
		}
	})
}

// What the estimator learned survives a snapshot: a restored state shows
// the same estimates.
func TestLearnedSnapshot(t *testing.T) {
	plan := map[string][][2]int{"1": {{hm(7, 30), hm(15, 0)}}, "2": {{hm(8, 0), hm(10, 0)}, {hm(10, 30), hm(15, 0)}}}
	f := newFixture(t)
	today := f.history(3, plan)
	planned, err := f.st.PlanStaffing(today, "1", time.Monday, []queue.OpeningHours{{Open: hm(7, 30), Close: hm(10, 0)}, {Open: hm(10, 30), Close: hm(15, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	f.apply(planned...)
	f.open(at(today, 7, 30), "1", "staff1")
	for i := range 8 {
		f.issue(at(today, 7, 31).Add(time.Duration(i)*time.Second), "meldung")
	}
	data, err := json.Marshal(f.st.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	var snap queue.Snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		t.Fatal(err)
	}
	if snap.Learned == nil || len(snap.Learned.Staff["2"]) != 3 {
		t.Fatalf("snapshot's learned staffing = %+v, want 3 days of counter 2", snap.Learned)
	}
	r, err := queue.Restore(snap)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := queue.FormatPlan(r.PlannedStaffing("1", time.Monday)), "07:30–10:00, 10:30–15:00"; got != want {
		t.Errorf("restored plan %q, want %q", got, want)
	}
	for _, svc := range f.st.ServiceOrder {
		if got, want := r.EstimateNew(svc), f.st.EstimateNew(svc); got != want {
			t.Errorf("restored EstimateNew(%s) = %+v, want %+v", svc, got, want)
		}
	}
}

// The P90 calibrates itself from the estimates the kiosk recorded: when
// walk-ins wait longer than the P90 they were shown, its margin grows;
// when nobody comes near it, it shrinks.
func TestCalibrationFollowsOutcomes(t *testing.T) {
	// Build the tickets through events that carry the shown estimate, as
	// the appliance's store records it.
	calib := func(t *testing.T, shown, p90 int, wait time.Duration) queue.Calibration {
		f := newFixture(t)
		f.open(monday(9, 0), "2", "bernd")
		at := monday(9, 0)
		for range 60 {
			e, err := f.st.IssueTicket(at, "meldung", f.token(), "kiosk")
			if err != nil {
				t.Fatal(err)
			}
			m, p := shown, p90
			pl := e.Payload.(*queue.TicketIssued)
			pl.EstimateMinutes, pl.EstimateP90 = &m, &p
			f.apply(e)
			at = at.Add(wait)
			f.call(at, "2", "bernd")
			f.finish(at, "2")
		}
		return f.st.CalibrationOf("meldung", monday(9, 0))
	}
	over := calib(t, 0, 1, 2*time.Minute)
	if over.P90 <= 1.5 || over.Seen != 60 || over.Over != 60 {
		t.Errorf("every walk-in waited past its P90: %+v, want the margin scaled up and 60 of 60 counted over", over)
	}
	under := calib(t, 1, 30, 2*time.Minute)
	if under.P90 >= 1 || under.Over != 0 {
		t.Errorf("nobody came near the P90: %+v, want the margin scaled down", under)
	}
}

// The lead's planned staffing is foreseen before the site has any
// history: a counter planned from 8:00 joins the queue then, and one
// planned to break at 10:00 leaves it.
func TestEstimateForeseesPlan(t *testing.T) {
	plan := func(f *fixture, counter string, text string) {
		t.Helper()
		open, err := queue.ParsePlan(text)
		if err != nil {
			t.Fatal(err)
		}
		events, err := f.st.PlanStaffing(monday(6, 0), counter, time.Monday, open)
		if err != nil || len(events) != 1 {
			t.Fatalf("PlanStaffing(%s, %q) = %v, %v", counter, text, events, err)
		}
		f.apply(events...)
	}
	with, without := newFixture(t), newFixture(t)
	plan(with, "1", "7:30–15:00")
	plan(with, "2", "8:00-15:00")
	for _, f := range []*fixture{with, without} {
		f.open(monday(7, 30), "1", "staff1")
		for i := range 12 {
			f.issue(monday(7, 30).Add(time.Duration(i)*time.Second), "meldung")
		}
	}
	w, wo := with.st.EstimateNew("meldung"), without.st.EstimateNew("meldung")
	if w.Minutes > wo.Minutes-8 {
		t.Errorf("counter 2 planned from 8:00: estimate %+v, want well below %+v", w, wo)
	}
	// Another weekday's plan changes nothing on Monday.
	other := newFixture(t)
	events, err := other.st.PlanStaffing(monday(6, 0), "2", time.Tuesday, []queue.OpeningHours{{Open: 480, Close: 900}})
	if err != nil {
		t.Fatal(err)
	}
	other.apply(events...)
	other.open(monday(7, 30), "1", "staff1")
	for i := range 12 {
		other.issue(monday(7, 30).Add(time.Duration(i)*time.Second), "meldung")
	}
	if got := other.st.EstimateNew("meldung"); got != wo {
		t.Errorf("with a Tuesday plan only: %+v, want %+v as without a plan", got, wo)
	}
}

func TestPlanStaffing(t *testing.T) {
	f := newFixture(t)
	at := monday(6, 0)
	for _, tc := range []struct {
		name, counter, text string
		code                string
	}{
		{"ErrUnknownCounter", "9", "8:00-15:00", veedel.ENOTFOUND},
		{"ErrOverlap", "1", "8:00-12:00, 11:00-15:00", veedel.EINVALID},
		{"ErrBackwards", "1", "15:00-8:00", veedel.EINVALID},
		{"ErrTime", "1", "8:70-15:00", veedel.EINVALID},
		{"ErrNoDash", "1", "8:00 15:00", veedel.EINVALID},
		{"ErrPastMidnight", "1", "20:00-25:00", veedel.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open, err := queue.ParsePlan(tc.text)
			if err == nil {
				_, err = f.st.PlanStaffing(at, tc.counter, time.Monday, open)
			}
			wantCode(t, err, tc.code)
		})
	}
	open, err := queue.ParsePlan(" 10:30–15 ; 7.30-10:00 ")
	if err != nil {
		t.Fatal(err)
	}
	events, err := f.st.PlanStaffing(at, "1", time.Monday, open)
	if err != nil || len(events) != 1 {
		t.Fatalf("PlanStaffing = %v, %v; want one event", events, err)
	}
	f.apply(events...)
	if got, want := queue.FormatPlan(f.st.PlannedStaffing("1", time.Monday)), "07:30–10:00, 10:30–15:00"; got != want {
		t.Errorf("plan = %q, want %q (in order)", got, want)
	}
	if events, err := f.st.PlanStaffing(at, "1", time.Monday, open); err != nil || len(events) != 0 {
		t.Errorf("the same plan again = %v, %v; want no event", events, err)
	}
	events, err = f.st.PlanStaffing(at, "1", time.Monday, nil)
	if err != nil || len(events) != 1 {
		t.Fatalf("clearing = %v, %v", events, err)
	}
	f.apply(events...)
	if got := f.st.PlannedStaffing("1", time.Monday); got != nil {
		t.Errorf("plan after clearing = %v, want none", got)
	}
}

// Bookings of recent days teach today's show-up rate: when last Monday's
// bookings all stayed away, today's count less in a walk-in's wait.
func TestEstimateLearnsBookingsOverDays(t *testing.T) {
	setup := func(t *testing.T, missedBefore bool) *fixture {
		f := newFixture(t)
		f.open(monday(7, 0), "2", "bernd") // the site's Monday
		if missedBefore {
			for i := range 20 {
				f.book(monday(6, 0), fmt.Sprintf("GONE%04d", i), "kfz", monday(8, 0).Add(time.Duration(i)*10*time.Minute))
			}
		}
		next := monday(0, 0).AddDate(0, 0, 7)
		f.issue(at(next, 8, 0), "kfz")
		f.call(at(next, 8, 0), "3", "carla")
		for i := range 3 {
			f.book(at(next, 7, 0), fmt.Sprintf("KFZ%d000", i), "kfz", at(next, 8, 10+10*i))
		}
		f.apply(queue.Event{Type: queue.TypeCounterOpened, At: at(next, 8, 1), Payload: &queue.CounterOpened{Counter: "1", Staff: "anna"}})
		return f
	}
	if got, fresh := setup(t, true).st.EstimateNew("kfz"), setup(t, false).st.EstimateNew("kfz"); got.Minutes >= fresh.Minutes {
		t.Errorf("after a day of 20 missed bookings %+v, want less than %+v", got, fresh)
	}
}
