package server

import (
	"net/http"

	"github.com/veedel/veedel/ui"
)

// The failed admin logins (/admin/logins): every wrong password on the
// admin form and the admin API's HTTP Basic, and every lock the login
// throttle set (internal/login), newest first, from central's database.
// For the admin role only: it lists admin names and client addresses.

// shownLogins is how many failed logins the page lists.
const shownLogins = 200

type loginsPageData struct {
	Frame  adminFrame
	Logins ui.LoginList
}

func (s *Server) adminLogins(w http.ResponseWriter, r *http.Request) {
	failures, err := s.Central.LoginFailures(r.Context(), shownLogins)
	if err != nil {
		s.renderAdminError(w, r, err)
		return
	}
	d := loginsPageData{Frame: s.frame(r, "logins"), Logins: ui.LoginFailures(ui.Lang(w, r), failures, shownLogins)}
	s.renderAdmin(w, r, http.StatusOK, "admin_logins", "logins.title", "", "", d)
}
