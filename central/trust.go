package central

import (
	"context"
	"crypto/ed25519"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/sync/changelog"
)

// Trust: every site signs its batches with its own ed25519 key. Central
// learns the key when the site enrolls with a one-time token an operator
// created (`veedel central enroll`), and refuses, before anything is
// stored, every batch that is unsigned, signed by an unknown or revoked
// key, signed by another site's key, or whose signature does not verify.
// Refusals are recorded so that admins can see them.

// DefaultEnrollTTL is how long an enrollment token stays valid by default.
const DefaultEnrollTTL = 24 * time.Hour

// maxRecordedText bounds what a rejection record keeps of strings a client
// chose (the claimed site), so that junk cannot bloat the table.
const maxRecordedText = 200

// TrustStore keeps enrollment tokens, the sites' public keys and the
// record of rejected batches. Every LogStore is one.
type TrustStore interface {
	// CreateEnrollmentToken stores the SHA-256 of a new random token (at
	// least 128 bits) for site, valid until expires, and returns the token.
	CreateEnrollmentToken(ctx context.Context, site string, now, expires time.Time) (string, error)
	// Enroll consumes the token and makes pub site's only active key,
	// revoking the previous one, in one transaction. An unknown, used,
	// expired or other site's token is an EUNAUTHORIZED error; a repeat of
	// the enrollment that consumed the token (same site, same key, still
	// active: a retry after a lost answer) succeeds again.
	Enroll(ctx context.Context, site, token string, pub ed25519.PublicKey, at time.Time) (SiteKey, error)
	// KeysByID returns every key, of any site, active or revoked, whose
	// key id is id.
	KeysByID(ctx context.Context, id []byte) ([]SiteKey, error)
	// SiteKeys returns every key of every site, active and revoked.
	SiteKeys(ctx context.Context) ([]SiteKey, error)
	// RevokeSiteKeys revokes the site's active key and returns the keys
	// revoked (none if the site had no active key).
	RevokeSiteKeys(ctx context.Context, site string, at time.Time) ([]SiteKey, error)
	// RecordRejection stores a rejection, keeping only the newest ones.
	RecordRejection(ctx context.Context, r Rejection) error
	// Rejections returns the newest limit rejections, newest first.
	Rejections(ctx context.Context, limit int) ([]Rejection, error)
}

// SiteKey is a site's enrolled public key.
type SiteKey struct {
	Site       string            `json:"site"`
	KeyID      string            `json:"key_id"` // changelog.KeyIDString
	PublicKey  ed25519.PublicKey `json:"public_key"`
	EnrolledAt time.Time         `json:"enrolled_at"`
	RevokedAt  time.Time         `json:"revoked_at,omitzero"` // zero while active
}

// Active reports whether the key is not revoked.
func (k SiteKey) Active() bool { return k.RevokedAt.IsZero() }

// Rejection is a batch (or an enrollment) central refused, as the admin
// page lists it. It holds no personal data: the site is as the client
// claimed it, the remote address is the appliance's or an attacker's.
type Rejection struct {
	At         time.Time `json:"at"`
	Site       string    `json:"site"`             // as claimed, may be anything
	KeyID      string    `json:"key_id,omitempty"` // as claimed
	Status     int       `json:"status"`           // the HTTP status answered
	Reason     string    `json:"reason"`
	RemoteAddr string    `json:"remote_addr"`
	Entries    int       `json:"entries"`
}

// authenticate checks that b is signed by its site's active key. It runs
// before anything of the batch is stored. Errors are EUNAUTHORIZED (unsigned,
// unknown key, bad signature) or EFORBIDDEN (a revoked key, another site's
// key), or an internal error when the keys cannot be read.
func (c *Central) authenticate(ctx context.Context, b *changelog.Batch) error {
	if len(b.Sig) == 0 || len(b.KeyID) == 0 {
		return veedel.Errorf(veedel.EUNAUTHORIZED, "batch is not signed: enroll the appliance (veedel central enroll -site %s) and run a version that signs", b.Site)
	}
	return c.checkSiteKey(ctx, b.Site, b.KeyID, b.VerifySignature)
}

// VerifySiteRequest checks a request a site signed with
// changelog.SignRequest: its time is within changelog.MaxRequestSkew of
// central's clock and it is signed by the site's active key. Errors as for
// batches: EUNAUTHORIZED or EFORBIDDEN.
func (c *Central) VerifySiteRequest(ctx context.Context, req changelog.RequestSignature) error {
	if d := c.now().Sub(req.At); d > changelog.MaxRequestSkew || d < -changelog.MaxRequestSkew {
		return veedel.Errorf(veedel.EUNAUTHORIZED, "request signed at %s, more than %v from central's clock: check the appliance's clock", req.At.UTC().Format(time.RFC3339), changelog.MaxRequestSkew)
	}
	return c.checkSiteKey(ctx, req.Site, req.KeyID, req.Verify)
}

// checkSiteKey finds the key keyID among site's keys and verifies with it.
func (c *Central) checkSiteKey(ctx context.Context, site string, keyID []byte, verify func(ed25519.PublicKey) error) error {
	keys, err := c.store.KeysByID(ctx, keyID)
	if err != nil {
		return err
	}
	var revoked, foreign *SiteKey
	for i := range keys {
		k := &keys[i]
		switch {
		case k.Site != site:
			foreign = k
		case k.Active():
			return verify(k.PublicKey)
		default:
			revoked = k
		}
	}
	id := changelog.KeyIDString(keyID)
	switch {
	case revoked != nil:
		return veedel.Errorf(veedel.EFORBIDDEN, "key %s of site %s was revoked at %s: enroll the appliance again", id, site, revoked.RevokedAt.UTC().Format(time.RFC3339))
	case foreign != nil:
		return veedel.Errorf(veedel.EFORBIDDEN, "signed for site %s with key %s, which belongs to another site", site, id)
	default:
		return veedel.Errorf(veedel.EUNAUTHORIZED, "unknown key %s for site %s: enroll the appliance (veedel central enroll -site %s)", id, site, site)
	}
}

// Enroll registers a site's public key with a one-time token and returns
// the key. Token errors are EUNAUTHORIZED, a malformed request EINVALID.
func (c *Central) Enroll(ctx context.Context, e changelog.Enrollment) (SiteKey, error) {
	switch {
	case e.Site == "" || len(e.Site) > 64:
		return SiteKey{}, veedel.Errorf(veedel.EINVALID, "enrollment without a valid site")
	case e.Token == "" || len(e.Token) > 256:
		return SiteKey{}, veedel.Errorf(veedel.EINVALID, "enrollment without a valid token")
	case len(e.PublicKey) != ed25519.PublicKeySize:
		return SiteKey{}, veedel.Errorf(veedel.EINVALID, "public key has %d bytes, want %d (ed25519)", len(e.PublicKey), ed25519.PublicKeySize)
	}
	k, err := c.store.Enroll(ctx, e.Site, e.Token, ed25519.PublicKey(e.PublicKey), c.now())
	if err != nil {
		return SiteKey{}, err
	}
	c.log.Info("site enrolled", "site", k.Site, "key_id", k.KeyID)
	return k, nil
}

// RecordRejection logs a refused batch or enrollment (without the remote
// address) and records it for the admin page. It never fails the request:
// a failure to record is logged.
func (c *Central) RecordRejection(ctx context.Context, r Rejection) {
	if r.At.IsZero() {
		r.At = c.now()
	}
	r.Site, r.Reason, r.RemoteAddr = clip(r.Site), clip(r.Reason), clip(r.RemoteAddr)
	c.log.Warn("sync request rejected", "site", r.Site, "key_id", r.KeyID, "status", r.Status, "entries", r.Entries, "reason", r.Reason)
	// The request may be gone already; the record should still be written.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := c.store.RecordRejection(ctx, r); err != nil {
		c.log.Error("record rejection", "site", r.Site, "err", err)
	}
}

// Rejections returns the newest limit rejected batches and enrollments,
// newest first, for the admin page.
func (c *Central) Rejections(ctx context.Context, limit int) ([]Rejection, error) {
	return c.store.Rejections(ctx, limit)
}

// SiteKeys returns every site's keys, active and revoked, for the admin
// page.
func (c *Central) SiteKeys(ctx context.Context) ([]SiteKey, error) {
	return c.store.SiteKeys(ctx)
}

func clip(s string) string {
	if len(s) <= maxRecordedText {
		return s
	}
	// Cut at a rune boundary.
	cut := maxRecordedText
	for cut > 0 && s[cut]&0xc0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
