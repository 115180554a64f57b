package queue_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
)

// cologneWalkIn are Cologne's walk-in hours: Monday 7:30–15:00 and
// Wednesday 7:30–12:00, within the fixture's opening hours.
var cologneWalkIn = []queue.OpeningHours{
	{Weekday: time.Monday, Open: 7*60 + 30, Close: 15 * 60},
	{Weekday: time.Wednesday, Open: 7*60 + 30, Close: 12 * 60},
}

// withWalkIn describes the fixture site again with walk-in hours.
func withWalkIn(f *fixture, walkIn []queue.OpeningHours) {
	f.apply(queue.Event{Type: queue.TypeSiteDescribed, Entity: "site/kalk", At: monday(6, 1),
		Payload: &queue.SiteDescribed{ID: "kalk", Name: "Kundenzentrum Kalk", TimeZone: "Europe/Berlin", Hours: fixtureHours, WalkIn: walkIn}})
}

func TestIsWalkIn(t *testing.T) {
	f := newFixture(t)
	withWalkIn(f, cologneWalkIn)
	for _, tc := range []struct {
		name                                   string
		at                                     time.Time
		open, walkIn, appointmentsOnly, served bool
	}{
		{"MondayBeforeOpening", monday(7, 29), false, false, false, false},
		{"MondayOpening", monday(7, 30), true, true, false, true},
		{"MondayLastMinute", monday(14, 59), true, true, false, true},
		{"MondayClosing", monday(15, 0), false, false, false, false},
		{"TuesdayMorning", tuesday(9, 0), true, false, true, false},
		{"TuesdayEvening", tuesday(17, 30), true, false, true, false},
		{"TuesdayBetween", tuesday(16, 30), false, false, false, false},
		{"WednesdayMorning", wednesday(11, 59), true, true, false, true},
		{"WednesdayAfternoon", wednesday(12, 0), false, false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := f.st
			if got := st.IsOpen(tc.at); got != tc.open {
				t.Errorf("IsOpen = %v, want %v", got, tc.open)
			}
			if got := st.IsWalkIn(tc.at); got != tc.walkIn {
				t.Errorf("IsWalkIn = %v, want %v", got, tc.walkIn)
			}
			if got := st.AppointmentsOnly(tc.at); got != tc.appointmentsOnly {
				t.Errorf("AppointmentsOnly = %v, want %v", got, tc.appointmentsOnly)
			}
			if got := st.WalkInsServed(tc.at); got != tc.served {
				t.Errorf("WalkInsServed = %v, want %v", got, tc.served)
			}
		})
	}
	t.Run("NoneConfigured", func(t *testing.T) {
		f := newFixture(t)
		at := tuesday(9, 0)
		if f.st.IsWalkIn(at) || f.st.AppointmentsOnly(at) || !f.st.WalkInsServed(at) {
			t.Errorf("without walk-in hours at Tuesday 9:00: IsWalkIn %v (want false), AppointmentsOnly %v (want false), WalkInsServed %v (want true)",
				f.st.IsWalkIn(at), f.st.AppointmentsOnly(at), f.st.WalkInsServed(at))
		}
	})
	t.Run("DescriptionWithoutClears", func(t *testing.T) {
		f := newFixture(t)
		withWalkIn(f, cologneWalkIn)
		withWalkIn(f, nil)
		if f.st.Site.WalkIn != nil || f.st.AppointmentsOnly(tuesday(9, 0)) {
			t.Errorf("a description without walk-in hours kept %+v", f.st.Site.WalkIn)
		}
	})
}

func TestValidateWalkIn(t *testing.T) {
	h := func(d time.Weekday, open, close int) queue.OpeningHours {
		return queue.OpeningHours{Weekday: d, Open: open, Close: close}
	}
	for _, tc := range []struct {
		name   string
		walkIn []queue.OpeningHours
		want   string // "" = valid
	}{
		{"OKCologne", cologneWalkIn, ""},
		{"OKNone", nil, ""},
		{"OKPartOfDay", []queue.OpeningHours{h(time.Tuesday, 17*60, 18*60)}, ""},
		{"ErrOutsideOpening", []queue.OpeningHours{h(time.Monday, 7*60, 15*60)}, "Montag: Sprechzeit ohne Termin 07:00–15:00 liegt nicht innerhalb der Öffnungszeiten"},
		{"ErrClosedDay", []queue.OpeningHours{h(time.Friday, 8*60, 9*60)}, "Freitag: Sprechzeit ohne Termin 08:00–09:00 liegt nicht"},
		{"ErrAcrossGap", []queue.OpeningHours{h(time.Tuesday, 15*60, 18*60)}, "Dienstag: Sprechzeit ohne Termin 15:00–18:00"},
		{"ErrOpenAfterClose", []queue.OpeningHours{h(time.Monday, 12*60, 8*60)}, "Ohne Termin: Montag: Öffnung 12:00 muss vor Schließung 08:00 liegen / walk-in hours: Monday"},
		{"ErrOverlap", []queue.OpeningHours{h(time.Monday, 8*60, 10*60), h(time.Monday, 9*60, 11*60)}, "Ohne Termin: Montag: Zeiträume überschneiden sich"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := queue.ValidateWalkIn(fixtureHours, tc.walkIn)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("ValidateWalkIn = %v, want nil", err)
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

func TestAcceptSiteDescriptionWalkIn(t *testing.T) {
	at := monday(7, 0)
	reversed := slices.Clone(cologneWalkIn)
	slices.Reverse(reversed)
	t.Run("New", func(t *testing.T) {
		f := newFixture(t)
		events, err := f.st.AcceptSiteDescription(at, queue.SiteDescribed{ID: "kalk", Hours: fixtureHours, WalkIn: reversed})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 {
			t.Fatalf("events = %+v, want one", events)
		}
		p := events[0].Payload.(*queue.SiteDescribed)
		if !slices.Equal(p.WalkIn, cologneWalkIn) {
			t.Errorf("walk-in = %+v, want sorted %+v", p.WalkIn, cologneWalkIn)
		}
		f.apply(events...)
		if !f.st.AppointmentsOnly(tuesday(9, 0)) || !f.st.IsWalkIn(monday(8, 0)) {
			t.Error("after apply: Tuesday 9:00 not appointments only, or Monday 8:00 not walk-in")
		}
		again, err := f.st.AcceptSiteDescription(at, queue.SiteDescribed{ID: "kalk", Hours: fixtureHours, WalkIn: reversed})
		if err != nil || len(again) != 0 {
			t.Errorf("same walk-in hours again = %+v, %v; want no events", again, err)
		}
	})
	t.Run("OnlyWalkInChanged", func(t *testing.T) {
		f := newFixture(t)
		withWalkIn(f, cologneWalkIn)
		events, err := f.st.AcceptSiteDescription(at, queue.SiteDescribed{ID: "kalk", Hours: fixtureHours, WalkIn: cologneWalkIn[:1]})
		if err != nil || len(events) != 1 {
			t.Fatalf("one walk-in interval fewer = %+v, %v; want one event", events, err)
		}
	})
	t.Run("Cleared", func(t *testing.T) {
		f := newFixture(t)
		withWalkIn(f, cologneWalkIn)
		events, err := f.st.AcceptSiteDescription(at, queue.SiteDescribed{ID: "kalk", Hours: fixtureHours, WalkIn: []queue.OpeningHours{}})
		if err != nil || len(events) != 1 {
			t.Fatalf("cleared walk-in hours = %+v, %v; want one event", events, err)
		}
		f.apply(events...)
		if f.st.Site.WalkIn != nil {
			t.Errorf("walk-in after clearing = %+v", f.st.Site.WalkIn)
		}
	})
	t.Run("ErrOutsideOpening", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.st.AcceptSiteDescription(at, queue.SiteDescribed{ID: "kalk", Hours: fixtureHours,
			WalkIn: []queue.OpeningHours{{Weekday: time.Thursday, Open: 8 * 60, Close: 9 * 60}}})
		wantCode(t, err, veedel.EINVALID)
	})
	t.Run("ErrOpeningHoursShrunkUnderWalkIn", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.st.AcceptSiteDescription(at, queue.SiteDescribed{ID: "kalk",
			Hours:  []queue.OpeningHours{{Weekday: time.Monday, Open: 8 * 60, Close: 12 * 60}},
			WalkIn: cologneWalkIn[:1]})
		wantCode(t, err, veedel.EINVALID)
	})
}

// siteDescribedV1 is SiteDescribed as builds before walk-in hours had it.
type siteDescribedV1 struct {
	ID       string               `cbor:"1,keyasint"`
	Name     string               `cbor:"2,keyasint"`
	TimeZone string               `cbor:"3,keyasint"`
	Hours    []queue.OpeningHours `cbor:"4,keyasint"`
}

// Walk-in hours are additive on the wire: an older build reads a new
// description (and ignores them), a new build reads an old one (none), and
// a description without them encodes to the same bytes as before, so the
// hashes of existing entries do not change.
func TestSiteDescribedWireCompatible(t *testing.T) {
	newer := queue.SiteDescribed{ID: "kalk", Name: "Kundenzentrum Kalk", TimeZone: "Europe/Berlin", Hours: fixtureHours, WalkIn: cologneWalkIn}
	data, err := changelog.Marshal(&newer)
	if err != nil {
		t.Fatal(err)
	}
	var old siteDescribedV1
	if err := changelog.Unmarshal(data, &old); err != nil {
		t.Fatalf("an older build cannot read a description with walk-in hours: %v", err)
	}
	if old.ID != "kalk" || !slices.Equal(old.Hours, fixtureHours) {
		t.Errorf("older build read %+v", old)
	}

	oldData, err := changelog.Marshal(&siteDescribedV1{ID: "kalk", Name: "Kundenzentrum Kalk", TimeZone: "Europe/Berlin", Hours: fixtureHours})
	if err != nil {
		t.Fatal(err)
	}
	var back queue.SiteDescribed
	if err := changelog.Unmarshal(oldData, &back); err != nil {
		t.Fatal(err)
	}
	if back.WalkIn != nil || !slices.Equal(back.Hours, fixtureHours) {
		t.Errorf("new build read an old description as %+v", back)
	}
	same, err := changelog.Marshal(&queue.SiteDescribed{ID: "kalk", Name: "Kundenzentrum Kalk", TimeZone: "Europe/Berlin", Hours: fixtureHours})
	if err != nil {
		t.Fatal(err)
	}
	if string(same) != string(oldData) {
		t.Error("a description without walk-in hours encodes differently from before: entry hashes would change")
	}
}

func TestSnapshotWalkIn(t *testing.T) {
	f := newFixture(t)
	withWalkIn(f, cologneWalkIn)
	restored := restoreViaJSON(t, f.st)
	sameObservation(t, "restored", restored, f.st)
	if !slices.Equal(restored.Site.WalkIn, cologneWalkIn) || !restored.AppointmentsOnly(tuesday(9, 0)) {
		t.Errorf("restored walk-in = %+v", restored.Site.WalkIn)
	}

	t.Run("Version2", func(t *testing.T) {
		// A snapshot of a build before walk-in hours: version 2, no
		// walk_in. It restores, with walk-ins whenever open.
		f := newFixture(t)
		f.issue(monday(8, 0), "ausweis")
		var raw map[string]any
		data, _ := json.Marshal(f.st.Snapshot())
		if err := json.Unmarshal(data, &raw); err != nil {
			t.Fatal(err)
		}
		raw["version"] = 2
		delete(raw["site"].(map[string]any), "walk_in")
		data, _ = json.Marshal(raw)
		var snap queue.Snapshot
		if err := json.Unmarshal(data, &snap); err != nil {
			t.Fatal(err)
		}
		restored, err := queue.Restore(snap)
		if err != nil {
			t.Fatalf("version 2 snapshot: %v", err)
		}
		sameObservation(t, "restored version 2", restored, f.st)
		if restored.Site.WalkIn != nil || !restored.WalkInsServed(tuesday(9, 0)) {
			t.Errorf("version 2 snapshot restored walk-in %+v", restored.Site.WalkIn)
		}
	})
}
