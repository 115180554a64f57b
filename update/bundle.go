// Package update is the signed release bundle appliances update from: a
// root filesystem image and its manifest, signed with the city's release
// key (ed25519, separate from the sites' keys). A bundle is verified
// completely (signature, then the image's length and SHA-256 while it is
// read) before anything of it is used, with no expiry and no dependence on
// the clock: an appliance with a wrong clock or a key past any date still
// updates, and two release keys may be trusted at once for rotation.
//
// Layout (all integers big-endian):
//
//	"VEEDEL-BUNDLE-1\n"
//	uint32 manifest length, manifest (JSON)
//	uint8 signature count, per signature: key id (8 bytes) and ed25519 signature (64 bytes)
//	the root filesystem image, to the end
//
// A signature covers "veedel-release-v1\n" and the manifest's bytes; the
// manifest names the image's length and SHA-256.
package update

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/veedel/veedel"
)

const (
	magic        = "VEEDEL-BUNDLE-1\n"
	signedPrefix = "veedel-release-v1\n"
	maxManifest  = 64 << 10
	maxSigs      = 8
)

// Manifest describes a release.
type Manifest struct {
	Format  int    `json:"format"` // 1
	Version string `json:"version"`
	// MinVersion is the oldest version that may update to this one
	// directly ("" : any).
	MinVersion   string    `json:"min_version,omitempty"`
	RootfsSHA256 string    `json:"rootfs_sha256"`
	RootfsSize   int64     `json:"rootfs_size"`
	Created      time.Time `json:"created"` // informational: never checked against the clock
}

var versionPattern = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.+~-]{0,63}$`)

// KeyID names a release key in bundles: the first 8 bytes of the SHA-256
// of its public key.
func KeyID(pub ed25519.PublicKey) [8]byte {
	sum := sha256.Sum256(pub)
	var id [8]byte
	copy(id[:], sum[:8])
	return id
}

// Sign writes a bundle of the image read from rootfs (size bytes) to w,
// signed with key.
func Sign(w io.Writer, key ed25519.PrivateKey, version, minVersion string, rootfs io.ReadSeeker, now time.Time) (Manifest, error) {
	if !versionPattern.MatchString(version) {
		return Manifest{}, veedel.Errorf(veedel.EINVALID, "version %q: letters, digits and . + ~ - only", version)
	}
	if minVersion != "" && !versionPattern.MatchString(minVersion) {
		return Manifest{}, veedel.Errorf(veedel.EINVALID, "minimum version %q: letters, digits and . + ~ - only", minVersion)
	}
	h := sha256.New()
	size, err := io.Copy(h, rootfs)
	if err != nil {
		return Manifest{}, fmt.Errorf("read the root filesystem: %w", err)
	}
	if size == 0 {
		return Manifest{}, veedel.Errorf(veedel.EINVALID, "the root filesystem image is empty")
	}
	if _, err := rootfs.Seek(0, io.SeekStart); err != nil {
		return Manifest{}, err
	}
	m := Manifest{Format: 1, Version: version, MinVersion: minVersion, RootfsSHA256: hex.EncodeToString(h.Sum(nil)), RootfsSize: size, Created: now.UTC()}
	body, err := json.Marshal(m)
	if err != nil {
		return Manifest{}, err
	}
	sig := ed25519.Sign(key, append([]byte(signedPrefix), body...))
	id := KeyID(key.Public().(ed25519.PublicKey))
	var head bytes.Buffer
	head.WriteString(magic)
	binary.Write(&head, binary.BigEndian, uint32(len(body)))
	head.Write(body)
	head.WriteByte(1)
	head.Write(id[:])
	head.Write(sig)
	if _, err := w.Write(head.Bytes()); err != nil {
		return Manifest{}, err
	}
	n, err := io.Copy(w, rootfs)
	if err != nil {
		return Manifest{}, err
	}
	if n != size {
		return Manifest{}, fmt.Errorf("the root filesystem changed while it was signed (%d bytes, then %d)", size, n)
	}
	return m, nil
}

// ErrInvalid is the class of a bundle that does not hold; its message
// says what.
var ErrInvalid = errors.New("invalid bundle")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// Open reads a bundle's head and checks its signature against the trusted
// keys. It returns the manifest and a reader of the image that checks the
// image's length and SHA-256 as it is read: its Read returns an ErrInvalid
// error instead of io.EOF when they do not hold, so a caller that writes
// the image elsewhere must treat what it wrote as unusable unless it read
// to io.EOF.
func Open(r io.Reader, trusted []ed25519.PublicKey) (Manifest, io.Reader, error) {
	br := bufio.NewReader(r)
	head := make([]byte, len(magic))
	if _, err := io.ReadFull(br, head); err != nil || string(head) != magic {
		return Manifest{}, nil, invalid("not a Veedel release bundle")
	}
	var n uint32
	if err := binary.Read(br, binary.BigEndian, &n); err != nil || n == 0 || n > maxManifest {
		return Manifest{}, nil, invalid("manifest length unreadable or out of bounds")
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		return Manifest{}, nil, invalid("manifest cut short")
	}
	count, err := br.ReadByte()
	if err != nil || count == 0 || count > maxSigs {
		return Manifest{}, nil, invalid("no signatures")
	}
	signed := append([]byte(signedPrefix), body...)
	ok := false
	for range count {
		var rec [8 + ed25519.SignatureSize]byte
		if _, err := io.ReadFull(br, rec[:]); err != nil {
			return Manifest{}, nil, invalid("signature cut short")
		}
		for _, pub := range trusted {
			if id := KeyID(pub); bytes.Equal(id[:], rec[:8]) && ed25519.Verify(pub, signed, rec[8:]) {
				ok = true
			}
		}
	}
	if !ok {
		return Manifest{}, nil, invalid("not signed by a trusted release key (or the manifest was altered)")
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil || m.Format != 1 || !versionPattern.MatchString(m.Version) || m.RootfsSize <= 0 || len(m.RootfsSHA256) != 64 {
		return Manifest{}, nil, invalid("manifest malformed")
	}
	want, err := hex.DecodeString(m.RootfsSHA256)
	if err != nil {
		return Manifest{}, nil, invalid("manifest malformed")
	}
	return m, &checked{r: br, left: m.RootfsSize, h: sha256.New(), want: want}, nil
}

// checked reads the image and checks it at the end.
type checked struct {
	r    io.Reader
	left int64
	h    interface {
		io.Writer
		Sum([]byte) []byte
	}
	want []byte
	done bool
}

func (c *checked) Read(p []byte) (int, error) {
	if c.done {
		return 0, io.EOF
	}
	if c.left == 0 {
		// The image must end here, and hash right.
		var one [1]byte
		if n, _ := c.r.Read(one[:]); n > 0 {
			return 0, invalid("the image is longer than the manifest says")
		}
		if !bytes.Equal(c.h.Sum(nil), c.want) {
			return 0, invalid("the image's SHA-256 does not match the manifest (altered or corrupted)")
		}
		c.done = true
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	c.left -= int64(n)
	if err == io.EOF && c.left > 0 {
		return n, invalid("the image is shorter than the manifest says")
	}
	if err != nil && err != io.EOF {
		return n, err
	}
	return n, nil
}

// Verify reads a whole bundle and reports whether it holds: signature by
// a trusted key, image length and SHA-256 as the manifest says.
func Verify(r io.Reader, trusted []ed25519.PublicKey) (Manifest, error) {
	m, img, err := Open(r, trusted)
	if err != nil {
		return m, err
	}
	if _, err := io.Copy(io.Discard, img); err != nil {
		return m, err
	}
	return m, nil
}
