package queue

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/veedel/veedel"
)

// Counters are the site's own configuration (services and opening hours
// are the city's, see reference.go): the site lead names them and chooses
// the services each serves, and the change is a CounterDefined event like
// any other site event, synced to central.

// MaxCounterName is the longest counter name, in characters: it has to fit
// the call display ("bitte zu Platz 3").
const MaxCounterName = 40

// NextCounterID is the number a new counter gets: the smallest positive
// number no counter has as its ID.
func (s *State) NextCounterID() string {
	for n := 1; ; n++ {
		if id := strconv.Itoa(n); s.Counters[id] == nil {
			return id
		}
	}
}

// DefaultCounterName is the name a new counter gets when none is given.
func DefaultCounterName(id string) string { return "Platz " + id }

// AddCounter adds counter id, which must be the next free number
// (NextCounterID) when the lead opened the form. An empty name means
// DefaultCounterName. Submitting the same form twice adds the counter once:
// when counter id already exists exactly so, no events.
func (s *State) AddCounter(at time.Time, id, name string, services []string) ([]Event, error) {
	if strings.TrimSpace(name) == "" {
		name = DefaultCounterName(id)
	}
	p, err := s.validCounter(id, name, services)
	if err != nil {
		return nil, err
	}
	if c := s.Counters[id]; c != nil {
		if c.Name == p.Name && sameServices(c.Services, p.Services) {
			return nil, nil
		}
		return nil, veedel.Errorf(veedel.ECONFLICT, "%s (Nr. %s) wurde inzwischen schon angelegt: bitte die Seite neu laden / counter %s has been added meanwhile: please reload the page", c.Name, id, id)
	}
	if next := s.NextCounterID(); id != next {
		return nil, veedel.Errorf(veedel.EINVALID, "Ein neuer Platz bekommt die Nummer %s, nicht %q / a new counter gets number %s, not %q", next, id, next, id)
	}
	return []Event{{Type: TypeCounterDefined, Entity: "counter/" + id, At: at, Payload: p}}, nil
}

// DefineCounter renames an existing counter and sets the services it
// serves. A counter serving a ticket right now can be renamed, but cannot
// stop serving that ticket's service until the ticket is finished. No
// change, no events.
func (s *State) DefineCounter(at time.Time, id, name string, services []string) ([]Event, error) {
	c, err := s.counter(id)
	if err != nil {
		return nil, err
	}
	p, err := s.validCounter(id, name, services)
	if err != nil {
		return nil, err
	}
	if t := s.current(c, at); t != nil && c.Serves(t.Service) && !slices.Contains(p.Services, t.Service) {
		svc := t.Service
		if sv := s.Services[svc]; sv != nil {
			svc = sv.Name
		}
		return nil, veedel.Errorf(veedel.ECONFLICT, "%s bedient gerade %s (%s): dieses Anliegen kann erst nach dem Abschließen entfernt werden / %s is serving %s (%s): that service can only be removed once it is finished",
			c.Name, t.Number, svc, c.Name, t.Number, svc)
	}
	if c.Name == p.Name && sameServices(c.Services, p.Services) {
		return nil, nil
	}
	return []Event{{Type: TypeCounterDefined, Entity: "counter/" + id, At: at, Payload: p}}, nil
}

// validCounter checks a counter definition and returns it normalised: the
// name trimmed, the services without duplicates in the site's order.
func (s *State) validCounter(id, name string, services []string) (*CounterDefined, error) {
	if n, err := strconv.Atoi(id); err != nil || n < 1 || strconv.Itoa(n) != id {
		return nil, veedel.Errorf(veedel.EINVALID, "Platznummer %q ungültig / counter number %q invalid", id, id)
	}
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return nil, veedel.Errorf(veedel.EINVALID, "Der Name des Platzes fehlt / the counter's name is required")
	case n > MaxCounterName:
		return nil, veedel.Errorf(veedel.EINVALID, "Der Name darf höchstens %d Zeichen lang sein (jetzt %d) / the name must not be longer than %d characters (it has %d)", MaxCounterName, n, MaxCounterName, n)
	}
	if err := veedel.CheckText("Der Name", "the name", name); err != nil {
		return nil, err
	}
	for _, oid := range s.CounterOrder {
		if o := s.Counters[oid]; oid != id && strings.EqualFold(o.Name, name) {
			return nil, veedel.Errorf(veedel.ECONFLICT, "„%s“ heißt schon Platz Nr. %s: Namen müssen eindeutig sein (Aufrufanzeige) / %q is already the name of counter %s: names must be unique (call display)", name, oid, name, oid)
		}
	}
	for _, svc := range services {
		if s.Services[svc] == nil {
			return nil, veedel.Errorf(veedel.EINVALID, "Unbekanntes Anliegen %q / unknown service %q", svc, svc)
		}
	}
	p := &CounterDefined{ID: id, Name: name}
	for _, svc := range s.ServiceOrder {
		if slices.Contains(services, svc) {
			p.Services = append(p.Services, svc)
		}
	}
	if len(p.Services) == 0 {
		return nil, veedel.Errorf(veedel.EINVALID, "Bitte mindestens ein Anliegen wählen, das %s bedient / choose at least one service for %s", name, name)
	}
	return p, nil
}

// sameServices reports whether two lists name the same services, in any
// order.
func sameServices(a, b []string) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(s string) bool { return !slices.Contains(b, s) })
}
