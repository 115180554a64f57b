package queue_test

import (
	"testing"

	"github.com/veedel/veedel/appliance/queue"
)

// TestPublishedEstimates: a state answering from published estimates never
// recomputes: what came since is shown what a new ticket of its service
// was shown, behind the competing tickets that came before it.
func TestPublishedEstimates(t *testing.T) {
	f := newFixture(t)
	for i := range 5 {
		f.issue(monday(8, i), "ausweis")
	}
	st := f.st
	published := st.ComputeEstimates()
	st.UseEstimates(published)
	shown := st.EstimateNew("ausweis")
	if shown.Position != 6 {
		t.Fatalf("a new ticket is shown position %d, want 6", shown.Position)
	}
	a := f.issue(monday(8, 10), "ausweis").ID
	b := f.issue(monday(8, 11), "ausweis").ID
	if got := st.EstimateNew("ausweis"); got != shown {
		t.Errorf("after two more tickets a new one is shown %+v, want the published %+v (no recomputation)", got, shown)
	}
	for i, id := range []string{a, b} {
		got := st.EstimateTicket(id)
		want := queue.Estimate{Position: shown.Position + i, Minutes: shown.Minutes, P90: shown.P90}
		if got != want {
			t.Errorf("ticket %d since: %+v, want %+v", i+1, got, want)
		}
	}
	if applied, ok := st.PublishedApplied(); !ok || applied != published.Applied() || applied == st.Applied {
		t.Errorf("PublishedApplied = %d, %v; want %d of an older version than %d", applied, ok, published.Applied(), st.Applied)
	}
	st.UseEstimates(nil)
	if got := st.EstimateTicket(b); got.Position != 7 {
		t.Errorf("computed again: position %d, want 7", got.Position)
	}
}

// TestPublishedEstimatesDueAppointment: an appointment checked in since the
// estimates is placed by the calling rule, before the walk-ins, not shown
// a walk-in's figure.
func TestPublishedEstimatesDueAppointment(t *testing.T) {
	f := newFixture(t)
	f.book(monday(7, 0), "KALK7Q2M", "ausweis", monday(9, 0))
	for i := range 3 {
		f.issue(monday(8, 50+i), "ausweis")
	}
	f.st.UseEstimates(f.st.ComputeEstimates())
	tk := f.checkIn(monday(8, 57), "KALK7Q2M") // due: 5 minutes before its slot
	if got := f.st.EstimateTicket(tk.ID); got.Position != 1 || got.Minutes != 0 {
		t.Errorf("due appointment checked in since: %+v, want position 1 and no wait", got)
	}
}
