package blob

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/workflow"
)

// Erasing files. Files are stored once per content, so two records may
// name the same bytes (the same power of attorney in two applications):
// a record that needs a file holds it (Hold, in the transaction that
// writes the record), and when its keeping time is over lets it go
// (Release, in the transaction that erases the record). The last release
// erases the bytes — complete or partly received — and what the site
// still meant to move of them, and leaves a tombstone (table
// blob_erased): the file then cannot be fetched, served or taken again
// over sync (Stat, Open, ReadChunk, Next and Receive refuse it with an
// error wrapping ErrErased; central answers 410 Gone, and the site's
// transfer stops). A new Hold of the same bytes lifts the tombstone.
//
// Holders are the records' change-log entities ("vehicle/<id>"): what
// holds a file is named the same at every node.
//
// On SQLite the deletes overwrite the bytes with zeros instead of leaving
// them in free pages until SQLite reuses them (internal/sqlitedb opens
// every store's writer with PRAGMA secure_delete on); PostgreSQL leaves dead tuples until VACUUM
// (autovacuum) reclaims them, and the bytes on disk until the pages are
// reused.

// ErrErased marks a file whose keeping time is over: it was here and was
// erased. Errors wrapping it are ENOTFOUND *veedel.Error too.
var ErrErased = errors.New("blob: the file was erased")

func erased(sha string) error {
	return fmt.Errorf("%w: %w", veedel.Errorf(veedel.ENOTFOUND, "file %.12s was erased: its keeping time is over", sha), ErrErased)
}

// Hold records, in the transaction that writes the record holder names,
// that it needs the file sha names (the site's SQLite; central uses
// SQL.Hold). Holding a file twice changes nothing; holding an erased
// file's bytes again lifts its tombstone.
func Hold(ctx context.Context, q workflow.Querier, holder, sha string) error {
	return hold(ctx, q, false, holder, sha)
}

// Release lets go of holder's hold on the file sha names, in the
// transaction that erases the record (the site's SQLite; central uses
// SQL.Release), and erases the file when no other record holds it: its
// chunks, its blobs row, its pending transfers in either direction. It
// reports whether the bytes went. A file not held or not here is no
// error (releasing twice changes nothing).
func Release(ctx context.Context, q workflow.Querier, holder, sha string, at time.Time) (bool, error) {
	return release(ctx, q, false, true, holder, sha, at)
}

// Hold records that holder needs the file (central: its own transaction).
func (s *SQL) Hold(ctx context.Context, holder, sha string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return hold(ctx, tx, s.Dollar, holder, sha) })
}

// Release lets go of holder's hold and erases the file when no other
// record holds it (central: its own transaction).
func (s *SQL) Release(ctx context.Context, holder, sha string) (gone bool, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		gone, err = release(ctx, tx, s.Dollar, false, holder, sha, s.now())
		return err
	})
	return gone, err
}

// Holders returns who holds the file (tests, the admin's view).
func (s *SQL) Holders(ctx context.Context, sha string) ([]string, error) {
	rows, err := s.Read.QueryContext(ctx, s.q(`SELECT holder FROM blob_holds WHERE sha256 = ? ORDER BY holder`), sha)
	if err != nil {
		return nil, fmt.Errorf("blob: holders: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

func (s *SQL) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *SQL) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("blob: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("blob: commit: %w", err)
	}
	return nil
}

func dialect(dollar bool, q string) string {
	return (&SQL{Dollar: dollar}).q(q)
}

func hold(ctx context.Context, q workflow.Querier, dollar bool, holder, sha string) error {
	if !ValidSHA(sha) || holder == "" {
		return veedel.Errorf(veedel.EINVALID, "blob: hold %q by %q", sha, holder)
	}
	if _, err := q.ExecContext(ctx, dialect(dollar, `INSERT INTO blob_holds (sha256, holder) VALUES (?, ?) ON CONFLICT DO NOTHING`), sha, holder); err != nil {
		return fmt.Errorf("blob: hold: %w", err)
	}
	if _, err := q.ExecContext(ctx, dialect(dollar, `DELETE FROM blob_erased WHERE sha256 = ?`), sha); err != nil {
		return fmt.Errorf("blob: hold: %w", err)
	}
	return nil
}

func release(ctx context.Context, q workflow.Querier, dollar, transfers bool, holder, sha string, at time.Time) (bool, error) {
	if !ValidSHA(sha) {
		return false, nil // nothing such was ever stored
	}
	if _, err := q.ExecContext(ctx, dialect(dollar, `DELETE FROM blob_holds WHERE sha256 = ? AND holder = ?`), sha, holder); err != nil {
		return false, fmt.Errorf("blob: release: %w", err)
	}
	var n int
	if err := q.QueryRowContext(ctx, dialect(dollar, `SELECT count(*) FROM blob_holds WHERE sha256 = ?`), sha).Scan(&n); err != nil {
		return false, fmt.Errorf("blob: release: %w", err)
	}
	if n > 0 {
		return false, nil // another record still needs it
	}
	stmts := []string{`DELETE FROM blobs WHERE sha256 = ?`, `DELETE FROM blob_chunks WHERE sha256 = ?`}
	if transfers {
		stmts = append(stmts, `DELETE FROM blob_transfers WHERE sha256 = ?`)
	}
	gone := false
	for _, s := range stmts {
		res, err := q.ExecContext(ctx, dialect(dollar, s), sha)
		if err != nil {
			return false, fmt.Errorf("blob: erase: %w", err)
		}
		if k, _ := res.RowsAffected(); k > 0 {
			gone = true
		}
	}
	if _, err := q.ExecContext(ctx, dialect(dollar, `INSERT INTO blob_erased (sha256, erased_at) VALUES (?, ?) ON CONFLICT DO NOTHING`), sha, at.UnixMilli()); err != nil {
		return false, fmt.Errorf("blob: erase: %w", err)
	}
	return gone, nil
}

// Holds is what a node's Chunks that records holds does (SQL).
type Holds interface {
	Hold(ctx context.Context, holder, sha string) error
	Release(ctx context.Context, holder, sha string) (bool, error)
	HeldBetween(ctx context.Context, from, to string) ([]Holding, error)
}

// Holding is one holder's hold on one file.
type Holding struct {
	SHA256, Holder string
}

// HeldBetween lists the holds whose holder sorts after from and before to
// (holders named by day, "upload/2026-12-06", make that a time range).
func (s *SQL) HeldBetween(ctx context.Context, from, to string) ([]Holding, error) {
	rows, err := s.Read.QueryContext(ctx, s.q(`SELECT sha256, holder FROM blob_holds WHERE holder > ? AND holder < ? ORDER BY holder, sha256`), from, to)
	if err != nil {
		return nil, fmt.Errorf("blob: holds: %w", err)
	}
	defer rows.Close()
	var out []Holding
	for rows.Next() {
		var h Holding
		if err := rows.Scan(&h.SHA256, &h.Holder); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// HeldBetween lists holds by holder range (SQL.HeldBetween); EUNAVAILABLE
// when the node keeps no holds.
func (f *Files) HeldBetween(ctx context.Context, from, to string) ([]Holding, error) {
	h, ok := f.c.(Holds)
	if !ok {
		return nil, veedel.Errorf(veedel.EUNAVAILABLE, "this node keeps no files")
	}
	return h.HeldBetween(ctx, from, to)
}

// Hold records that holder needs the file (SQL.Hold); EUNAVAILABLE when
// the node keeps no holds.
func (f *Files) Hold(ctx context.Context, holder, sha string) error {
	h, ok := f.c.(Holds)
	if !ok {
		return veedel.Errorf(veedel.EUNAVAILABLE, "this node keeps no files")
	}
	return h.Hold(ctx, holder, sha)
}

// Release lets go of holder's hold and erases the file when nothing else
// holds it (SQL.Release); EUNAVAILABLE when the node keeps no holds.
func (f *Files) Release(ctx context.Context, holder, sha string) (bool, error) {
	h, ok := f.c.(Holds)
	if !ok {
		return false, veedel.Errorf(veedel.EUNAVAILABLE, "this node keeps no files")
	}
	return h.Release(ctx, holder, sha)
}
