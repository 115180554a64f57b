package central

import (
	"cmp"
	"context"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/veedel/veedel"
)

// The site directory: a site is whatever central has been told about, with
// `veedel central site add` or the admin pages. Only a site in the
// directory gets enrollment tokens, and the portal, the open data and the
// admin pages name, group and link sites as the directory says. The
// built-in Cologne sites (siteseed.go) are one seed a new central starts
// from, not the definition of a site.

// SiteKind is the kind of office a site is; the open data has one section
// per kind.
type SiteKind string

// The kinds of site.
const (
	KindCustomerCentre      SiteKind = "kundenzentrum"   // Kundenzentrum: ID cards, registration, certificates
	KindVehicleRegistration SiteKind = "kfz-zulassung"   // Kfz-Zulassung und Führerscheinwesen
	KindSchoolHealth        SiteKind = "schulgesundheit" // Schulgesundheit: school-entry examinations
)

// SiteKinds lists the kinds in the order the open data and the forms use.
var SiteKinds = []SiteKind{KindCustomerCentre, KindVehicleRegistration, KindSchoolHealth}

// Valid reports whether k is one of SiteKinds.
func (k SiteKind) Valid() bool { return slices.Contains(SiteKinds, k) }

// Site is a site as central's directory has it.
type Site struct {
	ID   string   `json:"id"`
	Name string   `json:"name"` // "Kundenzentrum Kalk"
	Kind SiteKind `json:"kind"`
	// Page is the site's public page, as the open data links it: an
	// http(s) URL, or a path on the city's own web site
	// ("/service/adressen/00181/index.html"); "" links the portal.
	Page    string    `json:"page,omitempty"`
	Address string    `json:"address,omitempty"` // "Kalker Hauptstraße 247–273, 51103 Köln"
	AddedAt time.Time `json:"added_at"`
}

// SiteStore keeps the site directory. Every LogStore is one.
type SiteStore interface {
	// AddSite adds a site to the directory; ECONFLICT when its ID is
	// taken.
	AddSite(ctx context.Context, s Site) error
	// UpdateSite changes a site's name, kind, page and address; ENOTFOUND
	// when the directory has no such site.
	UpdateSite(ctx context.Context, s Site) error
	// DirectorySite returns one site of the directory; ENOTFOUND when
	// there is none with the ID.
	DirectorySite(ctx context.Context, id string) (Site, error)
	// Directory returns every site of the directory, ordered by ID.
	Directory(ctx context.Context) ([]Site, error)
	// RemoveSite takes a site that never enrolled a key nor sent its log
	// out of the directory; ECONFLICT for one that did, ENOTFOUND when
	// there is no such site.
	RemoveSite(ctx context.Context, id string) error
}

var siteIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// Maximum lengths of a site's texts.
const (
	maxSiteName    = 120
	maxSitePage    = 500
	maxSiteAddress = 200
)

// Normalize trims the site's texts and defaults the kind to a customer
// centre.
func (s *Site) Normalize() {
	s.ID, s.Name = strings.TrimSpace(s.ID), strings.TrimSpace(s.Name)
	s.Page, s.Address = strings.TrimSpace(s.Page), strings.TrimSpace(s.Address)
	if s.Kind == "" {
		s.Kind = KindCustomerCentre
	}
}

// Validate checks a site before it goes into the directory. Messages are
// German / English, for the admin form and the command line.
func (s Site) Validate() error {
	_, err := s.Check()
	return err
}

// Check is Validate, also naming the field at fault ("id", "name", "kind",
// "address", "page"), so that a form can show the message next to it.
func (s Site) Check() (field string, err error) {
	kinds := make([]string, len(SiteKinds))
	for i, k := range SiteKinds {
		kinds[i] = string(k)
	}
	switch {
	case !siteIDPattern.MatchString(s.ID):
		return "id", veedel.Errorf(veedel.EINVALID, "Kennung %q ungültig: 1–64 Kleinbuchstaben, Ziffern oder Bindestriche, z. B. kfz-poll / site id %q invalid: 1–64 lower-case letters, digits or hyphens, e.g. kfz-poll", s.ID, s.ID)
	case s.Name == "" || len(s.Name) > maxSiteName:
		return "name", veedel.Errorf(veedel.EINVALID, "Der Name fehlt oder ist länger als %d Zeichen / the name is missing or longer than %d characters", maxSiteName, maxSiteName)
	case !s.Kind.Valid():
		return "kind", veedel.Errorf(veedel.EINVALID, "Art %q unbekannt: %s / unknown kind %q: %s", s.Kind, strings.Join(kinds, ", "), s.Kind, strings.Join(kinds, ", "))
	case len(s.Address) > maxSiteAddress:
		return "address", veedel.Errorf(veedel.EINVALID, "Die Anschrift ist länger als %d Zeichen / the address is longer than %d characters", maxSiteAddress, maxSiteAddress)
	case !validPage(s.Page):
		return "page", veedel.Errorf(veedel.EINVALID, "Öffentliche Seite %q: eine http(s)-Adresse oder ein Pfad wie /service/adressen/00181/index.html / public page %q: an http(s) URL or a path like /service/adressen/00181/index.html", s.Page, s.Page)
	}
	return "", nil
}

// validPage accepts "", an absolute http(s) URL, or an absolute path.
func validPage(p string) bool {
	if p == "" {
		return true
	}
	if len(p) > maxSitePage || strings.ContainsAny(p, " \t\r\n\"<>") {
		return false
	}
	u, err := url.Parse(p)
	if err != nil {
		return false
	}
	if u.Scheme == "" {
		return u.Host == "" && strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//")
	}
	return (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// AddSiteHint is the one line that says how to make a site known.
func AddSiteHint(id string) string {
	return "add it first: veedel central site add -id " + id + " -name NAME [-kind KIND] [-page URL] [-address TEXT]"
}

// AddSite adds a site to the directory: from then on it can be enrolled.
func (c *Central) AddSite(ctx context.Context, s Site) error {
	s.Normalize()
	if err := s.Validate(); err != nil {
		return err
	}
	s.AddedAt = c.now()
	if err := c.store.AddSite(ctx, s); err != nil {
		return err
	}
	c.log.Info("site added", "site", s.ID, "kind", s.Kind)
	return c.reloadDirectory(ctx)
}

// UpdateSite changes a site's name, kind, public page and address.
func (c *Central) UpdateSite(ctx context.Context, s Site) error {
	s.Normalize()
	if err := s.Validate(); err != nil {
		return err
	}
	if err := c.store.UpdateSite(ctx, s); err != nil {
		return err
	}
	c.log.Info("site changed", "site", s.ID, "kind", s.Kind)
	return c.reloadDirectory(ctx)
}

// Directory returns every site central has been told about, ordered by
// kind (as SiteKinds) and name.
func (c *Central) Directory(ctx context.Context) ([]Site, error) {
	if err := c.reloadDirectory(ctx); err != nil {
		return nil, err
	}
	c.mu.RLock()
	out := make([]Site, 0, len(c.directory))
	for _, s := range c.directory {
		out = append(out, s)
	}
	c.mu.RUnlock()
	slices.SortFunc(out, func(a, b Site) int {
		return cmp.Or(cmp.Compare(slices.Index(SiteKinds, a.Kind), slices.Index(SiteKinds, b.Kind)),
			cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// DirectorySite returns one site of the directory.
func (c *Central) DirectorySite(ctx context.Context, id string) (Site, error) {
	return c.store.DirectorySite(ctx, id)
}

// reloadDirectory reads the directory from the store into memory. The
// command line adds sites to the file while central runs: the first batch
// of a site central has no record of reloads it, and so does every admin
// page that lists sites.
func (c *Central) reloadDirectory(ctx context.Context) error {
	sites, err := c.store.Directory(ctx)
	if err != nil {
		return err
	}
	dir := make(map[string]Site, len(sites))
	for _, s := range sites {
		dir[s.ID] = s
	}
	c.mu.Lock()
	c.directory = dir
	c.mu.Unlock()
	return nil
}

// Kinds returns the kinds of the directory's sites, in the order of
// SiteKinds: the open data has a section for each.
func (c *Central) Kinds() []SiteKind {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []SiteKind
	for _, k := range SiteKinds {
		for _, s := range c.directory {
			if s.Kind == k {
				out = append(out, k)
				break
			}
		}
	}
	return out
}

// directorySite is the in-memory record of a site.
func (c *Central) directorySite(id string) (Site, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s, ok := c.directory[id]
	return s, ok
}

// learnSite is called when site's first entries arrive and the directory
// in memory has no record of it: the command line may have added it to
// the file since; if not, it is recorded from its log.
func (c *Central) learnSite(ctx context.Context, site string) {
	err := c.reloadDirectory(ctx)
	if _, ok := c.directorySite(site); !ok && err == nil {
		err = c.recordLoggedSites(ctx)
	}
	if err != nil {
		c.log.Error("site directory", "site", site, "err", err)
	}
}

// siteName is the directory's name of a site, or else name (as the site
// describes itself).
func (c *Central) siteName(site, name string) string {
	if d, ok := c.directorySite(site); ok {
		return d.Name
	}
	return name
}

// recordLoggedSites adds to the directory every site central stores a log
// of but has no record of (a central from before the directory, or a
// site enrolled with a token from then): named as the site describes
// itself, as a customer centre, which an admin can then correct.
func (c *Central) recordLoggedSites(ctx context.Context) error {
	added := false
	for _, m := range c.knownModels() {
		m.mu.Lock()
		s := Site{ID: m.state.Site.ID, Name: m.state.Site.Name}
		if s.ID == "" {
			s.ID = m.cursor.Site
		}
		m.mu.Unlock()
		if _, ok := c.directorySite(s.ID); ok {
			continue
		}
		if s.Name == "" {
			s.Name = s.ID
		}
		s.Normalize()
		s.AddedAt = c.now()
		if err := s.Validate(); err != nil {
			c.log.Warn("site with a log cannot be recorded in the directory", "site", s.ID, "err", err)
			continue
		}
		if err := c.store.AddSite(ctx, s); err != nil && veedel.ErrorCode(err) != veedel.ECONFLICT {
			return err
		}
		c.log.Info("site recorded in the directory from its log", "site", s.ID)
		added = true
	}
	if added {
		return c.reloadDirectory(ctx)
	}
	return nil
}

// EnrollmentIssuer is what NewEnrollmentToken needs of a store.
type EnrollmentIssuer interface {
	SiteStore
	CreateEnrollmentToken(ctx context.Context, site string, now, expires time.Time) (string, error)
}

// NewEnrollmentToken creates a one-time enrollment token for a site of the
// directory, valid for ttl. A site the directory does not know is an
// ENOTFOUND error that says how to add it. It works on the store alone, so
// that `veedel central enroll` needs no running central.
func NewEnrollmentToken(ctx context.Context, store EnrollmentIssuer, site string, now time.Time, ttl time.Duration) (string, error) {
	if _, err := store.DirectorySite(ctx, site); err != nil {
		if veedel.ErrorCode(err) == veedel.ENOTFOUND {
			return "", veedel.Errorf(veedel.ENOTFOUND, "unknown site %q: %s", site, AddSiteHint(site))
		}
		return "", err
	}
	return store.CreateEnrollmentToken(ctx, site, now, now.Add(ttl))
}
