// Package plates is Cologne's number plates as a city-wide scarce thing.
//
// Ownership: central owns the namespace (K, 1–2 letters, 1–4 digits). It
// hands each registration site blocks of plates (a range of digits under
// one letter combination, minus the plates already reserved) and the
// Wunschkennzeichen reserved for it, through the site's outbound log. A
// site assigns only from its own blocks and the reservations it received,
// and logs every assignment; so two sites never issue the same plate,
// even while both are cut off from central. A plate is in at most one
// block or reservation at any time, and a plate given back (a
// registration cancelled, a reservation expired unused) goes back to
// central through the site's log, never straight to another owner.
// Central refills a site's blocks when what it has left falls to the
// low-water mark. Nothing here is last-writer-wins: every plate has one
// owner, and ownership moves only by an event of its owner.
package plates

import (
	"github.com/veedel/veedel/workflow"
)

// Prefix is the prefix of the workflow's event types.
const Prefix = "plates."

// Event types: part of the wire format, never renamed.
const (
	// TypeBlockGranted and TypeReservationSent come from central only.
	TypeBlockGranted    = "plates.block_granted"
	TypeReservationSent = "plates.reservation_sent"

	// The site's own: it took a block or a reservation over, assigned a
	// plate, or gave one back to central.
	TypeBlockReceived       = "plates.block_received"
	TypeReservationReceived = "plates.reservation_received"
	TypeAssigned            = "plates.assigned"
	TypeReturned            = "plates.returned"
)

// Why a plate went back to central.
const (
	ReturnCancelled = "cancelled" // the registration was cancelled
	ReturnExpired   = "expired"   // a reservation expired unused
)

// Block is a block of plates central grants a site: K-<Letters>
// <First>..<Last>, without the digits in Except (plates reserved or
// given out when the block was cut). ID numbers the city's blocks 1, 2, …
// in the order central granted them.
type Block struct {
	ID      int64  `cbor:"1,keyasint"`
	Letters string `cbor:"2,keyasint"`
	First   int    `cbor:"3,keyasint"`
	Last    int    `cbor:"4,keyasint"`
	Except  []int  `cbor:"5,keyasint,omitempty"`
}

// Size is how many plates the block holds.
func (b Block) Size() int { return b.Last - b.First + 1 - len(b.Except) }

// Holds reports whether plate (canonical) is one of the block's.
func (b Block) Holds(letters string, digits int) bool {
	if letters != b.Letters || digits < b.First || digits > b.Last {
		return false
	}
	for _, d := range b.Except {
		if d == digits {
			return false
		}
	}
	return true
}

// BlockGranted hands a block to the site.
type BlockGranted struct {
	Block
}

// BlockReceived records that the site took the block over.
type BlockReceived struct {
	Block
}

// ReservationSent hands a reserved plate to the site: only the holder of
// the token (its SHA-256 here) has it assigned there, until Expires
// (Unix milliseconds). No name, no e-mail: those stay at central.
type ReservationSent struct {
	Plate     string `cbor:"1,keyasint"`
	TokenHash []byte `cbor:"2,keyasint"`
	Expires   int64  `cbor:"3,keyasint"`
}

// ReservationReceived records that the site took the reservation over.
type ReservationReceived struct {
	ReservationSent
}

// Assigned records a plate the site issued: from block Block, or (Block
// 0) from the reservation whose token hash is TokenHash. Left is how many
// plates the site's blocks still hold after it: what central compares
// with the low-water mark to refill.
type Assigned struct {
	Plate     string `cbor:"1,keyasint"`
	Block     int64  `cbor:"2,keyasint,omitempty"`
	TokenHash []byte `cbor:"3,keyasint,omitempty"`
	Ref       string `cbor:"4,keyasint,omitempty"`
	Left      int    `cbor:"5,keyasint"`
}

// Returned gives a plate back to central: an assignment cancelled (Block
// as assigned) or a reservation that expired unused (TokenHash).
type Returned struct {
	Plate     string `cbor:"1,keyasint"`
	Reason    string `cbor:"2,keyasint"`
	Block     int64  `cbor:"3,keyasint,omitempty"`
	TokenHash []byte `cbor:"4,keyasint,omitempty"`
}

// NewPayload returns a pointer to a zero payload of an event type.
func NewPayload(eventType string) (any, bool) {
	switch eventType {
	case TypeBlockGranted:
		return &BlockGranted{}, true
	case TypeBlockReceived:
		return &BlockReceived{}, true
	case TypeReservationSent:
		return &ReservationSent{}, true
	case TypeReservationReceived:
		return &ReservationReceived{}, true
	case TypeAssigned:
		return &Assigned{}, true
	case TypeReturned:
		return &Returned{}, true
	}
	return nil, false
}

// Site is the workflow's part on the appliance (site.go). It keeps no
// personal data: a reservation arrives as a token hash.
var Site = workflow.Site{
	Name:       "plates",
	Prefix:     Prefix,
	NewPayload: NewPayload,
	Project:    project,
	Accept:     accept,
}

func entity(plate string) string { return "plate/" + plate }
