// Package sitekey keeps a site appliance's ed25519 key pair in a file next
// to its database (<data>/<site>.key): generated on first start, read on
// every later one. The key signs every batch the site uploads; central
// knows its public half from the site's enrollment.
//
// The file is PEM, one "PRIVATE KEY" block holding the PKCS #8 encoding of
// the ed25519 private key (what `openssl genpkey -algorithm ed25519`
// writes; `openssl pkey -in kalk.key -pubout` shows the public key), with
// mode 0600. A lost file cannot be recovered: the appliance generates a new
// key and has to be enrolled again.
//
// The same file also yields the site's box key (BoxKey), the X25519 key
// central seals personal data to (changelog.SealSMS): derived from the
// ed25519 seed, so nothing more is kept on disk and a site enrolled before
// box keys existed has one without enrolling again.
package sitekey

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

const pemType = "PRIVATE KEY"

// LoadOrCreate reads the private key at path or, when there is no file,
// generates a key pair and writes it there with mode 0600. created reports
// a new key. A file readable by others is tightened to 0600.
func LoadOrCreate(path string) (key ed25519.PrivateKey, created bool, err error) {
	key, err = Load(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	_, key, err = ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, false, fmt.Errorf("sitekey: generate: %w", err)
	}
	switch err := Create(path, key); {
	case errors.Is(err, fs.ErrExist):
		// Another process was quicker: use its key.
		key, err = Load(path)
		return key, false, err
	case err != nil:
		return nil, false, err
	}
	return key, true, nil
}

// Load reads the private key at path. A missing file is an error wrapping
// fs.ErrNotExist.
func Load(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("sitekey: %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("sitekey: cannot read the site's key %s (%w): make it readable (mode 0600) for the user running veedel", path, pathless(err))
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != pemType {
		return nil, fmt.Errorf("sitekey: %s is no site key (no PEM %q block): %s", path, pemType, restore)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("sitekey: %s is no site key (%v): %s", path, err, restore)
	}
	key, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("sitekey: %s holds a %T, not an ed25519 key: %s", path, parsed, restore)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, fmt.Errorf("sitekey: %s is readable by others and cannot be restricted: %w", path, err)
		}
	}
	return key, nil
}

// restore is what to do about a damaged key file.
const restore = "restore it from the backup, or move it away and enroll the new key the appliance then makes (veedel central enroll)"

// pathless is err without the path an *fs.PathError repeats.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Create writes key to path with mode 0600, durably (written and synced
// under a temporary name, then linked into place). It never replaces an
// existing file: that is an error wrapping fs.ErrExist.
func Create(path string, key ed25519.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("sitekey: encode: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("sitekey: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".sitekey-*")
	if err != nil {
		return fmt.Errorf("sitekey: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("sitekey: %w", err)
	}
	if err := pem.Encode(tmp, &pem.Block{Type: pemType, Bytes: der}); err != nil {
		tmp.Close()
		return fmt.Errorf("sitekey: write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sitekey: sync %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("sitekey: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return fmt.Errorf("sitekey: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Public returns the public half of key.
func Public(key ed25519.PrivateKey) ed25519.PublicKey {
	return key.Public().(ed25519.PublicKey)
}

// boxKeyInfo separates the box key from the signing key: the box key is
// HKDF-SHA256 of the ed25519 seed with this info, so knowing one key's use
// tells nothing about the other's.
const boxKeyInfo = "veedel site box key v1 (X25519, sealed hand-overs)"

// BoxKey derives the site's X25519 box key from its signing key. The same
// signing key always gives the same box key.
func BoxKey(key ed25519.PrivateKey) (*ecdh.PrivateKey, error) {
	raw, err := hkdf.Key(sha256.New, key.Seed(), nil, boxKeyInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("sitekey: derive box key: %w", err)
	}
	box, err := ecdh.X25519().NewPrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("sitekey: derive box key: %w", err)
	}
	return box, nil
}
