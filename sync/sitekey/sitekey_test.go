package sitekey_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veedel/veedel/sync/sitekey"
)

func TestLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "kalk.key")
	key, created, err := sitekey.LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if !created || len(key) != ed25519.PrivateKeySize {
		t.Fatalf("first LoadOrCreate: created %v, %d bytes; want a new key", created, len(key))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
		t.Errorf("mode = %v, want %v", got, want)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), "-----BEGIN PRIVATE KEY-----\n") {
		t.Errorf("file is not a PEM private key:\n%s", data)
	}

	again, created, err := sitekey.LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if created || !again.Equal(key) {
		t.Errorf("second LoadOrCreate: created %v, same key %v; want the stored key", created, again.Equal(key))
	}
	msg := []byte("batch")
	if !ed25519.Verify(sitekey.Public(again), msg, ed25519.Sign(key, msg)) {
		t.Error("public key does not verify the private key's signature")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d files, want only the key", len(entries))
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	t.Run("ErrMissing", func(t *testing.T) {
		if _, err := sitekey.Load(filepath.Join(dir, "none.key")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("ErrGarbage", func(t *testing.T) {
		path := filepath.Join(dir, "garbage.key")
		os.WriteFile(path, []byte("not a key"), 0o600)
		_, err := sitekey.Load(path)
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v, want a format error", err)
		}
		// One line that names the file and what to do.
		if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "restore it from the backup") || strings.Contains(msg, "\n") {
			t.Errorf("message %q does not name the file and what to do in one line", msg)
		}
		// LoadOrCreate must not replace a damaged key silently.
		if _, _, err := sitekey.LoadOrCreate(path); err == nil {
			t.Error("LoadOrCreate over a damaged file succeeded")
		}
	})
	t.Run("TightensMode", func(t *testing.T) {
		path := filepath.Join(dir, "loose.key")
		key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
		if err := sitekey.Create(path, key); err != nil {
			t.Fatal(err)
		}
		os.Chmod(path, 0o644)
		got, err := sitekey.Load(path)
		if err != nil || !got.Equal(key) {
			t.Fatalf("Load = %v; want the key", err)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
		}
	})
	t.Run("ErrCreateOverExisting", func(t *testing.T) {
		path := filepath.Join(dir, "exists.key")
		os.WriteFile(path, []byte("x"), 0o600)
		if err := sitekey.Create(path, ed25519.NewKeyFromSeed(make([]byte, 32))); !errors.Is(err, fs.ErrExist) {
			t.Errorf("err = %v, want fs.ErrExist", err)
		}
	})
	// The file is what openssl reads and writes.
	t.Run("OpenSSL", func(t *testing.T) {
		openssl, err := exec.LookPath("openssl")
		if err != nil {
			t.Skip("openssl not installed")
		}
		path := filepath.Join(dir, "openssl.key")
		if out, err := exec.Command(openssl, "genpkey", "-algorithm", "ed25519", "-out", path).CombinedOutput(); err != nil {
			t.Skipf("openssl genpkey: %v: %s", err, out)
		}
		if _, err := sitekey.Load(path); err != nil {
			t.Errorf("Load of openssl's key: %v", err)
		}
	})
}

// TestBoxKey: the box key is derived from the signing key, the same every
// time, different for another key, and not the signing key's own bytes.
func TestBoxKey(t *testing.T) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	a, err := sitekey.BoxKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := sitekey.BoxKey(key)
	if !a.Equal(b) {
		t.Error("two box keys from one signing key")
	}
	other, _ := sitekey.BoxKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32)))
	if a.Equal(other) {
		t.Error("two signing keys give the same box key")
	}
	if bytes.Equal(a.Bytes(), key.Seed()) || bytes.Equal(a.PublicKey().Bytes(), sitekey.Public(key)) {
		t.Error("the box key is the signing key")
	}
}
