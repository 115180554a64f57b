package sim

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/veedel/veedel/appliance"
	"github.com/veedel/veedel/appliance/queue"
)

// Hard days. Run's days are kind: one fixed staffing plan, smooth
// arrivals, a moderate spread of service times, configured averages close
// to the truth, every day starting fresh. History simulates what a running
// site lives through instead, each condition switchable:
//
//   - LateOpen: a counter opens 5–40 minutes late on some days;
//   - Breaks: clerks take breaks of 15–45 minutes at times of their own,
//     some leave 30–150 minutes before closing;
//   - Bursts: a quarter of the walk-ins come in groups of 6–10 within 2
//     minutes, and a crowd waits at the door at opening;
//   - HeavyTails: service times log-normal with σ 0.5–0.7 (a few cases
//     take 2–4 times the mean);
//   - ConfigOff: the configured averages are 25–40 % off the truth;
//   - NoShows: 10–20 % of the citizens do not come when called, costing
//     the clerk 1–3 minutes;
//   - Punctuality: appointment holders come up to 30 minutes early or 20
//     late (too late: they do not come).
//
// A site's history runs its walk-in days (Monday 7:30–15:00 and Wednesday
// 7:30–12:00 alternating) on one State, so what the estimator learned is
// what a running site would have learned; the first warm-up days are not
// measured. The estimate recorded for a walk-in is the kiosk's: the one a
// new ticket of its service is shown just before it is issued
// (EstimateNew), recorded in the TicketIssued event as the appliance does.

// Conditions switches the realities of hard days on.
type Conditions struct {
	LateOpen, Breaks, Bursts, HeavyTails, ConfigOff, NoShows, Punctuality bool
	// Drift makes the service times drift across days: up to 35 % slower
	// and faster in turn, over 24 days (not part of HardDays).
	Drift bool
}

// HardDays has every condition on.
func HardDays() Conditions {
	return Conditions{true, true, true, true, true, true, true, false}
}

// ConditionNames are the conditions in the order of Conditions' fields.
var ConditionNames = []string{"late-open", "breaks", "bursts", "heavy-tails", "config-off", "no-shows", "punctuality"}

// Only returns the conditions with just the named one on.
func Only(name string) Conditions {
	var c Conditions
	for i, n := range ConditionNames {
		if n == name {
			*c.field(i) = true
		}
	}
	return c
}

func (c *Conditions) field(i int) *bool {
	return [...]*bool{&c.LateOpen, &c.Breaks, &c.Bursts, &c.HeavyTails, &c.ConfigOff, &c.NoShows, &c.Punctuality}[i]
}

// Load levels and hour groups of the records.
const (
	Light  = "light"
	Normal = "normal"
	Heavy  = "heavy"

	FirstHour = "first-hour" // the first hour after opening
	Peak      = "peak"       // the second and third hour
	Other     = "other"
	LastHour  = "last-hour" // the last hour before walk-ins end
)

// HardRecord is one walk-in ticket of a measured day.
type HardRecord struct {
	Record
	Site string
	Day  int // the day's index in the site's history
	Load string
	Hour string
}

// siteProfiles are the sites a history runs at, by seed: customer centres
// of 3, 4 and 6 counters, and one with a vehicle-registration service
// served at two counters of its own.
var siteProfiles = []struct {
	id  string
	kfz bool
}{{"chorweiler", false}, {"kalk", false}, {"innenstadt", false}, {"porz", false}, {"ehrenfeld", false}, {"nippes", true}}

// habit is how one counter's clerk usually works, drawn once per history:
// what a site lead could plan, and what the site's log teaches.
type habit struct {
	lateProb, lateMax    float64 // chance to open late, and by up to how many minutes
	breakProb            float64
	breakAt, breakLength float64 // minutes after opening, minutes
	leaveProb            float64
	startOffset          float64 // planned start after opening, minutes
	stays                bool    // never leaves early (the last counter of a service)
}

type hardDay struct {
	*day
	cond     Conditions
	planned  map[string]*hardPlan
	noShowP  float64
	grace    [2]float64
	walkins  []string
	open     time.Time
	walkEnd  time.Time
	load     string
	measured bool
	out      *[]HardRecord
	index    int
	siteID   string
	spread   map[string]float64
}

type hardPlan struct {
	start, breakAt, back, leave time.Time
	onBreak, gone, idle, away   bool
}

// History simulates a site's warm days followed by days measured days,
// with the conditions given, and returns the walk-ins of the measured days.
func History(seed uint64, cond Conditions, warm, days int) ([]HardRecord, error) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return nil, err
	}
	rnd := rand.New(rand.NewPCG(seed, 0x4a2d))
	prof := siteProfiles[seed%uint64(len(siteProfiles))]
	seedDef := appliance.Catalog[prof.id]
	services := slices.Clone(seedDef.Services)
	counters := slices.Clone(seedDef.Counters)
	if prof.kfz {
		services = append(services, queue.ServiceDefined{ID: "kfz", Name: "Kfz-Zulassung", NameEN: "Vehicle registration", Prefix: "K", ExpectedMinutes: 20})
		for _, id := range []string{strconv.Itoa(len(counters) + 1), strconv.Itoa(len(counters) + 2)} {
			counters = append(counters, queue.CounterDefined{ID: id, Name: "Platz " + id, Services: []string{"kfz"}})
		}
	}
	seedDef.Services, seedDef.Counters = services, counters
	st := queue.NewState(prof.id)
	first := time.Date(2025, time.January, 6, 0, 0, 0, 0, loc)
	for _, e := range seedDef.Events(first.Add(5 * time.Hour)) {
		st.Apply(e)
	}
	if cond.NoShows {
		st.NoShowGrace = time.Minute
	}
	// The site's truths: each service's real mean against the configured
	// one, and its spread; each counter's habits.
	factor, spread := map[string]float64{}, map[string]float64{}
	for _, s := range services {
		switch {
		case cond.ConfigOff:
			off := 0.25 + 0.15*rnd.Float64()
			if rnd.Float64() < 0.4 {
				off = -off * 0.8 // faster than configured: 20–32 %
			}
			factor[s.ID] = 1 + off
		default:
			factor[s.ID] = 1
		}
		spread[s.ID] = sigma[s.ID]
		if spread[s.ID] == 0 {
			spread[s.ID] = 0.45
		}
		if cond.HeavyTails {
			spread[s.ID] = 0.5 + 0.2*rnd.Float64()
		}
	}
	habits := map[string]*habit{}
	last := map[string]string{} // service -> the last counter serving it
	for _, c := range counters {
		for _, s := range c.Services {
			last[s] = c.ID
		}
	}
	for i, c := range counters {
		h := &habit{lateProb: 0.2 + 0.3*rnd.Float64(), lateMax: 10 + 30*rnd.Float64(),
			breakProb: 0.5 + 0.4*rnd.Float64(), breakAt: 120 + 180*rnd.Float64(), breakLength: 20 + 20*rnd.Float64(),
			leaveProb: 0.1 + 0.2*rnd.Float64()}
		if rnd.Float64() < 0.25 && i > 0 {
			h.startOffset = 30
		}
		for _, s := range c.Services {
			if last[s] == c.ID {
				h.stays = true
			}
		}
		habits[c.ID] = h
	}
	var out []HardRecord
	for i := range warm + days {
		date := first.AddDate(0, 0, 7*(i/2)+2*(i%2)) // Monday, Wednesday
		d := &hardDay{day: &day{rnd: rand.New(rand.NewPCG(seed, uint64(i)+1)), st: st, factor: map[string]float64{},
			counters: map[string]*counterPlan{}, records: map[string]*Record{}, noShow: map[string]bool{}},
			cond: cond, planned: map[string]*hardPlan{}, out: &out, index: i, siteID: prof.id, measured: i >= warm, spread: spread}
		for _, svc := range services { // in order: the draws are the seed's
			id, f := svc.ID, factor[svc.ID]
			d.factor[id] = f * (0.92 + 0.16*d.rnd.Float64()) // a day's own pace
			if !cond.ConfigOff {
				d.factor[id] = 0.8 + 0.45*d.rnd.Float64() // as Run's days
			}
			if cond.Drift {
				d.factor[id] *= math.Exp(0.3 * math.Sin(2*math.Pi*float64(i)/24))
			}
		}
		if err := d.run(date, habits, spread, prof.kfz); err != nil {
			return nil, fmt.Errorf("seed %d day %d: %w", seed, i, err)
		}
	}
	return out, nil
}

func (d *hardDay) run(date time.Time, habits map[string]*habit, spread map[string]float64, kfz bool) error {
	at := func(h, m int) time.Time { return date.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	d.open = at(7, 30)
	d.walkEnd = at(15, 0)
	length := 7.5
	if date.Weekday() == time.Wednesday {
		d.walkEnd, length = at(12, 0), 4.5
	}
	d.close = d.walkEnd
	minutes := func(m float64) time.Time { return d.open.Add(time.Duration(m * float64(time.Minute))) }
	// Staffing.
	d.order = d.st.CounterOrder
	leaving := false
	for i, id := range d.order {
		h := habits[id]
		p := &hardPlan{start: minutes(h.startOffset)}
		if !d.cond.LateOpen {
			p.start = d.open
			if i == len(d.order)-1 {
				p.start = minutes(30) // the last counter comes at 8:00, as in Run
			}
		} else if d.rnd.Float64() < h.lateProb {
			p.start = p.start.Add(time.Duration((5 + (h.lateMax-5)*d.rnd.Float64()) * float64(time.Minute)))
		}
		dayMinutes := length * 60
		if d.cond.Breaks {
			if d.rnd.Float64() < h.breakProb && h.breakAt < dayMinutes-60 {
				b := h.breakAt + 60*(d.rnd.Float64()-0.5)
				l := min(max(h.breakLength+20*(d.rnd.Float64()-0.5), 15), 45)
				p.breakAt, p.back = minutes(b), minutes(b+l)
			}
			if !h.stays && !leaving && d.rnd.Float64() < h.leaveProb {
				leaving = true // one clerk a day at most
				p.leave = minutes(dayMinutes - 30 - 120*d.rnd.Float64())
			}
		} else if date.Weekday() == time.Monday {
			// Run's fixed plan: counter 3 takes 30 minutes late in the
			// morning, counter 2 leaves at 13:00.
			if id == "3" {
				b := at(10, 30).Add(time.Duration(d.rnd.IntN(60)) * time.Minute)
				p.breakAt, p.back = b, b.Add(30*time.Minute)
			}
			if id == "2" {
				p.leave = at(13, 0)
			}
		}
		d.planned[id] = p
		d.push(event{at: p.start, kind: ready, counter: id})
	}
	// No-shows.
	d.noShowP, d.grace = noShowShare, [2]float64{3, 4}
	if d.cond.NoShows {
		d.noShowP, d.grace = 0.1+0.1*d.rnd.Float64(), [2]float64{1, 3}
	}
	// Load of the day.
	x := d.rnd.Float64()
	scale := 1.0
	switch {
	case x < 0.3:
		d.load, scale = Light, 0.8
	case x < 0.75:
		d.load, scale = Normal, 0.95
	default:
		d.load, scale = Heavy, 1.1
	}
	staffed := 0
	for _, c := range d.order {
		if !slices.Equal(d.st.Counters[c].Services, []string{"kfz"}) {
			staffed++
		}
	}
	// Arrivals grow with the counters (more slowly beyond four: the
	// centres' extra counters do not serve ID cards), and with the truth
	// of the service times rather than the configuration: a site whose
	// configured minutes are off is not busier for it.
	scale *= min(float64(staffed), 4+0.5*float64(max(staffed-4, 0))) / 4
	pace := 0.0
	for _, svc := range []string{"ausweis", "meldung", "bescheinigung", "abholung"} {
		pace += mix[svc] * d.factor[svc]
	}
	scale /= pace
	if date.Weekday() == time.Wednesday {
		scale *= 0.85
	}
	d.hardArrivals(at, scale, kfz)
	for d.q.Len() > 0 {
		e := heap.Pop(&d.q).(event)
		if e.at.Sub(d.open) > 15*time.Hour {
			return fmt.Errorf("%d still waiting at %s", d.st.WaitingCount(), e.at.Format("15:04"))
		}
		if err := d.handle(e); err != nil {
			return fmt.Errorf("at %s: %w", e.at.Format("15:04:05"), err)
		}
	}
	for _, id := range d.ids {
		r := d.records[id]
		if math.IsNaN(r.Actual) {
			return fmt.Errorf("%s was never called", r.Number)
		}
	}
	if !d.measured {
		return nil
	}
	for _, id := range d.walkins {
		r := d.records[id]
		t := d.st.Tickets[id]
		m := t.IssuedAt.Sub(d.open).Minutes()
		span := d.walkEnd.Sub(d.open).Minutes()
		hour := Other
		switch {
		case m < 60:
			hour = FirstHour
		case m >= span-60:
			hour = LastHour
		case m < 180:
			hour = Peak
		}
		*d.out = append(*d.out, HardRecord{Record: *r, Site: d.siteID, Day: d.index, Load: d.load, Hour: hour})
	}
	return nil
}

// hardArrivals schedules the day's walk-ins, bookings and check-ins.
func (d *hardDay) hardArrivals(at func(h, m int) time.Time, scale float64, kfz bool) {
	services := []string{"ausweis", "meldung", "bescheinigung", "abholung"}
	pick := func() string {
		x := d.rnd.Float64()
		for _, s := range services {
			if x -= mix[s]; x < 0 {
				return s
			}
		}
		return services[len(services)-1]
	}
	walkIn := func(t time.Time, svc string) {
		if t.Before(d.walkEnd) {
			d.push(event{at: t, kind: arrive, service: svc, channel: "kiosk"})
		}
	}
	burstShare := 0.0
	if d.cond.Bursts {
		burstShare = 0.25
	}
	total := 0.0
	for h, rate := range hourly {
		from, to := at(7+h, 0), at(8+h, 0)
		if from.Before(d.open) {
			from = d.open
		}
		if !from.Before(d.walkEnd) {
			break
		}
		if to.After(d.walkEnd) {
			to = d.walkEnd
		}
		rate *= scale * (1 - appointmentShare)
		total += rate * to.Sub(from).Hours()
		smooth := rate * (1 - burstShare)
		t := from
		for {
			t = t.Add(time.Duration(d.rnd.ExpFloat64() / smooth * float64(time.Hour)))
			if !t.Before(to) {
				break
			}
			walkIn(t, pick())
		}
		if burstShare == 0 {
			continue
		}
		// Groups of 6–10 within two minutes (a school class, a tour bus,
		// the tram), a quarter of the hour's walk-ins.
		want := rate * burstShare * to.Sub(from).Hours()
		for n := 0.0; ; {
			size := 6 + d.rnd.IntN(5)
			if n += float64(size); n > want+float64(size)*d.rnd.Float64() {
				break
			}
			start := from.Add(time.Duration(d.rnd.Float64() * float64(to.Sub(from))))
			for range size {
				walkIn(start.Add(time.Duration(d.rnd.Float64()*float64(2*time.Minute))), pick())
			}
		}
	}
	if d.cond.Bursts {
		// The crowd at the door: 8–20 per four counters in the first
		// three minutes.
		n := int(scale * (8 + 12*d.rnd.Float64()))
		for range n {
			walkIn(d.open.Add(time.Duration(d.rnd.Float64()*float64(3*time.Minute))), pick())
		}
	}
	if kfz {
		// Vehicle registration: about five an hour for its two counters.
		t := d.open
		for {
			t = t.Add(time.Duration(d.rnd.ExpFloat64() / (5 * scale * 4 / 5) * float64(time.Hour)))
			if !t.Before(d.walkEnd) {
				break
			}
			walkIn(t, "kfz")
		}
	}
	// Bookings, as in Run.
	slots := int(total / (1 - appointmentShare) * appointmentShare)
	first := d.open.Add(10 * time.Minute)
	span := d.walkEnd.Add(-20 * time.Minute).Sub(first)
	for i := range slots {
		slot := first.Add(span * time.Duration(i) / time.Duration(slots))
		code := fmt.Sprintf("H%02d%04d", d.index%100, i)
		svc := pick()
		booked := at(6, 0)
		if d.rnd.Float64() >= bookedAhead {
			lead := time.Duration((30 + 150*d.rnd.Float64()) * float64(time.Minute))
			if booked = slot.Add(-lead); booked.Before(at(7, 0)) {
				booked = at(7, 0)
			}
		}
		d.push(event{at: booked, kind: book, service: svc, code: code, slot: slot})
		if d.rnd.Float64() < missedShare {
			continue
		}
		early := d.rnd.Float64() * 10
		if d.cond.Punctuality {
			early = 5 + 12*d.rnd.NormFloat64()
			early = min(max(early, -20), 30)
		}
		arrival := slot.Add(-time.Duration(early * float64(time.Minute)))
		if arrival.After(slot.Add(queue.LateCheckIn)) || !arrival.Before(d.walkEnd) {
			continue // too late: does not come
		}
		d.push(event{at: arrival, kind: arrive, service: svc, channel: "appointment", code: code})
	}
}

func (d *hardDay) handle(e event) error {
	switch e.kind {
	case arrive:
		return d.issue(e)
	case ready:
		return d.ready(e)
	case recall:
		ev, err := d.st.Recall(e.at, e.counter)
		if err == nil {
			d.st.Apply(ev)
		}
		return nil
	case done:
		c := d.st.Counters[e.counter]
		var ev queue.Event
		var err error
		if d.noShow[c.Current] {
			ev, err = d.st.NoShow(e.at, e.counter)
		} else {
			ev, err = d.st.Finish(e.at, e.counter)
		}
		if err != nil {
			return err
		}
		d.st.Apply(ev)
		d.push(event{at: e.at.Add(time.Duration((0.1 + 0.8*d.rnd.Float64()) * float64(time.Minute))), kind: ready, counter: e.counter})
		return nil
	}
	return d.day.handle(e)
}

// issue issues a ticket; a walk-in's record holds what the kiosk showed.
func (d *hardDay) issue(e event) error {
	d.tokens++
	token := fmt.Sprintf("hrd-%022d", d.tokens)
	shown := d.st.EstimateNew(e.service)
	open := 0
	for _, c := range d.st.Counters {
		if c.Open {
			open++
		}
	}
	var ev queue.Event
	var err error
	if e.code != "" {
		ev, _, err = d.st.CheckIn(e.at, e.code, token, e.channel)
	} else {
		ev, err = d.st.IssueTicket(e.at, e.service, token, e.channel)
	}
	if err != nil {
		return err
	}
	p := ev.Payload.(*queue.TicketIssued)
	p.EstimateMinutes, p.EstimateP90 = &shown.Minutes, &shown.P90 // as the appliance records it
	d.st.Apply(ev)
	zms := float64(shown.Position) * float64(d.st.Services[e.service].ExpectedMinutes) / float64(max(open, 1))
	d.records[p.ID] = &Record{Number: p.Number, Service: e.service, Channel: e.channel,
		Veedel: shown.Minutes, P90: shown.P90, ZMS: zms, Actual: math.NaN()}
	d.ids = append(d.ids, p.ID)
	if e.code == "" {
		d.walkins = append(d.walkins, p.ID)
	}
	d.noShow[p.ID] = d.rnd.Float64() < d.noShowP
	d.records[p.ID].NoShow = d.noShow[p.ID]
	for _, id := range d.order {
		if pl := d.planned[id]; pl.idle {
			pl.idle = false
			d.push(event{at: e.at.Add(time.Duration(d.rnd.Float64() * float64(30*time.Second))), kind: ready, counter: id})
		}
	}
	return nil
}

// ready: the clerk starts the day, goes on a break or home when it is
// time, or calls the next ticket, or waits for the next arrival.
func (d *hardDay) ready(e event) error {
	pl := d.planned[e.counter]
	c := d.st.Counters[e.counter]
	switch {
	case pl.gone:
		return nil
	case pl.onBreak:
		pl.onBreak = false
	case !pl.leave.IsZero() && !e.at.Before(pl.leave):
		pl.gone = true
		return d.closeCounter(e.at, e.counter)
	case !pl.breakAt.IsZero() && !e.at.Before(pl.breakAt) && e.at.Before(pl.back) && !pl.away:
		pl.onBreak, pl.away = true, true
		d.push(event{at: pl.back, kind: ready, counter: e.counter})
		return d.closeCounter(e.at, e.counter)
	}
	if !c.Open {
		ev, err := d.st.OpenCounter(e.at, e.counter, "staff"+e.counter)
		if err != nil {
			return err
		}
		d.st.Apply(ev)
	}
	events, err := d.st.CallNext(e.at, e.counter, "staff"+e.counter)
	if err != nil {
		if !e.at.Before(d.close) && d.st.WaitingCount() == 0 {
			pl.gone = true
			return d.closeCounter(e.at, e.counter)
		}
		pl.idle = true
		if !e.at.Before(d.close) {
			pl.idle = false
			d.push(event{at: e.at.Add(5 * time.Minute), kind: ready, counter: e.counter})
		}
		return nil
	}
	for _, ev := range events {
		d.st.Apply(ev)
	}
	called := events[len(events)-1].Payload.(*queue.TicketCalled)
	t := d.st.Tickets[called.ID]
	r := d.records[t.ID]
	r.Actual = t.CalledAt.Sub(t.IssuedAt).Minutes()
	if d.noShow[t.ID] {
		grace := d.grace[0] + (d.grace[1]-d.grace[0])*d.rnd.Float64()
		for m := 1.0; m < grace; m++ {
			d.push(event{at: e.at.Add(time.Duration(m * float64(time.Minute))), kind: recall, counter: e.counter})
		}
		d.push(event{at: e.at.Add(time.Duration(grace * float64(time.Minute))), kind: done, counter: e.counter})
		return nil
	}
	svc := d.st.Services[t.Service]
	mean := float64(svc.ExpectedMinutes) * d.factor[t.Service]
	s := d.sigmaOf(t.Service)
	minutes := math.Exp(math.Log(mean) - s*s/2 + s*d.rnd.NormFloat64())
	d.push(event{at: e.at.Add(time.Duration(minutes * float64(time.Minute))), kind: done, counter: e.counter})
	return nil
}

func (d *hardDay) sigmaOf(service string) float64 { return d.spread[service] }

// Figures summarise records: the mean absolute error of Veedel's estimate
// and of the ZMS formula, their ratio, Veedel's MAE for waits under an
// hour, the share that waited longer than the P90 shown, and the bias
// (estimate minus actual; positive is pessimistic).
type Figures struct {
	Tickets      int
	VeedelMAE    float64
	ZMSMAE       float64
	Ratio        float64
	VeedelMAEU60 float64
	BeyondP90    float64
	Bias         float64
	MeanWait     float64
}

// Summarise returns the figures of records.
func Summarise(records []HardRecord) Figures {
	var f Figures
	u60, nu60 := 0.0, 0
	for _, r := range records {
		f.Tickets++
		f.VeedelMAE += math.Abs(float64(r.Veedel) - r.Actual)
		f.ZMSMAE += math.Abs(r.ZMS - r.Actual)
		f.Bias += float64(r.Veedel) - r.Actual
		f.MeanWait += r.Actual
		if r.Actual < 60 {
			u60 += math.Abs(float64(r.Veedel) - r.Actual)
			nu60++
		}
		if r.Actual > float64(r.P90) {
			f.BeyondP90++
		}
	}
	n := float64(max(f.Tickets, 1))
	f.VeedelMAE /= n
	f.ZMSMAE /= n
	f.Bias /= n
	f.MeanWait /= n
	f.BeyondP90 /= n
	f.VeedelMAEU60 = u60 / float64(max(nu60, 1))
	if f.ZMSMAE > 0 {
		f.Ratio = f.VeedelMAE / f.ZMSMAE
	}
	return f
}

// By splits records by a key.
func By(records []HardRecord, key func(HardRecord) string) map[string][]HardRecord {
	out := map[string][]HardRecord{}
	for _, r := range records {
		out[key(r)] = append(out[key(r)], r)
	}
	return out
}

func (f Figures) String() string {
	return fmt.Sprintf("n=%5d  mae %5.2f  zms %5.2f  ratio %.2f  u60 %5.2f  >p90 %5.1f%%  bias %+6.2f  wait %5.1f",
		f.Tickets, f.VeedelMAE, f.ZMSMAE, f.Ratio, f.VeedelMAEU60, 100*f.BeyondP90, f.Bias, f.MeanWait)
}
