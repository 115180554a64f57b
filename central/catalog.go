package central

import (
	"cmp"
	"context"
	"slices"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
)

// The city-wide service catalogue and the sites' opening hours, as the
// admin page edits them. Central owns this reference data: an edit becomes
// outbound events (ServiceDefined to every site, SiteDescribed to one),
// which the sites apply as their own events and send back up, so that the
// read models show an edit once the sites have it.

// CatalogService is a service of the catalogue as the admin page lists it.
type CatalogService struct {
	queue.ServiceDefined
	// City is true when central defined the service; false for a service
	// only known from the sites' own seeds.
	City bool
	// Current counts the sites whose read model has exactly this
	// definition; Sites counts the sites central knows.
	Current, Sites int
}

// CatalogGroup is a service group of the catalogue: its services share its
// ticket prefix and one number sequence a day.
type CatalogGroup struct {
	queue.GroupDefined
	// City is true when central defined the group; false for one only
	// known from the sites' own seeds.
	City bool
	// Current counts the sites that have exactly this group; Sites the
	// sites central knows.
	Current, Sites int
}

// Groups returns the city's service groups: those central defined, and
// those the sites brought along from their seeds, ordered by prefix.
func (c *Central) Groups(ctx context.Context) ([]CatalogGroup, error) {
	refs, err := c.store.CityReference(ctx, queue.TypeGroupDefined)
	if err != nil {
		return nil, err
	}
	byID := map[string]*CatalogGroup{}
	for _, r := range refs {
		var g queue.GroupDefined
		raw, ok := r.Payload.([]byte)
		if !ok {
			continue
		}
		if err := changelog.Unmarshal(raw, &g); err != nil {
			return nil, err
		}
		byID[g.ID] = &CatalogGroup{GroupDefined: g, City: true}
	}
	models := c.knownModels()
	for _, m := range models {
		m.mu.Lock()
		for _, id := range m.state.GroupOrder {
			if _, ok := byID[id]; !ok {
				g := m.state.Groups[id]
				byID[id] = &CatalogGroup{GroupDefined: queue.GroupDefined{ID: id, Name: g.Name, NameEN: g.NameEN, Prefix: g.Prefix}}
			}
		}
		m.mu.Unlock()
	}
	out := make([]CatalogGroup, 0, len(byID))
	for _, cg := range byID {
		cg.Sites = len(models)
		for _, m := range models {
			m.mu.Lock()
			if g := m.state.Groups[cg.ID]; g != nil && g.Name == cg.Name && g.NameEN == cg.NameEN && g.Prefix == cg.Prefix {
				cg.Current++
			}
			m.mu.Unlock()
		}
		out = append(out, *cg)
	}
	slices.SortFunc(out, func(a, b CatalogGroup) int { return cmp.Or(cmp.Compare(a.Prefix, b.Prefix), cmp.Compare(a.ID, b.ID)) })
	return out, nil
}

// prefixUser names who in the catalogue numbers tickets with prefix: a
// group other than group, or a service other than service in no group
// (of the catalogue); "" and "" when nobody does. A grouped service's own
// prefix is free: its tickets take the group's.
func prefixUser(services []CatalogService, groups []CatalogGroup, prefix, service, group string) (de, en string) {
	known := map[string]bool{}
	for _, g := range groups {
		known[g.ID] = true
		if g.ID != group && g.Prefix == prefix {
			return "Gruppe „" + g.Name + "“", "group “" + g.NameEN + "”"
		}
	}
	for _, svc := range services {
		if svc.ID != service && !known[svc.Group] && svc.Prefix == prefix {
			return "„" + svc.Name + "“", "“" + svc.NameEN + "”"
		}
	}
	return "", ""
}

// referenceOrder lists the types of city-wide reference data so that every
// type comes after the types its events refer to: a service names its group
// (queue.AcceptService refuses a service whose group the site does not
// know). Counters and opening hours are no city-wide reference data.
var referenceOrder = []string{queue.TypeGroupDefined, queue.TypeServiceDefined}

// ReferenceRank orders city-wide reference events by dependency: a site
// that joins takes the city's current reference data sorted by rank (then
// by age), so that it knows every group before the services in it, however
// often the group was edited since. Unknown types rank last.
func ReferenceRank(eventType string) int {
	if i := slices.Index(referenceOrder, eventType); i >= 0 {
		return i
	}
	return len(referenceOrder)
}

// DefineGroup adds a service group to the city's catalogue or changes one,
// and sends it to every site. The English name defaults to the German one.
// Its prefix must not be another group's or an ungrouped service's. It
// returns the sites the definition went to.
func (c *Central) DefineGroup(ctx context.Context, g queue.GroupDefined) ([]string, error) {
	if g.NameEN == "" {
		g.NameEN = g.Name
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	services, err := c.Catalog(ctx)
	if err != nil {
		return nil, err
	}
	groups, err := c.Groups(ctx)
	if err != nil {
		return nil, err
	}
	if de, en := prefixUser(services, groups, g.Prefix, "", g.ID); de != "" {
		return nil, veedel.Errorf(veedel.EINVALID, "Kennbuchstabe %s ist schon an %s vergeben / prefix %s is already used by %s", g.Prefix, de, g.Prefix, en)
	}
	sites, err := c.SendToAll(ctx, queue.Event{Type: queue.TypeGroupDefined, Entity: "group/" + g.ID, Payload: &g})
	if err != nil {
		return nil, err
	}
	c.log.Info("service group defined", "group", g.ID, "prefix", g.Prefix, "sites", len(sites))
	return sites, nil
}

// Catalog returns the city's services: those central defined, and those
// the sites brought along from their seeds, ordered by prefix.
func (c *Central) Catalog(ctx context.Context) ([]CatalogService, error) {
	refs, err := c.store.CityReference(ctx, queue.TypeServiceDefined)
	if err != nil {
		return nil, err
	}
	byID := map[string]*CatalogService{}
	for _, r := range refs {
		var svc queue.ServiceDefined
		raw, ok := r.Payload.([]byte)
		if !ok {
			continue
		}
		if err := changelog.Unmarshal(raw, &svc); err != nil {
			return nil, err
		}
		byID[svc.ID] = &CatalogService{ServiceDefined: svc, City: true}
	}
	models := c.knownModels()
	for _, m := range models {
		m.mu.Lock()
		for _, id := range m.state.ServiceOrder {
			if _, ok := byID[id]; !ok {
				svc := m.state.Services[id]
				byID[id] = &CatalogService{ServiceDefined: queue.ServiceDefined{ID: id, Name: svc.Name, NameEN: svc.NameEN,
					Prefix: svc.Prefix, ExpectedMinutes: svc.ExpectedMinutes, Group: svc.Group}}
			}
		}
		m.mu.Unlock()
	}
	out := make([]CatalogService, 0, len(byID))
	for _, cs := range byID {
		cs.Sites = len(models)
		for _, m := range models {
			m.mu.Lock()
			if svc := m.state.Services[cs.ID]; svc != nil && svc.Name == cs.Name && svc.NameEN == cs.NameEN &&
				svc.Prefix == cs.Prefix && svc.ExpectedMinutes == cs.ExpectedMinutes && svc.Group == cs.Group {
				cs.Current++
			}
			m.mu.Unlock()
		}
		out = append(out, *cs)
	}
	slices.SortFunc(out, func(a, b CatalogService) int { return cmp.Or(cmp.Compare(a.Prefix, b.Prefix), cmp.Compare(a.ID, b.ID)) })
	return out, nil
}

// knownModels returns the read models of the sites central stores a log of.
func (c *Central) knownModels() []*siteModel {
	all := c.siteModels()
	out := make([]*siteModel, 0, len(all))
	for _, m := range all {
		m.mu.Lock()
		known := m.cursor.Acked > 0
		m.mu.Unlock()
		if known {
			out = append(out, m)
		}
	}
	return out
}

// DefineService adds a service to the city's catalogue or changes one, and
// sends it to every site. The English name defaults to the German one. A
// service in a group (svc.Group) takes the group's ticket prefix, and its
// own prefix defaults to the group's. A prefix another group or ungrouped
// service uses already is refused: ticket numbers must tell services (or
// groups) apart. It returns the sites the definition went to.
func (c *Central) DefineService(ctx context.Context, svc queue.ServiceDefined) ([]string, error) {
	if svc.NameEN == "" {
		svc.NameEN = svc.Name
	}
	var groups []CatalogGroup
	prefix := svc.Prefix
	if svc.Group != "" {
		var err error
		if groups, err = c.Groups(ctx); err != nil {
			return nil, err
		}
		i := slices.IndexFunc(groups, func(g CatalogGroup) bool { return g.ID == svc.Group })
		if i < 0 {
			return nil, veedel.Errorf(veedel.EINVALID, "Unbekannte Gruppe %q / unknown group %q", svc.Group, svc.Group)
		}
		if prefix = groups[i].Prefix; svc.Prefix == "" {
			svc.Prefix = prefix
		}
	}
	if err := svc.Validate(); err != nil {
		return nil, err
	}
	catalog, err := c.Catalog(ctx)
	if err != nil {
		return nil, err
	}
	if groups == nil {
		if groups, err = c.Groups(ctx); err != nil {
			return nil, err
		}
	}
	if de, en := prefixUser(catalog, groups, prefix, svc.ID, svc.Group); de != "" {
		return nil, veedel.Errorf(veedel.EINVALID, "Kennbuchstabe %s ist schon an %s vergeben / prefix %s is already used by %s", prefix, de, prefix, en)
	}
	sites, err := c.SendToAll(ctx, queue.Event{Type: queue.TypeServiceDefined, Entity: "service/" + svc.ID, Payload: &svc})
	if err != nil {
		return nil, err
	}
	c.log.Info("service defined", "service", svc.ID, "prefix", svc.Prefix, "expected_minutes", svc.ExpectedMinutes, "sites", len(sites))
	return sites, nil
}

// SiteInfo is a site's description as the admin page shows it.
type SiteInfo struct {
	ID       string
	Name     string
	TimeZone string
	Hours    []queue.OpeningHours // sorted, Monday first
	// WalkIn are the walk-in hours within Hours, sorted; none: walk-ins
	// whenever open.
	WalkIn []queue.OpeningHours
}

// SiteInfos returns every known site's name and opening hours as its read
// model has them, ordered by name.
func (c *Central) SiteInfos() []SiteInfo {
	models := c.knownModels()
	out := make([]SiteInfo, 0, len(models))
	for _, m := range models {
		m.mu.Lock()
		out = append(out, SiteInfo{ID: m.state.Site.ID, Name: m.state.Site.Name, TimeZone: m.state.Site.Location.String(),
			Hours: queue.SortedHours(m.state.Site.Hours), WalkIn: queue.SortedHours(m.state.Site.WalkIn)})
		m.mu.Unlock()
	}
	for i := range out {
		out[i].Name = c.siteName(out[i].ID, out[i].Name)
	}
	slices.SortFunc(out, func(a, b SiteInfo) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	return out
}

// SiteInfo returns one known site's description.
func (c *Central) SiteInfo(site string) (SiteInfo, bool) {
	for _, s := range c.SiteInfos() {
		if s.ID == site {
			return s, true
		}
	}
	return SiteInfo{}, false
}

// SetOpeningHours sends a site new opening hours without walk-in hours
// (walk-ins whenever open): SetSiteHours with none.
func (c *Central) SetOpeningHours(ctx context.Context, site string, hours []queue.OpeningHours) error {
	return c.SetSiteHours(ctx, site, hours, nil)
}

// SetSiteHours sends a site its new opening hours and walk-in hours (the
// whole week: a weekday without opening intervals is closed, one without
// walk-in intervals by appointment only; no walk-in hours at all means
// walk-ins whenever open). Walk-in hours must lie within the opening hours.
// Name and time zone stay as the site has them. The site decides again
// (queue.State.AcceptSiteDescription) when the description arrives.
func (c *Central) SetSiteHours(ctx context.Context, site string, hours, walkIn []queue.OpeningHours) error {
	info, ok := c.SiteInfo(site)
	if !ok {
		return veedel.Errorf(veedel.ENOTFOUND, "Standort %q ist der Zentrale nicht bekannt / site %q is not known to central", site, site)
	}
	if err := queue.ValidateHours(hours); err != nil {
		return err
	}
	if err := queue.ValidateWalkIn(hours, walkIn); err != nil {
		return err
	}
	desc := queue.SiteDescribed{ID: info.ID, Name: info.Name, TimeZone: info.TimeZone, Hours: queue.SortedHours(hours)}
	if len(walkIn) > 0 {
		desc.WalkIn = queue.SortedHours(walkIn)
	}
	if err := c.SendToSite(ctx, site, queue.Event{Type: queue.TypeSiteDescribed, Entity: "site/" + site, Payload: &desc}); err != nil {
		return err
	}
	c.log.Info("opening hours sent", "site", site, "intervals", len(hours), "walk_in_intervals", len(walkIn))
	return nil
}
