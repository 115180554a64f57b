package server

import (
	"context"
	"encoding/base64"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/skip2/go-qrcode"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/central/business"
	"github.com/veedel/veedel/internal/login"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/ui"
)

// The business portal's pages at /unternehmen (German, English with
// ?lang=en): a company's people log in with company, name and password
// and then the code of their authenticator app (TOTP; the first time they
// enrol it from a QR code); the dashboard lists the company's
// applications and their states, takes a CSV upload and shows each row's
// result, and shows the webhook's delivery log; a company admin adds
// users, API keys and the webhook. The session is a random cookie (only
// its SHA-256 stored) scoped to /unternehmen, HttpOnly, SameSite=Strict;
// form posts are covered by the router's cross-origin protection.

const (
	businessCookie   = "veedel_business"
	businessPath     = "/unternehmen"
	businessHalfLife = 5 * time.Minute // between password and code
	businessLifetime = 8 * time.Hour
)

var businessPages = []string{"business_login", "business_totp", "business", "business_settings", "admin_business"}

type businessCtxKey struct{}

func (s *Server) businessPortalRoutes(r chi.Router) {
	for _, page := range businessPages {
		if !s.Renderer.Has(page) {
			panic("server: template page_" + page + ".html missing")
		}
	}
	r.Get(businessPath+"/anmelden", s.businessLoginForm)
	r.Post(businessPath+"/anmelden", s.businessLogin)
	r.Get(businessPath+"/code", s.businessTOTPForm)
	r.Post(businessPath+"/code", s.businessTOTP)
	r.Group(func(r chi.Router) {
		r.Use(s.requireCompanyUser)
		r.Get(businessPath, s.businessDashboard)
		r.Post(businessPath+"/hochladen", s.businessUpload)
		r.Post(businessPath+"/abmelden", s.businessLogout)
		r.Group(func(r chi.Router) {
			r.Use(s.requireCompanyAdmin)
			r.Get(businessPath+"/einstellungen", s.businessSettings)
			r.Post(businessPath+"/benutzer", s.businessAddUser)
			r.Post(businessPath+"/schluessel", s.businessCreateKey)
			r.Post(businessPath+"/schluessel/{id}/widerrufen", s.businessRevokeKey)
			r.Post(businessPath+"/webhook", s.businessSetWebhook)
		})
	})
}

func (s *Server) setBusinessCookie(w http.ResponseWriter, r *http.Request, token string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: businessCookie, Value: token, Path: businessPath, MaxAge: int(maxAge / time.Second),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// businessSession returns the user of the request's session and whether
// it passed the TOTP code.
func (s *Server) businessSession(r *http.Request) (business.User, bool, string, bool) {
	c, err := r.Cookie(businessCookie)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return business.User{}, false, "", false
	}
	u, mfa, err := s.Business.Session(r.Context(), c.Value, s.now())
	if err != nil {
		if veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
			s.Logger.Error("business session", "err", err)
		}
		return business.User{}, false, "", false
	}
	return u, mfa, c.Value, true
}

func (s *Server) requireCompanyUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, mfa, _, ok := s.businessSession(r)
		if ok && mfa {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), businessCtxKey{}, u)))
			return
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			http.Redirect(w, r, businessPath+"/anmelden", http.StatusSeeOther)
			return
		}
		s.renderBusinessLogin(w, r, http.StatusUnauthorized, businessLoginData{}, ui.Translate(ui.Lang(w, r), "biz.login.expired"))
	})
}

func (s *Server) requireCompanyAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if currentCompanyUser(r).Role != business.RoleAdmin {
			s.renderBusinessError(w, r, veedel.Errorf(veedel.EFORBIDDEN, "%s", ui.Translate(ui.Lang(w, r), "biz.forbidden")))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func currentCompanyUser(r *http.Request) business.User {
	u, _ := r.Context().Value(businessCtxKey{}).(business.User)
	return u
}

// businessFrame is what every portal page's header needs.
type businessFrame struct {
	User    business.User
	Company string // the company's name
	Nav     string
}

type businessLoginData struct {
	Frame   businessFrame
	Company string
	User    string
}

func (s *Server) businessLoginForm(w http.ResponseWriter, r *http.Request) {
	if _, mfa, _, ok := s.businessSession(r); ok && mfa {
		http.Redirect(w, r, businessPath, http.StatusSeeOther)
		return
	}
	s.renderBusinessLogin(w, r, http.StatusOK, businessLoginData{}, "")
}

func (s *Server) renderBusinessLogin(w http.ResponseWriter, r *http.Request, status int, d businessLoginData, errMsg string) {
	lang := ui.Lang(w, r)
	w.Header().Set("Cache-Control", "no-store")
	s.Renderer.Render(w, status, "business_login", ui.Page{Lang: lang, Title: ui.Translate(lang, "biz.login"), Surface: "admin",
		Path: businessPath + "/anmelden", Error: errMsg, Data: d})
}

// loginRefusal answers a refused login or code on its form.
func (s *Server) loginRefusal(w http.ResponseWriter, r *http.Request, err error) (int, string) {
	status, msg := web.Status(err), veedel.ErrorMessage(err)
	if th, ok := login.RetryAfter(err); ok {
		status, msg = http.StatusTooManyRequests, ui.ThrottledText(ui.Lang(w, r), th.Wait)
		w.Header().Set("Retry-After", strconv.Itoa(th.Seconds()))
	} else if status >= 500 {
		s.Logger.Error("business login", "err", err)
	}
	return status, msg
}

func (s *Server) businessLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.renderBusinessLogin(w, r, http.StatusBadRequest, businessLoginData{}, "Formular unlesbar / unreadable form")
		return
	}
	d := businessLoginData{Company: strings.TrimSpace(r.PostForm.Get("company")), User: strings.TrimSpace(r.PostForm.Get("user"))}
	if len(d.Company) > 40 || len(d.User) > 40 {
		d = businessLoginData{}
	}
	err := s.biz.logins.Login(r.Context(), login.Attempt{Name: d.Company + "/" + d.User, Password: r.PostForm.Get("password"), Client: r.RemoteAddr, Via: login.ViaForm},
		func() error {
			u, err := s.Business.User(r.Context(), d.Company, d.User)
			if veedel.ErrorCode(err) == veedel.ENOTFOUND {
				login.Unknown(r.PostForm.Get("password"))
				return login.ErrUnknownName
			} else if err != nil {
				return err
			}
			if !s.biz.checker.Check(d.Company+"/"+d.User, r.PostForm.Get("password"), u.PasswordHash, s.now()) {
				return login.ErrWrongPassword
			}
			return nil
		})
	if err != nil {
		status, msg := s.loginRefusal(w, r, err)
		s.renderBusinessLogin(w, r, status, d, msg)
		return
	}
	token, err := s.Business.NewSession(r.Context(), d.Company, d.User, false, s.now().Add(businessHalfLife))
	if err != nil {
		s.renderBusinessError(w, r, err)
		return
	}
	s.setBusinessCookie(w, r, token, businessHalfLife)
	http.Redirect(w, r, businessPath+"/code", http.StatusSeeOther)
}

type businessTOTPData struct {
	Frame  businessFrame
	Enrol  bool
	QR     template.URL
	Secret string // grouped in fours for typing
}

// totpSecret returns the user's TOTP secret, making one when enrolment
// starts.
func (s *Server) totpSecret(ctx context.Context, u business.User) ([]byte, error) {
	key, err := s.businessKey(ctx)
	if err != nil {
		return nil, err
	}
	aad := business.TOTPAAD(u.Company, u.Name)
	if u.TOTPSealed != nil {
		return business.Open(key, aad, u.TOTPSealed)
	}
	secret := business.NewTOTPSecret()
	sealed, err := business.Seal(key, aad, secret)
	if err != nil {
		return nil, err
	}
	return secret, s.Business.StartTOTP(ctx, u.Company, u.Name, sealed)
}

func (s *Server) businessTOTPForm(w http.ResponseWriter, r *http.Request) {
	s.renderBusinessTOTP(w, r, http.StatusOK, "")
}

func (s *Server) renderBusinessTOTP(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	u, mfa, _, ok := s.businessSession(r)
	if !ok || mfa {
		http.Redirect(w, r, businessPath+"/anmelden", http.StatusSeeOther)
		return
	}
	lang := ui.Lang(w, r)
	d := businessTOTPData{Enrol: !u.TOTPEnrolled}
	if d.Enrol {
		secret, err := s.totpSecret(r.Context(), u)
		if err != nil {
			s.renderBusinessError(w, r, err)
			return
		}
		png, err := qrcode.Encode(business.TOTPURL("Veedel Köln", u.Company+"/"+u.Name, secret), qrcode.Medium, 256)
		if err != nil {
			s.renderBusinessError(w, r, err)
			return
		}
		d.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
		text := business.TOTPText(secret)
		for i := 0; i < len(text); i += 4 {
			d.Secret += text[i:min(i+4, len(text))] + " "
		}
		d.Secret = strings.TrimSpace(d.Secret)
	}
	w.Header().Set("Cache-Control", "no-store")
	s.Renderer.Render(w, status, "business_totp", ui.Page{Lang: lang, Title: ui.Translate(lang, "biz.totp"), Surface: "admin",
		Path: businessPath + "/code", Error: errMsg, Data: d})
}

func (s *Server) businessTOTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	u, mfa, token, ok := s.businessSession(r)
	if !ok || mfa || r.ParseForm() != nil {
		http.Redirect(w, r, businessPath+"/anmelden", http.StatusSeeOther)
		return
	}
	err := s.biz.logins.Login(r.Context(), login.Attempt{Name: "totp:" + u.Company + "/" + u.Name, Client: r.RemoteAddr, Via: login.ViaForm},
		func() error {
			secret, err := s.totpSecret(r.Context(), u)
			if err != nil {
				return err
			}
			step := business.MatchTOTP(secret, r.PostForm.Get("code"), s.now())
			if step == 0 {
				return login.ErrWrongPassword
			}
			fresh, err := s.Business.UseTOTPStep(r.Context(), u.Company, u.Name, step)
			if err != nil {
				return err
			}
			if !fresh {
				return login.ErrWrongPassword // a code already used
			}
			return nil
		})
	if err != nil {
		status, msg := s.loginRefusal(w, r, err)
		if veedel.ErrorCode(err) == veedel.EUNAUTHORIZED {
			msg = ui.Translate(ui.Lang(w, r), "biz.totp.wrong")
		}
		s.renderBusinessTOTP(w, r, status, msg)
		return
	}
	s.Business.EndSession(r.Context(), token, s.now())
	full, err := s.Business.NewSession(r.Context(), u.Company, u.Name, true, s.now().Add(businessLifetime))
	if err != nil {
		s.renderBusinessError(w, r, err)
		return
	}
	s.setBusinessCookie(w, r, full, businessLifetime)
	http.Redirect(w, r, businessPath, http.StatusSeeOther)
}

func (s *Server) businessLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(businessCookie); err == nil {
		s.Business.EndSession(r.Context(), c.Value, s.now())
	}
	s.setBusinessCookie(w, r, "", -time.Second)
	http.Redirect(w, r, businessPath+"/anmelden", http.StatusSeeOther)
}

// businessDashboardData is the dashboard: applications, the last upload's
// results, the webhook's deliveries.
type businessDashboardData struct {
	Frame      businessFrame
	Status     string // the filter
	Statuses   []string
	Apps       []BusinessApplication
	Results    *business.Results
	Deliveries []business.Delivery
	Columns    string
}

var businessStatuses = []string{vehicle.StatusSubmitted, vehicle.StatusAtSite, vehicle.StatusInReview, vehicle.StatusInfoRequested, vehicle.StatusApproved, vehicle.StatusRejected}

func (s *Server) companyFrame(ctx context.Context, u business.User, nav string) businessFrame {
	f := businessFrame{User: u, Company: u.Company, Nav: nav}
	if c, err := s.Business.Company(ctx, u.Company); err == nil {
		f.Company = c.Name
	}
	return f
}

func (s *Server) businessDashboard(w http.ResponseWriter, r *http.Request) {
	s.renderBusinessDashboard(w, r, http.StatusOK, nil, "")
}

func (s *Server) renderBusinessDashboard(w http.ResponseWriter, r *http.Request, status int, res *business.Results, errMsg string) {
	u := currentCompanyUser(r)
	filter := r.URL.Query().Get("status")
	if !strings.Contains(" "+strings.Join(businessStatuses, " ")+" ", " "+filter+" ") {
		filter = ""
	}
	apps, err := s.companyApplications(r.Context(), u.Company, filter, 500)
	if err != nil {
		s.renderBusinessError(w, r, err)
		return
	}
	deliveries, err := s.Business.Deliveries(r.Context(), u.Company, 50)
	if err != nil {
		s.renderBusinessError(w, r, err)
		return
	}
	lang := ui.Lang(w, r)
	w.Header().Set("Cache-Control", "no-store")
	s.Renderer.Render(w, status, "business", ui.Page{Lang: lang, Title: ui.Translate(lang, "biz.title"), Surface: "admin", Path: businessPath, Error: errMsg,
		Data: businessDashboardData{Frame: s.companyFrame(r.Context(), u, "dashboard"), Status: filter, Statuses: businessStatuses, Apps: apps, Results: res,
			Deliveries: deliveries, Columns: strings.Join(business.CSVColumns, ";")}})
}

// businessUpload takes the dashboard's CSV file and shows every row's
// result beside the list (no redirect: the results are shown once).
func (s *Server) businessUpload(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, business.MaxBody+64<<10)
	f, _, err := r.FormFile("file")
	if err != nil {
		s.renderBusinessDashboard(w, r, http.StatusBadRequest, nil, ui.Translate(ui.Lang(w, r), "biz.upload.nofile"))
		return
	}
	defer f.Close()
	rows, err := business.ParseCSV(f)
	if err != nil {
		s.renderBusinessDashboard(w, r, web.Status(err), nil, veedel.ErrorMessage(err))
		return
	}
	res := s.Business.SubmitAll(r.Context(), s.Central, currentCompanyUser(r).Company, rows, s.now)
	s.renderBusinessDashboard(w, r, http.StatusOK, &res, "")
}
