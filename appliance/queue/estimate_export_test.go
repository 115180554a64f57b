package queue

import (
	"hash/fnv"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// ReferenceEstimates returns the estimates of every waiting ticket and of a
// new ticket of every service by the reference simulation.
func (s *State) ReferenceEstimates() (tickets, fresh map[string]Estimate) {
	c := &estimateCache{}
	s.computeEstimatesReference(c)
	return c.tickets, c.fresh
}

// computeEstimatesReference is computeEstimates as it was before the
// simulation indexed its candidates (a scan of every waiting ticket and
// booking per call): the estimates must not change.
func (s *State) computeEstimatesReference(c *estimateCache) {
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
	shows := make([]bool, nb)
	present := make([]int, 0, nb)
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

	// Simulate estimateRuns futures; calls[i*estimateRuns+r] is ticket i's
	// call time in run r (NaN when no open counter serves it), and
	// idle[j*estimateRuns+r] when the first counter serving service j
	// would call a new walk-in of j: it runs out of waiting tickets, or
	// would call only an appointment not yet due. A free counter calls by
	// the real calling rule (pickNext) at its simulated time.
	calls := make([]float64, estimateRuns*n)
	for i := range calls {
		calls[i] = math.NaN()
	}
	idle := make([]float64, estimateRuns*ns)
	free := make([]float64, len(counters))
	active := make([]bool, len(counters))
	called := make([]bool, all)
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
		lo := 0      // tickets before lo are all called
		arrived := 0 // bookings before arrived have arrived (or not come)
		present = present[:0]
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
			for lo < n && called[lo] {
				lo++
			}
			// Counters take turns in time order, so arrivals only advance;
			// present holds the bookings that came and wait uncalled.
			for arrived < nb && expected[arrived].arrive <= free[k] {
				if shows[arrived] {
					present = append(present, n+arrived)
				}
				arrived++
			}
			at := now.Add(time.Duration(free[k] * float64(time.Minute)))
			mk := may[k*all : (k+1)*all]
			rest := n - lo
			next, tier := pickNext(rest+len(present), at, func(i int) (bool, string, time.Time) {
				if i >= rest {
					i = present[i-rest]
					return mk[i], ClassAppointment, slots[i]
				}
				i += lo
				return !called[i] && mk[i], classes[i], slots[i]
			})
			if next < 0 || tier == tierEarly {
				for j, ok := range ctr.serves {
					if ok && math.IsInf(idle[j*estimateRuns+r], 1) {
						idle[j*estimateRuns+r] = free[k]
						idleN++
					}
				}
			}
			if next < 0 {
				// Nothing to call now: wait for the next booking this
				// counter may call, or stop.
				active[k] = false
				for b := arrived; b < nb; b++ {
					if shows[b] && mk[n+b] {
						free[k], active[k] = expected[b].arrive, true
						break
					}
				}
				continue
			}
			if next >= rest {
				p := next - rest
				next = present[p]
				present = slices.Delete(present, p, p+1)
			} else {
				next += lo
			}
			called[next] = true
			if next < n {
				calls[next*estimateRuns+r] = free[k]
				calledN++
			}
			src := rnd
			if next >= n {
				src = rndBook
			}
			d := models[waiting[next]].draw(src, 0) * staff.pace
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
	tickets := make([]*Ticket, n)
	for i, id := range s.waiting {
		tickets[i] = s.Tickets[id]
	}
	before := func(a, b int) bool { // a is called before b (a < b is arrival order)
		ta, tb := callTier(classes[a], slots[a], now), callTier(classes[b], slots[b], now)
		switch {
		case ta != tb:
			return ta < tb
		case (ta == tierDue || ta == tierEarly) && !slots[a].Equal(slots[b]):
			return slots[a].Before(slots[b])
		}
		return a < b
	}
	for i, t := range tickets {
		pos := 1
		for m, o := range tickets {
			if m == i || !before(m, i) {
				continue
			}
			if waiting[i] < 0 || waiting[m] < 0 {
				if waiting[i] < 0 && waiting[m] < 0 {
					pos++
				}
				continue
			}
			if s.competeTickets(o, t) {
				pos++
			}
		}
		e, ok := summarise(calls[i*estimateRuns:(i+1)*estimateRuns], waiting[i])
		if !ok {
			e = s.naive(t.Service, pos-1)
		}
		e.Position = pos
		c.tickets[t.ID] = e
	}
	// A new walk-in of service j goes behind every competing ticket but an
	// appointment not yet due.
	for j, id := range s.ServiceOrder {
		pos := 1
		walkIn := &Ticket{Service: id}
		for i, t := range tickets {
			if waiting[i] >= 0 && callTier(classes[i], slots[i], now) != tierEarly && s.competeTickets(t, walkIn) {
				pos++
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

// SameEstimates reports whether two computations gave the same figures.
func SameEstimates(a, b *Estimates) bool {
	return a.applied == b.applied && maps.Equal(a.tickets, b.tickets) && maps.Equal(a.fresh, b.fresh)
}

// CopiedTickets is how many tickets an EstimateCopy holds.
func CopiedTickets(s *State) int { return len(s.Tickets) }
