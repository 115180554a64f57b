package appliance

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/veedel/veedel/appliance/queue"
)

// SiteSeed is the initial configuration of a site: what it is called, when
// it opens, what it serves and at which counters. A new appliance commits it
// as its first events, so central learns the site from the log itself.
type SiteSeed struct {
	Site     queue.SiteDescribed    `json:"site"`
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

var customerCentreServices = []queue.ServiceDefined{
	{ID: "ausweis", Name: "Personalausweis und Reisepass", NameEN: "ID card and passport", Prefix: "A", ExpectedMinutes: 12},
	{ID: "meldung", Name: "An- und Ummeldung", NameEN: "Registering an address", Prefix: "B", ExpectedMinutes: 9},
	{ID: "bescheinigung", Name: "Meldebescheinigung und Führungszeugnis", NameEN: "Certificates", Prefix: "C", ExpectedMinutes: 6},
	{ID: "abholung", Name: "Abholung von Dokumenten", NameEN: "Document pick-up", Prefix: "D", ExpectedMinutes: 3},
}

func customerCentre(id, name string, counters int) SiteSeed {
	s := SiteSeed{
		Site: queue.SiteDescribed{ID: id, Name: name, TimeZone: "Europe/Berlin", Hours: customerCentreHours,
			WalkIn: customerCentreWalkIn},
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

// Catalog holds the built-in seeds, keyed by site ID: Cologne's customer
// centres (public information).
var Catalog = map[string]SiteSeed{
	"chorweiler":   customerCentre("chorweiler", "Kundenzentrum Chorweiler", 3),
	"ehrenfeld":    customerCentre("ehrenfeld", "Kundenzentrum Ehrenfeld", 4),
	"innenstadt":   customerCentre("innenstadt", "Kundenzentrum Innenstadt", 6),
	"kalk":         customerCentre("kalk", "Kundenzentrum Kalk", 4),
	"lindenthal":   customerCentre("lindenthal", "Kundenzentrum Lindenthal", 4),
	"muelheim":     customerCentre("muelheim", "Kundenzentrum Mülheim", 4),
	"nippes":       customerCentre("nippes", "Kundenzentrum Nippes", 4),
	"porz":         customerCentre("porz", "Kundenzentrum Porz", 3),
	"rodenkirchen": customerCentre("rodenkirchen", "Kundenzentrum Rodenkirchen", 3),
}

// Events returns the seed as the events a new site commits first.
func (s SiteSeed) Events(at time.Time) []queue.Event {
	site := s.Site
	events := []queue.Event{{Type: queue.TypeSiteDescribed, Entity: "site/" + site.ID, At: at, Payload: &site}}
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
// site ID and name, services with a one-letter prefix and a duration, and
// counters that serve only services the seed defines.
func (s SiteSeed) Validate() error {
	if s.Site.ID == "" || s.Site.Name == "" {
		return fmt.Errorf("seed: site needs an id and a name")
	}
	if s.Site.TimeZone != "" {
		if _, err := time.LoadLocation(s.Site.TimeZone); err != nil {
			return fmt.Errorf("seed: time zone %q: %v", s.Site.TimeZone, err)
		}
	}
	if len(s.Services) == 0 || len(s.Counters) == 0 {
		return fmt.Errorf("seed: at least one service and one counter are needed")
	}
	services := map[string]bool{}
	for i := range s.Services {
		svc := &s.Services[i]
		if err := svc.Validate(); err != nil {
			return fmt.Errorf("seed: service %q: %v", svc.ID, err)
		}
		services[svc.ID] = true
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
	return s, s.Validate()
}
