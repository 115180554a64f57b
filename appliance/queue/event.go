package queue

import (
	"time"

	"github.com/veedel/veedel/workflow"
)

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

	// Calling rules and the full ticket lifecycle.
	TypeBookingCreated    = "queue.booking_created"
	TypeTicketStarted     = "queue.ticket_started"
	TypeTicketParked      = "queue.ticket_parked"
	TypeTicketCalledBack  = "queue.ticket_called_back"
	TypeTicketTransferred = "queue.ticket_transferred"
	TypeTicketCancelled   = "queue.ticket_cancelled"

	// TypeCancelRequested comes from central only (the citizen pressed
	// "cancel" on the status page): the site decides what it changes
	// (AcceptCancel) and never keeps it in its own change-log.
	TypeCancelRequested = "queue.cancel_requested"

	// TypeGroupDefined adds or changes a service group: services that
	// share one ticket prefix and one number sequence.
	TypeGroupDefined = "queue.group_defined"

	// TypeBookingCancelled records that an appointment is off (the
	// citizen cancelled it at central, or moved it).
	TypeBookingCancelled = "queue.booking_cancelled"
)

// Ticket classes: the calling rule (NextFor) ranks them.
const (
	ClassWalkIn        = ""              // the default: longest waiting first
	ClassAppointment   = "appointment"   // checked in with a booking code; called around its slot
	ClassAccessibility = "accessibility" // accessibility needs: before walk-ins
)

// Event is one state change of a site's queue. At is the site's time of the
// change (from its hybrid logical clock); Payload is a pointer to one of the
// payload types below (NewPayload makes them; Apply ignores anything else).
//
// It is the change-log's event of every workflow (workflow.Event); the
// queue's payloads are the ones below.
type Event = workflow.Event

// SiteDescribed names the site and its opening hours.
type SiteDescribed struct {
	ID       string         `cbor:"1,keyasint" json:"id"`
	Name     string         `cbor:"2,keyasint" json:"name"`
	TimeZone string         `cbor:"3,keyasint" json:"time_zone"`
	Hours    []OpeningHours `cbor:"4,keyasint" json:"hours"`
	// WalkIn are the walk-in hours (Cologne: Monday 7:30–15:00, Wednesday
	// 7:30–12:00): the opening hours in which citizens are served without
	// an appointment. They lie within Hours. None (nil or empty: the two
	// are the same on the wire) means walk-ins whenever the site is open,
	// as before walk-in hours existed. Optional and additive: absent in
	// entries written before it existed, ignored by older folds. A
	// description is whole: one without walk-in hours clears them.
	WalkIn []OpeningHours `cbor:"5,keyasint,omitempty" json:"walk_in,omitempty"`
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
	// Group is the service group (GroupDefined.ID) the service belongs
	// to, or "" for none. A grouped service's tickets take the group's
	// prefix and number sequence; Prefix is then its own prefix only for
	// folds that know no groups. Optional and additive: absent in entries
	// written before groups existed, ignored by older folds. A definition
	// is whole: one without a group takes the service out of its group.
	Group string `cbor:"6,keyasint,omitempty" json:"group,omitempty"`
}

// GroupDefined adds or changes a service group (e.g. "A" Ausweis und
// Pass): its services share the group's ticket prefix and one number
// sequence a day (A001, A002 across all of them).
type GroupDefined struct {
	ID     string `cbor:"1,keyasint" json:"id"`
	Name   string `cbor:"2,keyasint" json:"name"`
	NameEN string `cbor:"3,keyasint" json:"name_en"`
	Prefix string `cbor:"4,keyasint" json:"prefix"`
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
	// Estimate is the wait (Minutes, P90) a walk-in of this service was
	// shown just before the ticket was issued, for the statistics'
	// estimate accuracy. Optional and additive: nil in entries written
	// before it existed, ignored by older folds. Keys 20 and 21 keep clear
	// of the low keys other ticket fields take.
	EstimateMinutes *int `cbor:"20,keyasint,omitempty"`
	EstimateP90     *int `cbor:"21,keyasint,omitempty"`
	// Class is the priority class (ClassWalkIn when empty). Booking and
	// Slot (Unix milliseconds) are set for an appointment check-in.
	Class   string `cbor:"6,keyasint,omitempty"`
	Booking string `cbor:"7,keyasint,omitempty"`
	Slot    int64  `cbor:"8,keyasint,omitempty"`
	// Ref is the record of a workflow the ticket was issued for (a
	// pickup: "order/U…"), for the clerk who calls it. Optional, additive.
	Ref string `cbor:"9,keyasint,omitempty"`
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

// BookingCreated records an appointment a citizen booked: the code they
// type (or scan) at the kiosk, the service, and the slot (Unix
// milliseconds). Created by the desk, an admin or a seed; later sent down
// by central.
type BookingCreated struct {
	Code    string `cbor:"1,keyasint"`
	Service string `cbor:"2,keyasint"`
	Slot    int64  `cbor:"3,keyasint"`
	// Online: central sold it from its share of the slot (slots.go).
	// Optional and additive: absent (false) for the site's own bookings.
	Online bool `cbor:"4,keyasint,omitempty"`
	// For names the record the booking is for, as the workflow that made
	// it names it (appointment.Booked.For: a school-entry exam's child),
	// "" for none. Check-in resolves it to the workflow's record
	// (workflow.Site.BookedFor), so that the booking's code and the
	// record's own code check in to one ticket. Optional and additive.
	For string `cbor:"5,keyasint,omitempty"`
}

// BookingCancelled records that an appointment is off.
type BookingCancelled struct {
	Code string `cbor:"1,keyasint"`
}

// TicketStarted records that the called citizen arrived at the counter:
// the service time runs from here.
type TicketStarted struct {
	ID      string `cbor:"1,keyasint"`
	Counter string `cbor:"2,keyasint"`
}

// TicketParked records that a counter set its ticket aside (the citizen
// fetches a document); the counter may call it back later.
type TicketParked struct {
	ID      string `cbor:"1,keyasint"`
	Counter string `cbor:"2,keyasint"`
}

// TicketCalledBack records that a counter called its parked ticket again.
type TicketCalledBack struct {
	ID      string `cbor:"1,keyasint"`
	Counter string `cbor:"2,keyasint"`
}

// TicketTransferred records that a counter handed its ticket on: to
// another service (any counter serving it) or to one counter. The ticket
// waits again with its original arrival time.
type TicketTransferred struct {
	ID        string `cbor:"1,keyasint"`
	Counter   string `cbor:"2,keyasint"` // the counter that transferred it
	Service   string `cbor:"3,keyasint"` // the service it waits for now
	ToCounter string `cbor:"4,keyasint,omitempty"`
}

// TicketCancelled records that the citizen gave up their ticket.
type TicketCancelled struct {
	ID string `cbor:"1,keyasint"`
}

// CancelRequested asks the site to cancel a ticket at the citizen's
// request, sent down by central. No personal data: the ticket's ID only.
type CancelRequested struct {
	ID string `cbor:"1,keyasint"`
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
	case TypeBookingCreated:
		return &BookingCreated{}, true
	case TypeTicketStarted:
		return &TicketStarted{}, true
	case TypeTicketParked:
		return &TicketParked{}, true
	case TypeTicketCalledBack:
		return &TicketCalledBack{}, true
	case TypeTicketTransferred:
		return &TicketTransferred{}, true
	case TypeTicketCancelled:
		return &TicketCancelled{}, true
	case TypeCancelRequested:
		return &CancelRequested{}, true
	case TypeDeviceReported:
		return &DeviceReported{}, true
	case TypeGroupDefined:
		return &GroupDefined{}, true
	case TypeBookingCancelled:
		return &BookingCancelled{}, true
	case TypeStaffingPlanned:
		return &StaffingPlanned{}, true
	case TypeOnlineShareSet:
		return &OnlineShareSet{}, true
	case TypeOnlineShareAcked:
		return &OnlineShareAcked{}, true
	}
	return nil, false
}
