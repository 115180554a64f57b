package server

import (
	"net/http"
	"strconv"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/web"
)

// Rejections: every sync request central refuses (a malformed, unsigned,
// wrongly signed, stale or replayed batch or poll, a bad enrollment) is
// counted per source, kind (the route) and status by
// central.Central.RecordRejection, which also throttles its logging and
// storing, and listed here, the aggregates seen last first.

const (
	defaultRejections = 100
	maxRejections     = 1000
)

// reject records a refused sync request with the peer's address and the
// route as its kind.
func (s *Server) reject(r *http.Request, rej central.Rejection) {
	rej.RemoteAddr = r.RemoteAddr
	rej.Kind = r.Method + " " + web.Route(r)
	s.Central.RecordRejection(r.Context(), rej)
}

// apiRejections answers GET /api/v1/sync/rejections[?limit=N] with the N
// (default 100, at most 1000) aggregates seen last as JSON: source, kind,
// status, count, first_at, at (last seen), and the newest one's site (as
// claimed), key_id, reason, remote_addr and entries.
//
// Admins only: server.go serves it behind the admin login (requireAdminAPI,
// admin.go); the handler itself checks nothing, and it lists remote
// addresses. The admin page lists the same records through
// central.Central.Rejections.
func (s *Server) apiRejections(w http.ResponseWriter, r *http.Request) {
	limit := defaultRejections
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxRejections {
			web.Error(w, r, veedel.Errorf(veedel.EINVALID, "limit must be a number from 1 to %d", maxRejections))
			return
		}
		limit = n
	}
	rejections, err := s.Central.Rejections(r.Context(), limit)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	web.JSON(w, http.StatusOK, rejections)
}
