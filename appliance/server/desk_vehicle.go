package server

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/ui"
	"github.com/veedel/veedel/workflow"
)

// The registration site's back office at the desk (/desk/vehicle): the
// worklist of i-Kfz applications filtered by status and process; one
// application with its details, files, checks and the steps its state
// allows; the mailing list of approved applications whose documents and
// seals are still to go out; and the lead's four-eyes setting.

func (s *Server) deskVehicleRoutes(r interface {
	Get(string, http.HandlerFunc)
	Post(string, http.HandlerFunc)
}) {
	r.Get("/desk/vehicle", s.deskVehicle)
	r.Get("/desk/vehicle/post", s.deskVehiclePost)
	r.Post("/desk/vehicle/settings", s.deskVehicleSettings)
	r.Get("/desk/vehicle/{id}", s.deskVehicleApp)
	r.Get("/desk/vehicle/{id}/files/{sha}", s.deskVehicleFile)
	r.Post("/desk/vehicle/{id}/{action}", s.deskVehicleStep)
}

// hasVehicle reports whether the desk offers the worklist: the site hands
// out plates or has had applications.
func (s *Server) hasVehicle(ctx context.Context) bool {
	if s.hasPlates(ctx) {
		return true
	}
	ok, err := vehicle.Any(ctx, s.Store.Read())
	return err == nil && ok
}

// MaxDeskVehicle bounds the worklist (the oldest first: they are due).
const MaxDeskVehicle = 200

type vehicleListPage struct {
	SiteName           string
	List               worklist[vehicleRow]
	FourEyes, CanSetup bool
	// FourEyesChanged says who changed the setting and when ("": never).
	FourEyesChanged string
	Flash           string
}

type vehicleRow struct {
	vehicle.SiteApplication
	Age string
}

// deskVehicle: GET /desk/vehicle?status=…&process=….
func (s *Server) deskVehicle(w http.ResponseWriter, r *http.Request) {
	lang := ui.Lang(w, r)
	p := vehicleListPage{CanSetup: mayConfigure(session(r).User), List: worklist[vehicleRow]{ID: "kfz", Table: "kfz-apps", Action: "/desk/vehicle",
		Caption: "kfz.title", Count: "kfz.count", None: "kfz.none", Limit: MaxDeskVehicle,
		Filters: []worklistFilter{
			{Name: "status", Label: "orders.filter.status", Default: vehicle.StatusOpen, Options: filterOptions("kfz.status.", vehicle.SiteStatuses,
				worklistOption{vehicle.StatusOpen, "kfz.filter.open"}, worklistOption{vehicle.StatusToPost, "kfz.status.to_post"},
				worklistOption{"", "orders.filter.all"})},
			{Name: "process", Label: "kfz.process", Options: filterOptions("kfz.process.", vehicle.Processes,
				worklistOption{"", "kfz.process.all"})},
		}}}
	ctx := r.Context()
	now := s.current()
	status, err := loadWorklist(r, lang, &p.List, func(ctx context.Context, limit int) ([]vehicle.SiteApplication, error) {
		return vehicle.Find(ctx, s.Store.Read(), vehicle.Filter{Status: p.List.Value("status"), Process: p.List.Value("process"), Limit: limit})
	}, func(a vehicle.SiteApplication) vehicleRow {
		return vehicleRow{SiteApplication: a, Age: ui.Age(lang, a.ReceivedAt, now)}
	})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	settings, err := vehicle.Settings(ctx, s.Store.Read())
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	p.FourEyes = settings.FourEyes
	if r.URL.Query().Get("saved") == "1" {
		p.Flash = ui.Translate(lang, "kfz.foureyes.saved")
	}
	s.Store.View(func(st *queue.State) {
		p.SiteName = st.Site.Name
		if !settings.At.IsZero() {
			p.FourEyesChanged = ui.Translate(lang, "kfz.foureyes.changed", settings.By, ui.DateTime(lang, settings.At.In(st.Site.Location)))
		}
	})
	w.Header().Set("Cache-Control", "no-store")
	s.Renderer.Render(w, status, "desk_vehicle", ui.Page{Lang: lang, Title: ui.Translate(lang, "kfz.title") + " · " + p.SiteName,
		Surface: "desk", Path: r.URL.Path, Flash: p.Flash, Data: p})
}

// deskVehicleSettings: POST /desk/vehicle/settings (four_eyes): a site
// lead's or admin's (403 for a clerk), logged as vehicle.settings_changed
// with who changed it.
func (s *Server) deskVehicleSettings(w http.ResponseWriter, r *http.Request) {
	if !mayConfigure(session(r).User) {
		s.renderError(w, r, veedel.Errorf(veedel.EFORBIDDEN, "Die Einstellung ist der Standortleitung vorbehalten / this setting is for the site lead only"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	ctx, staff, on := r.Context(), session(r).User.Name, r.PostForm.Get("four_eyes") == "1"
	// A command through the change-log: central sees the setting, and a
	// site restored from central's copy of its log has it.
	if _, err := s.Store.ExecuteTx(ctx, func(_ *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
		return vehicle.ChangeSettings(ctx, q, at, staff, on)
	}); err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, "/desk/vehicle?saved=1", http.StatusSeeOther)
}

type vehicleCheckRow struct {
	Name     string
	Required bool
	Done     bool
	vehicle.CheckResult
}

type vehicleFile struct {
	vehicle.Attachment
	Here bool // the file arrived at the site
}

type vehicleAppPage struct {
	SiteName    string
	App         vehicle.SiteApplication
	Files       []vehicleFile
	Supplements []vehicle.Supplement
	Checks      []vehicleCheckRow
	// Steps are the steps open to the viewer now, as Decide decides them.
	Steps map[string]bool
	// Approve is open to the viewer (the claimant, or with four eyes
	// another staff member); FourEyes: the site asks for a second person.
	Approve, FourEyes, SecondNeeded bool
	// ChecksPassed: every check the process needs is recorded as passed.
	ChecksPassed        bool
	ClaimedByOther      string
	PermitHere          bool
	KeepDays, MaxReason int
	// Reason is the text typed into a refused form (Form: which form).
	Reason, ReasonError, Form string
}

// deskVehicleApp: GET /desk/vehicle/{id}.
func (s *Server) deskVehicleApp(w http.ResponseWriter, r *http.Request) {
	lang := ui.Lang(w, r)
	flash := ""
	if done := r.URL.Query().Get("done"); slices.Contains(vehicleActions, done) {
		flash = ui.Translate(lang, "kfz.done."+done)
	}
	s.renderVehicleApp(w, r, http.StatusOK, flash, "", vehicleAppPage{})
}

func (s *Server) renderVehicleApp(w http.ResponseWriter, r *http.Request, status int, flash, errMsg string, form vehicleAppPage) {
	lang := ui.Lang(w, r)
	ctx := r.Context()
	read := s.Store.Read()
	a, err := vehicle.Get(ctx, read, chi.URLParam(r, "id"))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	staff := session(r).User.Name
	p := vehicleAppPage{App: a, Steps: map[string]bool{}, KeepDays: int(vehicle.KeepDetails / (24 * time.Hour)), MaxReason: vehicle.MaxReason,
		Reason: form.Reason, ReasonError: form.ReasonError, Form: form.Form}
	now := s.current()
	for _, action := range []string{vehicle.ActionClaim, vehicle.ActionCheck, vehicle.ActionRequestInfo, vehicle.ActionReject, vehicle.ActionPost} {
		_, err := vehicle.Decide(ctx, read, now, vehicle.Step{ID: a.ID, Action: action, Staff: staff, Reason: "-", Check: vehicle.CheckFees})
		p.Steps[action] = err == nil
	}
	if p.FourEyes, err = vehicle.FourEyes(ctx, read); err != nil {
		s.renderError(w, r, err)
		return
	}
	if a.Status == vehicle.StatusInReview {
		p.Approve = (a.Staff == staff) != p.FourEyes
		p.SecondNeeded = p.FourEyes && a.Staff == staff
		if a.Staff != staff {
			p.ClaimedByOther = a.Staff
		}
	}
	files, err := vehicle.Attachments(ctx, read, a.ID)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	for _, f := range files {
		_, serr := s.Store.Blobs().Stat(ctx, f.File.SHA256)
		p.Files = append(p.Files, vehicleFile{Attachment: f, Here: serr == nil})
	}
	if a.Permit != nil {
		_, serr := s.Store.Blobs().Stat(ctx, a.Permit.SHA256)
		p.PermitHere = serr == nil
	}
	if p.Supplements, err = vehicle.Supplements(ctx, read, a.ID); err != nil {
		s.renderError(w, r, err)
		return
	}
	checks, err := vehicle.Checks(ctx, read, a.ID)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	required := vehicle.RequiredChecks(a.Process)
	p.ChecksPassed = true
	for _, c := range required {
		p.ChecksPassed = p.ChecksPassed && checks[c].OK
	}
	for _, c := range vehicle.AllChecks {
		res, done := checks[c]
		p.Checks = append(p.Checks, vehicleCheckRow{Name: c, Required: slices.Contains(required, c), Done: done, CheckResult: res})
	}
	s.Store.View(func(st *queue.State) { p.SiteName = st.Site.Name })
	w.Header().Set("Cache-Control", "no-store")
	s.Renderer.Render(w, status, "desk_vehicle_detail", ui.Page{Lang: lang, Title: ui.Translate(lang, "kfz.detail.title", a.ID) + " · " + p.SiteName,
		Surface: "desk", Path: "/desk/vehicle/" + a.ID, Flash: flash, Error: errMsg, Data: p})
}

// deskVehicleStep: POST /desk/vehicle/{id}/{action} with reason (reject,
// request-info) or check and ok (check); posted comes from the mailing
// list and goes back to it. A step the state does not allow shows the
// application again with why; a reason at fault is marked at its field.
func (s *Server) deskVehicleStep(w http.ResponseWriter, r *http.Request) {
	action, ok := s.deskStepAction(w, r, vehicleActions)
	if !ok {
		return
	}
	id := chi.URLParam(r, "id")
	req := vehicleActionRequest{Reason: r.PostForm.Get("reason"), Check: r.PostForm.Get("check")}
	if v := r.PostForm.Get("ok"); v != "" {
		ok := v == "1"
		req.OK = &ok
	}
	err := s.vehicleAction(r.Context(), id, action, session(r).User.Name, req)
	if err != nil {
		msg := s.stepRefusal(w, r, err)
		switch code := veedel.ErrorCode(err); {
		case code == veedel.EINVALID && req.Check == "":
			s.renderVehicleApp(w, r, web.Status(err), "", "", vehicleAppPage{Reason: req.Reason, ReasonError: msg, Form: action})
		case code == veedel.EINVALID || code == veedel.ECONFLICT || code == veedel.EUNAVAILABLE:
			s.renderVehicleApp(w, r, web.Status(err), "", msg, vehicleAppPage{})
		default:
			s.renderError(w, r, err)
		}
		return
	}
	if action == vehicle.ActionPost {
		http.Redirect(w, r, "/desk/vehicle/post?done="+url.QueryEscape(id), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/desk/vehicle/"+url.PathEscape(id)+"?done="+action, http.StatusSeeOther)
}

type vehiclePostPage struct {
	SiteName string
	Apps     []vehicle.SiteApplication
	Limited  bool
}

// deskVehiclePost: GET /desk/vehicle/post: the mailing list of approved
// applications whose documents and seals are still to go out, with the
// addresses to write on the envelopes.
func (s *Server) deskVehiclePost(w http.ResponseWriter, r *http.Request) {
	lang := ui.Lang(w, r)
	apps, err := vehicle.Find(r.Context(), s.Store.Read(), vehicle.Filter{Status: vehicle.StatusToPost, Limit: MaxDeskVehicle + 1})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	p := vehiclePostPage{Apps: apps}
	if len(apps) > MaxDeskVehicle {
		p.Apps, p.Limited = apps[:MaxDeskVehicle], true
	}
	flash := ""
	if done := r.URL.Query().Get("done"); done != "" {
		flash = ui.Translate(lang, "kfz.post.done", done)
	}
	s.Store.View(func(st *queue.State) { p.SiteName = st.Site.Name })
	w.Header().Set("Cache-Control", "no-store")
	s.Renderer.Render(w, http.StatusOK, "desk_vehicle_post", ui.Page{Lang: lang, Title: ui.Translate(lang, "kfz.post.title") + " · " + p.SiteName,
		Surface: "desk", Path: r.URL.Path, Flash: flash, Data: p})
}
