package server

import (
	"net/http"
	"strconv"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/web"
)

// Rejections: every sync request central refuses (a malformed, unsigned or
// wrongly signed batch, a bad enrollment) is logged and recorded by
// central.Central.RecordRejection, and listed here, newest first.

const (
	defaultRejections = 100
	maxRejections     = 1000
)

// reject records a refused sync request with the peer's address.
func (s *Server) reject(r *http.Request, rej central.Rejection) {
	rej.RemoteAddr = r.RemoteAddr
	s.Central.RecordRejection(r.Context(), rej)
}

// apiRejections answers GET /api/v1/sync/rejections[?limit=N] with the
// newest N (default 100, at most 1000) rejections as JSON: at, site (as
// claimed), key_id, status, reason, remote_addr, entries.
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
