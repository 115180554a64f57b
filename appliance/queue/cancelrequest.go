package queue

import (
	"time"

	"github.com/veedel/veedel"
)

// AcceptCancel decides a cancellation the citizen asked for online (on
// central's status page): the site owns its tickets, so it alone decides.
// A ticket still waiting or parked today is cancelled (TicketCancelled, as
// at the kiosk); one cancelled already changes nothing (a request sent
// twice cancels once); one called, ended or of another day is refused with
// ECONFLICT: the counter is serving it, and the citizen sees that status.
func (s *State) AcceptCancel(at time.Time, p CancelRequested) ([]Event, error) {
	t := s.Tickets[p.ID]
	if t == nil {
		return nil, veedel.Errorf(veedel.ENOTFOUND, "Ticket %q nicht gefunden / ticket %q not found", p.ID, p.ID)
	}
	if t.Status == StatusCancelled {
		return nil, nil
	}
	e, err := s.Cancel(at, t.Token)
	if err != nil {
		return nil, err
	}
	return []Event{e}, nil
}
