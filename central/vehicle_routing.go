package central

import (
	"cmp"
	"slices"
	"strings"

	"github.com/veedel/veedel"
)

// Routing of i-Kfz applications: which registration site decides a new
// application. The candidates are the sites that run the vehicle
// workflow (PlateSites: the directory's sites of kind kfz-zulassung, or
// the sites central hands plates to when they are named). In this order:
//
//  1. an application with a Wunschkennzeichen's reservation goes to the
//     site that holds the reservation (only it may assign that plate);
//  2. one whose owner's postcode has a route (SetVehicleRoutes, central's
//     -vehicle-routes: the longest matching postcode prefix) goes to that
//     route's site, when it is a candidate;
//  3. any other goes to the candidate with the fewest applications not
//     yet decided (submitted, at the site, in review, waiting for the
//     applicant), ties to the smallest site id.
//
// With one registration site every application goes there. The chosen
// site is fixed in the one entry that records the application: the
// application is sealed to that site and appended to its outbound log in
// a single transaction (SubmitVehicleApplication), so it has one owner
// from the start and is never moved. Two submissions at the same moment
// may both see the same counts and go to the same site: rule 3 balances,
// it does not promise exact equality.

// VehicleRoute sends the applications of owners whose postcode starts
// with Prefix (1 to 5 digits) to Site.
type VehicleRoute struct {
	Prefix string
	Site   string
}

// ParseVehicleRoutes reads routes as -vehicle-routes takes them:
// "PREFIX=SITE" separated by commas, e.g. "50667=zulassung,51=kalk-kfz"
// (every postcode from 51: Kalk's office; 50667 the city centre's). A
// prefix twice is refused. EINVALID saying what is wrong.
func ParseVehicleRoutes(s string) ([]VehicleRoute, error) {
	var out []VehicleRoute
	seen := map[string]bool{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		prefix, site, ok := strings.Cut(part, "=")
		prefix, site = strings.TrimSpace(prefix), strings.TrimSpace(site)
		switch {
		case !ok:
			return nil, veedel.Errorf(veedel.EINVALID, "%q: want POSTCODE-PREFIX=SITE, e.g. 51=kalk-kfz", part)
		case prefix == "" || len(prefix) > 5 || strings.Trim(prefix, "0123456789") != "":
			return nil, veedel.Errorf(veedel.EINVALID, "%q: the postcode prefix is 1 to 5 digits", part)
		case !siteIDPattern.MatchString(site):
			return nil, veedel.Errorf(veedel.EINVALID, "%q: %q is not a site id", part, site)
		case seen[prefix]:
			return nil, veedel.Errorf(veedel.EINVALID, "postcode prefix %s given twice", prefix)
		}
		seen[prefix] = true
		out = append(out, VehicleRoute{Prefix: prefix, Site: site})
	}
	return out, nil
}

// SetVehicleRoutes sets the postcode routes of rule 2 (nil: none).
func (c *Central) SetVehicleRoutes(routes []VehicleRoute) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.vehicleRoutes = slices.Clone(routes)
}

// VehicleRoutes returns the postcode routes.
func (c *Central) VehicleRoutes() []VehicleRoute {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Clone(c.vehicleRoutes)
}

// VehicleSite chooses the registration site of a new application whose
// owner has postcode, by rules 2 and 3 (a reservation's site comes
// first: SubmitVehicleApplication). EUNAVAILABLE when there is none.
func (c *Central) VehicleSite(postcode string) (string, error) {
	sites := slices.Clone(c.PlateSites())
	if len(sites) == 0 {
		return "", veedel.Errorf(veedel.EUNAVAILABLE, "Keine Zulassungsstelle eingerichtet / no registration site is set up")
	}
	if len(sites) == 1 {
		return sites[0], nil
	}
	var route VehicleRoute // the longest matching prefix
	for _, r := range c.VehicleRoutes() {
		if strings.HasPrefix(postcode, r.Prefix) && len(r.Prefix) > len(route.Prefix) && slices.Contains(sites, r.Site) {
			route = r
		}
	}
	if route.Site != "" {
		return route.Site, nil
	}
	open := c.VehicleApplications().Open()
	return slices.MinFunc(sites, func(a, b string) int {
		return cmp.Or(cmp.Compare(open[a], open[b]), strings.Compare(a, b))
	}), nil
}
