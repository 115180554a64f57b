package sqlite_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/sqlite"
)

// TestKioskPairing: a code pairs one kiosk once, typed in any case and
// with or without its dash; the device's cookie finds it (also after a
// restart) until it is unpaired; nothing secret is stored in the clear.
func TestKioskPairing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	code, expires, err := e.store.CreateKioskPairing(ctx, "  Kiosk Eingang ", "demo")
	if err != nil {
		t.Fatal(err)
	}
	if len(code) != 9 || code[4] != '-' || strings.ContainsAny(code, "01OI") {
		t.Errorf("code %q: want XXXX-XXXX without 0, O, 1 or I", code)
	}
	if want := e.clock.Now().Add(sqlite.PairingCodeLifetime); !expires.Equal(want) {
		t.Errorf("expires %v, want %v", expires, want)
	}
	if open, err := e.store.KioskPairings(ctx); err != nil || len(open) != 1 || open[0].Name != "Kiosk Eingang" {
		t.Errorf("open pairings = %+v, %v; want the one for Kiosk Eingang", open, err)
	}

	typed := strings.ToLower(strings.ReplaceAll(code, "-", " "))
	token, dev, err := e.store.PairKiosk(ctx, typed)
	if err != nil {
		t.Fatalf("PairKiosk(%q): %v", typed, err)
	}
	if len(token) < 43 || dev.Name != "Kiosk Eingang" || dev.PairedBy != "demo" {
		t.Errorf("paired %+v with token %q", dev, token)
	}
	// Neither the code nor the device token is in the database's files:
	// only their hashes.
	e.secretsNotStored("pairing code and device token", code, strings.ReplaceAll(code, "-", ""), token)
	// Single use.
	if _, _, err := e.store.PairKiosk(ctx, code); veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
		t.Errorf("second use of the code: %v, want unauthorized", err)
	}
	if open, _ := e.store.KioskPairings(ctx); len(open) != 0 {
		t.Errorf("used code still open: %+v", open)
	}

	e.reopen()
	got, err := e.store.KioskByToken(ctx, token)
	if err != nil || got.ID != dev.ID || got.Name != "Kiosk Eingang" {
		t.Fatalf("KioskByToken after restart = %+v, %v", got, err)
	}
	e.clock.Set(e.clock.Now().Add(2 * time.Minute))
	if got, _ := e.store.KioskByToken(ctx, token); !got.LastSeen.Equal(e.clock.Now()) {
		t.Errorf("last seen %v, want %v", got.LastSeen, e.clock.Now())
	}
	for _, wrong := range []string{"", token[:len(token)-1], strings.Repeat("x", 500)} {
		if _, err := e.store.KioskByToken(ctx, wrong); veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
			t.Errorf("KioskByToken(%.10q…) = %v, want unauthorized", wrong, err)
		}
	}
	list, err := e.store.KioskDevices(ctx)
	if err != nil || len(list) != 1 || list[0].ID != dev.ID {
		t.Fatalf("KioskDevices = %+v, %v", list, err)
	}

	if _, err := e.store.UnpairKiosk(ctx, dev.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.KioskByToken(ctx, token); veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
		t.Errorf("unpaired device still found: %v", err)
	}
	if _, err := e.store.UnpairKiosk(ctx, dev.ID); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Errorf("unpairing twice: %v, want not found", err)
	}
}

func TestKioskPairingExpires(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	code, _, err := e.store.CreateKioskPairing(ctx, "Kiosk", "demo")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Set(e.clock.Now().Add(sqlite.PairingCodeLifetime))
	if _, _, err := e.store.PairKiosk(ctx, code); veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
		t.Errorf("expired code: %v, want unauthorized", err)
	}
	if open, _ := e.store.KioskPairings(ctx); len(open) != 0 {
		t.Errorf("expired code listed as open: %+v", open)
	}
	if list, _ := e.store.KioskDevices(ctx); len(list) != 0 {
		t.Errorf("expired code paired %+v", list)
	}
}

func TestKioskName(t *testing.T) {
	for _, bad := range []string{"", "   ", strings.Repeat("x", 61), "Kiosk\u202eEingang", "Kiosk\nEingang"} {
		if _, err := sqlite.KioskName(bad); veedel.ErrorCode(err) != veedel.EINVALID {
			t.Errorf("KioskName(%q) = %v, want invalid", bad, err)
		}
	}
	if got, err := sqlite.KioskName(" Kiosk Eingang "); err != nil || got != "Kiosk Eingang" {
		t.Errorf("KioskName = %q, %v", got, err)
	}
}

// secretsNotStored fails when any of secrets appears in the site
// database's files (the database, its WAL), as text or in the base64 a
// token is written in.
func (e *env) secretsNotStored(what string, secrets ...string) {
	e.t.Helper()
	var files []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(e.path + suffix)
		if err != nil && !os.IsNotExist(err) {
			e.t.Fatal(err)
		}
		files = append(files, b...)
	}
	if len(files) == 0 {
		e.t.Fatal("no database files to look in")
	}
	for _, secret := range secrets {
		if bytes.Contains(files, []byte(secret)) {
			e.t.Errorf("%s: %q is stored in the clear", what, secret)
		}
	}
}
