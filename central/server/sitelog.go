package server

import (
	"net/http"
	"strconv"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/sync/changelog"
)

// getSiteLog answers GET /api/v1/sync/log?site=&after=&limit=: a page of
// the site's own change-log as central stores it, for a replacement
// appliance that restores the site (docs/SYNC.md, "Restoring a site").
// The request must be signed by the site's enrolled key, with a nonce
// (changelog.SignRequest, as the downlink's polls), so that only the site
// reads its log and a request cannot be replayed. The answer is a
// changelog.Download (CBOR, or JSON when asked): Entries after after, in
// order, Head the highest seq central stores. Central returns the entries
// as stored: the exam workflow's payloads are ciphertext it cannot open.
func (s *Server) getSiteLog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	site := q.Get("site")
	if !sitePattern.MatchString(site) {
		s.writeDownload(w, r, http.StatusBadRequest, changelog.Download{Error: "site must be a site id (a-z, 0-9, -)"})
		return
	}
	after, err := parseUint(q.Get("after"))
	if err != nil {
		s.writeDownload(w, r, http.StatusBadRequest, changelog.Download{Site: site, Error: "after must be a seq (0 or more)"})
		return
	}
	limit := maxOutboundEntries
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxOutboundEntries {
			s.writeDownload(w, r, http.StatusBadRequest, changelog.Download{Site: site, Error: "limit must be a number from 1 to " + strconv.Itoa(maxOutboundEntries)})
			return
		}
		limit = n
	}
	if err := s.Authorize(r, site); err != nil {
		s.writeDownload(w, r, web.Status(err), changelog.Download{Site: site, Error: veedel.ErrorMessage(err)})
		return
	}
	if req, err := changelog.ParseRequest(r); err != nil || req.Nonce == nil {
		// A request without a nonce could be replayed within the window:
		// the whole log is not given to it.
		s.writeDownload(w, r, http.StatusUnauthorized, changelog.Download{Site: site, Error: "the site's log is given only to a request signed with a nonce (this appliance is too old to restore from central)"})
		return
	}
	// Half the batch limit: the CBOR of a page stays well inside what
	// the appliance reads (changelog.MaxBatchBytes).
	entries, head, err := s.Central.SiteLog(r.Context(), site, after, limit, changelog.MaxBatchBytes/2)
	if err != nil {
		s.Logger.Error("site log", "site", site, "after", after, "err", err)
		s.writeDownload(w, r, http.StatusInternalServerError, changelog.Download{Site: site, Error: veedel.ErrorMessage(err)})
		return
	}
	s.writeDownload(w, r, http.StatusOK, changelog.Download{Site: site, Entries: entries, Head: head})
}
