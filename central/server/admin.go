package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/login"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/ui"
)

// The admin surface at /admin: the city's IT staff edit the service
// catalogue and the sites' opening hours, technicians watch sync. Logins
// are central's admin users; a session is a random cookie (only its SHA-256
// is stored) scoped to /admin, HttpOnly and SameSite=Strict, and every form
// post is covered by the router's cross-origin protection. Pages are in
// admin_catalog.go and admin_sync.go.

const adminCookie = "veedel_admin"

// adminPages are the templates the admin surface needs.
var adminPages = []string{"admin_login", "admin", "admin_service", "admin_hours", "admin_sync", "admin_stats", "admin_devices", "admin_sites", "admin_site", "admin_logins", "admin_exam", "admin_exam_stats", "error"}

type adminCtxKey struct{}

// adminSession is the logged-in admin of a request.
type adminSession struct {
	token string
	central.Admin
}

// adminRoutes mounts the admin surface under /admin.
func (s *Server) adminRoutes(r chi.Router) {
	for _, page := range adminPages {
		if !s.Renderer.Has(page) {
			panic("server: template page_" + page + ".html missing")
		}
	}
	r.Get("/login", s.adminLoginForm)
	r.Post("/login", s.adminLogin)
	r.Group(func(r chi.Router) {
		r.Use(s.requireAdmin)
		r.Get("/", s.adminCatalog)
		r.Get("/sync", s.adminSync)
		r.Get("/stats", s.adminStats)
		r.Get("/stats.csv", s.adminStatsCSV)
		r.Get("/devices", s.adminDevices)
		r.Get("/rollout", s.adminRollout)
		r.Get("/sites", s.adminSites)
		r.Get("/exam", s.adminExam)
		r.Get("/exam/statistics", s.adminExamStats)
		r.Get("/exam/statistics.csv", s.adminExamStatsCSV)
		r.With(s.requireEditor).Get("/logins", s.adminLogins)
		r.Post("/logout", s.adminLogout)
		r.Group(func(r chi.Router) {
			r.Use(s.requireEditor)
			r.Get("/services/new", s.adminServiceForm)
			r.Get("/services/{id}", s.adminServiceForm)
			r.Post("/services", s.adminSaveService)
			r.Get("/sites/new", s.adminSiteForm)
			r.Get("/sites/{site}", s.adminSiteForm)
			r.Post("/sites", s.adminSaveSite)
			r.Get("/sites/{site}/hours", s.adminHoursForm)
			r.Post("/sites/{site}/hours", s.adminSaveHours)
			r.Post("/exam/cohort", s.adminExamCohort)
			r.Post("/exam/districts", s.adminExamDistrict)
			r.Post("/rollout", s.adminSaveRollout)
			if s.Business != nil { // the business portal's companies (business_settings.go)
				r.Get("/unternehmen", s.adminBusiness)
				r.Post("/unternehmen", s.adminAddCompany)
			}
		})
	})
}

// requireAdmin lets logged-in admins through; others are sent to the login
// form (a GET) or refused with 401 (any other method).
func (s *Server) requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sess, ok := s.adminFromCookie(r); ok {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), adminCtxKey{}, sess)))
			return
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
			return
		}
		lang := ui.Lang(w, r)
		s.renderAdminLogin(w, r, http.StatusUnauthorized, "", ui.Translate(lang, "admin.login.expired"))
	})
}

// requireEditor lets only admins with the admin role change reference data.
func (s *Server) requireEditor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !currentAdmin(r).CanEdit() {
			s.renderAdminError(w, r, veedel.Errorf(veedel.EFORBIDDEN, "%s", ui.Translate(ui.Lang(w, r), "admin.forbidden")))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireAdminAPI guards admin JSON endpoints: HTTP Basic with an admin's
// name and password (API clients), or the admin session cookie.
func (s *Server) requireAdminAPI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if name, password, ok := r.BasicAuth(); ok {
			a, err := s.Central.AuthenticateAdmin(r.Context(), login.Attempt{Name: name, Password: password, Client: r.RemoteAddr, Via: login.ViaBasic})
			if th, ok := login.RetryAfter(err); ok {
				w.Header().Set("Retry-After", strconv.Itoa(th.Seconds()))
				web.JSON(w, http.StatusTooManyRequests, map[string]string{"error": veedel.ErrorMessage(err)})
				return
			} else if err != nil {
				w.Header().Set("WWW-Authenticate", `Basic realm="veedel admin", charset="UTF-8"`)
				web.Error(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), adminCtxKey{}, adminSession{Admin: a})))
			return
		}
		if sess, ok := s.adminFromCookie(r); ok {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), adminCtxKey{}, sess)))
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="veedel admin", charset="UTF-8"`)
		web.Error(w, r, veedel.Errorf(veedel.EUNAUTHORIZED, "Anmeldung als Admin nötig (HTTP Basic) / admin login required (HTTP Basic)"))
	})
}

func (s *Server) adminFromCookie(r *http.Request) (adminSession, bool) {
	c, err := r.Cookie(adminCookie)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return adminSession{}, false
	}
	a, err := s.Central.AdminSession(r.Context(), c.Value)
	if err != nil {
		if veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
			s.Logger.Error("admin session", "err", err)
		}
		return adminSession{}, false
	}
	return adminSession{token: c.Value, Admin: a}, true
}

// currentAdmin is the admin of a request behind requireAdmin.
func currentAdmin(r *http.Request) adminSession {
	sess, _ := r.Context().Value(adminCtxKey{}).(adminSession)
	return sess
}

// adminFrame is what every admin page's header needs.
type adminFrame struct {
	Admin central.Admin
	Nav   string // the current section: catalog, sync
}

type adminLoginData struct {
	Frame adminFrame
	User  string
}

func (s *Server) adminLoginForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.adminFromCookie(r); ok {
		http.Redirect(w, r, "/admin", http.StatusSeeOther)
		return
	}
	s.renderAdminLogin(w, r, http.StatusOK, "", "")
}

func (s *Server) renderAdminLogin(w http.ResponseWriter, r *http.Request, status int, user, errMsg string) {
	lang := ui.Lang(w, r)
	w.Header().Set("Cache-Control", "no-store")
	s.Renderer.Render(w, status, "admin_login", ui.Page{Lang: lang, Title: ui.Translate(lang, "admin.login"), Surface: "admin",
		Path: "/admin/login", Error: errMsg, Data: adminLoginData{User: user}})
}

func (s *Server) adminLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.renderAdminLogin(w, r, http.StatusBadRequest, "", "Formular unlesbar / unreadable form")
		return
	}
	name := r.PostForm.Get("user")
	_, token, err := s.Central.LoginAdmin(r.Context(), login.Attempt{Name: name, Password: r.PostForm.Get("password"), Client: r.RemoteAddr, Via: login.ViaForm})
	if err != nil {
		// Refusals are logged (name and reason, no address) and recorded
		// by the login throttle (central.Central.AuthenticateAdmin).
		status, msg := web.Status(err), veedel.ErrorMessage(err)
		if th, ok := login.RetryAfter(err); ok {
			status, msg = http.StatusTooManyRequests, ui.ThrottledText(ui.Lang(w, r), th.Wait)
			w.Header().Set("Retry-After", strconv.Itoa(th.Seconds()))
		} else if status >= 500 {
			s.Logger.Error("admin login", "err", err)
		}
		if len(name) > 64 {
			name = ""
		}
		s.renderAdminLogin(w, r, status, name, msg)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: adminCookie, Value: token, Path: "/admin", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: int(central.AdminSessionLifetime / time.Second)})
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

func (s *Server) adminLogout(w http.ResponseWriter, r *http.Request) {
	if sess := currentAdmin(r); sess.token != "" {
		if err := s.Central.LogoutAdmin(r.Context(), sess.token); err != nil {
			s.Logger.Error("admin logout", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: adminCookie, Value: "", Path: "/admin", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}

// renderAdmin renders an admin page for the request's admin.
func (s *Server) renderAdmin(w http.ResponseWriter, r *http.Request, status int, page, titleKey, errMsg, flash string, data any) {
	s.renderAdminAt(w, r, r.URL.Path, status, page, titleKey, errMsg, flash, data)
}

// renderAdminAt renders an admin page whose language switch leads to path
// (a form shown again after a POST switches language on its GET address).
func (s *Server) renderAdminAt(w http.ResponseWriter, r *http.Request, path string, status int, page, titleKey, errMsg, flash string, data any) {
	lang := ui.Lang(w, r)
	w.Header().Set("Cache-Control", "no-store")
	s.Renderer.Render(w, status, page, ui.Page{Lang: lang, Title: ui.Translate(lang, titleKey), Surface: "admin", Path: path,
		Error: errMsg, Flash: flash, Data: data})
}

// adminErrorData is what page_error.html shows.
type adminErrorData struct {
	Message string
	Back    string
}

func (s *Server) renderAdminError(w http.ResponseWriter, r *http.Request, err error) {
	status := web.Status(err)
	if status >= 500 {
		s.Logger.Error("admin request failed", "route", web.Route(r), "err", err)
	}
	lang := ui.Lang(w, r)
	w.Header().Set("Cache-Control", "no-store")
	s.Renderer.Render(w, status, "error", ui.Page{Lang: lang, Title: ui.Translate(lang, "error.title"), Surface: "admin", Path: r.URL.Path,
		Data: adminErrorData{Message: veedel.ErrorMessage(err), Back: "/admin"}})
}

func (s *Server) frame(r *http.Request, nav string) adminFrame {
	return adminFrame{Admin: currentAdmin(r).Admin, Nav: nav}
}
