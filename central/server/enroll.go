package server

import (
	"net/http"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/sync/changelog"
)

// postEnroll is where an appliance registers its public key. The contract
// with the uplink:
//
//   - request: JSON changelog.Enrollment {"site", "token", "public_key"
//     (standard base64 of the 32-byte ed25519 key)}; the token comes from
//     `veedel central enroll -site SITE` and is good for one enrollment;
//   - 200: JSON changelog.Enrolled {"site", "key_id"}; the key is now the
//     site's only active key (a previous one is revoked). Repeating the
//     same enrollment (same token, site and key) answers 200 again, so a
//     lost answer is harmless;
//   - 400: malformed request; 401: the token is unknown, already used,
//     expired or issued for another site ({"error": "…"} says which);
//     both are logged and recorded as rejections;
//   - 500: central failed; retrying later is safe.
func (s *Server) postEnroll(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	var req changelog.Enrollment
	err := web.DecodeJSON(r, &req)
	var key central.SiteKey
	if err == nil {
		key, err = s.Central.Enroll(r.Context(), req)
	}
	switch veedel.ErrorCode(err) {
	case "":
		web.JSON(w, http.StatusOK, changelog.Enrolled{Site: key.Site, KeyID: key.KeyID})
	case veedel.EINVALID, veedel.EUNAUTHORIZED:
		keyID := ""
		if len(req.PublicKey) > 0 {
			keyID = changelog.KeyIDString(changelog.KeyID(req.PublicKey))
		}
		s.reject(r, central.Rejection{Site: req.Site, KeyID: keyID, Status: web.Status(err), Reason: "enrollment: " + veedel.ErrorMessage(err)})
		web.Error(w, r, err)
	default:
		s.Logger.Error("enroll", "site", req.Site, "err", err)
		web.Error(w, r, err)
	}
}
