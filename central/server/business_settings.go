package server

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central/business"
	"github.com/veedel/veedel/internal/login"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/ui"
)

// A company admin's page (/unternehmen/einstellungen): the users, the API
// keys (a new key is shown once, then only its name and id), the webhook
// (a new secret is shown once); and central's admins' page of the
// companies (/admin/unternehmen).

type businessSettingsData struct {
	Frame      businessFrame
	Users      []business.User
	Keys       []business.APIKey
	Webhook    string
	HasSecret  bool
	NewKey     string // shown once
	NewKeyName string
	NewSecret  string // shown once
	Form       map[string]string
	Fields     map[string]string
}

func (s *Server) renderBusinessError(w http.ResponseWriter, r *http.Request, err error) {
	status := web.Status(err)
	if status >= 500 {
		s.Logger.Error("business request failed", "route", web.Route(r), "err", err)
	}
	lang := ui.Lang(w, r)
	w.Header().Set("Cache-Control", "no-store")
	s.Renderer.Render(w, status, "error", ui.Page{Lang: lang, Title: ui.Translate(lang, "error.title"), Surface: "admin", Path: r.URL.Path,
		Data: adminErrorData{Message: veedel.ErrorMessage(err), Back: businessPath}})
}

func (s *Server) businessSettings(w http.ResponseWriter, r *http.Request) {
	s.renderBusinessSettings(w, r, http.StatusOK, businessSettingsData{}, "")
}

func (s *Server) renderBusinessSettings(w http.ResponseWriter, r *http.Request, status int, d businessSettingsData, errMsg string) {
	u := currentCompanyUser(r)
	var err error
	if d.Users, err = s.Business.Users(r.Context(), u.Company); err != nil {
		s.renderBusinessError(w, r, err)
		return
	}
	if d.Keys, err = s.Business.APIKeys(r.Context(), u.Company); err != nil {
		s.renderBusinessError(w, r, err)
		return
	}
	c, err := s.Business.Company(r.Context(), u.Company)
	if err != nil {
		s.renderBusinessError(w, r, err)
		return
	}
	d.Webhook, d.HasSecret = c.WebhookURL, c.HasSecret
	d.Frame = s.companyFrame(r.Context(), u, "settings")
	lang := ui.Lang(w, r)
	w.Header().Set("Cache-Control", "no-store")
	s.Renderer.Render(w, status, "business_settings", ui.Page{Lang: lang, Title: ui.Translate(lang, "biz.settings"), Surface: "admin",
		Path: businessPath + "/einstellungen", Error: errMsg, Data: d})
}

// formFailed shows a refused form again with the messages by field.
func (s *Server) settingsFailed(w http.ResponseWriter, r *http.Request, d businessSettingsData, err error) {
	d.Fields = veedel.ErrorFields(err)
	s.renderBusinessSettings(w, r, web.Status(err), d, veedel.ErrorMessage(err))
}

func (s *Server) businessAddUser(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.renderBusinessError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	u := currentCompanyUser(r)
	name, role, password := strings.TrimSpace(r.PostForm.Get("name")), r.PostForm.Get("role"), r.PostForm.Get("password")
	d := businessSettingsData{Form: map[string]string{"name": name, "role": role}}
	if err := addCompanyUser(r, s.Business, u.Company, name, role, password, s); err != nil {
		s.settingsFailed(w, r, d, err)
		return
	}
	http.Redirect(w, r, businessPath+"/einstellungen", http.StatusSeeOther)
}

// addCompanyUser checks the password's strength and stores the user.
func addCompanyUser(r *http.Request, store *business.Store, company, name, role, password string, s *Server) error {
	if err := business.CheckID("name", name); err != nil {
		return err
	}
	if err := login.CheckNewPassword(name, password); err != nil {
		return veedel.FieldErrors{"password": veedel.ErrorMessage(err)}.Err(veedel.ErrorMessage(err))
	}
	hash, err := login.HashPassword(password)
	if err != nil {
		return err
	}
	return store.PutUser(r.Context(), company, name, role, hash, s.now())
}

func (s *Server) businessCreateKey(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.renderBusinessError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	k, key, err := s.Business.CreateAPIKey(r.Context(), currentCompanyUser(r).Company, r.PostForm.Get("key_name"), s.now())
	if err != nil {
		if f := veedel.ErrorFields(err); f["name"] != "" {
			err = veedel.FieldErrors{"key_name": f["name"]}.Err(veedel.ErrorMessage(err))
		}
		s.settingsFailed(w, r, businessSettingsData{}, err)
		return
	}
	s.renderBusinessSettings(w, r, http.StatusCreated, businessSettingsData{NewKey: key, NewKeyName: k.Name}, "")
}

func (s *Server) businessRevokeKey(w http.ResponseWriter, r *http.Request) {
	if err := s.Business.RevokeAPIKey(r.Context(), currentCompanyUser(r).Company, chi.URLParam(r, "id"), s.now()); err != nil {
		s.renderBusinessError(w, r, err)
		return
	}
	http.Redirect(w, r, businessPath+"/einstellungen", http.StatusSeeOther)
}

// checkWebhookURL checks an endpoint as it is saved (business.CheckEndpoint).
func (s *Server) checkWebhookURL(ctx context.Context, raw string) error {
	var r business.Resolver = net.DefaultResolver
	if s.WebhookResolver != nil {
		r = s.WebhookResolver
	}
	return business.CheckEndpoint(ctx, raw, s.WebhookAllowPrivate, r)
}

func (s *Server) businessSetWebhook(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.renderBusinessError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	company := currentCompanyUser(r).Company
	raw := strings.TrimSpace(r.PostForm.Get("webhook_url"))
	d := businessSettingsData{Form: map[string]string{"webhook_url": raw}}
	if raw != "" {
		if err := s.checkWebhookURL(r.Context(), raw); err != nil {
			s.settingsFailed(w, r, d, err)
			return
		}
	}
	c, err := s.Business.Company(r.Context(), company)
	if err != nil {
		s.renderBusinessError(w, r, err)
		return
	}
	var sealed []byte
	if !c.HasSecret || r.PostForm.Get("new_secret") != "" {
		key, err := s.businessKey(r.Context())
		if err != nil {
			s.renderBusinessError(w, r, err)
			return
		}
		if d.NewSecret, sealed, err = business.NewWebhookSecret(key, company); err != nil {
			s.renderBusinessError(w, r, err)
			return
		}
	}
	if err := s.Business.SetWebhook(r.Context(), company, raw, sealed); err != nil {
		s.renderBusinessError(w, r, err)
		return
	}
	if d.NewSecret == "" {
		http.Redirect(w, r, businessPath+"/einstellungen", http.StatusSeeOther)
		return
	}
	s.renderBusinessSettings(w, r, http.StatusOK, businessSettingsData{NewSecret: d.NewSecret}, "")
}

// Central's admins' page of the companies.

type adminBusinessData struct {
	Frame     adminFrame
	Companies []business.Company
	Form      map[string]string
	Fields    map[string]string
	Created   string
}

func (s *Server) adminBusiness(w http.ResponseWriter, r *http.Request) {
	s.renderAdminBusiness(w, r, http.StatusOK, adminBusinessData{Created: r.URL.Query().Get("neu")}, "")
}

func (s *Server) renderAdminBusiness(w http.ResponseWriter, r *http.Request, status int, d adminBusinessData, errMsg string) {
	var err error
	if d.Companies, err = s.Business.Companies(r.Context()); err != nil {
		s.renderAdminError(w, r, err)
		return
	}
	d.Frame = s.frame(r, "business")
	lang := ui.Lang(w, r)
	w.Header().Set("Cache-Control", "no-store")
	s.Renderer.Render(w, status, "admin_business", ui.Page{Lang: lang, Title: ui.Translate(lang, "biz.admin.title"), Surface: "admin",
		Path: "/admin/unternehmen", Error: errMsg, Data: d})
}

// adminAddCompany creates a company and its first company admin.
func (s *Server) adminAddCompany(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.renderAdminError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	f := r.PostForm
	d := adminBusinessData{Form: map[string]string{"id": strings.TrimSpace(f.Get("id")), "name": f.Get("name"), "admin": strings.TrimSpace(f.Get("admin"))}}
	fail := func(err error) {
		d.Fields = veedel.ErrorFields(err)
		s.renderAdminBusiness(w, r, web.Status(err), d, veedel.ErrorMessage(err))
	}
	id, admin, password := d.Form["id"], d.Form["admin"], f.Get("password")
	if err := business.CheckID("admin", admin); err != nil {
		fail(err)
		return
	}
	if err := login.CheckNewPassword(admin, password); err != nil {
		fail(veedel.FieldErrors{"password": veedel.ErrorMessage(err)}.Err(veedel.ErrorMessage(err)))
		return
	}
	if err := s.Business.CreateCompany(r.Context(), id, d.Form["name"], s.now()); err != nil {
		fail(err)
		return
	}
	if err := addCompanyUser(r, s.Business, id, admin, business.RoleAdmin, password, s); err != nil {
		fail(err)
		return
	}
	http.Redirect(w, r, "/admin/unternehmen?neu="+url.QueryEscape(id), http.StatusSeeOther)
}
