package central

import (
	"context"
	"crypto/ed25519"
	"errors"
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
	// RecordRejection adds r (r.Count rejections of one source and kind,
	// seen from r.FirstAt to r.At) to the aggregate of its source, kind and
	// status, keeping r's site, key, reason and address as the sample when
	// it is the newest; it keeps a bounded number of aggregates, dropping
	// those seen longest ago.
	RecordRejection(ctx context.Context, r Rejection) error
	// Rejections returns the limit aggregates seen last, newest first.
	Rejections(ctx context.Context, limit int) ([]Rejection, error)
	// UseNonce records that site used nonce in a signed request or batch,
	// remembered until expires, and reports false when the site used it
	// before (a replay). Nonces expired at now are forgotten.
	UseNonce(ctx context.Context, site string, nonce []byte, now, expires time.Time) (bool, error)
	// RecordBoxKey keeps key as the site's box key (X25519 public, from a
	// signed poll), replacing the one before.
	RecordBoxKey(ctx context.Context, site string, key []byte, at time.Time) error
	// BoxKey returns the site's recorded box key, nil when there is none
	// (never polled with one, or its keys were revoked since).
	BoxKey(ctx context.Context, site string) ([]byte, error)
	// Secret returns central's secret called name, made of size random
	// bytes the first time (at) it is asked for.
	Secret(ctx context.Context, name string, size int, at time.Time) ([]byte, error)
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

// Rejection is what central refused from one source: the requests of one
// kind (a route) answered with one status, counted, with when it was first
// and last seen and the newest one's details as a sample (rejections.go).
// It holds no personal data: the site is as the client claimed it, the
// remote address is the appliance's or an attacker's.
type Rejection struct {
	At      time.Time `json:"at"`       // last seen
	FirstAt time.Time `json:"first_at"` // first seen
	Count   int       `json:"count"`
	Source  string    `json:"source"` // the remote host (IPv6: its /64), or "site:" and the site for a rejection SignedBySite
	// SignedBySite marks a rejection whose signature verified with a key
	// of its site (SignedBySite(err)); it is recorded under the site, not
	// the sender (rejections.go).
	SignedBySite bool   `json:"-"`
	Kind         string `json:"kind"`             // what was refused: the route, e.g. "POST /api/v1/sync/batches"
	Site         string `json:"site"`             // as claimed, may be anything (sample)
	KeyID        string `json:"key_id,omitempty"` // as claimed (sample)
	Status       int    `json:"status"`           // the HTTP status answered
	Reason       string `json:"reason"`           // the sample's reason
	RemoteAddr   string `json:"remote_addr"`      // the sample's address
	Entries      int    `json:"entries"`          // the sample's entries
}

// authenticate checks that b is signed by its site's active key and, for a
// batch with a nonce, that it is fresh: sent within changelog.FreshWindow of
// central's clock and its nonce never used before (the nonce is used up
// here). It runs before anything of the batch is stored. fresh reports a
// batch that passed the freshness check; a batch without a nonce (an older
// appliance) is authentic but not fresh. Errors are EUNAUTHORIZED
// (unsigned, unknown key, bad signature, stale, replayed) or EFORBIDDEN (a
// revoked key, another site's key), or an internal error when the keys or
// nonces cannot be read.
func (c *Central) authenticate(ctx context.Context, b *changelog.Batch) (fresh bool, err error) {
	if len(b.Sig) == 0 || len(b.KeyID) == 0 {
		return false, veedel.Errorf(veedel.EUNAUTHORIZED, "batch is not signed: enroll the appliance (veedel central enroll -site %s) and run a version that signs", b.Site)
	}
	if err := c.checkSiteKey(ctx, b.Site, b.KeyID, b.VerifySignature); err != nil {
		return false, err
	}
	if !b.Fresh() {
		return false, nil
	}
	if err := c.checkTime(b.SentAt.Time(), "batch"); err != nil {
		return false, signedBySite(err)
	}
	if err := c.useNonce(ctx, b.Site, b.Nonce, b.SentAt.Time(), "batch"); err != nil {
		return false, signedBySite(err)
	}
	return true, nil
}

// VerifySiteRequest checks a request a site signed with
// changelog.SignRequest: its time is within changelog.FreshWindow of
// central's clock, it is signed by the site's active key, and its nonce,
// if it has one, was never used before (it is used up here). A request
// without a nonce (an older appliance's) passes the other checks but may
// be a replay from within the window: req.Nonce == nil tells the caller
// not to hand it personal data. Errors as for batches: EUNAUTHORIZED or
// EFORBIDDEN.
func (c *Central) VerifySiteRequest(ctx context.Context, req changelog.RequestSignature) error {
	if err := c.checkSiteKey(ctx, req.Site, req.KeyID, req.Verify); err != nil {
		return err
	}
	if err := c.checkTime(req.At, "request"); err != nil {
		return signedBySite(err)
	}
	if req.Nonce == nil {
		return nil
	}
	return signedBySite(c.useNonce(ctx, req.Site, req.Nonce, req.At, "request"))
}

// siteSigned marks a refusal of a request or batch whose signature
// verified with a key the site has or had: a stale or replayed one, or one
// signed with the site's revoked key. Nobody without that key can cause
// one (a replay needs a request the site signed), so central records these
// under the site rather than the sender's address (RecordRejection): a
// flood of junk from many addresses cannot push them out of sight.
type siteSigned struct{ error }

func (e siteSigned) Unwrap() error { return e.error }

func signedBySite(err error) error {
	if err == nil {
		return nil
	}
	return siteSigned{err}
}

// SignedBySite reports whether err refused a request or batch that was
// signed with a key of its site (see siteSigned).
func SignedBySite(err error) bool {
	var s siteSigned
	return errors.As(err, &s)
}

// checkTime refuses a signed time more than changelog.FreshWindow from
// central's clock (what is called "request" or "batch" in the message).
// The answer's Date header tells the site central's time, and its uplink
// and downlink sign again with it (changelog.CentralClock).
func (c *Central) checkTime(at time.Time, what string) error {
	now := c.now()
	if d := now.Sub(at); d > changelog.FreshWindow || d < -changelog.FreshWindow {
		return veedel.Errorf(veedel.EUNAUTHORIZED, "%s signed at %s, more than %v from central's clock (%s): a replay, or the appliance's clock is off and it signs without correcting it",
			what, at.UTC().Format(time.RFC3339), changelog.FreshWindow, now.UTC().Format(time.RFC3339))
	}
	return nil
}

// useNonce uses up a nonce of site signed at at (checkTime passed). The
// nonce is remembered durably (the store) until at + FreshWindow, after
// which checkTime refuses the request anyway: a replay is refused whenever
// it comes, a restart of central included.
func (c *Central) useNonce(ctx context.Context, site string, nonce []byte, at time.Time, what string) error {
	ok, err := c.store.UseNonce(ctx, site, nonce, c.now(), at.Add(changelog.FreshWindow))
	if err != nil {
		return err
	}
	if !ok {
		return veedel.Errorf(veedel.EUNAUTHORIZED, "%s of site %s was received before (nonce used): a replay is refused", what, site)
	}
	return nil
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
		// Only the holder of the revoked key (the site's old appliance,
		// or whoever has it now) hears that it was revoked, and only its
		// rejection is recorded as the site's own (SignedBySite).
		if err := verify(revoked.PublicKey); err != nil {
			return err
		}
		return signedBySite(veedel.Errorf(veedel.EFORBIDDEN, "key %s of site %s was revoked at %s: enroll the appliance again", id, site, revoked.RevokedAt.UTC().Format(time.RFC3339)))
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

// SiteKeys returns every site's keys, active and revoked, for the admin
// page.
func (c *Central) SiteKeys(ctx context.Context) ([]SiteKey, error) {
	return c.store.SiteKeys(ctx)
}
