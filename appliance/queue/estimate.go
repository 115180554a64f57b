package queue

import (
	"math"
	"time"
)

// Estimate is what the queue tells a citizen about their ticket.
type Estimate struct {
	Position int // 1 = next to be called; 0 when not waiting
	Minutes  int // expected minutes until called
}

// EstimateTicket estimates the wait of a waiting ticket: the tickets ahead of
// it that compete for the same counters, times the service time recently
// measured for its service, divided by the counters staffed for it. (The
// queue-quality issue replaces this with a learned model.)
func (s *State) EstimateTicket(id string) Estimate {
	t := s.Tickets[id]
	if t == nil || t.Status != StatusWaiting {
		return Estimate{}
	}
	ahead := 0
	for _, wid := range s.waiting {
		if wid == id {
			break
		}
		if s.compete(s.Tickets[wid].Service, t.Service) {
			ahead++
		}
	}
	return Estimate{Position: ahead + 1, Minutes: s.minutesFor(t.Service, ahead)}
}

// EstimateNew estimates the wait of a ticket issued now for a service.
func (s *State) EstimateNew(service string) Estimate {
	ahead := 0
	for _, wid := range s.waiting {
		if s.compete(s.Tickets[wid].Service, service) {
			ahead++
		}
	}
	return Estimate{Position: ahead + 1, Minutes: s.minutesFor(service, ahead)}
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
func (s *State) IsOpen(t time.Time) bool {
	local := t.In(s.Site.Location)
	minute := local.Hour()*60 + local.Minute()
	for _, h := range s.Site.Hours {
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

func (s *State) minutesFor(service string, ahead int) int {
	if ahead == 0 {
		return 0
	}
	staffed := 0
	for _, c := range s.Counters {
		if c.Open && c.Serves(service) {
			staffed++
		}
	}
	staffed = max(staffed, 1)
	return int(math.Ceil(float64(ahead) * s.ServiceMinutes(service) / float64(staffed)))
}

// compete reports whether tickets of services a and b wait for at least one
// common counter, so that one can be called before the other.
func (s *State) compete(a, b string) bool {
	if a == b {
		return true
	}
	for _, c := range s.Counters {
		if c.Serves(a) && c.Serves(b) {
			return true
		}
	}
	return false
}
