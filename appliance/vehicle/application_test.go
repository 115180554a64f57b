package vehicle_test

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/sync/blob"
)

var applicationNow = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

// validApplication returns a complete application of process, as a
// citizen would send it (typed with the spaces people type).
func validApplication(process string) vehicle.Application {
	app := vehicle.Application{
		Process: process,
		Owner: vehicle.Owner{Kind: "person", FamilyName: "Schmitz", GivenNames: "Anna Maria", BirthDate: "1984-03-17",
			Street: "Venloer Str. 12", Postcode: "50672", City: "Köln", Email: "anna@example.de"},
		Vehicle: vehicle.VehicleData{FIN: "WVWZZZ1JZXW000001"},
	}
	need := vehicle.Needs[process]
	if need.ZB1 {
		app.Vehicle.ZB1, app.Vehicle.ZB1Code = "AB 1234567 C", "K7QM4XP"
	}
	if need.ZB2 {
		app.Vehicle.ZB2, app.Vehicle.ZB2Code = "AF 7654321", "K7QM4XPA2B3C"
	}
	if need.HU {
		app.Vehicle.HUDue = "2027-05"
	}
	if need.CurrentPlate {
		app.Vehicle.Plate = "K-AB 123"
	}
	if need.PlateSeal {
		app.Vehicle.PlateSeal = "7XK"
	}
	if need.EVB {
		app.EVB = "A1B2C3D"
	}
	if need.SEPA {
		app.SEPA = &vehicle.SEPA{IBAN: "DE89 3704 0044 0532 0130 00", Holder: "Anna Maria Schmitz"}
	}
	if len(need.Plates) > 0 {
		app.Plate = vehicle.PlateChoice{Mode: vehicle.PlateRandom}
	}
	return app
}

func TestValidateEveryProcessValid(t *testing.T) {
	for _, process := range vehicle.Processes {
		if f := vehicle.Validate(validApplication(process), applicationNow, vehicle.DefaultBlocked); len(f) > 0 {
			t.Errorf("%s: valid application refused: %v", process, f)
		}
	}
	company := validApplication(vehicle.ProcessTransfer)
	company.Owner = vehicle.Owner{Kind: "company", CompanyName: "Rheinflotte GmbH", Register: "HRB 12345",
		Street: "Deutz-Mülheimer Str. 30", Postcode: "51063", City: "Köln", Phone: "+49 221 1234567"}
	company.Plate = vehicle.PlateChoice{Mode: vehicle.PlateWish, Plate: "k ab 1234", Reservation: "tok"}
	company.Attachments = []vehicle.Attachment{{Kind: vehicle.AttachmentAuthority,
		File: blob.Ref{SHA256: strings.Repeat("ab", 32), Size: 120 << 10, Type: "application/pdf", Name: "vollmacht.pdf"}}}
	if f := vehicle.Validate(company, applicationNow, vehicle.DefaultBlocked); len(f) > 0 {
		t.Errorf("company's Umschreibung with a wish plate refused: %v", f)
	}
}

// Each case changes a valid application in one place; the error must
// name exactly the fields the change broke.
func TestValidateNamesTheField(t *testing.T) {
	for _, c := range []struct {
		name    string
		process string
		change  func(*vehicle.Application)
		fields  []string
	}{
		{"unknown process", "abmeldung", nil, []string{"process"}},
		{"FIN with O for 0", vehicle.ProcessNew, func(a *vehicle.Application) { a.Vehicle.FIN = "WVWZZZ1JZXW0000O1" }, []string{"vehicle.fin"}},
		{"FIN 16 characters", vehicle.ProcessTransfer, func(a *vehicle.Application) { a.Vehicle.FIN = "WDB1240221A12345" }, []string{"vehicle.fin"}},
		{"IBAN wrong check digit", vehicle.ProcessNew, func(a *vehicle.Application) { a.SEPA.IBAN = "DE89 3704 0044 0532 0130 01" }, []string{"sepa.iban"}},
		{"IBAN not SEPA", vehicle.ProcessTransfer, func(a *vehicle.Application) { a.SEPA.IBAN = "US12 3456 7890 1234 5678 90" }, []string{"sepa.iban"}},
		{"no SEPA at all", vehicle.ProcessReregister, func(a *vehicle.Application) { a.SEPA = nil }, []string{"sepa.iban", "sepa.holder"}},
		{"no holder", vehicle.ProcessNew, func(a *vehicle.Application) { a.SEPA.Holder = " " }, []string{"sepa.holder"}},
		{"eVB 6 characters", vehicle.ProcessNew, func(a *vehicle.Application) { a.EVB = "A1B2C3" }, []string{"evb"}},
		{"eVB missing", vehicle.ProcessTransfer, func(a *vehicle.Application) { a.EVB = "" }, []string{"evb"}},
		{"ZB II number of ZB I shape", vehicle.ProcessNew, func(a *vehicle.Application) { a.Vehicle.ZB2 = "AB1234567C" }, []string{"vehicle.zb2_number"}},
		{"ZB II code short", vehicle.ProcessNew, func(a *vehicle.Application) { a.Vehicle.ZB2Code = "K7QM4XP" }, []string{"vehicle.zb2_code"}},
		{"ZB I missing", vehicle.ProcessTransfer, func(a *vehicle.Application) { a.Vehicle.ZB1, a.Vehicle.ZB1Code = "", "" }, []string{"vehicle.zb1_number", "vehicle.zb1_code"}},
		{"HU overdue", vehicle.ProcessReregister, func(a *vehicle.Application) { a.Vehicle.HUDue = "2026-11" }, []string{"vehicle.hu_due"}},
		{"HU as a date", vehicle.ProcessReregister, func(a *vehicle.Application) { a.Vehicle.HUDue = "05/2027" }, []string{"vehicle.hu_due"}},
		{"HU missing", vehicle.ProcessReregister, func(a *vehicle.Application) { a.Vehicle.HUDue = "" }, []string{"vehicle.hu_due"}},
		{"keep a plate at Neuzulassung", vehicle.ProcessNew, func(a *vehicle.Application) {
			a.Plate = vehicle.PlateChoice{Mode: vehicle.PlateKeep, Plate: "K-AB 123"}
		}, []string{"plate.mode"}},
		{"no plate choice", vehicle.ProcessTransfer, func(a *vehicle.Application) { a.Plate = vehicle.PlateChoice{} }, []string{"plate.mode"}},
		{"kept plate from Bonn", vehicle.ProcessTransfer, func(a *vehicle.Application) {
			a.Plate = vehicle.PlateChoice{Mode: vehicle.PlateKeep, Plate: "BN-AB 123"}
		}, []string{"plate.plate"}},
		{"wish without reservation", vehicle.ProcessNew, func(a *vehicle.Application) {
			a.Plate = vehicle.PlateChoice{Mode: vehicle.PlateWish, Plate: "K-AB 123"}
		}, []string{"plate.reservation"}},
		{"wish blocked", vehicle.ProcessNew, func(a *vehicle.Application) {
			a.Plate = vehicle.PlateChoice{Mode: vehicle.PlateWish, Plate: "K-SS 88", Reservation: "t"}
		}, []string{"plate.plate"}},
		{"deregistration without seal code", vehicle.ProcessDeregister, func(a *vehicle.Application) { a.Vehicle.PlateSeal = "" }, []string{"vehicle.plate_seal_code"}},
		{"seal code 4 characters", vehicle.ProcessDeregister, func(a *vehicle.Application) { a.Vehicle.PlateSeal = "7XK2" }, []string{"vehicle.plate_seal_code"}},
		{"deregistration of a plate with leading zero", vehicle.ProcessDeregister, func(a *vehicle.Application) { a.Vehicle.Plate = "K-AB 012" }, []string{"vehicle.current_plate"}},
		{"address change without plate", vehicle.ProcessAddressShift, func(a *vehicle.Application) { a.Vehicle.Plate = "" }, []string{"vehicle.current_plate"}},
		{"address change without address", vehicle.ProcessAddressShift, func(a *vehicle.Application) { a.Owner.Street, a.Owner.Postcode, a.Owner.City = "", "5067", "" },
			[]string{"owner.street", "owner.postcode", "owner.city"}},
		{"plate choice at deregistration", vehicle.ProcessDeregister, func(a *vehicle.Application) { a.Plate.Mode = vehicle.PlateWish }, []string{"plate.mode"}},
		{"person without birth date", vehicle.ProcessTransfer, func(a *vehicle.Application) { a.Owner.BirthDate = "17.03.1984" }, []string{"owner.birth_date"}},
		{"owner of no kind", vehicle.ProcessTransfer, func(a *vehicle.Application) { a.Owner.Kind = "" }, []string{"owner.kind"}},
		{"company without name", vehicle.ProcessTransfer, func(a *vehicle.Application) {
			a.Owner = vehicle.Owner{Kind: "company", Street: "A 1", Postcode: "50667", City: "Köln"}
		},
			[]string{"owner.company_name"}},
		{"name with a bidi override", vehicle.ProcessNew, func(a *vehicle.Application) { a.Owner.FamilyName = "Schmitz\u202e" }, []string{"owner.family_name"}},
		{"bad e-mail and phone", vehicle.ProcessNew, func(a *vehicle.Application) { a.Owner.Email, a.Owner.Phone = "anna@", "call me" }, []string{"owner.email", "owner.phone"}},
		{"attachment of another type", vehicle.ProcessTransfer, func(a *vehicle.Application) {
			a.Attachments = []vehicle.Attachment{{Kind: vehicle.AttachmentAuthority, File: blob.Ref{SHA256: strings.Repeat("0", 64), Size: 10, Type: "image/png"}}}
		}, []string{"attachments.0.file"}},
		{"attachment too big, unknown kind", vehicle.ProcessTransfer, func(a *vehicle.Application) {
			a.Attachments = []vehicle.Attachment{{Kind: vehicle.AttachmentAuthority, File: blob.Ref{SHA256: strings.Repeat("0", 64), Size: 10, Type: "image/jpeg"}},
				{Kind: "selfie", File: blob.Ref{SHA256: strings.Repeat("0", 64), Size: vehicle.MaxAttachmentSize + 1, Type: "image/jpeg"}}}
		}, []string{"attachments.1.kind", "attachments.1.file"}},
	} {
		app := validApplication(c.process)
		if c.change != nil {
			c.change(&app)
		}
		f := vehicle.Validate(app, applicationNow, vehicle.DefaultBlocked)
		if got := slices.Sorted(maps.Keys(f)); !slices.Equal(got, slices.Sorted(slices.Values(c.fields))) {
			t.Errorf("%s: fields at fault %v, want %v (%v)", c.name, got, c.fields, f)
		}
		for field, msg := range f {
			if !strings.Contains(msg, " / ") {
				t.Errorf("%s: %s: %q is not German / English", c.name, field, msg)
			}
		}
	}
}

func TestNormalize(t *testing.T) {
	app := validApplication(vehicle.ProcessTransfer)
	app.Vehicle.FIN = "wvwzzz1jzxw000001"
	app.Plate = vehicle.PlateChoice{Mode: vehicle.PlateKeep, Plate: "k ab123"}
	n := vehicle.Normalize(app)
	if n.Vehicle.FIN != "WVWZZZ1JZXW000001" || n.Vehicle.Plate != "K-AB 123" || n.Vehicle.ZB1 != "AB1234567C" || n.SEPA.IBAN != "DE89370400440532013000" || n.Plate.Plate != "K-AB 123" {
		t.Errorf("normalized: %+v %+v %+v", n.Vehicle, n.SEPA, n.Plate)
	}
	if app.SEPA.IBAN != "DE89 3704 0044 0532 0130 00" {
		t.Error("Normalize changed its argument's mandate")
	}
	d := validApplication(vehicle.ProcessDeregister)
	d.EVB, d.SEPA = "A1B2C3D", &vehicle.SEPA{IBAN: "x"}
	if n := vehicle.Normalize(d); n.EVB != "" || n.SEPA != nil {
		t.Errorf("a deregistration carries insurance or a mandate on: %+v", n)
	}
}
