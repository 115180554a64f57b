package queue

import "slices"

// EstimateCopy returns a copy of s for ComputeEstimates to work on outside
// the store's lock, made under it. It is what Snapshot and Restore would
// give, minus what estimates never read, and with no sorting or encoding:
// of the day's tickets only those waiting, called today (the clerks' pace
// and no-shows are learned from them), being served, or booked are
// copied, so that the copy costs what the queue holds, not what the day
// issued (a busy day issues tens of thousands of tickets that were
// cancelled without a call). The copy is not a State to fold events
// into: its ticket tokens are not indexed.
func (s *State) EstimateCopy() *State {
	c := &State{
		Site:         s.Site,
		Services:     make(map[string]*Service, len(s.Services)),
		Counters:     make(map[string]*Counter, len(s.Counters)),
		Tickets:      make(map[string]*Ticket, len(s.waiting)+len(s.Counters)),
		Groups:       make(map[string]*Group, len(s.Groups)),
		ServiceOrder: slices.Clone(s.ServiceOrder),
		CounterOrder: slices.Clone(s.CounterOrder),
		GroupOrder:   slices.Clone(s.GroupOrder),
		Day:          s.Day,
		byToken:      map[string]string{},
		waiting:      slices.Clone(s.waiting),
		numbers:      make(map[string]int, len(s.numbers)),
		recent:       slices.Clone(s.recent),
		bookings:     make(map[string]*Booking, len(s.bookings)),
		NoShowGrace:  s.NoShowGrace,
		last:         s.last,
		est:          &estimateCache{},
		learn:        s.learn.clone(),
		AtCentral:    s.AtCentral,
		Applied:      s.Applied,
	}
	for id, svc := range s.Services {
		v := *svc
		v.durations = slices.Clone(svc.durations)
		c.Services[id] = &v
	}
	for id, ctr := range s.Counters {
		v := *ctr
		c.Counters[id] = &v
	}
	for id, g := range s.Groups {
		v := *g
		c.Groups[id] = &v
	}
	for k, v := range s.numbers {
		c.numbers[k] = v
	}
	// Tickets are copied into blocks, not one allocation each: the
	// estimator copies a thousand of them several times a second.
	var block []Ticket
	copyTicket := func(id string) {
		if t := s.Tickets[id]; t != nil && c.Tickets[id] == nil {
			if len(block) == cap(block) {
				block = make([]Ticket, 0, 256)
			}
			block = append(block, *t)
			c.Tickets[id] = &block[len(block)-1]
		}
	}
	for _, id := range s.waiting {
		copyTicket(id)
	}
	for _, ctr := range s.Counters {
		copyTicket(ctr.Current)
	}
	for code, b := range s.bookings {
		v := *b
		c.bookings[code] = &v
		copyTicket(b.Ticket)
	}
	for _, id := range s.called {
		if t := s.Tickets[id]; t != nil && t.Day == s.Day && !t.CalledAt.IsZero() {
			copyTicket(id)
			c.called = append(c.called, id)
		}
	}
	c.restoreDevices(s.snapshotDevices())
	c.restoreShares(s.snapshotShares())
	return c
}
