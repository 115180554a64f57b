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

// The site directory (central/sites.go) and its seeds.

const siteColumns = `id, name, kind, page, address, added_at`

// AddSite adds a site to the directory; ECONFLICT when the ID is taken. It
// works while central runs (veedel central site add).
func (s *Store) AddSite(ctx context.Context, site central.Site) error {
	at := site.AddedAt.UnixMilli()
	res, err := s.db.Write.ExecContext(ctx, `INSERT INTO site_directory (id, name, kind, page, address, added_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		site.ID, site.Name, string(site.Kind), site.Page, site.Address, at, at)
	if err != nil {
		return fmt.Errorf("store: add site %s: %w", site.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return veedel.Errorf(veedel.ECONFLICT, "Standort %q gibt es schon / site %q exists already", site.ID, site.ID)
	}
	return nil
}

// UpdateSite changes a site's name, kind, page and address.
func (s *Store) UpdateSite(ctx context.Context, site central.Site) error {
	res, err := s.db.Write.ExecContext(ctx, `UPDATE site_directory SET name = ?, kind = ?, page = ?, address = ?, updated_at = ? WHERE id = ?`,
		site.Name, string(site.Kind), site.Page, site.Address, time.Now().UnixMilli(), site.ID)
	if err != nil {
		return fmt.Errorf("store: update site %s: %w", site.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return veedel.Errorf(veedel.ENOTFOUND, "Standort %q unbekannt / unknown site %q", site.ID, site.ID)
	}
	return nil
}

// RemoveSite takes a site out of the directory, with its unused
// enrollment tokens: a seed's site the city does not have, or one added by
// mistake. A site that has ever enrolled a key or sent its log is part of
// the city's record and stays (ECONFLICT: revoke its key instead);
// ENOTFOUND when the directory has no such site.
func (s *Store) RemoveSite(ctx context.Context, id string) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: remove site %s: %w", id, err)
	}
	defer tx.Rollback()
	var keys, logged int
	if err := tx.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM site_keys WHERE site = ?),
		(SELECT COUNT(*) FROM sites WHERE id = ?)`, id, id).Scan(&keys, &logged); err != nil {
		return fmt.Errorf("store: remove site %s: %w", id, err)
	}
	if keys > 0 || logged > 0 {
		return veedel.Errorf(veedel.ECONFLICT, "Standort %q hat schon einen Schlüssel oder Daten bei der Zentrale und bleibt; zum Sperren: veedel central revoke -site %s / site %q has enrolled or sent data and stays; to lock it out: veedel central revoke -site %s", id, id, id, id)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM enrollment_tokens WHERE site = ? AND used_at IS NULL`, id); err != nil {
		return fmt.Errorf("store: remove site %s: %w", id, err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM site_directory WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("store: remove site %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return veedel.Errorf(veedel.ENOTFOUND, "Standort %q unbekannt / unknown site %q", id, id)
	}
	return tx.Commit()
}

// DirectorySite returns one site of the directory.
func (s *Store) DirectorySite(ctx context.Context, id string) (central.Site, error) {
	site, err := scanSite(s.db.Read.QueryRowContext(ctx, `SELECT `+siteColumns+` FROM site_directory WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return central.Site{}, veedel.Errorf(veedel.ENOTFOUND, "Standort %q unbekannt / unknown site %q", id, id)
	} else if err != nil {
		return central.Site{}, fmt.Errorf("store: site %s: %w", id, err)
	}
	return site, nil
}

// Directory returns every site of the directory, ordered by ID.
func (s *Store) Directory(ctx context.Context) ([]central.Site, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT `+siteColumns+` FROM site_directory ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: site directory: %w", err)
	}
	defer rows.Close()
	var out []central.Site
	for rows.Next() {
		site, err := scanSite(rows)
		if err != nil {
			return nil, fmt.Errorf("store: site directory: %w", err)
		}
		out = append(out, site)
	}
	return out, rows.Err()
}

func scanSite(row interface{ Scan(...any) error }) (central.Site, error) {
	var site central.Site
	var kind string
	var added int64
	if err := row.Scan(&site.ID, &site.Name, &kind, &site.Page, &site.Address, &added); err != nil {
		return central.Site{}, err
	}
	site.Kind, site.AddedAt = central.SiteKind(kind), time.UnixMilli(added)
	return site, nil
}

// applySiteSeeds adds the sites of every seed the migrations named and
// the store has not applied yet (central.SiteSeeds), in one transaction
// per seed, and marks the seed applied. Sites already in the directory
// are left as they are.
func (s *Store) applySiteSeeds(ctx context.Context, now time.Time) error {
	rows, err := s.db.Write.QueryContext(ctx, `SELECT name FROM site_seeds WHERE applied_at IS NULL ORDER BY name`)
	if err != nil {
		return fmt.Errorf("store: site seeds: %w", err)
	}
	var pending []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return fmt.Errorf("store: site seeds: %w", err)
		}
		pending = append(pending, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: site seeds: %w", err)
	}
	for _, name := range pending {
		tx, err := s.db.Write.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("store: seed %s: %w", name, err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE site_seeds SET applied_at = ? WHERE name = ? AND applied_at IS NULL`, now.UnixMilli(), name)
		if err != nil {
			tx.Rollback()
			return fmt.Errorf("store: seed %s: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 { // another process was first
			tx.Rollback()
			continue
		}
		for _, site := range central.SiteSeeds[name] {
			if _, err := tx.ExecContext(ctx, `INSERT INTO site_directory (id, name, kind, page, address, added_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
				site.ID, site.Name, string(site.Kind), site.Page, site.Address, now.UnixMilli(), now.UnixMilli()); err != nil {
				tx.Rollback()
				return fmt.Errorf("store: seed %s: site %s: %w", name, site.ID, err)
			}
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("store: seed %s: %w", name, err)
		}
	}
	return nil
}
