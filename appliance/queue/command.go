package queue

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/veedel/veedel"
)

// The commands below decide: they read the state, validate, and return the
// events to commit. They never change the state; the caller commits the
// events and then folds them in with Apply.

// IssueTicket issues a walk-in ticket for a service. token must be random
// and unguessable (the caller owns the randomness so that tests are
// repeatable).
func (s *State) IssueTicket(at time.Time, service, token, channel string) (Event, error) {
	return s.IssueTicketClass(at, service, token, channel, ClassWalkIn)
}

// IssueTicketClass issues a ticket of a priority class: ClassWalkIn or
// ClassAccessibility (appointments come from CheckIn).
func (s *State) IssueTicketClass(at time.Time, service, token, channel, class string) (Event, error) {
	if class != ClassWalkIn && class != ClassAccessibility {
		return Event{}, veedel.Errorf(veedel.EINVALID, "Unbekannte Klasse %q / unknown class %q: use \"\" or %q (appointments check in with their booking code)", class, class, ClassAccessibility)
	}
	return s.issue(at, service, token, channel, &TicketIssued{Class: class})
}

func (s *State) issue(at time.Time, service, token, channel string, p *TicketIssued) (Event, error) {
	svc := s.Services[service]
	if svc == nil {
		return Event{}, veedel.Errorf(veedel.EINVALID, "Unbekanntes Anliegen %q / unknown service", service)
	}
	if len(token) < 22 {
		return Event{}, veedel.Errorf(veedel.EINTERNAL, "ticket token too short")
	}
	day := s.DayOf(at)
	prefix := s.TicketPrefix(svc.ID)
	n := 1
	if day == s.Day {
		n = s.numbers[prefix] + 1
	}
	number := fmt.Sprintf("%s%03d", prefix, n)
	id := day + "/" + number
	p.ID, p.Token, p.Number, p.Service, p.Channel = id, token, number, svc.ID, channel
	return Event{Type: TypeTicketIssued, Entity: "ticket/" + id, At: at, Payload: p}, nil
}

// Appointment rules.
const (
	// AppointmentWindow: an appointment is due (called before everyone
	// else) from this long before its slot.
	AppointmentWindow = 5 * time.Minute
	// LateCheckIn is how long after its slot a booking may still check in.
	LateCheckIn = 15 * time.Minute
	// DefaultNoShowGrace is how long after a call a no-show may be marked.
	DefaultNoShowGrace = 3 * time.Minute
)

var bookingCodePattern = regexp.MustCompile(`^[A-Z0-9]{4,16}$`)

// NormalizeBookingCode makes a typed or scanned code comparable: upper
// case, without spaces and hyphens.
func NormalizeBookingCode(code string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-' || r == '\t' || r == '\n' || r == '\r':
			return -1
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, code)
}

// The horizon of a booking's slot: from a day back (an appointment the
// desk enters late the same day) to a year ahead. Further is a typo or an
// attack (9999-12-31), not an appointment.
const (
	MaxBookingPast  = 24 * time.Hour
	MaxBookingAhead = 366 * 24 * time.Hour
)

// CreateBooking records an appointment (desk, admin or seed) for a slot
// within the horizon above.
func (s *State) CreateBooking(at time.Time, code, service string, slot time.Time) (Event, error) {
	code = NormalizeBookingCode(code)
	if !bookingCodePattern.MatchString(code) {
		return Event{}, veedel.Errorf(veedel.EINVALID, "Buchungscode %q ungültig: 4–16 Buchstaben oder Ziffern / booking code %q invalid: 4–16 letters or digits", code, code)
	}
	if s.Services[service] == nil {
		return Event{}, veedel.Errorf(veedel.EINVALID, "Unbekanntes Anliegen %q / unknown service", service)
	}
	switch {
	case slot.IsZero():
		return Event{}, veedel.Errorf(veedel.EINVALID, "Termin ohne Uhrzeit / booking without a slot")
	case slot.Before(at.Add(-MaxBookingPast)):
		return Event{}, veedel.Errorf(veedel.EINVALID, "Der Termin %s liegt in der Vergangenheit / the slot %s lies in the past",
			slot.Format(time.DateOnly), slot.Format(time.DateOnly))
	case slot.After(at.Add(MaxBookingAhead)):
		return Event{}, veedel.Errorf(veedel.EINVALID, "Der Termin %s liegt mehr als ein Jahr voraus / the slot %s is more than a year ahead",
			slot.Format(time.DateOnly), slot.Format(time.DateOnly))
	}
	if b := s.bookings[code]; b != nil && b.Ticket != "" {
		return Event{}, veedel.Errorf(veedel.ECONFLICT, "Buchung %s ist schon eingecheckt / booking %s has checked in already", code, code)
	}
	if b := s.bookings[code]; b != nil && b.Online {
		return Event{}, veedel.Errorf(veedel.ECONFLICT, "Buchung %s wurde online gebucht und gehört der Zentrale / booking %s was sold online", code, code)
	}
	if b := s.bookings[code]; b == nil || b.Service != service || !b.Slot.Equal(slot) {
		if err := s.checkSiteShare(service, slot); err != nil {
			return Event{}, err
		}
	}
	return Event{Type: TypeBookingCreated, Entity: "booking/" + code, At: at,
		Payload: &BookingCreated{Code: code, Service: service, Slot: slot.UnixMilli()}}, nil
}

// CheckIn issues the ticket of an appointment. A second check-in with the
// same code returns the ticket of the first (existing non-nil, no event).
func (s *State) CheckIn(at time.Time, code, token, channel string) (e Event, existing *Ticket, err error) {
	return s.CheckInFor(at, code, "", token, channel)
}

// CheckInFor is CheckIn for a booking made for a workflow's record (ref,
// "exam/…": Booking.For resolved by its workflow; "" for none): the ticket
// carries ref, and when the record has a ticket of today already (its
// own code checked in first, IssueFor) that ticket is the answer, as for
// a second check-in with the booking's code.
func (s *State) CheckInFor(at time.Time, code, ref, token, channel string) (e Event, existing *Ticket, err error) {
	b := s.bookings[NormalizeBookingCode(code)]
	if b == nil {
		return Event{}, nil, veedel.Errorf(veedel.ENOTFOUND, "Buchungscode unbekannt / unknown booking code")
	}
	if t := s.Tickets[b.Ticket]; t != nil && b.Ticket != "" {
		return Event{}, t, nil
	}
	day := s.DayOf(at)
	if t := s.ticketFor(ref, day); t != nil {
		return Event{}, t, nil
	}
	if s.DayOf(b.Slot) != day {
		return Event{}, nil, veedel.Errorf(veedel.ECONFLICT, "Ihr Termin ist am %s, nicht heute / your appointment is on %s, not today",
			b.Slot.In(s.Site.Location).Format("02.01.2006 15:04"), b.Slot.In(s.Site.Location).Format("2006-01-02 15:04"))
	}
	if at.After(b.Slot.Add(LateCheckIn)) {
		return Event{}, nil, veedel.Errorf(veedel.ECONFLICT, "Ihr Termin um %s ist verpasst: bitte ziehen Sie eine Wartenummer / your appointment at %s was missed: please take a ticket",
			b.Slot.In(s.Site.Location).Format("15:04"), b.Slot.In(s.Site.Location).Format("15:04"))
	}
	e, err = s.issue(at, b.Service, token, channel, &TicketIssued{Class: ClassAppointment, Booking: b.Code, Slot: b.Slot.UnixMilli(), Ref: ref})
	return e, nil, err
}

// ticketFor returns the ticket of day issued for the record ref (by its
// own code or by a booking for it), nil when none or ref is "".
func (s *State) ticketFor(ref string, day string) *Ticket {
	if ref == "" {
		return nil
	}
	for _, t := range s.Tickets {
		if t.Ref == ref && t.Day == day {
			return t
		}
	}
	return nil
}

// IssueFor issues a ticket for a workflow's record (ref, e.g.
// "order/U…": a pickup) in service, once a day: a second check-in with the
// same record returns the first ticket (existing non-nil, no event).
func (s *State) IssueFor(at time.Time, ref, service, token, channel string) (e Event, existing *Ticket, err error) {
	if t := s.ticketFor(ref, s.DayOf(at)); t != nil {
		return Event{}, t, nil
	}
	e, err = s.issue(at, service, token, channel, &TicketIssued{Ref: ref})
	return e, nil, err
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

// CallNext calls the ticket the calling rule (NextFor) picks for the
// counter. It opens the counter for staff first if needed.
func (s *State) CallNext(at time.Time, counter, staff string) ([]Event, error) {
	c, err := s.counter(counter)
	if err != nil {
		return nil, err
	}
	if t := s.current(c, at); t != nil {
		return nil, veedel.Errorf(veedel.ECONFLICT, "%s bedient noch %s: erst abschließen oder „nicht erschienen“ / still serving %s: finish it or mark it as no-show", c.Name, t.Number, t.Number)
	}
	next := s.NextFor(c, at)
	if next == nil {
		return nil, veedel.Errorf(veedel.ECONFLICT, "Niemand wartet auf ein Anliegen von %s / nobody is waiting for %s", c.Name, c.Name)
	}
	today := s.DayOf(at)
	var events []Event
	if !c.Open || c.Staff != staff || s.Day != today {
		events = append(events, Event{Type: TypeCounterOpened, Entity: "counter/" + c.ID, At: at,
			Payload: &CounterOpened{Counter: c.ID, Staff: staff}})
	}
	return append(events, Event{Type: TypeTicketCalled, Entity: "ticket/" + next.ID, At: at,
		Payload: &TicketCalled{ID: next.ID, Counter: c.ID}}), nil
}

// The calling rule. Tiers, first called first:
const (
	tierDue           = iota // an appointment from AppointmentWindow before its slot: earliest slot first
	tierAccessibility        // accessibility needs: longest waiting first
	tierWalkIn               // everyone else: longest waiting first
	tierEarly                // an appointment checked in early: only when nobody else waits
)

// callTier is a waiting ticket's tier at time at.
func callTier(class string, slot, at time.Time) int {
	switch {
	case class == ClassAppointment && !slot.IsZero():
		if at.Before(slot.Add(-AppointmentWindow)) {
			return tierEarly
		}
		return tierDue
	case class == ClassAccessibility:
		return tierAccessibility
	}
	return tierWalkIn
}

// pickNext is the calling rule CallNext uses (the wait estimator keeps an
// indexed copy for speed, held equal to this one by
// TestEstimateMatchesReference): of n waiting tickets in order of
// arrival, cand tells which the counter may call (with their class and
// slot); pickNext returns the index of the one called at time at and its
// tier, or -1. Due appointments go first (earliest slot first), then
// accessibility needs, then the longest waiting; an appointment checked in
// early waits for its window unless nobody else waits. A counter never
// idles while someone it may call waits.
func pickNext(n int, at time.Time, cand func(i int) (ok bool, class string, slot time.Time)) (int, int) {
	best, bestTier := -1, 0
	var bestSlot time.Time
	for i := range n {
		ok, class, slot := cand(i)
		if !ok {
			continue
		}
		tier := callTier(class, slot, at)
		if best < 0 || tier < bestTier || (tier == bestTier && (tier == tierDue || tier == tierEarly) && slot.Before(bestSlot)) {
			best, bestTier, bestSlot = i, tier, slot
		}
	}
	return best, bestTier
}

// MayCall reports whether a counter may call a ticket: one transferred to
// a counter waits for that counter only, any other for the counters
// serving its service.
func (c *Counter) MayCall(t *Ticket) bool {
	if t.Target != "" {
		return t.Target == c.ID
	}
	return c.Serves(t.Service)
}

// NextFor is the ticket counter c calls next at time at, or nil.
func (s *State) NextFor(c *Counter, at time.Time) *Ticket {
	today := s.DayOf(at)
	i, _ := pickNext(len(s.waiting), at, func(i int) (bool, string, time.Time) {
		t := s.Tickets[s.waiting[i]]
		return t.Day == today && c.MayCall(t), t.Class, t.Slot
	})
	if i < 0 {
		return nil
	}
	return s.Tickets[s.waiting[i]]
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

// NoShow marks the counter's current ticket as not having come, once the
// grace period (NoShowGrace) since its call has passed and the citizen has
// not arrived at the counter.
func (s *State) NoShow(at time.Time, counter string) (Event, error) {
	c, t, err := s.serving(counter, at)
	if err != nil {
		return Event{}, err
	}
	if !t.StartedAt.IsZero() {
		return Event{}, veedel.Errorf(veedel.ECONFLICT, "%s ist schon am Platz (Bedienung begonnen): bitte abschließen / %s has arrived (service started): finish it", t.Number, t.Number)
	}
	grace := s.NoShowGrace
	switch {
	case grace == 0:
		grace = DefaultNoShowGrace
	case grace < 0:
		grace = 0 // no grace at all (tests of other rules)
	}
	called := t.LastCalledAt
	if called.IsZero() {
		called = t.CalledAt
	}
	if wait := called.Add(grace).Sub(at); wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		return Event{}, veedel.Errorf(veedel.ECONFLICT, "„Nicht erschienen“ erst %s nach dem Aufruf: noch %d s warten oder erneut aufrufen / no-show only %s after the call: wait %d s more or call again",
			graceText(grace), secs, grace, secs)
	}
	return Event{Type: TypeTicketNoShow, Entity: "ticket/" + t.ID, At: at,
		Payload: &TicketNoShow{ID: t.ID, Counter: c.ID}}, nil
}

func graceText(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d Min.", int(d/time.Minute))
	}
	return fmt.Sprintf("%d s", int(d/time.Second))
}

// Start records that the called citizen arrived at the counter.
func (s *State) Start(at time.Time, counter string) (Event, error) {
	c, t, err := s.serving(counter, at)
	if err != nil {
		return Event{}, err
	}
	if !t.StartedAt.IsZero() {
		return Event{}, veedel.Errorf(veedel.ECONFLICT, "Bedienung von %s läuft schon seit %s / service of %s started at %s already",
			t.Number, t.StartedAt.In(s.Site.Location).Format("15:04"), t.Number, t.StartedAt.In(s.Site.Location).Format("15:04"))
	}
	return Event{Type: TypeTicketStarted, Entity: "ticket/" + t.ID, At: at, Payload: &TicketStarted{ID: t.ID, Counter: c.ID}}, nil
}

// Park sets the counter's ticket aside; the counter may call it back.
func (s *State) Park(at time.Time, counter string) (Event, error) {
	c, t, err := s.serving(counter, at)
	if err != nil {
		return Event{}, err
	}
	return Event{Type: TypeTicketParked, Entity: "ticket/" + t.ID, At: at, Payload: &TicketParked{ID: t.ID, Counter: c.ID}}, nil
}

// CallBack calls a ticket the counter parked, by ID or number. The counter
// must be free; it is opened for staff if needed.
func (s *State) CallBack(at time.Time, counter, staff, ticket string) ([]Event, error) {
	c, err := s.counter(counter)
	if err != nil {
		return nil, err
	}
	if cur := s.current(c, at); cur != nil {
		return nil, veedel.Errorf(veedel.ECONFLICT, "%s bedient noch %s: erst abschließen oder zurückstellen / still serving %s: finish or park it first", c.Name, cur.Number, cur.Number)
	}
	today := s.DayOf(at)
	t := s.Tickets[ticket]
	if t == nil {
		for _, p := range s.Parked(c.ID) {
			if strings.EqualFold(p.Number, ticket) {
				t = p
			}
		}
	}
	if t == nil || t.Day != today || t.Status != StatusParked {
		return nil, veedel.Errorf(veedel.ECONFLICT, "%q ist nicht zurückgestellt / %q is not parked", ticket, ticket)
	}
	if t.Counter != c.ID {
		return nil, veedel.Errorf(veedel.ECONFLICT, "%s wurde an einem anderen Platz zurückgestellt / %s was parked at another counter", t.Number, t.Number)
	}
	var events []Event
	if !c.Open || c.Staff != staff || s.Day != today {
		events = append(events, Event{Type: TypeCounterOpened, Entity: "counter/" + c.ID, At: at,
			Payload: &CounterOpened{Counter: c.ID, Staff: staff}})
	}
	return append(events, Event{Type: TypeTicketCalledBack, Entity: "ticket/" + t.ID, At: at,
		Payload: &TicketCalledBack{ID: t.ID, Counter: c.ID}}), nil
}

// Transfer hands the counter's ticket on, to another service or to one
// counter (exactly one of them). It waits again with its original arrival
// time.
func (s *State) Transfer(at time.Time, counter, service, toCounter string) (Event, error) {
	c, t, err := s.serving(counter, at)
	if err != nil {
		return Event{}, err
	}
	p := &TicketTransferred{ID: t.ID, Counter: c.ID}
	switch {
	case (service == "") == (toCounter == ""):
		return Event{}, veedel.Errorf(veedel.EINVALID, "Entweder ein Anliegen oder einen Platz angeben / give either a service or a counter")
	case service != "":
		if s.Services[service] == nil {
			return Event{}, veedel.Errorf(veedel.EINVALID, "Unbekanntes Anliegen %q / unknown service", service)
		}
		if service == t.Service {
			return Event{}, veedel.Errorf(veedel.ECONFLICT, "%s wartet schon auf dieses Anliegen / %s is for this service already", t.Number, t.Number)
		}
		p.Service = service
	default:
		to := s.Counters[toCounter]
		if to == nil {
			return Event{}, veedel.Errorf(veedel.EINVALID, "Unbekannter Platz %q / unknown counter", toCounter)
		}
		if to.ID == c.ID {
			return Event{}, veedel.Errorf(veedel.ECONFLICT, "%s ist dieser Platz / that is this counter", to.Name)
		}
		p.Service, p.ToCounter = t.Service, to.ID
	}
	return Event{Type: TypeTicketTransferred, Entity: "ticket/" + t.ID, At: at, Payload: p}, nil
}

// Cancel gives up a waiting (or parked) ticket at the citizen's request,
// by its token.
func (s *State) Cancel(at time.Time, token string) (Event, error) {
	t := s.TicketByToken(token)
	if t == nil {
		return Event{}, veedel.Errorf(veedel.ENOTFOUND, "Ticket nicht gefunden / ticket not found")
	}
	if t.Day != s.DayOf(at) || (t.Status != StatusWaiting && t.Status != StatusParked) {
		return Event{}, veedel.Errorf(veedel.ECONFLICT, "%s kann nicht mehr storniert werden (%s) / %s can no longer be cancelled (%s)", t.Number, t.Status, t.Number, t.Status)
	}
	return Event{Type: TypeTicketCancelled, Entity: "ticket/" + t.ID, At: at, Payload: &TicketCancelled{ID: t.ID}}, nil
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
