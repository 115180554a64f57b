package queue_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
)

func TestDefineCounter(t *testing.T) {
	t.Run("RenameAndServices", func(t *testing.T) {
		f := newFixture(t)
		events, err := f.st.DefineCounter(monday(8, 0), "2", "  Schalter Anmeldung ", []string{"kfz", "meldung", "kfz"})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].Type != queue.TypeCounterDefined || events[0].Entity != "counter/2" {
			t.Fatalf("events = %+v, want one counter_defined for counter/2", events)
		}
		p := events[0].Payload.(*queue.CounterDefined)
		// Trimmed, without duplicates, in the site's order of services.
		if p.Name != "Schalter Anmeldung" || !slices.Equal(p.Services, []string{"meldung", "kfz"}) {
			t.Errorf("payload = %+v", *p)
		}
		f.apply(events...)
		c := f.st.Counters["2"]
		if c.Name != "Schalter Anmeldung" || !c.Serves("kfz") || !c.Serves("meldung") || c.Serves("ausweis") {
			t.Errorf("counter = %+v", *c)
		}
	})

	t.Run("NoChangeNoEvents", func(t *testing.T) {
		f := newFixture(t)
		events, err := f.st.DefineCounter(monday(8, 0), "1", "Platz 1", []string{"meldung", "ausweis"})
		if err != nil || len(events) != 0 {
			t.Errorf("unchanged definition: events = %v, err = %v; want none", events, err)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		f := newFixture(t)
		for _, tc := range []struct {
			name, id, counter string
			services          []string
			code              string
		}{
			{"EmptyName", "1", "   ", []string{"ausweis"}, veedel.EINVALID},
			{"LongName", "1", strings.Repeat("ä", queue.MaxCounterName+1), []string{"ausweis"}, veedel.EINVALID},
			{"ControlCharacter", "1", "Platz\n1", []string{"ausweis"}, veedel.EINVALID},
			{"NoService", "1", "Platz 1", nil, veedel.EINVALID},
			{"UnknownService", "1", "Platz 1", []string{"ausweis", "hundesteuer"}, veedel.EINVALID},
			{"UnknownCounter", "9", "Platz 9", []string{"ausweis"}, veedel.ENOTFOUND},
			{"DuplicateName", "1", "platz 2", []string{"ausweis"}, veedel.ECONFLICT},
		} {
			t.Run(tc.name, func(t *testing.T) {
				events, err := f.st.DefineCounter(monday(8, 0), tc.id, tc.counter, tc.services)
				if got := veedel.ErrorCode(err); got != tc.code || events != nil {
					t.Errorf("code = %q (%v), events = %v; want %q and none", got, err, events, tc.code)
				}
			})
		}
		// Exactly 40 characters is fine.
		if _, err := f.st.DefineCounter(monday(8, 0), "1", strings.Repeat("ä", queue.MaxCounterName), []string{"ausweis"}); err != nil {
			t.Errorf("40 characters: %v", err)
		}
	})

	t.Run("ServingTicket", func(t *testing.T) {
		f := newFixture(t)
		f.issue(monday(8, 0), "ausweis")
		tk := f.call(monday(8, 1), "1", "anna")
		// Renaming is fine while serving.
		events, err := f.st.DefineCounter(monday(8, 2), "1", "Platz 1 (Fenster)", []string{"ausweis", "meldung"})
		if err != nil || len(events) != 1 {
			t.Fatalf("rename while serving: events = %v, err = %v", events, err)
		}
		f.apply(events...)
		// Dropping the service of the ticket being served is not.
		_, err = f.st.DefineCounter(monday(8, 3), "1", "Platz 1 (Fenster)", []string{"meldung"})
		if got := veedel.ErrorCode(err); got != veedel.ECONFLICT {
			t.Fatalf("drop served service: code = %q (%v), want ECONFLICT", got, err)
		}
		if msg := veedel.ErrorMessage(err); !strings.Contains(msg, tk.Number) || !strings.Contains(msg, "Personalausweis") {
			t.Errorf("message %q should name the ticket %s and its service", msg, tk.Number)
		}
		// Dropping another service is.
		if _, err := f.st.DefineCounter(monday(8, 3), "1", "Platz 1", []string{"ausweis"}); err != nil {
			t.Errorf("drop other service while serving: %v", err)
		}
		// Once finished, the service can go.
		f.finish(monday(8, 4), "1")
		if _, err := f.st.DefineCounter(monday(8, 5), "1", "Platz 1", []string{"meldung"}); err != nil {
			t.Errorf("drop service after finishing: %v", err)
		}
	})
}

func TestAddCounter(t *testing.T) {
	f := newFixture(t)
	if got, want := f.st.NextCounterID(), "5"; got != want {
		t.Fatalf("NextCounterID = %q, want %q", got, want)
	}
	events, err := f.st.AddCounter(monday(8, 0), "5", "", []string{"kfz"})
	if err != nil || len(events) != 1 {
		t.Fatalf("AddCounter: events = %v, err = %v", events, err)
	}
	if p := events[0].Payload.(*queue.CounterDefined); p.ID != "5" || p.Name != "Platz 5" || !slices.Equal(p.Services, []string{"kfz"}) {
		t.Errorf("payload = %+v, want Platz 5 serving kfz", *p)
	}
	f.apply(events...)
	if got, want := f.st.CounterOrder[len(f.st.CounterOrder)-1], "5"; got != want {
		t.Errorf("last counter = %q, want %q", got, want)
	}
	// The same form again (a double click) adds nothing.
	if events, err := f.st.AddCounter(monday(8, 1), "5", "", []string{"kfz"}); err != nil || len(events) != 0 {
		t.Errorf("resubmit: events = %v, err = %v; want none", events, err)
	}
	// Another lead's form for number 5, with other values, conflicts.
	if _, err := f.st.AddCounter(monday(8, 1), "5", "Empfang", []string{"meldung"}); veedel.ErrorCode(err) != veedel.ECONFLICT {
		t.Errorf("stale form: err = %v, want ECONFLICT", err)
	}
	// Not the next number.
	if _, err := f.st.AddCounter(monday(8, 1), "9", "Platz 9", []string{"kfz"}); veedel.ErrorCode(err) != veedel.EINVALID {
		t.Errorf("number 9: err = %v, want EINVALID", err)
	}
	for _, id := range []string{"", "0", "-1", "06", "x"} {
		if _, err := f.st.AddCounter(monday(8, 1), id, "Neu", []string{"kfz"}); veedel.ErrorCode(err) != veedel.EINVALID {
			t.Errorf("id %q: err = %v, want EINVALID", id, err)
		}
	}
	if _, err := f.st.AddCounter(monday(8, 1), "6", "Platz 6", nil); veedel.ErrorCode(err) != veedel.EINVALID {
		t.Errorf("no services: err = %v, want EINVALID", err)
	}
}
