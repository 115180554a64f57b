// Package sqlite is central's log store on SQLite: the sites and their
// change-logs, stored idempotently by (site, seq) with the hash chain
// checked on the way in. The SQL is kept portable for the PostgreSQL store.
package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"github.com/veedel/veedel/sync/blob"
	"io/fs"
	"log/slog"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/sqlstore"
	"github.com/veedel/veedel/internal/login"
	"github.com/veedel/veedel/internal/namedgate"
	"github.com/veedel/veedel/internal/sqlitedb"
	"github.com/veedel/veedel/sync/changelog"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store implements central.LogStore on a SQLite file.
type Store struct {
	sqlstore.Queries // the SQL shared with central/postgres (shared.go)

	db          *sqlitedb.DB
	adminLogins login.Checker   // recent successful admin logins (admin.go)
	fault       faultHook       // tests: a full disk or a crash before commit (fault.go)
	gates       namedgate.Gates // this process's waiters for a lock (lock.go)
}

var _ central.LogStore = (*Store)(nil)

// Open opens or creates central's SQLite store at path. A new store's site
// directory starts from the seeds its migrations name (sites.go).
func Open(ctx context.Context, path string) (*Store, error) {
	migrations, _ := fs.Sub(migrationFiles, "migrations")
	db, err := sqlitedb.Open(ctx, path, migrations, sqlitedb.Options{})
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, Queries: sqlstore.Queries{Read: shared{db.Read}, Write: shared{db.Write}}}
	if err := s.applySiteSeeds(ctx, time.Now()); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Writer is the store's one write connection, for the mail outbox
// (internal/mail), which keeps its table in this file.
func (s *Store) Writer() *sql.DB { return s.db.Write }

// Append stores the entries of a batch that continue the site's chain, in
// one transaction, and records the contact (when contact is true). Entries
// central already has are
// skipped if their hash matches (a resend) and refused if not (a fork). It
// returns the entries newly stored and the site's acked seq after commit.
func (s *Store) Append(ctx context.Context, b *changelog.Batch, receivedAt time.Time, contact bool) ([]changelog.Entry, uint64, error) {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()

	var acked uint64
	var lastHash []byte
	var lastHLC int64
	err = tx.QueryRowContext(ctx, `SELECT acked_seq, last_hash, last_hlc FROM sites WHERE id = ?`, b.Site).Scan(&acked, &lastHash, &lastHLC)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = tx.ExecContext(ctx, `INSERT INTO sites (id) VALUES (?)`, b.Site)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("store: site %s: %w", b.Site, err)
	}

	var accepted []changelog.Entry
	var refusal error
	var insert *sql.Stmt // prepared once per batch: parsing the INSERT per entry cost half of ingest
	for i := range b.Entries {
		e := &b.Entries[i]
		if e.Seq <= acked {
			var have []byte
			if err := tx.QueryRowContext(ctx, `SELECT hash FROM site_log WHERE site = ? AND seq = ?`, b.Site, e.Seq).Scan(&have); err != nil {
				return nil, 0, fmt.Errorf("store: compare entry %d: %w", e.Seq, err)
			}
			if !bytes.Equal(have, e.Hash) {
				refusal = veedel.Errorf(veedel.ECONFLICT, "entry %d differs from the one central stored: the site's log has forked", e.Seq)
				break
			}
			continue
		}
		if !e.Follows(acked, lastHash) {
			refusal = veedel.Errorf(veedel.ECONFLICT, "entry %d does not continue the chain after %d: resend from %d", e.Seq, acked, acked+1)
			break
		}
		if insert == nil {
			if insert, err = tx.PrepareContext(ctx, `INSERT INTO site_log (site, seq, version, hlc, type, entity, payload, prev, hash, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`); err != nil {
				return nil, 0, fmt.Errorf("store: prepare insert: %w", err)
			}
			defer insert.Close()
		}
		if _, err := insert.ExecContext(ctx, b.Site, e.Seq, e.Version, int64(e.HLC), e.Type, e.Entity, []byte(e.Payload), e.Prev, e.Hash, receivedAt.UnixMilli()); err != nil {
			return nil, 0, fmt.Errorf("store: insert entry %d: %w", e.Seq, err)
		}
		accepted = append(accepted, *e)
		acked, lastHash, lastHLC = e.Seq, e.Hash, int64(e.HLC)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sites SET acked_seq = ?, last_hash = ?, last_hlc = ?,
		last_contact = CASE WHEN ? THEN ? ELSE last_contact END WHERE id = ?`,
		acked, lastHash, lastHLC, contact, receivedAt.UnixMilli(), b.Site); err != nil {
		return nil, 0, fmt.Errorf("store: update site %s: %w", b.Site, err)
	}
	if err := s.fault.before(ctx, "commit"); err != nil {
		return nil, 0, fmt.Errorf("store: commit: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, 0, fmt.Errorf("store: commit: %w", err)
	}
	return accepted, acked, refusal
}

// Sites returns every site's sync position.
func (s *Store) Sites(ctx context.Context) ([]central.SiteCursor, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT id, acked_seq, last_hlc, last_contact FROM sites ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: sites: %w", err)
	}
	defer rows.Close()
	var out []central.SiteCursor
	for rows.Next() {
		var c central.SiteCursor
		var hlc, contact int64
		if err := rows.Scan(&c.Site, &c.Acked, &hlc, &contact); err != nil {
			return nil, err
		}
		c.LastHLC = changelog.HLC(hlc)
		if contact > 0 {
			c.LastContact = time.UnixMilli(contact)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Scan calls fn with each entry of a site's log after seq, in order.
func (s *Store) Scan(ctx context.Context, site string, after uint64, fn func(changelog.Entry) error) error {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT seq, version, hlc, type, entity, payload, prev, hash FROM site_log WHERE site = ? AND seq > ? ORDER BY seq`, site, after)
	if err != nil {
		return fmt.Errorf("store: scan %s: %w", site, err)
	}
	return eachEntry(rows, site, fn)
}

var _ central.RangeScanner = (*Store)(nil)
var _ central.PageScanner = (*Store)(nil)

// ScanPage calls fn with up to limit stored entries of a site after seq,
// in order (a page of central.Central.SiteLog).
func (s *Store) ScanPage(ctx context.Context, site string, after uint64, limit int, fn func(changelog.Entry) error) error {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT seq, version, hlc, type, entity, payload, prev, hash FROM site_log WHERE site = ? AND seq > ? ORDER BY seq LIMIT ?`, site, after, limit)
	if err != nil {
		return fmt.Errorf("store: scan %s: %w", site, err)
	}
	return eachEntry(rows, site, fn)
}

// ScanRange calls fn with each stored entry of a site with from <= hlc <
// to, in seq order (the site_log_hlc index).
func (s *Store) ScanRange(ctx context.Context, site string, from, to changelog.HLC, fn func(changelog.Entry) error) error {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT seq, version, hlc, type, entity, payload, prev, hash FROM site_log
		WHERE site = ? AND hlc >= ? AND hlc < ? ORDER BY seq`, site, int64(from), int64(to))
	if err != nil {
		return fmt.Errorf("store: scan range %s: %w", site, err)
	}
	return eachEntry(rows, site, fn)
}

// eachEntry reads site_log rows (seq, version, hlc, type, entity, payload,
// prev, hash) into entries of site and calls fn with each; it closes rows.
func eachEntry(rows *sql.Rows, site string, fn func(changelog.Entry) error) error {
	defer rows.Close()
	for rows.Next() {
		e := changelog.Entry{Site: site}
		var hlc int64
		if err := rows.Scan(&e.Seq, &e.Version, &hlc, &e.Type, &e.Entity, &e.Payload, &e.Prev, &e.Hash); err != nil {
			return fmt.Errorf("store: read %s's log: %w", site, err)
		}
		e.HLC = changelog.HLC(hlc)
		if len(e.Prev) == 0 {
			e.Prev = nil
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Lead runs work until ctx ends: on SQLite central is one process, which
// does the work that runs once per cluster on PostgreSQL
// (postgres.Store.Lead).
func (s *Store) Lead(ctx context.Context, name string, log *slog.Logger, work func(ctx context.Context)) {
	work(ctx)
}

// BlobChunks keeps the files of sync/blob in this file (central.BlobStore).
func (s *Store) BlobChunks() blob.Chunks { return &blob.SQL{Write: s.db.Write, Read: s.db.Read} }
