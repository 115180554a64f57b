package queue_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
)

func TestServiceDefinedValidate(t *testing.T) {
	ok := queue.ServiceDefined{ID: "ausweis", Name: "Personalausweis", NameEN: "ID card", Prefix: "A", ExpectedMinutes: 12}
	if err := ok.Validate(); err != nil {
		t.Fatalf("Validate(%+v) = %v, want nil", ok, err)
	}
	for _, tc := range []struct {
		name   string
		change func(*queue.ServiceDefined)
		want   string // in the message
	}{
		{"ErrPrefixLower", func(s *queue.ServiceDefined) { s.Prefix = "a" }, "Großbuchstabe"},
		{"ErrPrefixTwo", func(s *queue.ServiceDefined) { s.Prefix = "AB" }, "Großbuchstabe"},
		{"ErrPrefixEmpty", func(s *queue.ServiceDefined) { s.Prefix = "" }, "Großbuchstabe"},
		{"ErrPrefixUmlaut", func(s *queue.ServiceDefined) { s.Prefix = "Ä" }, "Großbuchstabe"},
		{"ErrMinutesZero", func(s *queue.ServiceDefined) { s.ExpectedMinutes = 0 }, "1 bis 240"},
		{"ErrMinutesTooMany", func(s *queue.ServiceDefined) { s.ExpectedMinutes = 241 }, "1 bis 240"},
		{"ErrNameEmpty", func(s *queue.ServiceDefined) { s.Name = "  " }, "deutsche Name"},
		{"ErrNameLong", func(s *queue.ServiceDefined) { s.Name = strings.Repeat("x", 81) }, "höchstens 80"},
		{"ErrIDUpper", func(s *queue.ServiceDefined) { s.ID = "Ausweis" }, "Kennung"},
		{"ErrIDShort", func(s *queue.ServiceDefined) { s.ID = "a" }, "Kennung"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ok
			tc.change(&s)
			err := s.Validate()
			wantCode(t, err, veedel.EINVALID)
			if !strings.Contains(veedel.ErrorMessage(err), tc.want) {
				t.Errorf("message %q does not contain %q", veedel.ErrorMessage(err), tc.want)
			}
		})
	}
	t.Run("Bounds", func(t *testing.T) {
		for _, m := range []int{1, 240} {
			s := ok
			s.ExpectedMinutes = m
			if err := s.Validate(); err != nil {
				t.Errorf("minutes %d: %v", m, err)
			}
		}
	})
}

func TestValidateHours(t *testing.T) {
	h := func(d time.Weekday, open, close int) queue.OpeningHours {
		return queue.OpeningHours{Weekday: d, Open: open, Close: close}
	}
	for _, tc := range []struct {
		name  string
		hours []queue.OpeningHours
		want  string // "" = valid
	}{
		{"OK", fixtureHours, ""},
		{"OKNone", nil, ""},
		{"OKUntilMidnight", []queue.OpeningHours{h(time.Friday, 20*60, 24*60)}, ""},
		{"OKAdjacent", []queue.OpeningHours{h(time.Monday, 8*60, 12*60), h(time.Monday, 12*60, 14*60)}, ""},
		{"ErrOpenAfterClose", []queue.OpeningHours{h(time.Monday, 15*60, 8*60)}, "Montag: Öffnung 15:00 muss vor Schließung 08:00 liegen"},
		{"ErrEqual", []queue.OpeningHours{h(time.Monday, 8*60, 8*60)}, "Öffnung 08:00 muss vor"},
		{"ErrOverlap", []queue.OpeningHours{h(time.Tuesday, 13*60, 16*60), h(time.Tuesday, 8*60, 14*60)}, "Dienstag: Zeiträume überschneiden sich (08:00–14:00 und 13:00–16:00)"},
		{"ErrPastMidnight", []queue.OpeningHours{h(time.Monday, 8*60, 24*60+1)}, "zwischen 00:00 und 24:00"},
		{"ErrNegative", []queue.OpeningHours{h(time.Monday, -1, 60)}, "zwischen 00:00 und 24:00"},
		{"ErrWeekday", []queue.OpeningHours{h(7, 60, 120)}, "Wochentag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := queue.ValidateHours(tc.hours)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("ValidateHours = %v, want nil", err)
				}
				return
			}
			wantCode(t, err, veedel.EINVALID)
			if !strings.Contains(veedel.ErrorMessage(err), tc.want) {
				t.Errorf("message %q does not contain %q", veedel.ErrorMessage(err), tc.want)
			}
		})
	}
}

func TestAcceptService(t *testing.T) {
	at := monday(7, 0)
	t.Run("ChangedBecomesEvent", func(t *testing.T) {
		f := newFixture(t)
		svc := queue.ServiceDefined{ID: "ausweis", Name: "Personalausweis", NameEN: "ID card", Prefix: "A", ExpectedMinutes: 15}
		events, err := f.st.AcceptService(at, svc)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].Type != queue.TypeServiceDefined || events[0].Entity != "service/ausweis" || !events[0].At.Equal(at) {
			t.Fatalf("events = %+v, want one service_defined for service/ausweis at %v", events, at)
		}
		f.apply(events...)
		if got := f.st.Services["ausweis"].ExpectedMinutes; got != 15 {
			t.Errorf("expected minutes after apply = %d, want 15", got)
		}
		// The same definition again changes nothing.
		again, err := f.st.AcceptService(at.Add(time.Minute), svc)
		if err != nil || len(again) != 0 {
			t.Errorf("second AcceptService = %+v, %v; want no events", again, err)
		}
	})
	t.Run("UnchangedNoEvents", func(t *testing.T) {
		f := newFixture(t)
		events, err := f.st.AcceptService(at, queue.ServiceDefined{ID: "meldung", Name: "Anmeldung", NameEN: "Registration", Prefix: "B", ExpectedMinutes: 5})
		if err != nil || len(events) != 0 {
			t.Errorf("AcceptService of the current definition = %+v, %v; want no events", events, err)
		}
	})
	t.Run("NewServiceServedByAllRoundCounters", func(t *testing.T) {
		f := newFixture(t)
		f.apply(queue.Event{Type: queue.TypeCounterDefined, Entity: "counter/5", At: at,
			Payload: &queue.CounterDefined{ID: "5", Name: "Platz 5", Services: []string{"kfz", "meldung", "ausweis"}}})
		events, err := f.st.AcceptService(at, queue.ServiceDefined{ID: "fuehrerschein", Name: "Führerschein", NameEN: "Driving licence", Prefix: "F", ExpectedMinutes: 20})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 2 {
			t.Fatalf("events = %+v, want the service and counter 5", events)
		}
		c := events[1].Payload.(*queue.CounterDefined)
		if events[1].Entity != "counter/5" || c.Name != "Platz 5" || !slices.Equal(c.Services, []string{"kfz", "meldung", "ausweis", "fuehrerschein"}) {
			t.Errorf("counter event = %s %+v, want counter 5 with fuehrerschein added", events[1].Entity, c)
		}
		f.apply(events...)
		if f.st.Services["fuehrerschein"] == nil || !f.st.Counters["5"].Serves("fuehrerschein") || f.st.Counters["1"].Serves("fuehrerschein") {
			t.Errorf("after apply: service %+v, counter 5 %+v, counter 1 %+v", f.st.Services["fuehrerschein"], f.st.Counters["5"], f.st.Counters["1"])
		}
		if _, err := f.st.IssueTicket(monday(8, 0), "fuehrerschein", f.token(), "kiosk"); err != nil {
			t.Errorf("ticket for the new service: %v", err)
		}
	})
	t.Run("ErrPrefixTaken", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.st.AcceptService(at, queue.ServiceDefined{ID: "neu", Name: "Neu", NameEN: "New", Prefix: "K", ExpectedMinutes: 5})
		wantCode(t, err, veedel.ECONFLICT)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.st.AcceptService(at, queue.ServiceDefined{ID: "ausweis", Name: "Personalausweis", Prefix: "A", ExpectedMinutes: 0})
		wantCode(t, err, veedel.EINVALID)
	})
}

func TestAcceptSiteDescription(t *testing.T) {
	at := monday(7, 0)
	newHours := []queue.OpeningHours{
		{Weekday: time.Friday, Open: 8 * 60, Close: 12 * 60},
		{Weekday: time.Monday, Open: 7 * 60, Close: 16 * 60},
	}
	t.Run("ChangedHours", func(t *testing.T) {
		f := newFixture(t)
		events, err := f.st.AcceptSiteDescription(at, queue.SiteDescribed{ID: "kalk", Hours: newHours})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 {
			t.Fatalf("events = %+v, want one", events)
		}
		p := events[0].Payload.(*queue.SiteDescribed)
		if p.Name != "Kundenzentrum Kalk" || p.TimeZone != "Europe/Berlin" || p.Hours[0].Weekday != time.Monday {
			t.Errorf("payload = %+v, want the site's name and zone kept and hours sorted", p)
		}
		f.apply(events...)
		if !f.st.IsOpen(monday(15, 30)) || f.st.IsOpen(tuesday(9, 0)) {
			t.Errorf("after apply: open Monday 15:30 = %v (want true), Tuesday 9:00 = %v (want false)", f.st.IsOpen(monday(15, 30)), f.st.IsOpen(tuesday(9, 0)))
		}
		again, err := f.st.AcceptSiteDescription(at, queue.SiteDescribed{ID: "kalk", Hours: newHours})
		if err != nil || len(again) != 0 {
			t.Errorf("same hours again = %+v, %v; want no events", again, err)
		}
	})
	t.Run("SameHoursOtherOrder", func(t *testing.T) {
		f := newFixture(t)
		reversed := slices.Clone(fixtureHours)
		slices.Reverse(reversed)
		events, err := f.st.AcceptSiteDescription(at, queue.SiteDescribed{ID: "kalk", Name: "Kundenzentrum Kalk", TimeZone: "Europe/Berlin", Hours: reversed})
		if err != nil || len(events) != 0 {
			t.Errorf("current hours in another order = %+v, %v; want no events", events, err)
		}
	})
	t.Run("ErrOtherSite", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.st.AcceptSiteDescription(at, queue.SiteDescribed{ID: "porz", Hours: newHours})
		wantCode(t, err, veedel.EINVALID)
	})
	t.Run("ErrBadHours", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.st.AcceptSiteDescription(at, queue.SiteDescribed{ID: "kalk", Hours: []queue.OpeningHours{{Weekday: time.Monday, Open: 600, Close: 500}}})
		wantCode(t, err, veedel.EINVALID)
	})
	t.Run("ErrOtherEventType", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.st.AcceptFromCentral(at, queue.Event{Type: queue.TypeCounterClosed, Payload: &queue.CounterClosed{Counter: "1"}})
		wantCode(t, err, veedel.EINVALID)
	})
}
