package sqlite_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/internal/login"
)

func mustCreateUser(tb testing.TB, e *env, name, password, role string) {
	tb.Helper()
	if err := e.store.CreateUser(context.Background(), sqlite.User{Name: name, DisplayName: "Frau " + name, Role: role}, password); err != nil {
		tb.Fatalf("CreateUser(%s): %v", name, err)
	}
}

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	if has, err := e.store.HasUsers(ctx); err != nil || has {
		t.Errorf("HasUsers of a new store = %v, %v; want false", has, err)
	}
	mustCreateUser(t, e, "anna", "geheim123", sqlite.RoleClerk)
	if has, err := e.store.HasUsers(ctx); err != nil || !has {
		t.Errorf("HasUsers = %v, %v; want true", has, err)
	}

	t.Run("OK", func(t *testing.T) {
		for range 2 { // the second answer comes from the cache
			u, err := e.store.Authenticate(ctx, login.Attempt{Name: "anna", Password: "geheim123", Client: "10.0.0.9:1"})
			if err != nil {
				t.Fatal(err)
			}
			if want := (sqlite.User{Name: "anna", DisplayName: "Frau anna", Role: sqlite.RoleClerk}); u != want {
				t.Errorf("user = %+v, want %+v", u, want)
			}
		}
	})

	t.Run("ErrWrongPassword", func(t *testing.T) {
		_, err := e.store.Authenticate(ctx, login.Attempt{Name: "anna", Password: "geheim124", Client: "10.0.0.9:1"})
		wantCode(t, err, veedel.EUNAUTHORIZED)
		_, err = e.store.Authenticate(ctx, login.Attempt{Name: "anna", Password: "", Client: "10.0.0.9:1"})
		wantCode(t, err, veedel.EUNAUTHORIZED)
	})

	t.Run("ErrUnknownUser", func(t *testing.T) {
		_, err := e.store.Authenticate(ctx, login.Attempt{Name: "bernd", Password: "geheim123", Client: "10.0.0.9:1"})
		wantCode(t, err, veedel.EUNAUTHORIZED)
	})

	t.Run("PasswordChange", func(t *testing.T) {
		mustCreateUser(t, e, "anna", "neues-passwort", sqlite.RoleLead)
		_, err := e.store.Authenticate(ctx, login.Attempt{Name: "anna", Password: "geheim123", Client: "10.0.0.9:1"})
		wantCode(t, err, veedel.EUNAUTHORIZED) // not from the cache
		u, err := e.store.Authenticate(ctx, login.Attempt{Name: "anna", Password: "neues-passwort", Client: "10.0.0.9:1"})
		if err != nil {
			t.Fatal(err)
		}
		if u.Role != sqlite.RoleLead {
			t.Errorf("role = %q, want %q", u.Role, sqlite.RoleLead)
		}
	})

	t.Run("ErrCreateUserInvalid", func(t *testing.T) {
		err := e.store.CreateUser(ctx, sqlite.User{Name: "carla", Role: sqlite.RoleClerk}, "abc")
		wantCode(t, err, veedel.EINVALID)
		err = e.store.CreateUser(ctx, sqlite.User{Name: "", Role: sqlite.RoleClerk}, "geheim123")
		wantCode(t, err, veedel.EINVALID)
		if err := e.store.CreateUser(ctx, sqlite.User{Name: "carla", Role: "boss"}, "geheim123"); err == nil {
			t.Errorf("CreateUser with an unknown role: err = nil, want an error")
		}
	})

	t.Run("PasswordNotStored", func(t *testing.T) {
		var hash string
		if err := e.openSecond().QueryRow(`SELECT password_hash FROM users WHERE name = 'anna'`).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains([]byte(hash), []byte("neues-passwort")) {
			t.Errorf("password stored in clear: %q", hash)
		}
	})
}

func TestSessions(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		mustCreateUser(t, e, "anna", "geheim123", sqlite.RoleClerk)
		token, err := e.store.CreateSession(ctx, "anna")
		if err != nil {
			t.Fatal(err)
		}
		other, err := e.store.CreateSession(ctx, "anna")
		if err != nil {
			t.Fatal(err)
		}
		if token == other || len(token) < 40 {
			t.Errorf("tokens %q and %q, want two different tokens of 256 bits", token, other)
		}
		s, err := e.store.SessionByToken(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if s.User.Name != "anna" || s.User.Role != sqlite.RoleClerk || s.Counter != "" {
			t.Errorf("session = %+v, want anna, clerk, no counter", s)
		}
		if err := e.store.SetSessionCounter(ctx, token, "3"); err != nil {
			t.Fatal(err)
		}
		if s, err := e.store.SessionByToken(ctx, token); err != nil || s.Counter != "3" {
			t.Errorf("session after SetSessionCounter = %+v, %v; want counter 3", s, err)
		}
		// The database holds no usable token.
		var n int
		if err := e.openSecond().QueryRow(`SELECT count(*) FROM sessions WHERE token_hash = ? OR CAST(token_hash AS TEXT) = ?`, []byte(token), token).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("session token stored in clear")
		}
		// Survives a restart.
		e.reopen()
		if _, err := e.store.SessionByToken(ctx, token); err != nil {
			t.Errorf("SessionByToken after reopen: %v", err)
		}
	})

	t.Run("DeleteSession", func(t *testing.T) {
		e := newEnv(t)
		mustCreateUser(t, e, "anna", "geheim123", sqlite.RoleClerk)
		token, _ := e.store.CreateSession(ctx, "anna")
		other, _ := e.store.CreateSession(ctx, "anna")
		if err := e.store.DeleteSession(ctx, token); err != nil {
			t.Fatal(err)
		}
		_, err := e.store.SessionByToken(ctx, token)
		wantCode(t, err, veedel.EUNAUTHORIZED)
		if _, err := e.store.SessionByToken(ctx, other); err != nil {
			t.Errorf("other session after logout of the first: %v, want it alive", err)
		}
	})

	t.Run("ErrExpired", func(t *testing.T) {
		e := newEnv(t)
		mustCreateUser(t, e, "anna", "geheim123", sqlite.RoleClerk)
		token, _ := e.store.CreateSession(ctx, "anna")
		e.clock.Add(sqlite.SessionLifetime - time.Minute)
		if _, err := e.store.SessionByToken(ctx, token); err != nil {
			t.Errorf("session a minute before expiry: %v, want alive", err)
		}
		e.clock.Add(2 * time.Minute)
		_, err := e.store.SessionByToken(ctx, token)
		wantCode(t, err, veedel.EUNAUTHORIZED)
	})

	t.Run("ErrUnknownToken", func(t *testing.T) {
		e := newEnv(t)
		_, err := e.store.SessionByToken(ctx, "no-such-token")
		wantCode(t, err, veedel.EUNAUTHORIZED)
		_, err = e.store.SessionByToken(ctx, "")
		wantCode(t, err, veedel.EUNAUTHORIZED)
	})

	t.Run("ErrUnknownUser", func(t *testing.T) {
		e := newEnv(t)
		if _, err := e.store.CreateSession(ctx, "ghost"); err == nil {
			t.Errorf("CreateSession for an unknown user: err = nil, want a foreign key error")
		}
	})
}

// Failed logins are recorded in the site database, without the name
// when no account has it; the machines staff logged in from are kept
// there too, so that after a reboot (a new Store on the file) an attack
// on a clerk's name still does not lock her own machine out.
func TestLoginFailuresRecordedAndKnownClientsSurviveReboot(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	mustCreateUser(t, e, "anna", "geheim123", sqlite.RoleClerk)
	clerk := login.Attempt{Name: "anna", Password: "geheim123", Client: "10.0.0.20:5000", Via: login.ViaForm}
	if _, err := e.store.Authenticate(ctx, clerk); err != nil {
		t.Fatal(err)
	}
	e.reopen()
	start := e.clock.Now()
	p := login.DefaultPolicy
	for i := range p.AccountFree + 2 {
		e.clock.Set(start.Add(time.Duration(i) * p.AccountMax)) // each lock is over
		_, err := e.store.Authenticate(ctx, login.Attempt{Name: "anna", Password: "rate", Client: fmt.Sprintf("10.0.3.%d:1", i), Via: login.ViaBasic})
		wantCode(t, err, veedel.EUNAUTHORIZED)
	}
	_, err := e.store.Authenticate(ctx, login.Attempt{Name: "anna", Password: "geheim123", Client: "10.0.0.21:1"})
	if _, ok := login.RetryAfter(err); !ok {
		t.Fatalf("unknown machine during the attack: %v, want throttled", err)
	}
	if _, err := e.store.Authenticate(ctx, clerk); err != nil {
		t.Fatalf("the clerk's machine after a reboot, during the attack: %v", err)
	}
	if _, err := e.store.Authenticate(ctx, login.Attempt{Name: "geheim123", Password: "x", Client: "10.0.0.22:1", Via: login.ViaForm}); veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
		t.Fatal(err)
	}

	e.reopen() // the record outlives a restart
	failures, err := e.store.LoginFailures(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if f := failures[0]; f.Name != "" || f.Reason != login.ReasonUnknownName || f.Client != "10.0.0.22" {
		t.Errorf("newest failure %+v: want an unknown name, not recorded, from 10.0.0.22", f)
	}
	var wrong, locks int
	for _, f := range failures {
		switch {
		case f.Reason == login.ReasonPassword && f.Name == "anna" && f.Via == login.ViaBasic:
			wrong++
		case f.Reason == login.ReasonLockedAccount && f.Name == "anna" && f.Until.After(f.At):
			locks++
		}
	}
	if wrong != p.AccountFree+2 || locks != 3 {
		t.Errorf("recorded %d wrong passwords and %d account locks, want %d and 3: %+v", wrong, locks, p.AccountFree+2, failures)
	}
}
