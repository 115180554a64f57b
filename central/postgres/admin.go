package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/login"
)

// KeepLoginFailures is how many failed-login rows are kept.
const KeepLoginFailures = 10000

// CreateAdmin adds an admin user or resets one's password and role. It
// works while central runs (veedel central adduser).
func (s *Store) CreateAdmin(ctx context.Context, name, role, password string, at time.Time) error {
	if err := central.ValidateAdmin(name, role, password); err != nil {
		return err
	}
	hash, err := login.HashPassword(password)
	if err != nil {
		return fmt.Errorf("store: hash password: %w", err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO admins (name, password_hash, role, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role`,
		name, hash, role, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: create admin: %w", err)
	}
	return nil
}

// AuthenticateAdmin checks a name and password; the stored hash is read on
// every call and a successful bcrypt check remembered for a few minutes by
// name, password and hash (central/sqlite's AuthenticateAdmin says why).
func (s *Store) AuthenticateAdmin(ctx context.Context, name, password string) (central.Admin, error) {
	var a central.Admin
	var hash string
	err := s.pool.QueryRow(ctx, `SELECT name, role, password_hash FROM admins WHERE name = $1`, name).Scan(&a.Name, &a.Role, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		login.Unknown(password)
		return central.Admin{}, login.ErrUnknownName
	} else if err != nil {
		return central.Admin{}, fmt.Errorf("store: authenticate admin: %w", err)
	}
	if !s.adminLogins.Check(name, password, hash, time.Now()) {
		return central.Admin{}, login.ErrWrongPassword
	}
	return a, nil
}

// CreateAdminSession starts a session and returns the cookie value: 256
// random bits; only their SHA-256 is stored.
func (s *Store) CreateAdminSession(ctx context.Context, name string, now, expires time.Time) (string, error) {
	token, sum := login.NewSession()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `DELETE FROM admin_sessions WHERE expires_at < $1`, now.UnixMilli()); err != nil {
		return "", fmt.Errorf("store: expire admin sessions: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO admin_sessions (token_hash, admin_name, expires_at) VALUES ($1, $2, $3)`,
		sum, name, expires.UnixMilli()); err != nil {
		return "", fmt.Errorf("store: create admin session: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return "", fmt.Errorf("store: create admin session: %w", err)
	}
	return token, nil
}

// AdminSession returns the admin of a live session.
func (s *Store) AdminSession(ctx context.Context, token string, now time.Time) (central.Admin, error) {
	sum := login.SessionHash(token)
	var a central.Admin
	err := s.pool.QueryRow(ctx, `SELECT a.name, a.role FROM admin_sessions s JOIN admins a ON a.name = s.admin_name
		WHERE s.token_hash = $1 AND s.expires_at > $2`, sum, now.UnixMilli()).Scan(&a.Name, &a.Role)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, veedel.Errorf(veedel.EUNAUTHORIZED, "Bitte anmelden / please log in")
	} else if err != nil {
		return a, fmt.Errorf("store: admin session: %w", err)
	}
	return a, nil
}

// DeleteAdminSession ends a session.
func (s *Store) DeleteAdminSession(ctx context.Context, token string) error {
	sum := login.SessionHash(token)
	if _, err := s.pool.Exec(ctx, `DELETE FROM admin_sessions WHERE token_hash = $1`, sum); err != nil {
		return fmt.Errorf("store: delete admin session: %w", err)
	}
	return nil
}

// The login throttle's journal (login.Journal): failed admin logins and
// the addresses admins logged in from, as internal/login/loginsql keeps
// them on SQLite.

// RecordLoginFailure stores a failed admin login or a lock and deletes all
// but the newest KeepLoginFailures.
func (s *Store) RecordLoginFailure(ctx context.Context, f login.Failure) error {
	var until *int64
	if !f.Until.IsZero() {
		u := f.Until.UnixMilli()
		until = &u
	}
	var id int64
	err := s.pool.QueryRow(ctx, `INSERT INTO login_failures (at, name, client, via, reason, until) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		f.At.UnixMilli(), f.Name, f.Client, f.Via, f.Reason, until).Scan(&id)
	if err != nil {
		return fmt.Errorf("store: record login failure: %w", err)
	}
	if id > KeepLoginFailures {
		if _, err := s.pool.Exec(ctx, `DELETE FROM login_failures WHERE id <= $1`, id-KeepLoginFailures); err != nil {
			return fmt.Errorf("store: prune login failures: %w", err)
		}
	}
	return nil
}

// LoginFailures returns the newest limit failed admin logins, newest first.
func (s *Store) LoginFailures(ctx context.Context, limit int) ([]login.Failure, error) {
	rows, err := s.pool.Query(ctx, `SELECT at, name, client, via, reason, until FROM login_failures ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: read login failures: %w", err)
	}
	defer rows.Close()
	out := []login.Failure{}
	for rows.Next() {
		var f login.Failure
		var at int64
		var until *int64
		if err := rows.Scan(&at, &f.Name, &f.Client, &f.Via, &f.Reason, &until); err != nil {
			return nil, fmt.Errorf("store: read login failures: %w", err)
		}
		f.At = time.UnixMilli(at)
		if until != nil {
			f.Until = time.UnixMilli(*until)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// KnownLoginClient reports whether an admin logged in from client since.
func (s *Store) KnownLoginClient(ctx context.Context, name, client string, since time.Time) (bool, error) {
	var known bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM login_clients WHERE name = $1 AND client = $2 AND last_ok >= $3)`,
		name, client, since.UnixMilli()).Scan(&known)
	if err != nil {
		return false, fmt.Errorf("store: known login client: %w", err)
	}
	return known, nil
}

// RememberLoginClient records an admin's successful login from client, and
// forgets pairs not seen for login.DefaultPolicy.KnownFor.
func (s *Store) RememberLoginClient(ctx context.Context, name, client string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO login_clients (name, client, last_ok) VALUES ($1, $2, $3)
		ON CONFLICT (name, client) DO UPDATE SET last_ok = GREATEST(login_clients.last_ok, excluded.last_ok)`, name, client, at.UnixMilli())
	if err == nil {
		_, err = s.pool.Exec(ctx, `DELETE FROM login_clients WHERE last_ok < $1`, at.Add(-login.DefaultPolicy.KnownFor).UnixMilli())
	}
	if err != nil {
		return fmt.Errorf("store: remember login client: %w", err)
	}
	return nil
}
