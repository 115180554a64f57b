package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
)

// The portal's forms posted once (migration 0013, central/submissions.go):
// the same rules as central/sqlite's.

var _ central.SubmissionStore = (*Store)(nil)

// SubmissionResult returns the recorded result of the form with this key
// hash, unless it expired by now.
func (s *Store) SubmissionResult(ctx context.Context, keyHash []byte, now time.Time) ([]byte, error) {
	var result []byte
	err := s.pool.QueryRow(ctx, `SELECT result FROM form_submissions WHERE key_hash = $1 AND expires_at > $2`, keyHash, now.UnixMilli()).Scan(&result)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, veedel.Errorf(veedel.ENOTFOUND, "form not posted before")
	} else if err != nil {
		return nil, fmt.Errorf("store: form submission: %w", err)
	}
	return result, nil
}

// RecordSubmission records the form's result until expires and deletes
// the records expired at now.
func (s *Store) RecordSubmission(ctx context.Context, keyHash, result []byte, now, expires time.Time) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `DELETE FROM form_submissions WHERE expires_at <= $1`, now.UnixMilli()); err != nil {
		return fmt.Errorf("store: record form submission: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO form_submissions (key_hash, result, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (key_hash) DO UPDATE SET result = excluded.result, expires_at = excluded.expires_at`, keyHash, result, expires.UnixMilli()); err != nil {
		return fmt.Errorf("store: record form submission: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: record form submission: commit: %w", err)
	}
	return nil
}
