package queue

import (
	"slices"
	"time"
)

// Statistics of a site's day. The rules live here so that the appliance
// (reading its tickets projection) and central (reading the stored log)
// compute the same figures from the same tickets:
//
//   - every ticket counts in the hour (site time) it was issued in;
//   - wait = called - issued, for tickets that were called;
//   - service time = finished - called, for tickets served (done);
//   - no-shows are tickets marked as not having come;
//   - estimate accuracy compares the wait shown at issue (the walk-in
//     estimate of the kiosk, recorded in the TicketIssued event) with the
//     real wait: the mean absolute error, and the share of called tickets
//     that waited longer than the P90 shown.
//
// P90 is the nearest-rank 90th percentile (the smallest value that at
// least 90 % of the values do not exceed). Durations are in minutes.

// StatTicket is one ticket as the statistics see it.
type StatTicket struct {
	IssuedAt   time.Time
	CalledAt   time.Time // zero: never called
	FinishedAt time.Time // zero: not closed
	Status     string
	// EstimateMinutes and EstimateP90 are what the citizen was shown at
	// issue; nil for tickets issued before that was recorded.
	EstimateMinutes *int
	EstimateP90     *int
}

// StatFigures are the figures of one hour or of a whole day.
type StatFigures struct {
	Hour     int // 0–23; -1 for the day's totals
	Arrivals int
	// Waited counts the called tickets; WaitMean and WaitP90 in minutes.
	Waited   int
	WaitMean float64
	WaitP90  float64
	// Served counts the tickets served to the end.
	Served      int
	ServiceMean float64
	ServiceP90  float64
	NoShows     int
	// Estimated counts called tickets with a recorded estimate;
	// EstimateMAE is their mean absolute error in minutes, OverP90 how
	// many of them waited longer than the P90 shown.
	Estimated   int
	EstimateMAE float64
	OverP90     int
}

// DayStats are a site's statistics for one day: the hours with arrivals,
// in order, and the day's totals.
type DayStats struct {
	Day   string
	Hours []StatFigures
	Total StatFigures
}

// SummariseDay computes a day's statistics from its tickets; loc is the
// site's time zone (for the hour of issue).
func SummariseDay(day string, loc *time.Location, tickets []StatTicket) DayStats {
	byHour := map[int][]StatTicket{}
	for _, t := range tickets {
		h := t.IssuedAt.In(loc).Hour()
		byHour[h] = append(byHour[h], t)
	}
	out := DayStats{Day: day, Total: summarise(-1, tickets)}
	hours := make([]int, 0, len(byHour))
	for h := range byHour {
		hours = append(hours, h)
	}
	slices.Sort(hours)
	for _, h := range hours {
		out.Hours = append(out.Hours, summarise(h, byHour[h]))
	}
	return out
}

func summarise(hour int, tickets []StatTicket) StatFigures {
	f := StatFigures{Hour: hour, Arrivals: len(tickets)}
	var waits, services []time.Duration
	var absErr time.Duration
	for _, t := range tickets {
		if t.Status == StatusNoShow {
			f.NoShows++
		}
		if t.CalledAt.IsZero() {
			continue
		}
		wait := max(t.CalledAt.Sub(t.IssuedAt), 0)
		waits = append(waits, wait)
		if t.Status == StatusDone && !t.FinishedAt.IsZero() {
			services = append(services, max(t.FinishedAt.Sub(t.CalledAt), 0))
		}
		if t.EstimateMinutes != nil {
			f.Estimated++
			d := wait - time.Duration(*t.EstimateMinutes)*time.Minute
			absErr += max(d, -d)
			if t.EstimateP90 != nil && wait > time.Duration(*t.EstimateP90)*time.Minute {
				f.OverP90++
			}
		}
	}
	f.Waited, f.WaitMean, f.WaitP90 = len(waits), meanMinutes(waits), p90Minutes(waits)
	f.Served, f.ServiceMean, f.ServiceP90 = len(services), meanMinutes(services), p90Minutes(services)
	if f.Estimated > 0 {
		f.EstimateMAE = absErr.Minutes() / float64(f.Estimated)
	}
	return f
}

func meanMinutes(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum.Minutes() / float64(len(ds))
}

// p90Minutes is the nearest-rank 90th percentile: the value at rank
// ceil(0.9·n) of the sorted durations.
func p90Minutes(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := (9*len(s) + 9) / 10 // ceil(0.9·n) in integers
	return s[rank-1].Minutes()
}
