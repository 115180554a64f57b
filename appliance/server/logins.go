package server

import (
	"net/http"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/ui"
)

// The site lead's list of failed logins (/desk/logins): every wrong
// password on the desk form and the API's HTTP Basic, and every lock the
// login throttle set (internal/login), newest first, from the site
// database. Leads only (requireLead): it shows staff names and the
// addresses of the machines on the LAN.

// shownLogins is how many failed logins the page lists.
const shownLogins = 200

type loginsPage struct {
	SiteName string
	Logins   ui.LoginList
}

func (s *Server) deskLogins(w http.ResponseWriter, r *http.Request) {
	failures, err := s.Store.LoginFailures(r.Context(), shownLogins)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	lang := ui.Lang(w, r)
	p := loginsPage{Logins: ui.LoginFailures(lang, failures, shownLogins)}
	s.Store.View(func(st *queue.State) { p.SiteName = st.Site.Name })
	w.Header().Set("Cache-Control", "no-store")
	s.Renderer.Render(w, http.StatusOK, "desk_logins", ui.Page{Lang: lang, Title: ui.Translate(lang, "logins.title") + " · " + p.SiteName,
		Surface: "desk", Path: r.URL.Path, Data: p})
}
