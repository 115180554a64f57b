package queue

import (
	"cmp"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// Estimate is what the queue tells a citizen about their ticket.
type Estimate struct {
	Position int // 1 = next to be called; 0 when not waiting
	Minutes  int // expected minutes until called
	P90      int // minutes within which the call comes with about 90 % probability
}

// The wait model. Every estimate is a pure function of the State: "now" is
// the latest event time the state folded in (the site's own hybrid logical
// clock), never the reader's wall clock, so the appliance and central show
// the same figures for the same log, and a skewed reader changes nothing.
//
// The queue is simulated forward from the current state with the real
// calling rule (a free counter calls the longest-waiting ticket among the
// services it serves): each staffed counter is free once its current
// service ends (its remaining time given how long it has run already), and
// every waiting ticket takes a service time drawn from its service's
// learned distribution, or the time a no-show keeps the counter busy. The
// point estimate is the median of the simulated call times, the P90 their
// 90th percentile. Walk-ins that arrive later never overtake a waiting one
// under this rule, so they need not be simulated; appointments do (a due
// appointment goes first). So the day's known bookings that have not
// checked in yet and may still do so arrive in the simulation too: each at
// its slot minus the early arrival learned today, and in each simulated
// future with the show-up rate learned today (bookingShows). A new ticket
// of a service is called when the first counter serving it runs out of
// earlier tickets and due appointments.
const (
	// estimateRuns is the number of simulated futures per recompute.
	estimateRuns = 64
	// priorWeight is how many measured services the configured expected
	// duration counts for in a service's mean.
	priorWeight = 3.0
	// sampleDecay weighs a measured service against the next newer one.
	sampleDecay = 0.93
	// priorSigma is the log-normal spread assumed before enough services
	// were measured.
	priorSigma = 0.5
	// minSamples is how many measured services make their own
	// distribution rather than the prior's.
	minSamples = 5
	// p90Scale and p90Slack widen the simulated 90th percentile for what
	// the model does not know (breaks, clerks leaving, extra counters).
	p90Scale = 1.1
	p90Slack = 2.0
	// Priors of the bookings' behaviour before today taught any: the
	// share that checks in, and how early before the slot they arrive.
	priorShowRate  = 0.85
	priorShowsSeen = 10.0
	priorEarly     = 5.0 // minutes
)

// estimateCache holds the estimates of one State version (Applied).
type estimateCache struct {
	mu      sync.Mutex
	valid   bool
	applied uint64
	tickets map[string]Estimate
	fresh   map[string]Estimate
}

// EstimateTicket estimates the wait of a waiting ticket. Position counts
// the tickets ahead of it that compete for the same counters.
func (s *State) EstimateTicket(id string) Estimate {
	t := s.Tickets[id]
	if t == nil || t.Status != StatusWaiting {
		return Estimate{}
	}
	if e, ok := s.publishedTicket(t); ok { // published.go
		return e
	}
	return s.estimates(func(c *estimateCache) Estimate { return c.tickets[id] })
}

// EstimateNew estimates the wait of a ticket issued now for a service.
func (s *State) EstimateNew(service string) Estimate {
	if e, ok := s.publishedNew(service); ok { // published.go
		return e
	}
	return s.estimates(func(c *estimateCache) Estimate { return c.fresh[service] })
}

// estimates reads the cached estimates of the current state version,
// recomputing them first when an event was folded in since.
func (s *State) estimates(read func(*estimateCache) Estimate) Estimate {
	c := s.est
	if c == nil {
		c = &estimateCache{}
		s.computeEstimates(c)
		return read(c)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.valid || c.applied != s.Applied {
		s.computeEstimates(c)
	}
	return read(c)
}

// SiteWaitMinutes is the site's headline figure for the portal: the mean
// wait a walk-in would face now, over the site's services.
func (s *State) SiteWaitMinutes() int {
	if len(s.ServiceOrder) == 0 {
		return 0
	}
	sum := 0
	for _, id := range s.ServiceOrder {
		sum += s.EstimateNew(id).Minutes
	}
	return int(math.Round(float64(sum) / float64(len(s.ServiceOrder))))
}

// WaitingCount is how many tickets wait right now.
func (s *State) WaitingCount() int { return len(s.waiting) }

// IsOpen reports whether the site is open at t by its opening hours.
func (s *State) IsOpen(t time.Time) bool { return s.within(s.Site.Hours, t) }

// IsWalkIn reports whether t lies inside one of the site's walk-in
// intervals. A site without walk-in hours has none: see WalkInsServed for
// "are walk-ins served now".
func (s *State) IsWalkIn(t time.Time) bool { return s.within(s.Site.WalkIn, t) }

// AppointmentsOnly reports whether the site is open at t but serves
// appointments only: it has walk-in hours and t lies outside them.
func (s *State) AppointmentsOnly(t time.Time) bool {
	return len(s.Site.WalkIn) > 0 && s.IsOpen(t) && !s.IsWalkIn(t)
}

// WalkInsServed reports whether a citizen without an appointment is served
// at t: the site is open and, when it has walk-in hours, t lies inside one.
func (s *State) WalkInsServed(t time.Time) bool { return s.IsOpen(t) && !s.AppointmentsOnly(t) }

// within reports whether t (in the site's time zone) lies in one of hours.
func (s *State) within(hours []OpeningHours, t time.Time) bool {
	local := t.In(s.Site.Location)
	minute := local.Hour()*60 + local.Minute()
	for _, h := range hours {
		if h.Weekday == local.Weekday() && minute >= h.Open && minute < h.Close {
			return true
		}
	}
	return false
}

// ServiceMinutes is the mean recent service time of a service, or its
// expected duration before anything was measured.
func (s *State) ServiceMinutes(service string) float64 {
	svc := s.Services[service]
	if svc == nil {
		return 0
	}
	if len(svc.durations) == 0 {
		return float64(max(svc.ExpectedMinutes, 1))
	}
	var sum time.Duration
	for _, d := range svc.durations {
		sum += d
	}
	return max((sum / time.Duration(len(svc.durations))).Minutes(), 0.5)
}

// serviceModel is a service's learned service-time distribution, as a set
// of equally likely durations in minutes.
type serviceModel struct {
	mean   float64
	points []float64
}

// learn builds a service's model: the recent measured durations (newer ones
// weigh more) pulled towards the configured expected duration, and before
// minSamples were measured a log-normal around that mean.
func learn(svc *Service, longer []float64) serviceModel {
	expected := float64(max(svc.ExpectedMinutes, 1))
	var measured []float64
	if len(longer) > len(svc.durations) {
		// The longer memory of recent days (Learned.Durations) holds the
		// same durations and more: a heavy tail needs them.
		measured = longer
	} else {
		for _, d := range svc.durations {
			if d > 0 {
				measured = append(measured, max(d.Minutes(), 0.1))
			}
		}
	}
	sum, weights, w := priorWeight*expected, priorWeight, 1.0
	decay := sampleDecay
	if len(measured) > serviceSamples {
		decay = longDecay
	}
	for i := len(measured) - 1; i >= 0; i-- {
		sum += w * measured[i]
		weights += w
		w *= decay
	}
	m := serviceModel{mean: sum / weights}
	if len(measured) >= minSamples {
		raw := 0.0
		for _, x := range measured {
			raw += x
		}
		scale := m.mean / (raw / float64(len(measured)))
		for _, x := range measured {
			m.points = append(m.points, x*scale)
		}
		return m
	}
	// Quantiles of a log-normal with the mean m.mean.
	const n = 20
	mu := math.Log(m.mean) - priorSigma*priorSigma/2
	for i := range n {
		z := math.Sqrt2 * math.Erfinv(2*(float64(i)+0.5)/n-1)
		m.points = append(m.points, math.Exp(mu+priorSigma*z))
	}
	return m
}

// draw returns a random service time, or with elapsed > 0 the remaining
// time of a service that has run elapsed minutes already.
func (m *serviceModel) draw(rnd *rand.Rand, elapsed float64) float64 {
	if elapsed <= 0 {
		return m.points[rnd.IntN(len(m.points))]
	}
	for range 8 {
		if x := m.points[rnd.IntN(len(m.points))]; x > elapsed {
			return x - elapsed
		}
	}
	// Running longer than nearly everything measured: a little longer.
	return (0.1*m.mean + 0.5) * rnd.ExpFloat64()
}

// computeEstimates fills c with the estimates of the current state.
func (s *State) computeEstimates(c *estimateCache) {
	c.valid, c.applied = true, s.Applied
	c.tickets, c.fresh = make(map[string]Estimate, len(s.waiting)), make(map[string]Estimate, len(s.ServiceOrder))

	now := s.last
	svcIndex := make(map[string]int, len(s.ServiceOrder))
	models := make([]serviceModel, len(s.ServiceOrder))
	for i, id := range s.ServiceOrder {
		svcIndex[id] = i
		models[i] = learn(s.Services[id], s.learn.durationsOf(id))
	}
	noShowRate, noShowMinutes, gap := s.learnToday()

	// The open counters, in order of definition, with what they serve and
	// how long their current service has run.
	type counter struct {
		c       *Counter
		serves  []bool
		busy    int // service index of the current ticket, or -1
		elapsed float64
	}
	// The counters in the simulation: those open now and those the
	// staffing learned may open later today (staffModel).
	opens := make([]bool, len(s.CounterOrder))
	for i, id := range s.CounterOrder {
		opens[i] = s.Counters[id].Open
	}
	staffing := s.newStaffModel(s.CounterOrder, opens)
	var counters []counter
	var staffIndex []int
	for mi, id := range s.CounterOrder {
		ctr := s.Counters[id]
		if !ctr.Open && !staffing.may(mi) {
			continue
		}
		staffIndex = append(staffIndex, mi)
		k := counter{c: ctr, serves: make([]bool, len(models)), busy: -1}
		for _, sid := range ctr.Services {
			if i, ok := svcIndex[sid]; ok {
				k.serves[i] = true
			}
		}
		if t := s.Tickets[ctr.Current]; ctr.Open && t != nil && t.Status == StatusCalled && t.Day == s.Day {
			if i, ok := svcIndex[t.Service]; ok {
				from := t.CalledAt
				if !t.StartedAt.IsZero() {
					from = t.StartedAt // service times are measured from the start
				}
				k.busy = i
				k.elapsed = max(now.Sub(from).Minutes(), 0) // never negative
			}
		}
		counters = append(counters, k)
	}
	waiting := make([]int, 0, len(s.waiting))
	classes := make([]string, 0, len(s.waiting))
	slots := make([]time.Time, 0, len(s.waiting))
	for _, id := range s.waiting {
		t := s.Tickets[id]
		i, ok := svcIndex[t.Service]
		if !ok {
			i = -1
		}
		waiting = append(waiting, i)
		classes, slots = append(classes, t.Class), append(slots, t.Slot)
	}
	n, ns := len(waiting), len(models)
	// The bookings expected to check in, in order of arrival; they follow
	// the waiting tickets in the candidate index space (n+b).
	expected := s.expectedBookings(now, svcIndex)
	nb := len(expected)
	for _, b := range expected {
		waiting, classes, slots = append(waiting, b.service), append(classes, ClassAppointment), append(slots, b.slot)
	}
	all := n + nb
	// may[k*all+i]: open counter k may call waiting ticket (or booking) i.
	may := make([]bool, len(counters)*all)
	for k, ctr := range counters {
		for i, id := range s.waiting {
			may[k*all+i] = waiting[i] >= 0 && ctr.c.MayCall(s.Tickets[id])
		}
		for b := range expected {
			may[k*all+n+b] = ctr.serves[expected[b].service]
		}
	}
	// A run ends once every waiting ticket an open counter may call is
	// called and every service an open counter serves has its idle time:
	// later calls of bookings change no estimate.
	callable, served := 0, 0
	for i := range n {
		for k := range counters {
			if may[k*all+i] {
				callable++
				break
			}
		}
	}
	for j := range ns {
		for _, ctr := range counters {
			if ctr.serves[j] {
				served++
				break
			}
		}
	}

	// An index of the candidates, so that a step of a run costs the
	// counters and services rather than a scan of everything waiting. The
	// calling rule (pickNext) picks the lowest tier; among appointments,
	// due or early, the earliest slot, on equal slots a waiting ticket
	// before a booking and else the earlier arrival; among the others the
	// earliest arrival. So each counter keeps the waiting tickets it may
	// call in three lists: appointments by slot, accessibility needs and
	// walk-ins by arrival; its candidate in each is the first not yet
	// called. The bookings that came and wait form a queue per service in
	// order of arrival, which is the order of their slots
	// (expectedBookings), so each queue's head has its earliest slot.
	const (
		listAppointment = iota
		listAccessibility
		listWalkIn
		lists
	)
	listOf := func(i int) int {
		switch callTier(classes[i], slots[i], now) {
		case tierAccessibility:
			return listAccessibility
		case tierWalkIn:
			return listWalkIn
		}
		return listAppointment
	}
	var bySlot []int // the waiting appointments by slot, then arrival
	for i := range n {
		if listOf(i) == listAppointment {
			bySlot = append(bySlot, i)
		}
	}
	slices.SortStableFunc(bySlot, func(a, b int) int { return slots[a].Compare(slots[b]) })
	cands := make([][lists][]int, len(counters))
	for k := range counters {
		mk := may[k*all : k*all+n]
		for _, i := range bySlot {
			if mk[i] {
				cands[k][listAppointment] = append(cands[k][listAppointment], i)
			}
		}
		for i := range n {
			if l := listOf(i); mk[i] && l != listAppointment {
				cands[k][l] = append(cands[k][l], i)
			}
		}
	}
	bySvc := make([][]int, ns) // the bookings of each service, in order of arrival
	for b, e := range expected {
		bySvc[e.service] = append(bySvc[e.service], b)
	}
	// Per run: next[k][l] is the position of counter k's candidate in list
	// l; came[j] how many bookings of service j arrived, head[j] the
	// position of the first of them that may still wait (those before it
	// were called or did not come).
	next := make([][lists]int, len(counters))
	came, head := make([]int, ns), make([]int, ns)
	shows := make([]bool, nb)

	// Simulate estimateRuns futures; calls[i*estimateRuns+r] is ticket i's
	// call time in run r (NaN when no open counter serves it), and
	// idle[j*estimateRuns+r] when the first counter serving service j
	// would call a new walk-in of j: it runs out of waiting tickets, or
	// would call only an appointment not yet due. A free counter calls by
	// the real calling rule at its simulated time.
	calls := make([]float64, estimateRuns*n)
	for i := range calls {
		calls[i] = math.NaN()
	}
	idle := make([]float64, estimateRuns*ns)
	free := make([]float64, len(counters))
	active := make([]bool, len(counters))
	called := make([]bool, n)
	// Seeded from the state itself, so every node draws the same futures.
	h := fnv.New64a()
	h.Write([]byte(s.Site.ID))
	rnd := rand.New(rand.NewPCG(h.Sum64(), uint64(now.UnixMilli())<<16^uint64(n)))
	// Whether a booking comes, and its service time, are drawn from a
	// stream of their own, so that bookings that delay no ticket change no
	// ticket's draws either.
	rndBook := rand.New(rand.NewPCG(h.Sum64()^0xb00c, uint64(now.UnixMilli())))
	// Staffing is drawn from a stream of its own too.
	rndStaff := rand.New(rand.NewPCG(h.Sum64()^0x57aff, uint64(now.UnixMilli())))
	staff := newSimStaff(staffing, staffIndex)
	for r := range estimateRuns {
		clear(called)
		clear(next)
		clear(came)
		clear(head)
		arrived := 0 // bookings before arrived have arrived (or not come)
		for b := range expected {
			shows[b] = rndBook.Float64() < expected[b].show
		}
		for j := range ns {
			idle[j*estimateRuns+r] = math.Inf(1)
		}
		calledN, idleN := 0, 0
		for k, ctr := range counters {
			free[k], active[k] = 0, true
			if ctr.busy >= 0 {
				free[k] = models[ctr.busy].draw(rnd, ctr.elapsed) + gap
			}
		}
		staff.start(rndStaff, free, active)
		for calledN < callable || idleN < served {
			k := -1
			for j := range counters {
				if active[j] && (k < 0 || free[j] < free[k]) {
					k = j
				}
			}
			if k < 0 {
				if staff.revive(active) {
					continue
				}
				break
			}
			if staff.due(k, free, active) {
				continue
			}
			ctr := &counters[k]
			// Counters take turns in time order, so arrivals only advance.
			for arrived < nb && expected[arrived].arrive <= free[k] {
				came[expected[arrived].service]++
				arrived++
			}
			at := now.Add(time.Duration(free[k] * float64(time.Minute)))
			// The counter's candidate in each list, and the booking of
			// the earliest slot (then arrival) among the services it
			// serves.
			var cand [lists]int
			for l := range lists {
				list, p := cands[k][l], next[k][l]
				for p < len(list) && called[list[p]] {
					p++
				}
				next[k][l], cand[l] = p, -1
				if p < len(list) {
					cand[l] = list[p]
				}
			}
			book := -1
			for j, ok := range ctr.serves {
				if !ok {
					continue
				}
				q := bySvc[j]
				for head[j] < came[j] && !shows[q[head[j]]] {
					head[j]++
				}
				if head[j] < came[j] {
					b := q[head[j]]
					if book < 0 || expected[b].slot.Before(expected[book].slot) ||
						(expected[b].slot.Equal(expected[book].slot) && b < book) {
						book = b
					}
				}
			}
			// The appointment first in line, due or early.
			pick, isBook, slot := cand[listAppointment], false, time.Time{}
			if pick >= 0 {
				slot = slots[pick]
			}
			if book >= 0 && (pick < 0 || expected[book].slot.Before(slot)) {
				pick, isBook, slot = book, true, expected[book].slot
			}
			tier := -1
			if pick >= 0 {
				tier = callTier(ClassAppointment, slot, at)
			}
			if tier != tierDue {
				switch {
				case cand[listAccessibility] >= 0:
					pick, isBook, tier = cand[listAccessibility], false, tierAccessibility
				case cand[listWalkIn] >= 0:
					pick, isBook, tier = cand[listWalkIn], false, tierWalkIn
				}
			}
			if pick < 0 || tier == tierEarly {
				for j, ok := range ctr.serves {
					if ok && math.IsInf(idle[j*estimateRuns+r], 1) {
						idle[j*estimateRuns+r] = free[k]
						idleN++
					}
				}
			}
			if pick < 0 {
				// Nothing to call now: wait for the next booking that
				// comes and this counter may call, or stop.
				active[k] = false
				wake := -1
				for j, ok := range ctr.serves {
					if !ok {
						continue
					}
					q := bySvc[j]
					for p := came[j]; p < len(q) && (wake < 0 || q[p] < wake); p++ {
						if shows[q[p]] {
							wake = q[p]
							break
						}
					}
				}
				if wake >= 0 {
					free[k], active[k] = expected[wake].arrive, true
				}
				continue
			}
			src, svc := rnd, 0
			if isBook {
				svc = expected[pick].service
				head[svc]++ // the head of its queue
				src = rndBook
			} else {
				called[pick] = true
				calls[pick*estimateRuns+r] = free[k]
				calledN++
				svc = waiting[pick]
			}
			d := models[svc].draw(src, 0) * staff.pace
			if src.Float64() < noShowRate {
				d = noShowMinutes
			}
			free[k] += d + gap
		}
	}

	waiting, classes, slots = waiting[:n], classes[:n], slots[:n]
	phase := s.phase(now)
	calib := make([][2]Calibration, ns)
	for j, id := range s.ServiceOrder {
		for b := range 2 {
			calib[j][b] = s.calibrationBlend(id, calibKey(phase, b))
		}
	}
	summarise := func(sample []float64, svc int) (Estimate, bool) {
		// A future in which no counter serving the ticket opens counts
		// as the longest wait of the others; more than a tenth of such
		// futures leave the estimate to naive.
		longest, none := 0.0, 0
		for _, x := range sample {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				none++
			} else {
				longest = max(longest, x)
			}
		}
		if none > estimateRuns/10 {
			return Estimate{}, false
		}
		for i, x := range sample {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				sample[i] = longest
			}
		}
		// Order statistics by selection, not sorting: this is the hot loop.
		q90 := nth(sample, estimateRuns*9/10)
		hi := nth(sample[:estimateRuns*9/10], estimateRuns/2)
		median := (slices.Max(sample[:estimateRuns/2]) + hi) / 2
		point, margin := 1.0, 1.0
		if svc >= 0 {
			c := calib[svc][waitBucket(median*calib[svc][0].Point)]
			point, margin = c.Point, c.P90
		}
		e := Estimate{Minutes: int(math.Round(median * point))}
		e.P90 = max(int(math.Ceil(median*point+margin*max(q90*p90Scale+p90Slack-median, 0))), e.Minutes)
		return e, true
	}

	// Positions: the waiting tickets that compete for a counter with a
	// ticket and that the calling rule, as of now, calls before it.
	// Whether two tickets compete depends only on their service and
	// target counter (their key), so the keys' competition is computed
	// once, and one walk in calling order counts, per key, the tickets
	// called before: O(n log n + n·keys), not O(n²·counters).
	tickets := make([]*Ticket, n)
	for i, id := range s.waiting {
		tickets[i] = s.Tickets[id]
	}
	type ticketKey struct{ service, target string }
	keyOf := make([]int, n)
	keyIndex := map[ticketKey]int{}
	var keys []*Ticket // a representative ticket per key; nil: unknown service
	for i, t := range tickets {
		k := ticketKey{t.Service, t.Target}
		if waiting[i] < 0 {
			k = ticketKey{"\x00unknown", ""} // unknown services compete only among themselves
		}
		ki, ok := keyIndex[k]
		if !ok {
			ki = len(keys)
			keyIndex[k] = ki
			if waiting[i] < 0 {
				keys = append(keys, nil)
			} else {
				keys = append(keys, t)
			}
		}
		keyOf[i] = ki
	}
	compete := make([]bool, len(keys)*len(keys))
	for a, ta := range keys {
		for b, tb := range keys {
			compete[a*len(keys)+b] = (ta == nil && tb == nil) || (ta != nil && tb != nil && s.competeTickets(ta, tb))
		}
	}
	tiers := make([]int, n)
	for i := range tickets {
		tiers[i] = callTier(classes[i], slots[i], now)
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { // the calling rule as of now; ties by arrival
		ta, tb := tiers[a], tiers[b]
		switch {
		case ta != tb:
			return cmp.Compare(ta, tb)
		case (ta == tierDue || ta == tierEarly) && !slots[a].Equal(slots[b]):
			return slots[a].Compare(slots[b])
		}
		return cmp.Compare(a, b)
	})
	calledBefore := make([]int, len(keys))
	for _, i := range order {
		t, ki := tickets[i], keyOf[i]
		pos := 1
		for kj, n := range calledBefore {
			if n > 0 && compete[ki*len(keys)+kj] {
				pos += n
			}
		}
		calledBefore[ki]++
		e, ok := summarise(calls[i*estimateRuns:(i+1)*estimateRuns], waiting[i])
		if !ok {
			e = s.naive(t.Service, pos-1)
		}
		e.Position = pos
		c.tickets[t.ID] = e
	}
	// A new walk-in of service j goes behind every competing ticket but an
	// appointment not yet due.
	notEarly := make([]int, len(keys))
	for i := range tickets {
		if waiting[i] >= 0 && tiers[i] != tierEarly {
			notEarly[keyOf[i]]++
		}
	}
	for j, id := range s.ServiceOrder {
		pos := 1
		walkIn := &Ticket{Service: id}
		for ki, t := range keys {
			if notEarly[ki] > 0 && t != nil && s.competeTickets(t, walkIn) {
				pos += notEarly[ki]
			}
		}
		e, ok := summarise(idle[j*estimateRuns:(j+1)*estimateRuns], j)
		if !ok {
			e = s.naive(id, pos-1)
		}
		e.Position = pos
		c.fresh[id] = e
	}
}

// nth reorders a so that a[k] is its k-th smallest element, with nothing
// larger before it, and returns a[k] (quickselect, median-of-three pivot).
func nth(a []float64, k int) float64 {
	lo, hi := 0, len(a)-1
	for hi > lo {
		mid := lo + (hi-lo)/2
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		pivot := a[mid]
		i, j := lo, hi
		for i <= j {
			for a[i] < pivot {
				i++
			}
			for a[j] > pivot {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return a[k]
		}
	}
	return a[k]
}

// naive is the estimate without a staffed counter for the service: the
// tickets ahead times the service's mean duration, as if one counter
// served them.
func (s *State) naive(service string, ahead int) Estimate {
	if ahead == 0 {
		return Estimate{}
	}
	m := float64(ahead) * s.ServiceMinutes(service)
	return Estimate{Minutes: int(math.Ceil(m)), P90: int(math.Ceil(m*1.5 + p90Slack))}
}

// learnToday learns from today's closed tickets: the share of no-shows, how
// long a no-show keeps a counter busy, and the clerks' pause between the
// end of one service and the next call. Sums are whole milliseconds, so the
// result does not depend on the order of map iteration.
func (s *State) learnToday() (noShowRate, noShowMinutes, gap float64) {
	var done, noShows int
	var noShowSum, gapSum time.Duration
	type call struct{ at, end time.Time }
	byCounter := map[string][]call{}
	for _, t := range s.Tickets {
		if t.Day != s.Day || t.CalledAt.IsZero() {
			continue
		}
		switch t.Status {
		case StatusDone:
			done++
		case StatusNoShow:
			noShows++
			noShowSum += max(t.FinishedAt.Sub(t.CalledAt), 0)
		}
		byCounter[t.Counter] = append(byCounter[t.Counter], call{t.CalledAt, t.FinishedAt})
	}
	gaps := 0
	for _, calls := range byCounter {
		slices.SortFunc(calls, func(a, b call) int { return a.at.Compare(b.at) })
		for i := 1; i < len(calls); i++ {
			if calls[i-1].end.IsZero() {
				continue
			}
			if g := calls[i].at.Sub(calls[i-1].end); g >= 0 && g <= 3*time.Minute {
				gapSum += g
				gaps++
			}
		}
	}
	// Priors: the recent days' no-shows (before any, 5 % of 3 minutes
	// each), half a minute between services.
	rate, minutes, weight := s.noShowPrior()
	noShowRate = (float64(noShows) + rate*(10+weight)) / (float64(done+noShows) + 10 + weight)
	noShowMinutes = (noShowSum.Minutes() + 2*minutes) / float64(noShows+2)
	gap = (gapSum.Minutes() + 5*0.5) / float64(gaps+5)
	return noShowRate, noShowMinutes, gap
}

// expectedBooking is a booking of today that has not checked in yet and
// still may: its service's index, slot, when it is expected to arrive
// (minutes from now) and the chance that it comes at all.
type expectedBooking struct {
	service int
	slot    time.Time
	arrive  float64
	show    float64
}

// expectedBookings returns today's bookings expected to check in after
// now, ordered by arrival (then slot and code, so the order never depends
// on map iteration). A booking arrives at its slot minus the early arrival
// learned today, never before now; one whose expected arrival has passed
// comes later or not at all, so its chance shrinks with the time left
// until check-in closes (LateCheckIn after the slot). The arrival never
// decreases with the slot, so this is the order of the slots too, on which
// the simulation's index of the bookings relies.
func (s *State) expectedBookings(now time.Time, svcIndex map[string]int) []expectedBooking {
	if len(s.bookings) == 0 {
		return nil
	}
	showRate, early := s.learnBookings(now)
	type item struct {
		expectedBooking
		code string
	}
	var items []item
	for _, b := range s.bookings {
		i, ok := svcIndex[b.Service]
		if !ok || b.Ticket != "" || s.DayOf(b.Slot) != s.Day {
			continue
		}
		closes := b.Slot.Add(LateCheckIn)
		if !closes.After(now) {
			continue // too late to check in
		}
		arrive := b.Slot.Add(-time.Duration(early * float64(time.Minute)))
		show := showRate
		if !arrive.After(now) {
			// Not here yet though expected: later, or not at all.
			window := closes.Sub(arrive)
			show *= float64(closes.Sub(now)) / float64(max(window, time.Minute))
			arrive = now
		}
		items = append(items, item{expectedBooking{service: i, slot: b.Slot, arrive: arrive.Sub(now).Minutes(), show: show}, b.Code})
	}
	slices.SortFunc(items, func(a, b item) int {
		if c := cmpFloat(a.arrive, b.arrive); c != 0 {
			return c
		}
		if c := a.slot.Compare(b.slot); c != 0 {
			return c
		}
		return strings.Compare(a.code, b.code)
	})
	out := make([]expectedBooking, len(items))
	for i, it := range items {
		out[i] = it.expectedBooking
	}
	return out
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// learnBookings learns from today's bookings: the share that checked in of
// those whose check-in has closed or that came, and how many minutes
// before their slot those who came checked in (late ones count negative),
// each pulled towards a prior.
func (s *State) learnBookings(now time.Time) (showRate, early float64) {
	var came, missed int
	var earlySum time.Duration
	for _, b := range s.bookings {
		if s.DayOf(b.Slot) != s.Day {
			continue
		}
		if t := s.Tickets[b.Ticket]; t != nil && b.Ticket != "" {
			came++
			earlySum += b.Slot.Sub(t.IssuedAt)
		} else if !b.Slot.Add(LateCheckIn).After(now) {
			missed++
		}
	}
	// The priors, and the recent days' bookings (weighing at most as
	// many as bookingsPrior).
	hCame, hMissed, hEarly := s.bookingPrior()
	showRate = (float64(came) + hCame + priorShowRate*priorShowsSeen) / (float64(came+missed) + hCame + hMissed + priorShowsSeen)
	early = (earlySum.Minutes() + hEarly + priorEarly*3) / (float64(came) + hCame + 3)
	return showRate, early
}

// competeTickets reports whether two tickets wait for at least one common
// counter (open or not), so that one can be called before the other.
func (s *State) competeTickets(a, b *Ticket) bool {
	if a.Target == "" && b.Target == "" && a.Service == b.Service {
		return true
	}
	for _, c := range s.Counters {
		if c.MayCall(a) && c.MayCall(b) {
			return true
		}
	}
	return false
}
