package registration

import (
	"crypto/rand"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/veedel/veedel"
)

// Kinds of certificate.
const (
	KindMelde          = "meldebescheinigung"
	KindMeldeErweitert = "meldebescheinigung_erweitert"
	KindGeburt         = "geburtsurkunde"
	KindEhe            = "eheurkunde"
	KindLebenspartner  = "lebenspartnerschaftsurkunde"
	KindSterbe         = "sterbeurkunde"
)

// Kinds lists the kinds in the order the portal offers them.
var Kinds = []string{KindMelde, KindMeldeErweitert, KindGeburt, KindEhe, KindLebenspartner, KindSterbe}

// CivilStatus reports whether kind is a civil-status certificate
// (Personenstandsurkunde): it names an event and is issued by the
// civil-status office.
func CivilStatus(kind string) bool {
	switch kind {
	case KindGeburt, KindEhe, KindLebenspartner, KindSterbe:
		return true
	}
	return false
}

// Deliveries.
const (
	DeliveryPickup = "pickup"
	DeliveryPost   = "post"
)

// Payments.
const (
	PaymentAtPickup = "at_pickup" // paid at the counter
	PaymentOnline   = "online"    // paid at the payment provider
)

// Relations of the applicant to the person a certificate is about.
var Relations = []string{"self", "spouse", "child", "parent", "grandchild", "grandparent", "sibling", "legal_interest", "authority"}

// MaxCopies bounds the copies of one order.
const MaxCopies = 10

// Fee is the price of one kind: the first copy and every further one, in
// cents. The city's fee table (Gebührenordnung) sets them.
type Fee struct {
	First, Further int
}

// DefaultFees are Cologne's fees as the demo and the tests use them.
var DefaultFees = map[string]Fee{
	KindMelde:          {First: 1000, Further: 1000},
	KindMeldeErweitert: {First: 1000, Further: 1000},
	KindGeburt:         {First: 1200, Further: 600},
	KindEhe:            {First: 1200, Further: 600},
	KindLebenspartner:  {First: 1200, Further: 600},
	KindSterbe:         {First: 1200, Further: 600},
}

// FeeCents is the fee of copies of kind.
func (f Fee) FeeCents(copies int) int {
	if copies <= 0 {
		return 0
	}
	return f.First + (copies-1)*f.Further
}

// Person is whom a certificate is about.
type Person struct {
	FamilyName string `json:"family_name" cbor:"1,keyasint"`
	GivenNames string `json:"given_names" cbor:"2,keyasint"`
	BirthDate  string `json:"birth_date" cbor:"3,keyasint"`
	BirthPlace string `json:"birth_place,omitempty" cbor:"4,keyasint,omitempty"`
}

// CivilEvent is the birth, marriage, partnership or death a civil-status
// certificate documents.
type CivilEvent struct {
	Date           string `json:"date" cbor:"1,keyasint"`
	Place          string `json:"place" cbor:"2,keyasint"`
	RegisterNumber string `json:"register_number,omitempty" cbor:"3,keyasint,omitempty"`
}

// Address is a postal address in Germany.
type Address struct {
	Street   string `json:"street" cbor:"1,keyasint"`
	Postcode string `json:"postcode" cbor:"2,keyasint"`
	City     string `json:"city" cbor:"3,keyasint"`
}

// Contact is how the citizen hears of the order's progress.
type Contact struct {
	Email string `json:"email,omitempty" cbor:"1,keyasint,omitempty"`
	Phone string `json:"phone,omitempty" cbor:"2,keyasint,omitempty"`
}

// OrderRequest is an order as the citizen submits it (POST /api/v1/orders).
type OrderRequest struct {
	Kind     string      `json:"kind"`
	Site     string      `json:"site"`
	Delivery string      `json:"delivery"`
	Copies   int         `json:"copies"`
	Person   Person      `json:"person"`
	Event    *CivilEvent `json:"event,omitempty"`
	Relation string      `json:"relation,omitempty"`
	Purpose  string      `json:"purpose,omitempty"`
	Address  *Address    `json:"address,omitempty"`
	Contact  Contact     `json:"contact"`
	Consent  bool        `json:"consent"`
	Payment  string      `json:"payment,omitempty"`
	Lang     string      `json:"lang,omitempty"`
}

// Details are the personal part of an order: sealed to the owning site.
type Details struct {
	Person   Person      `cbor:"1,keyasint"`
	Event    *CivilEvent `cbor:"2,keyasint,omitempty"`
	Relation string      `cbor:"3,keyasint,omitempty"`
	Purpose  string      `cbor:"4,keyasint,omitempty"`
	Address  *Address    `cbor:"5,keyasint,omitempty"`
	Contact  Contact     `cbor:"6,keyasint"`
}

// Details returns the personal part of the request.
func (r *OrderRequest) Details() Details {
	return Details{Person: r.Person, Event: r.Event, Relation: r.Relation, Purpose: r.Purpose, Address: r.Address, Contact: r.Contact}
}

var (
	postcodePattern = regexp.MustCompile(`^[0-9]{5}$`)
	phonePattern    = regexp.MustCompile(`^\+?[0-9][0-9 /-]{5,19}$`)
)

// Validate checks the request as of now and returns every field at fault
// (FieldErrors, by JSON path) in one EINVALID error. Messages are German
// with English after a slash, as the API's other errors; the portal shows
// its own texts per field.
func (r *OrderRequest) Validate(now time.Time, loc *time.Location) error {
	f := veedel.FieldErrors{}
	known := false
	for _, k := range Kinds {
		known = known || k == r.Kind
	}
	if !known {
		f.Add("kind", "Unbekannte Urkunde: "+strings.Join(Kinds, ", ")+" / unknown kind")
	}
	if strings.TrimSpace(r.Site) == "" {
		f.Add("site", "Bitte einen Standort wählen / choose a site")
	}
	switch r.Delivery {
	case DeliveryPickup:
	case DeliveryPost:
		if r.Address == nil {
			f.Add("address", "Für den Versand bitte die Anschrift angeben / address needed for delivery by post")
		}
	default:
		f.Add("delivery", "Abholung (pickup) oder Post (post) / pickup or post")
	}
	if r.Copies < 1 || r.Copies > MaxCopies {
		f.Add("copies", "1 bis 10 Exemplare / 1 to 10 copies")
	}
	text(f, "person.family_name", r.Person.FamilyName, true, 80)
	text(f, "person.given_names", r.Person.GivenNames, true, 120)
	text(f, "person.birth_place", r.Person.BirthPlace, false, 80)
	date(f, "person.birth_date", r.Person.BirthDate, true, now, loc)
	if CivilStatus(r.Kind) {
		if r.Event == nil {
			f.Add("event.date", "Datum des Ereignisses fehlt / event date missing")
			f.Add("event.place", "Ort des Ereignisses fehlt / event place missing")
		} else {
			date(f, "event.date", r.Event.Date, true, now, loc)
			text(f, "event.place", r.Event.Place, true, 80)
			text(f, "event.register_number", r.Event.RegisterNumber, false, 40)
		}
		rel := false
		for _, x := range Relations {
			rel = rel || x == r.Relation
		}
		if !rel {
			f.Add("relation", "Bitte das Verhältnis zur Person angeben / relation missing or unknown")
		}
	}
	text(f, "purpose", r.Purpose, false, 200)
	if r.Address != nil {
		text(f, "address.street", r.Address.Street, true, 100)
		if !postcodePattern.MatchString(r.Address.Postcode) {
			f.Add("address.postcode", "Postleitzahl: fünf Ziffern / postcode: five digits")
		}
		text(f, "address.city", r.Address.City, true, 80)
	}
	if r.Contact.Email == "" && r.Contact.Phone == "" {
		f.Add("contact", "E-Mail-Adresse oder Mobilnummer angeben / give an e-mail address or a mobile number")
	}
	if r.Contact.Email != "" {
		if a, err := mail.ParseAddress(r.Contact.Email); err != nil || a.Address != r.Contact.Email || len(r.Contact.Email) > 254 {
			f.Add("contact.email", "E-Mail-Adresse ungültig (z. B. name@example.de) / invalid e-mail address")
		}
	}
	if r.Contact.Phone != "" && !phonePattern.MatchString(r.Contact.Phone) {
		f.Add("contact.phone", "Mobilnummer ungültig (z. B. 0171 1234567) / invalid mobile number")
	}
	switch r.Payment {
	case "", PaymentAtPickup:
		if r.Delivery == DeliveryPost {
			f.Add("payment", "Bei Versand bitte online bezahlen / delivery by post needs online payment")
		}
	case PaymentOnline:
	default:
		f.Add("payment", "at_pickup oder online / at_pickup or online")
	}
	if !r.Consent {
		f.Add("consent", "Bitte der Verarbeitung Ihrer Angaben zustimmen / consent is required")
	}
	return f.Err("Bitte die markierten Angaben prüfen / please check the fields marked")
}

func text(f veedel.FieldErrors, field, v string, required bool, max int) {
	switch {
	case strings.TrimSpace(v) == "" && required:
		f.Add(field, "Pflichtangabe / required")
	case utf8.RuneCountInString(v) > max:
		f.Add(field, "Zu lang / too long")
	default:
		if r, bad := veedel.UnsafeRune(v); bad {
			de, en := veedel.DescribeRune(r)
			f.Add(field, "Enthält "+de+": bitte entfernen / contains "+en+": please remove it")
		}
	}
}

func date(f veedel.FieldErrors, field, v string, required bool, now time.Time, loc *time.Location) {
	if v == "" {
		if required {
			f.Add(field, "Pflichtangabe (JJJJ-MM-TT) / required (YYYY-MM-DD)")
		}
		return
	}
	d, err := time.ParseInLocation(time.DateOnly, v, loc)
	switch {
	case err != nil:
		f.Add(field, "Datum im Format JJJJ-MM-TT / date as YYYY-MM-DD")
	case d.After(now):
		f.Add(field, "Das Datum liegt in der Zukunft / the date lies in the future")
	case d.Year() < 1850:
		f.Add(field, "Das Datum liegt zu weit zurück / the date is too far back")
	}
}

// codeAlphabet leaves out what is read wrong (0/O, 1/I/L) when a code is
// typed at the kiosk or read on the phone.
const codeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// NewCode returns a new order code: "U" and 9 characters (about 44 bits),
// in the booking codes' format (4–16 letters or digits), so that the
// kiosk's code box takes it.
func NewCode() string {
	b := make([]byte, 9)
	rand.Read(b)
	out := []byte{'U'}
	for _, x := range b {
		out = append(out, codeAlphabet[int(x)%len(codeAlphabet)])
	}
	return string(out)
}
