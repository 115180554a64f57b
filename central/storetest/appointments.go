package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/central"
)

// Online appointments' holds and bookings (central.AppointmentStore).

func hold(n int, slot time.Time, contact string, now time.Time) appointment.Record {
	token := sha256.Sum256(fmt.Appendf(nil, "token %d", n))
	c := sha256.Sum256([]byte(contact))
	return appointment.Record{Code: fmt.Sprintf("T%09d", n), TokenHash: token[:], Site: "kalk", Service: "ausweis", Start: slot,
		Status: appointment.StatusHeld, ContactHash: c[:], ConfirmHash: []byte("hash of the code"), Expires: now.Add(10 * time.Minute),
		Contact: []byte("contact, encrypted"), Sealed: []byte("contact, sealed"), SentTo: "j…@example.de", Lang: "de",
		CreatedAt: now, UpdatedAt: now}
}

func taken(t *testing.T, s Store, slot, now time.Time) int {
	t.Helper()
	m, err := s.SlotsTaken(context.Background(), "kalk", "ausweis", slot.Add(-time.Hour), slot.Add(time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	return m[slot.UnixMilli()]
}

// testAppointmentsLastPlace: 50 holds on a slot's last place at once,
// through two handles on the database as two central nodes would: exactly
// one wins, 49 get ErrSlotTaken; the hold takes the place until it
// expires, and then the place is free again.
func testAppointmentsLastPlace(t *testing.T, open Opener) {
	nodes := []Store{mustOpen(t, open), mustOpen(t, open)}
	ctx := context.Background()
	slot := start.Add(24 * time.Hour)
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, lost := 0, 0
	for i := range 50 {
		wg.Go(func() {
			err := nodes[i%2].HoldSlot(ctx, hold(i, slot, fmt.Sprint("c", i), start), 1, 2, start)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, appointment.ErrSlotTaken):
				lost++
			default:
				t.Errorf("hold %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if won != 1 || lost != 49 {
		t.Fatalf("50 holds on the last place: %d won, %d refused; want 1 and 49", won, lost)
	}
	if got := taken(t, nodes[1], slot, start); got != 1 {
		t.Fatalf("places taken: %d, want 1", got)
	}
	later := start.Add(10 * time.Minute)
	if got := taken(t, nodes[0], slot, later); got != 0 {
		t.Fatalf("places taken after the hold expired: %d, want 0", got)
	}
	if err := nodes[0].HoldSlot(ctx, hold(100, slot, "late", later), 1, 2, later); err != nil {
		t.Fatalf("hold after the first expired: %v", err)
	}
	if n, err := nodes[1].ExpireHolds(ctx, later); err != nil || n != 1 {
		t.Fatalf("expire holds: %d, %v; want the first", n, err)
	}
	// The first hold lost its personal data and its code.
	first := hold(0, slot, "", start)
	for i := range 50 {
		r, err := nodes[0].AppointmentByToken(ctx, hold(i, slot, "", start).TokenHash)
		if err == nil {
			first = r
		}
	}
	if first.Status != appointment.StatusExpired || first.Contact != nil || first.Sealed != nil || first.ConfirmHash != nil || first.SentTo != "" {
		t.Fatalf("expired hold keeps %+v", first)
	}
}

// testAppointmentsChange: a hold survives a restart; a wrong code counts
// even though the change reports an error; confirming stores the booking
// and appends its event for the site in one transaction (a failure before
// the commit leaves both as they were); the per-contact limit counts
// holds and bookings; cancelling frees the place; bookings recorded from
// the outbound log are stored once.
func testAppointmentsChange(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	knownSite(t, s, "kalk")
	slot := start.Add(24 * time.Hour)
	h := hold(1, slot, "jan", start)
	if err := s.HoldSlot(ctx, h, 2, 2, start); err != nil {
		t.Fatal(err)
	}
	if err := s.HoldSlot(ctx, hold(1, slot.Add(time.Hour), "other", start), 2, 2, start); err == nil {
		t.Fatal("a second hold with the same code and token was stored")
	}
	s.Close()
	s = mustOpen(t, open) // a restart
	r, err := s.AppointmentByToken(ctx, h.TokenHash)
	if err != nil || r.Status != appointment.StatusHeld || string(r.ConfirmHash) != "hash of the code" || string(r.Sealed) != "contact, sealed" ||
		!r.Start.Equal(slot) || !r.Expires.Equal(h.Expires) || r.SentTo != h.SentTo {
		t.Fatalf("after a restart: %+v, %v", r, err)
	}
	if _, err := s.AppointmentByToken(ctx, []byte("nope")); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Fatalf("unknown token: %v", err)
	}
	clock := hlcClock()
	wrong := veedel.Errorf(veedel.EINVALID, "wrong code")
	if _, err := s.UpdateAppointment(ctx, h.TokenHash, start, clock, func(r appointment.Record) (*appointment.Record, []central.Outgoing, error) {
		r.Attempts++
		return &r, nil, wrong
	}); err != wrong {
		t.Fatalf("wrong code: %v", err)
	}
	if r, _ := s.AppointmentByToken(ctx, h.TokenHash); r.Attempts != 1 {
		t.Fatalf("attempts after a wrong code: %d, want 1", r.Attempts)
	}
	confirm := func(r appointment.Record) (*appointment.Record, []central.Outgoing, error) {
		if r.Status != appointment.StatusHeld {
			return nil, nil, nil
		}
		next := r
		next.Status, next.ConfirmHash, next.Contact, next.Sealed, next.SentTo = appointment.StatusConfirmed, nil, nil, nil, ""
		return &next, []central.Outgoing{{Type: appointment.TypeBooked, Entity: "appointment/" + r.Code, Payload: &appointment.Booked{Code: r.Code, Service: r.Service, Start: r.Start.UnixMilli()}}}, nil
	}
	crash := errors.New("crash before commit")
	s.SetFault(func(context.Context, string) error { return crash })
	if _, err := s.UpdateAppointment(ctx, h.TokenHash, start, clock, confirm); !errors.Is(err, crash) {
		t.Fatalf("confirm with a crash: %v", err)
	}
	s.SetFault(nil)
	if r, _ := s.AppointmentByToken(ctx, h.TokenHash); r.Status != appointment.StatusHeld || len(outbound(t, s, "kalk")) != 0 {
		t.Fatalf("after a crash before commit: %s, %d outbound", r.Status, len(outbound(t, s, "kalk")))
	}
	for range 2 {
		r, err := s.UpdateAppointment(ctx, h.TokenHash, start, clock, confirm)
		if err != nil || r.Status != appointment.StatusConfirmed {
			t.Fatalf("confirm: %+v %v", r, err)
		}
	}
	entries := outbound(t, s, "kalk")
	if len(entries) != 1 || entries[0].Type != appointment.TypeBooked {
		t.Fatalf("outbound after confirming twice: %d entries", len(entries))
	}
	if r, _ := s.AppointmentByToken(ctx, h.TokenHash); r.Contact != nil || r.Sealed != nil || r.ConfirmHash != nil {
		t.Fatalf("a booking keeps its personal data: %+v", r)
	}
	// The contact has one booking and one hold now: the limit of two.
	if err := s.HoldSlot(ctx, hold(2, slot.Add(time.Hour), "jan", start), 2, 2, start); err != nil {
		t.Fatal(err)
	}
	if err := s.HoldSlot(ctx, hold(3, slot.Add(2*time.Hour), "jan", start), 2, 2, start); !errors.Is(err, appointment.ErrContactLimit) {
		t.Fatalf("third of one contact: %v, want ErrContactLimit", err)
	}
	// A place of a slot for two: the booking and one more.
	if err := s.HoldSlot(ctx, hold(4, slot, "eva", start), 2, 2, start); err != nil {
		t.Fatal(err)
	}
	if err := s.HoldSlot(ctx, hold(5, slot, "tom", start), 2, 2, start); !errors.Is(err, appointment.ErrSlotTaken) {
		t.Fatalf("third in a slot of two: %v", err)
	}
	if _, err := s.UpdateAppointment(ctx, h.TokenHash, start, clock, func(r appointment.Record) (*appointment.Record, []central.Outgoing, error) {
		r.Status = appointment.StatusCancelled
		return &r, []central.Outgoing{{Type: appointment.TypeCancelled, Entity: "appointment/" + r.Code, Payload: &appointment.Cancelled{Code: r.Code}}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := taken(t, s, slot, start); got != 1 {
		t.Fatalf("after cancelling: %d taken, want 1", got)
	}
	if err := s.HoldSlot(ctx, hold(5, slot, "tom", start), 2, 2, start); err != nil {
		t.Fatalf("the cancelled place: %v", err)
	}
	// Bookings folded from the outbound log: stored once, never over a
	// stored one.
	old := hold(6, slot.Add(3*time.Hour), "ida", start)
	old.Status, old.ConfirmHash, old.Contact, old.Sealed = appointment.StatusConfirmed, nil, nil, nil
	again := hold(1, slot, "jan", start)
	again.Status, again.ConfirmHash, again.Contact, again.Sealed = appointment.StatusConfirmed, nil, nil, nil
	for range 2 {
		if err := s.RecordBookings(ctx, []appointment.Record{old, again}); err != nil {
			t.Fatal(err)
		}
	}
	if got := taken(t, s, old.Start, start); got != 1 {
		t.Fatalf("recorded booking: %d taken, want 1", got)
	}
	if r, _ := s.AppointmentByToken(ctx, h.TokenHash); r.Status != appointment.StatusCancelled {
		t.Fatalf("recording overwrote a stored appointment: %s", r.Status)
	}
}

// testAppointmentsFor: a booking for a record (an exam's child) keeps
// what it is for through the hold, the confirmation and a restart;
// BookingFor finds the newest confirmed booking of the record that is
// still ahead, not a hold, not a cancelled or past one, not another
// record's.
func testAppointmentsFor(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	knownSite(t, s, "kalk")
	slot := start.Add(24 * time.Hour)
	clock := hlcClock()
	confirm := func(at time.Time) func(r appointment.Record) (*appointment.Record, []central.Outgoing, error) {
		return func(r appointment.Record) (*appointment.Record, []central.Outgoing, error) {
			next := r
			next.Status, next.ConfirmHash, next.Contact, next.Sealed, next.SentTo, next.UpdatedAt = appointment.StatusConfirmed, nil, nil, nil, "", at
			return &next, nil, nil
		}
	}
	if _, err := s.BookingFor(ctx, "kind-1", start); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Fatalf("no booking yet: %v", err)
	}
	first := hold(20, slot, "eltern", start)
	first.For = "kind-1"
	if err := s.HoldSlot(ctx, first, 5, 5, start); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BookingFor(ctx, "kind-1", start); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Fatalf("a hold counts as the booking: %v", err)
	}
	if _, err := s.UpdateAppointment(ctx, first.TokenHash, start, clock, confirm(start)); err != nil {
		t.Fatal(err)
	}
	other := hold(21, slot, "andere", start)
	other.For = "kind-2"
	s.HoldSlot(ctx, other, 5, 5, start)
	s.UpdateAppointment(ctx, other.TokenHash, start, clock, confirm(start))
	plain := hold(22, slot, "ohne", start)
	s.HoldSlot(ctx, plain, 5, 5, start)
	s.UpdateAppointment(ctx, plain.TokenHash, start, clock, confirm(start))

	s.Close()
	s = mustOpen(t, open) // a restart
	r, err := s.BookingFor(ctx, "kind-1", start)
	if err != nil || r.Code != first.Code || r.For != "kind-1" {
		t.Fatalf("booking for kind-1: %+v %v", r, err)
	}
	if r, _ := s.AppointmentByToken(ctx, plain.TokenHash); r.For != "" {
		t.Fatalf("an ordinary booking is for %q", r.For)
	}
	// Moved: the newer booking is the one.
	second := hold(23, slot.Add(time.Hour), "eltern", start)
	second.For = "kind-1"
	s.HoldSlot(ctx, second, 5, 5, start)
	s.UpdateAppointment(ctx, second.TokenHash, start.Add(time.Minute), clock, confirm(start.Add(time.Minute)))
	if r, err := s.BookingFor(ctx, "kind-1", start); err != nil || r.Code != second.Code {
		t.Fatalf("after moving: %s %v, want %s", r.Code, err, second.Code)
	}
	// Past bookings are not found.
	if _, err := s.BookingFor(ctx, "kind-1", slot.Add(2*time.Hour)); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Fatalf("a past booking: %v", err)
	}
}
