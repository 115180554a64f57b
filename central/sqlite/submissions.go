package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
)

// The portal's forms posted once (migration 0023, central/submissions.go).

var _ central.SubmissionStore = (*Store)(nil)

// SubmissionResult returns the recorded result of the form with this key
// hash, unless it expired by now.
func (s *Store) SubmissionResult(ctx context.Context, keyHash []byte, now time.Time) ([]byte, error) {
	var result []byte
	err := s.db.Read.QueryRowContext(ctx, `SELECT result FROM form_submissions WHERE key_hash = ? AND expires_at > ?`, keyHash, now.UnixMilli()).Scan(&result)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, veedel.Errorf(veedel.ENOTFOUND, "form not posted before")
	} else if err != nil {
		return nil, fmt.Errorf("store: form submission: %w", err)
	}
	return result, nil
}

// RecordSubmission records the form's result until expires and deletes
// the records expired at now.
func (s *Store) RecordSubmission(ctx context.Context, keyHash, result []byte, now, expires time.Time) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM form_submissions WHERE expires_at <= ?`, now.UnixMilli()); err != nil {
		return fmt.Errorf("store: record form submission: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO form_submissions (key_hash, result, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (key_hash) DO UPDATE SET result = excluded.result, expires_at = excluded.expires_at`, keyHash, result, expires.UnixMilli()); err != nil {
		return fmt.Errorf("store: record form submission: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: record form submission: commit: %w", err)
	}
	return nil
}
