package server

import (
	"net/http"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/sync/changelog"
)

// AuthorizeSite checks that a request without a body (a download poll)
// comes from site and is fresh: it carries changelog.SignRequest's headers
// for that site, signed by the site's active key at a time within
// changelog.FreshWindow of central's clock, with a nonce never used before
// (central.Central.VerifySiteRequest uses it up). It is meant for
// Server.Authorize (set it to s.AuthorizeSite). Refusals (a replay
// included) are EUNAUTHORIZED or EFORBIDDEN errors, logged and recorded as
// rejections. An older appliance's request without a nonce passes; see
// sealTo for what it does not get.
func (s *Server) AuthorizeSite(r *http.Request, site string) error {
	req, err := changelog.ParseRequest(r)
	if err == nil && req.Site != site {
		err = veedel.Errorf(veedel.EFORBIDDEN, "request signed for site %s asks for site %s", req.Site, site)
	}
	if err == nil {
		err = s.Central.VerifySiteRequest(r.Context(), req)
	}
	switch veedel.ErrorCode(err) {
	case "":
		return nil
	case veedel.EUNAUTHORIZED, veedel.EFORBIDDEN:
		keyID := ""
		if req.KeyID != nil {
			keyID = changelog.KeyIDString(req.KeyID)
		}
		s.reject(r, central.Rejection{Site: site, KeyID: keyID, Status: web.Status(err), Reason: veedel.ErrorMessage(err), SignedBySite: central.SignedBySite(err)})
	default:
		s.Logger.Error("authorize site request", "site", site, "err", err)
	}
	return err
}

// sealTo returns the box key a poll that passed Authorize asks central to
// seal personal data to: nil unless the request has a nonce (only then
// does its signature cover the key, and only then can it not be replayed).
// A poll without one gets no personal data.
func sealTo(r *http.Request) []byte {
	req, err := changelog.ParseRequest(r)
	if err != nil || req.Nonce == nil {
		return nil
	}
	return req.BoxKey
}
