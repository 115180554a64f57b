package server

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/ui"
)

// The catalogue page: the city's services and every site's opening hours,
// with forms to change a service, add one, or change a site's hours. Saving
// sends outbound events to the sites (see central/catalog.go); the page
// shows how many sites have applied a service definition.

// weekOrder is the order of weekdays on the pages: Monday first.
var weekOrder = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// hoursSlots is how many opening intervals per weekday the form offers at
// least (a site with more on a day gets as many as it has).
const hoursSlots = 2

type catalogData struct {
	Frame    adminFrame
	Services []central.CatalogService
	Sites    []siteHoursRow
	Weekdays []string // column heads, Monday first
}

type siteHoursRow struct {
	ID, Name string
	Days     [][]string // per weekday (Monday first), its intervals "07:30–15:00"
	WalkIn   [][]string // per weekday, its walk-in intervals; nil: walk-ins whenever open
}

func (s *Server) adminCatalog(w http.ResponseWriter, r *http.Request) {
	lang := ui.Lang(w, r)
	services, err := s.Central.Catalog(r.Context())
	if err != nil {
		s.renderAdminError(w, r, err)
		return
	}
	d := catalogData{Frame: s.frame(r, "catalog"), Services: services}
	for _, wd := range weekOrder {
		d.Weekdays = append(d.Weekdays, ui.Translate(lang, fmt.Sprintf("weekday.short.%d", wd)))
	}
	for _, site := range s.Central.SiteInfos() {
		row := siteHoursRow{ID: site.ID, Name: site.Name, Days: make([][]string, len(weekOrder))}
		for _, h := range site.Hours {
			i := (int(h.Weekday) + 6) % 7
			row.Days[i] = append(row.Days[i], queue.Clock(h.Open)+"–"+queue.Clock(h.Close))
		}
		if len(site.WalkIn) > 0 {
			row.WalkIn = make([][]string, len(weekOrder))
		}
		for _, h := range site.WalkIn {
			i := (int(h.Weekday) + 6) % 7
			row.WalkIn[i] = append(row.WalkIn[i], queue.Clock(h.Open)+"–"+queue.Clock(h.Close))
		}
		d.Sites = append(d.Sites, row)
	}
	flash := ""
	switch r.URL.Query().Get("saved") {
	case "service":
		flash = ui.Translate(lang, "admin.saved.service")
	case "hours":
		flash = ui.Translate(lang, "admin.saved.hours")
	case "group":
		flash = ui.Translate(lang, "admin.saved.group")
	}
	s.renderAdmin(w, r, http.StatusOK, "admin", "admin.catalog.title", "", flash, d)
}

type serviceFormData struct {
	Frame adminFrame
	New   bool
	Form  queue.ServiceDefined
	// Minutes is the expected minutes as typed (it may not be a number).
	Minutes string
	Sites   int
	// Groups are the catalogue's service groups, each with the names of
	// its services (Members, by group ID), for the group choice and the
	// groups' own form below the service's.
	Groups  []central.CatalogGroup
	Members map[string][]string
	// GroupForm is the group form's values; GroupNew when it adds one.
	GroupForm queue.GroupDefined
	GroupNew  bool
}

// loadGroups fills the page's groups and their members, and the group form
// with group (or a new one when "" or unknown).
func (s *Server) loadGroups(r *http.Request, d *serviceFormData, services []central.CatalogService, group string) error {
	groups, err := s.Central.Groups(r.Context())
	if err != nil {
		return err
	}
	d.Groups, d.Members, d.GroupNew = groups, map[string][]string{}, true
	for _, svc := range services {
		if svc.Group != "" {
			d.Members[svc.Group] = append(d.Members[svc.Group], svc.Name)
		}
	}
	for _, g := range groups {
		if g.ID == group && group != "" {
			d.GroupForm, d.GroupNew = g.GroupDefined, false
		}
	}
	return nil
}

// adminServiceForm shows the form for a new service or an existing one,
// and below it the service groups with a form for a new group (or, with
// ?group=ID, for changing that one).
func (s *Server) adminServiceForm(w http.ResponseWriter, r *http.Request) {
	d := serviceFormData{Frame: s.frame(r, "catalog"), New: true, Sites: len(s.Central.SiteInfos())}
	services, err := s.Central.Catalog(r.Context())
	if err != nil {
		s.renderAdminError(w, r, err)
		return
	}
	if id := chi.URLParam(r, "id"); id != "" {
		svc, ok := findService(services, id)
		if !ok {
			s.renderAdminError(w, r, veedel.Errorf(veedel.ENOTFOUND, "%s", ui.Translate(ui.Lang(w, r), "admin.service.unknown")))
			return
		}
		d.New, d.Form, d.Minutes = false, svc.ServiceDefined, strconv.Itoa(svc.ExpectedMinutes)
	}
	if err := s.loadGroups(r, &d, services, r.URL.Query().Get("group")); err != nil {
		s.renderAdminError(w, r, err)
		return
	}
	title := "admin.service.edit"
	if d.New {
		title = "admin.service.new"
	}
	s.renderAdmin(w, r, http.StatusOK, "admin_service", title, "", "", d)
}

// adminSaveGroup validates the group form (posted to /admin/services with
// form=group) and sends the group to every site. Bad input shows the page
// again, the service form as it was (service: its ID, "" for a new one),
// with the message and status 400.
func (s *Server) adminSaveGroup(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	g := queue.GroupDefined{ID: strings.TrimSpace(f.Get("group_id")), Name: strings.TrimSpace(f.Get("group_name")),
		NameEN: strings.TrimSpace(f.Get("group_name_en")), Prefix: strings.TrimSpace(f.Get("group_prefix"))}
	isNew := f.Get("group_new") == "1"
	fail := func(err error) {
		if veedel.ErrorCode(err) == veedel.EINTERNAL {
			s.renderAdminError(w, r, err)
			return
		}
		d := serviceFormData{Frame: s.frame(r, "catalog"), New: true, Sites: len(s.Central.SiteInfos())}
		services, lerr := s.Central.Catalog(r.Context())
		if lerr == nil {
			lerr = s.loadGroups(r, &d, services, "")
		}
		if lerr != nil {
			s.renderAdminError(w, r, lerr)
			return
		}
		if svc, ok := findService(services, strings.TrimSpace(f.Get("service"))); ok {
			d.New, d.Form, d.Minutes = false, svc.ServiceDefined, strconv.Itoa(svc.ExpectedMinutes)
		}
		d.GroupForm, d.GroupNew = g, isNew
		title, path := "admin.service.edit", "/admin/services/"+url.PathEscape(d.Form.ID)
		if d.New {
			title, path = "admin.service.new", "/admin/services/new"
		}
		s.renderAdminAt(w, r, path, http.StatusBadRequest, "admin_service", title, veedel.ErrorMessage(err), "", d)
	}
	if isNew {
		groups, err := s.Central.Groups(r.Context())
		if err != nil {
			fail(err)
			return
		}
		for _, other := range groups {
			if other.ID == g.ID {
				fail(veedel.Errorf(veedel.EINVALID, "Gruppe %q gibt es schon („%s“): dort bearbeiten / group %q exists already: edit it there", g.ID, other.Name, g.ID))
				return
			}
		}
	}
	if _, err := s.Central.DefineGroup(r.Context(), g); err != nil {
		fail(err)
		return
	}
	s.Logger.Info("admin saved a service group", "admin", currentAdmin(r).Name, "group", g.ID)
	http.Redirect(w, r, "/admin?saved=group", http.StatusSeeOther)
}

// adminSaveService validates the form and sends the service to every site.
// Bad input is shown again with the message and status 400; nothing is
// sent then.
func (s *Server) adminSaveService(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		s.renderAdminError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	f := r.PostForm
	if f.Get("form") == "group" {
		s.adminSaveGroup(w, r)
		return
	}
	d := serviceFormData{Frame: s.frame(r, "catalog"), New: f.Get("new") == "1", Sites: len(s.Central.SiteInfos()),
		Form: queue.ServiceDefined{ID: strings.TrimSpace(f.Get("id")), Name: strings.TrimSpace(f.Get("name")),
			NameEN: strings.TrimSpace(f.Get("name_en")), Prefix: strings.TrimSpace(f.Get("prefix")),
			Group: strings.TrimSpace(f.Get("group"))},
		Minutes: strings.TrimSpace(f.Get("expected_minutes"))}
	services, err := s.Central.Catalog(r.Context())
	if err != nil {
		s.renderAdminError(w, r, err)
		return
	}
	fail := func(err error) {
		title, path := "admin.service.edit", "/admin/services/"+url.PathEscape(d.Form.ID)
		if d.New {
			title, path = "admin.service.new", "/admin/services/new"
		}
		if veedel.ErrorCode(err) == veedel.EINTERNAL {
			s.renderAdminError(w, r, err)
			return
		}
		if err := s.loadGroups(r, &d, services, ""); err != nil {
			s.renderAdminError(w, r, err)
			return
		}
		s.renderAdminAt(w, r, path, http.StatusBadRequest, "admin_service", title, veedel.ErrorMessage(err), "", d)
	}
	minutes, err := strconv.Atoi(d.Minutes)
	if err != nil {
		fail(veedel.Errorf(veedel.EINVALID, "Erwartete Dauer %q ist keine ganze Zahl von Minuten / expected minutes %q is not a whole number", d.Minutes, d.Minutes))
		return
	}
	d.Form.ExpectedMinutes = minutes
	if _, ok := f["group"]; !ok && !d.New {
		// A post without the group field at all (the form always sends
		// it, "" for none) keeps the service's group.
		if svc, ok := findService(services, d.Form.ID); ok {
			d.Form.Group = svc.Group
		}
	}
	if svc, ok := findService(services, d.Form.ID); ok && d.New {
		fail(veedel.Errorf(veedel.EINVALID, "Kennung %q gibt es schon („%s“): dort bearbeiten / id %q exists already: edit it there", svc.ID, svc.Name, svc.ID))
		return
	}
	if _, err := s.Central.DefineService(r.Context(), d.Form); err != nil {
		fail(err)
		return
	}
	s.Logger.Info("admin saved a service", "admin", currentAdmin(r).Name, "service", d.Form.ID)
	http.Redirect(w, r, "/admin?saved=service", http.StatusSeeOther)
}

// findService is the service of the catalogue with id ("" finds none).
func findService(services []central.CatalogService, id string) (central.CatalogService, bool) {
	i := slices.IndexFunc(services, func(svc central.CatalogService) bool { return svc.ID == id && id != "" })
	if i < 0 {
		return central.CatalogService{}, false
	}
	return services[i], true
}

type hoursFormData struct {
	Frame adminFrame
	Site  central.SiteInfo
	Days  hoursTable
	// WalkIn are the walk-in hours' rows (fields prefixed walkinPrefix).
	WalkIn hoursTable
}

// hoursTable is one week's table of the hours form (template
// "hours_rows").
type hoursTable struct {
	lang string
	// Label leads each field's hidden label ("Freie Sprechzeit"), or "".
	Label string
	Days  []hoursDay
}

// T translates key into the page's language.
func (t hoursTable) T(key string, args ...any) string { return ui.Translate(t.lang, key, args...) }

// walkinPrefix prefixes the walk-in hours' form fields: walkin-open-1-0.
const walkinPrefix = "walkin-"

type hoursDay struct {
	Name  string
	Slots []hoursSlot
}

type hoursSlot struct {
	N                   int    // 1, 2, …
	OpenName, CloseName string // form field names
	Open, Close         string // HH:MM or ""
}

func slotNames(prefix string, wd time.Weekday, i int) (string, string) {
	return fmt.Sprintf("%sopen-%d-%d", prefix, wd, i), fmt.Sprintf("%sclose-%d-%d", prefix, wd, i)
}

// hoursForm builds the form rows (field names prefixed with prefix) from
// hours, or from the posted form when form is set.
func hoursForm(lang, prefix string, hours []queue.OpeningHours, form func(string) string) hoursTable {
	byDay := map[time.Weekday][]queue.OpeningHours{}
	for _, h := range queue.SortedHours(hours) {
		byDay[h.Weekday] = append(byDay[h.Weekday], h)
	}
	slots := hoursSlots
	for _, hs := range byDay {
		slots = max(slots, len(hs))
	}
	t := hoursTable{lang: lang}
	if prefix == walkinPrefix {
		t.Label = ui.Translate(lang, "admin.walkin.title")
	}
	for _, wd := range weekOrder {
		day := hoursDay{Name: ui.Translate(lang, fmt.Sprintf("weekday.%d", wd))}
		for i := range slots {
			slot := hoursSlot{N: i + 1}
			slot.OpenName, slot.CloseName = slotNames(prefix, wd, i)
			if form != nil {
				slot.Open, slot.Close = form(slot.OpenName), form(slot.CloseName)
			} else if i < len(byDay[wd]) {
				slot.Open, slot.Close = queue.Clock(byDay[wd][i].Open), queue.Clock(byDay[wd][i].Close)
			}
			day.Slots = append(day.Slots, slot)
		}
		t.Days = append(t.Days, day)
	}
	return t
}

func (s *Server) adminHoursForm(w http.ResponseWriter, r *http.Request) {
	site, ok := s.Central.SiteInfo(chi.URLParam(r, "site"))
	if !ok {
		s.renderAdminError(w, r, veedel.Errorf(veedel.ENOTFOUND, "%s", ui.Translate(ui.Lang(w, r), "admin.site.unknown")))
		return
	}
	lang := ui.Lang(w, r)
	d := hoursFormData{Frame: s.frame(r, "catalog"), Site: site, Days: hoursForm(lang, "", site.Hours, nil),
		WalkIn: hoursForm(lang, walkinPrefix, site.WalkIn, nil)}
	s.renderAdmin(w, r, http.StatusOK, "admin_hours", "admin.hours.title", "", "", d)
}

// maxHoursSlots bounds the intervals per weekday read from a form.
const maxHoursSlots = 6

// adminSaveHours validates the week's opening hours and walk-in hours and
// sends them to the site. Bad input is shown again with the message and
// status 400.
func (s *Server) adminSaveHours(w http.ResponseWriter, r *http.Request) {
	lang := ui.Lang(w, r)
	site, ok := s.Central.SiteInfo(chi.URLParam(r, "site"))
	if !ok {
		s.renderAdminError(w, r, veedel.Errorf(veedel.ENOTFOUND, "%s", ui.Translate(lang, "admin.site.unknown")))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		s.renderAdminError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	get := func(name string) string { return strings.TrimSpace(r.PostForm.Get(name)) }
	hours, err := parseHours("", get)
	var walkIn []queue.OpeningHours
	if err == nil {
		walkIn, err = parseHours(walkinPrefix, get)
	}
	if err == nil {
		err = s.Central.SetSiteHours(r.Context(), site.ID, hours, walkIn)
	}
	if err != nil {
		if veedel.ErrorCode(err) == veedel.EINTERNAL {
			s.renderAdminError(w, r, err)
			return
		}
		d := hoursFormData{Frame: s.frame(r, "catalog"), Site: site, Days: hoursForm(lang, "", site.Hours, get),
			WalkIn: hoursForm(lang, walkinPrefix, site.WalkIn, get)}
		s.renderAdmin(w, r, http.StatusBadRequest, "admin_hours", "admin.hours.title", veedel.ErrorMessage(err), "", d)
		return
	}
	s.Logger.Info("admin saved opening hours", "admin", currentAdmin(r).Name, "site", site.ID, "walk_in_intervals", len(walkIn))
	http.Redirect(w, r, "/admin?saved=hours", http.StatusSeeOther)
}

// parseHours reads the week's intervals from the form fields open-D-I and
// close-D-I (D the weekday, 0 = Sunday; I the interval), each name
// prefixed with prefix (walkinPrefix for the walk-in hours, whose messages
// say so). A pair left empty is no interval.
func parseHours(prefix string, get func(string) string) ([]queue.OpeningHours, error) {
	var hours []queue.OpeningHours
	for _, wd := range weekOrder {
		for i := range maxHoursSlots {
			openName, closeName := slotNames(prefix, wd, i)
			open, close := get(openName), get(closeName)
			if open == "" && close == "" {
				continue
			}
			de, en := queue.WeekdayNames(wd)
			if prefix == walkinPrefix {
				de, en = "Ohne Termin: "+de, "walk-in hours: "+en
			}
			if open == "" || close == "" {
				return nil, veedel.Errorf(veedel.EINVALID, "%s: bitte Öffnung und Schließung angeben / %s: give both opening and closing time", de, en)
			}
			o, err := parseClock(open)
			if err != nil {
				return nil, veedel.Errorf(veedel.EINVALID, "%s: „%s“ ist keine Uhrzeit im Format HH:MM / %s: %q is not a time as HH:MM", de, open, en, open)
			}
			c, err := parseClock(close)
			if err != nil {
				return nil, veedel.Errorf(veedel.EINVALID, "%s: „%s“ ist keine Uhrzeit im Format HH:MM / %s: %q is not a time as HH:MM", de, close, en, close)
			}
			hours = append(hours, queue.OpeningHours{Weekday: wd, Open: o, Close: c})
		}
	}
	return hours, nil
}

// parseClock reads HH:MM (00:00 to 24:00) as minutes since midnight.
func parseClock(v string) (int, error) {
	hh, mm, ok := strings.Cut(v, ":")
	if !ok || len(hh) != 2 || len(mm) != 2 || strings.Trim(hh+mm, "0123456789") != "" {
		return 0, fmt.Errorf("not HH:MM")
	}
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 || h > 24 || h == 24 && m != 0 {
		return 0, fmt.Errorf("not HH:MM")
	}
	return h*60 + m, nil
}
