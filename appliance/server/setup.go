package server

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/ui"
)

// The site lead's setup (/desk/setup): the counters, their names and the
// services each serves. Services and opening hours are the city's, edited
// at central; here only what is the site's own. Every save is a
// CounterDefined event through Store.Execute, so it syncs like any other
// site event; the rules are the domain's (queue.State.DefineCounter,
// AddCounter).

// mayConfigure reports whether a staff member may change the site's setup.
func mayConfigure(u sqlite.User) bool { return u.Role == sqlite.RoleLead || u.Role == sqlite.RoleAdmin }

// requireLead lets site leads and admins through; clerks get 403.
func (s *Server) requireLead(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !mayConfigure(session(r).User) {
			s.renderError(w, r, veedel.Errorf(veedel.EFORBIDDEN, "Die Einrichtung des Standorts ist der Standortleitung vorbehalten: bitte wenden Sie sich an sie / the site setup is for the site lead only: please ask them"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

type setupPage struct {
	SiteName string
	Counters []setupCounter
	New      setupCounter // the form adding a counter
	// Online is each service's online share (queue/onlineshare.go),
	// OnlineError why its save was refused.
	Online      []setupOnline
	OnlineError string
}

// setupOnline is one service's online share field.
type setupOnline struct {
	ID, Name, NameEN string
	Capacity         int    // places of each slot: the counters serving it
	Value            string // the places set ("" for the default, half)
	Default          int    // the default's places
	Pending          bool   // central has not acknowledged the setting yet
	Invalid          bool
}

// setupCounter is one counter's form: Title is its saved name, Name the
// form's value (what the lead typed when the save was refused).
type setupCounter struct {
	ID       string
	Title    string
	Name     string
	Open     bool
	Current  string // number being served
	Services []setupService
	Error    string // why this form's save was refused
	// Plan is the counter's planned staffing by weekday (the site's
	// opening days and any day planned), PlanError why its save was
	// refused.
	Plan      []setupPlanDay
	PlanError string
}

// setupPlanDay is one weekday's field of a counter's planned staffing.
type setupPlanDay struct {
	Weekday int
	Name    string // the weekday in the page's language
	Value   string // "07:30–10:00, 10:30–15:00"
}

type setupService struct {
	ID, Name, NameEN string
	Checked          bool
}

// counterForm is what a counter form posted.
type counterForm struct {
	id       string // the counter (for a new one: the number the form offered)
	add      bool
	name     string
	services []string
	err      string
}

func (s *Server) setup(w http.ResponseWriter, r *http.Request) {
	var flash string
	q := r.URL.Query()
	lang := ui.Lang(w, r)
	s.Store.View(func(st *queue.State) {
		for _, k := range []string{"saved", "added", "unchanged", "planned"} {
			if c := st.Counters[q.Get(k)]; c != nil {
				flash = ui.Translate(lang, "setup."+k, c.Name)
			}
		}
	})
	if q.Has("online") {
		flash = ui.Translate(lang, "setup.online.saved")
	}
	s.renderSetup(w, r, http.StatusOK, flash, nil)
}

// renderSetup shows the setup page; failed, when set, is a refused form
// shown again with what the lead entered.
func (s *Server) renderSetup(w http.ResponseWriter, r *http.Request, status int, flash string, failed *counterForm) {
	s.renderSetupPlan(w, r, status, flash, failed, nil)
}

// onlineForm is what the online share form posted.
type onlineForm struct {
	values  map[string]string
	invalid map[string]bool
	err     string
}

// renderSetupPlan is renderSetup that may show a refused plan form again.
func (s *Server) renderSetupPlan(w http.ResponseWriter, r *http.Request, status int, flash string, failed *counterForm, failedPlan *planForm) {
	s.renderSetupAll(w, r, status, flash, failed, failedPlan, nil)
}

func (s *Server) renderSetupAll(w http.ResponseWriter, r *http.Request, status int, flash string, failed *counterForm, failedPlan *planForm, failedOnline *onlineForm) {
	var p setupPage
	lang := ui.Lang(w, r)
	s.Store.View(func(st *queue.State) {
		p.SiteName = st.Site.Name
		for _, id := range st.ServiceOrder {
			svc := st.Services[id]
			capacity := st.SlotCapacity(id)
			v := setupOnline{ID: id, Name: svc.Name, NameEN: svc.NameEN, Capacity: capacity, Default: queue.OnlineShare(capacity)}
			places, acked := st.OnlineSetting(id)
			if places != queue.ShareDefault {
				v.Value = strconv.Itoa(places)
			}
			v.Pending = !acked
			if failedOnline != nil {
				v.Value, v.Invalid = failedOnline.values[id], failedOnline.invalid[id]
			}
			p.Online = append(p.Online, v)
		}
		if failedOnline != nil {
			p.OnlineError = failedOnline.err
		}
		form := func(v setupCounter, checked []string) setupCounter {
			for _, id := range st.ServiceOrder {
				svc := st.Services[id]
				v.Services = append(v.Services, setupService{ID: id, Name: svc.Name, NameEN: svc.NameEN, Checked: slices.Contains(checked, id)})
			}
			return v
		}
		for _, c := range counterViews(st) {
			v := setupCounter{ID: c.ID, Title: c.Name, Name: c.Name, Open: c.Open, Current: c.Current}
			checked := c.Services
			if failed != nil && !failed.add && failed.id == c.ID {
				v.Name, v.Error, checked = failed.name, failed.err, failed.services
			}
			v.Plan = planDays(st, c.ID, lang)
			if failedPlan != nil && failedPlan.id == c.ID {
				v.PlanError = failedPlan.err
				for i := range v.Plan {
					if text, ok := failedPlan.days[time.Weekday(v.Plan[i].Weekday)]; ok {
						v.Plan[i].Value = text
					}
				}
			}
			p.Counters = append(p.Counters, form(v, checked))
		}
		next := st.NextCounterID()
		p.New = form(setupCounter{ID: next, Name: queue.DefaultCounterName(next)}, nil)
		if failed != nil && failed.add {
			p.New = form(setupCounter{ID: next, Name: failed.name, Error: failed.err}, failed.services)
		}
	})
	w.Header().Set("Cache-Control", "no-store")
	errMsg := ""
	if failed != nil {
		errMsg = failed.err
	}
	if failedPlan != nil {
		errMsg = failedPlan.err
	}
	if failedOnline != nil {
		errMsg = failedOnline.err
	}
	s.Renderer.Render(w, status, "desk_setup", ui.Page{Lang: lang, Title: ui.Translate(lang, "setup.title") + " · " + p.SiteName,
		Surface: "desk", Path: "/desk/setup", Flash: flash, Error: errMsg, Data: p})
}

// setupSave renames a counter and sets its services.
func (s *Server) setupSave(w http.ResponseWriter, r *http.Request) {
	s.saveCounter(w, r, counterForm{id: chi.URLParam(r, "counter")})
}

// setupAdd adds a counter with the number the form offered.
func (s *Server) setupAdd(w http.ResponseWriter, r *http.Request) {
	s.saveCounter(w, r, counterForm{add: true})
}

func (s *Server) saveCounter(w http.ResponseWriter, r *http.Request, f counterForm) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	f.name, f.services = r.PostForm.Get("name"), r.PostForm["service"]
	if f.add {
		f.id = r.PostForm.Get("id")
	}
	events, err := s.Store.Execute(r.Context(), func(st *queue.State, at time.Time) ([]queue.Event, error) {
		if f.add {
			return st.AddCounter(at, f.id, f.name, f.services)
		}
		return st.DefineCounter(at, f.id, f.name, f.services)
	})
	if err != nil {
		if status := web.Status(err); status < 500 && veedel.ErrorCode(err) != veedel.ENOTFOUND {
			f.err = veedel.ErrorMessage(err)
			s.renderSetup(w, r, status, "", &f)
			return
		}
		s.renderError(w, r, err)
		return
	}
	outcome := "saved"
	switch {
	case f.add:
		outcome = "added"
	case len(events) == 0:
		outcome = "unchanged"
	}
	http.Redirect(w, r, "/desk/setup?"+url.Values{outcome: {f.id}}.Encode(), http.StatusSeeOther)
}

// planDays are a counter's planned staffing fields: the weekdays the site
// opens, and any other weekday that has a plan, Monday first.
func planDays(st *queue.State, counter, lang string) []setupPlanDay {
	var out []setupPlanDay
	for _, d := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
		plan := st.PlannedStaffing(counter, d)
		opens := false
		for _, h := range st.Site.Hours {
			opens = opens || h.Weekday == d
		}
		if !opens && len(plan) == 0 {
			continue
		}
		de, en := queue.WeekdayNames(d)
		name := de
		if lang == "en" {
			name = en
		}
		out = append(out, setupPlanDay{Weekday: int(d), Name: name, Value: queue.FormatPlan(plan)})
	}
	return out
}

// planForm is what a counter's plan form posted: the text of each weekday.
type planForm struct {
	id   string
	days map[time.Weekday]string
	err  string
}

// setupPlan saves a counter's planned staffing: one StaffingPlanned event
// for each weekday whose plan changed, all in one commit.
func (s *Server) setupPlan(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	f := planForm{id: chi.URLParam(r, "counter"), days: map[time.Weekday]string{}}
	for d := time.Sunday; d <= time.Saturday; d++ {
		if v, ok := r.PostForm["plan-"+strconv.Itoa(int(d))]; ok && len(v) > 0 {
			f.days[d] = v[0]
		}
	}
	if len(f.days) == 0 {
		s.renderError(w, r, veedel.Errorf(veedel.EINVALID, "Keine Besetzung angegeben: Felder plan-0 bis plan-6 (Sonntag bis Samstag) / no staffing given: fields plan-0 to plan-6 (Sunday to Saturday)"))
		return
	}
	events, err := s.Store.Execute(r.Context(), func(st *queue.State, at time.Time) ([]queue.Event, error) {
		var all []queue.Event
		for d := time.Sunday; d <= time.Saturday; d++ {
			text, ok := f.days[d]
			if !ok {
				continue
			}
			open, err := queue.ParsePlan(text)
			if err == nil {
				var events []queue.Event
				events, err = st.PlanStaffing(at, f.id, d, open)
				all = append(all, events...)
			}
			if err != nil {
				de, en := queue.WeekdayNames(d)
				if msg := veedel.ErrorMessage(err); !strings.HasPrefix(msg, de) {
					// Name the day, unless the rule's message does.
					msgDE, msgEN, _ := strings.Cut(msg, " / ")
					err = veedel.Errorf(veedel.ErrorCode(err), "%s: %s / %s: %s", de, msgDE, en, msgEN)
				}
				return nil, err
			}
		}
		return all, nil
	})
	if err != nil {
		if status := web.Status(err); status < 500 && veedel.ErrorCode(err) != veedel.ENOTFOUND {
			f.err = veedel.ErrorMessage(err)
			s.renderSetupPlan(w, r, status, "", nil, &f)
			return
		}
		s.renderError(w, r, err)
		return
	}
	outcome := "planned"
	if len(events) == 0 {
		outcome = "unchanged"
	}
	http.Redirect(w, r, "/desk/setup?"+url.Values{outcome: {f.id}}.Encode(), http.StatusSeeOther)
}

// setupOnline saves the services' online shares: one OnlineShareSet for
// each that changed, all in one commit. A field left empty is the default
// (half of each slot).
func (s *Server) setupOnline(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	lang := ui.Lang(w, r)
	f := onlineForm{values: map[string]string{}, invalid: map[string]bool{}}
	places := map[string]int{}
	var order []string
	s.Store.View(func(st *queue.State) { order = slices.Clone(st.ServiceOrder) })
	for _, id := range order {
		v, ok := r.PostForm["online-"+id]
		if !ok || len(v) == 0 {
			continue
		}
		text := strings.TrimSpace(v[0])
		f.values[id] = text
		if text == "" {
			places[id] = queue.ShareDefault
			continue
		}
		n, err := strconv.Atoi(text)
		if err != nil || n < 0 || n > queue.MaxOnlineShare {
			f.invalid[id] = true
			continue
		}
		places[id] = n
	}
	if len(f.invalid) > 0 {
		f.err = ui.Translate(lang, "setup.online.err")
		s.renderSetupAll(w, r, http.StatusBadRequest, "", nil, nil, &f)
		return
	}
	if len(places) == 0 {
		s.renderError(w, r, veedel.Errorf(veedel.EINVALID, "Keine Anliegen angegeben: Felder online-<Anliegen> / no services given: fields online-<service>"))
		return
	}
	_, err := s.Store.Execute(r.Context(), func(st *queue.State, at time.Time) ([]queue.Event, error) {
		var all []queue.Event
		for _, id := range order {
			if n, ok := places[id]; ok {
				events, err := st.SetOnlineShare(at, id, n)
				if err != nil {
					return nil, err
				}
				all = append(all, events...)
			}
		}
		return all, nil
	})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, "/desk/setup?online=1#online", http.StatusSeeOther)
}
