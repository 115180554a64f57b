package exam_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/sync/changelog"
)

// book sends central's online booking for child at start, as the portal
// makes it with the invitation's code (Booked.For), with the parents'
// contact sealed to the site.
func (s *site) book(code, child string, start time.Time, contact appointment.Contact) string {
	s.t.Helper()
	plain, _ := cbor.Marshal(contact)
	sealed, err := changelog.Seal(s.box, "appointment.contact\n"+siteID+"\n"+code, plain)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.send(appointment.TypeBooked, "appointment/"+code, &appointment.Booked{Code: code, Service: exam.CheckInService,
		Start: start.UnixMilli(), Sealed: sealed, BookedAt: s.now.UnixMilli(), For: child})
}

// The parents' online booking is tied to the child at the site: the day
// list has the child on the booked day at the booked time (and not on
// another day); moved, on the new one; the child checks in at the kiosk
// with the invitation's code or the booking's; the reminder the day
// before goes to the contact given when booking, as the exam's.
func TestBookedExam(t *testing.T) {
	ctx := context.Background()
	s := newSite(t)
	s.assign("kind-b", child, "EBOOKED23")
	s.assign("kind-c", exam.Child{FamilyName: "Ohnetermin", GivenNames: "Carl", BirthDate: "2020-12-01", Sex: exam.SexMale, SchoolDistrict: "Innenstadt"}, "ENOBOOK23")
	id := ""
	recs, _ := exam.Records(ctx, s.store.Read())
	for rid := range recs {
		if r, _ := exam.Get(ctx, s.store.Read(), rid); r.Child == "kind-b" {
			id = rid
		}
	}
	first := time.Date(2026, 12, 8, 10, 30, 0, 0, berlin) // tomorrow
	if got := s.book("TBOOKAAAA", "kind-b", first, appointment.Contact{Name: "Ottilie Q.", Email: "ottilie@example.de"}); got != sqlite.InboxApplied {
		t.Fatalf("booking: %s", got)
	}
	day := func(d string) []exam.Entry {
		t.Helper()
		list, err := exam.Day(ctx, s.store.Read(), d, berlin, nil)
		if err != nil {
			t.Fatal(err)
		}
		return list
	}
	list := day("2026-12-08")
	if len(list) != 1 || list[0].ID != id || list[0].Slot != "10:30" || list[0].Day != "2026-12-08" || list[0].Booking != "TBOOKAAAA" {
		t.Fatalf("day list of the booked day: %+v", list)
	}
	if list := day("2026-12-07"); len(list) != 0 {
		t.Fatalf("today's list: %+v", list)
	}

	// The reminder, the day before: to the booking's contact, once per
	// day and time; none for the child without a day.
	msgs, err := exam.Site.Due(ctx, s.store.Read(), time.Date(2026, 12, 7, 12, 0, 0, 0, berlin))
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Email != "ottilie@example.de" || !strings.Contains(msgs[0].SMS, "08.12. um 10:30 Uhr") ||
		strings.Contains(msgs[0].Text, child.GivenNames) || strings.Contains(msgs[0].Key, "kind-b") {
		t.Fatalf("reminders: %+v", msgs)
	}
	key := msgs[0].Key
	// The appointment workflow leaves it to the exam's.
	if msgs, _ := appointment.Site.Due(ctx, s.store.Read(), time.Date(2026, 12, 7, 12, 0, 0, 0, berlin)); len(msgs) != 0 {
		t.Fatalf("appointment's own reminder for an exam booking: %+v", msgs)
	}

	// Moved to today: the old booking is cancelled, the new one counts.
	moved := time.Date(2026, 12, 7, 11, 15, 0, 0, berlin)
	s.book("TBOOKBBBB", "kind-b", moved, appointment.Contact{Name: "Ottilie Q.", Phone: "+49 151 5550123"})
	s.send(appointment.TypeCancelled, "appointment/TBOOKAAAA", &appointment.Cancelled{Code: "TBOOKAAAA"})
	if list := day("2026-12-08"); len(list) != 0 {
		t.Fatalf("the old day after the move: %+v", list)
	}
	list = day("2026-12-07")
	if len(list) != 1 || list[0].Slot != "11:15" || list[0].Booking != "TBOOKBBBB" {
		t.Fatalf("the new day after the move: %+v", list)
	}
	msgs, _ = exam.Site.Due(ctx, s.store.Read(), time.Date(2026, 12, 6, 12, 0, 0, 0, berlin))
	if len(msgs) != 1 || msgs[0].Phone != "+49 151 5550123" || msgs[0].Key == key {
		t.Fatalf("reminder of the moved exam: %+v", msgs)
	}

	// Check-in on the day (now: 09:00) with the invitation's code: the
	// ticket is for the exam; again, the same ticket.
	tk, replayed, err := s.store.CheckIn(ctx, "EBOOKED23", "kiosk")
	if err != nil || replayed || tk.Ref != "exam/"+id {
		t.Fatalf("check-in with the invitation code: %+v %v %v", tk, replayed, err)
	}
	if again, replayed, err := s.store.CheckIn(ctx, "ebooked23", "kiosk"); err != nil || !replayed || again.ID != tk.ID {
		t.Fatalf("second check-in: %+v %v %v", again, replayed, err)
	}
	// The booking's own code is the same child's: the same ticket, never
	// a second one; and again.
	for _, code := range []string{"TBOOKBBBB", "tbook-bbbb"} {
		if again, replayed, err := s.store.CheckIn(ctx, code, "kiosk"); err != nil || !replayed || again.ID != tk.ID {
			t.Fatalf("check-in with the booking code %s after the invitation's: %+v %v %v", code, again, replayed, err)
		}
	}
	assertOneTicket(t, s, "exam/"+id)
}

// A child booked online checks in with the booking's code first: the
// ticket is the booking's (its slot counts in the calling order) and the
// exam's; the invitation's code afterwards, and either code again, give
// the same ticket.
func TestBookedExamCheckInBookingCodeFirst(t *testing.T) {
	ctx := context.Background()
	s := newSite(t)
	s.assign("kind-b", child, "EBOOKED23")
	id := ""
	recs, _ := exam.Records(ctx, s.store.Read())
	for rid := range recs {
		id = rid
	}
	today := time.Date(2026, 12, 7, 9, 15, 0, 0, berlin)
	if got := s.book("TBOOKAAAA", "kind-b", today, appointment.Contact{Name: "Ottilie Q.", Email: "ottilie@example.de"}); got != sqlite.InboxApplied {
		t.Fatalf("booking: %s", got)
	}
	tk, replayed, err := s.store.CheckIn(ctx, "TBOOKAAAA", "kiosk")
	if err != nil || replayed || tk.Booking != "TBOOKAAAA" || tk.Ref != "exam/"+id || tk.Service != exam.CheckInService {
		t.Fatalf("check-in with the booking code: %+v %v %v", tk, replayed, err)
	}
	for _, code := range []string{"EBOOKED23", "TBOOKAAAA", "ebooked23"} {
		if again, replayed, err := s.store.CheckIn(ctx, code, "kiosk"); err != nil || !replayed || again.ID != tk.ID {
			t.Fatalf("check-in with %s after the booking code's: %+v %v %v", code, again, replayed, err)
		}
	}
	assertOneTicket(t, s, "exam/"+id)
}

// assertOneTicket fails unless the queue has exactly one ticket for ref.
func assertOneTicket(t *testing.T, s *site, ref string) {
	t.Helper()
	n := 0
	s.store.View(func(st *queue.State) {
		for _, tk := range st.Tickets {
			if tk.Ref == ref {
				n++
			}
		}
	})
	if n != 1 {
		t.Fatalf("%d tickets for %s, want 1", n, ref)
	}
}
