package server

import (
	"net/http"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/ui"
)

// The sites page: central's site directory (central/sites.go), with forms
// to add a site and to change one. A site added here can be enrolled
// (veedel central enroll); the portal and the open data name, group and
// link it as its record says.

type sitesData struct {
	Frame adminFrame
	Sites []siteRow
}

type siteRow struct {
	central.Site
	Enrolled    bool      // it has an active key
	LastContact time.Time // zero: it never sent its log
}

func (s *Server) adminSites(w http.ResponseWriter, r *http.Request) {
	lang := ui.Lang(w, r)
	dir, err := s.Central.Directory(r.Context())
	if err != nil {
		s.renderAdminError(w, r, err)
		return
	}
	keys, err := s.Central.SiteKeys(r.Context())
	if err != nil {
		s.renderAdminError(w, r, err)
		return
	}
	enrolled := map[string]bool{}
	for _, k := range keys {
		if k.Active() {
			enrolled[k.Site] = true
		}
	}
	contact := map[string]time.Time{}
	for _, sum := range s.Central.Sites() {
		contact[sum.ID] = sum.LastSync.In(berlin)
	}
	d := sitesData{Frame: s.frame(r, "sites")}
	for _, site := range dir {
		d.Sites = append(d.Sites, siteRow{Site: site, Enrolled: enrolled[site.ID], LastContact: contact[site.ID]})
	}
	flash := ""
	switch r.URL.Query().Get("saved") {
	case "added":
		flash = ui.Translate(lang, "admin.sites.added", r.URL.Query().Get("site"))
	case "changed":
		flash = ui.Translate(lang, "admin.sites.changed")
	}
	s.renderAdmin(w, r, http.StatusOK, "admin_sites", "admin.sites.title", "", flash, d)
}

type siteFormData struct {
	Frame adminFrame
	New   bool
	Form  central.Site
	Kinds []central.SiteKind
	// Field is the field the error is about ("id", "name", …), Error the
	// message shown next to it.
	Field, Error string
	// Existing is the site whose ID a new site wanted: the error links it.
	Existing string
	// FourEyes is a registration site's four-eyes setting as its log set
	// it (nil for other sites).
	FourEyes *siteFourEyes
}

// siteFourEyes is what the site page shows of the setting.
type siteFourEyes struct {
	On      bool
	Changed string // who changed it and when, "" while never set
}

// adminSiteForm shows the form for a new site (/admin/sites/new) or for
// changing one (/admin/sites/{site}).
func (s *Server) adminSiteForm(w http.ResponseWriter, r *http.Request) {
	d := siteFormData{Frame: s.frame(r, "sites"), New: true, Kinds: central.SiteKinds, Form: central.Site{Kind: central.KindCustomerCentre}}
	title := "admin.site.new"
	if id := chi.URLParam(r, "site"); id != "" {
		site, err := s.Central.DirectorySite(r.Context(), id)
		if err != nil {
			if veedel.ErrorCode(err) == veedel.ENOTFOUND {
				err = veedel.Errorf(veedel.ENOTFOUND, "%s", ui.Translate(ui.Lang(w, r), "admin.site.unknown"))
			}
			s.renderAdminError(w, r, err)
			return
		}
		d.New, d.Form, title = false, site, "admin.site.edit"
		if model := s.Central.VehicleApplications(); model != nil {
			st, set := model.Settings(site.ID)
			if set || site.Kind == central.KindVehicleRegistration {
				d.FourEyes = &siteFourEyes{On: st.FourEyes}
				if set {
					d.FourEyes.Changed = ui.Translate(ui.Lang(w, r), "kfz.foureyes.changed", st.By, st.At.In(cologne).Format("02.01.2006 15:04"))
				}
			}
		}
	}
	s.renderAdmin(w, r, http.StatusOK, "admin_site", title, "", "", d)
}

// adminSaveSite adds a site (new=1) or changes one. Bad input shows the
// form again with the message next to its field and status 400; nothing
// is saved then.
func (s *Server) adminSaveSite(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		s.renderAdminError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	f := r.PostForm
	d := siteFormData{Frame: s.frame(r, "sites"), New: f.Get("new") == "1", Kinds: central.SiteKinds,
		Form: central.Site{ID: f.Get("id"), Name: f.Get("name"), Kind: central.SiteKind(f.Get("kind")),
			Page: f.Get("page"), Address: f.Get("address")}}
	d.Form.Normalize()
	field, err := d.Form.Check()
	if err == nil {
		if d.New {
			err = s.Central.AddSite(r.Context(), d.Form)
		} else {
			err = s.Central.UpdateSite(r.Context(), d.Form)
		}
		if veedel.ErrorCode(err) == veedel.ECONFLICT {
			field, d.Existing = "id", d.Form.ID
			err = veedel.Errorf(veedel.ECONFLICT, "%s", ui.Translate(ui.Lang(w, r), "admin.site.exists", d.Form.ID))
		}
	}
	if err != nil {
		switch veedel.ErrorCode(err) {
		case veedel.EINVALID, veedel.ECONFLICT:
		default: // EINTERNAL, or ENOTFOUND: a site that is gone
			s.renderAdminError(w, r, err)
			return
		}
		d.Field, d.Error = field, ui.InLang(ui.Lang(w, r), veedel.ErrorMessage(err))
		title, path := "admin.site.edit", "/admin/sites/"+url.PathEscape(d.Form.ID)
		if d.New {
			title, path = "admin.site.new", "/admin/sites/new"
		}
		s.renderAdminAt(w, r, path, http.StatusBadRequest, "admin_site", title, "", "", d)
		return
	}
	s.Logger.Info("admin saved a site", "admin", currentAdmin(r).Name, "site", d.Form.ID, "new", d.New)
	if d.New {
		http.Redirect(w, r, "/admin/sites?saved=added&site="+url.QueryEscape(d.Form.ID), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/admin/sites?saved=changed", http.StatusSeeOther)
}
