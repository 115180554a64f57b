package queue

import (
	"fmt"
	"time"

	"github.com/veedel/veedel"
)

// The commands below decide: they read the state, validate, and return the
// events to commit. They never change the state; the caller commits the
// events and then folds them in with Apply.

// IssueTicket issues a ticket for a service. token must be random and
// unguessable (the caller owns the randomness so that tests are repeatable).
func (s *State) IssueTicket(at time.Time, service, token, channel string) (Event, error) {
	svc := s.Services[service]
	if svc == nil {
		return Event{}, veedel.Errorf(veedel.EINVALID, "Unbekanntes Anliegen %q / unknown service", service)
	}
	if len(token) < 22 {
		return Event{}, veedel.Errorf(veedel.EINTERNAL, "ticket token too short")
	}
	day := s.DayOf(at)
	n := 1
	if day == s.Day {
		n = s.numbers[svc.Prefix] + 1
	}
	number := fmt.Sprintf("%s%03d", svc.Prefix, n)
	id := day + "/" + number
	return Event{Type: TypeTicketIssued, Entity: "ticket/" + id, At: at,
		Payload: &TicketIssued{ID: id, Token: token, Number: number, Service: svc.ID, Channel: channel}}, nil
}

// OpenCounter staffs a counter. Opening a counter someone else staffs takes
// it over: clerks swap counters during the day.
func (s *State) OpenCounter(at time.Time, counter, staff string) (Event, error) {
	c, err := s.counter(counter)
	if err != nil {
		return Event{}, err
	}
	if c.Open && c.Staff == staff && s.Day == s.DayOf(at) {
		return Event{}, veedel.Errorf(veedel.ECONFLICT, "%s ist bereits geöffnet / already open", c.Name)
	}
	return Event{Type: TypeCounterOpened, Entity: "counter/" + c.ID, At: at,
		Payload: &CounterOpened{Counter: c.ID, Staff: staff}}, nil
}

// CloseCounter closes a counter that serves nobody at the moment.
func (s *State) CloseCounter(at time.Time, counter string) (Event, error) {
	c, err := s.counter(counter)
	if err != nil {
		return Event{}, err
	}
	if t := s.current(c, at); t != nil {
		return Event{}, veedel.Errorf(veedel.ECONFLICT, "%s bedient noch %s: erst abschließen / still serving %s", c.Name, t.Number, t.Number)
	}
	return Event{Type: TypeCounterClosed, Entity: "counter/" + c.ID, At: at, Payload: &CounterClosed{Counter: c.ID}}, nil
}

// CallNext calls the ticket that has waited longest among the services the
// counter serves. It opens the counter for staff first if needed.
func (s *State) CallNext(at time.Time, counter, staff string) ([]Event, error) {
	c, err := s.counter(counter)
	if err != nil {
		return nil, err
	}
	if t := s.current(c, at); t != nil {
		return nil, veedel.Errorf(veedel.ECONFLICT, "%s bedient noch %s: erst abschließen oder „nicht erschienen“ / still serving %s: finish it or mark it as no-show", c.Name, t.Number, t.Number)
	}
	var next *Ticket
	today := s.DayOf(at)
	for _, id := range s.waiting {
		if t := s.Tickets[id]; t.Day == today && c.Serves(t.Service) {
			next = t
			break
		}
	}
	if next == nil {
		return nil, veedel.Errorf(veedel.ECONFLICT, "Niemand wartet auf ein Anliegen von %s / nobody is waiting for %s", c.Name, c.Name)
	}
	var events []Event
	if !c.Open || c.Staff != staff || s.Day != today {
		events = append(events, Event{Type: TypeCounterOpened, Entity: "counter/" + c.ID, At: at,
			Payload: &CounterOpened{Counter: c.ID, Staff: staff}})
	}
	return append(events, Event{Type: TypeTicketCalled, Entity: "ticket/" + next.ID, At: at,
		Payload: &TicketCalled{ID: next.ID, Counter: c.ID}}), nil
}

// Recall calls the counter's current ticket again, at most MaxRecalls times.
func (s *State) Recall(at time.Time, counter string) (Event, error) {
	c, t, err := s.serving(counter, at)
	if err != nil {
		return Event{}, err
	}
	if t.Recalls >= MaxRecalls {
		return Event{}, veedel.Errorf(veedel.ECONFLICT, "%s wurde schon %d-mal erneut aufgerufen: bitte „nicht erschienen“ / recalled %d times already: mark as no-show", t.Number, MaxRecalls, MaxRecalls)
	}
	return Event{Type: TypeTicketRecalled, Entity: "ticket/" + t.ID, At: at,
		Payload: &TicketRecalled{ID: t.ID, Counter: c.ID}}, nil
}

// Finish ends the service of the counter's current ticket.
func (s *State) Finish(at time.Time, counter string) (Event, error) {
	c, t, err := s.serving(counter, at)
	if err != nil {
		return Event{}, err
	}
	return Event{Type: TypeTicketFinished, Entity: "ticket/" + t.ID, At: at,
		Payload: &TicketFinished{ID: t.ID, Counter: c.ID}}, nil
}

// NoShow marks the counter's current ticket as not having come.
func (s *State) NoShow(at time.Time, counter string) (Event, error) {
	c, t, err := s.serving(counter, at)
	if err != nil {
		return Event{}, err
	}
	return Event{Type: TypeTicketNoShow, Entity: "ticket/" + t.ID, At: at,
		Payload: &TicketNoShow{ID: t.ID, Counter: c.ID}}, nil
}

func (s *State) counter(id string) (*Counter, error) {
	c := s.Counters[id]
	if c == nil {
		return nil, veedel.Errorf(veedel.ENOTFOUND, "Unbekannter Platz %q / unknown counter", id)
	}
	return c, nil
}

// current returns the ticket a counter serves, ignoring one left over from
// an earlier day (that one expires when the day's first event is applied).
func (s *State) current(c *Counter, at time.Time) *Ticket {
	t := s.Tickets[c.Current]
	if t == nil || t.Status != StatusCalled || t.Day != s.DayOf(at) {
		return nil
	}
	return t
}

func (s *State) serving(counter string, at time.Time) (*Counter, *Ticket, error) {
	c, err := s.counter(counter)
	if err != nil {
		return nil, nil, err
	}
	t := s.current(c, at)
	if t == nil {
		return nil, nil, veedel.Errorf(veedel.ECONFLICT, "%s hat gerade niemanden aufgerufen / no ticket is being served at %s", c.Name, c.Name)
	}
	return c, t, nil
}
