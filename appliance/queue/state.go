package queue

import (
	"slices"
	"strings"
	"time"
)

// Ticket statuses.
const (
	StatusWaiting = "waiting" // in the queue
	StatusCalled  = "called"  // called to a counter, being served
	StatusDone    = "done"    // served
	StatusNoShow  = "no_show" // called, did not come
	StatusExpired = "expired" // still open when the day ended
	StatusParked  = "parked"  // set aside by its counter, to be called back
	// StatusCancelled: the citizen gave the ticket up.
	StatusCancelled = "cancelled"
)

// MaxRecalls is how often a clerk may call the same ticket again.
const MaxRecalls = 3

// recentCalls is how many calls the state keeps for the call display.
const recentCalls = 8

// serviceSamples is how many recent service durations feed an estimate.
const serviceSamples = 20

// Site describes the site a State belongs to.
type Site struct {
	ID       string
	Name     string
	Location *time.Location
	Hours    []OpeningHours
	// WalkIn are the walk-in hours within Hours; none: walk-ins whenever
	// open (SiteDescribed.WalkIn).
	WalkIn []OpeningHours
}

// Service is something citizens come for, with its ticket prefix.
type Service struct {
	ID              string
	Name            string
	NameEN          string
	Prefix          string
	ExpectedMinutes int
	// Group is the service group it belongs to, or "" (ServiceDefined.Group).
	Group string `json:",omitempty"`
	// durations holds the most recent service durations, oldest first.
	durations []time.Duration
}

// Group is a service group: its services share its ticket prefix and one
// number sequence a day.
type Group struct {
	ID     string
	Name   string
	NameEN string
	Prefix string
}

// Counter is a place where a clerk serves citizens.
type Counter struct {
	ID       string
	Name     string
	Services []string
	Open     bool
	Staff    string
	Current  string // ID of the ticket being served, or ""
}

// Serves reports whether the counter serves a service.
func (c *Counter) Serves(service string) bool { return slices.Contains(c.Services, service) }

// Ticket is one citizen's place in the queue.
type Ticket struct {
	ID         string
	Day        string // YYYY-MM-DD in the site's time zone
	Token      string
	Number     string
	Service    string
	Channel    string
	Status     string
	Counter    string
	Recalls    int
	IssuedAt   time.Time
	CalledAt   time.Time
	FinishedAt time.Time
	// Class is the priority class (ClassWalkIn, ClassAppointment,
	// ClassAccessibility). An appointment has its Booking code and Slot.
	Class   string    `json:",omitempty"`
	Booking string    `json:",omitempty"`
	Slot    time.Time `json:",omitzero"`
	// Ref is the workflow record it was issued for ("order/U…"), if any.
	Ref string `json:",omitempty"`
	// Target is the one counter a counter-targeted transfer sent it to.
	Target string `json:",omitempty"`
	// FirstCalledAt is the first call (the end of the citizen's wait);
	// CalledAt the latest call, LastCalledAt also counts a call-back of a
	// parked ticket (the no-show grace runs from it). StartedAt is when
	// the citizen arrived at the counter (zero: not recorded).
	FirstCalledAt time.Time `json:",omitzero"`
	LastCalledAt  time.Time `json:",omitzero"`
	StartedAt     time.Time `json:",omitzero"`
	// ShownMinutes and ShownP90 are the estimate the kiosk showed when the
	// ticket was issued (TicketIssued's Estimate), nil when not recorded;
	// the estimator calibrates itself with them.
	ShownMinutes *int `json:",omitempty"`
	ShownP90     *int `json:",omitempty"`
}

// Booking is an appointment a citizen can check in with.
type Booking struct {
	Code    string
	Service string
	Slot    time.Time
	Ticket  string // the ticket its check-in issued, or ""
	Online  bool   // sold by central from its share (slots.go)
	For     string `json:",omitempty"` // the record it is for (BookingCreated.For), or ""
}

// Call is one entry of the call display.
type Call struct {
	Ticket  string
	Number  string
	Counter string
	At      time.Time
	Recall  bool
}

// State is the fold of a site's queue events. The zero value is not usable;
// call NewState. State is not safe for concurrent use: its owner serialises.
type State struct {
	Site     Site
	Services map[string]*Service
	Counters map[string]*Counter
	Tickets  map[string]*Ticket
	// Groups are the service groups by ID (GroupDefined).
	Groups map[string]*Group
	// ServiceOrder, CounterOrder and GroupOrder keep the order of
	// definition for display.
	ServiceOrder []string
	CounterOrder []string
	GroupOrder   []string
	// Day is the current business day; numbers restart each day.
	Day     string
	byToken map[string]string
	waiting []string // IDs of waiting tickets, in order of arrival
	numbers map[string]int
	recent  []Call
	// called lists the tickets whose CalledAt was set since the day began
	// (each once), so that the estimator's copy need not walk every ticket
	// of today and yesterday.
	called []string
	// bookings are the appointments known to the site, by code.
	bookings map[string]*Booking
	// NoShowGrace is how long after a call a clerk must wait before
	// marking a no-show (zero: DefaultNoShowGrace). It is configuration,
	// read only by the NoShow command, never by Apply.
	NoShowGrace time.Duration
	// last is the latest event time folded in: the site's "now" for wait
	// estimates (from its own clock, never the reader's).
	last time.Time
	// est caches the wait estimates of one Applied count.
	est *estimateCache
	// published, when set, are the estimates s answers from instead
	// (published.go).
	published *Estimates
	// learn is what the estimator learned over the days (estimate_learn.go).
	learn *Learned
	// shares are the services' online share settings (onlineshare.go).
	shares map[string]*ShareHistory
	// AtCentral says the fold is central's: the online share is the
	// newest setting, not the site's largest unacknowledged one.
	AtCentral bool
	// Applied counts the events folded in, for diagnostics and tests.
	Applied uint64
	// Devices are the site's devices by name, DeviceOrder the order in
	// which they first reported (device.go).
	Devices     map[string]*Device
	DeviceOrder []string
}

// NewState returns an empty state for a site.
func NewState(siteID string) *State {
	return &State{
		Site:     Site{ID: siteID, Name: siteID, Location: berlin()},
		Services: map[string]*Service{},
		Counters: map[string]*Counter{},
		Tickets:  map[string]*Ticket{},
		Groups:   map[string]*Group{},
		byToken:  map[string]string{},
		numbers:  map[string]int{},
		bookings: map[string]*Booking{},
		est:      &estimateCache{},
	}
}

func berlin() *time.Location {
	if loc, err := time.LoadLocation("Europe/Berlin"); err == nil {
		return loc
	}
	return time.UTC
}

// TicketPrefix is the prefix of a service's ticket numbers: its group's
// when it belongs to a group the site knows, else its own.
func (s *State) TicketPrefix(service string) string {
	svc := s.Services[service]
	if svc == nil {
		return ""
	}
	if g := s.Groups[svc.Group]; g != nil && svc.Group != "" {
		return g.Prefix
	}
	return svc.Prefix
}

// GroupOf returns the group a service belongs to, or nil.
func (s *State) GroupOf(service string) *Group {
	if svc := s.Services[service]; svc != nil && svc.Group != "" {
		return s.Groups[svc.Group]
	}
	return nil
}

// DayOf returns the business day of t in the site's time zone.
func (s *State) DayOf(t time.Time) string { return t.In(s.Site.Location).Format(time.DateOnly) }

// TicketByToken returns the ticket behind a QR token, or nil.
func (s *State) TicketByToken(token string) *Ticket {
	if id, ok := s.byToken[token]; ok {
		return s.Tickets[id]
	}
	return nil
}

// Waiting returns the waiting tickets in order of arrival.
func (s *State) Waiting() []*Ticket {
	out := make([]*Ticket, 0, len(s.waiting))
	for _, id := range s.waiting {
		out = append(out, s.Tickets[id])
	}
	return out
}

// Parked returns the parked tickets of today, in order of arrival; with a
// counter, only those it parked.
func (s *State) Parked(counter string) []*Ticket {
	var out []*Ticket
	for _, t := range s.Tickets {
		if t.Status == StatusParked && t.Day == s.Day && (counter == "" || t.Counter == counter) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *Ticket) int { return compareArrival(a, b) })
	return out
}

// BookingByCode returns a booking, or nil; the code is normalised first.
func (s *State) BookingByCode(code string) *Booking { return s.bookings[NormalizeBookingCode(code)] }

// compareArrival orders tickets by arrival (issue time, then ID).
func compareArrival(a, b *Ticket) int {
	if c := a.IssuedAt.Compare(b.IssuedAt); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// RecentCalls returns the latest calls, newest first.
func (s *State) RecentCalls() []Call {
	out := slices.Clone(s.recent)
	slices.Reverse(out)
	return out
}

// Apply folds one event into the state. It is deterministic: the same events
// in the same order give the same state on every node. Unknown event types
// are ignored so that an older node can fold a newer node's log. Payloads
// are pointers, as NewPayload and the commands create them.
func (s *State) Apply(e Event) {
	s.Applied++
	if known(e.Payload) && e.At.After(s.last) {
		s.last = e.At
	}
	switch p := e.Payload.(type) {
	case *DeviceReported:
		s.applyDevice(p, e.At)
	case *SiteDescribed:
		s.Site.ID, s.Site.Name, s.Site.Hours = p.ID, p.Name, slices.Clone(p.Hours)
		s.Site.WalkIn = slices.Clone(p.WalkIn)
		if loc, err := time.LoadLocation(p.TimeZone); err == nil && p.TimeZone != "" {
			s.Site.Location = loc
		}
	case *ServiceDefined:
		svc, ok := s.Services[p.ID]
		if !ok {
			svc = &Service{ID: p.ID}
			s.Services[p.ID] = svc
			s.ServiceOrder = append(s.ServiceOrder, p.ID)
		}
		svc.Name, svc.NameEN, svc.Prefix, svc.ExpectedMinutes = p.Name, p.NameEN, p.Prefix, p.ExpectedMinutes
		svc.Group = p.Group
	case *GroupDefined:
		g, ok := s.Groups[p.ID]
		if !ok {
			g = &Group{ID: p.ID}
			s.Groups[p.ID] = g
			s.GroupOrder = append(s.GroupOrder, p.ID)
		}
		g.Name, g.NameEN, g.Prefix = p.Name, p.NameEN, p.Prefix
	case *CounterDefined:
		c, ok := s.Counters[p.ID]
		if !ok {
			c = &Counter{ID: p.ID}
			s.Counters[p.ID] = c
			s.CounterOrder = append(s.CounterOrder, p.ID)
		}
		c.Name, c.Services = p.Name, slices.Clone(p.Services)
	case *CounterOpened:
		s.advanceDay(e.At)
		if c := s.Counters[p.Counter]; c != nil {
			if !c.Open {
				s.noteOpened(c, e.At)
			}
			c.Open, c.Staff = true, p.Staff
		}
	case *CounterClosed:
		s.advanceDay(e.At)
		if c := s.Counters[p.Counter]; c != nil {
			if c.Open {
				s.noteClosed(c, e.At)
			}
			c.Open, c.Staff = false, ""
		}
	case *TicketIssued:
		s.advanceDay(e.At)
		t := &Ticket{ID: p.ID, Day: s.DayOf(e.At), Token: p.Token, Number: p.Number,
			Service: p.Service, Channel: p.Channel, Status: StatusWaiting, IssuedAt: e.At,
			Class: p.Class, Booking: p.Booking, Ref: p.Ref, ShownMinutes: p.EstimateMinutes, ShownP90: p.EstimateP90}
		if p.Slot != 0 {
			t.Slot = time.UnixMilli(p.Slot)
		}
		if b := s.bookings[p.Booking]; b != nil && p.Booking != "" {
			b.Ticket = t.ID
		}
		s.Tickets[t.ID] = t
		s.byToken[t.Token] = t.ID
		s.waiting = append(s.waiting, t.ID)
		s.countNumber(p.Number, t.Service)
	case *TicketCalled:
		s.advanceDay(e.At)
		t, c := s.Tickets[p.ID], s.Counters[p.Counter]
		if t == nil || c == nil {
			return
		}
		s.removeWaiting(t.ID)
		if t.CalledAt.IsZero() {
			s.called = append(s.called, t.ID)
		}
		t.Status, t.Counter, t.CalledAt, t.LastCalledAt = StatusCalled, c.ID, e.At, e.At
		t.StartedAt, t.Target, t.Recalls = time.Time{}, "", 0
		if t.FirstCalledAt.IsZero() {
			t.FirstCalledAt = e.At
			s.noteFirstCall(t, e.At)
		}
		c.Current = t.ID
		s.addCall(Call{Ticket: t.ID, Number: t.Number, Counter: c.ID, At: e.At})
	case *TicketRecalled:
		s.advanceDay(e.At)
		if t := s.Tickets[p.ID]; t != nil {
			t.Recalls++
			s.addCall(Call{Ticket: t.ID, Number: t.Number, Counter: p.Counter, At: e.At, Recall: true})
		}
	case *TicketFinished:
		s.advanceDay(e.At)
		t := s.Tickets[p.ID]
		if t == nil {
			return
		}
		s.closeTicket(t, StatusDone, e.At)
		from := t.CalledAt
		if !t.StartedAt.IsZero() {
			from = t.StartedAt
		}
		if svc := s.Services[t.Service]; svc != nil && !from.IsZero() {
			svc.durations = append(svc.durations, e.At.Sub(from))
			s.noteDuration(svc.ID, e.At.Sub(from))
			if len(svc.durations) > serviceSamples {
				svc.durations = svc.durations[len(svc.durations)-serviceSamples:]
			}
		}
	case *TicketNoShow:
		s.advanceDay(e.At)
		if t := s.Tickets[p.ID]; t != nil {
			s.closeTicket(t, StatusNoShow, e.At)
		}
	case *BookingCreated:
		b := s.bookings[p.Code]
		if b == nil {
			b = &Booking{Code: p.Code}
			s.bookings[p.Code] = b
		}
		b.Service, b.Slot, b.Online, b.For = p.Service, time.UnixMilli(p.Slot), p.Online, p.For
	case *BookingCancelled:
		if b := s.bookings[p.Code]; b != nil && b.Ticket == "" {
			delete(s.bookings, p.Code)
		}
	case *TicketStarted:
		s.advanceDay(e.At)
		if t := s.Tickets[p.ID]; t != nil && t.Status == StatusCalled {
			t.StartedAt = e.At
		}
	case *TicketParked:
		s.advanceDay(e.At)
		t := s.Tickets[p.ID]
		if t == nil {
			return
		}
		if c := s.Counters[t.Counter]; c != nil && c.Current == t.ID {
			c.Current = ""
		}
		t.Status, t.Counter, t.StartedAt = StatusParked, p.Counter, time.Time{}
	case *TicketCalledBack:
		s.advanceDay(e.At)
		t, c := s.Tickets[p.ID], s.Counters[p.Counter]
		if t == nil || c == nil {
			return
		}
		t.Status, t.Counter, t.LastCalledAt, t.Recalls = StatusCalled, c.ID, e.At, 0
		c.Current = t.ID
		s.addCall(Call{Ticket: t.ID, Number: t.Number, Counter: c.ID, At: e.At})
	case *TicketTransferred:
		s.advanceDay(e.At)
		t := s.Tickets[p.ID]
		if t == nil {
			return
		}
		if c := s.Counters[t.Counter]; c != nil && c.Current == t.ID {
			c.Current = ""
		}
		if p.Service != "" {
			t.Service = p.Service
		}
		t.Status, t.Counter, t.Target, t.StartedAt, t.Recalls = StatusWaiting, "", p.ToCounter, time.Time{}, 0
		s.insertWaiting(t)
	case *StaffingPlanned:
		s.applyStaffingPlanned(p)
	case *OnlineShareSet:
		s.applyOnlineShareSet(p)
	case *OnlineShareAcked:
		s.applyOnlineShareAcked(p)
	case *TicketCancelled:
		s.advanceDay(e.At)
		if t := s.Tickets[p.ID]; t != nil {
			s.closeTicket(t, StatusCancelled, e.At)
		}
	}
}

// countNumber records an issued ticket number in its prefix's sequence of
// the day. The prefix is the one the number was issued with (a service may
// have changed its group since), so numbers stay unique per day and prefix
// however services move between groups. A number not of the form
// prefix+digits counts one more for the service's prefix, as before groups.
func (s *State) countNumber(number, service string) {
	i := len(number)
	for i > 0 && number[i-1] >= '0' && number[i-1] <= '9' {
		i--
	}
	if i > 0 && i < len(number) && len(number)-i <= 9 {
		n := 0
		for _, r := range number[i:] {
			n = n*10 + int(r-'0')
		}
		s.numbers[number[:i]] = max(s.numbers[number[:i]], n)
		return
	}
	if svc := s.Services[service]; svc != nil {
		s.numbers[s.TicketPrefix(service)]++
	}
}

// insertWaiting puts a ticket back into the waiting list at its place by
// arrival, so that a transfer keeps the original arrival time.
func (s *State) insertWaiting(t *Ticket) {
	s.removeWaiting(t.ID)
	i := len(s.waiting)
	for j, id := range s.waiting {
		if compareArrival(t, s.Tickets[id]) < 0 {
			i = j
			break
		}
	}
	s.waiting = slices.Insert(s.waiting, i, t.ID)
}

// known reports whether Apply folds a payload: only those move the state's
// clock, so that an event of a newer version changes nothing here.
func known(p any) bool {
	switch p.(type) {
	case *SiteDescribed, *ServiceDefined, *CounterDefined, *CounterOpened, *CounterClosed,
		*TicketIssued, *TicketCalled, *TicketRecalled, *TicketFinished, *TicketNoShow,
		*BookingCreated, *TicketStarted, *TicketParked, *TicketCalledBack, *TicketTransferred, *TicketCancelled,
		*DeviceReported, *GroupDefined, *StaffingPlanned, *OnlineShareSet, *OnlineShareAcked:
		return true
	}
	return false
}

func (s *State) closeTicket(t *Ticket, status string, at time.Time) {
	s.removeWaiting(t.ID)
	if c := s.Counters[t.Counter]; c != nil && c.Current == t.ID {
		c.Current = ""
	}
	t.Status, t.FinishedAt = status, at
}

func (s *State) removeWaiting(id string) {
	if i := slices.Index(s.waiting, id); i >= 0 {
		s.waiting = slices.Delete(s.waiting, i, i+1)
	}
}

func (s *State) addCall(c Call) {
	s.recent = append(s.recent, c)
	if len(s.recent) > recentCalls {
		s.recent = s.recent[len(s.recent)-recentCalls:]
	}
}

// advanceDay starts a new business day when at falls on a later day: tickets
// still open expire, counters close, numbering restarts, and tickets older
// than the previous day are forgotten so the state stays small.
func (s *State) advanceDay(at time.Time) {
	day := s.DayOf(at)
	if day <= s.Day {
		return
	}
	previous := s.Day
	s.Day = day
	if previous == "" {
		return
	}
	s.endStaffDay(previous)
	for _, t := range s.Tickets {
		if t.Status == StatusWaiting || t.Status == StatusCalled || t.Status == StatusParked {
			t.Status, t.FinishedAt = StatusExpired, at
		}
		if t.Day < previous {
			delete(s.Tickets, t.ID)
			delete(s.byToken, t.Token)
		}
	}
	s.waiting = s.waiting[:0]
	for _, c := range s.Counters {
		c.Open, c.Staff, c.Current = false, "", ""
	}
	clear(s.numbers)
	s.recent = nil
	s.called = nil
	// Bookings of days before the new one are over.
	for code, b := range s.bookings {
		if s.DayOf(b.Slot) < day {
			delete(s.bookings, code)
		}
	}
}

// Now is the latest event time folded in: the site's "now" as far as the
// state knows.
func (s *State) Now() time.Time { return s.last }

// Bookings returns the known bookings, ordered by slot and code.
func (s *State) Bookings() []Booking {
	out := make([]Booking, 0, len(s.bookings))
	for _, b := range s.bookings {
		out = append(out, *b)
	}
	slices.SortFunc(out, func(a, b Booking) int {
		if c := a.Slot.Compare(b.Slot); c != 0 {
			return c
		}
		return strings.Compare(a.Code, b.Code)
	})
	return out
}
