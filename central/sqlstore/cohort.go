package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

// The school-entry cohort (central/cohort.go). The district→site table is
// each store's own: SQLite compares districts by its NOCASE collation,
// PostgreSQL by lower().

const cohortColumns = `child, year, district, site, sex, data_mac, code_hash, imported_at, updated_at`

func scanCohortChild(row Row) (central.CohortChild, error) {
	var c central.CohortChild
	var imported, updated int64
	if err := row.Scan(&c.Child, &c.Year, &c.District, &c.Site, &c.Sex, &c.DataMAC, &c.CodeHash, &imported, &updated); err != nil {
		return c, err
	}
	c.ImportedAt, c.UpdatedAt = time.UnixMilli(imported), time.UnixMilli(updated)
	return c, nil
}

// ImportCohort records the children in tx and sends the new and changed
// ones down. The caller makes sure that no other import runs in the
// meantime: two at once would each find a child new.
func ImportCohort(ctx context.Context, tx Tx, children []central.CohortChild, at time.Time, clock func() changelog.HLC) ([]string, error) {
	out := make([]string, len(children))
	send := map[string][]Stamped{}
	var sites []string
	for i, c := range children {
		old := c
		var imported int64
		err := tx.QueryRow(ctx, `SELECT site, data_mac, imported_at FROM exam_cohort WHERE year = ? AND child = ?`, c.Year, c.Child).
			Scan(&old.Site, &old.DataMAC, &imported)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			out[i] = central.CohortImported
			_, err = tx.Exec(ctx, `
				INSERT INTO exam_cohort (year, child, district, site, sex, data_mac, code_hash, imported_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				c.Year, c.Child, c.District, c.Site, c.Sex, c.DataMAC, c.CodeHash, at.UnixMilli(), at.UnixMilli())
		case err != nil:
		case central.SameCohortData(old, c):
			out[i] = central.CohortUnchanged
			continue
		default:
			out[i] = central.CohortUpdated
			_, err = tx.Exec(ctx, `
				UPDATE exam_cohort SET district = ?, site = ?, sex = ?, data_mac = ?, code_hash = ?, updated_at = ?
				WHERE year = ? AND child = ?`,
				c.District, c.Site, c.Sex, c.DataMAC, c.CodeHash, at.UnixMilli(), c.Year, c.Child)
		}
		if err != nil {
			return nil, fmt.Errorf("store: cohort child: %w", err)
		}
		sendTo := func(site string, o central.Outgoing) error {
			e, err := stamp(o, clock)
			if err != nil {
				return err
			}
			if send[site] == nil {
				sites = append(sites, site)
			}
			send[site] = append(send[site], e)
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
		if err := tx.AppendOutbound(ctx, site, send[site], at); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Cohort returns the children of a school year, ordered by pseudonym.
func (q Queries) Cohort(ctx context.Context, year int) ([]central.CohortChild, error) {
	out, err := queryAll(ctx, q.Read, scanCohortChild, `SELECT `+cohortColumns+` FROM exam_cohort WHERE year = ? ORDER BY child`, year)
	if err != nil {
		return nil, fmt.Errorf("store: cohort: %w", err)
	}
	return out, nil
}

// CohortByCode returns the child of a booking code's hash.
func (q Queries) CohortByCode(ctx context.Context, codeHash []byte) (central.CohortChild, error) {
	c, err := scanCohortChild(q.Read.QueryRow(ctx, `SELECT `+cohortColumns+` FROM exam_cohort
		WHERE code_hash = ? ORDER BY year DESC LIMIT 1`, codeHash))
	if errors.Is(err, sql.ErrNoRows) {
		return c, veedel.Errorf(veedel.ENOTFOUND, "no child with this booking code")
	}
	if err != nil {
		return c, fmt.Errorf("store: cohort by code: %w", err)
	}
	return c, nil
}
