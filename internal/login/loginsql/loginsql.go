// Package loginsql is login.Journal on SQL: the tables login_failures and
// login_clients, which the appliance's and central's stores both create
// (appliance migration 0011, central 0007), so that both keep and list
// failed logins with the same code.
package loginsql

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/veedel/veedel/internal/login"
)

// KeepFailures is how many failure rows are kept; older ones are deleted.
const KeepFailures = 10000

// Journal writes to Write (one connection) and reads from Read.
type Journal struct {
	Write, Read *sql.DB
}

var _ login.Journal = Journal{}

// RecordLoginFailure stores f and deletes all but the newest KeepFailures.
func (j Journal) RecordLoginFailure(ctx context.Context, f login.Failure) error {
	var until sql.NullInt64
	if !f.Until.IsZero() {
		until = sql.NullInt64{Int64: f.Until.UnixMilli(), Valid: true}
	}
	res, err := j.Write.ExecContext(ctx, `INSERT INTO login_failures (at, name, client, via, reason, until) VALUES (?, ?, ?, ?, ?, ?)`,
		f.At.UnixMilli(), f.Name, f.Client, f.Via, f.Reason, until)
	if err != nil {
		return fmt.Errorf("store: record login failure: %w", err)
	}
	if id, err := res.LastInsertId(); err == nil && id > KeepFailures {
		if _, err := j.Write.ExecContext(ctx, `DELETE FROM login_failures WHERE id <= ?`, id-KeepFailures); err != nil {
			return fmt.Errorf("store: prune login failures: %w", err)
		}
	}
	return nil
}

// LoginFailures returns the newest limit failures, newest first.
func (j Journal) LoginFailures(ctx context.Context, limit int) ([]login.Failure, error) {
	rows, err := j.Read.QueryContext(ctx, `SELECT at, name, client, via, reason, until FROM login_failures ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: read login failures: %w", err)
	}
	defer rows.Close()
	out := []login.Failure{}
	for rows.Next() {
		var f login.Failure
		var at int64
		var until sql.NullInt64
		if err := rows.Scan(&at, &f.Name, &f.Client, &f.Via, &f.Reason, &until); err != nil {
			return nil, fmt.Errorf("store: read login failures: %w", err)
		}
		f.At = time.UnixMilli(at)
		if until.Valid {
			f.Until = time.UnixMilli(until.Int64)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// KnownLoginClient reports whether client logged in to name at or after
// since.
func (j Journal) KnownLoginClient(ctx context.Context, name, client string, since time.Time) (bool, error) {
	var n int
	err := j.Read.QueryRowContext(ctx, `SELECT count(*) FROM login_clients WHERE name = ? AND client = ? AND last_ok >= ?`,
		name, client, since.UnixMilli()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: known login client: %w", err)
	}
	return n > 0, nil
}

// RememberLoginClient records a success of name from client at at, and
// forgets pairs not seen for login.DefaultPolicy.KnownFor.
func (j Journal) RememberLoginClient(ctx context.Context, name, client string, at time.Time) error {
	_, err := j.Write.ExecContext(ctx, `INSERT INTO login_clients (name, client, last_ok) VALUES (?, ?, ?)
		ON CONFLICT (name, client) DO UPDATE SET last_ok = max(last_ok, excluded.last_ok)`, name, client, at.UnixMilli())
	if err == nil {
		_, err = j.Write.ExecContext(ctx, `DELETE FROM login_clients WHERE last_ok < ?`, at.Add(-login.DefaultPolicy.KnownFor).UnixMilli())
	}
	if err != nil {
		return fmt.Errorf("store: remember login client: %w", err)
	}
	return nil
}
