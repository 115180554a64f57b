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

// The site directory (central/sites.go) and its seeds.

const siteColumns = `id, name, kind, page, address, added_at`

// AddSite adds a site to the directory; ECONFLICT when the ID is taken. It
// works while central runs (veedel central site add).
func (s *Store) AddSite(ctx context.Context, site central.Site) error {
	at := site.AddedAt.UnixMilli()
	tag, err := s.pool.Exec(ctx, `INSERT INTO site_directory (id, name, kind, page, address, added_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
		site.ID, site.Name, string(site.Kind), site.Page, site.Address, at, at)
	if err != nil {
		return fmt.Errorf("store: add site %s: %w", site.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return veedel.Errorf(veedel.ECONFLICT, "Standort %q gibt es schon / site %q exists already", site.ID, site.ID)
	}
	return nil
}

// UpdateSite changes a site's name, kind, page and address.
func (s *Store) UpdateSite(ctx context.Context, site central.Site) error {
	tag, err := s.pool.Exec(ctx, `UPDATE site_directory SET name = $1, kind = $2, page = $3, address = $4, updated_at = $5 WHERE id = $6`,
		site.Name, string(site.Kind), site.Page, site.Address, time.Now().UnixMilli(), site.ID)
	if err != nil {
		return fmt.Errorf("store: update site %s: %w", site.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return veedel.Errorf(veedel.ENOTFOUND, "Standort %q unbekannt / unknown site %q", site.ID, site.ID)
	}
	return nil
}

// RemoveSite takes a site out of the directory, with its unused
// enrollment tokens. A site that has ever enrolled a key or sent its log
// stays (ECONFLICT: revoke its key instead); ENOTFOUND when the directory
// has no such site. The directory row is locked first, so that a removal
// and an enrollment of the same site do not cross.
func (s *Store) RemoveSite(ctx context.Context, id string) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: remove site %s: %w", id, err)
	}
	defer tx.Rollback(ctx)
	var found bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM site_directory WHERE id = $1 FOR UPDATE)`, id).Scan(&found); err != nil {
		return fmt.Errorf("store: remove site %s: %w", id, err)
	}
	if !found {
		return veedel.Errorf(veedel.ENOTFOUND, "Standort %q unbekannt / unknown site %q", id, id)
	}
	var keys, logged int
	if err := tx.QueryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM site_keys WHERE site = $1),
		(SELECT COUNT(*) FROM sites WHERE id = $1)`, id).Scan(&keys, &logged); err != nil {
		return fmt.Errorf("store: remove site %s: %w", id, err)
	}
	if keys > 0 || logged > 0 {
		return veedel.Errorf(veedel.ECONFLICT, "Standort %q hat schon einen Schlüssel oder Daten bei der Zentrale und bleibt; zum Sperren: veedel central revoke -site %s / site %q has enrolled or sent data and stays; to lock it out: veedel central revoke -site %s", id, id, id, id)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM enrollment_tokens WHERE site = $1 AND used_at IS NULL`, id); err != nil {
		return fmt.Errorf("store: remove site %s: %w", id, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM site_directory WHERE id = $1`, id); err != nil {
		return fmt.Errorf("store: remove site %s: %w", id, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: remove site %s: %w", id, err)
	}
	return nil
}

// DirectorySite returns one site of the directory.
func (s *Store) DirectorySite(ctx context.Context, id string) (central.Site, error) {
	site, err := scanSite(s.pool.QueryRow(ctx, `SELECT `+siteColumns+` FROM site_directory WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return central.Site{}, veedel.Errorf(veedel.ENOTFOUND, "Standort %q unbekannt / unknown site %q", id, id)
	} else if err != nil {
		return central.Site{}, fmt.Errorf("store: site %s: %w", id, err)
	}
	return site, nil
}

// Directory returns every site of the directory, ordered by ID.
func (s *Store) Directory(ctx context.Context) ([]central.Site, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+siteColumns+` FROM site_directory ORDER BY id`)
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

func scanSite(row pgx.Row) (central.Site, error) {
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
// per seed, and marks the seed applied; a seed another process applies at
// the same time is applied once. Sites already in the directory are left
// as they are.
func (s *Store) applySiteSeeds(ctx context.Context, now time.Time) error {
	rows, err := s.pool.Query(ctx, `SELECT name FROM site_seeds WHERE applied_at IS NULL ORDER BY name`)
	if err != nil {
		return fmt.Errorf("store: site seeds: %w", err)
	}
	pending, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("store: site seeds: %w", err)
	}
	for _, name := range pending {
		if err := s.applySiteSeed(ctx, name, now); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) applySiteSeed(ctx context.Context, name string, now time.Time) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: seed %s: %w", name, err)
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, `UPDATE site_seeds SET applied_at = $1 WHERE name = $2 AND applied_at IS NULL`, now.UnixMilli(), name)
	if err != nil {
		return fmt.Errorf("store: seed %s: %w", name, err)
	}
	if tag.RowsAffected() == 0 { // another process was first
		return nil
	}
	for _, site := range central.SiteSeeds[name] {
		if _, err := tx.Exec(ctx, `INSERT INTO site_directory (id, name, kind, page, address, added_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
			site.ID, site.Name, string(site.Kind), site.Page, site.Address, now.UnixMilli(), now.UnixMilli()); err != nil {
			return fmt.Errorf("store: seed %s: site %s: %w", name, site.ID, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: seed %s: %w", name, err)
	}
	return nil
}
