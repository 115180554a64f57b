package queue

import (
	"slices"
	"time"
)

// Overload: the kiosk never stops issuing tickets silently. It tells the
// citizen when the site is closed, and when a service's wait would
// probably (by the P90 bound, to be on the safe side) run past today's
// closing time, so that the citizen can book an appointment or come back
// at the next opening instead, or take the ticket anyway.

// Hours is what the opening hours say about one moment.
type Hours struct {
	// Known is false when the site has no opening hours configured; then
	// nothing is said about closing.
	Known bool
	Open  bool
	// ClosesAt is the end of the opening interval now is in (Open only).
	ClosesAt time.Time
	// NextOpen is the next opening after now (after ClosesAt when open);
	// zero when the site opens on none of the next seven days.
	NextOpen time.Time
}

// HoursAt reads the site's opening hours at now.
func (s *State) HoursAt(now time.Time) Hours {
	h := Hours{Known: len(s.Site.Hours) > 0}
	if !h.Known {
		return h
	}
	loc := s.Site.Location
	local := now.In(loc)
	hours := slices.Clone(s.Site.Hours)
	slices.SortFunc(hours, func(a, b OpeningHours) int { return a.Open - b.Open })
	at := func(day time.Time, minutes int) time.Time {
		return time.Date(day.Year(), day.Month(), day.Day(), minutes/60, minutes%60, 0, 0, loc)
	}
	for _, oh := range hours {
		if oh.Weekday != local.Weekday() {
			continue
		}
		if open, closes := at(local, oh.Open), at(local, oh.Close); !now.Before(open) && now.Before(closes) {
			h.Open, h.ClosesAt = true, closes
		}
	}
	after := now
	if h.Open {
		after = h.ClosesAt
	}
	for d := range 8 {
		day := time.Date(local.Year(), local.Month(), local.Day()+d, 12, 0, 0, 0, loc)
		for _, oh := range hours {
			if oh.Weekday == day.Weekday() {
				if open := at(day, oh.Open); open.After(after) || (open.Equal(after) && !h.Open) {
					h.NextOpen = open
					return h
				}
			}
		}
	}
	return h
}

// RunsPastClosing reports whether a ticket of service taken at now would
// probably (P90) not be called before the site closes, and when it closes.
// A site without opening hours, or closed at now, never runs past closing.
func (s *State) RunsPastClosing(service string, now time.Time) (bool, Hours) {
	h := s.HoursAt(now)
	if !h.Open {
		return false, h
	}
	p90 := s.EstimateNew(service).P90
	return now.Add(time.Duration(p90) * time.Minute).After(h.ClosesAt), h
}
