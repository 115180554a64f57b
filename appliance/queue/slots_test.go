package queue_test

import (
	"testing"
	"time"

	"github.com/veedel/veedel"
)

// TestSlotPlan: a service's slots fill the opening hours in steps of its
// length, with as many places as counters serve it.
func TestSlotPlan(t *testing.T) {
	f := newFixture(t)
	slots, err := f.st.Slots("meldung", monday(0, 0).Format(time.DateOnly))
	if err != nil {
		t.Fatal(err)
	}
	if len(slots) == 0 {
		t.Fatal("no slots on a Monday")
	}
	for _, sl := range slots {
		if sl.Length != 10*time.Minute || sl.Capacity != 3 {
			t.Fatalf("meldung slot %v: want 10 min × 3 counters", sl)
		}
		if !f.st.IsOpen(sl.Start) || !f.st.IsOpen(sl.Start.Add(sl.Length-time.Minute)) {
			t.Fatalf("slot %v outside the opening hours", sl)
		}
	}
	if _, err := f.st.Slots("nope", "2025-01-13"); veedel.ErrorCode(err) != veedel.EINVALID {
		t.Errorf("unknown service: %v", err)
	}
	if _, err := f.st.Slots("meldung", "13.01.2025"); veedel.ErrorCode(err) != veedel.EINVALID {
		t.Errorf("German date: %v", err)
	}
}

// TestSiteShare: the desk books the site's share of a slot and no more;
// what central sold counts against central's share, never the site's.
func TestSiteShare(t *testing.T) {
	f := newFixture(t)
	at := monday(7, 0)
	slot := monday(9, 0) // meldung: 3 counters, 1 place online, 2 the site's
	online, err := f.st.AcceptOnlineBooking(at, "TONLINE01", "meldung", slot)
	if err != nil {
		t.Fatal(err)
	}
	f.apply(online...)
	f.must(f.st.CreateBooking(at, "DESK0001", "meldung", slot))
	f.must(f.st.CreateBooking(at, "DESK0002", "meldung", slot.Add(5*time.Minute)))
	if _, err := f.st.CreateBooking(at, "DESK0003", "meldung", slot); veedel.ErrorCode(err) != veedel.ECONFLICT {
		t.Fatalf("third desk booking in a slot with a site share of 2: %v, want ECONFLICT", err)
	}
	// The next slot is free again; a time outside the plan takes no place.
	f.must(f.st.CreateBooking(at, "DESK0004", "meldung", slot.Add(10*time.Minute)))
	f.must(f.st.CreateBooking(at, "LATE0001", "meldung", monday(21, 0)))
	// Central's share is central's: the site takes what it sold even when
	// the site's own share is full, once, and a cancellation frees it.
	again, err := f.st.AcceptOnlineBooking(at, "TONLINE01", "meldung", slot)
	if err != nil || len(again) != 0 {
		t.Fatalf("the same online booking again: %v %v", again, err)
	}
	sl, _ := f.st.SlotOf("meldung", slot)
	if got := f.st.Booked("meldung", sl, true) + f.st.Booked("meldung", sl, false); got != sl.Capacity {
		t.Fatalf("booked %d in a slot of %d", got, sl.Capacity)
	}
	cancel, err := f.st.CancelBooking(at, "DESK0001")
	if err != nil {
		t.Fatal(err)
	}
	f.apply(cancel...)
	f.must(f.st.CreateBooking(at, "DESK0005", "meldung", slot))
	if _, err := f.st.CreateBooking(at, "TONLINE01", "meldung", slot.Add(time.Hour)); veedel.ErrorCode(err) != veedel.ECONFLICT {
		t.Fatalf("the desk moving an online booking: %v, want ECONFLICT", err)
	}
}
