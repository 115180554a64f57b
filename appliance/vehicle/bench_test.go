package vehicle_test

import (
	"testing"

	"github.com/veedel/veedel/appliance/vehicle"
)

// BenchmarkValidate: one Umschreibung with every field, as a business
// portal's bulk upload validates 500 of them per request.
func BenchmarkValidate(b *testing.B) {
	app := validApplication(vehicle.ProcessTransfer)
	b.ReportAllocs()
	for b.Loop() {
		if f := vehicle.Validate(app, applicationNow, vehicle.DefaultBlocked); len(f) > 0 {
			b.Fatal(f)
		}
	}
}

// BenchmarkCentralFold: central folding one application's life (submitted,
// received, claimed, approved) into the read model, as at start-up.
func BenchmarkCentralFold(b *testing.B) {
	c := vehicle.NewCentral()
	b.ReportAllocs()
	for b.Loop() {
		s := submitted(vehicle.NewID(), "tok")
		c.Sent("zulassung", ev(vehicle.TypeSubmitted, 1, s))
		c.FromSite("zulassung", ev(vehicle.TypeReceived, 2, &vehicle.ApplicationReceived{ApplicationSubmitted: *s}))
		c.FromSite("zulassung", ev(vehicle.TypeClaimed, 3, &vehicle.ApplicationClaimed{ID: s.ID}))
		c.FromSite("zulassung", ev(vehicle.TypeApproved, 4, &vehicle.ApplicationApproved{ID: s.ID, Plate: "K-AB 1", Code: s.ID, ValidUntil: "2026-12-16"}))
	}
}
