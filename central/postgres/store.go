// Package postgres is central's log store on PostgreSQL (pgx): the same
// tables and rules as central/sqlite, for a city that runs central on its
// own database servers. Its schema comes from its own migrations
// (migrations/*.sql), applied in order at Open under an advisory lock, so
// that several processes (central, veedel central adduser) may open the
// same database at once.
package postgres

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"github.com/veedel/veedel/sync/blob"
	"io/fs"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/sqlstore"
	"github.com/veedel/veedel/internal/login"
	"github.com/veedel/veedel/internal/namedgate"
	"github.com/veedel/veedel/sync/changelog"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store implements central.LogStore on PostgreSQL.
type Store struct {
	sqlstore.Queries // the SQL shared with central/sqlite (shared.go)

	pool        *pgxpool.Pool
	adminLogins login.Checker   // recent successful admin logins (admin.go)
	fault       faultHook       // tests: a failure before commit (fault.go)
	gates       namedgate.Gates // this process's waiters for a lock (lock.go)

	sqlOnce sync.Once
	sqlDB   *sql.DB // Writer's database/sql handle on pool (payments.go)
}

var (
	_ central.LogStore     = (*Store)(nil)
	_ central.RangeScanner = (*Store)(nil)
	_ central.PageScanner  = (*Store)(nil)
)

// IsURL reports whether db names a PostgreSQL database (postgres:// or
// postgresql://), as veedel central -db takes it.
func IsURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// Redact returns the URL without its password, for messages and logs.
func Redact(db string) string {
	u, err := url.Parse(db)
	if err != nil {
		return "postgres://…"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// Open connects to the database at url (postgres://user@host:port/db?…;
// libpq's environment variables such as PGPASSWORD and the password file
// apply, and pgxpool's pool_max_conns), brings its schema up to date and
// applies pending site seeds.
func Open(ctx context.Context, dbURL string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "PostgreSQL address %s: %v", Redact(dbURL), err)
	}
	if !strings.Contains(dbURL, "pool_max_conns") && cfg.MaxConns < 8 {
		// pgxpool's default is the number of CPUs (at least 4); each
		// store call holds a connection while it runs, and batches, polls
		// and pages come in at once. pool_max_conns in the URL overrides
		// this.
		cfg.MaxConns = 8
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect to %s: %w", Redact(dbURL), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect to %s: %w", Redact(dbURL), err)
	}
	s := &Store{pool: pool, Queries: sqlstore.Queries{Read: shared{pool}, Write: shared{pool}}}
	migrations, _ := fs.Sub(migrationFiles, "migrations")
	if err := migrate(ctx, pool, migrations); err != nil {
		pool.Close()
		return nil, err
	}
	if err := s.applySiteSeeds(ctx, time.Now()); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the connections.
func (s *Store) Close() error {
	if s.sqlDB != nil {
		s.sqlDB.Close()
	}
	s.pool.Close()
	return nil
}

// migrate applies the migrations newer than the database's version, in
// one transaction under an advisory lock of the schema: a second process
// starting at the same time waits, then finds them applied. A database
// newer than this program is refused.
func migrate(ctx context.Context, pool *pgxpool.Pool, migrations fs.FS) error {
	names, err := fs.Glob(migrations, "*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('veedel central schema ' || current_schema()))`); err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	var current int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("postgres: migrate: read schema version: %w", err)
	}
	latest := 0
	for _, name := range names {
		n, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("postgres: migration %s: name must start with its number", name)
		}
		latest = max(latest, n)
		if n <= current {
			continue
		}
		sql, err := fs.ReadFile(migrations, name)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, string(sql)); err != nil {
			return fmt.Errorf("postgres: migration %s: %w", name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, n, name); err != nil {
			return fmt.Errorf("postgres: migration %s: %w", name, err)
		}
	}
	if current > latest {
		return veedel.Errorf(veedel.ECONFLICT, "central's database has schema version %d, this veedel knows up to %d: run the newer veedel", current, latest)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: commit: %w", err)
	}
	return nil
}

// Append stores the entries of a batch that continue the site's chain, in
// one transaction that holds the site's row lock, and records the contact
// (when contact is true). Entries central already has are skipped if their
// hash matches (a resend) and refused if not (a fork); the new ones go in
// with one COPY. It returns the entries newly stored and the site's acked
// seq after commit.
func (s *Store) Append(ctx context.Context, b *changelog.Batch, receivedAt time.Time, contact bool) ([]changelog.Entry, uint64, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback(ctx)

	var acked uint64
	var lastHash []byte
	var lastHLC int64
	lock := func() error {
		return tx.QueryRow(ctx, `SELECT acked_seq, last_hash, last_hlc FROM sites WHERE id = $1 FOR UPDATE`, b.Site).Scan(&acked, &lastHash, &lastHLC)
	}
	err = lock()
	if errors.Is(err, pgx.ErrNoRows) {
		// A new site: whoever inserts it first, both then lock the row.
		if _, err = tx.Exec(ctx, `INSERT INTO sites (id) VALUES ($1) ON CONFLICT (id) DO NOTHING`, b.Site); err == nil {
			err = lock()
		}
	}
	if err != nil {
		return nil, 0, fmt.Errorf("store: site %s: %w", b.Site, err)
	}

	// The hashes of the entries the batch resends, in one query (a
	// validated batch is contiguous; the range covers any batch).
	var have map[uint64][]byte
	lowest := acked + 1
	for i := range b.Entries {
		lowest = min(lowest, b.Entries[i].Seq)
	}
	if lowest <= acked {
		have = map[uint64][]byte{}
		rows, err := tx.Query(ctx, `SELECT seq, hash FROM site_log WHERE site = $1 AND seq >= $2 AND seq <= $3`, b.Site, int64(lowest), int64(acked))
		if err != nil {
			return nil, 0, fmt.Errorf("store: compare entries: %w", err)
		}
		for rows.Next() {
			var seq uint64
			var hash []byte
			if err := rows.Scan(&seq, &hash); err != nil {
				rows.Close()
				return nil, 0, fmt.Errorf("store: compare entries: %w", err)
			}
			have[seq] = hash
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, 0, fmt.Errorf("store: compare entries: %w", err)
		}
	}

	var accepted []changelog.Entry
	var refusal error
	for i := range b.Entries {
		e := &b.Entries[i]
		if e.Seq <= acked {
			stored, ok := have[e.Seq]
			if !ok {
				return nil, 0, fmt.Errorf("store: compare entry %d: not stored below acked %d", e.Seq, acked)
			}
			if !bytes.Equal(stored, e.Hash) {
				refusal = veedel.Errorf(veedel.ECONFLICT, "entry %d differs from the one central stored: the site's log has forked", e.Seq)
				break
			}
			continue
		}
		if !e.Follows(acked, lastHash) {
			refusal = veedel.Errorf(veedel.ECONFLICT, "entry %d does not continue the chain after %d: resend from %d", e.Seq, acked, acked+1)
			break
		}
		accepted = append(accepted, *e)
		acked, lastHash, lastHLC = e.Seq, e.Hash, int64(e.HLC)
	}
	if len(accepted) > 0 {
		at := receivedAt.UnixMilli()
		rows := make([][]any, len(accepted))
		for i := range accepted {
			e := &accepted[i]
			rows[i] = []any{b.Site, int64(e.Seq), int32(e.Version), int64(e.HLC), e.Type, e.Entity, []byte(e.Payload), e.Prev, e.Hash, at}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"site_log"},
			[]string{"site", "seq", "version", "hlc", "type", "entity", "payload", "prev", "hash", "received_at"},
			pgx.CopyFromRows(rows)); err != nil {
			return nil, 0, fmt.Errorf("store: insert entries %d–%d: %w", accepted[0].Seq, accepted[len(accepted)-1].Seq, err)
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE sites SET acked_seq = $1, last_hash = $2, last_hlc = $3,
		last_contact = CASE WHEN $4 THEN $5 ELSE last_contact END WHERE id = $6`,
		int64(acked), lastHash, lastHLC, contact, receivedAt.UnixMilli(), b.Site); err != nil {
		return nil, 0, fmt.Errorf("store: update site %s: %w", b.Site, err)
	}
	if err := s.fault.before(ctx, "commit"); err != nil {
		return nil, 0, fmt.Errorf("store: commit: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, 0, fmt.Errorf("store: commit: %w", err)
	}
	return accepted, acked, refusal
}

// Sites returns every site's sync position.
func (s *Store) Sites(ctx context.Context) ([]central.SiteCursor, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, acked_seq, last_hlc, last_contact FROM sites ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: sites: %w", err)
	}
	defer rows.Close()
	var out []central.SiteCursor
	for rows.Next() {
		var c central.SiteCursor
		var hlc, contact int64
		if err := rows.Scan(&c.Site, &c.Acked, &hlc, &contact); err != nil {
			return nil, fmt.Errorf("store: sites: %w", err)
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
	rows, err := s.pool.Query(ctx, `SELECT seq, version, hlc, type, entity, payload, prev, hash FROM site_log WHERE site = $1 AND seq > $2 ORDER BY seq`, site, int64(after))
	if err != nil {
		return fmt.Errorf("store: scan %s: %w", site, err)
	}
	return eachEntry(rows, site, fn)
}

// ScanPage calls fn with up to limit stored entries of a site after seq,
// in order (a page of central.Central.SiteLog).
func (s *Store) ScanPage(ctx context.Context, site string, after uint64, limit int, fn func(changelog.Entry) error) error {
	rows, err := s.pool.Query(ctx, `SELECT seq, version, hlc, type, entity, payload, prev, hash FROM site_log WHERE site = $1 AND seq > $2 ORDER BY seq LIMIT $3`, site, int64(after), limit)
	if err != nil {
		return fmt.Errorf("store: scan %s: %w", site, err)
	}
	return eachEntry(rows, site, fn)
}

// ScanRange calls fn with each stored entry of a site with from <= hlc <
// to, in seq order (the site_log_hlc index).
func (s *Store) ScanRange(ctx context.Context, site string, from, to changelog.HLC, fn func(changelog.Entry) error) error {
	rows, err := s.pool.Query(ctx, `SELECT seq, version, hlc, type, entity, payload, prev, hash FROM site_log
		WHERE site = $1 AND hlc >= $2 AND hlc < $3 ORDER BY seq`, site, int64(from), int64(to))
	if err != nil {
		return fmt.Errorf("store: scan range %s: %w", site, err)
	}
	return eachEntry(rows, site, fn)
}

// eachEntry reads log rows (seq, version, hlc, type, entity, payload, prev,
// hash) into entries of site and calls fn with each; it closes rows.
func eachEntry(rows pgx.Rows, site string, fn func(changelog.Entry) error) error {
	defer rows.Close()
	for rows.Next() {
		e, err := scanEntry(rows, site)
		if err != nil {
			return fmt.Errorf("store: read %s's log: %w", site, err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

func scanEntry(row pgx.Row, site string) (changelog.Entry, error) {
	e := changelog.Entry{Site: site}
	var seq, hlc int64
	var version int32
	var payload []byte
	if err := row.Scan(&seq, &version, &hlc, &e.Type, &e.Entity, &payload, &e.Prev, &e.Hash); err != nil {
		return e, err
	}
	e.Seq, e.Version, e.HLC, e.Payload = uint64(seq), uint(version), changelog.HLC(hlc), payload
	if len(e.Prev) == 0 {
		e.Prev = nil
	}
	return e, nil
}

// BlobChunks keeps the files of sync/blob in this database
// (central.BlobStore).
func (s *Store) BlobChunks() blob.Chunks {
	return &blob.SQL{Write: s.Writer(), Read: s.Writer(), Dollar: true}
}
