package server

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/veedel/veedel/central"
)

// Open data: the city's live waiting times for everyone, in the two shapes
// its existing consumers already parse (docs: ../shared/GLOSSARY.md,
// "Cologne facts") and one richer shape with freshness for new consumers.
//
//	GET /open-data/waiting-od.json    the city's first shape  (openDataOD)
//	GET /open-data/wartezeiten.json   the city's second shape (openDataWartezeiten)
//	GET /open-data/waiting-times.json Veedel's own shape      (openDataWaitingTimes)
//
// The city's own feed once froze for weeks while still saying "open". A site
// central has not heard from for central.StaleAfter is therefore never shown
// with a live waiting time in any of the three feeds; how each shape says so
// is documented at its handler and in the README's API table.

// openDataMaxAge is how long clients and shared caches may reuse a feed.
const openDataMaxAge = 30 * time.Second

// Group thresholds of the second shape, in whole minutes: a wait below
// unter30 is "Unter 30 Minuten", below unter60 "Unter 1 Stunde", anything
// else (60 included: it is not under an hour) "Über 1 Stunde", as the
// city titles them.
const (
	unter30 = 30
	unter60 = 60
)

// Status values of the first shape.
const (
	odOpen             = "1"
	odClosed           = "2"
	odAppointmentsOnly = "3"
)

// staleText opens every German "no current data" note.
const staleText = "Keine aktuellen Daten"

// appointmentsOnlyText is the first shape's sondertext with status "3", in
// the city's words.
const appointmentsOnlyText = "nur mit Terminvereinbarung"

// wzSection is the second shape's section (bereich) of a kind of site, as
// the city names them; prefixes are left out of the names listed there
// ("Kalk", "Poll").
type wzSection struct {
	id, title string
	prefixes  []string
}

var wzSections = map[central.SiteKind]wzSection{
	central.KindCustomerCentre:      {"meldeangelegenheiten", "Wartezeiten in den Kundenzentren", []string{"Kundenzentrum "}},
	central.KindVehicleRegistration: {"fuehrerscheinwesen", "Wartezeiten in der Kfz-Zulassung und im Führerscheinwesen", []string{"Kfz-Zulassungsstelle ", "Kfz-Zulassung ", "Führerscheinstelle "}},
	central.KindSchoolHealth:        {"schulgesundheit", "Wartezeiten im Schulgesundheitsdienst", []string{"Schulgesundheit ", "Schulärztlicher Dienst "}},
}

// section is the second shape's section of a kind; an unknown kind counts
// as a customer centre.
func section(kind central.SiteKind) (central.SiteKind, wzSection) {
	if sec, ok := wzSections[kind]; ok {
		return kind, sec
	}
	return central.KindCustomerCentre, wzSections[central.KindCustomerCentre]
}

// shortName is a site's name without its kind's prefix.
func (sec wzSection) shortName(name string) string {
	for _, p := range sec.prefixes {
		if short, ok := strings.CutPrefix(name, p); ok && short != "" {
			return short
		}
	}
	return name
}

// odFeed is the city's first shape. Every item value is a string.
type odFeed struct {
	Success bool     `json:"success"`
	Items   []odItem `json:"items"`
}

type odItem struct {
	TitleAnz         string `json:"title_anz"`
	Timestamp        string `json:"timestamp"`
	Link             string `json:"link"`
	Status           string `json:"status"`
	Sondertext       string `json:"sondertext"`
	WartezeitMinuten string `json:"wartezeit_minuten"`
}

// openDataOD serves the city's first shape.
//
// status is "2" while the site is closed by its opening hours, "3"
// (appointments only) while it is open but outside its walk-in hours, and
// "1" otherwise. A site without walk-in hours serves walk-ins whenever it
// is open: it is never "3". With "3" sondertext says so, as the city's
// does: "nur mit Terminvereinbarung". link is the site's public page from
// central's directory, as configured (the city's feed links address pages
// by path), or the portal's anchor of the site when it has none.
//
// A stale site keeps its item (consumers look sites up by title_anz, and a
// vanished site reads as "closed for good"), and keeps the status of its
// opening hours: those are reference data, not live figures, and "2" would
// send people away from an open office. What is live is withheld:
// wartezeit_minuten is "" (never a number we do not know) and sondertext
// says "Keine aktuellen Daten (Stand 08:00)". timestamp stays the time of
// the last real contact, so consumers can see the age themselves.
func (s *Server) openDataOD(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	base := s.publicBase(r)
	feed := odFeed{Success: true, Items: []odItem{}}
	for _, site := range s.Central.Sites() {
		it := odItem{
			TitleAnz:         siteTitle(site),
			Timestamp:        odTimestamp(site.LastSync),
			Link:             sitePage(base, site),
			Status:           odStatus(site.Open, site.AppointmentsOnly),
			WartezeitMinuten: strconv.Itoa(site.EstimatedWaitMinutes),
		}
		if it.Status == odAppointmentsOnly {
			it.Sondertext = appointmentsOnlyText
		}
		if site.Stale {
			it.WartezeitMinuten = ""
			it.Sondertext = staleNote(site.LastSync, now)
		}
		feed.Items = append(feed.Items, it)
	}
	s.writeOpenData(w, r, feed)
}

// odStatus is the first shape's status: appointments only when the site is
// open but outside its walk-in hours.
func odStatus(open, appointmentsOnly bool) string {
	switch {
	case !open:
		return odClosed
	case appointmentsOnly:
		return odAppointmentsOnly
	default:
		return odOpen
	}
}

// odTimestamp is t in Cologne's local time, "2026-10-05 08:00:04"; "" when
// central has never heard from the site.
func odTimestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(berlin).Format(time.DateTime)
}

// staleNote is "Keine aktuellen Daten (Stand 08:00)", with the date when
// the last contact was not today.
func staleNote(last, now time.Time) string {
	if last.IsZero() {
		return staleText
	}
	l, n := last.In(berlin), now.In(berlin)
	layout := "15:04"
	if l.Format(time.DateOnly) != n.Format(time.DateOnly) {
		layout = "02.01. 15:04"
	}
	return staleText + " (Stand " + l.Format(layout) + ")"
}

// wzFeed is the city's second shape.
type wzFeed struct {
	Stand      string      `json:"stand"`
	StandISO   string      `json:"stand_iso"`
	Status     int         `json:"status"`
	Sondertext string      `json:"sondertext"`
	Bereiche   []wzBereich `json:"bereiche"`
}

type wzBereich struct {
	ID      string     `json:"id"`
	Titel   string     `json:"titel"`
	Gruppen []wzGruppe `json:"gruppen"`
}

// wzGruppe is a group of the second shape; the city leaves a group without
// entries out.
type wzGruppe struct {
	ID        string      `json:"id"`
	Titel     string      `json:"titel"`
	Eintraege []wzEintrag `json:"eintraege"`
}

type wzEintrag struct {
	Name      string `json:"name"`
	URL       string `json:"url"`
	Wartezeit int    `json:"wartezeit"`
}

// openDataWartezeiten serves the city's second shape.
//
// stand and stand_iso are central's time now, in Cologne's time. There is
// one section (bereich) per kind of site in central's directory, in the order
// of central.SiteKinds: "meldeangelegenheiten" for the customer centres,
// "fuehrerscheinwesen" for vehicle registration, "schulgesundheit". The
// groups list only sites that are open by their hours and whose data is
// fresh, each group ordered by waiting time then name; a group without
// entries is left out, as the city does (a section with none has
// "gruppen": []). Names lose their kind's prefix ("Kalk"), url is the
// site's public page (as link in the first shape). A stale site is left
// out and named in sondertext
// ("Keine aktuellen Daten: Porz"); a closed one is simply left out, as in
// the city's feed outside opening hours, and so is one that is open for
// appointments only (outside its walk-in hours): the groups are walk-in
// waits, and a figure there would send people to an office that does not
// take them now. status is 1 when at least one site
// is listed (open with live data), else 2: a feed with nothing live must not
// say it is in service.
func (s *Server) openDataWartezeiten(w http.ResponseWriter, r *http.Request) {
	now := s.now().In(berlin)
	base := s.publicBase(r)
	groups := map[central.SiteKind]*[3][]wzEintrag{}
	var stale []string
	listed := 0
	for _, site := range s.Central.Sites() {
		kind, sec := section(site.Kind)
		byWait := groups[kind]
		if byWait == nil {
			byWait = new([3][]wzEintrag)
			groups[kind] = byWait
		}
		name := sec.shortName(siteTitle(site))
		if site.Stale {
			stale = append(stale, name)
			continue
		}
		if !site.Open || site.AppointmentsOnly {
			continue
		}
		g := wzGroup(site.EstimatedWaitMinutes)
		byWait[g] = append(byWait[g], wzEintrag{Name: name, URL: sitePage(base, site), Wartezeit: site.EstimatedWaitMinutes})
		listed++
	}
	feed := wzFeed{
		Stand:    now.Format("15:04"),
		StandISO: now.Format(time.RFC3339),
		Status:   2,
		Bereiche: []wzBereich{},
	}
	kinds := s.Central.Kinds()
	for kind := range groups {
		if !slices.Contains(kinds, kind) { // a site recorded with a kind since
			kinds = append(kinds, kind)
		}
	}
	slices.SortFunc(kinds, func(a, b central.SiteKind) int {
		return cmp.Compare(slices.Index(central.SiteKinds, a), slices.Index(central.SiteKinds, b))
	})
	for _, kind := range kinds {
		byWait := groups[kind]
		if byWait == nil {
			byWait = new([3][]wzEintrag)
		}
		sec := wzSections[kind]
		b := wzBereich{ID: sec.id, Titel: sec.title, Gruppen: []wzGruppe{}}
		for i, entries := range byWait {
			if len(entries) == 0 {
				continue
			}
			slices.SortStableFunc(entries, func(a, b wzEintrag) int {
				return cmp.Or(cmp.Compare(a.Wartezeit, b.Wartezeit), strings.Compare(a.Name, b.Name))
			})
			b.Gruppen = append(b.Gruppen, wzGruppe{ID: wzGroups[i].id, Titel: wzGroups[i].title, Eintraege: entries})
		}
		feed.Bereiche = append(feed.Bereiche, b)
	}
	if listed > 0 {
		feed.Status = 1
	}
	if len(stale) > 0 {
		feed.Sondertext = staleText + ": " + strings.Join(stale, ", ")
	}
	s.writeOpenData(w, r, feed)
}

// wzGroups are the second shape's groups, as the city titles them.
var wzGroups = [3]struct{ id, title string }{
	{"unter_30", "Unter 30 Minuten"},
	{"unter_60", "Unter 1 Stunde"},
	{"ueber_60", "Über 1 Stunde"},
}

// wzGroup is the index of the group for a wait in minutes.
func wzGroup(minutes int) int {
	switch {
	case minutes < unter30:
		return 0
	case minutes < unter60:
		return 1
	default:
		return 2
	}
}

// wtFeed is Veedel's own shape, with freshness.
type wtFeed struct {
	GeneratedAt       string   `json:"generated_at"`
	StaleAfterSeconds int      `json:"stale_after_seconds"`
	Sites             []wtSite `json:"sites"`
}

type wtSite struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Kind is the kind of site (central.SiteKinds).
	Kind central.SiteKind `json:"kind"`
	URL  string           `json:"url"`
	// Page is the site's public page from central's directory, "" when
	// it has none.
	Page string `json:"page"`
	Open bool   `json:"open"`
	// WalkIn: walk-ins are served now (open, and inside the walk-in hours
	// when the site has any); false while open for appointments only.
	WalkIn bool `json:"walk_in"`
	// Waiting and EstimatedWaitMinutes are null while the site is stale.
	Waiting              *int   `json:"waiting"`
	EstimatedWaitMinutes *int   `json:"estimated_wait_minutes"`
	LastSync             string `json:"last_sync"`
	AgeSeconds           int64  `json:"age_seconds"`
	Stale                bool   `json:"stale"`
}

// openDataWaitingTimes serves Veedel's own shape: every site with its
// figures and their age; open and walk_in follow the opening and walk-in
// hours (reference data, so also for a stale site). Times are RFC 3339 in Cologne's time. A stale site
// has stale true and waiting and estimated_wait_minutes null: a consumer
// that ignores the flag still shows no figure as live.
func (s *Server) openDataWaitingTimes(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	base := s.publicBase(r)
	feed := wtFeed{
		GeneratedAt:       now.In(berlin).Format(time.RFC3339),
		StaleAfterSeconds: int(central.StaleAfter / time.Second),
		Sites:             []wtSite{},
	}
	for _, site := range s.Central.Sites() {
		ws := wtSite{
			ID: site.ID, Name: siteTitle(site), Kind: site.Kind, URL: siteLink(base, site.ID), Page: site.Page, Open: site.Open,
			WalkIn: site.Open && !site.AppointmentsOnly, Stale: site.Stale,
		}
		if !site.LastSync.IsZero() {
			ws.LastSync = site.LastSync.In(berlin).Format(time.RFC3339)
			ws.AgeSeconds = max(int64(now.Sub(site.LastSync)/time.Second), 0)
		}
		if !site.Stale {
			waiting, minutes := site.Waiting, site.EstimatedWaitMinutes
			ws.Waiting, ws.EstimatedWaitMinutes = &waiting, &minutes
		}
		feed.Sites = append(feed.Sites, ws)
	}
	s.writeOpenData(w, r, feed)
}

// siteTitle is the site's display name, its ID before it described itself.
func siteTitle(site central.SiteSummary) string {
	if site.Name == "" {
		return site.ID
	}
	return site.Name
}

// siteLink is the site on the portal.
func siteLink(base, id string) string {
	return base + "/#site-" + id
}

// sitePage is the site's public page as central's directory has it, or
// else the site on the portal.
func sitePage(base string, site central.SiteSummary) string {
	if site.Page != "" {
		return site.Page
	}
	return siteLink(base, site.ID)
}

// publicBase is the portal's absolute base URL without a trailing slash:
// Server.PublicURL, or else the scheme and Host of the request. Set
// PublicURL in production: behind a proxy the request does not know the
// public scheme, and its Host header is whatever the client sent.
func (s *Server) publicBase(r *http.Request) string {
	if s.PublicURL != "" {
		return strings.TrimRight(s.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// writeOpenData writes a feed as compact JSON with the open-data headers:
// readable from any origin, cacheable for openDataMaxAge, with a strong
// ETag of the body (a matching If-None-Match gets 304). There is no
// Last-Modified: staleness and "stand" change with time alone, so no single
// modification time describes a feed.
func (s *Server) writeOpenData(w http.ResponseWriter, r *http.Request, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if err := enc.Encode(v); err != nil {
		s.Logger.Error("open data: encode", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	sum := sha256.Sum256(buf.Bytes())
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	h := w.Header()
	setOpenDataCORS(h)
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(openDataMaxAge/time.Second)))
	h.Set("ETag", etag)
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

// openDataPreflight answers a browser's CORS preflight (sent when a
// consumer adds a header such as If-None-Match itself).
func (s *Server) openDataPreflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	setOpenDataCORS(h)
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "If-None-Match")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

func setOpenDataCORS(h http.Header) {
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "ETag")
}

// etagMatch reports whether an If-None-Match header names etag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}
