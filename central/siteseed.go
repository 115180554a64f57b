package central

import (
	"cmp"
	"slices"

	"github.com/veedel/veedel/appliance"
)

// SiteSeeds are the directories a new central starts from, by name. The
// store applies each seed its migrations name exactly once (the first
// start of a central with a new file), so a site an admin removed or
// changed stays so. "cologne" is the built-in catalogue of Cologne's
// customer centres (appliance.Catalog), with their addresses and the city's
// address pages (plausible page numbers; check them against the city's
// site before going live).
var SiteSeeds = map[string][]Site{
	"cologne": cologneSites(),
}

// cologneOffices are the customer centres' addresses and public pages.
var cologneOffices = map[string]struct {
	address, page string
	kind          SiteKind
}{
	"chorweiler":   {"Pariser Platz 1, 50765 Köln", "/service/adressen/00181/index.html", ""},
	"ehrenfeld":    {"Venloer Straße 419–421, 50825 Köln", "/service/adressen/00182/index.html", ""},
	"innenstadt":   {"Laurenzplatz 4, 50667 Köln", "/service/adressen/00183/index.html", ""},
	"kalk":         {"Kalker Hauptstraße 247–273, 51103 Köln", "/service/adressen/00184/index.html", ""},
	"lindenthal":   {"Aachener Straße 220, 50931 Köln", "/service/adressen/00185/index.html", ""},
	"muelheim":     {"Wiener Platz 2a, 51065 Köln", "/service/adressen/00186/index.html", ""},
	"nippes":       {"Neusser Straße 450, 50733 Köln", "/service/adressen/00187/index.html", ""},
	"porz":         {"Friedrich-Ebert-Ufer 64–70, 51143 Köln", "/service/adressen/00188/index.html", ""},
	"rodenkirchen": {"Hauptstraße 85, 50996 Köln", "/service/adressen/00189/index.html", ""},
	"zulassung":    {"Max-Glomsda-Straße 4, 51105 Köln", "", KindVehicleRegistration},
	// The health office's school-health service (Neumarkt 15–21).
	"gesundheitsamt": {"Neumarkt 15–21, 50667 Köln", "", KindSchoolHealth},
}

// cologneBase is the city's web site, which the address pages are on.
const cologneBase = "https://www.stadt-koeln.de"

func cologneSites() []Site {
	out := make([]Site, 0, len(appliance.Catalog))
	for id, seed := range appliance.Catalog {
		o := cologneOffices[id]
		page := ""
		if o.page != "" {
			page = cologneBase + o.page
		}
		kind := o.kind
		if kind == "" {
			kind = KindCustomerCentre
		}
		out = append(out, Site{ID: id, Name: seed.Site.Name, Kind: kind, Address: o.address, Page: page})
	}
	slices.SortFunc(out, func(a, b Site) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
