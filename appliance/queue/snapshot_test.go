package queue_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
)

// randomDay runs random valid commands for one business day and returns
// the events they committed.
func randomDay(t *testing.T, f *fixture, rnd *rand.Rand, day func(int, int) time.Time) []queue.Event {
	t.Helper()
	services := []string{"ausweis", "meldung", "kfz"}
	counters := []string{"1", "2", "3", "4"}
	var all []queue.Event
	at := day(7, 30)
	for range 150 {
		at = at.Add(time.Duration(1+rnd.IntN(180)) * time.Second)
		c := counters[rnd.IntN(len(counters))]
		var events []queue.Event
		var e queue.Event
		var err error
		switch rnd.IntN(14) {
		case 0, 1:
			e, err = f.st.IssueTicket(at, services[rnd.IntN(len(services))], f.token(), "kiosk")
			events = []queue.Event{e}
		case 2:
			events, err = f.st.CallNext(at, c, "staff"+c)
		case 3:
			e, err = f.st.Finish(at, c)
			events = []queue.Event{e}
		case 4:
			e, err = f.st.NoShow(at, c)
			events = []queue.Event{e}
		case 5:
			e, err = f.st.Recall(at, c)
			events = []queue.Event{e}
		case 6:
			code := fmt.Sprintf("BK%04d", rnd.IntN(40))
			e, err = f.st.CreateBooking(at, code, services[rnd.IntN(len(services))], at.Add(time.Duration(rnd.IntN(60)-10)*time.Minute))
			events = []queue.Event{e}
		case 7:
			var existing *queue.Ticket
			e, existing, err = f.st.CheckIn(at, fmt.Sprintf("BK%04d", rnd.IntN(40)), f.token(), "kiosk")
			if err != nil && veedel.ErrorCode(err) == veedel.ENOTFOUND {
				err = veedel.Errorf(veedel.ECONFLICT, "unknown")
			}
			if existing != nil {
				continue
			}
			events = []queue.Event{e}
		case 8:
			e, err = f.st.Start(at, c)
			events = []queue.Event{e}
		case 9:
			e, err = f.st.Park(at, c)
			events = []queue.Event{e}
		case 10:
			if parked := f.st.Parked(c); len(parked) > 0 {
				events, err = f.st.CallBack(at, c, "staff"+c, parked[0].ID)
			} else {
				continue
			}
		case 11:
			if rnd.IntN(2) == 0 {
				e, err = f.st.Transfer(at, c, services[rnd.IntN(len(services))], "")
			} else {
				e, err = f.st.Transfer(at, c, "", counters[rnd.IntN(len(counters))])
			}
			if err != nil && veedel.ErrorCode(err) == veedel.EINVALID {
				continue
			}
			events = []queue.Event{e}
		case 12:
			if w := f.st.Waiting(); len(w) > 0 {
				e, err = f.st.Cancel(at, w[rnd.IntN(len(w))].Token)
				events = []queue.Event{e}
			} else {
				continue
			}
		case 13:
			e, err = f.st.IssueTicketClass(at, services[rnd.IntN(len(services))], f.token(), "kiosk", queue.ClassAccessibility)
			events = []queue.Event{e}
		}
		if err != nil {
			if veedel.ErrorCode(err) != veedel.ECONFLICT {
				t.Fatalf("unexpected error %v", err)
			}
			continue
		}
		f.apply(events...)
		all = append(all, events...)
	}
	return all
}

// restoreViaJSON freezes st into a snapshot, sends it through JSON as the
// store keeps it, and thaws it again.
func restoreViaJSON(t *testing.T, st *queue.State) *queue.State {
	t.Helper()
	data, err := json.Marshal(st.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	var snap queue.Snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		t.Fatal(err)
	}
	restored, err := queue.Restore(snap)
	if err != nil {
		t.Fatal(err)
	}
	return restored
}

// A state restored from a snapshot (through JSON, as the store keeps it)
// must behave exactly like the original for every later event, also across
// a day rollover.
func TestSnapshotRestore(t *testing.T) {
	for _, seed := range []uint64{1, 7, 99} {
		t.Run(fmt.Sprintf("Seed%d", seed), func(t *testing.T) {
			f := newFixture(t)
			rnd := rand.New(rand.NewPCG(seed, 1))
			randomDay(t, f, rnd, monday)
			randomDay(t, f, rnd, tuesday)

			restored := restoreViaJSON(t, f.st)
			sameObservation(t, "restored", restored, f.st)

			later := randomDay(t, f, rnd, wednesday)
			if len(later) == 0 {
				t.Fatal("no events on the third day; the test proves nothing")
			}
			for _, e := range later {
				restored.Apply(e)
			}
			sameObservation(t, "after later events", restored, f.st)
			again, _ := json.Marshal(restored.Snapshot())
			want, _ := json.Marshal(f.st.Snapshot())
			if string(again) != string(want) {
				t.Error("snapshots of equal states differ in bytes")
			}
		})
	}
}

// sameObservation compares what users of two states see, with every time
// in UTC: a snapshot keeps instants, not the *time.Location they were read
// in. On a difference it reports the first one, not two megabytes.
func sameObservation(t *testing.T, what string, got, want *queue.State) {
	t.Helper()
	g, w := utcObservation(observe(got)), utcObservation(observe(want))
	if reflect.DeepEqual(g, w) {
		return
	}
	gj, _ := json.Marshal(g)
	wj, _ := json.Marshal(w)
	i := 0
	for i < len(gj) && i < len(wj) && gj[i] == wj[i] {
		i++
	}
	lo := max(i-120, 0)
	t.Fatalf("%s: states differ at byte %d:\n got …%s\nwant …%s", what, i, gj[lo:min(i+120, len(gj))], wj[lo:min(i+120, len(wj))])
}

func utcObservation(o observation) observation {
	for id, tk := range o.Tickets {
		tk.IssuedAt, tk.CalledAt, tk.FinishedAt = tk.IssuedAt.UTC(), tk.CalledAt.UTC(), tk.FinishedAt.UTC()
		tk.Slot, tk.FirstCalledAt, tk.LastCalledAt, tk.StartedAt = tk.Slot.UTC(), tk.FirstCalledAt.UTC(), tk.LastCalledAt.UTC(), tk.StartedAt.UTC()
		o.Tickets[id] = tk
	}
	for i := range o.Recent {
		o.Recent[i].At = o.Recent[i].At.UTC()
	}
	for code, b := range o.Bookings {
		b.Slot = b.Slot.UTC()
		o.Bookings[code] = b
	}
	return o
}

func TestRestoreRefusesOtherVersions(t *testing.T) {
	f := newFixture(t)
	snap := f.st.Snapshot()
	snap.Version = queue.SnapshotVersion + 1
	if _, err := queue.Restore(snap); err == nil {
		t.Error("Restore accepted a snapshot of another version")
	}
}
