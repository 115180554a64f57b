package sqlite_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/sync/changelog"
)

// fillQueue issues n tickets of alternating services and opens counters
// 1 and 2, so that the estimates simulate a long queue.
func fillQueue(e *env, n int) {
	e.t.Helper()
	ctx := context.Background()
	for i := range n {
		if _, _, err := e.store.IssueTicket(ctx, []string{"ausweis", "meldung"}[i%2], "kiosk", ""); err != nil {
			e.t.Fatal(err)
		}
	}
	for _, c := range []string{"1", "2"} {
		e.exec(callNext(c, "anna"))
	}
}

// TestEstimateStaleness: under a steady stream of concurrent commands on a
// queue of 1,000 (150 under the race detector) that stays that long, the estimates shown are never older than
// sqlite.EstimateBound (counted from the first commit they miss), and they
// are recomputed once per burst, not once per event.
func TestEstimateStaleness(t *testing.T) {
	if testing.Short() {
		t.Skip("a two-second load")
	}
	e := newEnv(t)
	e.seed(3)
	waiting := 1000
	if raceEnabled {
		waiting = 150
	}
	fillQueue(e, waiting)
	ctx := context.Background()
	before := e.store.EstimateStats()

	var commits, worst time.Duration
	var mu sync.Mutex
	done := make(chan struct{})
	var wg sync.WaitGroup
	n := 0
	for k := range 8 {
		wg.Go(func() {
			var mine []string // tokens of the tickets this kiosk issued
			for {
				select {
				case <-done:
					return
				default:
				}
				var err error
				if k == 0 {
					// One counter calls and finishes, so the queue moves.
					_, err = e.store.Execute(ctx, func(st *queue.State, at time.Time) ([]queue.Event, error) {
						if st.Counters["3"].Current != "" {
							ev, err := st.Finish(at, "3")
							return []queue.Event{ev}, err
						}
						return st.CallNext(at, "3", "bert")
					})
				} else {
					// A kiosk issues, and a citizen gives an earlier
					// ticket up: the queue stays at its length.
					var tk queue.Ticket
					if tk, _, err = e.store.IssueTicket(ctx, "ausweis", "kiosk", ""); err == nil {
						mine = append(mine, tk.Token)
					}
					if err == nil && len(mine) > 3 {
						_, err = e.store.Execute(ctx, func(st *queue.State, at time.Time) ([]queue.Event, error) {
							ev, err := st.Cancel(at, mine[0])
							return []queue.Event{ev}, err
						})
						mine = mine[1:]
					}
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				n++
				mu.Unlock()
			}
		})
	}
	// A reader samples the age of what it would show.
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
			var shown queue.Estimate
			e.store.View(func(st *queue.State) { shown = st.EstimateNew("ausweis") })
			age := e.store.EstimateStats().Age
			mu.Lock()
			worst = max(worst, age)
			mu.Unlock()
			if shown.Position == 0 {
				t.Error("a reader was shown no estimate")
				return
			}
		}
	})
	start := time.Now()
	time.Sleep(2 * time.Second)
	close(done)
	wg.Wait()
	commits = time.Since(start)

	st := e.store.EstimateStats()
	recomputes := st.Recomputes - before.Recomputes
	t.Logf("%d commands in %s, %d recomputations; oldest estimate shown %s (sampled), replaced at most %s old; bound %s",
		n, commits.Round(time.Millisecond), recomputes, worst.Round(time.Millisecond), st.MaxAge.Round(time.Millisecond), sqlite.EstimateBound)
	if worst > sqlite.EstimateBound || st.MaxAge > sqlite.EstimateBound {
		t.Errorf("estimates shown up to %s (replaced at %s) old, bound %s", worst, st.MaxAge, sqlite.EstimateBound)
	}
	if recomputes == 0 || recomputes*4 > uint64(n) {
		t.Errorf("%d recomputations for %d commands: want one per burst, far fewer than commands", recomputes, n)
	}
	// Once the burst is over, the estimates catch up within the bound.
	deadline := time.Now().Add(sqlite.EstimateBound)
	for e.store.EstimateStats().Age > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("estimates still %s old after the burst", e.store.EstimateStats().Age)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestEstimateRecordedIsShown: a ticket records the estimate a new ticket
// of its service was shown when it was issued (the published one, which
// the kiosk's page showed), and until the next recomputation its holder is
// shown that very figure.
func TestEstimateRecordedIsShown(t *testing.T) {
	e := newEnv(t)
	e.seed(2)
	fillQueue(e, 40)
	e.store.SettleEstimates()
	var shown queue.Estimate
	e.store.View(func(st *queue.State) { shown = st.EstimateNew("ausweis") })
	tk := e.issue("ausweis") // settles first: nothing changed since
	var recorded *queue.TicketIssued
	for _, en := range e.entries() {
		if en.Entity == "ticket/"+tk.ID && en.Type == queue.TypeTicketIssued {
			p, err := changelog.DecodePayload(&en, queue.NewPayload)
			if err != nil {
				t.Fatal(err)
			}
			recorded = p.(*queue.TicketIssued)
		}
	}
	if recorded == nil || recorded.EstimateMinutes == nil || *recorded.EstimateMinutes != shown.Minutes || *recorded.EstimateP90 != shown.P90 {
		t.Fatalf("recorded %+v, kiosk showed %+v", recorded, shown)
	}
	if shown.Minutes == 0 {
		t.Fatal("setup: no wait to compare")
	}
	var holder queue.Estimate
	e.store.View(func(st *queue.State) { holder = st.EstimateTicket(tk.ID) })
	if age := e.store.EstimateStats().Age; age > 0 && (holder.Minutes != shown.Minutes || holder.P90 != shown.P90) {
		t.Errorf("before the recomputation the holder is shown %+v, want the recorded %+v", holder, shown)
	}
	if holder.Position < shown.Position {
		t.Errorf("holder's position %d, want at least the %d a new ticket was shown", holder.Position, shown.Position)
	}
}
