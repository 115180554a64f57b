package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/login"
)

func testAdmins(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	if err := s.CreateAdmin(ctx, "anna", central.RoleAdmin, "geheim123", start); err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		a, err := s.AuthenticateAdmin(ctx, "anna", "geheim123")
		if err != nil || a.Name != "anna" || a.Role != central.RoleAdmin {
			t.Fatalf("AuthenticateAdmin = %+v, %v", a, err)
		}
	})
	for _, tc := range []struct{ name, user, password string }{
		{"ErrWrongPassword", "anna", "geheim124"},
		{"ErrUnknownUser", "bert", "geheim123"},
		{"ErrEmptyPassword", "anna", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.AuthenticateAdmin(ctx, tc.user, tc.password)
			if veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
				t.Errorf("AuthenticateAdmin(%s) = %v, want %s", tc.user, err, veedel.EUNAUTHORIZED)
			}
		})
	}
	for _, tc := range []struct{ name, user, role, password string }{
		{"ErrRole", "carl", "root", "geheim123"},
		{"ErrShortPassword", "carl", central.RoleAdmin, "abc"},
		{"ErrName", "Carl Meier", central.RoleAdmin, "geheim123"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.CreateAdmin(ctx, tc.user, tc.role, tc.password, start); veedel.ErrorCode(err) != veedel.EINVALID {
				t.Errorf("CreateAdmin = %v, want %s", err, veedel.EINVALID)
			}
		})
	}
	t.Run("PasswordChangeByAnotherProcess", func(t *testing.T) {
		// A successful login is cached; a reset from another process (the
		// adduser command) must still end the old password at once.
		if _, err := s.AuthenticateAdmin(ctx, "anna", "geheim123"); err != nil {
			t.Fatal(err)
		}
		other := mustOpen(t, open)
		if err := other.CreateAdmin(ctx, "anna", central.RoleTechnician, "neues-passwort", start); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AuthenticateAdmin(ctx, "anna", "geheim123"); veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
			t.Errorf("old password after reset: %v, want %s", err, veedel.EUNAUTHORIZED)
		}
		a, err := s.AuthenticateAdmin(ctx, "anna", "neues-passwort")
		if err != nil || a.Role != central.RoleTechnician {
			t.Errorf("new password: %+v, %v; want the technician", a, err)
		}
	})
	t.Run("Sessions", func(t *testing.T) {
		token, err := s.CreateAdminSession(ctx, "anna", start, start.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if a, err := s.AdminSession(ctx, token, start.Add(time.Minute)); err != nil || a.Name != "anna" {
			t.Errorf("AdminSession = %+v, %v", a, err)
		}
		if _, err := s.AdminSession(ctx, token, start.Add(2*time.Hour)); veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
			t.Errorf("expired session: %v, want %s", err, veedel.EUNAUTHORIZED)
		}
		if _, err := s.AdminSession(ctx, token+"x", start); veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
			t.Errorf("wrong token: %v, want %s", err, veedel.EUNAUTHORIZED)
		}
		if err := s.DeleteAdminSession(ctx, token); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AdminSession(ctx, token, start); veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
			t.Errorf("session after logout: %v, want %s", err, veedel.EUNAUTHORIZED)
		}
	})
}

// The login throttle's journal: failures newest first, known clients by
// time.
func testLoginJournal(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	for i, name := range []string{"anna", "", "bert"} {
		f := login.Failure{At: start.Add(time.Duration(i) * time.Minute), Name: name, Client: "192.0.2.0", Via: "form", Reason: "wrong password"}
		if i == 2 {
			f.Until = start.Add(time.Hour)
		}
		if err := s.RecordLoginFailure(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.LoginFailures(ctx, 2)
	if err != nil || len(got) != 2 || got[0].Name != "bert" || !got[0].Until.Equal(start.Add(time.Hour)) || got[1].Name != "" || !got[1].Until.IsZero() {
		t.Errorf("LoginFailures(2) = %+v, %v; want bert (locked) then the nameless one", got, err)
	}
	if err := s.RememberLoginClient(ctx, "anna", "192.0.2.0", start); err != nil {
		t.Fatal(err)
	}
	if err := s.RememberLoginClient(ctx, "anna", "192.0.2.0", start.Add(-time.Hour)); err != nil { // older: kept the newer
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, client string
		since        time.Time
		want         bool
	}{
		{"anna", "192.0.2.0", start, true},
		{"anna", "192.0.2.0", start.Add(time.Second), false},
		{"anna", "198.51.100.0", start.Add(-time.Hour), false},
		{"bert", "192.0.2.0", start.Add(-time.Hour), false},
	} {
		if known, err := s.KnownLoginClient(ctx, tc.name, tc.client, tc.since); err != nil || known != tc.want {
			t.Errorf("KnownLoginClient(%s, %s, %v) = %v, %v; want %v", tc.name, tc.client, tc.since, known, err, tc.want)
		}
	}
}
