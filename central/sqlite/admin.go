package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/login"
	"github.com/veedel/veedel/internal/login/loginsql"
)

// CreateAdmin adds an admin user or resets one's password and role. It
// works while central runs: another process may hold the file open.
func (s *Store) CreateAdmin(ctx context.Context, name, role, password string, at time.Time) error {
	if err := central.ValidateAdmin(name, role, password); err != nil {
		return err
	}
	hash, err := login.HashPassword(password)
	if err != nil {
		return fmt.Errorf("store: hash password: %w", err)
	}
	_, err = s.db.Write.ExecContext(ctx, `INSERT INTO admins (name, password_hash, role, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role`,
		name, hash, role, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: create admin: %w", err)
	}
	return nil
}

// AuthenticateAdmin checks a name and password. The stored hash is read on
// every call, and a successful bcrypt check is remembered for a few
// minutes keyed by name, password and that hash, so that API clients with
// HTTP Basic do not pay for bcrypt on every request, while a password
// changed by another process (veedel central adduser) takes effect at once.
func (s *Store) AuthenticateAdmin(ctx context.Context, name, password string) (central.Admin, error) {
	var a central.Admin
	var hash string
	err := s.db.Read.QueryRowContext(ctx, `SELECT name, role, password_hash FROM admins WHERE name = ?`, name).Scan(&a.Name, &a.Role, &hash)
	if errors.Is(err, sql.ErrNoRows) {
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
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM admin_sessions WHERE expires_at < ?`, now.UnixMilli()); err != nil {
		return "", fmt.Errorf("store: expire admin sessions: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO admin_sessions (token_hash, admin_name, expires_at) VALUES (?, ?, ?)`,
		sum, name, expires.UnixMilli()); err != nil {
		return "", fmt.Errorf("store: create admin session: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("store: create admin session: %w", err)
	}
	return token, nil
}

// AdminSession returns the admin of a live session.
func (s *Store) AdminSession(ctx context.Context, token string, now time.Time) (central.Admin, error) {
	sum := login.SessionHash(token)
	var a central.Admin
	err := s.db.Read.QueryRowContext(ctx, `SELECT a.name, a.role FROM admin_sessions s JOIN admins a ON a.name = s.admin_name
		WHERE s.token_hash = ? AND s.expires_at > ?`, sum, now.UnixMilli()).Scan(&a.Name, &a.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return a, veedel.Errorf(veedel.EUNAUTHORIZED, "Bitte anmelden / please log in")
	} else if err != nil {
		return a, fmt.Errorf("store: admin session: %w", err)
	}
	return a, nil
}

// DeleteAdminSession ends a session.
func (s *Store) DeleteAdminSession(ctx context.Context, token string) error {
	sum := login.SessionHash(token)
	if _, err := s.db.Write.ExecContext(ctx, `DELETE FROM admin_sessions WHERE token_hash = ?`, sum); err != nil {
		return fmt.Errorf("store: delete admin session: %w", err)
	}
	return nil
}

// The login throttle's journal (internal/login/loginsql): failed admin
// logins and the addresses admins logged in from.

func (s *Store) journal() loginsql.Journal {
	return loginsql.Journal{Write: s.db.Write, Read: s.db.Read}
}

// RecordLoginFailure stores a failed admin login or a lock.
func (s *Store) RecordLoginFailure(ctx context.Context, f login.Failure) error {
	return s.journal().RecordLoginFailure(ctx, f)
}

// LoginFailures returns the newest limit failed admin logins, newest first.
func (s *Store) LoginFailures(ctx context.Context, limit int) ([]login.Failure, error) {
	return s.journal().LoginFailures(ctx, limit)
}

// KnownLoginClient reports whether an admin logged in from client since.
func (s *Store) KnownLoginClient(ctx context.Context, name, client string, since time.Time) (bool, error) {
	return s.journal().KnownLoginClient(ctx, name, client, since)
}

// RememberLoginClient records an admin's successful login from client.
func (s *Store) RememberLoginClient(ctx context.Context, name, client string, at time.Time) error {
	return s.journal().RememberLoginClient(ctx, name, client, at)
}
