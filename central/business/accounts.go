package business

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/veedel/veedel"
)

// CreateCompany adds a company (central's admins do: /admin/business,
// veedel central company add); ECONFLICT when the id is taken.
func (s *Store) CreateCompany(ctx context.Context, id, name string, now time.Time) error {
	if err := CheckID("id", id); err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 || hasUnsafe(name) {
		return veedel.FieldErrors{"name": "Name fehlt oder ist zu lang / name missing or too long"}.Err("Name ungültig / invalid name")
	}
	_, err := s.exec(ctx, `INSERT INTO business_companies (id, name, created_at) VALUES (?, ?, ?)`, id, name, ms(now))
	if err != nil && isConflict(err) {
		return veedel.Errorf(veedel.ECONFLICT, "Firma %q gibt es schon / company %q exists already", id, id)
	}
	return err
}

// Companies lists every company by id.
func (s *Store) Companies(ctx context.Context) ([]Company, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT id, name, webhook_url, webhook_secret IS NOT NULL, created_at FROM business_companies ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("business: companies: %w", err)
	}
	defer rows.Close()
	var out []Company
	for rows.Next() {
		var c Company
		var created int64
		if err := rows.Scan(&c.ID, &c.Name, &c.WebhookURL, &c.HasSecret, &created); err != nil {
			return nil, err
		}
		c.Created = time.UnixMilli(created)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Company returns one company; ENOTFOUND when there is none.
func (s *Store) Company(ctx context.Context, id string) (Company, error) {
	var c Company
	var created int64
	err := s.DB.QueryRowContext(ctx, s.q(`SELECT id, name, webhook_url, webhook_secret IS NOT NULL, created_at FROM business_companies WHERE id = ?`), id).
		Scan(&c.ID, &c.Name, &c.WebhookURL, &c.HasSecret, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Company{}, veedel.Errorf(veedel.ENOTFOUND, "Firma unbekannt / unknown company")
	} else if err != nil {
		return Company{}, fmt.Errorf("business: company: %w", err)
	}
	c.Created = time.UnixMilli(created)
	return c, nil
}

// SetWebhook sets a company's endpoint and its sealed secret (nil keeps
// the secret it has).
func (s *Store) SetWebhook(ctx context.Context, company, url string, sealedSecret []byte) error {
	var n int64
	var err error
	if sealedSecret == nil {
		n, err = s.exec(ctx, `UPDATE business_companies SET webhook_url = ? WHERE id = ?`, url, company)
	} else {
		n, err = s.exec(ctx, `UPDATE business_companies SET webhook_url = ?, webhook_secret = ? WHERE id = ?`, url, sealedSecret, company)
	}
	if err == nil && n == 0 {
		return veedel.Errorf(veedel.ENOTFOUND, "Firma unbekannt / unknown company")
	}
	return err
}

// WebhookSecret returns a company's sealed webhook secret (nil: none).
func (s *Store) WebhookSecret(ctx context.Context, company string) ([]byte, error) {
	var sealed []byte
	err := s.DB.QueryRowContext(ctx, s.q(`SELECT webhook_secret FROM business_companies WHERE id = ?`), company).Scan(&sealed)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("business: webhook secret: %w", err)
	}
	return sealed, nil
}

// PutUser creates a user of company, or sets an existing user's role and
// password (a reset: the TOTP enrolment starts again, the user's sessions
// end).
func (s *Store) PutUser(ctx context.Context, company, name, role, passwordHash string, now time.Time) error {
	if err := CheckID("name", name); err != nil {
		return err
	}
	if role != RoleAdmin && role != RoleClerk {
		return veedel.FieldErrors{"role": "admin oder clerk / admin or clerk"}.Err("Rolle ungültig / invalid role")
	}
	if _, err := s.Company(ctx, company); err != nil {
		return err
	}
	_, err := s.exec(ctx, `INSERT INTO business_users (company, name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (company, name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash,
		totp_secret = NULL, totp_enrolled = 0`, company, name, role, passwordHash, ms(now))
	if err != nil {
		return err
	}
	// A reset ends the user's sessions.
	_, err = s.exec(ctx, `DELETE FROM business_sessions WHERE company = ? AND name = ?`, company, name)
	return err
}

// User returns one user; ENOTFOUND when there is none.
func (s *Store) User(ctx context.Context, company, name string) (User, error) {
	u := User{Company: company, Name: name}
	var created int64
	err := s.DB.QueryRowContext(ctx, s.q(`SELECT role, password_hash, totp_secret, totp_enrolled, created_at FROM business_users WHERE company = ? AND name = ?`), company, name).
		Scan(&u.Role, &u.PasswordHash, &u.TOTPSealed, &u.TOTPEnrolled, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, veedel.Errorf(veedel.ENOTFOUND, "Benutzer unbekannt / unknown user")
	} else if err != nil {
		return User{}, fmt.Errorf("business: user: %w", err)
	}
	u.Created = time.UnixMilli(created)
	return u, nil
}

// Users lists a company's users by name.
func (s *Store) Users(ctx context.Context, company string) ([]User, error) {
	rows, err := s.DB.QueryContext(ctx, s.q(`SELECT name, role, totp_enrolled, created_at FROM business_users WHERE company = ? ORDER BY name`), company)
	if err != nil {
		return nil, fmt.Errorf("business: users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u := User{Company: company}
		var created int64
		if err := rows.Scan(&u.Name, &u.Role, &u.TOTPEnrolled, &created); err != nil {
			return nil, err
		}
		u.Created = time.UnixMilli(created)
		out = append(out, u)
	}
	return out, rows.Err()
}

// StartTOTP stores a new sealed secret for a user not yet enrolled.
func (s *Store) StartTOTP(ctx context.Context, company, name string, sealed []byte) error {
	n, err := s.exec(ctx, `UPDATE business_users SET totp_secret = ? WHERE company = ? AND name = ? AND totp_enrolled = 0`, sealed, company, name)
	if err == nil && n == 0 {
		return veedel.Errorf(veedel.ECONFLICT, "schon eingerichtet / already enrolled")
	}
	return err
}

// UseTOTPStep records that the user's code of step was used, and marks the
// enrolment done. It reports false when that step or a later one was used
// already: a code is good once.
func (s *Store) UseTOTPStep(ctx context.Context, company, name string, step int64) (bool, error) {
	n, err := s.exec(ctx, `UPDATE business_users SET totp_step = ?, totp_enrolled = 1 WHERE company = ? AND name = ? AND totp_step < ?`, step, company, name, step)
	return n == 1, err
}

// NewSession stores a session of the user: mfa false after the password,
// true once the TOTP code was right too. It returns the cookie's value.
func (s *Store) NewSession(ctx context.Context, company, name string, mfa bool, expires time.Time) (string, error) {
	token, hash := newToken()
	done := 0
	if mfa {
		done = 1
	}
	_, err := s.exec(ctx, `INSERT INTO business_sessions (hash, company, name, mfa_done, expires_at) VALUES (?, ?, ?, ?, ?)`, hash, company, name, done, ms(expires))
	return token, err
}

// Session returns the user of a live session and whether it passed TOTP;
// EUNAUTHORIZED otherwise.
func (s *Store) Session(ctx context.Context, token string, now time.Time) (User, bool, error) {
	var company, name string
	var mfa bool
	err := s.DB.QueryRowContext(ctx, s.q(`SELECT company, name, mfa_done FROM business_sessions WHERE hash = ? AND expires_at > ?`), hashOf(token), ms(now)).Scan(&company, &name, &mfa)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, false, veedel.Errorf(veedel.EUNAUTHORIZED, "Sitzung abgelaufen / session expired")
	} else if err != nil {
		return User{}, false, fmt.Errorf("business: session: %w", err)
	}
	u, err := s.User(ctx, company, name)
	if veedel.ErrorCode(err) == veedel.ENOTFOUND {
		return User{}, false, veedel.Errorf(veedel.EUNAUTHORIZED, "Sitzung abgelaufen / session expired")
	}
	return u, mfa, err
}

// EndSession deletes a session (and every expired one).
func (s *Store) EndSession(ctx context.Context, token string, now time.Time) error {
	_, err := s.exec(ctx, `DELETE FROM business_sessions WHERE hash = ? OR expires_at <= ?`, hashOf(token), ms(now))
	return err
}

// APIKeyPrefix starts every key, so that leaked keys are easy to find.
const APIKeyPrefix = "vdl_"

// CreateAPIKey makes a named key for company; the key is returned once
// and only its SHA-256 is kept.
func (s *Store) CreateAPIKey(ctx context.Context, company, name string, now time.Time) (APIKey, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 || hasUnsafe(name) {
		return APIKey{}, "", veedel.FieldErrors{"name": "Name fehlt oder ist zu lang / name missing or too long"}.Err("Name ungültig / invalid name")
	}
	token, _ := newToken()
	key := APIKeyPrefix + token
	hash := hashOf(key)
	id := token[:8] // shown beside the name; the other 35 characters stay secret
	if _, err := s.exec(ctx, `INSERT INTO business_api_keys (id, company, name, hash, created_at) VALUES (?, ?, ?, ?, ?)`, id, company, name, hash, ms(now)); err != nil {
		return APIKey{}, "", err
	}
	return APIKey{ID: id, Company: company, Name: name, Created: now}, key, nil
}

// APIKeys lists a company's keys, newest first.
func (s *Store) APIKeys(ctx context.Context, company string) ([]APIKey, error) {
	rows, err := s.DB.QueryContext(ctx, s.q(`SELECT id, name, created_at, revoked_at FROM business_api_keys WHERE company = ? ORDER BY created_at DESC, id`), company)
	if err != nil {
		return nil, fmt.Errorf("business: api keys: %w", err)
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		k := APIKey{Company: company}
		var created int64
		var revoked sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Name, &created, &revoked); err != nil {
			return nil, err
		}
		k.Created, k.Revoked = time.UnixMilli(created), fromMS(revoked)
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey revokes a company's key at once.
func (s *Store) RevokeAPIKey(ctx context.Context, company, id string, now time.Time) error {
	n, err := s.exec(ctx, `UPDATE business_api_keys SET revoked_at = ? WHERE company = ? AND id = ? AND revoked_at IS NULL`, ms(now), company, id)
	if err == nil && n == 0 {
		return veedel.Errorf(veedel.ENOTFOUND, "Schlüssel unbekannt oder schon widerrufen / key unknown or revoked already")
	}
	return err
}

// Authenticate returns the company of a valid API key; EUNAUTHORIZED
// otherwise (unknown and revoked alike).
func (s *Store) Authenticate(ctx context.Context, key string) (string, error) {
	var company string
	err := s.DB.QueryRowContext(ctx, s.q(`SELECT company FROM business_api_keys WHERE hash = ? AND revoked_at IS NULL`), hashOf(key)).Scan(&company)
	if errors.Is(err, sql.ErrNoRows) {
		return "", veedel.Errorf(veedel.EUNAUTHORIZED, "API-Schlüssel unbekannt oder widerrufen / API key unknown or revoked")
	} else if err != nil {
		return "", fmt.Errorf("business: api key: %w", err)
	}
	return company, nil
}

func newToken() (string, []byte) {
	var b [32]byte
	rand.Read(b[:])
	t := base64.RawURLEncoding.EncodeToString(b[:])
	return t, hashOf(t)
}

func hashOf(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func hasUnsafe(s string) bool {
	_, bad := veedel.UnsafeRune(s)
	return bad
}
