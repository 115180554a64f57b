package vehicle

import (
	"crypto/rand"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/veedel/veedel"
)

// What each process needs, after the i-Kfz rules (FZV § 15 ff., the
// KBA's i-Kfz stage 4 requirements) as far as the portal can check them:
//
//   - Neuzulassung: ZB II with its security code (the manufacturer's or
//     the importer's Teil II), eVB, SEPA mandate, a new plate (random or
//     Wunschkennzeichen).
//   - Umschreibung (Halterwechsel): ZB I and ZB II with their codes, eVB,
//     SEPA, plate kept, random or wished.
//   - Wiederzulassung: ZB I and ZB II with their codes, eVB, SEPA, the HU
//     due date (not past: the vehicle needs a valid inspection), plate.
//   - Außerbetriebsetzung: ZB I with its code, the current plate and the
//     code under its seal (Stempelplakette); no insurance, no mandate.
//   - Adressänderung: ZB I with its code, the new address (the owner's),
//     the current plate (kept).
//
// Every process names the vehicle (FIN) and the owner. Where a process
// does not need a part (eVB for Außerbetriebsetzung) it is not checked
// and need not be sent. A kept plate must be a Cologne plate: the site
// is Cologne's (vehicles from elsewhere choose random or wish).

// Need is what a process asks for.
type Need struct {
	ZB1, ZB2  bool
	EVB, SEPA bool
	HU        bool
	// CurrentPlate and PlateSeal: the plate on the vehicle, and the code
	// under its seal.
	CurrentPlate, PlateSeal bool
	// Plates are the plate choices the process allows (none: no choice).
	Plates []string
}

// Needs are the processes' needs.
var Needs = map[string]Need{
	ProcessNew:          {ZB2: true, EVB: true, SEPA: true, Plates: []string{PlateRandom, PlateWish}},
	ProcessTransfer:     {ZB1: true, ZB2: true, EVB: true, SEPA: true, Plates: []string{PlateKeep, PlateRandom, PlateWish}},
	ProcessReregister:   {ZB1: true, ZB2: true, EVB: true, SEPA: true, HU: true, Plates: []string{PlateKeep, PlateRandom, PlateWish}},
	ProcessDeregister:   {ZB1: true, CurrentPlate: true, PlateSeal: true},
	ProcessAddressShift: {ZB1: true, CurrentPlate: true},
}

// Attachment kinds.
const (
	AttachmentAuthority   = "vollmacht" // power of attorney
	AttachmentCertificate = "nachweis"  // certificates (CoC, exemption, …)
	AttachmentOther       = "sonstiges"
)

// AttachmentKinds lists them.
var AttachmentKinds = []string{AttachmentAuthority, AttachmentCertificate, AttachmentOther}

// Limits of an application.
const (
	MaxAttachments    = 5
	MaxAttachmentSize = 10 << 20 // bytes per file
)

// AttachmentTypes are the media types accepted.
var AttachmentTypes = []string{"application/pdf", "image/jpeg"}

var (
	postcodePattern = regexp.MustCompile(`^[0-9]{5}$`)
	phonePattern    = regexp.MustCompile(`^\+?[0-9][0-9 /-]{5,19}$`)
	sealPattern     = regexp.MustCompile(`^[A-Z0-9]{3}$`)
	sha256Pattern   = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Invalid is the message of an application's EINVALID error.
const Invalid = "Bitte die markierten Angaben prüfen / please check the fields marked"

// Validate checks an application as of now (the HU date) against its
// process's needs and the shapes of what it names; blocked are the plate
// combinations not issued. It returns every field at fault by JSON path
// ("sepa.iban"), none when it holds. Whether a reservation token is live
// is central's to check (it holds them).
func Validate(app Application, now time.Time, blocked []string) veedel.FieldErrors {
	f := veedel.FieldErrors{}
	need, ok := Needs[app.Process]
	if !ok {
		f.Add("process", "Unbekannter Vorgang: "+strings.Join(Processes, ", ")+" / unknown process")
		return f
	}
	validateOwner(f, app.Owner)
	add(f, "vehicle.fin", CheckFIN(app.Vehicle.FIN))
	v := app.Vehicle
	if need.ZB1 {
		add(f, "vehicle.zb1_number", CheckZB(1, v.ZB1))
		add(f, "vehicle.zb1_code", CheckSecurityCode(1, v.ZB1Code))
	}
	if need.ZB2 {
		add(f, "vehicle.zb2_number", CheckZB(2, v.ZB2))
		add(f, "vehicle.zb2_code", CheckSecurityCode(2, v.ZB2Code))
	}
	if need.HU || v.HUDue != "" {
		add(f, "vehicle.hu_due", checkHU(v.HUDue, now))
	}
	if need.CurrentPlate {
		if _, msg := ParsePlate(v.Plate, nil); msg != "" {
			f.Add("vehicle.current_plate", msg)
		}
	}
	if need.PlateSeal {
		switch s := normal(v.PlateSeal); {
		case s == "":
			f.Add("vehicle.plate_seal_code", "Pflichtangabe: der Code unter der Plakette des hinteren Kennzeichens / required: the code under the rear plate's seal")
		case !sealPattern.MatchString(s):
			f.Add("vehicle.plate_seal_code", "Der Code unter der Plakette hat 3 Zeichen / the code under the seal has 3 characters")
		}
	}
	if need.EVB {
		add(f, "evb", CheckEVB(app.EVB))
	}
	if need.SEPA {
		if app.SEPA == nil {
			f.Add("sepa.iban", "Pflichtangabe: das Konto für die Kfz-Steuer / required: the account for the vehicle tax")
			f.Add("sepa.holder", "Pflichtangabe / required")
		} else {
			add(f, "sepa.iban", CheckIBAN(app.SEPA.IBAN))
			add(f, "sepa.holder", checkText(app.SEPA.Holder, true, 80))
		}
	}
	validatePlate(f, need, app.Plate, v.Plate, blocked)
	if len(app.Attachments) > MaxAttachments {
		f.Add("attachments", "Höchstens 5 Dateien / at most 5 files")
	}
	for i, a := range app.Attachments {
		p := "attachments." + strconv.Itoa(i)
		if !slices.Contains(AttachmentKinds, a.Kind) {
			f.Add(p+".kind", "Art der Datei: "+strings.Join(AttachmentKinds, ", ")+" / kind of file")
		}
		switch {
		case !sha256Pattern.MatchString(a.File.SHA256):
			f.Add(p+".file", "Datei fehlt: bitte erneut hochladen / file missing: please upload it again")
		case a.File.Type != "" && !slices.Contains(AttachmentTypes, a.File.Type):
			f.Add(p+".file", "Nur PDF oder JPEG / PDF or JPEG only")
		case a.File.Size < 0 || a.File.Size > MaxAttachmentSize:
			f.Add(p+".file", "Höchstens 10 MB je Datei / at most 10 MB per file")
		}
	}
	return f
}

func validateOwner(f veedel.FieldErrors, o Owner) {
	switch o.Kind {
	case "person":
		add(f, "owner.family_name", checkText(o.FamilyName, true, 80))
		add(f, "owner.given_names", checkText(o.GivenNames, true, 120))
		if d, err := time.Parse(time.DateOnly, o.BirthDate); o.BirthDate == "" {
			f.Add("owner.birth_date", "Pflichtangabe (JJJJ-MM-TT) / required (YYYY-MM-DD)")
		} else if err != nil || d.Year() < 1900 {
			f.Add("owner.birth_date", "Datum im Format JJJJ-MM-TT / date as YYYY-MM-DD")
		}
	case "company":
		add(f, "owner.company_name", checkText(o.CompanyName, true, 120))
		add(f, "owner.register", checkText(o.Register, false, 40))
	default:
		f.Add("owner.kind", "Person (person) oder Unternehmen (company) / person or company")
	}
	add(f, "owner.street", checkText(o.Street, true, 100))
	if !postcodePattern.MatchString(strings.TrimSpace(o.Postcode)) {
		f.Add("owner.postcode", "Postleitzahl: fünf Ziffern / postcode: five digits")
	}
	add(f, "owner.city", checkText(o.City, true, 80))
	if o.Email != "" {
		if a, err := mail.ParseAddress(o.Email); err != nil || a.Address != o.Email || len(o.Email) > 254 {
			f.Add("owner.email", "E-Mail-Adresse ungültig (z. B. name@example.de) / invalid e-mail address")
		}
	}
	if o.Phone != "" && !phonePattern.MatchString(o.Phone) {
		f.Add("owner.phone", "Mobilnummer ungültig (z. B. 0171 1234567) / invalid mobile number")
	}
}

// validatePlate checks the plate choice; a kept plate is the vehicle's
// current plate (vehicle.current_plate, or plate.plate when that is
// empty: the site assigns vehicle.current_plate).
func validatePlate(f veedel.FieldErrors, need Need, p PlateChoice, current string, blocked []string) {
	if len(need.Plates) == 0 {
		if p.Mode != "" && p.Mode != PlateKeep {
			f.Add("plate.mode", "Bei diesem Vorgang gibt es keine Kennzeichenwahl / this process has no plate choice")
		}
		return
	}
	if !slices.Contains(need.Plates, p.Mode) {
		f.Add("plate.mode", "Kennzeichen: "+strings.Join(need.Plates, ", ")+" / plate choice")
		return
	}
	switch p.Mode {
	case PlateKeep:
		field, plate := "vehicle.current_plate", current
		if plate == "" {
			field, plate = "plate.plate", p.Plate
		}
		if _, msg := ParsePlate(plate, nil); msg != "" {
			f.Add(field, msg)
		}
	case PlateWish:
		if _, msg := ParsePlate(p.Plate, blocked); msg != "" {
			f.Add("plate.plate", msg)
		}
		if strings.TrimSpace(p.Reservation) == "" {
			f.Add("plate.reservation", "Pflichtangabe: der Code Ihrer Reservierung / required: your reservation's code")
		}
	}
}

// checkHU checks a HU due date (YYYY-MM, as on the inspection sticker):
// not before now's month.
func checkHU(v string, now time.Time) string {
	if v == "" {
		return "Pflichtangabe (JJJJ-MM, wie auf der HU-Plakette) / required (YYYY-MM, as on the inspection sticker)"
	}
	d, err := time.Parse("2006-01", v)
	if err != nil {
		return "Monat im Format JJJJ-MM / month as YYYY-MM"
	}
	if d.Before(time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)) {
		return "Die Hauptuntersuchung ist abgelaufen: bitte zuerst zur HU / the inspection is overdue: have it done first"
	}
	return ""
}

func checkText(v string, required bool, max int) string {
	switch {
	case strings.TrimSpace(v) == "":
		if required {
			return "Pflichtangabe / required"
		}
	case utf8.RuneCountInString(v) > max:
		return "Zu lang / too long"
	default:
		if r, bad := veedel.UnsafeRune(v); bad {
			de, en := veedel.DescribeRune(r)
			return "Enthält " + de + ": bitte entfernen / contains " + en + ": please remove it"
		}
	}
	return ""
}

func add(f veedel.FieldErrors, field, msg string) {
	if msg != "" {
		f.Add(field, msg)
	}
}

// Normalize returns app with its identifiers as the registers write them
// (upper case, no spaces) and plates in their canonical form, for sealing
// once valid.
func Normalize(app Application) Application {
	v := &app.Vehicle
	v.FIN, v.ZB1, v.ZB1Code, v.ZB2, v.ZB2Code, v.PlateSeal = normal(v.FIN), normal(v.ZB1), normal(v.ZB1Code), normal(v.ZB2), normal(v.ZB2Code), normal(v.PlateSeal)
	if p, msg := ParsePlate(v.Plate, nil); msg == "" {
		v.Plate = p.String()
	}
	app.EVB = normal(app.EVB)
	if app.SEPA != nil {
		s := *app.SEPA
		s.IBAN, s.Holder = normal(s.IBAN), strings.TrimSpace(s.Holder)
		app.SEPA = &s
	}
	if p, msg := ParsePlate(app.Plate.Plate, nil); msg == "" {
		app.Plate.Plate = p.String()
	}
	if app.Plate.Mode == PlateKeep {
		if v.Plate == "" {
			v.Plate = app.Plate.Plate
		}
		app.Plate.Plate = v.Plate
	}
	app.Plate.Reservation = strings.TrimSpace(app.Plate.Reservation)
	app.Owner.Postcode = strings.TrimSpace(app.Owner.Postcode)
	if need, ok := Needs[app.Process]; ok {
		// What the process does not need does not travel.
		if !need.EVB {
			app.EVB = ""
		}
		if !need.SEPA {
			app.SEPA = nil
		}
		if len(need.Plates) == 0 {
			app.Plate = PlateChoice{}
		}
	}
	return app
}

// idAlphabet leaves out letters read as others (I, L, O, U).
const idAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewID returns a new application id: "Z" and ten random characters
// (what the applicant quotes on the phone).
func NewID() string {
	b := make([]byte, 10)
	rand.Read(b)
	out := []byte{'Z'}
	for _, x := range b {
		out = append(out, idAlphabet[int(x)%len(idAlphabet)])
	}
	return string(out)
}
