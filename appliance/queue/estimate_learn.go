package queue

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// What the estimator learns across days (issue 17). Everything here is
// folded from the site's own events by Apply, so it is the same on every
// node and survives a snapshot (Snapshot.Learned):
//
//   - staffing: each counter's open intervals of its recent days (and the
//     lead's plan, staffing.go), so that the forward simulations sample
//     when a closed counter opens (late openings, the return from a break)
//     and when an open one closes (breaks, leaving early) as they sample
//     service times;
//   - the last longSamples service times of each service (heavy tails);
//   - the no-show share and cost, and the bookings' show-up rate and
//     punctuality, of recent days: the priors of today's;
//   - calibration: for each service, and for the site, by phase of the day
//     (first hour, mid-day, last hour) and wait shown (short, long), the
//     coverage of the estimates shown at the kiosk (recorded in
//     TicketIssued) is measured when the ticket is called, and two scales
//     are adjusted online (stochastic approximation of quantiles): the
//     point estimate's, so that half wait longer, and the P90's margin
//     above it, so that a tenth wait longer than the P90.

// Learned is what the estimator carries over days.
type Learned struct {
	// Staff holds each counter's recent days, oldest first.
	Staff map[string][]StaffDay `json:"staff,omitempty"`
	// Today holds each counter's open intervals of the current day.
	Today map[string][]Interval `json:"today,omitempty"`
	// Calib holds the calibration scales by service and phase.
	Calib map[string]*Calibration `json:"calib,omitempty"`
	// Planned is the site lead's planned staffing: each counter's open
	// intervals by weekday (StaffingPlanned).
	Planned map[string]map[time.Weekday][]OpeningHours `json:"planned,omitempty"`
	// Durations holds each service's recent service times in minutes,
	// oldest first: more than the State's own (serviceSamples), since a
	// heavy-tailed service needs many to show its tail.
	Durations map[string][]float64 `json:"durations,omitempty"`
	// Decayed counts of recent days' bookings that came and that did
	// not, and the minutes before their slot those who came checked in.
	BookingsCame, BookingsMissed, BookingsEarly float64 `json:",omitempty"`
	// Decayed counts of recent days' served tickets and no-shows, and
	// the no-shows' minutes.
	Served, NoShows, NoShowMinutes float64 `json:",omitempty"`
}

// StaffDay is one counter's day: its weekday and open intervals.
type StaffDay struct {
	Weekday time.Weekday `json:"weekday"`
	Opens   int          `json:"opens"` // the site's opening minute that day
	Close   int          `json:"close"` // the site's closing minute that day (0: unknown)
	Open    []Interval   `json:"open,omitempty"`
}

// shifted returns days as if they had opened at opens: a counter that
// opened ten minutes after the site did then does so today too.
func shifted(days []StaffDay, opens int) []StaffDay {
	out := make([]StaffDay, len(days))
	for i, d := range days {
		shift := opens - d.Opens
		out[i] = StaffDay{Weekday: d.Weekday, Opens: opens, Close: d.Close + shift, Open: make([]Interval, len(d.Open))}
		for j, iv := range d.Open {
			out[i].Open[j] = Interval{From: iv.From + shift, To: iv.To + shift}
		}
	}
	return out
}

// Interval is an open interval in minutes since midnight (site time).
type Interval struct {
	From, To int // To < 0: still open
}

// Calibration is a service's calibration in one phase of the day.
type Calibration struct {
	Point float64 `json:"point"` // scales the simulated median
	P90   float64 `json:"p90"`   // scales the P90's margin above the median
	Seen  int     `json:"seen"`  // tickets measured
	Over  int     `json:"over"`  // of those, waited longer than the P90 shown
}

const (
	staffDays   = 20  // recent days kept per counter
	noShowDecay = 0.8 // per day
	// Steps of the calibration (in log scale): a ticket moves the point
	// scale by calibPoint/2 and the P90 scale by up to calibP90.
	calibPoint = 0.005
	calibP90   = 0.15
	// calibBlend is how many tickets a service's own calibration must
	// have seen to weigh as much as the site's.
	calibBlend = 100
	// calibForget pulls a scale a little towards 1 at every step (in log
	// scale), so that two folds that started from different points (a
	// site restored from an older snapshot, central from the whole log)
	// agree again within days, and old days fade.
	calibForget = 0.0005
	// bookingsPrior is how many bookings the recent days' weigh at most
	// against today's.
	bookingsPrior = 20.0
	// paceSigma is the spread (log-normal) of a day's pace: the share by
	// which all its service times are slower or faster together.
	paceSigma = 0.1
	longWait  = 20 // minutes: waits shown from here on calibrate apart
	// longSamples service times are kept per service; their weights decay
	// by longDecay from the newest.
	longSamples = 60
	longDecay   = 0.98
	// endSlack: a counter closing this close to the site's closing time
	// (or later) closed for the day, not early: the queue is served.
	endSlack = 20
)

// Phases of the day for the calibration.
const (
	phaseFirst = iota // the first hour after opening
	phaseMid
	phaseLast // the last hour before closing
)

func (s *State) learned() *Learned {
	if s.learn == nil {
		s.learn = &Learned{}
	}
	return s.learn
}

func minuteOfDay(s *State, t time.Time) int {
	l := t.In(s.Site.Location)
	return l.Hour()*60 + l.Minute()
}

// openingOf returns the opening interval of the site containing t; when
// none does, the weekday's first opening and last closing, or the whole
// day for a weekday without hours.
func (s *State) openingOf(t time.Time) (open, close int) {
	l := t.In(s.Site.Location)
	m := l.Hour()*60 + l.Minute()
	open, close = -1, -1
	for _, h := range s.Site.Hours {
		if h.Weekday != l.Weekday() {
			continue
		}
		if open < 0 || h.Open < open {
			open = h.Open
		}
		close = max(close, h.Close)
		if m >= h.Open && m < h.Close {
			return h.Open, h.Close
		}
	}
	if open < 0 {
		return 0, 24 * 60
	}
	return open, close
}

// phase is the phase of the day of t.
func (s *State) phase(t time.Time) int {
	open, close := s.openingOf(t)
	m := minuteOfDay(s, t)
	switch {
	case m < open+60:
		return phaseFirst
	case m >= close-60:
		return phaseLast
	}
	return phaseMid
}

// noteOpened records that a closed counter opened.
func (s *State) noteOpened(c *Counter, at time.Time) {
	l := s.learned()
	if l.Today == nil {
		l.Today = map[string][]Interval{}
	}
	l.Today[c.ID] = append(l.Today[c.ID], Interval{From: minuteOfDay(s, at), To: -1})
}

// noteClosed records that an open counter closed.
func (s *State) noteClosed(c *Counter, at time.Time) {
	l := s.learned()
	iv := l.Today[c.ID]
	if len(iv) > 0 && iv[len(iv)-1].To < 0 {
		iv[len(iv)-1].To = max(minuteOfDay(s, at), iv[len(iv)-1].From)
	}
}

// endStaffDay moves the day's intervals into the counters' history when a
// new day starts (day is the day that ended).
func (s *State) endStaffDay(day string) {
	s.endNoShowDay(day)
	s.endBookingDay(day)
	l := s.learn
	if l == nil || len(l.Today) == 0 {
		return
	}
	d, err := time.ParseInLocation(time.DateOnly, day, s.Site.Location)
	if err != nil {
		l.Today = nil
		return
	}
	opens, closeMin := s.openingOf(d.Add(12 * time.Hour))
	if l.Staff == nil {
		l.Staff = map[string][]StaffDay{}
	}
	// Every counter that was open that day, or has a history, gets the
	// day (a day without opening is a day it was absent).
	for _, id := range s.CounterOrder {
		iv, ok := l.Today[id]
		if !ok && len(l.Staff[id]) == 0 {
			continue
		}
		iv = slices.Clone(iv)
		for i := range iv {
			if iv[i].To < 0 {
				iv[i].To = 24 * 60
			}
		}
		days := append(l.Staff[id], StaffDay{Weekday: d.Weekday(), Opens: opens, Close: closeMin, Open: iv})
		if len(days) > staffDays {
			days = days[len(days)-staffDays:]
		}
		l.Staff[id] = days
	}
	l.Today = nil
}

// endNoShowDay folds a finished day's served tickets and no-shows into
// the recent days' figures (each older day weighs noShowDecay less).
// The sums are whole durations, so that they do not depend on the order
// of map iteration (a float sum would, in its last digit).
func (s *State) endNoShowDay(day string) {
	var served, noShows int
	var cost time.Duration
	for _, t := range s.Tickets {
		if t.Day != day || t.CalledAt.IsZero() {
			continue
		}
		switch t.Status {
		case StatusDone:
			served++
		case StatusNoShow:
			noShows++
			cost += max(t.FinishedAt.Sub(t.CalledAt), 0)
		}
	}
	if served+noShows == 0 {
		return
	}
	l := s.learned()
	l.Served = l.Served*noShowDecay + float64(served)
	l.NoShows = l.NoShows*noShowDecay + float64(noShows)
	l.NoShowMinutes = l.NoShowMinutes*noShowDecay + cost.Minutes()
}

// noteFirstCall measures the estimate a walk-in was shown at the kiosk
// against its wait, and adjusts its service's calibration.
func (s *State) noteFirstCall(t *Ticket, at time.Time) {
	if t.ShownMinutes == nil || t.ShownP90 == nil || (t.Class != ClassWalkIn && t.Class != "") || t.Target != "" {
		return
	}
	wait := at.Sub(t.IssuedAt).Minutes()
	phase := calibKey(s.phase(t.IssuedAt), waitBucket(float64(*t.ShownMinutes)))
	shown, p90 := float64(*t.ShownMinutes), float64(*t.ShownP90)
	// The service's own calibration, and the site's in the phase (all
	// services together), which stands in while the service's has seen
	// few tickets.
	s.calibration(t.Service, phase, true).adjust(shown, p90, wait)
	s.calibration("", phase, true).adjust(shown, p90, wait)
}

func (c *Calibration) adjust(shown, p90, wait float64) {
	c.Seen++
	if shown >= 2 || wait >= 2 {
		step := -calibPoint / 2
		if wait > shown {
			step = calibPoint / 2
		}
		c.Point = min(max(math.Exp((1-calibForget)*math.Log(c.Point)+step), 0.5), 2)
	}
	over := wait > p90
	if over {
		c.Over++
	}
	if p90 > shown || over {
		step := -calibP90 * 0.1
		if over {
			step = calibP90 * 0.9
		}
		c.P90 = min(max(math.Exp((1-calibForget)*math.Log(c.P90)+step), 0.1), 5)
	}
}

// calibKey combines a phase of the day and a wait bucket (waitBucket).
func calibKey(phase, bucket int) int { return phase*2 + bucket }

// waitBucket tells short waits shown (0) from long ones (1): a long
// queue's P90 needs its own margin.
func waitBucket(minutes float64) int {
	if minutes >= longWait {
		return 1
	}
	return 0
}

// calibration returns a service's calibration in a phase (neutral when
// none was learned; created when create).
func (s *State) calibration(service string, phase int, create bool) *Calibration {
	key := calibName(service, phase)
	if s.learn != nil {
		if c := s.learn.Calib[key]; c != nil {
			return c
		}
	}
	c := &Calibration{Point: 1, P90: 1}
	if create {
		l := s.learned()
		if l.Calib == nil {
			l.Calib = map[string]*Calibration{}
		}
		l.Calib[key] = c
	}
	return c
}

// calibrationBlend is a service's calibration in a phase as the estimate
// applies it: the site's for all services, moving (in log scale) towards
// the service's own as that sees tickets (half-way at calibBlend).
func (s *State) calibrationBlend(service string, phase int) Calibration {
	own, site := s.calibration(service, phase, false), s.calibration("", phase, false)
	w := float64(own.Seen) / (float64(own.Seen) + calibBlend)
	blend := func(a, b float64) float64 { return math.Exp(w*math.Log(a) + (1-w)*math.Log(b)) }
	return Calibration{Point: blend(own.Point, site.Point), P90: blend(own.P90, site.P90), Seen: own.Seen, Over: own.Over}
}

// CalibrationOf returns the calibration of a service in the phase of the
// day of t: how the simulated median and the P90's margin are scaled, and
// how many of the measured walk-ins waited longer than the P90 shown.
func (s *State) CalibrationOf(service string, t time.Time) Calibration {
	return s.calibrationBlend(service, calibKey(s.phase(t), 0))
}

// endBookingDay folds a finished day's bookings into the recent days'
// (each older day weighs noShowDecay less): those that checked in, how
// early, and those that did not.
func (s *State) endBookingDay(day string) {
	var came, missed int
	var early time.Duration // a whole sum: independent of the map's order
	for _, b := range s.bookings {
		if s.DayOf(b.Slot) != day {
			continue
		}
		if t := s.Tickets[b.Ticket]; t != nil && b.Ticket != "" {
			came++
			early += b.Slot.Sub(t.IssuedAt)
		} else {
			missed++
		}
	}
	if came+missed == 0 {
		return
	}
	l := s.learned()
	l.BookingsCame = l.BookingsCame*noShowDecay + float64(came)
	l.BookingsMissed = l.BookingsMissed*noShowDecay + float64(missed)
	l.BookingsEarly = l.BookingsEarly*noShowDecay + early.Minutes()
}

// bookingPrior returns the recent days' bookings, scaled to weigh at most
// as many as bookingsPrior bookings.
func (s *State) bookingPrior() (came, missed, early float64) {
	l := s.learn
	if l == nil || l.BookingsCame+l.BookingsMissed == 0 {
		return 0, 0, 0
	}
	w := min(1, bookingsPrior/(l.BookingsCame+l.BookingsMissed))
	return w * l.BookingsCame, w * l.BookingsMissed, w * l.BookingsEarly
}

// noShowPrior returns the recent days' no-show share and minutes, with
// the weight they have against today's figures.
func (s *State) noShowPrior() (rate, minutes, weight float64) {
	l := s.learn
	if l == nil || l.Served+l.NoShows < 1 {
		return 0.05, 3, 0
	}
	n := l.Served + l.NoShows
	rate = (l.NoShows + 0.5) / (n + 10)
	minutes = (l.NoShowMinutes + 2*3) / (l.NoShows + 2)
	return rate, minutes, min(n, 50)
}

// clone deep-copies the learned values (for snapshots).
func (l *Learned) clone() *Learned {
	if l == nil {
		return nil
	}
	data, err := json.Marshal(l)
	if err != nil {
		return nil
	}
	var c Learned
	if json.Unmarshal(data, &c) != nil {
		return nil
	}
	return &c
}

// staffModel samples the counters' open intervals of the rest of the day.
type staffModel struct {
	now   float64 // minute of day
	close int
	// per counter (in the simulation's order)
	mode []int        // staffOpen, staffNotYet, staffAway
	days [][]StaffDay // the history days that fit its state now
	gaps [][]float64  // staffAway: the gaps seen that last longer than this one has (+Inf: did not return)
	away []float64    // staffAway: how long it has been closed
}

const (
	staffOpen = iota
	staffNotYet
	staffAway
)

// schedule is one simulated counter's future: open intervals in minutes
// from now, in order; to = +Inf: open until the queue is served.
type schedule []span

type span struct{ from, to float64 }

// newStaffModel prepares the sampling of the counters' futures. ids are
// the counters in the simulation's order, open whether each is open now.
// A counter's history is its days of the same weekday (all its days while
// fewer than two), the gaps those of all its days (of all counters while
// fewer than five).
func (s *State) newStaffModel(ids []string, open []bool) *staffModel {
	now := s.last
	m := &staffModel{now: float64(minuteOfDay(s, now))}
	_, m.close = s.openingOf(now)
	wd := now.In(s.Site.Location).Weekday()
	opens, _ := s.openingOf(now)
	var pooled []float64
	allGaps := make([][]float64, len(ids))
	for k, id := range ids {
		var hist []StaffDay
		var today []Interval
		if s.learn != nil {
			// All its recent days, those of today's weekday twice: they
			// count double in the draw.
			for _, d := range s.learn.Staff[id] {
				hist = append(hist, d)
				if d.Weekday == wd {
					hist = append(hist, d)
				}
			}
			// The lead's plan counts as planWeight such days.
			if d, ok := s.plannedDay(id, wd); ok {
				for range planWeight {
					hist = append(hist, d)
					allGaps[k] = appendGaps(allGaps[k], d)
				}
			}
			hist = shifted(hist, opens)
			today = s.learn.Today[id]
		}
		for _, d := range s.learn.staffOf(id) {
			allGaps[k] = appendGaps(allGaps[k], d)
		}
		pooled = append(pooled, allGaps[k]...)
		var fit []StaffDay
		mode, away := staffOpen, 0.0
		switch {
		case open[k]:
			fit = hist
		case len(today) == 0:
			// Not open yet today: the days on which it had not opened by
			// now either decide.
			mode = staffNotYet
			for _, d := range hist {
				if len(d.Open) == 0 || float64(d.Open[0].From) > m.now {
					fit = append(fit, d)
				}
			}
		default:
			mode = staffAway
			last := today[len(today)-1]
			away = m.now - float64(last.To)
			if m.close > 0 && last.To >= m.close-endSlack {
				away = math.Inf(1) // closed for the day
			}
		}
		m.mode, m.days, m.away = append(m.mode, mode), append(m.days, fit), append(m.away, away)
	}
	for k := range ids {
		gaps := allGaps[k]
		if len(gaps) < 5 {
			gaps = pooled
		}
		var fit []float64
		if m.mode[k] == staffAway {
			for _, g := range gaps {
				if g > m.away[k] {
					fit = append(fit, g)
				}
			}
		}
		m.gaps = append(m.gaps, fit)
	}
	return m
}

func (l *Learned) staffOf(id string) []StaffDay {
	if l == nil {
		return nil
	}
	return l.Staff[id]
}

// appendGaps appends a day's closed gaps between intervals, and +Inf for
// a close before the end of the day without return.
func appendGaps(gaps []float64, d StaffDay) []float64 {
	for i, iv := range d.Open {
		if d.Close > 0 && iv.To >= d.Close-endSlack {
			break
		}
		if i+1 < len(d.Open) {
			gaps = append(gaps, float64(d.Open[i+1].From-iv.To))
		} else {
			gaps = append(gaps, math.Inf(1))
		}
	}
	return gaps
}

// binding is the end of an interval as the simulation sees it: +Inf when
// it closed for the day (near or after closing time).
func binding(to, close int) float64 {
	if close > 0 && to >= close-endSlack {
		return math.Inf(1)
	}
	return float64(to)
}

// sample draws counter k's schedule. Without history a counter stays as it
// is: open until the queue is served, or closed.
func (m *staffModel) sample(rnd *rand.Rand, k int, out schedule) schedule {
	out = out[:0]
	now := m.now
	rel := func(x float64) float64 { return max(x-now, 0) }
	// follow appends day d's intervals that start after minute from.
	follow := func(d StaffDay, from float64) {
		for _, iv := range d.Open {
			if float64(iv.From) > from {
				out = append(out, span{rel(float64(iv.From)), rel(binding(iv.To, d.Close))})
			}
		}
	}
	days := m.days[k]
	switch m.mode[k] {
	case staffOpen:
		if len(days) == 0 {
			return append(out, span{0, math.Inf(1)})
		}
		d := days[rnd.IntN(len(days))]
		for _, iv := range d.Open {
			if end := binding(iv.To, d.Close); end > now {
				// Open then, or opening later: open until that end.
				out = append(out, span{0, rel(end)})
				follow(d, float64(iv.From))
				return out
			}
		}
		return append(out, span{0, math.Inf(1)})
	case staffNotYet:
		if len(days) > 0 {
			follow(days[rnd.IntN(len(days))], now-1)
		}
		return out
	}
	// Closed after being open: back after a gap seen before that lasted
	// longer than this one has, or not at all.
	if gaps := m.gaps[k]; len(gaps) > 0 {
		if g := gaps[rnd.IntN(len(gaps))]; !math.IsInf(g, 1) {
			out = append(out, span{g - m.away[k], math.Inf(1)})
		}
	}
	return out
}

// may reports whether counter k can be open at some time in a sample.
func (m *staffModel) may(k int) bool {
	switch m.mode[k] {
	case staffOpen:
		return true
	case staffNotYet:
		for _, d := range m.days[k] {
			if len(d.Open) > 0 {
				return true
			}
		}
		return false
	}
	for _, g := range m.gaps[k] {
		if !math.IsInf(g, 1) {
			return true
		}
	}
	return false
}

// simStaff is the staffing of one simulated future: each simulated
// counter's schedule, the span it is in, and whether it ran out of spans.
type simStaff struct {
	model *staffModel
	index []int // the model's index of each simulated counter
	sched []schedule
	cur   []int
	ended []bool
	pace  float64 // scales the future's service times
}

func newSimStaff(m *staffModel, index []int) *simStaff {
	n := len(index)
	return &simStaff{model: m, index: index, sched: make([]schedule, n), cur: make([]int, n), ended: make([]bool, n)}
}

// start draws a future's schedules: a counter open now stays free when its
// draw says (free holds that), one closed now is free when it opens.
func (st *simStaff) start(rnd *rand.Rand, free []float64, active []bool) {
	// The day's pace: all of a future's service times are faster or
	// slower together, as a day's are.
	st.pace = math.Exp(paceSigma*rnd.NormFloat64() - paceSigma*paceSigma/2)
	for k, mi := range st.index {
		st.sched[k] = st.model.sample(rnd, mi, st.sched[k])
		st.cur[k], st.ended[k] = 0, false
		if len(st.sched[k]) == 0 {
			active[k] = false
			continue
		}
		free[k] = max(free[k], st.sched[k][0].from)
	}
}

// due moves counter k on when its free time lies past the end of its
// span: to its next span, or out of the future (ended). It reports whether
// it moved, so that the caller picks the next counter again.
func (st *simStaff) due(k int, free []float64, active []bool) bool {
	sc := st.sched[k]
	if st.cur[k] >= len(sc) || free[k] < sc[st.cur[k]].to {
		return false
	}
	for st.cur[k] < len(sc) && free[k] >= sc[st.cur[k]].to {
		st.cur[k]++
	}
	if st.cur[k] < len(sc) {
		free[k] = max(free[k], sc[st.cur[k]].from)
		return true
	}
	active[k], st.ended[k] = false, true
	return true
}

// revive brings the counters that left back when nobody else would serve
// those still waiting: a site serves its queue before it closes.
func (st *simStaff) revive(active []bool) bool {
	any := false
	for k, e := range st.ended {
		if e {
			st.ended[k], active[k], any = false, true, true
			st.cur[k] = len(st.sched[k]) + 1 // past every span: no more ends
		}
	}
	return any
}

// noteDuration keeps a served ticket's service time.
func (s *State) noteDuration(service string, d time.Duration) {
	if d <= 0 {
		return
	}
	l := s.learned()
	if l.Durations == nil {
		l.Durations = map[string][]float64{}
	}
	ds := append(l.Durations[service], max(d.Minutes(), 0.1))
	if len(ds) > longSamples {
		ds = slices.Clone(ds[len(ds)-longSamples:])
	}
	l.Durations[service] = ds
}

func (l *Learned) durationsOf(service string) []float64 {
	if l == nil {
		return nil
	}
	return l.Durations[service]
}

// CalibrationRow is one calibration as the statistics page shows it: a
// service (or "" for the site's, all services together), the phase of the
// day (0 the first hour after opening, 1 the rest of the day, 2 the last
// hour before closing), whether it is that of long waits shown (from
// longWait minutes), and its scales and coverage.
type CalibrationRow struct {
	Service string
	Phase   int
	Long    bool
	Calibration
}

// Calibrations lists the calibrations measured so far, the site's first,
// then by service in the site's order, phase and wait length.
func (s *State) Calibrations() []CalibrationRow {
	if s.learn == nil {
		return nil
	}
	var out []CalibrationRow
	for _, svc := range append([]string{""}, s.ServiceOrder...) {
		for phase := phaseFirst; phase <= phaseLast; phase++ {
			for b := range 2 {
				c := s.learn.Calib[calibName(svc, calibKey(phase, b))]
				if c == nil || c.Seen == 0 {
					continue
				}
				out = append(out, CalibrationRow{Service: svc, Phase: phase, Long: b == 1, Calibration: *c})
			}
		}
	}
	return out
}

// calibName is the key of a calibration in Learned.Calib.
func calibName(service string, key int) string { return service + "/" + string(rune('0'+key)) }
