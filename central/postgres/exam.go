package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/sqlstore"
	"github.com/veedel/veedel/sync/changelog"
)

// The school-entry cohort and the district→site table (migration 0006,
// central/cohort.go). Cohort and CohortByCode are sqlstore.Queries';
// the districts are each store's own: compared case-insensitively, each
// database in its way (SQLite's NOCASE column, PostgreSQL's lower()).

// ExamDistricts returns the district→site table, ordered by district.
func (s *Store) ExamDistricts(ctx context.Context) ([]central.ExamDistrict, error) {
	rows, err := s.pool.Query(ctx, `SELECT district, site, updated_at FROM exam_districts ORDER BY lower(district), district`)
	if err != nil {
		return nil, fmt.Errorf("store: exam districts: %w", err)
	}
	defer rows.Close()
	var out []central.ExamDistrict
	for rows.Next() {
		var d central.ExamDistrict
		var at int64
		if err := rows.Scan(&d.District, &d.Site, &at); err != nil {
			return nil, fmt.Errorf("store: exam districts: %w", err)
		}
		d.UpdatedAt = time.UnixMilli(at)
		out = append(out, d)
	}
	return out, rows.Err()
}

// SetExamDistrict assigns district to site, or with site "" removes it.
func (s *Store) SetExamDistrict(ctx context.Context, district, site string, at time.Time) error {
	var err error
	if site == "" {
		_, err = s.pool.Exec(ctx, `DELETE FROM exam_districts WHERE lower(district) = lower($1)`, district)
	} else {
		_, err = s.pool.Exec(ctx, `INSERT INTO exam_districts (district, site, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT ((lower(district))) DO UPDATE SET district = excluded.district, site = excluded.site, updated_at = excluded.updated_at`,
			district, site, at.UnixMilli())
	}
	if err != nil {
		return fmt.Errorf("store: set exam district: %w", err)
	}
	return nil
}

// ImportCohort records the children and sends the new and changed ones
// down, in one transaction.
func (s *Store) ImportCohort(ctx context.Context, children []central.CohortChild, at time.Time, clock func() changelog.HLC) ([]string, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	// One import at a time: two at once would each find a child new.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('veedel exam cohort'))`); err != nil {
		return nil, fmt.Errorf("store: lock cohort: %w", err)
	}
	out, err := sqlstore.ImportCohort(ctx, newWriteTx(tx), children, at, clock)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("store: commit cohort: %w", err)
	}
	return out, nil
}
