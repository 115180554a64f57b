package central

import (
	"context"
	"regexp"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/internal/login"
)

// Central's admin users: the city's IT staff, who edit the city-wide
// reference data, and technicians, who watch the fleet. They log in at
// /admin with a password (stored as a bcrypt hash) and get a session
// cookie of which central keeps only the SHA-256.

// Admin roles.
const (
	RoleAdmin      = "admin"      // edits the catalogue and opening hours, watches sync
	RoleTechnician = "technician" // watches sync and the catalogue, edits nothing
)

// AdminSessionLifetime is how long an admin login lasts: one working day.
const AdminSessionLifetime = 10 * time.Hour

// MinAdminPassword is the shortest password an admin may have.
const MinAdminPassword = 5

// Admin is a logged-in admin user.
type Admin struct {
	Name string
	Role string
}

// CanEdit reports whether the admin may change reference data.
func (a Admin) CanEdit() bool { return a.Role == RoleAdmin }

// AdminStore keeps admin users and sessions. Every LogStore is one.
type AdminStore interface {
	// CreateAdmin adds an admin user or resets an existing one's password
	// and role.
	CreateAdmin(ctx context.Context, name, role, password string, at time.Time) error
	// AuthenticateAdmin checks a name and password: login.ErrUnknownName
	// or login.ErrWrongPassword (both EUNAUTHORIZED with the same message,
	// so that names cannot be probed).
	AuthenticateAdmin(ctx context.Context, name, password string) (Admin, error)
	// CreateAdminSession starts a session until expires and returns the
	// random cookie value; only its SHA-256 is stored.
	CreateAdminSession(ctx context.Context, name string, now, expires time.Time) (string, error)
	// AdminSession returns the admin of a live session (EUNAUTHORIZED when
	// the token is unknown or expired).
	AdminSession(ctx context.Context, token string, now time.Time) (Admin, error)
	// DeleteAdminSession ends a session.
	DeleteAdminSession(ctx context.Context, token string) error
	// Journal keeps failed admin logins and the addresses admins logged
	// in from, for the login throttle (internal/login).
	login.Journal
	// LoginFailures returns the newest limit failed logins and locks,
	// newest first.
	LoginFailures(ctx context.Context, limit int) ([]login.Failure, error)
}

var adminNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,31}$`)

// ValidateAdmin checks a new admin's name, role and password.
func ValidateAdmin(name, role, password string) error {
	switch {
	case !adminNamePattern.MatchString(name):
		return veedel.Errorf(veedel.EINVALID, "Benutzername %q ungültig: 1–32 Kleinbuchstaben, Ziffern, Punkt, Bindestrich oder Unterstrich / user name %q invalid: 1–32 lower-case letters, digits, dot, hyphen or underscore", name, name)
	case role != RoleAdmin && role != RoleTechnician:
		return veedel.Errorf(veedel.EINVALID, "Rolle %q unbekannt: admin oder technician / unknown role %q: admin or technician", role, role)
	case len(password) < MinAdminPassword:
		return veedel.Errorf(veedel.EINVALID, "Das Passwort braucht mindestens %d Zeichen / the password needs at least %d characters", MinAdminPassword, MinAdminPassword)
	}
	return nil
}

// AuthenticateAdmin checks an admin's name and password (HTTP Basic on
// the admin API) under the login throttle: a throttled attempt is refused
// with a *login.ThrottledError before the password is checked; every
// failure is logged and recorded (LoginFailures).
func (c *Central) AuthenticateAdmin(ctx context.Context, a login.Attempt) (Admin, error) {
	var admin Admin
	err := c.logins.Login(ctx, a, func() (err error) {
		admin, err = c.store.AuthenticateAdmin(ctx, a.Name, a.Password)
		return err
	})
	if err != nil {
		return Admin{}, err
	}
	return admin, nil
}

// LoginFailures returns the newest limit failed admin logins and locks.
func (c *Central) LoginFailures(ctx context.Context, limit int) ([]login.Failure, error) {
	return c.store.LoginFailures(ctx, limit)
}

// LoginAdmin checks an admin's name and password (the login form, under
// the same throttle) and starts a session; it returns the admin and the
// session's cookie value.
func (c *Central) LoginAdmin(ctx context.Context, at login.Attempt) (Admin, string, error) {
	a, err := c.AuthenticateAdmin(ctx, at)
	if err != nil {
		return Admin{}, "", err
	}
	now := c.now()
	token, err := c.store.CreateAdminSession(ctx, a.Name, now, now.Add(AdminSessionLifetime))
	if err != nil {
		return Admin{}, "", err
	}
	c.log.Info("admin logged in", "admin", a.Name, "role", a.Role)
	return a, token, nil
}

// AdminSession returns the admin behind a session cookie value.
func (c *Central) AdminSession(ctx context.Context, token string) (Admin, error) {
	return c.store.AdminSession(ctx, token, c.now())
}

// LogoutAdmin ends a session.
func (c *Central) LogoutAdmin(ctx context.Context, token string) error {
	return c.store.DeleteAdminSession(ctx, token)
}
