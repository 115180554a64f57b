package sqlite

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

// keepRejections is how many rejection records the store keeps; older ones
// are deleted as new ones arrive, so that a flood of junk stays bounded.
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
	if _, err := s.db.Write.ExecContext(ctx, `INSERT INTO enrollment_tokens (token_hash, site, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		hash[:], site, now.UnixMilli(), expires.UnixMilli()); err != nil {
		return "", fmt.Errorf("store: create enrollment token: %w", err)
	}
	return token, nil
}

// Enroll consumes token and makes pub site's only active key, in one
// transaction.
func (s *Store) Enroll(ctx context.Context, site, token string, pub ed25519.PublicKey, at time.Time) (central.SiteKey, error) {
	hash := sha256.Sum256([]byte(token))
	keyID := changelog.KeyID(pub)
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return central.SiteKey{}, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()

	var tokenSite string
	var expires int64
	var usedAt sql.NullInt64
	var usedKey []byte
	err = tx.QueryRowContext(ctx, `SELECT site, expires_at, used_at, used_key FROM enrollment_tokens WHERE token_hash = ?`, hash[:]).
		Scan(&tokenSite, &expires, &usedAt, &usedKey)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return central.SiteKey{}, veedel.Errorf(veedel.EUNAUTHORIZED, "unknown enrollment token: create one with veedel central enroll -site %s", site)
	case err != nil:
		return central.SiteKey{}, fmt.Errorf("store: read enrollment token: %w", err)
	case tokenSite != site:
		return central.SiteKey{}, veedel.Errorf(veedel.EUNAUTHORIZED, "enrollment token was issued for site %s, not %s", tokenSite, site)
	case usedAt.Valid:
		// A retry of the enrollment that used the token (its answer was
		// lost) succeeds again, as long as that key is still active.
		if bytes.Equal(usedKey, keyID) {
			keys, err := keysWhere(ctx, tx, `site = ? AND key_id = ? AND revoked_at IS NULL`, site, keyID)
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
			time.UnixMilli(usedAt.Int64).UTC().Format(time.RFC3339), site)
	case at.UnixMilli() >= expires:
		return central.SiteKey{}, veedel.Errorf(veedel.EUNAUTHORIZED, "enrollment token expired at %s: create a new one with veedel central enroll -site %s",
			time.UnixMilli(expires).UTC().Format(time.RFC3339), site)
	}

	if _, err := tx.ExecContext(ctx, `UPDATE site_keys SET revoked_at = ? WHERE site = ? AND revoked_at IS NULL`, at.UnixMilli(), site); err != nil {
		return central.SiteKey{}, fmt.Errorf("store: revoke previous key of %s: %w", site, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO site_keys (site, key_id, public_key, enrolled_at) VALUES (?, ?, ?, ?)`,
		site, keyID, []byte(pub), at.UnixMilli()); err != nil {
		return central.SiteKey{}, fmt.Errorf("store: insert key of %s: %w", site, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE enrollment_tokens SET used_at = ?, used_key = ? WHERE token_hash = ?`, at.UnixMilli(), keyID, hash[:]); err != nil {
		return central.SiteKey{}, fmt.Errorf("store: use enrollment token: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return central.SiteKey{}, fmt.Errorf("store: commit enrollment: %w", err)
	}
	return central.SiteKey{Site: site, KeyID: changelog.KeyIDString(keyID), PublicKey: pub, EnrolledAt: time.UnixMilli(at.UnixMilli())}, nil
}

// KeysByID returns every key whose key id is id, of any site, revoked or not.
func (s *Store) KeysByID(ctx context.Context, id []byte) ([]central.SiteKey, error) {
	return keysWhere(ctx, s.db.Read, `key_id = ?`, id)
}

// SiteKeys returns every key of every site, active and revoked, by site
// and enrollment time.
func (s *Store) SiteKeys(ctx context.Context) ([]central.SiteKey, error) {
	return keysWhere(ctx, s.db.Read, `1 = 1`)
}

// RevokeSiteKeys revokes site's active key and returns what it revoked.
func (s *Store) RevokeSiteKeys(ctx context.Context, site string, at time.Time) ([]central.SiteKey, error) {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	keys, err := keysWhere(ctx, tx, `site = ? AND revoked_at IS NULL`, site)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE site_keys SET revoked_at = ? WHERE site = ? AND revoked_at IS NULL`, at.UnixMilli(), site); err != nil {
		return nil, fmt.Errorf("store: revoke keys of %s: %w", site, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: commit revocation: %w", err)
	}
	for i := range keys {
		keys[i].RevokedAt = time.UnixMilli(at.UnixMilli())
	}
	return keys, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func keysWhere(ctx context.Context, q querier, where string, args ...any) ([]central.SiteKey, error) {
	rows, err := q.QueryContext(ctx, `SELECT site, key_id, public_key, enrolled_at, revoked_at FROM site_keys WHERE `+where+` ORDER BY site, enrolled_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: read keys: %w", err)
	}
	defer rows.Close()
	var out []central.SiteKey
	for rows.Next() {
		var k central.SiteKey
		var id, pub []byte
		var enrolled int64
		var revoked sql.NullInt64
		if err := rows.Scan(&k.Site, &id, &pub, &enrolled, &revoked); err != nil {
			return nil, fmt.Errorf("store: read keys: %w", err)
		}
		k.KeyID, k.PublicKey, k.EnrolledAt = changelog.KeyIDString(id), ed25519.PublicKey(pub), time.UnixMilli(enrolled)
		if revoked.Valid {
			k.RevokedAt = time.UnixMilli(revoked.Int64)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RecordRejection stores a rejection and deletes all but the newest
// keepRejections.
func (s *Store) RecordRejection(ctx context.Context, r central.Rejection) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO rejected_batches (at, site, key_id, status, reason, remote_addr, entries) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.At.UnixMilli(), r.Site, r.KeyID, r.Status, r.Reason, r.RemoteAddr, r.Entries)
	if err != nil {
		return fmt.Errorf("store: record rejection: %w", err)
	}
	if id, err := res.LastInsertId(); err == nil && id > keepRejections {
		if _, err := tx.ExecContext(ctx, `DELETE FROM rejected_batches WHERE id <= ?`, id-keepRejections); err != nil {
			return fmt.Errorf("store: prune rejections: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit rejection: %w", err)
	}
	return nil
}

// Rejections returns the newest limit rejections, newest first.
func (s *Store) Rejections(ctx context.Context, limit int) ([]central.Rejection, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT at, site, key_id, status, reason, remote_addr, entries FROM rejected_batches ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: read rejections: %w", err)
	}
	defer rows.Close()
	out := []central.Rejection{}
	for rows.Next() {
		var r central.Rejection
		var at int64
		if err := rows.Scan(&at, &r.Site, &r.KeyID, &r.Status, &r.Reason, &r.RemoteAddr, &r.Entries); err != nil {
			return nil, fmt.Errorf("store: read rejections: %w", err)
		}
		r.At = time.UnixMilli(at)
		out = append(out, r)
	}
	return out, rows.Err()
}
