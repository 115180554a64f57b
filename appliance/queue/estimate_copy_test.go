package queue_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
)

// TestEstimateCopyGivesTheSameEstimates walks random days (issues,
// cancellations, bookings and check-ins, calls, no-shows, transfers,
// counters opening and closing) and checks at every step that the
// estimator's copy, which leaves out the tickets estimates never read,
// gives exactly the estimates of the whole state, and that it did leave
// out the cancelled ones.
func TestEstimateCopyGivesTheSameEstimates(t *testing.T) {
	services := []string{"ausweis", "meldung", "kfz"}
	counters := []string{"1", "2", "3", "4"}
	compared, dropped := 0, 0
	for seed := range uint64(4) {
		rnd := rand.New(rand.NewPCG(seed, 11))
		f := newFixture(t)
		at := monday(7, 0)
		if seed%2 == 1 {
			// Learned staffing and service times of earlier days.
			day := f.history(3, map[string][][2]int{"1": {{hm(7, 30), hm(12, 0)}}, "2": {{hm(8, 0), hm(15, 0)}}})
			at = time.Date(day.Year(), day.Month(), day.Day(), 7, 0, 0, 0, day.Location())
		}
		var tokens, codes []string
		try := func(e queue.Event, err error) {
			if err == nil {
				f.apply(e)
			}
		}
		for step := range 400 {
			at = at.Add(time.Duration(rnd.IntN(60)) * time.Second)
			ctr := counters[rnd.IntN(len(counters))]
			switch x := rnd.IntN(22); {
			case x < 7:
				tok := f.token()
				try(f.st.IssueTicket(at, services[rnd.IntN(3)], tok, "kiosk"))
				tokens = append(tokens, tok)
			case x < 10 && len(tokens) > 0:
				try(f.st.Cancel(at, tokens[rnd.IntN(len(tokens))]))
			case x < 11:
				code := "C" + string(rune('A'+seed)) + time.Duration(step).String()
				try(f.st.CreateBooking(at, code, services[rnd.IntN(3)], at.Add(time.Duration(rnd.IntN(120))*time.Minute)))
				codes = append(codes, code)
			case x < 12 && len(codes) > 0:
				e, _, err := f.st.CheckIn(at, codes[rnd.IntN(len(codes))], f.token(), "kiosk")
				try(e, err)
			case x < 13:
				try(f.st.OpenCounter(at, ctr, "staff"+ctr))
			case x < 14 && rnd.IntN(3) == 0:
				try(f.st.CloseCounter(at, ctr))
			case x < 17:
				if events, err := f.st.CallNext(at, ctr, "staff"+ctr); err == nil {
					f.apply(events...)
				}
			case x < 20:
				try(f.st.Finish(at, ctr))
			case x < 21:
				try(f.st.NoShow(at, ctr))
			default:
				try(f.st.Transfer(at, ctr, services[rnd.IntN(3)], counters[rnd.IntN(len(counters))]))
			}
			if step%10 != 9 {
				continue
			}
			c := f.st.EstimateCopy()
			if got, want := c.ComputeEstimates(), f.st.ComputeEstimates(); !queue.SameEstimates(got, want) {
				t.Fatalf("seed %d step %d: the copy's estimates differ from the state's", seed, step)
			}
			// A state restored from its snapshot (as at start) copies the
			// same tickets: its list of called tickets is rebuilt.
			if step%50 == 49 {
				r, err := queue.Restore(f.st.Snapshot())
				if err != nil {
					t.Fatal(err)
				}
				if got, want := r.EstimateCopy().ComputeEstimates(), f.st.ComputeEstimates(); !queue.SameEstimates(got, want) {
					t.Fatalf("seed %d step %d: the restored state's copy gives other estimates", seed, step)
				}
			}
			compared++
			dropped += len(f.st.Tickets) - queue.CopiedTickets(c)
		}
	}
	if compared < 100 || dropped == 0 {
		t.Errorf("compared %d states, %d tickets left out: the walk did not exercise the copy", compared, dropped)
	}
}
