package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/sync/changelog"
)

// postBatch is the sync ingest endpoint. The contract with the appliance's
// uplink:
//
//   - request: one CBOR changelog.Batch, Content-Type application/cbor (or
//     none), at most changelog.MaxBatchBytes;
//   - response: a changelog.Ack, CBOR (application/cbor), or JSON when the
//     Accept header asks for application/json before application/cbor;
//   - 200: every entry is stored (a resend of stored entries and an empty
//     heartbeat batch included); Acked is the site's highest stored seq;
//   - 400: the batch is malformed, truncated, too large or fails its own
//     checks (a hash, the site, the order); nothing is stored; Error says
//     why; Site and Acked tell central's position when the site could be read;
//   - 401: the batch is not signed, or signed by a key central does not
//     know, or its signature does not verify, or it has a nonce and was
//     sent more than changelog.FreshWindow from central's clock (the Date
//     header says central's time) or was received before (a replay);
//     403: it is
//     signed by a revoked key or by another site's key (a batch replayed
//     for another site). Nothing is stored; Error says why; Acked is 0 and
//     means nothing. The site must be enrolled (again): see enroll.go;
//   - 409: the batch does not continue central's chain (a gap or a fork);
//     the entries before the break are stored; resume after Acked;
//   - 500: central failed; nothing is lost by resending later.
//
// Every 400, 401 and 403 is logged and recorded as a rejection (see
// rejections.go).
func (s *Server) postBatch(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/cbor" {
			ack := changelog.Ack{Error: "Content-Type must be application/cbor, not " + mt}
			s.reject(r, central.Rejection{Status: http.StatusBadRequest, Reason: ack.Error})
			s.writeAck(w, r, http.StatusBadRequest, ack)
			return
		}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, changelog.MaxBatchBytes))
	if err != nil {
		msg := "batch unreadable: " + err.Error()
		if mb := (*http.MaxBytesError)(nil); errors.As(err, &mb) {
			msg = fmt.Sprintf("batch larger than %d bytes: send fewer entries", changelog.MaxBatchBytes)
		}
		s.reject(r, central.Rejection{Status: http.StatusBadRequest, Reason: msg})
		s.writeAck(w, r, http.StatusBadRequest, changelog.Ack{Error: msg})
		return
	}
	b, err := changelog.ReadBatch(bytes.NewReader(data))
	if err != nil {
		ack := s.position(data)
		ack.Error = veedel.ErrorMessage(err)
		s.reject(r, central.Rejection{Site: ack.Site, Status: web.Status(err), Reason: ack.Error})
		s.writeAck(w, r, web.Status(err), ack)
		return
	}
	ack, err := s.Central.Ingest(r.Context(), b)
	switch veedel.ErrorCode(err) {
	case "":
		s.writeAck(w, r, http.StatusOK, ack)
	case veedel.EUNAUTHORIZED, veedel.EFORBIDDEN:
		ack.Error = veedel.ErrorMessage(err)
		s.reject(r, central.Rejection{Site: b.Site, KeyID: changelog.KeyIDString(b.KeyID), Status: web.Status(err), Reason: ack.Error, Entries: len(b.Entries), SignedBySite: central.SignedBySite(err)})
		s.writeAck(w, r, web.Status(err), ack)
	case veedel.ECONFLICT:
		s.Logger.Warn("sync conflict", "site", b.Site, "acked", ack.Acked, "err", err)
		ack.Error = veedel.ErrorMessage(err)
		s.writeAck(w, r, http.StatusConflict, ack)
	default:
		s.Logger.Error("sync ingest", "site", b.Site, "entries", len(b.Entries), "err", err)
		ack.Error = veedel.ErrorMessage(err)
		s.writeAck(w, r, http.StatusInternalServerError, ack)
	}
}

// position reads only the site of a batch that failed its checks, and
// returns central's acked seq for it, so that even a refusal tells the
// site where central stands.
func (s *Server) position(data []byte) changelog.Ack {
	var head struct {
		Site string `cbor:"1,keyasint"`
	}
	if changelog.Unmarshal(data, &head) != nil || head.Site == "" {
		return changelog.Ack{}
	}
	ack := changelog.Ack{Site: head.Site}
	s.Central.ViewSite(head.Site, func(_ *queue.State, cur central.SiteCursor) { ack.Acked = cur.Acked })
	return ack
}

// writeAck sends an Ack as CBOR, or as JSON when the client prefers it,
// dated by central's clock (syncDate).
func (s *Server) writeAck(w http.ResponseWriter, r *http.Request, status int, ack changelog.Ack) {
	s.syncDate(w)
	w.Header().Set("Cache-Control", "no-store")
	if wantsJSON(r) {
		web.JSON(w, status, ack)
		return
	}
	data, err := changelog.Marshal(ack)
	if err != nil {
		s.Logger.Error("encode ack", "err", err)
		web.JSON(w, http.StatusInternalServerError, map[string]string{"error": veedel.ErrorMessage(err)})
		return
	}
	w.Header().Set("Content-Type", "application/cbor")
	w.WriteHeader(status)
	w.Write(data)
}

// wantsJSON reports whether the Accept header names application/json before
// (or without) application/cbor. Quality values other than 0 are ignored.
func wantsJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || params["q"] == "0" || params["q"] == "0.0" {
			continue
		}
		switch mt {
		case "application/cbor":
			return false
		case "application/json":
			return true
		}
	}
	return false
}
