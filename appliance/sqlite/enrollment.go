package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The site's enrollment at central, as the uplink keeps it in settings: the
// key id central enrolled (hex) and the SHA-256 (hex) of the one-time token
// that was used, so that a token left in the configuration is not used
// twice. No migration: the settings table holds small durable values.

const (
	enrolledKeyKey   = "sync.enrolled_key"
	enrolledTokenKey = "sync.enroll_token_sha256"
)

// EnrolledKey returns the key id central enrolled for this site and the
// hash of the token used, both "" before the first enrollment.
func (s *Store) EnrolledKey(ctx context.Context) (keyID, tokenHash string, err error) {
	read := func(key string) (string, error) {
		var v string
		err := s.db.Read.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil
		}
		return v, err
	}
	if keyID, err = read(enrolledKeyKey); err != nil {
		return "", "", fmt.Errorf("store: read enrollment: %w", err)
	}
	if tokenHash, err = read(enrolledTokenKey); err != nil {
		return "", "", fmt.Errorf("store: read enrollment: %w", err)
	}
	return keyID, tokenHash, nil
}

// SetEnrolledKey durably records a successful enrollment.
func (s *Store) SetEnrolledKey(ctx context.Context, keyID, tokenHash string) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	for key, value := range map[string]string{enrolledKeyKey: keyID, enrolledTokenKey: tokenHash} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value); err != nil {
			return fmt.Errorf("store: record enrollment: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: record enrollment: %w", err)
	}
	return nil
}
