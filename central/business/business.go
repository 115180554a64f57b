// Package business owns the business portal's accounts and their traces
// at central: companies, their users (company admin, clerk) with password
// and TOTP, sessions, API keys for machine clients, the applications each
// company submitted (keyed by the client's row key, so that a retried
// upload does not submit twice) and the webhook deliveries queued on every
// status change of those applications, sent at least once by Sender.
//
// Store speaks plain SQL through database/sql on central's own database:
// SQLite (central/sqlite's migration 0024) or PostgreSQL (central/postgres's
// 0014), as the mail outbox does.
package business

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/internal/placeholder"
)

// Roles of a company's users.
const (
	RoleAdmin = "admin" // adds users, API keys, the webhook; submits
	RoleClerk = "clerk" // submits and looks
)

// Company is a business account.
type Company struct {
	ID         string
	Name       string
	WebhookURL string
	HasSecret  bool
	Created    time.Time
}

// User is one of a company's people.
type User struct {
	Company      string
	Name         string
	Role         string
	PasswordHash string
	TOTPSealed   []byte // nil until enrolment starts
	TOTPEnrolled bool
	Created      time.Time
}

// APIKey is a machine client's key, as its company sees it (never the
// key itself: central keeps its SHA-256).
type APIKey struct {
	ID      string
	Company string
	Name    string
	Created time.Time
	Revoked time.Time // zero: valid
}

// Store is the portal's tables in central's database.
type Store struct {
	DB       *sql.DB
	Postgres bool // DB is PostgreSQL ($n placeholders)
}

// q is query in the database's dialect.
func (s *Store) q(query string) string {
	if !s.Postgres {
		return query
	}
	return placeholder.Dollar(query)
}

func (s *Store) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := s.DB.ExecContext(ctx, s.q(query), args...)
	if err != nil {
		return 0, fmt.Errorf("business: %w", err)
	}
	return res.RowsAffected()
}

var idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,39}$`)

// CheckID checks a company's or user's short name: 2 to 40 lower-case
// letters, digits and dashes, as it appears in logs and logins.
func CheckID(field, id string) error {
	if !idRE.MatchString(id) {
		return veedel.FieldErrors{field: "2–40 Kleinbuchstaben, Ziffern oder Bindestriche / 2–40 lower-case letters, digits or dashes"}.
			Err(field + ": 2–40 Kleinbuchstaben, Ziffern oder Bindestriche / " + field + ": 2–40 lower-case letters, digits or dashes")
	}
	return nil
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64)
}

// isConflict reports a unique or primary key violation, on either database.
func isConflict(err error) bool {
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint") || strings.Contains(s, "SQLSTATE 23505") || strings.Contains(s, "duplicate key")
}
