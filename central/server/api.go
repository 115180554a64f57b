package server

import (
	"net/http"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/internal/web"
)

// apiSites lists every site's summary.
func (s *Server) apiSites(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	web.JSON(w, http.StatusOK, s.Central.Sites())
}

// apiTicket answers a ticket's status by its token.
func (s *Server) apiTicket(w http.ResponseWriter, r *http.Request) {
	t, ok := s.ticket(r)
	if !ok {
		s.apiNotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	web.JSON(w, http.StatusOK, t)
}

func (s *Server) apiNotFound(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	web.Error(w, r, veedel.Errorf(veedel.ENOTFOUND, "Ticket nicht gefunden / ticket not found"))
}
