package appliance

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
)

// SiteSeed is the initial configuration of a site: what it is called, when
// it opens, what it serves and at which counters. A new appliance commits it
// as its first events, so central learns the site from the log itself.
type SiteSeed struct {
	Site queue.SiteDescribed `json:"site"`
	// Groups are the service groups: a service naming one (its "group")
	// takes the group's ticket prefix and number sequence. In a seed file a
	// grouped service may leave its own prefix out: it gets the group's.
	Groups   []queue.GroupDefined   `json:"groups,omitempty"`
	Services []queue.ServiceDefined `json:"services"`
	Counters []queue.CounterDefined `json:"counters"`
}

// hm is minutes since midnight.
func hm(h, m int) int { return h*60 + m }

// customerCentreHours are the Cologne customer centres' opening hours;
// customerCentreWalkIn the hours within them in which walk-ins are served
// (Monday 7:30–15:00 and Wednesday 7:30–12:00); on the other days, and
// outside those hours, by appointment only.
var customerCentreHours = []queue.OpeningHours{
	{Weekday: time.Monday, Open: hm(7, 30), Close: hm(15, 0)},
	{Weekday: time.Tuesday, Open: hm(8, 0), Close: hm(16, 0)},
	{Weekday: time.Wednesday, Open: hm(7, 30), Close: hm(12, 0)},
	{Weekday: time.Thursday, Open: hm(8, 0), Close: hm(18, 0)},
	{Weekday: time.Friday, Open: hm(8, 0), Close: hm(12, 0)},
}

var customerCentreWalkIn = []queue.OpeningHours{
	{Weekday: time.Monday, Open: hm(7, 30), Close: hm(15, 0)},
	{Weekday: time.Wednesday, Open: hm(7, 30), Close: hm(12, 0)},
}

// customerCentreGroups: ID cards, passports and their pick-up share the
// A numbers; address matters and certificates from the register the B
// numbers (the letters the customer centres' main services always had, so
// that "A042" and "B017" keep meaning what citizens know).
var customerCentreGroups = []queue.GroupDefined{
	{ID: "ausweis-pass", Name: "Ausweis und Pass", NameEN: "ID card and passport", Prefix: "A"},
	{ID: "meldewesen", Name: "Meldewesen", NameEN: "Residents' registration", Prefix: "B"},
}

// customerCentreServices: a grouped service's own prefix is its group's,
// so that a fold that knows no groups shows the same letter.
var customerCentreServices = []queue.ServiceDefined{
	{ID: "ausweis", Name: "Personalausweis und Reisepass", NameEN: "ID card and passport", Prefix: "A", ExpectedMinutes: 12, Group: "ausweis-pass"},
	{ID: "meldung", Name: "An- und Ummeldung", NameEN: "Registering an address", Prefix: "B", ExpectedMinutes: 9, Group: "meldewesen"},
	{ID: "bescheinigung", Name: "Meldebescheinigung und Führungszeugnis", NameEN: "Certificates", Prefix: "B", ExpectedMinutes: 6, Group: "meldewesen"},
	{ID: "abholung", Name: "Abholung von Dokumenten", NameEN: "Document pick-up", Prefix: "A", ExpectedMinutes: 3, Group: "ausweis-pass"},
}

func customerCentre(id, name string, counters int) SiteSeed {
	s := SiteSeed{
		Site: queue.SiteDescribed{ID: id, Name: name, TimeZone: "Europe/Berlin", Hours: customerCentreHours,
			WalkIn: customerCentreWalkIn},
		Groups:   customerCentreGroups,
		Services: customerCentreServices,
	}
	all := []string{"ausweis", "meldung", "bescheinigung", "abholung"}
	for i := 1; i <= counters; i++ {
		c := queue.CounterDefined{ID: strconv.Itoa(i), Name: "Platz " + strconv.Itoa(i)}
		switch {
		case i <= 2:
			c.Services = []string{"ausweis", "meldung"}
		case i == counters:
			c.Services = all
		default:
			c.Services = []string{"meldung", "bescheinigung", "abholung"}
		}
		s.Counters = append(s.Counters, c)
	}
	return s
}

// vehicleRegistration is the Kfz-Zulassungsstelle: registrations, changes
// of owner, deregistrations and reserved plates, at its own counters
// (walk-ins Monday and Wednesday mornings, otherwise by appointment).
func vehicleRegistration(id, name string) SiteSeed {
	return SiteSeed{
		Site: queue.SiteDescribed{ID: id, Name: name, TimeZone: "Europe/Berlin",
			Hours: []queue.OpeningHours{
				{Weekday: time.Monday, Open: hm(7, 30), Close: hm(15, 0)},
				{Weekday: time.Tuesday, Open: hm(7, 30), Close: hm(15, 0)},
				{Weekday: time.Wednesday, Open: hm(7, 30), Close: hm(12, 0)},
				{Weekday: time.Thursday, Open: hm(7, 30), Close: hm(18, 0)},
				{Weekday: time.Friday, Open: hm(7, 30), Close: hm(12, 0)},
			},
			WalkIn: []queue.OpeningHours{
				{Weekday: time.Monday, Open: hm(7, 30), Close: hm(15, 0)},
				{Weekday: time.Wednesday, Open: hm(7, 30), Close: hm(12, 0)},
			}},
		Services: []queue.ServiceDefined{
			{ID: "neuzulassung", Name: "Neuzulassung", NameEN: "New registration", Prefix: "N", ExpectedMinutes: 20},
			{ID: "umschreibung", Name: "Umschreibung (Halterwechsel)", NameEN: "Change of owner", Prefix: "U", ExpectedMinutes: 15},
			{ID: "ausserbetrieb", Name: "Außerbetriebsetzung", NameEN: "Deregistration", Prefix: "X", ExpectedMinutes: 8},
			{ID: "wunschkennzeichen", Name: "Wunschkennzeichen", NameEN: "Reserved plate", Prefix: "W", ExpectedMinutes: 5},
		},
		Counters: []queue.CounterDefined{
			{ID: "1", Name: "Schalter 1", Services: []string{"neuzulassung", "umschreibung"}},
			{ID: "2", Name: "Schalter 2", Services: []string{"neuzulassung", "umschreibung", "ausserbetrieb"}},
			{ID: "3", Name: "Schalter 3", Services: []string{"neuzulassung", "umschreibung", "ausserbetrieb", "wunschkennzeichen"}},
			{ID: "4", Name: "Schalter 4", Services: []string{"ausserbetrieb", "wunschkennzeichen"}},
		},
	}
}

// schoolHealth is a school-health site of the health office: children
// come by appointment for the school-entry exam (appliance/exam), checked
// in with their invitation code, and go from station to station.
func schoolHealth(id, name string) SiteSeed {
	days := []queue.OpeningHours{}
	for _, d := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday} {
		days = append(days, queue.OpeningHours{Weekday: d, Open: hm(8, 0), Close: hm(16, 0)})
	}
	return SiteSeed{
		Site: queue.SiteDescribed{ID: id, Name: name, TimeZone: "Europe/Berlin", Hours: days},
		Services: []queue.ServiceDefined{
			{ID: "schuleingang", Name: "Schuleingangsuntersuchung", NameEN: "School-entry exam", Prefix: "S", ExpectedMinutes: 45},
		},
		Counters: []queue.CounterDefined{
			{ID: "1", Name: "Station 1 (Messen, Sehen, Hören)", Services: []string{"schuleingang"}},
			{ID: "2", Name: "Station 2 (Entwicklung)", Services: []string{"schuleingang"}},
			{ID: "3", Name: "Ärztin/Arzt", Services: []string{"schuleingang"}},
		},
	}
}

// Catalog holds the built-in seeds, keyed by site ID: Cologne's customer
// centres, its vehicle registration office and the health office's
// school-health site (public information).
var Catalog = map[string]SiteSeed{
	"gesundheitsamt": schoolHealth("gesundheitsamt", "Gesundheitsamt Köln, Schulgesundheit"),
	"zulassung":      vehicleRegistration("zulassung", "Kfz-Zulassungsstelle Köln"),
	"chorweiler":     customerCentre("chorweiler", "Kundenzentrum Chorweiler", 3),
	"ehrenfeld":      customerCentre("ehrenfeld", "Kundenzentrum Ehrenfeld", 4),
	"innenstadt":     customerCentre("innenstadt", "Kundenzentrum Innenstadt", 6),
	"kalk":           customerCentre("kalk", "Kundenzentrum Kalk", 4),
	"lindenthal":     customerCentre("lindenthal", "Kundenzentrum Lindenthal", 4),
	"muelheim":       customerCentre("muelheim", "Kundenzentrum Mülheim", 4),
	"nippes":         customerCentre("nippes", "Kundenzentrum Nippes", 4),
	"porz":           customerCentre("porz", "Kundenzentrum Porz", 3),
	"rodenkirchen":   customerCentre("rodenkirchen", "Kundenzentrum Rodenkirchen", 3),
}

// Events returns the seed as the events a new site commits first.
func (s SiteSeed) Events(at time.Time) []queue.Event {
	site := s.Site
	events := []queue.Event{{Type: queue.TypeSiteDescribed, Entity: "site/" + site.ID, At: at, Payload: &site}}
	for i := range s.Groups {
		g := s.Groups[i]
		events = append(events, queue.Event{Type: queue.TypeGroupDefined, Entity: "group/" + g.ID, At: at, Payload: &g})
	}
	for i := range s.Services {
		svc := s.Services[i]
		events = append(events, queue.Event{Type: queue.TypeServiceDefined, Entity: "service/" + svc.ID, At: at, Payload: &svc})
	}
	for i := range s.Counters {
		c := s.Counters[i]
		events = append(events, queue.Event{Type: queue.TypeCounterDefined, Entity: "counter/" + c.ID, At: at, Payload: &c})
	}
	return events
}

// Validate checks a seed read from a file before a site commits it: a
// site ID and name, groups with an ID, a name and a one-letter prefix,
// services with a one-letter prefix, a duration and a known group (if
// any), every prefix used by one group or one ungrouped service only, and
// counters that serve only services the seed defines.
func (s SiteSeed) Validate() error {
	if s.Site.ID == "" || s.Site.Name == "" {
		return fmt.Errorf("seed: site needs an id and a name")
	}
	if err := veedel.CheckText("Der Name des Standorts", "the site's name", s.Site.Name); err != nil {
		return fmt.Errorf("seed: %s", veedel.ErrorMessage(err))
	}
	if s.Site.TimeZone != "" {
		if _, err := time.LoadLocation(s.Site.TimeZone); err != nil {
			return fmt.Errorf("seed: time zone %q: %v", s.Site.TimeZone, err)
		}
	}
	if len(s.Services) == 0 || len(s.Counters) == 0 {
		return fmt.Errorf("seed: at least one service and one counter are needed")
	}
	groups := map[string]bool{}
	prefixes := map[string]string{} // prefix -> who numbers with it
	for i := range s.Groups {
		g := &s.Groups[i]
		if err := g.Validate(); err != nil {
			return fmt.Errorf("seed: group %q: %v", g.ID, err)
		}
		if groups[g.ID] {
			return fmt.Errorf("seed: group %q is defined twice", g.ID)
		}
		if other, ok := prefixes[g.Prefix]; ok {
			return fmt.Errorf("seed: group %q: prefix %q is used by %s already", g.ID, g.Prefix, other)
		}
		groups[g.ID], prefixes[g.Prefix] = true, fmt.Sprintf("group %q", g.ID)
	}
	services := map[string]bool{}
	for i := range s.Services {
		svc := &s.Services[i]
		if err := svc.Validate(); err != nil {
			return fmt.Errorf("seed: service %q: %v", svc.ID, err)
		}
		if services[svc.ID] {
			return fmt.Errorf("seed: service %q is defined twice", svc.ID)
		}
		services[svc.ID] = true
		if svc.Group != "" {
			if !groups[svc.Group] {
				return fmt.Errorf("seed: service %q belongs to unknown group %q", svc.ID, svc.Group)
			}
			continue
		}
		if other, ok := prefixes[svc.Prefix]; ok {
			return fmt.Errorf("seed: service %q: prefix %q is used by %s already", svc.ID, svc.Prefix, other)
		}
		prefixes[svc.Prefix] = fmt.Sprintf("service %q", svc.ID)
	}
	for _, c := range s.Counters {
		if c.ID == "" || c.Name == "" || len(c.Services) == 0 {
			return fmt.Errorf("seed: counter %q needs an id, a name and services", c.ID)
		}
		for _, id := range c.Services {
			if !services[id] {
				return fmt.Errorf("seed: counter %q serves unknown service %q", c.ID, id)
			}
		}
	}
	return nil
}

// ReadSeed reads a site's seed from JSON (the shape of SiteSeed, with the
// payloads' json names) and validates it.
func ReadSeed(r io.Reader) (SiteSeed, error) {
	var s SiteSeed
	dec := json.NewDecoder(io.LimitReader(r, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return SiteSeed{}, fmt.Errorf("seed: %v", err)
	}
	// A grouped service without a prefix of its own gets its group's.
	for i := range s.Services {
		svc := &s.Services[i]
		if svc.Prefix != "" || svc.Group == "" {
			continue
		}
		for _, g := range s.Groups {
			if g.ID == svc.Group {
				svc.Prefix = g.Prefix
			}
		}
	}
	return s, s.Validate()
}
