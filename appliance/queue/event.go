package queue

import "time"

// Event types. They are part of the wire format of the change-log: never
// rename one; add a new type instead.
const (
	TypeSiteDescribed  = "queue.site_described"
	TypeServiceDefined = "queue.service_defined"
	TypeCounterDefined = "queue.counter_defined"
	TypeCounterOpened  = "queue.counter_opened"
	TypeCounterClosed  = "queue.counter_closed"
	TypeTicketIssued   = "queue.ticket_issued"
	TypeTicketCalled   = "queue.ticket_called"
	TypeTicketRecalled = "queue.ticket_recalled"
	TypeTicketFinished = "queue.ticket_finished"
	TypeTicketNoShow   = "queue.ticket_no_show"
)

// Event is one state change of a site's queue. At is the site's time of the
// change (from its hybrid logical clock); Payload is a pointer to one of the
// payload types below (NewPayload makes them; Apply ignores anything else).
type Event struct {
	Type    string
	Entity  string
	At      time.Time
	Payload any
}

// SiteDescribed names the site and its opening hours.
type SiteDescribed struct {
	ID       string         `cbor:"1,keyasint" json:"id"`
	Name     string         `cbor:"2,keyasint" json:"name"`
	TimeZone string         `cbor:"3,keyasint" json:"time_zone"`
	Hours    []OpeningHours `cbor:"4,keyasint" json:"hours"`
}

// OpeningHours is one opening interval on a weekday, in the site's time
// zone, as minutes since midnight.
type OpeningHours struct {
	Weekday time.Weekday `cbor:"1,keyasint" json:"weekday"`
	Open    int          `cbor:"2,keyasint" json:"open"`
	Close   int          `cbor:"3,keyasint" json:"close"`
}

// ServiceDefined adds or changes a service (Anliegen).
type ServiceDefined struct {
	ID              string `cbor:"1,keyasint" json:"id"`
	Name            string `cbor:"2,keyasint" json:"name"`
	NameEN          string `cbor:"3,keyasint" json:"name_en"`
	Prefix          string `cbor:"4,keyasint" json:"prefix"`
	ExpectedMinutes int    `cbor:"5,keyasint" json:"expected_minutes"`
}

// CounterDefined adds or changes a counter (Platz) and what it serves.
type CounterDefined struct {
	ID       string   `cbor:"1,keyasint" json:"id"`
	Name     string   `cbor:"2,keyasint" json:"name"`
	Services []string `cbor:"3,keyasint" json:"services"`
}

// CounterOpened records that a clerk staffs a counter.
type CounterOpened struct {
	Counter string `cbor:"1,keyasint"`
	Staff   string `cbor:"2,keyasint"`
}

// CounterClosed records that a counter is no longer staffed.
type CounterClosed struct {
	Counter string `cbor:"1,keyasint"`
}

// TicketIssued records a new ticket. Token is the random, unguessable key
// behind the ticket's QR code; Number is what the citizen reads ("A042").
type TicketIssued struct {
	ID      string `cbor:"1,keyasint"`
	Token   string `cbor:"2,keyasint"`
	Number  string `cbor:"3,keyasint"`
	Service string `cbor:"4,keyasint"`
	Channel string `cbor:"5,keyasint"`
}

// TicketCalled records that a counter called a ticket.
type TicketCalled struct {
	ID      string `cbor:"1,keyasint"`
	Counter string `cbor:"2,keyasint"`
}

// TicketRecalled records that a counter called the same ticket again.
type TicketRecalled struct {
	ID      string `cbor:"1,keyasint"`
	Counter string `cbor:"2,keyasint"`
}

// TicketFinished records that a ticket has been served.
type TicketFinished struct {
	ID      string `cbor:"1,keyasint"`
	Counter string `cbor:"2,keyasint"`
}

// TicketNoShow records that a called citizen did not come.
type TicketNoShow struct {
	ID      string `cbor:"1,keyasint"`
	Counter string `cbor:"2,keyasint"`
}

// NewPayload returns a pointer to a zero payload for an event type, for
// decoders, or false for a type this version does not know.
func NewPayload(eventType string) (any, bool) {
	switch eventType {
	case TypeSiteDescribed:
		return &SiteDescribed{}, true
	case TypeServiceDefined:
		return &ServiceDefined{}, true
	case TypeCounterDefined:
		return &CounterDefined{}, true
	case TypeCounterOpened:
		return &CounterOpened{}, true
	case TypeCounterClosed:
		return &CounterClosed{}, true
	case TypeTicketIssued:
		return &TicketIssued{}, true
	case TypeTicketCalled:
		return &TicketCalled{}, true
	case TypeTicketRecalled:
		return &TicketRecalled{}, true
	case TypeTicketFinished:
		return &TicketFinished{}, true
	case TypeTicketNoShow:
		return &TicketNoShow{}, true
	}
	return nil, false
}
