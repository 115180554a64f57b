package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/internal/login"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/ui"
)

const sessionCookie = "veedel_session"

type ctxKey int

const sessionKey ctxKey = iota

type sessionCtx struct {
	token string
	sqlite.Session
}

// requireSession lets logged-in staff through and sends everyone else to
// the login form.
func (s *Server) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err == nil {
			var sess sqlite.Session
			if sess, err = s.Store.SessionByToken(r.Context(), c.Value); err == nil {
				ctx := context.WithValue(r.Context(), sessionKey, sessionCtx{token: c.Value, Session: sess})
				next.ServeHTTP(w, r.WithContext(ctx))
				return
			}
		}
		if r.Method == http.MethodGet {
			http.Redirect(w, r, "/desk/login", http.StatusSeeOther)
			return
		}
		s.renderError(w, r, veedel.Errorf(veedel.EUNAUTHORIZED, "Sitzung abgelaufen: bitte neu anmelden / session expired: please log in again"))
	})
}

func session(r *http.Request) sessionCtx { return r.Context().Value(sessionKey).(sessionCtx) }

type loginPage struct {
	SiteName string
	User     string
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	var p loginPage
	s.Store.View(func(st *queue.State) { p.SiteName = st.Site.Name })
	s.render(w, r, http.StatusOK, "login", "desk", ui.Translate(ui.Lang(w, r), "desk.login"), p)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	name := r.PostForm.Get("user")
	u, err := s.Store.Authenticate(r.Context(), login.Attempt{Name: name, Password: r.PostForm.Get("password"), Client: r.RemoteAddr, Via: login.ViaForm})
	if err != nil {
		var p loginPage
		s.Store.View(func(st *queue.State) { p.SiteName = st.Site.Name })
		if len(name) <= 64 {
			p.User = name
		}
		lang := ui.Lang(w, r)
		status, msg := web.Status(err), veedel.ErrorMessage(err)
		if th, ok := login.RetryAfter(err); ok {
			status, msg = http.StatusTooManyRequests, ui.ThrottledText(lang, th.Wait)
			w.Header().Set("Retry-After", strconv.Itoa(th.Seconds()))
		} else if status >= 500 {
			s.Logger.Error("desk login", "err", err)
		}
		s.Renderer.Render(w, status, "login", ui.Page{Lang: lang, Title: ui.Translate(lang, "desk.login"), Surface: "desk", Path: r.URL.Path, Error: msg, Data: p})
		return
	}
	token, err := s.Store.CreateSession(r.Context(), u.Name)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/desk", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: int(sqlite.SessionLifetime / time.Second)})
	http.Redirect(w, r, "/desk", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	s.Store.DeleteSession(r.Context(), session(r).token)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/desk", MaxAge: -1, HttpOnly: true})
	http.Redirect(w, r, "/desk/login", http.StatusSeeOther)
}

type deskPage struct {
	// ConfirmNoShow asks the clerk to confirm a no-show of Current before
	// it is recorded (a no-show ends the citizen's ticket).
	ConfirmNoShow bool

	SiteName    string
	User        sqlite.User
	Counter     CounterView
	HasCounter  bool
	Current     *TicketView
	CanRecall   bool
	Waiting     []TicketView
	ForCounter  int // waiting tickets this counter can call
	Counters    []CounterView
	Services    []ServiceView
	ServiceName map[string]string
	Started     bool         // the current citizen has arrived at the counter
	Parked      []TicketView // tickets this counter parked, to call back
	CanSetup    bool         // a site lead: may open /desk/setup
	// DeviceBanner is the printer's and modem's trouble (devices.go);
	// Reprint offers reprinting tickets (a ticket printer is configured).
	DeviceBanner deviceBanner
	Reprint      bool
	// OpenOrders counts the certificate orders not done (desk_orders.go).
	OpenOrders int
	// ExamStaff: a doctor or assistant (desk_exams.go) sees the exams'
	// day list; ExamAudit: the lead exports their audit log, on a
	// school-health site.
	ExamStaff, ExamAudit bool
	// Plates: the site hands out number plates (desk_plates.go).
	Plates bool
	// Vehicle: the site decides i-Kfz applications (desk_vehicle.go).
	Vehicle bool
}

func (s *Server) desk(w http.ResponseWriter, r *http.Request) {
	s.renderDesk(w, r, http.StatusOK, "")
}

func (s *Server) renderDesk(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	sess := session(r)
	now := s.current()
	p := deskPage{User: sess.User, ServiceName: map[string]string{}, CanSetup: mayConfigure(sess.User), Reprint: s.Printer != nil,
		OpenOrders: s.openOrders(r.Context()), ExamStaff: sqlite.SeesHealthData(sess.User.Role), Plates: s.hasPlates(r.Context()), Vehicle: s.hasVehicle(r.Context())}
	s.Store.View(func(st *queue.State) {
		p.SiteName, p.Counters, p.Services = st.Site.Name, counterViews(st), serviceViews(st)
		p.DeviceBanner = deviceBannerOf(deviceViews(st))
		_, examSite := st.Services[exam.CheckInService]
		p.ExamAudit = examSite && p.CanSetup
		for _, svc := range st.Services {
			p.ServiceName[svc.ID] = svc.Name
		}
		c := st.Counters[sess.Counter]
		for _, t := range st.Waiting() {
			p.Waiting = append(p.Waiting, s.ticketView(st, t, now))
			if c != nil && c.Serves(t.Service) {
				p.ForCounter++
			}
		}
		if c == nil {
			return
		}
		p.HasCounter = true
		for _, v := range p.Counters {
			if v.ID == c.ID {
				p.Counter = v
			}
		}
		if t := st.Tickets[c.Current]; t != nil && t.Status == queue.StatusCalled && t.Day == st.DayOf(now) {
			v := s.ticketView(st, t, now)
			p.Current, p.CanRecall, p.Started = &v, t.Recalls < queue.MaxRecalls, !t.StartedAt.IsZero()
		}
		for _, t := range st.Parked(c.ID) {
			p.Parked = append(p.Parked, s.ticketView(st, t, now))
		}
		p.ConfirmNoShow = askingNoShow(r) && p.Current != nil && !p.Started
	})
	lang := ui.Lang(w, r)
	p.DeviceBanner.Clock = s.clockViewOf(lang)
	p.DeviceBanner.Parked = s.parkedViewOf(r.Context(), lang)
	page := "desk"
	if !p.HasCounter {
		page = "desk_counter"
	}
	w.Header().Set("Cache-Control", "no-store")
	s.Renderer.Render(w, status, page, ui.Page{Lang: lang, Title: ui.Translate(lang, "desk.title") + " · " + p.SiteName,
		Surface: "desk", Path: r.URL.Path, Error: errMsg, Data: p})
}

func (s *Server) deskChooseCounter(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	sess := session(r)
	counter := r.PostForm.Get("counter")
	if counter == "" {
		// "Change counter": forget the choice, show the list again.
		s.Store.SetSessionCounter(r.Context(), sess.token, "")
		http.Redirect(w, r, "/desk", http.StatusSeeOther)
		return
	}
	_, err := s.Store.Execute(r.Context(), func(st *queue.State, at time.Time) ([]queue.Event, error) {
		if c := st.Counters[counter]; c != nil && c.Open && c.Staff == sess.User.Name && st.Day == st.DayOf(at) {
			return nil, nil // already staffed by this clerk
		}
		e, err := st.OpenCounter(at, counter, sess.User.Name)
		return []queue.Event{e}, err
	})
	if err == nil {
		err = s.Store.SetSessionCounter(r.Context(), sess.token, counter)
	}
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, "/desk", http.StatusSeeOther)
}

// deskAction runs call-next, recall, no-show or finish for the session's
// counter. Errors a clerk can act on (nobody waiting…) are shown on the desk.
func (s *Server) deskAction(w http.ResponseWriter, r *http.Request) {
	sess := session(r)
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	args := actionArgs{Ticket: r.PostForm.Get("ticket")}
	// The transfer form has one select of "service:<id>" and "counter:<id>".
	if kind, id, ok := strings.Cut(r.PostForm.Get("to"), ":"); ok {
		switch kind {
		case "service":
			args.Service = id
		case "counter":
			args.Counter = id
		}
	}
	action := chi.URLParam(r, "action")
	decide, ok := counterCommand(action, sess.Counter, sess.User.Name, args)
	if !ok {
		s.renderError(w, r, veedel.Errorf(veedel.ENOTFOUND, "Unbekannte Aktion / unknown action"))
		return
	}
	if sess.Counter == "" {
		http.Redirect(w, r, "/desk", http.StatusSeeOther)
		return
	}
	if action == "no-show" {
		// A no-show ends the citizen's ticket: the desk asks first, and
		// the confirmation names the ticket, so that it cannot end the
		// next one called in between.
		if askingNoShow(r) {
			s.renderDesk(w, r, http.StatusOK, "")
			return
		}
		decide = noShowOf(r.PostForm.Get("confirm"), sess.Counter, decide)
	}
	if _, err := s.Store.Execute(r.Context(), decide); err != nil {
		if code := veedel.ErrorCode(err); code == veedel.ECONFLICT || code == veedel.ENOTFOUND || code == veedel.EINVALID {
			s.renderDesk(w, r, http.StatusConflict, veedel.ErrorMessage(err))
			return
		}
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, "/desk", http.StatusSeeOther)
}

// askingNoShow reports whether r is a desk's no-show not yet confirmed:
// the desk answers it with the question.
func askingNoShow(r *http.Request) bool {
	return r.Method == http.MethodPost && chi.URLParam(r, "action") == "no-show" && r.PostForm.Get("confirm") == ""
}

// noShowOf is the no-show decider for a confirmed ticket: it refuses when
// the counter no longer has that ticket called.
func noShowOf(ticket, counter string, decide sqlite.Decider) sqlite.Decider {
	return func(st *queue.State, at time.Time) ([]queue.Event, error) {
		if c := st.Counters[counter]; c == nil || c.Current != ticket {
			return nil, veedel.Errorf(veedel.ECONFLICT, "Diese Nummer ist hier nicht mehr aufgerufen: nichts geändert / this number is no longer called here: nothing changed")
		}
		return decide(st, at)
	}
}

// actionArgs are the optional arguments of a counter action: the target of
// a transfer (Service or Counter) and, for recall, a parked Ticket (ID or
// number) to call back.
type actionArgs struct {
	Service string `json:"service"`
	Counter string `json:"counter"`
	Ticket  string `json:"ticket"`
}

// counterActions are the actions of POST /api/v1/counters/{counter}/{action}.
const counterActions = "call-next, recall, start, finish, no-show, park or transfer"

// counterCommand maps a desk action to its queue command.
func counterCommand(action, counter, staff string, args actionArgs) (sqlite.Decider, bool) {
	one := func(f func(st *queue.State, at time.Time, counter string) (queue.Event, error)) sqlite.Decider {
		return func(st *queue.State, at time.Time) ([]queue.Event, error) {
			e, err := f(st, at, counter)
			return []queue.Event{e}, err
		}
	}
	switch action {
	case "call-next":
		return func(st *queue.State, at time.Time) ([]queue.Event, error) { return st.CallNext(at, counter, staff) }, true
	case "recall":
		if args.Ticket != "" {
			return func(st *queue.State, at time.Time) ([]queue.Event, error) {
				return st.CallBack(at, counter, staff, args.Ticket)
			}, true
		}
		return one((*queue.State).Recall), true
	case "start":
		return one((*queue.State).Start), true
	case "finish":
		return one((*queue.State).Finish), true
	case "no-show":
		return one((*queue.State).NoShow), true
	case "park":
		return one((*queue.State).Park), true
	case "transfer":
		return func(st *queue.State, at time.Time) ([]queue.Event, error) {
			e, err := st.Transfer(at, counter, args.Service, args.Counter)
			return []queue.Event{e}, err
		}, true
	}
	return nil, false
}
