package queue_test

import (
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
)

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
			"B001": {Position: 2, Minutes: 5},
			"B002": {Position: 3, Minutes: 10},
			"A002": {Position: 4, Minutes: 30},
		} {
			if got := f.st.EstimateTicket(ids[number]); got != want {
				t.Errorf("EstimateTicket(%s) = %+v, want %+v", number, got, want)
			}
		}
	})

	t.Run("DividedByStaffedCountersRoundedUp", func(t *testing.T) {
		f, ids := setup(t)
		f.open(monday(8, 30), "1", "anna")
		f.open(monday(8, 30), "2", "bernd")
		f.open(monday(8, 30), "4", "dora")
		// meldung is staffed at 1, 2 and 4; ausweis only at 1; kfz nowhere.
		for number, want := range map[string]queue.Estimate{
			"B001": {Position: 2, Minutes: 2},  // ceil(1 × 5 / 3) = ceil(1.67)
			"B002": {Position: 3, Minutes: 4},  // ceil(2 × 5 / 3) = ceil(3.33): rounding would give 3
			"A002": {Position: 4, Minutes: 30}, // 3 × 10 / 1
		} {
			if got := f.st.EstimateTicket(ids[number]); got != want {
				t.Errorf("EstimateTicket(%s) = %+v, want %+v", number, got, want)
			}
		}
	})

	t.Run("OnlyWaitingTicketsAhead", func(t *testing.T) {
		f, ids := setup(t)
		f.call(monday(9, 0), "1", "anna") // A001
		if got, want := f.st.EstimateTicket(ids["B001"]), (queue.Estimate{Position: 1, Minutes: 0}); got != want {
			t.Errorf("EstimateTicket(B001) after A001 was called = %+v, want %+v", got, want)
		}
		if got, want := f.st.EstimateTicket(ids["A002"]), (queue.Estimate{Position: 3, Minutes: 20}); got != want {
			t.Errorf("EstimateTicket(A002) after A001 was called = %+v, want %+v", got, want)
		}
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
		for svc, want := range map[string]queue.Estimate{
			"meldung": {Position: 5, Minutes: 7},  // ceil(4 × 5 / 3)
			"ausweis": {Position: 5, Minutes: 40}, // 4 × 10 / 1
			"kfz":     {Position: 2, Minutes: 20}, // 1 × 20 / 1 (counter 3 closed counts as one)
		} {
			if got := f.st.EstimateNew(svc); got != want {
				t.Errorf("EstimateNew(%s) = %+v, want %+v", svc, got, want)
			}
		}
		// Mean over services, rounded: (40 + 7 + 20) / 3 = 22.3.
		if got, want := f.st.SiteWaitMinutes(), 22; got != want {
			t.Errorf("SiteWaitMinutes = %d, want %d", got, want)
		}
		if got, want := f.st.WaitingCount(), 5; got != want {
			t.Errorf("WaitingCount = %d, want %d", got, want)
		}
	})

	t.Run("EmptySite", func(t *testing.T) {
		st := queue.NewState("x")
		if got := st.SiteWaitMinutes(); got != 0 {
			t.Errorf("SiteWaitMinutes without services = %d, want 0", got)
		}
	})
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
		// Only counter 2 is staffed for meldung: one ticket ahead × 6 minutes.
		if got, want := f.st.EstimateTicket(ids[3]), (queue.Estimate{Position: 2, Minutes: 6}); got != want {
			t.Errorf("EstimateTicket(B004) = %+v, want %+v", got, want)
		}
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
