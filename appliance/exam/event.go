package exam

import (
	"context"
	"time"

	"github.com/veedel/veedel/workflow"
)

// The site's events. Every one of them except TypeStatistics and
// TypeKeyCreated carries only a Sealed payload: the typed payload below,
// CBOR-encoded and encrypted with the site's exam data key (AES-256-GCM),
// so that central stores and backs up what it cannot read. Entities are
// random exam ids ("exam/" + 26 characters), never names.
const (
	// TypeKeyCreated logs a new exam data key, wrapped to the site's box
	// key and, separately, to the health office's escrow key. Clear
	// payload (KeyCreated): only ciphertext and the escrow public key.
	TypeKeyCreated = "exam.key_created"

	// Sealed events.
	TypeOpened       = "exam.opened"        // a child's exam record opened (from central's assignment or at the desk)
	TypeChildUpdated = "exam.child_updated" // central sent the child again with changed data
	TypeScheduled    = "exam.scheduled"     // day and slot of the exam
	TypeMeasured     = "exam.measured"      // height, weight, BMI and its class
	TypeVision       = "exam.vision_tested"
	TypeHearing      = "exam.hearing_tested"
	TypeSOPESS       = "exam.sopess_scored"
	TypeVaccinations = "exam.vaccinations_recorded"
	TypeFindings     = "exam.findings_recorded"
	TypeSignedOff    = "exam.signed_off"
	// TypeParentsAnswered: the parents' questionnaire from central
	// (exam.parents_questionnaire, central_parents.go), opened and kept
	// in the record.
	TypeParentsAnswered = "exam.parents_answered"
)

// sealedTypes are the event types whose payload is Sealed.
var sealedTypes = map[string]func() any{
	TypeOpened:          func() any { return &Opened{} },
	TypeChildUpdated:    func() any { return &ChildUpdated{} },
	TypeScheduled:       func() any { return &Scheduled{} },
	TypeMeasured:        func() any { return &Measured{} },
	TypeVision:          func() any { return &VisionTested{} },
	TypeHearing:         func() any { return &HearingTested{} },
	TypeSOPESS:          func() any { return &SOPESSScored{} },
	TypeVaccinations:    func() any { return &VaccinationsRecorded{} },
	TypeFindings:        func() any { return &FindingsRecorded{} },
	TypeSignedOff:       func() any { return &SignedOff{} },
	TypeParentsAnswered: func() any { return &ParentsAnswered{} },
}

// IsSealed reports whether events of type t carry a Sealed payload.
func IsSealed(t string) bool { _, ok := sealedTypes[t]; return ok }

// KeyCreated is a new exam data key. ForSite opens with the site's box key
// (changelog.Open), ForEscrow with the escrow private key, both with
// keyInfo(site, Key). EscrowPub names the escrow key it was wrapped to.
type KeyCreated struct {
	Key       string `cbor:"1,keyasint"`
	EscrowPub []byte `cbor:"2,keyasint"`
	ForSite   []byte `cbor:"3,keyasint"`
	ForEscrow []byte `cbor:"4,keyasint"`
}

// Sealed is the payload of every sealed event: Box is nonce ‖ AES-256-GCM
// ciphertext of the CBOR of the typed payload, under the data key Key,
// with the site, type and entity as additional data (a box moved to
// another event does not open).
type Sealed struct {
	Key string `cbor:"1,keyasint"`
	Box []byte `cbor:"2,keyasint"`
}

// Opened opens a child's exam record. Child is central's pseudonymous
// child id ("" for a child registered at the desk).
type Opened struct {
	Child    string `cbor:"1,keyasint"`
	Year     int    `cbor:"2,keyasint"`
	District string `cbor:"3,keyasint"`
	Lang     string `cbor:"4,keyasint,omitempty"`
	CodeHash []byte `cbor:"5,keyasint,omitempty"`
	Person   Child  `cbor:"6,keyasint"`
	Staff    string `cbor:"7,keyasint,omitempty"`
}

// ChildUpdated replaces the child's data with what central sent again.
type ChildUpdated struct {
	Year     int    `cbor:"1,keyasint"`
	District string `cbor:"2,keyasint"`
	Lang     string `cbor:"3,keyasint,omitempty"`
	CodeHash []byte `cbor:"4,keyasint,omitempty"`
	Person   Child  `cbor:"5,keyasint"`
}

// Scheduled sets the exam's day (YYYY-MM-DD) and slot (HH:MM).
type Scheduled struct {
	Day   string `cbor:"1,keyasint"`
	Slot  string `cbor:"2,keyasint,omitempty"`
	Staff string `cbor:"3,keyasint,omitempty"`
}

// Measured records height and weight; the command computes the rest.
type Measured struct {
	Measurement
}

// VisionTested records the vision screening.
type VisionTested struct {
	Vision
}

// HearingTested records the hearing screening.
type HearingTested struct {
	Hearing
}

// SOPESSScored records the scores of one or more SOPESS domains.
type SOPESSScored struct {
	Domains map[string]DomainScore `cbor:"1,keyasint"`
	Staff   string                 `cbor:"2,keyasint,omitempty"`
	Date    string                 `cbor:"3,keyasint"`
}

// VaccinationsRecorded records what the Impfpass shows.
type VaccinationsRecorded struct {
	Vaccination
}

// FindingsRecorded records the doctor's findings (replacing earlier ones).
type FindingsRecorded struct {
	Findings []Note `cbor:"1,keyasint"`
	Staff    string `cbor:"2,keyasint,omitempty"`
	Date     string `cbor:"3,keyasint"`
}

// SignedOff is the doctor's recommendation and sign-off. Stats is the
// random id of the exam's statistics record (the same on a re-sign-off,
// so that central replaces its count).
type SignedOff struct {
	SignOff
	Stats string `cbor:"20,keyasint"`
}

// ParentsAnswered is the parents' questionnaire as the site keeps it.
type ParentsAnswered struct {
	Answers   ParentsAnswers `cbor:"1,keyasint"`
	Submitted int64          `cbor:"2,keyasint"` // Unix milliseconds, at central
}

// NewPayload returns a pointer to a zero payload of an exam.* event type:
// Sealed for the sealed types, so that central decodes what it cannot
// read.
func NewPayload(eventType string) (any, bool) {
	switch eventType {
	case TypeChildAssigned:
		return &ChildAssigned{}, true
	case TypeStatistics:
		return &Statistics{}, true
	case TypeKeyCreated:
		return &KeyCreated{}, true
	case TypeParentsQuestionnaire:
		return &ParentsQuestionnaire{}, true
	case TypeChildUnassigned:
		return &ChildUnassigned{}, true
	case TypeDropped, TypeKept:
		return &ChildLeft{}, true
	}
	if IsSealed(eventType) {
		return &Sealed{}, true
	}
	return nil, false
}

// Site is the workflow's part on the appliance (site.go).
var Site = workflow.Site{
	Name:       "exam",
	Prefix:     Prefix,
	NewPayload: NewPayload,
	Project:    project,
	Accept:     accept,
	CheckIn:    checkIn,
	BookedFor:  bookedFor,
	Due:        due,
	Erase: func(ctx context.Context, q workflow.Querier, now time.Time) (int64, error) {
		return EraseRecords(ctx, q, now, now.Add(-KeepRecords))
	},
}

// KeepRecords is how long the site keeps a signed-off exam record (the
// child's data and findings) after its last sign-off: 18 months by
// default, so that the school year it was made for and the parents'
// questions after it are over. The health office's archive is the
// escrowed change-log, not the appliance.
var KeepRecords = 548 * 24 * time.Hour

// CheckInService is the queue service a checked-in child waits in.
var CheckInService = "schuleingang"

func entity(id string) string      { return "exam/" + id }
func statsEntity(id string) string { return "exam.statistics/" + id }
