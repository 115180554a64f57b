package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/jackc/pgx/v5"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

// The school-entry cohort and the district→site table (migration 0006,
// central/cohort.go).

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
	out := make([]string, len(children))
	send := map[string][]stampedEvent{}
	var sites []string
	for i, c := range children {
		old := c
		var imported int64
		err := tx.QueryRow(ctx, `SELECT site, data_mac, imported_at FROM exam_cohort WHERE year = $1 AND child = $2`, c.Year, c.Child).
			Scan(&old.Site, &old.DataMAC, &imported)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			out[i] = central.CohortImported
			_, err = tx.Exec(ctx, `INSERT INTO exam_cohort (year, child, district, site, sex, data_mac, code_hash, imported_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, c.Year, c.Child, c.District, c.Site, c.Sex, c.DataMAC, c.CodeHash, at.UnixMilli(), at.UnixMilli())
		case err != nil:
		case central.SameCohortData(old, c):
			out[i] = central.CohortUnchanged
			continue
		default:
			out[i] = central.CohortUpdated
			_, err = tx.Exec(ctx, `UPDATE exam_cohort SET district = $1, site = $2, sex = $3, data_mac = $4, code_hash = $5, updated_at = $6
				WHERE year = $7 AND child = $8`, c.District, c.Site, c.Sex, c.DataMAC, c.CodeHash, at.UnixMilli(), c.Year, c.Child)
		}
		if err != nil {
			return nil, fmt.Errorf("store: cohort child: %w", err)
		}
		sendTo := func(site string, o central.Outgoing) error {
			payload, err := changelog.Marshal(o.Payload)
			if err != nil {
				return fmt.Errorf("store: encode %s: %w", o.Type, err)
			}
			if send[site] == nil {
				sites = append(sites, site)
			}
			send[site] = append(send[site], stampedEvent{Outgoing: central.Outgoing{Type: o.Type, Entity: o.Entity,
				Payload: cbor.RawMessage(payload)}, hlc: clock()})
			return nil
		}
		if out[i] == central.CohortUpdated && old.Site != c.Site {
			// Moved to another site: the old one lets the child go.
			if err := sendTo(old.Site, central.Unassigned(c)); err != nil {
				return nil, err
			}
		}
		if c.Assigned == nil {
			continue
		}
		if err := sendTo(c.Site, *c.Assigned); err != nil {
			return nil, err
		}
	}
	for _, site := range sites {
		if err := appendOutbound(ctx, tx, site, send[site], at); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("store: commit cohort: %w", err)
	}
	return out, nil
}

// Cohort returns the children of a school year, ordered by pseudonym.
func (s *Store) Cohort(ctx context.Context, year int) ([]central.CohortChild, error) {
	rows, err := s.pool.Query(ctx, `SELECT child, year, district, site, sex, data_mac, code_hash, imported_at, updated_at
		FROM exam_cohort WHERE year = $1 ORDER BY child`, year)
	if err != nil {
		return nil, fmt.Errorf("store: cohort: %w", err)
	}
	defer rows.Close()
	var out []central.CohortChild
	for rows.Next() {
		var c central.CohortChild
		var imported, updated int64
		if err := rows.Scan(&c.Child, &c.Year, &c.District, &c.Site, &c.Sex, &c.DataMAC, &c.CodeHash, &imported, &updated); err != nil {
			return nil, fmt.Errorf("store: cohort: %w", err)
		}
		c.ImportedAt, c.UpdatedAt = time.UnixMilli(imported), time.UnixMilli(updated)
		out = append(out, c)
	}
	return out, rows.Err()
}

// CohortByCode returns the child of a booking code's hash.
func (s *Store) CohortByCode(ctx context.Context, codeHash []byte) (central.CohortChild, error) {
	var c central.CohortChild
	var imported, updated int64
	err := s.pool.QueryRow(ctx, `SELECT child, year, district, site, sex, data_mac, code_hash, imported_at, updated_at
		FROM exam_cohort WHERE code_hash = $1 ORDER BY year DESC LIMIT 1`, codeHash).
		Scan(&c.Child, &c.Year, &c.District, &c.Site, &c.Sex, &c.DataMAC, &c.CodeHash, &imported, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, veedel.Errorf(veedel.ENOTFOUND, "no child with this booking code")
	}
	if err != nil {
		return c, fmt.Errorf("store: cohort by code: %w", err)
	}
	c.ImportedAt, c.UpdatedAt = time.UnixMilli(imported), time.UnixMilli(updated)
	return c, nil
}
