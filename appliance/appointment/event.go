// Package appointment is online booking: a citizen books a slot at
// central's portal, confirms it with a code sent to their phone or
// e-mail, and the booking goes down to the site, where it is a booking
// like the desk's (check-in at the kiosk, calling order, estimates).
//
// Ownership: each slot's places are split (queue/onlineshare.go: half
// unless the site sets another share): central sells its share and counts
// what it sold in its store (store.go), the site's staff book the rest
// and the site counts its own. Neither can overbook the other while the
// WAN is down, and central decides each hold under its database's lock,
// so that it never sells a place twice.
package appointment

import (
	"context"
	"time"

	"github.com/veedel/veedel/workflow"
)

// Prefix is the prefix of the workflow's event types.
const Prefix = "appointment."

// Event types: part of the wire format, never renamed.
const (
	// TypeBooked and TypeCancelled come from central only.
	TypeBooked    = "appointment.booked"
	TypeCancelled = "appointment.cancelled"

	// TypeReceived and TypeWithdrawn are the site's: it took the booking
	// over, or took it off after central's cancellation.
	TypeReceived  = "appointment.received"
	TypeWithdrawn = "appointment.withdrawn"
)

// Statuses as the citizen's status page and the API name them.
const (
	StatusHeld      = "held"      // waiting for the confirmation code
	StatusConfirmed = "confirmed" // sold; on its way to the site
	StatusAtSite    = "at_site"   // the site has it
	StatusCancelled = "cancelled"
	StatusExpired   = "expired" // held, never confirmed
)

// Booked is an appointment central sold, as it goes down. The name and
// contact are Sealed to the site (Contact, CBOR).
type Booked struct {
	Code        string `cbor:"1,keyasint"`
	Service     string `cbor:"2,keyasint"`
	Start       int64  `cbor:"3,keyasint"` // Unix milliseconds
	Sealed      []byte `cbor:"4,keyasint"`
	TokenHash   []byte `cbor:"5,keyasint"`
	ContactHash []byte `cbor:"6,keyasint"` // keyed hash of the contact: the per-contact limit
	BookedAt    int64  `cbor:"7,keyasint"`
	Lang        string `cbor:"8,keyasint,omitempty"`
	// For names the record the booking is for, "" for none: a
	// school-entry exam's child (its pseudonymous id, exam.ChildAssigned),
	// so that the site ties the slot to the child.
	For string `cbor:"9,keyasint,omitempty"`
}

// Cancelled takes an appointment off.
type Cancelled struct {
	Code string `cbor:"1,keyasint"`
}

// Received records that the site took the booking over.
type Received struct {
	Booked
}

// Withdrawn records that the site took the booking off.
type Withdrawn struct {
	Code string `cbor:"1,keyasint"`
}

// Contact is the personal part of an appointment.
type Contact struct {
	Name  string `cbor:"1,keyasint" json:"name"`
	Phone string `cbor:"2,keyasint,omitempty" json:"phone,omitempty"`
	Email string `cbor:"3,keyasint,omitempty" json:"email,omitempty"`
}

// NewPayload returns a pointer to a zero payload of an event type.
func NewPayload(eventType string) (any, bool) {
	switch eventType {
	case TypeBooked:
		return &Booked{}, true
	case TypeCancelled:
		return &Cancelled{}, true
	case TypeReceived:
		return &Received{}, true
	case TypeWithdrawn:
		return &Withdrawn{}, true
	}
	return nil, false
}

// Site is the workflow's part on the appliance (site.go).
var Site = workflow.Site{
	Name:       "appointment",
	Prefix:     Prefix,
	NewPayload: NewPayload,
	Project:    project,
	Accept:     accept,
	Due:        due,
	Erase: func(ctx context.Context, q workflow.Querier, now time.Time) (int64, error) {
		return eraseContacts(ctx, q, now.Add(-KeepContacts))
	},
}

// KeepContacts is how long the site keeps an appointment's name and
// contact after its day.
var KeepContacts = 7 * 24 * time.Hour

func entity(code string) string { return "appointment/" + code }

// sealInfo binds a sealed contact to the site and the appointment.
func sealInfo(site, code string) string { return "appointment.contact\n" + site + "\n" + code }
