package postgres

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

// keepRejections is how many rejection aggregates (source, kind, status)
// the store keeps; those seen longest ago are deleted beyond it.
const keepRejections = 10000

// CreateEnrollmentToken stores the SHA-256 of a new random token for site,
// valid until expires, and returns the token: 26 characters of base32, 130
// random bits.
func (s *Store) CreateEnrollmentToken(ctx context.Context, site string, now, expires time.Time) (string, error) {
	if site == "" {
		return "", veedel.Errorf(veedel.EINVALID, "enrollment token without site")
	}
	token := rand.Text()
	hash := sha256.Sum256([]byte(token))
	if _, err := s.pool.Exec(ctx, `INSERT INTO enrollment_tokens (token_hash, site, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		hash[:], site, now.UnixMilli(), expires.UnixMilli()); err != nil {
		return "", fmt.Errorf("store: create enrollment token: %w", err)
	}
	return token, nil
}

// Enroll consumes token and makes pub site's only active key, in one
// transaction that holds the token's row lock (two nodes enrolling with
// the same token: one wins, the other sees it used).
func (s *Store) Enroll(ctx context.Context, site, token string, pub ed25519.PublicKey, at time.Time) (central.SiteKey, error) {
	hash := sha256.Sum256([]byte(token))
	keyID := changelog.KeyID(pub)
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return central.SiteKey{}, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback(ctx)

	var tokenSite string
	var expires int64
	var usedAt *int64
	var usedKey []byte
	err = tx.QueryRow(ctx, `SELECT site, expires_at, used_at, used_key FROM enrollment_tokens WHERE token_hash = $1 FOR UPDATE`, hash[:]).
		Scan(&tokenSite, &expires, &usedAt, &usedKey)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return central.SiteKey{}, veedel.Errorf(veedel.EUNAUTHORIZED, "unknown enrollment token: create one with veedel central enroll -site %s", site)
	case err != nil:
		return central.SiteKey{}, fmt.Errorf("store: read enrollment token: %w", err)
	case tokenSite != site:
		return central.SiteKey{}, veedel.Errorf(veedel.EUNAUTHORIZED, "enrollment token was issued for site %s, not %s", tokenSite, site)
	case usedAt != nil:
		// A retry of the enrollment that used the token (its answer was
		// lost) succeeds again, as long as that key is still active.
		if bytes.Equal(usedKey, keyID) {
			keys, err := keysWhere(ctx, tx, `site = $1 AND key_id = $2 AND revoked_at IS NULL`, site, keyID)
			if err != nil {
				return central.SiteKey{}, err
			}
			for _, k := range keys {
				if bytes.Equal(k.PublicKey, pub) {
					return k, nil
				}
			}
		}
		return central.SiteKey{}, veedel.Errorf(veedel.EUNAUTHORIZED, "enrollment token was already used at %s: create a new one with veedel central enroll -site %s",
			time.UnixMilli(*usedAt).UTC().Format(time.RFC3339), site)
	case at.UnixMilli() >= expires:
		return central.SiteKey{}, veedel.Errorf(veedel.EUNAUTHORIZED, "enrollment token expired at %s: create a new one with veedel central enroll -site %s",
			time.UnixMilli(expires).UTC().Format(time.RFC3339), site)
	}

	if _, err := tx.Exec(ctx, `UPDATE site_keys SET revoked_at = $1 WHERE site = $2 AND revoked_at IS NULL`, at.UnixMilli(), site); err != nil {
		return central.SiteKey{}, fmt.Errorf("store: revoke previous key of %s: %w", site, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO site_keys (site, key_id, public_key, enrolled_at) VALUES ($1, $2, $3, $4)`,
		site, keyID, []byte(pub), at.UnixMilli()); err != nil {
		return central.SiteKey{}, fmt.Errorf("store: insert key of %s: %w", site, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE enrollment_tokens SET used_at = $1, used_key = $2 WHERE token_hash = $3`, at.UnixMilli(), keyID, hash[:]); err != nil {
		return central.SiteKey{}, fmt.Errorf("store: use enrollment token: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return central.SiteKey{}, fmt.Errorf("store: commit enrollment: %w", err)
	}
	return central.SiteKey{Site: site, KeyID: changelog.KeyIDString(keyID), PublicKey: pub, EnrolledAt: time.UnixMilli(at.UnixMilli())}, nil
}

// KeysByID returns every key whose key id is id, of any site, revoked or not.
func (s *Store) KeysByID(ctx context.Context, id []byte) ([]central.SiteKey, error) {
	return keysWhere(ctx, s.pool, `key_id = $1`, id)
}

// SiteKeys returns every key of every site, active and revoked, by site
// and enrollment time.
func (s *Store) SiteKeys(ctx context.Context) ([]central.SiteKey, error) {
	return keysWhere(ctx, s.pool, `TRUE`)
}

// RevokeSiteKeys revokes site's active key and returns what it revoked.
func (s *Store) RevokeSiteKeys(ctx context.Context, site string, at time.Time) ([]central.SiteKey, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	keys, err := keysWhere(ctx, tx, `site = $1 AND revoked_at IS NULL`, site)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `UPDATE site_keys SET revoked_at = $1 WHERE site = $2 AND revoked_at IS NULL`, at.UnixMilli(), site); err != nil {
		return nil, fmt.Errorf("store: revoke keys of %s: %w", site, err)
	}
	// Nothing more is sealed to a revoked site: its box key goes too.
	if _, err := tx.Exec(ctx, `DELETE FROM site_box_keys WHERE site = $1`, site); err != nil {
		return nil, fmt.Errorf("store: revoke keys of %s: %w", site, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("store: commit revocation: %w", err)
	}
	for i := range keys {
		keys[i].RevokedAt = time.UnixMilli(at.UnixMilli())
	}
	return keys, nil
}

// querier is a pool, a connection or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func keysWhere(ctx context.Context, q querier, where string, args ...any) ([]central.SiteKey, error) {
	rows, err := q.Query(ctx, `SELECT site, key_id, public_key, enrolled_at, revoked_at FROM site_keys WHERE `+where+` ORDER BY site, enrolled_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: read keys: %w", err)
	}
	defer rows.Close()
	var out []central.SiteKey
	for rows.Next() {
		var k central.SiteKey
		var id, pub []byte
		var enrolled int64
		var revoked *int64
		if err := rows.Scan(&k.Site, &id, &pub, &enrolled, &revoked); err != nil {
			return nil, fmt.Errorf("store: read keys: %w", err)
		}
		k.KeyID, k.PublicKey, k.EnrolledAt = changelog.KeyIDString(id), ed25519.PublicKey(pub), time.UnixMilli(enrolled)
		if revoked != nil {
			k.RevokedAt = time.UnixMilli(*revoked)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RecordRejection adds r to the aggregate of its source, kind and status
// (r's details become the sample when it is the newest) and drops the
// aggregates seen longest ago beyond keepRejections; the sites' own
// (central.SiteSource) are never dropped for junk.
func (s *Store) RecordRejection(ctx context.Context, r central.Rejection) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	_, err = tx.Exec(ctx, `INSERT INTO sync_rejections AS r (source, kind, status, count, first_at, last_at, site, key_id, reason, remote_addr, entries)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (source, kind, status) DO UPDATE SET
			count = r.count + excluded.count,
			first_at = LEAST(r.first_at, excluded.first_at),
			site = CASE WHEN excluded.last_at >= r.last_at THEN excluded.site ELSE r.site END,
			key_id = CASE WHEN excluded.last_at >= r.last_at THEN excluded.key_id ELSE r.key_id END,
			reason = CASE WHEN excluded.last_at >= r.last_at THEN excluded.reason ELSE r.reason END,
			remote_addr = CASE WHEN excluded.last_at >= r.last_at THEN excluded.remote_addr ELSE r.remote_addr END,
			entries = CASE WHEN excluded.last_at >= r.last_at THEN excluded.entries ELSE r.entries END,
			last_at = GREATEST(r.last_at, excluded.last_at)`,
		r.Source, r.Kind, r.Status, r.Count, r.FirstAt.UnixMilli(), r.At.UnixMilli(), r.Site, r.KeyID, r.Reason, r.RemoteAddr, r.Entries)
	if err != nil {
		return fmt.Errorf("store: record rejection: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM sync_rejections WHERE id IN
		(SELECT id FROM sync_rejections WHERE NOT starts_with(source, $1) ORDER BY last_at DESC, id DESC OFFSET $2)`, central.SiteSource, keepRejections); err != nil {
		return fmt.Errorf("store: prune rejections: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: commit rejection: %w", err)
	}
	return nil
}

// Rejections returns limit aggregates: the sites' own (central.SiteSource)
// first, then the others, each newest first.
func (s *Store) Rejections(ctx context.Context, limit int) ([]central.Rejection, error) {
	rows, err := s.pool.Query(ctx, `SELECT source, kind, status, count, first_at, last_at, site, key_id, reason, remote_addr, entries
		FROM sync_rejections ORDER BY starts_with(source, $1) DESC, last_at DESC, id DESC LIMIT $2`, central.SiteSource, limit)
	if err != nil {
		return nil, fmt.Errorf("store: read rejections: %w", err)
	}
	defer rows.Close()
	out := []central.Rejection{}
	for rows.Next() {
		var r central.Rejection
		var first, last int64
		if err := rows.Scan(&r.Source, &r.Kind, &r.Status, &r.Count, &first, &last, &r.Site, &r.KeyID, &r.Reason, &r.RemoteAddr, &r.Entries); err != nil {
			return nil, fmt.Errorf("store: read rejections: %w", err)
		}
		r.FirstAt, r.At = time.UnixMilli(first), time.UnixMilli(last)
		out = append(out, r)
	}
	return out, rows.Err()
}

// UseNonce records site's nonce until expires and reports false when it
// is there already (a replay); expired nonces are deleted in the same
// transaction.
func (s *Store) UseNonce(ctx context.Context, site string, nonce []byte, now, expires time.Time) (bool, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `DELETE FROM sync_nonces WHERE expires_at < $1`, now.UnixMilli()); err != nil {
		return false, fmt.Errorf("store: forget old nonces: %w", err)
	}
	tag, err := tx.Exec(ctx, `INSERT INTO sync_nonces (site, nonce, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		site, nonce, expires.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("store: use nonce: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("store: commit nonce: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// RecordBoxKey keeps key as the site's box key.
func (s *Store) RecordBoxKey(ctx context.Context, site string, key []byte, at time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO site_box_keys (site, box_key, recorded_at) VALUES ($1, $2, $3)
		ON CONFLICT (site) DO UPDATE SET box_key = excluded.box_key, recorded_at = excluded.recorded_at`, site, key, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: record box key of %s: %w", site, err)
	}
	return nil
}

// BoxKey returns the site's recorded box key, nil when there is none.
func (s *Store) BoxKey(ctx context.Context, site string) ([]byte, error) {
	var key []byte
	err := s.pool.QueryRow(ctx, `SELECT box_key FROM site_box_keys WHERE site = $1`, site).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: read box key of %s: %w", site, err)
	}
	return key, nil
}

// Secret returns the secret called name, made of size random bytes the
// first time it is asked for; central nodes asking at once all get the
// one that was stored first.
func (s *Store) Secret(ctx context.Context, name string, size int, at time.Time) ([]byte, error) {
	fresh := make([]byte, size)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
		name, fresh, at.UnixMilli()); err != nil {
		return nil, fmt.Errorf("store: make secret %s: %w", name, err)
	}
	var value []byte
	if err := s.pool.QueryRow(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&value); err != nil {
		return nil, fmt.Errorf("store: read secret %s: %w", name, err)
	}
	return value, nil
}
