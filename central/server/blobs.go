package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/sync/blob"
	"github.com/veedel/veedel/sync/changelog"
)

// The chunk protocol of blob sync (sync/blob's transfer.go is the site's
// end; docs/SYNC.md, "Files"). Every request is signed by the site's
// enrolled key, fresh and single-use (Authorize), for the site named in
// the query. Central gives a site only files its outbound log references
// and takes from it only files its own log references
// (central.Central.BlobForSite, BlobFromSite), never more bytes than the
// referenced size:
//
//   - GET  /api/v1/sync/blobs/{sha256}?site=S: an upload's resume point,
//     a blob.Position (the first chunk central does not have; complete
//     once central has the whole file, checked);
//   - PUT  /api/v1/sync/blobs/{sha256}/{i}?site=S&sum=H, body chunk i
//     (application/octet-stream, at most blob.ChunkSize): 200 and the new
//     Position; 400 with blob.HeaderCorrupt when the bytes do not match H
//     (send it again; the signature covers H, so nobody can substitute a
//     body that matches); 409 and the Position when i is not the next
//     chunk central expects; 403 for a file the site's log does not
//     reference (yet: its entry may still be on its way);
//   - GET  /api/v1/sync/blobs/{sha256}/{i}?site=S: chunk i of a file the
//     site's outbound log references, its SHA-256 in blob.HeaderChunkSum;
//     404 while central does not have the file.
//
// A file central erased (sync/blob's release.go: the application's
// keeping time is over) is 410 Gone for all three, with a message: the
// site gives its transfer up instead of asking again.
func (s *Server) blobRoutes(r chi.Router) {
	r.Get("/{sha}", s.getBlobPosition)
	r.Put("/{sha}/{chunk}", s.putBlobChunk)
	r.Get("/{sha}/{chunk}", s.getBlobChunk)
}

// blobRequest checks a chunk request's parameters and signature; it
// answers the refusal itself (ok false).
func (s *Server) blobRequest(w http.ResponseWriter, r *http.Request, withChunk bool) (site, sha string, chunk int, ok bool) {
	site, sha = r.URL.Query().Get("site"), chi.URLParam(r, "sha")
	switch {
	case !sitePattern.MatchString(site):
		web.JSON(w, http.StatusBadRequest, blob.Position{Error: "site must be a site id (a-z, 0-9, -)"})
		return
	case !blob.ValidSHA(sha):
		web.JSON(w, http.StatusBadRequest, blob.Position{Error: "the file must be named by its SHA-256 in lower-case hex"})
		return
	}
	if withChunk {
		n, err := strconv.Atoi(chi.URLParam(r, "chunk"))
		if err != nil || n < 0 {
			web.JSON(w, http.StatusBadRequest, blob.Position{SHA256: sha, Error: "the chunk must be a number (0 or more)"})
			return
		}
		chunk = n
	}
	if err := s.Authorize(r, site); err != nil {
		s.syncDate(w)
		web.JSON(w, web.Status(err), blob.Position{SHA256: sha, Error: veedel.ErrorMessage(err)})
		return
	}
	s.syncDate(w)
	w.Header().Set("Cache-Control", "no-store")
	return site, sha, chunk, true
}

// uploadRequest checks an upload's request (blobRequest) and returns the
// Ref of the file, which site may send up only when its log references
// it; it answers a refusal itself (ok false).
func (s *Server) uploadRequest(w http.ResponseWriter, r *http.Request, withChunk bool) (site string, ref blob.Ref, chunk int, ok bool) {
	site, sha, chunk, ok := s.blobRequest(w, r, withChunk)
	if !ok {
		return "", blob.Ref{}, 0, false
	}
	ref, err := s.Central.BlobFromSite(site, sha)
	if err != nil {
		web.JSON(w, web.Status(err), blob.Position{SHA256: sha, Error: veedel.ErrorMessage(err)})
		return "", blob.Ref{}, 0, false
	}
	return site, ref, chunk, true
}

func (s *Server) getBlobPosition(w http.ResponseWriter, r *http.Request) {
	if _, ref, _, ok := s.uploadRequest(w, r, false); ok {
		s.writePosition(w, r, http.StatusOK, ref, nil)
	}
}

// writePosition answers with central's position for ref, status unless
// failed (then failed's own).
func (s *Server) writePosition(w http.ResponseWriter, r *http.Request, status int, ref blob.Ref, failed error) {
	pos := blob.Position{SHA256: ref.SHA256, Chunks: blob.NumChunks(ref.Size)}
	next, err := s.Central.Blobs().Next(r.Context(), ref)
	if err != nil {
		if blobStatus(err) >= 500 {
			s.Logger.Error("blob position", "sha256", ref.SHA256, "err", err)
		}
		web.JSON(w, blobStatus(err), blob.Position{SHA256: ref.SHA256, Error: veedel.ErrorMessage(err)})
		return
	}
	pos.Next, pos.Complete = next, next >= pos.Chunks
	if failed != nil {
		pos.Error, status = veedel.ErrorMessage(failed), web.Status(failed)
	}
	web.JSON(w, status, pos)
}

func (s *Server) putBlobChunk(w http.ResponseWriter, r *http.Request) {
	site, ref, chunk, ok := s.uploadRequest(w, r, true)
	if !ok {
		return
	}
	sha := ref.SHA256
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, blob.ChunkSize))
	if err != nil {
		msg := "chunk unreadable: " + err.Error()
		if mb := (*http.MaxBytesError)(nil); errors.As(err, &mb) {
			msg = fmt.Sprintf("a chunk has at most %d bytes", blob.ChunkSize)
		}
		web.JSON(w, http.StatusBadRequest, blob.Position{SHA256: sha, Error: msg})
		return
	}
	_, err = s.Central.Blobs().Receive(r.Context(), ref, chunk, data, r.URL.Query().Get("sum"))
	switch {
	case errors.Is(err, blob.ErrCorrupt):
		s.Logger.Warn("corrupt chunk refused", "site", site, "sha256", sha[:12], "chunk", chunk)
		w.Header().Set(blob.HeaderCorrupt, "1")
		// The request's signature verified: counted under the site.
		s.reject(r, central.Rejection{Site: site, KeyID: r.Header.Get(changelog.HeaderKeyID), Status: http.StatusBadRequest, Reason: veedel.ErrorMessage(err), SignedBySite: true})
		s.writePosition(w, r, 0, ref, err)
	case veedel.ErrorCode(err) == veedel.EINTERNAL:
		s.Logger.Error("store chunk", "site", site, "sha256", sha[:12], "chunk", chunk, "err", err)
		web.JSON(w, http.StatusInternalServerError, blob.Position{SHA256: sha, Error: veedel.ErrorMessage(err)})
	default:
		s.writePosition(w, r, http.StatusOK, ref, err)
	}
}

// blobStatus is the HTTP status of a store's error: 410 Gone for a file
// erased here (its keeping time is over: the site stops asking), else as
// web.Status maps its code.
func blobStatus(err error) int {
	if errors.Is(err, blob.ErrErased) {
		return http.StatusGone
	}
	return web.Status(err)
}

func (s *Server) getBlobChunk(w http.ResponseWriter, r *http.Request) {
	site, sha, chunk, ok := s.blobRequest(w, r, true)
	if !ok {
		return
	}
	if _, err := s.Central.BlobForSite(site, sha); err != nil {
		web.JSON(w, web.Status(err), blob.Position{SHA256: sha, Error: veedel.ErrorMessage(err)})
		return
	}
	_, data, err := s.Central.Blobs().ReadChunk(r.Context(), sha, chunk)
	if err != nil {
		if veedel.ErrorCode(err) == veedel.EINTERNAL {
			s.Logger.Error("read chunk", "site", site, "sha256", sha[:12], "chunk", chunk, "err", err)
		}
		web.JSON(w, blobStatus(err), blob.Position{SHA256: sha, Error: veedel.ErrorMessage(err)})
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Header().Set(blob.HeaderChunkSum, blob.ChunkSum(data))
	w.WriteHeader(http.StatusOK)
	w.Write(data)
}
