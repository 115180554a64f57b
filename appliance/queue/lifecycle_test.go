package queue_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
)

// book creates and applies a booking.
// book records a booking as the state has it, however it came (the desk,
// or central's online share): the fixtures place bookings where the test
// needs them, beyond what a slot's site share would let the desk book
// (slots_test.go tests that rule).
func (f *fixture) book(at time.Time, code, service string, slot time.Time) {
	f.t.Helper()
	code = queue.NormalizeBookingCode(code)
	f.apply(queue.Event{Type: queue.TypeBookingCreated, Entity: "booking/" + code, At: at,
		Payload: &queue.BookingCreated{Code: code, Service: service, Slot: slot.UnixMilli()}})
}

// checkIn checks a booking in and returns its (new) ticket.
func (f *fixture) checkIn(at time.Time, code string) queue.Ticket {
	f.t.Helper()
	e, existing, err := f.st.CheckIn(at, code, f.token(), "kiosk")
	if err != nil {
		f.t.Fatalf("CheckIn(%s): %v", code, err)
	}
	if existing != nil {
		f.t.Fatalf("CheckIn(%s): returned the existing %s, want a new ticket", code, existing.Number)
	}
	f.apply(e)
	return *f.st.Tickets[e.Payload.(*queue.TicketIssued).ID]
}

func (f *fixture) accessible(at time.Time, service string) queue.Ticket {
	f.t.Helper()
	e := f.must(f.st.IssueTicketClass(at, service, f.token(), "kiosk", queue.ClassAccessibility))
	return *f.st.Tickets[e.Payload.(*queue.TicketIssued).ID]
}

func TestCheckIn(t *testing.T) {
	t.Run("IssuesAppointmentTicket", func(t *testing.T) {
		f := newFixture(t)
		f.book(monday(7, 0), "ab-12 cd", "ausweis", monday(9, 0))
		tk := f.checkIn(monday(8, 50), " AB12CD ")
		if tk.Class != queue.ClassAppointment || tk.Booking != "AB12CD" || !tk.Slot.Equal(monday(9, 0)) || tk.Number != "A001" || tk.Service != "ausweis" {
			t.Errorf("ticket = %+v, want appointment A001 for ausweis at 9:00", tk)
		}
		if b := f.st.BookingByCode("ab12cd"); b == nil || b.Ticket != tk.ID {
			t.Errorf("booking = %+v, want checked in as %s", b, tk.ID)
		}
	})
	t.Run("Idempotent", func(t *testing.T) {
		f := newFixture(t)
		f.book(monday(7, 0), "AB12CD", "ausweis", monday(9, 0))
		first := f.checkIn(monday(8, 50), "AB12CD")
		e, existing, err := f.st.CheckIn(monday(8, 51), "ab12cd", f.token(), "kiosk")
		if err != nil || existing == nil || existing.ID != first.ID || e.Payload != nil {
			t.Fatalf("second check-in = %+v, %v, %v; want the first ticket and no event", e, existing, err)
		}
	})
	t.Run("UnknownCode", func(t *testing.T) {
		f := newFixture(t)
		_, _, err := f.st.CheckIn(monday(8, 50), "NOPE1234", f.token(), "kiosk")
		wantCode(t, err, veedel.ENOTFOUND)
	})
	t.Run("OtherDay", func(t *testing.T) {
		f := newFixture(t)
		f.book(monday(7, 0), "AB12CD", "ausweis", tuesday(9, 0))
		_, _, err := f.st.CheckIn(monday(8, 50), "AB12CD", f.token(), "kiosk")
		wantCode(t, err, veedel.ECONFLICT)
	})
	t.Run("TooLate", func(t *testing.T) {
		f := newFixture(t)
		f.book(monday(7, 0), "AB12CD", "ausweis", monday(9, 0))
		_, _, err := f.st.CheckIn(monday(9, 16), "AB12CD", f.token(), "kiosk")
		wantCode(t, err, veedel.ECONFLICT)
	})
	t.Run("InvalidBooking", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.st.CreateBooking(monday(7, 0), "x", "ausweis", monday(9, 0))
		wantCode(t, err, veedel.EINVALID)
		_, err = f.st.CreateBooking(monday(7, 0), "ABCD1234", "nope", monday(9, 0))
		wantCode(t, err, veedel.EINVALID)
	})
}

func TestCallingRule(t *testing.T) {
	t.Run("DueAppointmentFirst", func(t *testing.T) {
		f := newFixture(t)
		f.book(monday(7, 0), "LATE0001", "ausweis", monday(9, 10))
		f.book(monday(7, 0), "EARLY001", "ausweis", monday(9, 0))
		walk := f.issue(monday(8, 0), "ausweis")
		late := f.checkIn(monday(8, 40), "LATE0001")
		early := f.checkIn(monday(8, 45), "EARLY001")
		// 8:50: neither slot is due yet: the walk-in first.
		if got := f.call(monday(8, 50), "1", "anna"); got.ID != walk.ID {
			t.Fatalf("8:50 called %s, want the walk-in %s", got.Number, walk.Number)
		}
		f.finish(monday(8, 54), "1")
		// 9:06: both due: the earlier slot first, though it checked in later.
		if got := f.call(monday(9, 6), "1", "anna"); got.ID != early.ID {
			t.Errorf("9:06 called %s, want the 9:00 appointment %s", got.Number, early.Number)
		}
		f.finish(monday(9, 8), "1")
		if got := f.call(monday(9, 8), "1", "anna"); got.ID != late.ID {
			t.Errorf("then called %s, want %s", got.Number, late.Number)
		}
	})
	t.Run("WindowIsFiveMinutes", func(t *testing.T) {
		f := newFixture(t)
		f.book(monday(7, 0), "SLOT0900", "meldung", monday(9, 0))
		walk := f.issue(monday(8, 0), "meldung")
		appt := f.checkIn(monday(8, 30), "SLOT0900")
		if next := f.st.NextFor(f.st.Counters["2"], monday(8, 54)); next.ID != walk.ID {
			t.Errorf("8:54 next = %s, want the walk-in", next.Number)
		}
		if next := f.st.NextFor(f.st.Counters["2"], monday(8, 55)); next.ID != appt.ID {
			t.Errorf("8:55 next = %s, want the appointment", next.Number)
		}
	})
	t.Run("EarlyWhenNobodyElse", func(t *testing.T) {
		f := newFixture(t)
		f.book(monday(7, 0), "SLOT1000", "meldung", monday(10, 0))
		appt := f.checkIn(monday(8, 30), "SLOT1000")
		if got := f.call(monday(8, 31), "2", "bernd"); got.ID != appt.ID {
			t.Errorf("called %s, want the early appointment: a counter never idles", got.Number)
		}
	})
	t.Run("AccessibilityBeforeWalkIns", func(t *testing.T) {
		f := newFixture(t)
		w1 := f.issue(monday(8, 0), "meldung")
		acc := f.accessible(monday(8, 5), "meldung")
		if got := f.call(monday(8, 6), "2", "bernd"); got.ID != acc.ID {
			t.Errorf("called %s, want the accessibility ticket %s", got.Number, acc.Number)
		}
		if got := f.call(monday(8, 6), "4", "carla"); got.ID != w1.ID {
			t.Errorf("then %s, want %s", got.Number, w1.Number)
		}
	})
	t.Run("DueAppointmentBeforeAccessibility", func(t *testing.T) {
		f := newFixture(t)
		f.book(monday(7, 0), "SLOT0800", "meldung", monday(8, 0))
		acc := f.accessible(monday(7, 50), "meldung")
		appt := f.checkIn(monday(7, 55), "SLOT0800")
		if got := f.call(monday(8, 0), "2", "bernd"); got.ID != appt.ID {
			t.Errorf("called %s, want the due appointment", got.Number)
		}
		if got := f.call(monday(8, 0), "4", "carla"); got.ID != acc.ID {
			t.Errorf("then %s, want accessibility", got.Number)
		}
	})
	t.Run("UnknownClassRefused", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.st.IssueTicketClass(monday(8, 0), "meldung", f.token(), "api", "vip")
		wantCode(t, err, veedel.EINVALID)
		_, err = f.st.IssueTicketClass(monday(8, 0), "meldung", f.token(), "api", queue.ClassAppointment)
		wantCode(t, err, veedel.EINVALID)
	})
	t.Run("EstimatePositionFollowsRule", func(t *testing.T) {
		f := newFixture(t)
		f.open(monday(7, 30), "2", "bernd")
		w1 := f.issue(monday(8, 0), "meldung")
		acc := f.accessible(monday(8, 1), "meldung")
		if got := f.st.EstimateTicket(acc.ID).Position; got != 1 {
			t.Errorf("accessibility position = %d, want 1", got)
		}
		if got := f.st.EstimateTicket(w1.ID).Position; got != 2 {
			t.Errorf("walk-in position = %d, want 2", got)
		}
		if e1, e2 := f.st.EstimateTicket(acc.ID), f.st.EstimateTicket(w1.ID); e1.Minutes > e2.Minutes {
			t.Errorf("estimates: accessibility %d min after walk-in %d min", e1.Minutes, e2.Minutes)
		}
	})
}

// A morning at one counter: walk-ins arrive every 3 minutes and take 6, so
// the queue grows; an appointment every 20 minutes. Every appointment is
// called within ±5 minutes of its slot, and walk-ins keep being called.
func TestAppointmentsWithinWindowWhileWalkInsFlow(t *testing.T) {
	f := newFixture(t)
	slots := map[string]time.Time{}
	for i := range 8 {
		slot := monday(8, 20).Add(time.Duration(i) * 20 * time.Minute)
		code := "SLOT" + slot.Format("1504")
		slots[code] = slot
		f.book(monday(7, 0), code, "meldung", slot)
	}
	type arrival struct {
		at   time.Time
		code string
	}
	var arrivals []arrival
	for at := monday(7, 30); at.Before(monday(11, 0)); at = at.Add(3 * time.Minute) {
		arrivals = append(arrivals, arrival{at: at})
	}
	for code, slot := range slots {
		arrivals = append(arrivals, arrival{at: slot.Add(-8 * time.Minute), code: code})
	}
	free := monday(7, 30)
	walkInsCalled := 0
	next := 0
	slices.SortStableFunc(arrivals, func(a, b arrival) int { return a.at.Compare(b.at) })
	for now := monday(7, 30); now.Before(monday(11, 30)); now = now.Add(30 * time.Second) {
		for next < len(arrivals) && !arrivals[next].at.After(now) {
			if a := arrivals[next]; a.code != "" {
				f.checkIn(a.at, a.code)
			} else {
				f.issue(a.at, "meldung")
			}
			next++
		}
		if now.Before(free) {
			continue
		}
		if cur := f.st.Counters["2"].Current; cur != "" && f.st.Tickets[cur].Status == queue.StatusCalled {
			f.finish(now, "2")
		}
		if f.st.NextFor(f.st.Counters["2"], now) == nil {
			continue
		}
		tk := f.call(now, "2", "bernd")
		if tk.Class == queue.ClassAppointment {
			if d := tk.CalledAt.Sub(tk.Slot); d < -5*time.Minute || d > 5*time.Minute {
				t.Errorf("appointment %s (slot %s) called at %s: %v off", tk.Number, tk.Slot.Format("15:04"), tk.CalledAt.Format("15:04:05"), d)
			}
		} else {
			walkInsCalled++
		}
		free = now.Add(6 * time.Minute)
	}
	if walkInsCalled < 25 {
		t.Errorf("walk-ins called = %d, want them to keep flowing", walkInsCalled)
	}
	for _, tk := range f.st.Tickets {
		if tk.Class == queue.ClassAppointment && tk.FirstCalledAt.IsZero() {
			t.Errorf("appointment %s never called", tk.Number)
		}
	}
}

func TestStart(t *testing.T) {
	f := newFixture(t)
	a1 := f.issue(monday(8, 0), "ausweis")
	f.call(monday(8, 1), "1", "anna")
	e := f.must(f.st.Start(monday(8, 2), "1"))
	if e.Type != queue.TypeTicketStarted || !f.st.Tickets[a1.ID].StartedAt.Equal(monday(8, 2)) {
		t.Fatalf("start = %+v, ticket %+v", e, *f.st.Tickets[a1.ID])
	}
	_, err := f.st.Start(monday(8, 3), "1")
	wantCode(t, err, veedel.ECONFLICT)
	// Arrived: no no-show any more.
	_, err = f.st.NoShow(monday(8, 9), "1")
	wantCode(t, err, veedel.ECONFLICT)
	// The service time runs from the start (8:02), not the call (8:01).
	f.finish(monday(8, 12), "1")
	if got := f.st.ServiceMinutes("ausweis"); got != 10 {
		t.Errorf("service minutes = %v, want 10 (from the start)", got)
	}
	_, err = f.st.Start(monday(8, 13), "1")
	wantCode(t, err, veedel.ECONFLICT)
}

func TestNoShowGrace(t *testing.T) {
	f := newFixture(t)
	f.issue(monday(8, 0), "ausweis")
	f.call(monday(8, 1), "1", "anna")
	_, err := f.st.NoShow(monday(8, 3).Add(59*time.Second), "1")
	wantCode(t, err, veedel.ECONFLICT)
	if !strings.Contains(veedel.ErrorMessage(err), "3 Min.") || !strings.Contains(veedel.ErrorMessage(err), "1 s") {
		t.Errorf("message = %q, want the grace and the seconds left", veedel.ErrorMessage(err))
	}
	f.must(f.st.NoShow(monday(8, 4), "1"))

	t.Run("Configurable", func(t *testing.T) {
		f := newFixture(t)
		f.st.NoShowGrace = 30 * time.Second
		f.issue(monday(8, 0), "ausweis")
		f.call(monday(8, 1), "1", "anna")
		_, err := f.st.NoShow(monday(8, 1).Add(29*time.Second), "1")
		wantCode(t, err, veedel.ECONFLICT)
		f.must(f.st.NoShow(monday(8, 1).Add(30*time.Second), "1"))
	})
	t.Run("FromCallBack", func(t *testing.T) {
		f := newFixture(t)
		f.issue(monday(8, 0), "ausweis")
		f.call(monday(8, 1), "1", "anna")
		f.must(f.st.Park(monday(8, 2), "1"))
		events, err := f.st.CallBack(monday(8, 20), "1", "anna", "A001")
		if err != nil {
			t.Fatal(err)
		}
		f.apply(events...)
		_, err = f.st.NoShow(monday(8, 22), "1")
		wantCode(t, err, veedel.ECONFLICT)
		f.must(f.st.NoShow(monday(8, 23), "1"))
	})
}

func TestParkAndCallBack(t *testing.T) {
	f := newFixture(t)
	a1 := f.issue(monday(8, 0), "ausweis")
	b1 := f.issue(monday(8, 1), "meldung")
	f.call(monday(8, 2), "1", "anna")
	f.must(f.st.Start(monday(8, 3), "1"))
	e := f.must(f.st.Park(monday(8, 5), "1"))
	if e.Type != queue.TypeTicketParked {
		t.Fatalf("event = %s", e.Type)
	}
	tk := f.st.Tickets[a1.ID]
	if tk.Status != queue.StatusParked || tk.Counter != "1" || f.st.Counters["1"].Current != "" {
		t.Fatalf("after park: ticket %+v, counter current %q", *tk, f.st.Counters["1"].Current)
	}
	if got := f.st.Parked("1"); len(got) != 1 || got[0].ID != a1.ID {
		t.Errorf("Parked(1) = %v", got)
	}
	// Not waiting: never called by call-next, and not counted.
	if f.st.WaitingCount() != 1 {
		t.Errorf("waiting = %d, want 1", f.st.WaitingCount())
	}
	if got := f.call(monday(8, 6), "1", "anna"); got.ID != b1.ID {
		t.Errorf("call-next = %s, want B001", got.Number)
	}
	// The counter is busy: no call-back now.
	_, err := f.st.CallBack(monday(8, 7), "1", "anna", a1.ID)
	wantCode(t, err, veedel.ECONFLICT)
	f.finish(monday(8, 10), "1")
	// Another counter cannot call it back.
	_, err = f.st.CallBack(monday(8, 11), "2", "bernd", a1.ID)
	wantCode(t, err, veedel.ECONFLICT)
	_, err = f.st.CallBack(monday(8, 11), "1", "anna", "Z999")
	wantCode(t, err, veedel.ECONFLICT)
	events, err := f.st.CallBack(monday(8, 12), "1", "anna", "a001")
	if err != nil {
		t.Fatal(err)
	}
	f.apply(events...)
	tk = f.st.Tickets[a1.ID]
	if tk.Status != queue.StatusCalled || f.st.Counters["1"].Current != a1.ID || !tk.FirstCalledAt.Equal(monday(8, 2)) || !tk.LastCalledAt.Equal(monday(8, 12)) {
		t.Errorf("after call-back: %+v", *tk)
	}
	if calls := f.st.RecentCalls(); calls[0].Ticket != a1.ID {
		t.Errorf("display's newest call = %+v, want A001 again", calls[0])
	}
	f.finish(monday(8, 20), "1")

	t.Run("ExpiresAtDayEnd", func(t *testing.T) {
		f := newFixture(t)
		a1 := f.issue(monday(8, 0), "ausweis")
		f.call(monday(8, 1), "1", "anna")
		f.must(f.st.Park(monday(8, 2), "1"))
		f.issue(tuesday(8, 0), "ausweis")
		if got := f.st.Tickets[a1.ID].Status; got != queue.StatusExpired {
			t.Errorf("parked ticket the next day = %s, want expired", got)
		}
	})
}

func TestTransfer(t *testing.T) {
	t.Run("ToServiceKeepsArrival", func(t *testing.T) {
		f := newFixture(t)
		a1 := f.issue(monday(8, 0), "ausweis")
		b1 := f.issue(monday(8, 1), "meldung")
		b2 := f.issue(monday(8, 2), "meldung")
		f.call(monday(8, 3), "1", "anna") // A001
		e := f.must(f.st.Transfer(monday(8, 10), "1", "meldung", ""))
		if e.Type != queue.TypeTicketTransferred {
			t.Fatalf("event = %s", e.Type)
		}
		tk := f.st.Tickets[a1.ID]
		if tk.Status != queue.StatusWaiting || tk.Service != "meldung" || tk.Number != "A001" || !tk.IssuedAt.Equal(monday(8, 0)) || f.st.Counters["1"].Current != "" {
			t.Fatalf("after transfer: %+v", *tk)
		}
		if got := waitingIDs(f.st); len(got) != 3 || got[0] != a1.ID || got[1] != b1.ID || got[2] != b2.ID {
			t.Errorf("waiting = %v, want A001 first by its arrival", got)
		}
		if got := f.call(monday(8, 11), "2", "bernd"); got.ID != a1.ID {
			t.Errorf("counter 2 called %s, want A001 (arrived first)", got.Number)
		}
		if pos := f.st.EstimateTicket(b1.ID).Position; pos != 1 {
			t.Errorf("B001 position = %d, want 1", pos)
		}
	})
	t.Run("ToCounterWaitsForThatCounter", func(t *testing.T) {
		f := newFixture(t)
		b1 := f.issue(monday(8, 0), "meldung")
		b2 := f.issue(monday(8, 1), "meldung")
		f.call(monday(8, 2), "2", "bernd") // B001
		f.must(f.st.Transfer(monday(8, 5), "2", "", "4"))
		if got := f.st.Tickets[b1.ID].Target; got != "4" {
			t.Fatalf("target = %q, want 4", got)
		}
		// Counter 1 serves meldung, but B001 waits for counter 4 only.
		if got := f.call(monday(8, 6), "1", "anna"); got.ID != b2.ID {
			t.Errorf("counter 1 called %s, want B002", got.Number)
		}
		f.finish(monday(8, 7), "1")
		if _, err := f.st.CallNext(monday(8, 7), "1", "anna"); veedel.ErrorCode(err) != veedel.ECONFLICT {
			t.Errorf("counter 1 may call the ticket sent to counter 4: %v", err)
		}
		if got := f.call(monday(8, 8), "4", "carla"); got.ID != b1.ID || got.Target != "" {
			t.Errorf("counter 4 called %+v, want B001 without target", got)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		f := newFixture(t)
		f.issue(monday(8, 0), "meldung")
		_, err := f.st.Transfer(monday(8, 1), "2", "ausweis", "")
		wantCode(t, err, veedel.ECONFLICT) // nobody called
		f.call(monday(8, 2), "2", "bernd")
		for _, tc := range []struct{ service, counter, code string }{
			{"", "", veedel.EINVALID},
			{"ausweis", "1", veedel.EINVALID},
			{"nope", "", veedel.EINVALID},
			{"", "9", veedel.EINVALID},
			{"meldung", "", veedel.ECONFLICT},
			{"", "2", veedel.ECONFLICT},
		} {
			_, err := f.st.Transfer(monday(8, 3), "2", tc.service, tc.counter)
			if got := veedel.ErrorCode(err); got != tc.code {
				t.Errorf("Transfer(%q, %q) = %v, want %s", tc.service, tc.counter, err, tc.code)
			}
		}
	})
}

func TestCancel(t *testing.T) {
	f := newFixture(t)
	a1 := f.issue(monday(8, 0), "ausweis")
	a2 := f.issue(monday(8, 1), "ausweis")
	e := f.must(f.st.Cancel(monday(8, 5), a1.Token))
	if e.Type != queue.TypeTicketCancelled || f.st.Tickets[a1.ID].Status != queue.StatusCancelled || f.st.WaitingCount() != 1 {
		t.Fatalf("after cancel: %+v, waiting %d", *f.st.Tickets[a1.ID], f.st.WaitingCount())
	}
	_, err := f.st.Cancel(monday(8, 6), a1.Token)
	wantCode(t, err, veedel.ECONFLICT)
	_, err = f.st.Cancel(monday(8, 6), "no-such-token-000000000000")
	wantCode(t, err, veedel.ENOTFOUND)
	f.call(monday(8, 7), "1", "anna") // A002
	_, err = f.st.Cancel(monday(8, 8), a2.Token)
	wantCode(t, err, veedel.ECONFLICT)
}

// An older fold ignores the new events; this one ignores events newer
// than itself (simulated by an unknown payload) without moving its clock.
func TestNewEventsDecodeAndApply(t *testing.T) {
	for _, typ := range []string{queue.TypeBookingCreated, queue.TypeTicketStarted, queue.TypeTicketParked,
		queue.TypeTicketCalledBack, queue.TypeTicketTransferred, queue.TypeTicketCancelled} {
		if _, ok := queue.NewPayload(typ); !ok {
			t.Errorf("NewPayload(%s) unknown", typ)
		}
	}
	f := newFixture(t)
	before := f.st.Now()
	f.st.Apply(queue.Event{Type: "queue.from_the_future", At: monday(23, 0), Payload: &struct{}{}})
	if !f.st.Now().Equal(before) {
		t.Error("an unknown event moved the state's clock")
	}
}
