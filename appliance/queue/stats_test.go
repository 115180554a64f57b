package queue_test

import (
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
)

func TestSummariseDayP90(t *testing.T) {
	base := time.Date(2025, 1, 13, 8, 0, 0, 0, time.UTC)
	var tickets []queue.StatTicket
	// Waits of 1…10 minutes: nearest-rank P90 of ten values is the 9th.
	for i := 1; i <= 10; i++ {
		tickets = append(tickets, queue.StatTicket{IssuedAt: base, CalledAt: base.Add(time.Duration(i) * time.Minute), Status: queue.StatusCalled})
	}
	got := queue.SummariseDay("2025-01-13", time.UTC, tickets).Total
	if got.WaitP90 != 9 || got.WaitMean != 5.5 || got.Waited != 10 || got.Served != 0 {
		t.Errorf("figures = %+v, want P90 9, mean 5.5", got)
	}
	// Eleven values: rank ceil(9.9) = 10.
	tickets = append(tickets, queue.StatTicket{IssuedAt: base, CalledAt: base.Add(11 * time.Minute), Status: queue.StatusCalled})
	if got := queue.SummariseDay("2025-01-13", time.UTC, tickets).Total.WaitP90; got != 10 {
		t.Errorf("P90 of 11 = %v, want 10", got)
	}
}

func TestHoursAt(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Berlin")
	st := queue.NewState("kalk")
	st.Apply(queue.Event{Type: queue.TypeSiteDescribed, At: time.Date(2025, 1, 13, 6, 0, 0, 0, loc), Payload: &queue.SiteDescribed{
		ID: "kalk", Name: "Kalk", TimeZone: "Europe/Berlin", Hours: []queue.OpeningHours{
			{Weekday: time.Monday, Open: 7*60 + 30, Close: 12 * 60}, {Weekday: time.Monday, Open: 13 * 60, Close: 15 * 60},
			{Weekday: time.Wednesday, Open: 7*60 + 30, Close: 12 * 60}}}})
	at := func(d, hh, mm int) time.Time { return time.Date(2025, 1, d, hh, mm, 0, 0, loc) }
	for _, tc := range []struct {
		now          time.Time
		open         bool
		closes, next time.Time
	}{
		{at(13, 7, 0), false, time.Time{}, at(13, 7, 30)},
		{at(13, 7, 30), true, at(13, 12, 0), at(13, 13, 0)},
		{at(13, 12, 30), false, time.Time{}, at(13, 13, 0)},
		{at(13, 14, 59), true, at(13, 15, 0), at(15, 7, 30)},
		{at(13, 15, 0), false, time.Time{}, at(15, 7, 30)},
		{at(16, 9, 0), false, time.Time{}, at(20, 7, 30)},
	} {
		h := st.HoursAt(tc.now)
		if !h.Known || h.Open != tc.open || !h.ClosesAt.Equal(tc.closes) || !h.NextOpen.Equal(tc.next) {
			t.Errorf("HoursAt(%s) = %+v, want open %v closes %s next %s", tc.now.Format("Mon 15:04"), h, tc.open, tc.closes, tc.next)
		}
	}
	if h := queue.NewState("x").HoursAt(at(13, 9, 0)); h.Known || h.Open {
		t.Errorf("no hours: %+v, want unknown", h)
	}
	if late, _ := queue.NewState("x").RunsPastClosing("a", at(13, 9, 0)); late {
		t.Error("a site without hours runs past closing")
	}
}
