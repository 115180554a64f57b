package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/internal/login"
)

// Staff roles.
const (
	RoleClerk = "clerk"
	RoleLead  = "lead"
	RoleAdmin = "admin"
	// RoleDoctor and RoleAssistant are the school-health site's exam
	// staff (appliance/exam): only they see a child's health data, and
	// only the doctor signs an exam off.
	RoleDoctor    = "doctor"
	RoleAssistant = "assistant"
)

// SeesHealthData reports whether a role may read children's health data.
func SeesHealthData(role string) bool { return role == RoleDoctor || role == RoleAssistant }

// SessionLifetime is how long a desk login lasts: one working day.
const SessionLifetime = 12 * time.Hour

// User is a staff member of this site.
type User struct {
	Name        string
	DisplayName string
	Role        string
}

// CreateUser adds or replaces a staff account; the password is stored as a
// bcrypt hash.
func (s *Store) CreateUser(ctx context.Context, u User, password string) error {
	if u.Name == "" || len(password) < 4 {
		return veedel.Errorf(veedel.EINVALID, "Benutzername und ein Passwort mit mindestens 4 Zeichen sind nötig / name and a password of at least 4 characters are required")
	}
	hash, err := login.HashPassword(password)
	if err != nil {
		return err
	}
	_, err = s.db.Write.ExecContext(ctx, `INSERT INTO users (name, display_name, password_hash, role) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET display_name = excluded.display_name, password_hash = excluded.password_hash, role = excluded.role`,
		u.Name, u.DisplayName, hash, u.Role)
	if err != nil {
		return fmt.Errorf("store: create user: %w", err)
	}
	return nil
}

// HasUsers reports whether any staff account exists.
func (s *Store) HasUsers(ctx context.Context) (bool, error) {
	var n int
	err := s.db.Read.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n > 0, err
}

// Authenticate checks a staff login (the desk form or the API's HTTP
// Basic) under the login throttle (internal/login: per client and per
// account, a throttled attempt is refused with a *login.ThrottledError
// before bcrypt runs; every failure is logged and recorded, listed by
// LoginFailures). Successful checks are remembered for a few minutes, so
// API clients using HTTP Basic do not pay for bcrypt on every request.
func (s *Store) Authenticate(ctx context.Context, a login.Attempt) (User, error) {
	var u User
	err := s.guard.Login(ctx, a, func() error {
		var hash string
		err := s.db.Read.QueryRowContext(ctx, `SELECT name, display_name, role, password_hash FROM users WHERE name = ?`, a.Name).Scan(&u.Name, &u.DisplayName, &u.Role, &hash)
		if errors.Is(err, sql.ErrNoRows) {
			login.Unknown(a.Password)
			return login.ErrUnknownName
		} else if err != nil {
			return fmt.Errorf("store: authenticate: %w", err)
		}
		if !s.logins.Check(a.Name, a.Password, hash, s.now()) {
			return login.ErrWrongPassword
		}
		return nil
	})
	if err != nil {
		return User{}, err
	}
	return u, nil
}

// LoginFailures returns the newest limit failed logins and locks, newest
// first.
func (s *Store) LoginFailures(ctx context.Context, limit int) ([]login.Failure, error) {
	return s.journal.LoginFailures(ctx, limit)
}

// CreateSession starts a desk session and returns the cookie value. Only its
// SHA-256 is stored, so a copy of the database cannot be used to log in.
func (s *Store) CreateSession(ctx context.Context, user string) (string, error) {
	token, sum := login.NewSession()
	now := s.now()
	_, err := s.db.Write.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ?`, now.UnixMilli())
	if err == nil {
		_, err = s.db.Write.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_name, expires_at) VALUES (?, ?, ?)`,
			sum, user, now.Add(SessionLifetime).UnixMilli())
	}
	if err != nil {
		return "", fmt.Errorf("store: create session: %w", err)
	}
	return token, nil
}

// Session is a logged-in desk user and the counter they work at.
type Session struct {
	User    User
	Counter string
}

// SessionByToken returns the live session for a cookie value.
func (s *Store) SessionByToken(ctx context.Context, token string) (Session, error) {
	sum := login.SessionHash(token)
	var sess Session
	err := s.db.Read.QueryRowContext(ctx, `SELECT u.name, u.display_name, u.role, s.counter FROM sessions s JOIN users u ON u.name = s.user_name
		WHERE s.token_hash = ? AND s.expires_at > ?`, sum, s.now().UnixMilli()).Scan(&sess.User.Name, &sess.User.DisplayName, &sess.User.Role, &sess.Counter)
	if errors.Is(err, sql.ErrNoRows) {
		return sess, veedel.Errorf(veedel.EUNAUTHORIZED, "Bitte anmelden / please log in")
	} else if err != nil {
		return sess, fmt.Errorf("store: session: %w", err)
	}
	return sess, nil
}

// SetSessionCounter records which counter a session works at.
func (s *Store) SetSessionCounter(ctx context.Context, token, counter string) error {
	sum := login.SessionHash(token)
	_, err := s.db.Write.ExecContext(ctx, `UPDATE sessions SET counter = ? WHERE token_hash = ?`, counter, sum)
	return err
}

// DeleteSession logs a session out.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	sum := login.SessionHash(token)
	_, err := s.db.Write.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, sum)
	return err
}
