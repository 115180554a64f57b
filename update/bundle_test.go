package update_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/veedel/veedel/update"
)

func bundle(t *testing.T, key ed25519.PrivateKey, image []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if _, err := update.Sign(&out, key, "2026.12.1", "2026.11.0", bytes.NewReader(image), time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func keys(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

// TestBundle: a signed bundle verifies with its key, also beside another
// trusted key (rotation); a flipped byte anywhere, a cut, an appendix or
// an unknown key is refused, and the image reader never reaches io.EOF
// for an image that does not hold.
func TestBundle(t *testing.T) {
	pub, priv := keys(t)
	old, _ := keys(t)
	image := make([]byte, 300_000)
	rand.Read(image)
	b := bundle(t, priv, image)

	m, err := update.Verify(bytes.NewReader(b), []ed25519.PublicKey{old, pub})
	if err != nil || m.Version != "2026.12.1" || m.MinVersion != "2026.11.0" || m.RootfsSize != int64(len(image)) {
		t.Fatalf("Verify = %+v, %v", m, err)
	}
	_, img, err := update.Open(bytes.NewReader(b), []ed25519.PublicKey{pub})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(img)
	if err != nil || !bytes.Equal(got, image) {
		t.Fatalf("the image read back differs (%d bytes, %v)", len(got), err)
	}

	refuse := func(name string, data []byte, trusted ...ed25519.PublicKey) {
		t.Helper()
		if len(trusted) == 0 {
			trusted = []ed25519.PublicKey{pub}
		}
		if _, err := update.Verify(bytes.NewReader(data), trusted); !errors.Is(err, update.ErrInvalid) {
			t.Errorf("%s: Verify = %v, want ErrInvalid", name, err)
		}
	}
	refuse("unknown key", b, old)
	head := len(b) - len(image)
	for _, at := range []int{0, 20, head - 70, head - 1, head, head + len(image)/2, len(b) - 1} {
		flipped := bytes.Clone(b)
		flipped[at] ^= 0x01
		refuse("flipped byte", flipped)
	}
	refuse("cut", b[:len(b)-1])
	refuse("appendix", append(bytes.Clone(b), 0))
	refuse("empty", nil)
}

func TestSignRefuses(t *testing.T) {
	_, priv := keys(t)
	var out bytes.Buffer
	for _, c := range []struct{ version, image string }{{"", "x"}, {"1.0 beta", "x"}, {"1.0", ""}} {
		if _, err := update.Sign(&out, priv, c.version, "", bytes.NewReader([]byte(c.image)), time.Now()); err == nil {
			t.Errorf("Sign(%q, %d bytes) succeeded", c.version, len(c.image))
		}
	}
}

func TestKeyFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "city-release.key")
	pub, err := update.GenerateKeyFiles(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := update.GenerateKeyFiles(path); err == nil {
		t.Fatal("a second keygen overwrote the key")
	}
	priv, err := update.ReadPrivateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	readPub, err := update.ReadPublicKey(update.PublicPath(path))
	if err != nil || !readPub.Equal(pub) || !priv.Public().(ed25519.PublicKey).Equal(pub) {
		t.Fatalf("keys read back differ: %v", err)
	}
	if _, err := update.ReadPublicKey(path); err == nil {
		t.Fatal("a private key file read as a public key")
	}
}
