package update

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"strings"

	"github.com/veedel/veedel"
)

// Release keys are kept in the standard PEM forms (PKCS #8 private, PKIX
// public), so that openssl and other tools read them too.

// PublicPath is where the public key beside a private key file goes:
// city-release.key → city-release.pub.
func PublicPath(keyPath string) string {
	return strings.TrimSuffix(keyPath, ".key") + ".pub"
}

// GenerateKeyFiles creates a new release key in keyPath (mode 0600) and
// its public half in PublicPath(keyPath). It never overwrites a file.
func GenerateKeyFiles(keyPath string) (ed25519.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	pubPath := PublicPath(keyPath)
	if pubPath == keyPath {
		return nil, veedel.Errorf(veedel.EINVALID, "%s: the key file's name must end in .key (the public key goes beside it as .pub)", keyPath)
	}
	for _, p := range []string{keyPath, pubPath} {
		if _, err := os.Stat(p); err == nil {
			return nil, veedel.Errorf(veedel.ECONFLICT, "%s exists already: a release key is never overwritten", p)
		}
	}
	if err := writeNew(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	if err := writeNew(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		os.Remove(keyPath)
		return nil, err
	}
	return pub, nil
}

func writeNew(path string, data []byte, mode fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadPrivateKey reads a release key file.
func ReadPrivateKey(path string) (ed25519.PrivateKey, error) {
	block, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(block)
	if err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "%s: not a PKCS #8 private key", path)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, veedel.Errorf(veedel.EINVALID, "%s: not an ed25519 key", path)
	}
	return priv, nil
}

// ReadPublicKey reads a public release key file.
func ReadPublicKey(path string) (ed25519.PublicKey, error) {
	block, err := readPEM(path, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(block)
	if err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "%s: not a PKIX public key", path)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, veedel.Errorf(veedel.EINVALID, "%s: not an ed25519 key", path)
	}
	return pub, nil
}

func readPEM(path, typ string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, veedel.Errorf(veedel.ENOTFOUND, "%s: no such file", path)
	} else if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != typ {
		return nil, veedel.Errorf(veedel.EINVALID, "%s: not a PEM %s", path, strings.ToLower(typ))
	}
	return block.Bytes, nil
}
