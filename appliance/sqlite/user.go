package sqlite

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/veedel/veedel"
	"golang.org/x/crypto/bcrypt"
)

// Staff roles.
const (
	RoleClerk = "clerk"
	RoleLead  = "lead"
	RoleAdmin = "admin"
)

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
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	_, err = s.db.Write.ExecContext(ctx, `INSERT INTO users (name, display_name, password_hash, role) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET display_name = excluded.display_name, password_hash = excluded.password_hash, role = excluded.role`,
		u.Name, u.DisplayName, string(hash), u.Role)
	if err != nil {
		return fmt.Errorf("store: create user: %w", err)
	}
	s.auth.clear()
	return nil
}

// HasUsers reports whether any staff account exists.
func (s *Store) HasUsers(ctx context.Context) (bool, error) {
	var n int
	err := s.db.Read.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n > 0, err
}

var errBadLogin = veedel.Errorf(veedel.EUNAUTHORIZED, "Benutzername oder Passwort falsch / wrong user name or password")

// Authenticate checks a user name and password. Successful checks are cached
// for a few minutes (keyed by a hash of both) so that API clients using HTTP
// Basic auth do not pay for bcrypt on every request.
func (s *Store) Authenticate(ctx context.Context, name, password string) (User, error) {
	key := sha256.Sum256([]byte(name + "\x00" + password))
	if u, ok := s.auth.get(key, s.now()); ok {
		return u, nil
	}
	var u User
	var hash string
	err := s.db.Read.QueryRowContext(ctx, `SELECT name, display_name, role, password_hash FROM users WHERE name = ?`, name).Scan(&u.Name, &u.DisplayName, &u.Role, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		// Spend the same time as for a wrong password, so that timing does
		// not tell which user names exist.
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return User{}, errBadLogin
	} else if err != nil {
		return User{}, fmt.Errorf("store: authenticate: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return User{}, errBadLogin
	}
	s.auth.put(key, u, s.now())
	return u, nil
}

var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("veedel-dummy"), bcrypt.DefaultCost)

// CreateSession starts a desk session and returns the cookie value. Only its
// SHA-256 is stored, so a copy of the database cannot be used to log in.
func (s *Store) CreateSession(ctx context.Context, user string) (string, error) {
	b := make([]byte, 32)
	rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(token))
	now := s.now()
	_, err := s.db.Write.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ?`, now.UnixMilli())
	if err == nil {
		_, err = s.db.Write.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_name, expires_at) VALUES (?, ?, ?)`,
			sum[:], user, now.Add(SessionLifetime).UnixMilli())
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
	sum := sha256.Sum256([]byte(token))
	var sess Session
	err := s.db.Read.QueryRowContext(ctx, `SELECT u.name, u.display_name, u.role, s.counter FROM sessions s JOIN users u ON u.name = s.user_name
		WHERE s.token_hash = ? AND s.expires_at > ?`, sum[:], s.now().UnixMilli()).Scan(&sess.User.Name, &sess.User.DisplayName, &sess.User.Role, &sess.Counter)
	if errors.Is(err, sql.ErrNoRows) {
		return sess, veedel.Errorf(veedel.EUNAUTHORIZED, "Bitte anmelden / please log in")
	} else if err != nil {
		return sess, fmt.Errorf("store: session: %w", err)
	}
	return sess, nil
}

// SetSessionCounter records which counter a session works at.
func (s *Store) SetSessionCounter(ctx context.Context, token, counter string) error {
	sum := sha256.Sum256([]byte(token))
	_, err := s.db.Write.ExecContext(ctx, `UPDATE sessions SET counter = ? WHERE token_hash = ?`, counter, sum[:])
	return err
}

// DeleteSession logs a session out.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	sum := sha256.Sum256([]byte(token))
	_, err := s.db.Write.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, sum[:])
	return err
}

// authCache remembers recent successful password checks.
type authCache struct {
	mu      sync.Mutex
	entries map[[32]byte]authEntry
}

type authEntry struct {
	user    User
	expires time.Time
}

const authCacheTTL = 5 * time.Minute

func (c *authCache) get(key [32]byte, now time.Time) (User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || now.After(e.expires) {
		return User{}, false
	}
	return e.user, true
}

func (c *authCache) put(key [32]byte, u User, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) > 1000 {
		c.entries = map[[32]byte]authEntry{}
	}
	c.entries[key] = authEntry{user: u, expires: now.Add(authCacheTTL)}
}

func (c *authCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = nil
}
