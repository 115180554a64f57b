package queue_test

import (
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
)

// TestAcceptFromCentralReplayUnchanged: central replays the reference data
// after a site's update (docs/SYNC.md); every definition the site already
// has must decide to nothing, so that a replay does not grow the log.
func TestAcceptFromCentralReplayUnchanged(t *testing.T) {
	at := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	hours := []queue.OpeningHours{{Weekday: time.Wednesday, Open: 7*60 + 30, Close: 12 * 60}, {Weekday: time.Monday, Open: 7*60 + 30, Close: 18 * 60}}
	walkIn := []queue.OpeningHours{{Weekday: time.Monday, Open: 7*60 + 30, Close: 15 * 60}}
	site := &queue.SiteDescribed{ID: "kalk", Name: "Kundenzentrum Kalk", TimeZone: "Europe/Berlin", Hours: hours, WalkIn: walkIn}
	group := &queue.GroupDefined{ID: "ausweis-pass", Name: "Ausweis und Pass", NameEN: "ID card and passport", Prefix: "A"}
	grouped := &queue.ServiceDefined{ID: "ausweis", Name: "Ausweis", NameEN: "ID card", Prefix: "A", ExpectedMinutes: 12, Group: "ausweis-pass"}
	alone := &queue.ServiceDefined{ID: "fundbuero", Name: "Fundbüro", NameEN: "Lost property", Prefix: "F", ExpectedMinutes: 5}
	st := queue.NewState("kalk")
	for _, e := range []queue.Event{
		{Type: queue.TypeSiteDescribed, Entity: "site/kalk", Payload: site},
		{Type: queue.TypeGroupDefined, Entity: "group/ausweis-pass", Payload: group},
		{Type: queue.TypeServiceDefined, Entity: "service/ausweis", Payload: grouped},
		{Type: queue.TypeServiceDefined, Entity: "service/fundbuero", Payload: alone},
		{Type: queue.TypeCounterDefined, Entity: "counter/1", Payload: &queue.CounterDefined{ID: "1", Name: "Platz 1", Services: []string{"ausweis", "fundbuero"}}},
	} {
		e.At = at
		st.Apply(e)
	}

	withoutGroup := *grouped
	withoutGroup.Group = "" // from a central that knows no groups
	noName := *site
	noName.Name, noName.TimeZone = "", "" // keep the site's own
	unsorted := *site
	unsorted.Hours = []queue.OpeningHours{hours[1], hours[0]}
	for _, tc := range []struct {
		name string
		ev   queue.Event
	}{
		{"Site", queue.Event{Type: queue.TypeSiteDescribed, Payload: site}},
		{"SiteUnsorted", queue.Event{Type: queue.TypeSiteDescribed, Payload: &unsorted}},
		{"SiteNameKept", queue.Event{Type: queue.TypeSiteDescribed, Payload: &noName}},
		{"Group", queue.Event{Type: queue.TypeGroupDefined, Payload: group}},
		{"GroupedService", queue.Event{Type: queue.TypeServiceDefined, Payload: grouped}},
		{"GroupedServiceWithoutGroup", queue.Event{Type: queue.TypeServiceDefined, Payload: &withoutGroup}},
		{"Service", queue.Event{Type: queue.TypeServiceDefined, Payload: alone}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events, err := st.AcceptFromCentral(at.Add(time.Hour), tc.ev)
			if err != nil || len(events) != 0 {
				t.Errorf("AcceptFromCentral(%+v) = %+v, %v; want nothing", tc.ev.Payload, events, err)
			}
		})
	}
}
