package queue_test

import (
	"reflect"
	"testing"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
)

// A cancellation the citizen asked for at central: the site decides.
func TestAcceptCancelFromCentral(t *testing.T) {
	request := func(id string) queue.Event {
		return queue.Event{Type: queue.TypeCancelRequested, Entity: "ticket/" + id, Payload: &queue.CancelRequested{ID: id}}
	}
	t.Run("WaitingIsCancelledOnce", func(t *testing.T) {
		f := newFixture(t)
		a1 := f.issue(monday(8, 0), "ausweis")
		f.issue(monday(8, 1), "ausweis")
		events, err := f.st.AcceptFromCentral(monday(8, 5), request(a1.ID))
		if err != nil || len(events) != 1 || events[0].Type != queue.TypeTicketCancelled || events[0].Payload.(*queue.TicketCancelled).ID != a1.ID {
			t.Fatalf("AcceptFromCentral = %+v, %v; want one TicketCancelled of %s", events, err, a1.ID)
		}
		f.apply(events...)
		if got := f.st.Tickets[a1.ID].Status; got != queue.StatusCancelled || f.st.WaitingCount() != 1 {
			t.Fatalf("after cancel: status %s, waiting %d", got, f.st.WaitingCount())
		}
		// The same request again (pressed twice, or resent): nothing more.
		events, err = f.st.AcceptFromCentral(monday(8, 6), request(a1.ID))
		if err != nil || len(events) != 0 {
			t.Errorf("second request = %+v, %v; want no events", events, err)
		}
	})
	t.Run("ParkedIsCancelled", func(t *testing.T) {
		f := newFixture(t)
		a1 := f.issue(monday(8, 0), "ausweis")
		f.call(monday(8, 2), "1", "anna")
		f.must(f.st.Park(monday(8, 3), "1"))
		events, err := f.st.AcceptFromCentral(monday(8, 5), request(a1.ID))
		if err != nil || len(events) != 1 || events[0].Type != queue.TypeTicketCancelled {
			t.Fatalf("AcceptFromCentral = %+v, %v; want TicketCancelled", events, err)
		}
	})
	t.Run("CalledIsNotChanged", func(t *testing.T) {
		f := newFixture(t)
		a1 := f.issue(monday(8, 0), "ausweis")
		f.call(monday(8, 2), "1", "anna")
		before := observe(f.st)
		events, err := f.st.AcceptFromCentral(monday(8, 3), request(a1.ID))
		wantCode(t, err, veedel.ECONFLICT)
		if len(events) != 0 || f.st.Tickets[a1.ID].Status != queue.StatusCalled {
			t.Errorf("called ticket: events %+v, status %s", events, f.st.Tickets[a1.ID].Status)
		}
		if after := observe(f.st); !reflect.DeepEqual(after, before) {
			t.Errorf("state changed:\n%v\n%v", before, after)
		}
	})
	t.Run("EndedOrUnknownIsRefused", func(t *testing.T) {
		f := newFixture(t)
		a1 := f.issue(monday(8, 0), "ausweis")
		f.call(monday(8, 2), "1", "anna")
		f.finish(monday(8, 4), "1")
		_, err := f.st.AcceptFromCentral(monday(8, 5), request(a1.ID))
		wantCode(t, err, veedel.ECONFLICT)
		_, err = f.st.AcceptFromCentral(monday(8, 5), request("2099-01-01/A999"))
		wantCode(t, err, veedel.ENOTFOUND)
	})
	if _, ok := queue.NewPayload(queue.TypeCancelRequested); !ok {
		t.Error("NewPayload(cancel_requested) unknown")
	}
}
