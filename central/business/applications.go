package business

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/veedel/veedel"
)

// A company's applications, by the row key its client sent with each row
// (or "id:<application id>" for rows without one). A row key is claimed
// before the application is submitted and given its id after (in a bulk
// upload in one transaction with the next row's claim): a retried
// upload finds the id and submits nothing. Should central stop between the
// two (the application may or may not have gone), the key stays claimed
// without an id and a retry gets ECONFLICT for that row: the dashboard
// shows what arrived.

// Claim is what ClaimRow found.
type Claim struct {
	AppID   string // the application already submitted under the key; "" if none
	InDoubt bool   // claimed earlier, no id recorded: an interrupted submission
}

// ClaimRow claims company's row key for a submission now.
func (s *Store) ClaimRow(ctx context.Context, company, key string, now time.Time) (Claim, error) {
	return s.claimRow(ctx, s.DB, company, key, now)
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) claimRow(ctx context.Context, db querier, company, key string, now time.Time) (Claim, error) {
	res, err := db.ExecContext(ctx, s.q(`INSERT INTO business_applications (company, row_key, created_at) VALUES (?, ?, ?) ON CONFLICT (company, row_key) DO NOTHING`), company, key, ms(now))
	if err != nil {
		return Claim{}, fmt.Errorf("business: claim: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return Claim{}, err
	}
	var id string
	err = db.QueryRowContext(ctx, s.q(`SELECT app_id FROM business_applications WHERE company = ? AND row_key = ?`), company, key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Claim{}, veedel.Errorf(veedel.ECONFLICT, "Zeilenschlüssel gerade in Arbeit / row key in flight")
	} else if err != nil {
		return Claim{}, fmt.Errorf("business: claim: %w", err)
	}
	return Claim{AppID: id, InDoubt: id == ""}, nil
}

// ReleaseRow gives up a claim whose submission was refused (nothing was
// submitted), so that the corrected row may use the key.
func (s *Store) ReleaseRow(ctx context.Context, company, key string) error {
	_, err := s.exec(ctx, `DELETE FROM business_applications WHERE company = ? AND row_key = ? AND app_id = ''`, company, key)
	return err
}

// RecordApplication records the submitted application under a claimed
// key, or (key "") under its own id.
func (s *Store) RecordApplication(ctx context.Context, company, key, appID string, now time.Time) error {
	return s.record(ctx, s.DB, company, key, appID, now)
}

func (s *Store) record(ctx context.Context, db querier, company, key, appID string, now time.Time) error {
	var err error
	if key == "" {
		_, err = db.ExecContext(ctx, s.q(`INSERT INTO business_applications (company, row_key, app_id, created_at) VALUES (?, ?, ?, ?)`), company, "id:"+appID, appID, ms(now))
	} else {
		_, err = db.ExecContext(ctx, s.q(`UPDATE business_applications SET app_id = ? WHERE company = ? AND row_key = ?`), appID, company, key)
	}
	if err != nil {
		return fmt.Errorf("business: record: %w", err)
	}
	return nil
}

// recordAndClaim records one row's application and claims the next row's
// key (nextKey "": none) in one transaction: one commit instead of two,
// each row still claimed before it is submitted and recorded after.
func (s *Store) recordAndClaim(ctx context.Context, company, key, appID, nextKey string, now time.Time) (Claim, error) {
	if nextKey == "" {
		return Claim{}, s.record(ctx, s.DB, company, key, appID, now)
	}
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return Claim{}, fmt.Errorf("business: record: %w", err)
	}
	defer tx.Rollback()
	if err := s.record(ctx, tx, company, key, appID, now); err != nil {
		return Claim{}, err
	}
	c, err := s.claimRow(ctx, tx, company, nextKey, now)
	if err != nil {
		return Claim{}, err
	}
	if err := tx.Commit(); err != nil {
		return Claim{}, fmt.Errorf("business: record: %w", err)
	}
	return c, nil
}

// Submission is one of a company's applications.
type Submission struct {
	RowKey  string // "" for a row sent without one
	AppID   string
	Created time.Time
}

// Applications lists a company's newest applications (at most limit).
func (s *Store) Applications(ctx context.Context, company string, limit int) ([]Submission, error) {
	rows, err := s.DB.QueryContext(ctx, s.q(`SELECT row_key, app_id, created_at FROM business_applications WHERE company = ? AND app_id <> '' ORDER BY created_at DESC, row_key LIMIT ?`), company, limit)
	if err != nil {
		return nil, fmt.Errorf("business: applications: %w", err)
	}
	defer rows.Close()
	var out []Submission
	for rows.Next() {
		var a Submission
		var created int64
		if err := rows.Scan(&a.RowKey, &a.AppID, &created); err != nil {
			return nil, err
		}
		if a.RowKey == "id:"+a.AppID {
			a.RowKey = ""
		}
		a.Created = time.UnixMilli(created)
		out = append(out, a)
	}
	return out, rows.Err()
}

// OwnsApplication reports whether company submitted application id.
func (s *Store) OwnsApplication(ctx context.Context, company, id string) (bool, error) {
	var n int
	err := s.DB.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM business_applications WHERE company = ? AND app_id = ?`), company, id).Scan(&n)
	return n > 0, err
}
