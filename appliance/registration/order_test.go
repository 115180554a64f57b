package registration_test

import (
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/registration"
)

var berlin, _ = time.LoadLocation("Europe/Berlin")

func goodOrder() registration.OrderRequest {
	return registration.OrderRequest{
		Kind: registration.KindMelde, Site: "kalk", Delivery: registration.DeliveryPickup, Copies: 1,
		Person:  registration.Person{FamilyName: "Yıldırım-Schäfer", GivenNames: "Ayşe Marie", BirthDate: "1987-03-14", BirthPlace: "Köln"},
		Contact: registration.Contact{Email: "ayse@example.de"}, Consent: true,
	}
}

// TestValidateNamesTheField: every bad input is refused with the field it
// concerns, so that the form can show the message next to it.
func TestValidateNamesTheField(t *testing.T) {
	now := time.Date(2026, 12, 6, 22, 30, 0, 0, berlin)
	if err := func() error { r := goodOrder(); return r.Validate(now, berlin) }(); err != nil {
		t.Fatalf("a good order is refused: %v", err)
	}
	cases := []struct {
		name  string
		edit  func(*registration.OrderRequest)
		field string
	}{
		{"unknown kind", func(r *registration.OrderRequest) { r.Kind = "fuehrerschein" }, "kind"},
		{"copies 0", func(r *registration.OrderRequest) { r.Copies = 0 }, "copies"},
		{"copies 100", func(r *registration.OrderRequest) { r.Copies = 100 }, "copies"},
		{"no consent", func(r *registration.OrderRequest) { r.Consent = false }, "consent"},
		{"malformed e-mail", func(r *registration.OrderRequest) { r.Contact.Email = "ayse@" }, "contact.email"},
		{"e-mail with a name", func(r *registration.OrderRequest) { r.Contact.Email = "Ayse <ayse@example.de>" }, "contact.email"},
		{"malformed phone", func(r *registration.OrderRequest) { r.Contact.Phone = "call me" }, "contact.phone"},
		{"no contact", func(r *registration.OrderRequest) { r.Contact = registration.Contact{} }, "contact"},
		{"birth date in the future", func(r *registration.OrderRequest) { r.Person.BirthDate = "2027-01-01" }, "person.birth_date"},
		{"birth date German style", func(r *registration.OrderRequest) { r.Person.BirthDate = "14.03.1987" }, "person.birth_date"},
		{"no family name", func(r *registration.OrderRequest) { r.Person.FamilyName = "  " }, "person.family_name"},
		{"bidi control in name", func(r *registration.OrderRequest) { r.Person.GivenNames = "Ay\u202eşe" }, "person.given_names"},
		{"post without address", func(r *registration.OrderRequest) { r.Delivery = registration.DeliveryPost }, "address"},
		{"bad postcode", func(r *registration.OrderRequest) {
			r.Delivery = registration.DeliveryPost
			r.Address = &registration.Address{Street: "Kalker Hauptstr. 247", Postcode: "5103", City: "Köln"}
		}, "address.postcode"},
		{"unknown delivery", func(r *registration.OrderRequest) { r.Delivery = "drone" }, "delivery"},
		{"civil status without event", func(r *registration.OrderRequest) { r.Kind = registration.KindGeburt; r.Relation = "self" }, "event.date"},
		{"civil status without relation", func(r *registration.OrderRequest) {
			r.Kind = registration.KindSterbe
			r.Event = &registration.CivilEvent{Date: "2020-05-01", Place: "Köln"}
		}, "relation"},
		{"event in the future", func(r *registration.OrderRequest) {
			r.Kind, r.Relation = registration.KindEhe, "self"
			r.Event = &registration.CivilEvent{Date: "2027-05-01", Place: "Köln"}
		}, "event.date"},
		{"no site", func(r *registration.OrderRequest) { r.Site = "" }, "site"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := goodOrder()
			c.edit(&r)
			err := r.Validate(now, berlin)
			if veedel.ErrorCode(err) != veedel.EINVALID {
				t.Fatalf("got %v, want EINVALID", err)
			}
			if msg := veedel.ErrorFields(err)[c.field]; msg == "" {
				t.Errorf("no message for %q; fields: %v", c.field, veedel.ErrorFields(err))
			}
		})
	}
}

func TestFees(t *testing.T) {
	for _, c := range []struct {
		kind   string
		copies int
		want   int
	}{
		{registration.KindMelde, 1, 1000},
		{registration.KindMelde, 3, 3000},
		{registration.KindGeburt, 1, 1200},
		{registration.KindGeburt, 3, 2400},
	} {
		if got := registration.DefaultFees[c.kind].FeeCents(c.copies); got != c.want {
			t.Errorf("%s × %d = %d cents, want %d", c.kind, c.copies, got, c.want)
		}
	}
}

func TestNewCodeFitsTheKioskBox(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		c := registration.NewCode()
		if len(c) != 10 || c[0] != 'U' {
			t.Fatalf("code %q", c)
		}
		for _, r := range c {
			if r == '0' || r == 'O' || r == '1' || r == 'I' || r == 'L' {
				t.Fatalf("code %q has a character read wrong", c)
			}
		}
		if seen[c] {
			t.Fatalf("code %q twice in 1000", c)
		}
		seen[c] = true
	}
}
