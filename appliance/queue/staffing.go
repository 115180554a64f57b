package queue

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/veedel/veedel"
)

// Planned staffing: the site lead enters at /desk/setup when each counter
// is usually staffed on a weekday ("7:30–10:00, 10:30–15:00": a break from
// 10:00). The wait estimate takes the plan as a few of the counter's
// recent days (planWeight), so that before the site has a history the
// plan alone foresees late openings, breaks and early closes, and with a
// history the plan and the days as they were both count. The plan is the
// site's own: a StaffingPlanned event, synced like any other.

// TypeStaffingPlanned sets (or, with no intervals, clears) a counter's
// planned staffing on a weekday.
const TypeStaffingPlanned = "queue.staffing_planned"

// StaffingPlanned is a counter's planned staffing on a weekday: its open
// intervals in minutes since midnight (site time), in order. None clears
// the plan.
type StaffingPlanned struct {
	Counter string         `cbor:"1,keyasint"`
	Weekday time.Weekday   `cbor:"2,keyasint"`
	Open    []OpeningHours `cbor:"3,keyasint,omitempty"` // Weekday of each is the plan's
}

const (
	// planWeight is how many of a counter's recent days its plan counts
	// for in the estimate's draw of the counter's future.
	planWeight = 4
	// maxPlanIntervals is the most intervals a day's plan may have.
	maxPlanIntervals = 6
)

// PlanStaffing sets a counter's planned staffing on a weekday. Intervals
// must lie within the day, open before they close and not overlap; none
// clears the plan. It returns no event when the plan is unchanged.
func (s *State) PlanStaffing(at time.Time, counter string, weekday time.Weekday, open []OpeningHours) ([]Event, error) {
	c, err := s.counter(counter)
	if err != nil {
		return nil, err
	}
	if weekday < time.Sunday || weekday > time.Saturday {
		return nil, veedel.Errorf(veedel.EINVALID, "Unbekannter Wochentag %d / unknown weekday %d", weekday, weekday)
	}
	if len(open) > maxPlanIntervals {
		return nil, veedel.Errorf(veedel.EINVALID, "Höchstens %d Zeiträume am Tag / at most %d intervals a day", maxPlanIntervals, maxPlanIntervals)
	}
	plan := make([]OpeningHours, len(open))
	for i, h := range open {
		plan[i] = OpeningHours{Weekday: weekday, Open: h.Open, Close: h.Close}
	}
	if err := ValidateHours(plan); err != nil {
		return nil, err
	}
	plan = SortedHours(plan)
	if slices.Equal(plan, s.PlannedStaffing(c.ID, weekday)) {
		return nil, nil
	}
	return []Event{{Type: TypeStaffingPlanned, Entity: "counter/" + c.ID, At: at,
		Payload: &StaffingPlanned{Counter: c.ID, Weekday: weekday, Open: plan}}}, nil
}

// PlannedStaffing returns a counter's planned open intervals on a weekday
// (nil: no plan).
func (s *State) PlannedStaffing(counter string, weekday time.Weekday) []OpeningHours {
	if s.learn == nil {
		return nil
	}
	return slices.Clone(s.learn.Planned[counter][weekday])
}

func (s *State) applyStaffingPlanned(p *StaffingPlanned) {
	if s.Counters[p.Counter] == nil || p.Weekday < time.Sunday || p.Weekday > time.Saturday {
		return
	}
	l := s.learned()
	if l.Planned == nil {
		l.Planned = map[string]map[time.Weekday][]OpeningHours{}
	}
	if len(p.Open) == 0 {
		delete(l.Planned[p.Counter], p.Weekday)
		if len(l.Planned[p.Counter]) == 0 {
			delete(l.Planned, p.Counter)
		}
		return
	}
	if l.Planned[p.Counter] == nil {
		l.Planned[p.Counter] = map[time.Weekday][]OpeningHours{}
	}
	l.Planned[p.Counter][p.Weekday] = SortedHours(p.Open)
}

// plannedDay is a counter's plan for a weekday as a day of its history.
func (s *State) plannedDay(counter string, weekday time.Weekday) (StaffDay, bool) {
	plan := s.PlannedStaffing(counter, weekday)
	if len(plan) == 0 {
		return StaffDay{}, false
	}
	d := StaffDay{Weekday: weekday, Opens: -1}
	for _, h := range s.Site.Hours {
		if h.Weekday == weekday {
			if d.Opens < 0 || h.Open < d.Opens {
				d.Opens = h.Open
			}
			d.Close = max(d.Close, h.Close)
		}
	}
	if d.Opens < 0 {
		d.Opens = plan[0].Open
	}
	for _, h := range plan {
		d.Open = append(d.Open, Interval{From: h.Open, To: h.Close})
	}
	return d, true
}

// FormatPlan writes planned intervals as a lead types them:
// "07:30–10:00, 10:30–15:00".
func FormatPlan(plan []OpeningHours) string {
	parts := make([]string, len(plan))
	for i, h := range plan {
		parts[i] = Clock(h.Open) + "–" + Clock(h.Close)
	}
	return strings.Join(parts, ", ")
}

// ParsePlan reads intervals as a lead types them: "7:30–10:00, 10:30–15"
// (a dash or en dash between the times, commas or semicolons between the
// intervals, hours alone allowed); empty is no plan.
func ParsePlan(text string) ([]OpeningHours, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}
	var out []OpeningHours
	for part := range strings.FieldsFuncSeq(text, func(r rune) bool { return r == ',' || r == ';' }) {
		part = strings.TrimSpace(part)
		from, to, ok := strings.Cut(strings.ReplaceAll(strings.ReplaceAll(part, "–", "-"), "—", "-"), "-")
		if !ok {
			return nil, veedel.Errorf(veedel.EINVALID, "„%s“: bitte Beginn und Ende mit Bindestrich, z. B. 7:30–15:00 / %q: please give start and end with a dash, e.g. 7:30-15:00", part, part)
		}
		a, err := parseClock(from)
		if err != nil {
			return nil, err
		}
		b, err := parseClock(to)
		if err != nil {
			return nil, err
		}
		out = append(out, OpeningHours{Open: a, Close: b})
	}
	return out, nil
}

func parseClock(text string) (int, error) {
	text = strings.TrimSpace(text)
	h, m, hasMinutes := strings.Cut(strings.ReplaceAll(text, ".", ":"), ":")
	hours, err1 := strconv.Atoi(h)
	minutes, err2 := 0, error(nil)
	if hasMinutes {
		minutes, err2 = strconv.Atoi(m)
	}
	if err1 != nil || err2 != nil || hours < 0 || hours > 24 || minutes < 0 || minutes > 59 || (hours == 24 && minutes > 0) || (hasMinutes && len(m) != 2) {
		return 0, veedel.Errorf(veedel.EINVALID, "Uhrzeit „%s“ ungültig: bitte wie 7:30 oder 15:00 / time %q invalid: please write it like 7:30 or 15:00", text, text)
	}
	return hours*60 + minutes, nil
}

// String is the plan as a lead types it, for logs and tests.
func (p StaffingPlanned) String() string {
	de, _ := WeekdayNames(p.Weekday)
	return fmt.Sprintf("%s %s: %s", p.Counter, de, FormatPlan(p.Open))
}
