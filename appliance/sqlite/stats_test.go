package sqlite_test

import (
	"context"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
)

// statsDay builds two days at Kalk with an injected clock, with every
// ticket issued while no counter is open, so the recorded estimates are
// the exact naive ones (tickets ahead × the service's mean duration).
//
// Monday 13 January 2025:
//
//	08:00 A001 issued (nobody ahead: estimate 0, P90 0)
//	08:10 A002 issued (1 ahead, ausweis 10 min: estimate 10, P90 17)
//	08:20 B001 issued (2 ahead, meldung 5 min: estimate 10, P90 17)
//	08:30 counter 1 calls A001 (wait 30), 08:42 finished (service 12)
//	08:45 calls A002 (wait 35), 08:50 no-show
//	08:51 calls B001 (wait 31), 08:59 finished (service 8); 09:00 closed
//	09:05 A003 issued (estimate 0), 09:20 counter 2 calls it (wait 15),
//	      09:23 finished (service 3); 09:24 closed
//	09:30 B002 issued (estimate 0), never called: expires with the day
//
// Tuesday 14 January: 09:59 counter 1 opens and closes (the day starts),
// 10:00 A001 issued (estimate 0), 10:05 called (wait 5), 10:15 finished.
func statsDay(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	e.clock.Set(monday(7, 0))
	e.seed(2)
	at := func(hh, mm int) { e.clock.Set(monday(hh, mm)) }
	at(8, 0)
	e.issue("ausweis")
	at(8, 10)
	e.issue("ausweis")
	at(8, 20)
	e.issue("meldung")
	at(8, 30)
	e.exec(callNext("1", "anna"))
	at(8, 42)
	e.exec(finish("1"))
	at(8, 45)
	e.exec(callNext("1", "anna"))
	at(8, 50)
	e.exec(noShow("1"))
	at(8, 51)
	e.exec(callNext("1", "anna"))
	at(8, 59)
	e.exec(finish("1"))
	at(9, 0)
	e.exec(one((*queue.State).CloseCounter, "1"))
	at(9, 5)
	e.issue("ausweis")
	at(9, 20)
	e.exec(callNext("2", "ben"))
	at(9, 23)
	e.exec(finish("2"))
	at(9, 24)
	e.exec(one((*queue.State).CloseCounter, "2"))
	at(9, 30)
	e.issue("meldung")

	tuesday := func(hh, mm int) { e.clock.Set(monday(hh, mm).AddDate(0, 0, 1)) }
	tuesday(9, 59)
	e.exec(func(st *queue.State, at time.Time) ([]queue.Event, error) {
		open, err := st.OpenCounter(at, "1", "anna")
		return []queue.Event{open}, err
	})
	e.exec(one((*queue.State).CloseCounter, "1"))
	tuesday(10, 0)
	e.issue("ausweis")
	tuesday(10, 5)
	e.exec(callNext("1", "anna"))
	tuesday(10, 15)
	e.exec(finish("1"))
	return e
}

func TestDayStats(t *testing.T) {
	e := statsDay(t)
	ctx := context.Background()

	t.Run("Monday", func(t *testing.T) {
		got, err := e.store.DayStats(ctx, "2025-01-13")
		if err != nil {
			t.Fatal(err)
		}
		want := queue.DayStats{Day: "2025-01-13",
			Hours: []queue.StatFigures{
				{Hour: 8, Arrivals: 3, Waited: 3, WaitMean: 32, WaitP90: 35, Served: 2, ServiceMean: 10, ServiceP90: 12,
					NoShows: 1, Estimated: 3, EstimateMAE: 76.0 / 3, OverP90: 3},
				{Hour: 9, Arrivals: 2, Waited: 1, WaitMean: 15, WaitP90: 15, Served: 1, ServiceMean: 3, ServiceP90: 3,
					Estimated: 1, EstimateMAE: 15, OverP90: 1},
			},
			Total: queue.StatFigures{Hour: -1, Arrivals: 5, Waited: 4, WaitMean: 27.75, WaitP90: 35, Served: 3,
				ServiceMean: 23.0 / 3, ServiceP90: 12, NoShows: 1, Estimated: 4, EstimateMAE: 22.75, OverP90: 4},
		}
		wantStats(t, got, want)
	})
	t.Run("Tuesday", func(t *testing.T) {
		got, err := e.store.DayStats(ctx, "2025-01-14")
		if err != nil {
			t.Fatal(err)
		}
		row := queue.StatFigures{Hour: 10, Arrivals: 1, Waited: 1, WaitMean: 5, WaitP90: 5, Served: 1, ServiceMean: 10, ServiceP90: 10,
			Estimated: 1, EstimateMAE: 5, OverP90: 1}
		total := row
		total.Hour = -1
		wantStats(t, got, queue.DayStats{Day: "2025-01-14", Hours: []queue.StatFigures{row}, Total: total})
	})
	t.Run("EmptyDay", func(t *testing.T) {
		got, err := e.store.DayStats(ctx, "2025-01-15")
		if err != nil {
			t.Fatal(err)
		}
		wantStats(t, got, queue.DayStats{Day: "2025-01-15", Total: queue.StatFigures{Hour: -1}})
	})
	t.Run("ErrBadDay", func(t *testing.T) {
		for _, day := range []string{"", "13.01.2025", "2025-13-01", "2025-01-13' OR 1=1"} {
			_, err := e.store.DayStats(ctx, day)
			wantCode(t, err, veedel.EINVALID)
		}
	})
	t.Run("Days", func(t *testing.T) {
		days, err := e.store.StatDays(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"2025-01-14", "2025-01-13"}; !reflect.DeepEqual(days, want) {
			t.Errorf("StatDays = %v, want %v", days, want)
		}
	})
	t.Run("EstimateInEvent", func(t *testing.T) {
		// The estimate shown at issue travels in the TicketIssued event
		// (for central) and is in the projection (for the site).
		want := map[string][2]int{"2025-01-13/A001": {0, 0}, "2025-01-13/A002": {10, 17}, "2025-01-13/B001": {10, 17},
			"2025-01-13/A003": {0, 0}, "2025-01-13/B002": {0, 0}, "2025-01-14/A001": {0, 0}}
		seen := 0
		for _, en := range e.entries() {
			if en.Type != queue.TypeTicketIssued {
				continue
			}
			p, err := changelog.DecodePayload(&en, queue.NewPayload)
			if err != nil {
				t.Fatal(err)
			}
			ti := p.(*queue.TicketIssued)
			if ti.EstimateMinutes == nil || ti.EstimateP90 == nil {
				t.Fatalf("%s: no estimate in the event", ti.ID)
			}
			if got := [2]int{*ti.EstimateMinutes, *ti.EstimateP90}; got != want[ti.ID] {
				t.Errorf("%s: estimate %v, want %v", ti.ID, got, want[ti.ID])
			}
			seen++
		}
		if seen != len(want) {
			t.Errorf("%d TicketIssued events, want %d", seen, len(want))
		}
		db := e.openSecond()
		var m, p90 int
		if err := db.QueryRow(`SELECT estimate_minutes, estimate_p90 FROM tickets WHERE id = '2025-01-13/A002'`).Scan(&m, &p90); err != nil {
			t.Fatal(err)
		}
		if m != 10 || p90 != 17 {
			t.Errorf("projection: estimate %d/%d, want 10/17", m, p90)
		}
	})
	t.Run("SurvivesReopen", func(t *testing.T) {
		before, _ := e.store.DayStats(ctx, "2025-01-13")
		e.reopen()
		after, err := e.store.DayStats(ctx, "2025-01-13")
		if err != nil {
			t.Fatal(err)
		}
		wantStats(t, after, before)
	})
}

// wantStats compares figures, minutes to within a millisecond.
func wantStats(t *testing.T, got, want queue.DayStats) {
	t.Helper()
	if got.Day != want.Day || len(got.Hours) != len(want.Hours) {
		t.Fatalf("stats = %+v\nwant %+v", got, want)
	}
	for i := range want.Hours {
		wantFigures(t, got.Hours[i], want.Hours[i])
	}
	wantFigures(t, got.Total, want.Total)
}

func wantFigures(t *testing.T, got, want queue.StatFigures) {
	t.Helper()
	near := func(a, b float64) bool { return math.Abs(a-b) < 1.0/60000 }
	g, w := got, want
	ok := near(g.WaitMean, w.WaitMean) && near(g.WaitP90, w.WaitP90) && near(g.ServiceMean, w.ServiceMean) &&
		near(g.ServiceP90, w.ServiceP90) && near(g.EstimateMAE, w.EstimateMAE)
	g.WaitMean, g.WaitP90, g.ServiceMean, g.ServiceP90, g.EstimateMAE = 0, 0, 0, 0, 0
	w.WaitMean, w.WaitP90, w.ServiceMean, w.ServiceP90, w.EstimateMAE = 0, 0, 0, 0, 0
	if !ok || g != w {
		t.Errorf("hour %d:\n got %+v\nwant %+v", want.Hour, got, want)
	}
}
