package vehicle

// This file is the contract of the i-Kfz application workflow between
// central (portal, API, business portal, /verify) and the registration
// site (worklist, checks, decision, permit): the event types and payloads
// that cross the change-log, and the API's JSON shapes. Ownership as for
// certificate orders: central only submits (and forwards what the
// applicant adds); from then on the site alone decides, with events in its
// own log. Everything personal travels Sealed to the site's box key
// (changelog.Seal); central keeps statuses, and for /verify the plate,
// FIN and valid-until of an approved application (nothing personal).

import "github.com/veedel/veedel/sync/blob"

// Prefix is the prefix of the workflow's event types.
const Prefix = "vehicle."

// Event types: part of the wire format, never renamed.
const (
	// From central only (the site's outbound log).
	TypeSubmitted    = "vehicle.application_submitted"
	TypeSupplemented = "vehicle.application_supplemented" // the applicant answered a request for more

	// The site's own.
	TypeReceived      = "vehicle.application_received" // the site took it over (answers TypeSubmitted)
	TypeClaimed       = "vehicle.application_claimed"
	TypeCheckRecorded = "vehicle.check_recorded"
	TypeInfoRequested = "vehicle.info_requested"
	TypeApproved      = "vehicle.application_approved"
	TypeRejected      = "vehicle.application_rejected"
	TypeSentByPost    = "vehicle.documents_posted" // documents and seals went out (mailing list)
	// TypeSettingsChanged: a site lead changed the site's settings for
	// the workflow (the four-eyes check); central folds them, and a
	// restored site has them from its log.
	TypeSettingsChanged = "vehicle.settings_changed"
)

// SettingsEntity is the change-log entity of the site's settings.
const SettingsEntity = "vehicle-settings"

// The five processes.
const (
	ProcessNew          = "neuzulassung"
	ProcessTransfer     = "umschreibung" // Halterwechsel
	ProcessReregister   = "wiederzulassung"
	ProcessDeregister   = "ausserbetriebsetzung"
	ProcessAddressShift = "adressaenderung"
)

// Processes lists them in the portal's order.
var Processes = []string{ProcessNew, ProcessTransfer, ProcessReregister, ProcessDeregister, ProcessAddressShift}

// Statuses as the status page and the API name them.
const (
	StatusSubmitted     = "submitted"      // central has it; on its way to the site
	StatusAtSite        = "at_site"        // the site has it
	StatusInReview      = "in_review"      // a clerk claimed it
	StatusInfoRequested = "info_requested" // the applicant is asked for more
	StatusApproved      = "approved"
	StatusRejected      = "rejected"
)

// Plate choices.
const (
	PlateKeep   = "keep"   // keep the current plate (Umschreibung, Adressänderung, Wiederzulassung)
	PlateRandom = "random" // any plate from the site's block
	PlateWish   = "wish"   // a Wunschkennzeichen reserved at central (Reservation token)
)

// Application is what an applicant (citizen or company) submits: the JSON
// of POST /api/v1/vehicle-applications, one row of a business bulk
// upload, and (CBOR) what is sealed to the site. Which fields a process
// needs is decided in this package (Validate), with field errors named by
// JSON path ("sepa.iban").
type Application struct {
	Process     string       `cbor:"1,keyasint" json:"process"`
	Owner       Owner        `cbor:"2,keyasint" json:"owner"`
	Vehicle     VehicleData  `cbor:"3,keyasint" json:"vehicle"`
	EVB         string       `cbor:"4,keyasint,omitempty" json:"evb,omitempty"`
	SEPA        *SEPA        `cbor:"5,keyasint,omitempty" json:"sepa,omitempty"`
	Plate       PlateChoice  `cbor:"6,keyasint" json:"plate"`
	Attachments []Attachment `cbor:"7,keyasint,omitempty" json:"attachments,omitempty"`
	Lang        string       `cbor:"8,keyasint,omitempty" json:"lang,omitempty"`
}

// Owner is the vehicle's keeper: a person or a company.
type Owner struct {
	Kind        string `cbor:"1,keyasint" json:"kind"` // "person" or "company"
	FamilyName  string `cbor:"2,keyasint,omitempty" json:"family_name,omitempty"`
	GivenNames  string `cbor:"3,keyasint,omitempty" json:"given_names,omitempty"`
	BirthDate   string `cbor:"4,keyasint,omitempty" json:"birth_date,omitempty"` // YYYY-MM-DD
	CompanyName string `cbor:"5,keyasint,omitempty" json:"company_name,omitempty"`
	Register    string `cbor:"6,keyasint,omitempty" json:"register,omitempty"` // Handelsregister, companies
	Street      string `cbor:"7,keyasint" json:"street"`
	Postcode    string `cbor:"8,keyasint" json:"postcode"`
	City        string `cbor:"9,keyasint" json:"city"`
	Email       string `cbor:"10,keyasint,omitempty" json:"email,omitempty"`
	Phone       string `cbor:"11,keyasint,omitempty" json:"phone,omitempty"`
}

// VehicleData identifies the vehicle and its papers.
type VehicleData struct {
	FIN       string `cbor:"1,keyasint" json:"fin"`
	ZB1       string `cbor:"2,keyasint,omitempty" json:"zb1_number,omitempty"` // Zulassungsbescheinigung Teil I
	ZB1Code   string `cbor:"3,keyasint,omitempty" json:"zb1_code,omitempty"`   // its security code under the seal
	ZB2       string `cbor:"4,keyasint,omitempty" json:"zb2_number,omitempty"` // Teil II
	ZB2Code   string `cbor:"5,keyasint,omitempty" json:"zb2_code,omitempty"`
	HUDue     string `cbor:"6,keyasint,omitempty" json:"hu_due,omitempty"` // YYYY-MM
	Plate     string `cbor:"7,keyasint,omitempty" json:"current_plate,omitempty"`
	PlateSeal string `cbor:"8,keyasint,omitempty" json:"plate_seal_code,omitempty"` // Außerbetriebsetzung: the code under the plate's seal
}

// SEPA is the direct-debit mandate for the vehicle tax.
type SEPA struct {
	IBAN   string `cbor:"1,keyasint" json:"iban"`
	Holder string `cbor:"2,keyasint" json:"holder"`
}

// PlateChoice is which plate the applicant wants.
type PlateChoice struct {
	Mode        string `cbor:"1,keyasint" json:"mode"`                            // Plate* above
	Plate       string `cbor:"2,keyasint,omitempty" json:"plate,omitempty"`       // keep, wish
	Reservation string `cbor:"3,keyasint,omitempty" json:"reservation,omitempty"` // wish: the token of POST /api/v1/plates/reservations
}

// Attachment is an uploaded document: its kind and the file (blob sync).
type Attachment struct {
	Kind string   `cbor:"1,keyasint" json:"kind"` // "vollmacht", "nachweis", …
	File blob.Ref `cbor:"2,keyasint" json:"file"`
}

// Submitted is the answer of POST /api/v1/vehicle-applications (201).
type Submitted struct {
	ID        string `json:"id"`
	Token     string `json:"token"`
	Status    string `json:"status"`
	StatusURL string `json:"status_url"`
}

// StatusView is GET /api/v1/vehicle-applications/{token}.
type StatusView struct {
	ID         string `json:"id"`
	Process    string `json:"process"`
	Status     string `json:"status"`
	Reason     string `json:"reason,omitempty"`     // rejected, info_requested: what the site wrote for the applicant
	Plate      string `json:"plate,omitempty"`      // approved
	PermitURL  string `json:"permit_url,omitempty"` // approved: the provisional proof (PDF)
	ValidUntil string `json:"valid_until,omitempty"`
}

// StatusChange is one change of an application's status as central folds
// it from the site's log: what the citizen's message and a company's
// webhook report. Company is the business account that submitted it ("":
// a citizen).
type StatusChange struct {
	ID      string
	Company string
	Status  string
	Plate   string
	Reason  string
	At      int64 // Unix milliseconds, the site's time of the event
}

// ApplicationSubmitted is an application as central sends it down.
// Sealed is the CBOR of Application sealed to the site with
// SealInfo(site, ID); the attachments' Refs are also in clear so that the
// site can fetch the files before it opens the rest.
type ApplicationSubmitted struct {
	ID          string       `cbor:"1,keyasint"`
	Process     string       `cbor:"2,keyasint"`
	Sealed      []byte       `cbor:"3,keyasint"`
	Attachments []Attachment `cbor:"4,keyasint,omitempty"`
	Submitted   int64        `cbor:"5,keyasint"` // Unix milliseconds at central
	TokenHash   []byte       `cbor:"6,keyasint"` // SHA-256 of the applicant's status token
	Company     string       `cbor:"7,keyasint,omitempty"`
	PlateMode   string       `cbor:"8,keyasint"`
	Reservation string       `cbor:"9,keyasint,omitempty"` // PlateWish: the reservation's token hash as plates.reservation_sent names it
	Lang        string       `cbor:"10,keyasint,omitempty"`
}

// SealInfo binds a sealed application to its site and id.
func SealInfo(site, id string) string { return "vehicle.application\n" + site + "\n" + id }

// ApplicationSupplemented forwards what the applicant added after a
// request for more: a note (sealed) and files.
type ApplicationSupplemented struct {
	ID          string       `cbor:"1,keyasint"`
	Sealed      []byte       `cbor:"2,keyasint,omitempty"` // the note, sealed like the application
	Attachments []Attachment `cbor:"3,keyasint,omitempty"`
}

// ApplicationReceived records that the site took the application over
// (the sealed part stays sealed: the site's log goes up to central).
type ApplicationReceived struct {
	ApplicationSubmitted
}

// ApplicationClaimed records that a clerk took it on.
type ApplicationClaimed struct {
	ID    string `cbor:"1,keyasint"`
	Staff string `cbor:"2,keyasint"`
}

// CheckRecorded records one of the clerk's checks of outside systems
// (fee and tax arrears, insurance confirmation, KBA register): the check,
// its result, and who checked.
type CheckRecorded struct {
	ID    string `cbor:"1,keyasint"`
	Check string `cbor:"2,keyasint"` // "gebuehren", "kfz_steuer", "evb", "zentrales_register", …
	OK    bool   `cbor:"3,keyasint"`
	Staff string `cbor:"4,keyasint"`
}

// InfoRequested asks the applicant for more. Reason goes to central and
// to the applicant (staff are told not to write personal data into it).
type InfoRequested struct {
	ID     string `cbor:"1,keyasint"`
	Staff  string `cbor:"2,keyasint"`
	Reason string `cbor:"3,keyasint"`
}

// ApplicationApproved records the decision and the provisional proof of
// registration (valid up to 10 days). Second is the four-eyes approver
// where the site asks for one. Permit is the PDF (blob sync up to
// central); Code is the random verification code in its QR code
// (central's /verify/{code}); Plate, FIN and ValidUntil are what /verify
// shows, in clear on purpose.
type ApplicationApproved struct {
	ID         string   `cbor:"1,keyasint"`
	Staff      string   `cbor:"2,keyasint"`
	Second     string   `cbor:"3,keyasint,omitempty"`
	Plate      string   `cbor:"4,keyasint,omitempty"` // "" for Außerbetriebsetzung
	FIN        string   `cbor:"5,keyasint"`
	Code       string   `cbor:"6,keyasint"`
	ValidUntil string   `cbor:"7,keyasint"` // YYYY-MM-DD
	Permit     blob.Ref `cbor:"8,keyasint"`
}

// ApplicationRejected records a refusal with a reason for the applicant.
type ApplicationRejected struct {
	ID     string `cbor:"1,keyasint"`
	Staff  string `cbor:"2,keyasint"`
	Reason string `cbor:"3,keyasint"`
}

// DocumentsPosted records that the papers and plate seals went out.
type DocumentsPosted struct {
	ID    string `cbor:"1,keyasint"`
	Staff string `cbor:"2,keyasint"`
}

// SettingsChanged records the site's settings for the workflow as a site
// lead (or admin) set them, and who; the entry's time is when.
type SettingsChanged struct {
	// FourEyes: a second staff member approves what the first checked.
	FourEyes bool   `cbor:"1,keyasint"`
	Staff    string `cbor:"2,keyasint"`
}
