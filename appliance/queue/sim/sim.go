// Package sim is a discrete-event simulator of a Cologne customer-centre
// walk-in day (Monday 7:30–15:00). It drives the real queue code — State,
// its commands and Apply — and records, for every ticket at the moment it
// is issued, Veedel's wait estimate with its P90, the ZMS estimate
// (position × configured average ÷ logged-in counters) and, once the ticket
// is called, the actual wait. Appointments are booked as on a real day
// (most before opening, some during the day; some citizens never come) and
// check in with their code, so that the calling rule puts them first when
// due. Everything is seeded: the same seed gives the same day.
package sim

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/veedel/veedel/appliance"
	"github.com/veedel/veedel/appliance/queue"
)

// Record is one ticket of a simulated day.
type Record struct {
	Number  string
	Service string
	Channel string  // "kiosk" for walk-ins, "appointment" for booked slots
	Veedel  int     // Veedel's estimate at issue, minutes
	P90     int     // Veedel's P90 at issue, minutes
	ZMS     float64 // the ZMS formula at issue, minutes
	Actual  float64 // minutes from issue to the first call
	NoShow  bool
}

// Day is the outcome of one simulated day.
type Day struct {
	Seed    uint64
	Records []Record
}

// hourly are the arrivals per hour from 7:00 (the first half hour closed,
// so a crowd at the door from 7:30), the morning peak, a quieter
// afternoon: about 190 citizens a day for 4 counters.
var hourly = []float64{36, 34, 30, 26, 22, 20, 16, 14}

// mix is the share of each service among walk-ins, and sigma the spread of
// its log-normal service time.
var (
	mix   = map[string]float64{"ausweis": 0.38, "meldung": 0.32, "bescheinigung": 0.15, "abholung": 0.15}
	sigma = map[string]float64{"ausweis": 0.45, "meldung": 0.5, "bescheinigung": 0.4, "abholung": 0.35}
)

const (
	noShowShare      = 0.065 // citizens who leave before their call
	appointmentShare = 0.12  // of the day's citizens, those with a booked slot
	// bookedAhead is the share of the day's bookings known before opening;
	// the others are booked during the day, from half an hour to a few
	// hours before their slot (online, by phone).
	bookedAhead = 0.8
	// missedShare is the share of bookings whose citizen never comes.
	missedShare = 0.12
	site        = "kalk"
)

type kind int

const (
	arrive kind = iota
	ready       // a counter's clerk is ready to call the next ticket
	done        // a service (or a no-show's grace period) ends
	recall      // a called citizen has not come: call again
	book        // an appointment is booked (sent down by central)
)

type event struct {
	at      time.Time
	seq     int
	kind    kind
	service string
	channel string
	counter string
	code    string    // booking code (book, and arrive with a booking)
	slot    time.Time // booked slot (book)
}

type events []event

func (e events) Len() int { return len(e) }
func (e events) Less(i, j int) bool {
	if !e[i].at.Equal(e[j].at) {
		return e[i].at.Before(e[j].at)
	}
	return e[i].seq < e[j].seq
}
func (e events) Swap(i, j int) { e[i], e[j] = e[j], e[i] }
func (e *events) Push(x any)   { *e = append(*e, x.(event)) }
func (e *events) Pop() any {
	old := *e
	x := old[len(old)-1]
	*e = old[:len(old)-1]
	return x
}

type counterPlan struct {
	start, leave       time.Time // opens at start, leaves for good at leave (zero: stays)
	breakAt, breakBack time.Time // away between them (zero: no break)
	onBreak, gone      bool
	idle               bool // waiting for a citizen to arrive
}

type day struct {
	rnd      *rand.Rand
	st       *queue.State
	q        events
	seq      int
	tokens   int
	factor   map[string]float64 // this day's true mean ÷ configured minutes
	counters map[string]*counterPlan
	order    []string
	records  map[string]*Record
	ids      []string
	noShow   map[string]bool
	close    time.Time
}

// Run simulates one Monday with a seed.
func Run(seed uint64) (Day, error) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return Day{}, err
	}
	// A Monday; every seed gets its own week, so days never mix.
	date := time.Date(2025, time.January, 6, 0, 0, 0, 0, loc).AddDate(0, 0, 7*int(seed%500))
	at := func(h, m int) time.Time { return date.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	d := &day{
		rnd: rand.New(rand.NewPCG(seed, 0x5eed)), st: queue.NewState(site),
		factor: map[string]float64{}, counters: map[string]*counterPlan{},
		records: map[string]*Record{}, noShow: map[string]bool{}, close: at(15, 0),
	}
	seedEvents := appliance.Catalog[site].Events(at(6, 0))
	for _, e := range seedEvents {
		d.st.Apply(e)
	}
	for _, id := range d.st.ServiceOrder {
		// The site's real pace differs from the configured minutes.
		d.factor[id] = 0.8 + 0.45*d.rnd.Float64()
	}
	// Counters: 1 and 2 open at 7:30, 3 at 7:30 with a 30-minute break
	// late in the morning, 4 comes at 8:00; 2 leaves at 13:00.
	d.order = d.st.CounterOrder
	for _, id := range d.order {
		d.counters[id] = &counterPlan{start: at(7, 30)}
	}
	d.counters["4"].start = at(8, 0)
	b := at(10, 30).Add(time.Duration(d.rnd.IntN(60)) * time.Minute)
	d.counters["3"].breakAt, d.counters["3"].breakBack = b, b.Add(30*time.Minute)
	d.counters["2"].leave = at(13, 0)
	for _, id := range d.order {
		d.push(event{at: d.counters[id].start, kind: ready, counter: id})
	}
	d.arrivals(at)
	for d.q.Len() > 0 {
		e := heap.Pop(&d.q).(event)
		if err := d.handle(e); err != nil {
			return Day{}, fmt.Errorf("seed %d at %s: %w", seed, e.at.Format("15:04:05"), err)
		}
	}
	out := Day{Seed: seed}
	for _, id := range d.ids {
		r := d.records[id]
		if math.IsNaN(r.Actual) {
			return Day{}, fmt.Errorf("seed %d: %s was never called", seed, r.Number)
		}
		out.Records = append(out.Records, *r)
	}
	return out, nil
}

func (d *day) push(e event) {
	d.seq++
	e.seq = d.seq
	e.at = e.at.Truncate(time.Millisecond) // HLC times are milliseconds
	heap.Push(&d.q, e)
}

// arrivals schedules the day's walk-ins (Poisson by hour), the bookings
// and the appointment holders (a booked slot every few minutes, arriving
// 0–10 minutes early to check in).
func (d *day) arrivals(at func(h, m int) time.Time) {
	services := d.st.ServiceOrder
	pick := func() string {
		x := d.rnd.Float64()
		for _, s := range services {
			if x -= mix[s]; x < 0 {
				return s
			}
		}
		return services[len(services)-1]
	}
	for h, rate := range hourly {
		if rate == 0 {
			continue
		}
		from, to := at(7+h, 0), at(8+h, 0)
		if from.Before(at(7, 30)) {
			from = at(7, 30)
		}
		rate *= 1 - appointmentShare
		t := from
		for {
			t = t.Add(time.Duration(d.rnd.ExpFloat64() / rate * float64(time.Hour)))
			if !t.Before(to) || !t.Before(d.close) {
				break
			}
			d.push(event{at: t, kind: arrive, service: pick(), channel: "kiosk"})
		}
	}
	total := 0.0
	for _, r := range hourly {
		total += r
	}
	// Bookings: most are known before opening, the rest come in during
	// the day; some citizens never come. Those who come check in with
	// their code 0–10 minutes before the slot.
	slots := int(total * appointmentShare)
	span := d.close.Sub(at(7, 40))
	for i := range slots {
		slot := at(7, 40).Add(span * time.Duration(i) / time.Duration(slots))
		code := fmt.Sprintf("SIM%04d", i)
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
		early := time.Duration(d.rnd.Float64() * float64(10*time.Minute))
		d.push(event{at: slot.Add(-early), kind: arrive, service: svc, channel: "appointment", code: code})
	}
}

func (d *day) handle(e event) error {
	switch e.kind {
	case arrive:
		return d.issue(e)
	case ready:
		return d.ready(e)
	case book:
		ev, err := d.st.CreateBooking(e.at, e.code, e.service, e.slot)
		if err != nil {
			return err
		}
		d.st.Apply(ev)
		return nil
	case recall:
		ev, err := d.st.Recall(e.at, e.counter)
		if err != nil {
			return err
		}
		d.st.Apply(ev)
		return nil
	case done:
		var ev queue.Event
		var err error
		c := d.st.Counters[e.counter]
		if d.noShow[c.Current] {
			ev, err = d.st.NoShow(e.at, e.counter)
		} else {
			ev, err = d.st.Finish(e.at, e.counter)
		}
		if err != nil {
			return err
		}
		d.st.Apply(ev)
		// The clerk types up and calls the next citizen within a minute.
		d.push(event{at: e.at.Add(time.Duration((0.1 + 0.8*d.rnd.Float64()) * float64(time.Minute))), kind: ready, counter: e.counter})
	}
	return nil
}

func (d *day) issue(e event) error {
	d.tokens++
	token := fmt.Sprintf("sim-%022d", d.tokens)
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
	d.st.Apply(ev)
	p := ev.Payload.(*queue.TicketIssued)
	est := d.st.EstimateTicket(p.ID)
	open := 0
	for _, c := range d.st.Counters {
		if c.Open {
			open++
		}
	}
	zms := float64(est.Position) * float64(d.st.Services[e.service].ExpectedMinutes) / float64(max(open, 1))
	d.records[p.ID] = &Record{Number: p.Number, Service: e.service, Channel: e.channel,
		Veedel: est.Minutes, P90: est.P90, ZMS: zms, Actual: math.NaN()}
	d.ids = append(d.ids, p.ID)
	d.noShow[p.ID] = d.rnd.Float64() < noShowShare
	d.records[p.ID].NoShow = d.noShow[p.ID]
	// Idle clerks notice the new citizen within half a minute.
	for _, id := range d.order {
		if pl := d.counters[id]; pl.idle {
			pl.idle = false
			d.push(event{at: e.at.Add(time.Duration(d.rnd.Float64() * float64(30*time.Second))), kind: ready, counter: id})
		}
	}
	return nil
}

// ready: the counter's clerk closes for a break or for good when it is
// time, or calls the next ticket, or waits idle for the next arrival.
func (d *day) ready(e event) error {
	pl := d.counters[e.counter]
	c := d.st.Counters[e.counter]
	switch {
	case pl.gone:
		return nil
	case pl.onBreak:
		pl.onBreak = false // back from the break
	case !pl.leave.IsZero() && !e.at.Before(pl.leave):
		pl.gone = true
		return d.closeCounter(e.at, e.counter)
	case !pl.breakAt.IsZero() && !e.at.Before(pl.breakAt) && e.at.Before(pl.breakBack):
		pl.onBreak = true
		d.push(event{at: e.at.Add(30 * time.Minute), kind: ready, counter: e.counter})
		return d.closeCounter(e.at, e.counter)
	}
	events, err := d.st.CallNext(e.at, e.counter, "staff"+e.counter)
	if err != nil {
		// Nobody waits for this counter: after closing time the clerk goes
		// home, before it waits for the next citizen.
		if !e.at.Before(d.close) && d.st.WaitingCount() == 0 {
			pl.gone = true
			if c.Open {
				return d.closeCounter(e.at, e.counter)
			}
			return nil
		}
		if !c.Open {
			ev, err := d.st.OpenCounter(e.at, e.counter, "staff"+e.counter)
			if err != nil {
				return err
			}
			d.st.Apply(ev)
		}
		pl.idle = true
		if !e.at.Before(d.close) {
			// Others still wait, for services this counter does not
			// serve: look again in a while.
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
		// Called twice more, then marked as not having come.
		d.push(event{at: e.at.Add(time.Minute), kind: recall, counter: e.counter})
		d.push(event{at: e.at.Add(2 * time.Minute), kind: recall, counter: e.counter})
		// No-show only after the grace period (3 minutes by default).
		grace := 3 + d.rnd.Float64()
		d.push(event{at: e.at.Add(time.Duration(grace * float64(time.Minute))), kind: done, counter: e.counter})
		return nil
	}
	svc := d.st.Services[t.Service]
	mean := float64(svc.ExpectedMinutes) * d.factor[t.Service]
	s := sigma[t.Service]
	minutes := math.Exp(math.Log(mean) - s*s/2 + s*d.rnd.NormFloat64())
	d.push(event{at: e.at.Add(time.Duration(minutes * float64(time.Minute))), kind: done, counter: e.counter})
	return nil
}

func (d *day) closeCounter(at time.Time, counter string) error {
	if !d.st.Counters[counter].Open {
		return nil
	}
	ev, err := d.st.CloseCounter(at, counter)
	if err != nil {
		return err
	}
	d.st.Apply(ev)
	return nil
}
