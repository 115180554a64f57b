package queue

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/veedel/veedel"
)

// Reference data (the city's service catalogue and a site's opening hours)
// is owned by central: the city edits it once and central sends it down to
// the sites. A site never takes such an event over blindly: it decides what
// the event changes in its own queue and commits that as its own events, so
// its change-log stays the one truth about the site.

// Limits of the catalogue.
const (
	MaxExpectedMinutes = 240
	maxNameRunes       = 80
)

var serviceIDPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,31}$`)

// Validate checks a service definition against the catalogue's rules. The
// messages are for the admin who typed the values.
func (p *ServiceDefined) Validate() error {
	switch {
	case !serviceIDPattern.MatchString(p.ID):
		return veedel.Errorf(veedel.EINVALID, "Kennung %q ungültig: 2–32 Kleinbuchstaben, Ziffern oder Bindestriche, beginnend mit einem Buchstaben / id %q invalid: 2–32 lower-case letters, digits or hyphens, starting with a letter", p.ID, p.ID)
	case strings.TrimSpace(p.Name) == "":
		return veedel.Errorf(veedel.EINVALID, "Der deutsche Name fehlt / the German name is required")
	case utf8.RuneCountInString(p.Name) > maxNameRunes || utf8.RuneCountInString(p.NameEN) > maxNameRunes:
		return veedel.Errorf(veedel.EINVALID, "Namen dürfen höchstens %d Zeichen lang sein / names must not be longer than %d characters", maxNameRunes, maxNameRunes)
	case p.Group != "" && !serviceIDPattern.MatchString(p.Group):
		return veedel.Errorf(veedel.EINVALID, "Gruppe %q ungültig / group %q invalid", p.Group, p.Group)
	}
	if err := validNames(p.Name, p.NameEN); err != nil {
		return err
	}
	if err := validPrefix(p.Prefix); err != nil {
		return err
	}
	switch {
	case p.ExpectedMinutes < 1 || p.ExpectedMinutes > MaxExpectedMinutes:
		return veedel.Errorf(veedel.EINVALID, "Erwartete Dauer %d ungültig: 1 bis %d Minuten / expected minutes %d invalid: 1 to %d", p.ExpectedMinutes, MaxExpectedMinutes, p.ExpectedMinutes, MaxExpectedMinutes)
	}
	return nil
}

// validPrefix checks a ticket prefix: exactly one capital letter.
func validPrefix(prefix string) error {
	switch {
	case strings.TrimSpace(prefix) == "":
		return veedel.Errorf(veedel.EINVALID, "Der Kennbuchstabe fehlt: genau ein Großbuchstabe A–Z / the prefix is missing: exactly one capital letter A–Z")
	case len(prefix) != 1 || prefix[0] < 'A' || prefix[0] > 'Z':
		return veedel.Errorf(veedel.EINVALID, "Kennbuchstabe %q ungültig: genau ein Großbuchstabe A–Z / prefix %q invalid: exactly one capital letter A–Z", prefix, prefix)
	}
	return nil
}

// Validate checks a service group's definition: an ID like a service's, a
// German name and one capital letter as its prefix.
func (p *GroupDefined) Validate() error {
	switch {
	case !serviceIDPattern.MatchString(p.ID):
		return veedel.Errorf(veedel.EINVALID, "Kennung der Gruppe %q ungültig: 2–32 Kleinbuchstaben, Ziffern oder Bindestriche, beginnend mit einem Buchstaben / group id %q invalid: 2–32 lower-case letters, digits or hyphens, starting with a letter", p.ID, p.ID)
	case strings.TrimSpace(p.Name) == "":
		return veedel.Errorf(veedel.EINVALID, "Der deutsche Name der Gruppe fehlt / the group's German name is required")
	case utf8.RuneCountInString(p.Name) > maxNameRunes || utf8.RuneCountInString(p.NameEN) > maxNameRunes:
		return veedel.Errorf(veedel.EINVALID, "Namen dürfen höchstens %d Zeichen lang sein / names must not be longer than %d characters", maxNameRunes, maxNameRunes)
	}
	if err := validNames(p.Name, p.NameEN); err != nil {
		return err
	}
	return validPrefix(p.Prefix)
}

// validNames refuses German and English names with characters that have
// no place in a name shown to citizens: control characters and the
// bidirectional formatting characters that could show "A042" as "240A"
// or reverse a whole line on the display (veedel.UnsafeRune).
func validNames(de, en string) error {
	if err := veedel.CheckText("Der deutsche Name", "the German name", de); err != nil {
		return err
	}
	return veedel.CheckText("Der englische Name", "the English name", en)
}

// PrefixUser names who else numbers tickets with prefix at this site: a
// group other than group, or a service other than service that belongs to
// no group; "" when nobody does. A grouped service's own prefix is not in
// use: its tickets take the group's.
func (s *State) PrefixUser(prefix, service, group string) string {
	for _, id := range s.GroupOrder {
		if g := s.Groups[id]; id != group && g.Prefix == prefix {
			return g.Name
		}
	}
	for _, id := range s.ServiceOrder {
		svc := s.Services[id]
		if id != service && s.GroupOf(id) == nil && svc.Prefix == prefix {
			return svc.Name
		}
	}
	return ""
}

// ValidateHours checks opening hours: every interval lies within one day
// and opens before it closes, and the intervals of a weekday do not overlap.
func ValidateHours(hours []OpeningHours) error {
	sorted := SortedHours(hours)
	for i, h := range sorted {
		de, en := WeekdayNames(h.Weekday)
		switch {
		case h.Weekday < time.Sunday || h.Weekday > time.Saturday:
			return veedel.Errorf(veedel.EINVALID, "Unbekannter Wochentag %d / unknown weekday %d", h.Weekday, h.Weekday)
		case h.Open < 0 || h.Close > 24*60:
			return veedel.Errorf(veedel.EINVALID, "%s: Zeiten müssen zwischen 00:00 und 24:00 liegen / %s: times must lie between 00:00 and 24:00", de, en)
		case h.Open >= h.Close:
			return veedel.Errorf(veedel.EINVALID, "%s: Öffnung %s muss vor Schließung %s liegen / %s: opening %s must be before closing %s",
				de, Clock(h.Open), Clock(h.Close), en, Clock(h.Open), Clock(h.Close))
		case i > 0 && sorted[i-1].Weekday == h.Weekday && sorted[i-1].Close > h.Open:
			return veedel.Errorf(veedel.EINVALID, "%s: Zeiträume überschneiden sich (%s–%s und %s–%s) / %s: intervals overlap", de,
				Clock(sorted[i-1].Open), Clock(sorted[i-1].Close), Clock(h.Open), Clock(h.Close), en)
		}
	}
	return nil
}

// ValidateWalkIn checks walk-in hours against the opening hours: every
// walk-in interval passes ValidateHours' rules and lies within one opening
// interval of its weekday (walk-ins are served only while the site is
// open). No walk-in hours at all is valid: walk-ins whenever open.
func ValidateWalkIn(hours, walkIn []OpeningHours) error {
	if err := ValidateHours(walkIn); err != nil {
		de, en, _ := strings.Cut(veedel.ErrorMessage(err), " / ")
		return veedel.Errorf(veedel.EINVALID, "Ohne Termin: %s / walk-in hours: %s", de, en)
	}
	for _, w := range SortedHours(walkIn) {
		inside := false
		for _, h := range hours {
			if h.Weekday == w.Weekday && h.Open <= w.Open && w.Close <= h.Close {
				inside = true
			}
		}
		if !inside {
			de, en := WeekdayNames(w.Weekday)
			return veedel.Errorf(veedel.EINVALID, "%s: Sprechzeit ohne Termin %s–%s liegt nicht innerhalb der Öffnungszeiten / %s: walk-in hours %s–%s lie outside the opening hours",
				de, Clock(w.Open), Clock(w.Close), en, Clock(w.Open), Clock(w.Close))
		}
	}
	return nil
}

// SortedHours returns a copy of hours ordered by weekday (Monday first) and
// opening time.
func SortedHours(hours []OpeningHours) []OpeningHours {
	out := slices.Clone(hours)
	slices.SortFunc(out, func(a, b OpeningHours) int {
		return cmp.Or(cmp.Compare((a.Weekday+6)%7, (b.Weekday+6)%7), cmp.Compare(a.Open, b.Open), cmp.Compare(a.Close, b.Close))
	})
	return out
}

// Clock formats minutes since midnight as HH:MM.
func Clock(minutes int) string { return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60) }

var wochentage = [...]string{"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"}

// WeekdayNames names a weekday in German and English, for messages.
func WeekdayNames(d time.Weekday) (string, string) {
	if d < time.Sunday || d > time.Saturday {
		return fmt.Sprint(int(d)), fmt.Sprint(int(d))
	}
	return wochentage[d], d.String()
}

// AcceptFromCentral decides what an event central sent changes at this
// site. It returns no events when the site already has exactly that (so
// applying the same event twice changes nothing), and refuses event types
// central has no say over.
func (s *State) AcceptFromCentral(at time.Time, e Event) ([]Event, error) {
	switch p := e.Payload.(type) {
	case *ServiceDefined:
		return s.AcceptService(at, *p)
	case *SiteDescribed:
		return s.AcceptSiteDescription(at, *p)
	case *CancelRequested:
		return s.AcceptCancel(at, *p)
	case *GroupDefined:
		return s.AcceptGroup(at, *p)
	case *OnlineShareAcked:
		return s.AcceptShareAck(at, *p)
	}
	return nil, veedel.Errorf(veedel.EINVALID, "Ereignis %s wird von der Zentrale nicht angenommen / event %s is not accepted from central", e.Type, e.Type)
}

// AcceptService takes over a service definition of the city's catalogue.
// A new service is also served by every counter that served all services
// so far (the site's all-round counters), so that its tickets can be
// called; a site without such a counter assigns it at the desk. A service
// in a group numbers with the group's prefix; a definition without a group
// whose prefix is the service's current group's keeps it in the group.
func (s *State) AcceptService(at time.Time, p ServiceDefined) ([]Event, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if old := s.Services[p.ID]; old != nil && p.Group == "" && old.Group != "" {
		if g := s.Groups[old.Group]; g != nil && g.Prefix == p.Prefix {
			// A definition without a group (from a central that knows
			// none) keeping the group's letter keeps the group: leaving it
			// takes a letter of the service's own.
			p.Group = old.Group
		}
	}
	prefix := p.Prefix
	if p.Group != "" {
		g := s.Groups[p.Group]
		if g == nil {
			return nil, veedel.Errorf(veedel.ECONFLICT, "Gruppe %q ist hier nicht bekannt / group %q is not known here", p.Group, p.Group)
		}
		prefix = g.Prefix
	}
	if other := s.PrefixUser(prefix, p.ID, p.Group); other != "" {
		return nil, veedel.Errorf(veedel.ECONFLICT, "Kennbuchstabe %s gehört hier schon zu %q / prefix %s is already used by %q here", prefix, other, prefix, other)
	}
	old, exists := s.Services[p.ID]
	if exists && old.Name == p.Name && old.NameEN == p.NameEN && old.Prefix == p.Prefix && old.ExpectedMinutes == p.ExpectedMinutes &&
		old.Group == p.Group {
		return nil, nil
	}
	events := []Event{{Type: TypeServiceDefined, Entity: "service/" + p.ID, At: at, Payload: &p}}
	if exists {
		return events, nil
	}
	for _, cid := range s.CounterOrder {
		c := s.Counters[cid]
		if len(s.ServiceOrder) == 0 || !s.servesAll(c) {
			continue
		}
		events = append(events, Event{Type: TypeCounterDefined, Entity: "counter/" + c.ID, At: at,
			Payload: &CounterDefined{ID: c.ID, Name: c.Name, Services: append(slices.Clone(c.Services), p.ID)}})
	}
	return events, nil
}

// AcceptGroup takes over a service group of the city's catalogue. Its
// prefix must not be another group's or an ungrouped service's here. A
// changed prefix applies to the group's next tickets; numbers issued
// already stay (each prefix keeps its own sequence of the day).
func (s *State) AcceptGroup(at time.Time, p GroupDefined) ([]Event, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if other := s.PrefixUser(p.Prefix, "", p.ID); other != "" {
		return nil, veedel.Errorf(veedel.ECONFLICT, "Kennbuchstabe %s gehört hier schon zu %q / prefix %s is already used by %q here", p.Prefix, other, p.Prefix, other)
	}
	if g := s.Groups[p.ID]; g != nil && g.Name == p.Name && g.NameEN == p.NameEN && g.Prefix == p.Prefix {
		return nil, nil
	}
	return []Event{{Type: TypeGroupDefined, Entity: "group/" + p.ID, At: at, Payload: &p}}, nil
}

func (s *State) servesAll(c *Counter) bool {
	for _, id := range s.ServiceOrder {
		if !c.Serves(id) {
			return false
		}
	}
	return true
}

// Validate checks a site description as central sends it: a name (if
// any) of at most 80 characters without control or bidirectional
// formatting characters, valid opening hours and walk-in hours within them.
func (p *SiteDescribed) Validate() error {
	if utf8.RuneCountInString(p.Name) > maxNameRunes {
		return veedel.Errorf(veedel.EINVALID, "Namen dürfen höchstens %d Zeichen lang sein / names must not be longer than %d characters", maxNameRunes, maxNameRunes)
	}
	if err := veedel.CheckText("Der Name des Standorts", "the site's name", p.Name); err != nil {
		return err
	}
	if err := ValidateHours(p.Hours); err != nil {
		return err
	}
	return ValidateWalkIn(p.Hours, p.WalkIn)
}

// AcceptSiteDescription takes over the site's name, time zone, opening
// hours and walk-in hours as the city describes them. An empty name or
// time zone keeps the site's own; walk-in hours must lie within the opening
// hours, and a description without any means walk-ins whenever open.
func (s *State) AcceptSiteDescription(at time.Time, p SiteDescribed) ([]Event, error) {
	if p.ID != s.Site.ID {
		return nil, veedel.Errorf(veedel.EINVALID, "Beschreibung für Standort %q, hier ist %q / description of site %q sent to %q", p.ID, s.Site.ID, p.ID, s.Site.ID)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.Name == "" {
		p.Name = s.Site.Name
	}
	if p.TimeZone == "" {
		p.TimeZone = s.Site.Location.String()
	} else if _, err := time.LoadLocation(p.TimeZone); err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "Unbekannte Zeitzone %q / unknown time zone %q", p.TimeZone, p.TimeZone)
	}
	p.Hours = SortedHours(p.Hours)
	if p.WalkIn = SortedHours(p.WalkIn); len(p.WalkIn) == 0 {
		p.WalkIn = nil
	}
	if p.Name == s.Site.Name && p.TimeZone == s.Site.Location.String() && slices.Equal(p.Hours, SortedHours(s.Site.Hours)) &&
		slices.Equal(p.WalkIn, SortedHours(s.Site.WalkIn)) {
		return nil, nil
	}
	return []Event{{Type: TypeSiteDescribed, Entity: "site/" + p.ID, At: at, Payload: &p}}, nil
}
