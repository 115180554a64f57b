package queue

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
	e, ok := p.fresh[t.Service]
	if !ok {
		return Estimate{}, false
	}
	// The tickets that came since are at the end of the queue (a
	// transfer keeps its place by arrival: near enough); counted from the
	// end back to the newest one the estimates know, so the cost is what
	// came since, not the queue.
	i := len(s.waiting) - 1
	for i >= 0 && s.waiting[i] != t.ID {
		i--
	}
	for i--; i >= 0; i-- {
		id := s.waiting[i]
		if _, known := p.tickets[id]; known {
			break
		}
		if s.competeTickets(s.Tickets[id], t) {
			e.Position++
		}
	}
	return e, true
}

// publishedNew is the published estimate of a new ticket of service.
func (s *State) publishedNew(service string) (Estimate, bool) {
	if s.published == nil {
		return Estimate{}, false
	}
	e, ok := s.published.fresh[service]
	return e, ok
}
