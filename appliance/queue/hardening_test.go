package queue_test

import (
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
)

// Names staff and central type end up on the call display, the kiosk and
// the portal: a right-to-left override (U+202E) would show them reversed,
// a control character breaks lines and logs. Each is refused, and the
// message says which character.
func TestNamesRefuseControlAndBidiCharacters(t *testing.T) {
	for _, bad := range []struct {
		name, text, want string
	}{
		{"RLO", "Personal\u202eausweis", "U+202E"},
		{"LRI", "Ausweis \u2066A\u2069", "U+2066"},
		{"RLM", "Ausweis\u200f", "U+200F"},
		{"NUL", "Ausweis\x00", "U+0000"},
		{"Newline", "Aus\nweis", "U+000A"},
		{"C1", "Aus\u0085weis", "U+0085"},
		{"LineSeparator", "Aus\u2028weis", "U+2028"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			f := newFixture(t)
			at := monday(7, 0)
			check := func(what string, err error) {
				t.Helper()
				wantCode(t, err, veedel.EINVALID)
				if msg := veedel.ErrorMessage(err); !strings.Contains(msg, bad.want) {
					t.Errorf("%s: message %q does not name %s", what, msg, bad.want)
				}
			}
			_, err := f.st.AcceptService(at, queue.ServiceDefined{ID: "neu", Name: bad.text, NameEN: "New", Prefix: "N", ExpectedMinutes: 5})
			check("service name", err)
			_, err = f.st.AcceptService(at, queue.ServiceDefined{ID: "neu", Name: "Neu", NameEN: bad.text, Prefix: "N", ExpectedMinutes: 5})
			check("service English name", err)
			_, err = f.st.AcceptGroup(at, queue.GroupDefined{ID: "papiere", Name: bad.text, Prefix: "P"})
			check("group name", err)
			_, err = f.st.DefineCounter(at, "1", bad.text, []string{"ausweis"})
			check("counter name", err)
			_, err = f.st.AddCounter(at, f.st.NextCounterID(), bad.text, []string{"ausweis"})
			check("new counter name", err)
			_, err = f.st.AcceptSiteDescription(at, queue.SiteDescribed{ID: "kalk", Name: bad.text, Hours: f.st.Site.Hours})
			check("site name", err)
		})
	}
	t.Run("FineNamesStillPass", func(t *testing.T) {
		f := newFixture(t)
		at := monday(7, 0)
		if _, err := f.st.AcceptService(at, queue.ServiceDefined{ID: "neu", Name: "Führerschein – Umtausch (EU)", NameEN: "Ehliyet değişimi", Prefix: "N", ExpectedMinutes: 5}); err != nil {
			t.Error(err)
		}
		if _, err := f.st.AcceptGroup(at, queue.GroupDefined{ID: "papiere", Name: "وثائق", Prefix: "P"}); err != nil {
			t.Error(err) // Arabic text is fine; only the invisible direction overrides are not
		}
	})
}

func TestBookingSlotWithinHorizon(t *testing.T) {
	f := newFixture(t)
	at := monday(7, 0)
	for _, tc := range []struct {
		name string
		slot time.Time
		want string
	}{
		{"FarFuture", time.Date(9999, 12, 31, 9, 0, 0, 0, time.UTC), "more than a year ahead"},
		{"JustPastTheYear", at.Add(queue.MaxBookingAhead + time.Hour), "more than a year ahead"},
		{"LongAgo", time.Date(1970, 1, 1, 9, 0, 0, 0, time.UTC), "in the past"},
		{"YesterdayAndMore", at.Add(-queue.MaxBookingPast - time.Hour), "in the past"},
	} {
		_, err := f.st.CreateBooking(at, "HORIZON1", "ausweis", tc.slot)
		wantCode(t, err, veedel.EINVALID)
		if msg := veedel.ErrorMessage(err); !strings.Contains(msg, tc.want) {
			t.Errorf("%s: message %q, want %q", tc.name, msg, tc.want)
		}
	}
	for _, slot := range []time.Time{monday(9, 0), at.Add(300 * 24 * time.Hour), at.Add(-2 * time.Hour)} {
		if _, err := f.st.CreateBooking(at, "HORIZON1", "ausweis", slot); err != nil {
			t.Errorf("slot %v: %v", slot, err)
		}
	}
}
