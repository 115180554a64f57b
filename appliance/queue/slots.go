package queue

import (
	"fmt"
	"time"

	"github.com/veedel/veedel"
)

// Appointment slots. A site's bookable capacity per service and time comes
// from its counters and hours: a service's slots start every SlotLength
// within the opening hours, and each has as many places as counters serve
// the service. The places are split between two owners, so that neither
// can overbook the other while the WAN is down: central sells OnlineShare
// of them on the portal (it counts what it sold itself), the site's staff
// book the rest (the site counts its own bookings). Both sides compute the
// same plan from the same state, since central folds the site's log with
// this reducer.

// Slot is one bookable time of a service.
type Slot struct {
	Start    time.Time
	Length   time.Duration
	Capacity int // places in all: counters serving the service
	Online   int // the places of Capacity central may sell online (OnlineShareOf)
}

// SlotLength is the length of a service's slots: its expected minutes,
// rounded up to 5, at least 10 (15 when unknown).
func (s *State) SlotLength(service string) time.Duration {
	m := 15
	if svc := s.Services[service]; svc != nil && svc.ExpectedMinutes > 0 {
		m = (svc.ExpectedMinutes + 4) / 5 * 5
	}
	return time.Duration(max(m, 10)) * time.Minute
}

// SlotCapacity is how many counters serve service.
func (s *State) SlotCapacity(service string) int {
	n := 0
	for _, c := range s.Counters {
		if c.Serves(service) {
			n++
		}
	}
	return n
}

// OnlineShare is the default part of a slot's capacity central may sell
// online (the site may set another, onlineshare.go); the rest is the
// site's staff's.
func OnlineShare(capacity int) int { return capacity / 2 }

// Slots returns the plan of service on day (YYYY-MM-DD, site time): every
// slot that ends within an opening interval of the day's weekday.
func (s *State) Slots(service, day string) ([]Slot, error) {
	if s.Services[service] == nil {
		return nil, veedel.Errorf(veedel.EINVALID, "Unbekanntes Anliegen %q / unknown service", service)
	}
	d, err := time.ParseInLocation(time.DateOnly, day, s.Site.Location)
	if err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "Datum %q: bitte JJJJ-MM-TT / date %q: use YYYY-MM-DD", day, day)
	}
	length, capacity := s.SlotLength(service), s.SlotCapacity(service)
	var out []Slot
	for _, h := range s.Site.Hours {
		if h.Weekday != d.Weekday() {
			continue
		}
		open := time.Date(d.Year(), d.Month(), d.Day(), h.Open/60, h.Open%60, 0, 0, s.Site.Location)
		end := time.Date(d.Year(), d.Month(), d.Day(), h.Close/60, h.Close%60, 0, 0, s.Site.Location)
		for t := open; !t.Add(length).After(end); t = t.Add(length) {
			out = append(out, Slot{Start: t, Length: length, Capacity: capacity, Online: s.OnlineShareOf(service, capacity)})
		}
	}
	return out, nil
}

// SlotOf returns the plan slot of service that contains t.
func (s *State) SlotOf(service string, t time.Time) (Slot, bool) {
	slots, err := s.Slots(service, s.DayOf(t))
	if err != nil {
		return Slot{}, false
	}
	for _, sl := range slots {
		if !t.Before(sl.Start) && t.Before(sl.Start.Add(sl.Length)) {
			return sl, true
		}
	}
	return Slot{}, false
}

// Booked counts the bookings of service in slot, those sold online or the
// site's own.
func (s *State) Booked(service string, sl Slot, online bool) int {
	n := 0
	for _, b := range s.bookings {
		if b.Service == service && b.Online == online && !b.Slot.Before(sl.Start) && b.Slot.Before(sl.Start.Add(sl.Length)) {
			n++
		}
	}
	return n
}

// checkSiteShare refuses a staff booking at t when the site's share of
// its slot is taken. A time outside the plan (a special appointment the
// desk arranges out of hours) takes no place of the plan.
func (s *State) checkSiteShare(service string, t time.Time) error {
	sl, ok := s.SlotOf(service, t)
	if !ok {
		return nil
	}
	// Online bookings beyond the online share (sold before a smaller
	// share) keep their places too.
	share := sl.Capacity - max(sl.Online, s.Booked(service, sl, true))
	if s.Booked(service, sl, false) >= share {
		local := sl.Start.In(s.Site.Location)
		return veedel.Errorf(veedel.ECONFLICT, "Die Termine des Amts um %s sind vergeben (%d von %d; %d sind für Online-Buchungen) / the site's appointments at %s are taken",
			local.Format("15:04"), share, sl.Capacity, sl.Online, local.Format("15:04"))
	}
	return nil
}

// AcceptOnlineBooking takes over an appointment central sold from its
// share: it is the site's like any booking (check-in, calling order,
// estimates) and counts against central's share, never the site's. The
// same booking again changes nothing.
func (s *State) AcceptOnlineBooking(at time.Time, code, service string, slot time.Time) ([]Event, error) {
	code = NormalizeBookingCode(code)
	if !bookingCodePattern.MatchString(code) {
		return nil, veedel.Errorf(veedel.EINVALID, "Buchungscode %q ungültig / booking code invalid", code)
	}
	if b := s.bookings[code]; b != nil {
		if b.Service == service && b.Slot.Equal(slot) {
			return nil, nil
		}
		return nil, veedel.Errorf(veedel.ECONFLICT, "Buchungscode %s ist hier schon vergeben / booking code %s is taken here", code, code)
	}
	if s.Services[service] == nil {
		return nil, veedel.Errorf(veedel.EINVALID, "Unbekanntes Anliegen %q / unknown service", service)
	}
	return []Event{{Type: TypeBookingCreated, Entity: "booking/" + code, At: at,
		Payload: &BookingCreated{Code: code, Service: service, Slot: slot.UnixMilli(), Online: true}}}, nil
}

// CancelBooking records that an appointment is off; one that checked in
// already stays (its ticket is the site's now).
func (s *State) CancelBooking(at time.Time, code string) ([]Event, error) {
	code = NormalizeBookingCode(code)
	b := s.bookings[code]
	switch {
	case b == nil:
		return nil, nil // gone already (cancelled, or its day is over)
	case b.Ticket != "":
		return nil, veedel.Errorf(veedel.ECONFLICT, "Buchung %s ist schon eingecheckt / booking %s has checked in", code, code)
	}
	return []Event{{Type: TypeBookingCancelled, Entity: "booking/" + code, At: at, Payload: &BookingCancelled{Code: code}}}, nil
}

func (sl Slot) String() string {
	return fmt.Sprintf("%s+%v×%d", sl.Start.Format(time.RFC3339), sl.Length, sl.Capacity)
}
