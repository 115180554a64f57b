package queue

import "slices"

// Published estimates: an appliance computes the wait estimates off its
// write path, on a copy of its state (Restore(Snapshot())), once per burst
// of events, and installs them in the live state with UseEstimates. From
// then on EstimateTicket, EstimateNew and SiteWaitMinutes read them and
// never recompute: a command or a reader holding the store's lock never
// waits for a simulation. They are as old as the copy they were computed
// on; the store bounds and measures that (appliance/sqlite, estimates.go).
// A State without published estimates (central, tests) computes them
// itself when asked, as before.

// Estimates are the wait estimates of one version of a State.
type Estimates struct {
	applied uint64
	tickets map[string]Estimate
	fresh   map[string]Estimate
	// tail caches the positions of what came since (tailAhead); it
	// changes with the state it is used by, under that state's owner.
	tail *tailCache
}

// tailCache is, for one version of the state, how many competing tickets
// that came since the estimates wait before each one that came since.
type tailCache struct {
	applied uint64
	ahead   map[string]int
}

// Applied is the version (State.Applied) the estimates were computed for.
func (e *Estimates) Applied() uint64 { return e.applied }

// ComputeEstimates computes the estimates of s as it is: call it on a copy
// of the live state that no one else uses.
func (s *State) ComputeEstimates() *Estimates {
	c := &estimateCache{}
	s.computeEstimates(c)
	return &Estimates{applied: c.applied, tickets: c.tickets, fresh: c.fresh}
}

// UseEstimates makes s answer estimates from e until the next call (nil:
// compute them itself again). e must be of an earlier or the current
// version of s.
func (s *State) UseEstimates(e *Estimates) { s.published = e }

// PublishedApplied is the version of the estimates s answers from, or
// false when it computes them itself.
func (s *State) PublishedApplied() (uint64, bool) {
	if s.published == nil {
		return 0, false
	}
	return s.published.applied, true
}

// publishedTicket is a waiting ticket's published estimate. A ticket that
// came into the queue after the estimates were computed is shown what a
// new ticket of its service was shown then (the figure its kiosk showed
// and recorded), behind the competing tickets that came before it since.
func (s *State) publishedTicket(t *Ticket) (Estimate, bool) {
	p := s.published
	if p == nil {
		return Estimate{}, false
	}
	if e, ok := p.tickets[t.ID]; ok {
		return e, true
	}
	if t.Class != ClassWalkIn {
		return s.ruledEstimate(t), true
	}
	e, ok := p.fresh[t.Service]
	if !ok {
		return Estimate{}, false
	}
	e.Position += s.tailAhead(p, t.ID)
	return e, true
}

// tailAhead is how many of the tickets that came since the estimates p
// compete with ticket id and wait before it. They are the end of the
// queue, back to the newest ticket p knows (a ticket transferred since
// keeps its place by arrival and counts as known: near enough). Worked
// out once per version of the state, by kind of ticket (service and
// target counter), so a listing of the whole queue costs what came
// since, not the queue times that.
func (s *State) tailAhead(p *Estimates, id string) int {
	if c := p.tail; c != nil && c.applied == s.Applied {
		return c.ahead[id]
	}
	start := len(s.waiting)
	for start > 0 {
		if _, known := p.tickets[s.waiting[start-1]]; known {
			break
		}
		start--
	}
	type kind struct{ service, target string }
	var kinds []kind
	var counts []int
	compete := map[[2]kind]bool{}
	c := &tailCache{applied: s.Applied, ahead: make(map[string]int, len(s.waiting)-start)}
	for _, wid := range s.waiting[start:] {
		t := s.Tickets[wid]
		k := kind{t.Service, t.Target}
		n, own := 0, -1
		for i, o := range kinds {
			if o == k {
				own = i
			}
			pair := [2]kind{o, k}
			yes, ok := compete[pair]
			if !ok {
				yes = s.competeTickets(&Ticket{Service: o.service, Target: o.target}, &Ticket{Service: k.service, Target: k.target})
				compete[pair] = yes
			}
			if yes {
				n += counts[i]
			}
		}
		c.ahead[wid] = n
		if own < 0 {
			kinds, counts = append(kinds, k), append(counts, 0)
			own = len(kinds) - 1
		}
		counts[own]++
	}
	p.tail = c
	return c.ahead[id]
}

// ruledEstimate is the estimate of an appointment or accessibility ticket
// that came since the estimates (a walk-in's figure would put it behind
// the walk-ins it goes before): its place by the calling rule among the
// competing waiting tickets, and its wait as if one counter served those
// before it, until the next recomputation. Linear in the queue; such
// tickets are few.
func (s *State) ruledEstimate(t *Ticket) Estimate {
	now := s.last
	tier := callTier(t.Class, t.Slot, now)
	mine := slices.Index(s.waiting, t.ID)
	pos := 1
	for i, id := range s.waiting {
		o := s.Tickets[id]
		if id == t.ID || o == nil || !s.competeTickets(o, t) {
			continue
		}
		before := i < mine // the same tier: by arrival
		switch ot := callTier(o.Class, o.Slot, now); {
		case ot != tier:
			before = ot < tier
		case (ot == tierDue || ot == tierEarly) && !o.Slot.Equal(t.Slot):
			before = o.Slot.Before(t.Slot)
		}
		if before {
			pos++
		}
	}
	e := s.naive(t.Service, pos-1)
	e.Position = pos
	return e
}

// publishedNew is the published estimate of a new ticket of service.
func (s *State) publishedNew(service string) (Estimate, bool) {
	if s.published == nil {
		return Estimate{}, false
	}
	e, ok := s.published.fresh[service]
	return e, ok
}
