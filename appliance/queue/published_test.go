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
