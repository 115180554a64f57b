// Package sqlitedb opens SQLite files the way Veedel needs them: WAL,
// busy timeout, foreign keys and full fsync set on every connection through
// the DSN; one writer connection with immediate transactions; a separate
// reader pool; embedded, versioned migrations applied in order.
package sqlitedb

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"runtime"
	"slices"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go, no cgo)
)

// DB is a SQLite database with one writer and a pool of readers.
type DB struct {
	// Write has exactly one connection; its transactions are IMMEDIATE, so
	// a writer never fails half-way with SQLITE_BUSY on lock upgrade.
	Write *sql.DB
	// Read is a pool of read-only connections; WAL lets them read while the
	// writer writes.
	Read *sql.DB
	Path string
}

// Options tune durability. The zero value is the safe default.
type Options struct {
	// Synchronous is the PRAGMA synchronous level; "" means FULL, which an
	// appliance needs: a printed ticket must survive a power cut.
	Synchronous string
}

// Open opens (creating if needed) the SQLite file at path and applies the
// migrations found as NNNN_name.sql files in migrations. It refuses, with
// the file's name and what to do, a file it could not write (check.go) and
// a damaged one (PRAGMA quick_check).
func Open(ctx context.Context, file string, migrations fs.FS, opts Options) (*DB, error) {
	sync := opts.Synchronous
	if sync == "" {
		sync = "FULL"
	}
	pragmas := url.Values{}
	// busy_timeout first, so that the pragmas after it wait for a lock
	// instead of failing.
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(" + sync + ")",
		// After a checkpoint the WAL file is cut back to this size, so a
		// catch-up of weeks of entries does not leave a huge WAL behind.
		"journal_size_limit(67108864)",
		// Deleted rows are overwritten with zeros, not left in free
		// pages and cells: an erased name, IBAN or scanned document
		// (personal data past its keeping time) must be gone from the
		// file, not merely unlinked. Costs little: the queue rarely
		// deletes, and deletes are what erasure is for.
		"secure_delete(1)"} {
		pragmas.Add("_pragma", p)
	}
	if err := checkWritable(file); err != nil {
		return nil, err
	}
	if err := checkHeader(file); err != nil {
		return nil, err
	}
	w := pragmas
	w.Set("_txlock", "immediate")
	write, err := sql.Open("sqlite", "file:"+file+"?"+w.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", file, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	db := &DB{Write: write, Path: file}

	var mode string
	if err := write.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		write.Close()
		if isDamage(err) {
			return nil, damaged(file, err)
		}
		return nil, fmt.Errorf("sqlite: %s: %w", file, err)
	}
	if !strings.EqualFold(mode, "wal") {
		write.Close()
		return nil, fmt.Errorf("sqlite: %s: journal mode is %q, want wal", file, mode)
	}
	if err := checkIntegrity(ctx, write, file); err != nil {
		write.Close()
		return nil, err
	}
	if err := db.migrate(ctx, migrations); err != nil {
		write.Close()
		if isDamage(err) {
			return nil, damaged(file, err)
		}
		return nil, fmt.Errorf("sqlite: %s: %w", file, err)
	}

	r := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "foreign_keys(1)", "query_only(1)"} {
		r.Add("_pragma", p)
	}
	read, err := sql.Open("sqlite", "file:"+file+"?"+r.Encode())
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", file, err)
	}
	read.SetMaxOpenConns(max(4, runtime.NumCPU()))
	db.Read = read
	return db, nil
}

// Close closes both pools.
func (db *DB) Close() error {
	var errs []error
	if db.Read != nil {
		errs = append(errs, db.Read.Close())
	}
	errs = append(errs, db.Write.Close())
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// migrate applies, in file-name order, every migration whose number is above
// PRAGMA user_version, each in its own immediate transaction together with
// the new user_version, so a crash leaves the schema at a known version.
func (db *DB) migrate(ctx context.Context, migrations fs.FS) error {
	names, err := fs.Glob(migrations, "*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	var current int
	if err := db.Write.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("sqlite: read schema version: %w", err)
	}
	for _, name := range names {
		n, err := strconv.Atoi(strings.SplitN(path.Base(name), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: name must start with a number", name)
		}
		if n <= current {
			continue
		}
		body, err := fs.ReadFile(migrations, name)
		if err != nil {
			return err
		}
		tx, err := db.Write.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migration %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", n)); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migration %s: %w", name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", name, err)
		}
		current = n
	}
	return nil
}
