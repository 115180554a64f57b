package exam

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/workflow"
)

// Keys. The site's exam data key is a random AES-256 key, created by the
// first command that needs it (newEvents) and logged once as
// TypeKeyCreated, wrapped to the site's box key and to the health office's
// escrow key. The site keeps it in exam_keys (the projection of that
// event), so it reads its own log; central cannot. A new key is made when
// the configured escrow key changes, so that every key is escrowed to the
// key in force when it was made.

// keyInfo binds a wrapped data key to its site and id.
func keyInfo(site, key string) string { return "exam.key\n" + site + "\n" + key }

// aad binds a sealed payload to its event.
func aad(site, eventType, entity string) []byte {
	return []byte("veedel-exam-v1\n" + site + "\n" + eventType + "\n" + entity)
}

// NewID returns a random id (130 bits, base32, lower case): exam and key
// ids, never derived from a person.
func NewID() string {
	b := make([]byte, 17)
	rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:26]
}

// UseEscrow records the health office's escrow public key (X25519, 32
// bytes) in the site's configuration; keys made from now on are escrowed
// to it. w is the store's writer.
func UseEscrow(ctx context.Context, w *sql.DB, pub []byte) error {
	if _, err := ecdh.X25519().NewPublicKey(pub); err != nil {
		return veedel.Errorf(veedel.EINVALID, "escrow key: not an X25519 public key")
	}
	_, err := w.ExecContext(ctx, `INSERT INTO exam_escrow (id, pub) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET pub = excluded.pub`, pub)
	return err
}

// currentKey returns the data key to seal with (id and key), or events
// that create one first.
func currentKey(ctx context.Context, q workflow.Querier, env workflow.Env) (string, []byte, []workflow.Event, error) {
	var escrow []byte
	err := q.QueryRowContext(ctx, `SELECT pub FROM exam_escrow WHERE id = 1`).Scan(&escrow)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, nil, veedel.Errorf(veedel.EUNAVAILABLE, "Kein Treuhandschlüssel des Gesundheitsamts eingerichtet (-exam-escrow-pub) / no escrow key configured")
	} else if err != nil {
		return "", nil, nil, err
	}
	var id string
	var key []byte
	err = q.QueryRowContext(ctx, `SELECT id, key FROM exam_keys WHERE escrow_pub = ? AND key IS NOT NULL ORDER BY created_at DESC, id LIMIT 1`, escrow).Scan(&id, &key)
	if err == nil {
		return id, key, nil, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return "", nil, nil, err
	}
	if env.Seal == nil {
		return "", nil, nil, veedel.Errorf(veedel.EUNAVAILABLE, "Dieser Standort hat keinen Box-Schlüssel / this site has no box key")
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", nil, nil, err
	}
	id = NewID()
	forSite, err := env.Seal(keyInfo(env.Site, id), key)
	if err != nil {
		return "", nil, nil, err
	}
	forEscrow, err := changelog.Seal(escrow, keyInfo(env.Site, id), key)
	if err != nil {
		return "", nil, nil, err
	}
	ev := workflow.Event{Type: TypeKeyCreated, Entity: "exam.key/" + id,
		Payload: &KeyCreated{Key: id, EscrowPub: escrow, ForSite: forSite, ForEscrow: forEscrow}}
	return id, key, []workflow.Event{ev}, nil
}

// sealer seals the payloads of one command's events.
type sealer struct {
	site  string
	keyID string
	key   []byte
	// pre are the events that must come first (a new key).
	pre []workflow.Event
	at  time.Time
}

func newSealer(ctx context.Context, q workflow.Querier, env workflow.Env, at time.Time) (*sealer, error) {
	id, key, pre, err := currentKey(ctx, q, env)
	if err != nil {
		return nil, err
	}
	for i := range pre {
		pre[i].At = at
	}
	return &sealer{site: env.Site, keyID: id, key: key, pre: pre, at: at}, nil
}

// event seals p as the payload of an event of type t on the exam id.
func (s *sealer) event(t, id string, p any) (workflow.Event, error) {
	plain, err := changelog.Marshal(p)
	if err != nil {
		return workflow.Event{}, err
	}
	box, err := sealBox(s.key, aad(s.site, t, entity(id)), plain)
	if err != nil {
		return workflow.Event{}, err
	}
	return workflow.Event{Type: t, Entity: entity(id), At: s.at, Payload: &Sealed{Key: s.keyID, Box: box}}, nil
}

// events returns the key's events (if new) followed by evs.
func (s *sealer) events(evs ...workflow.Event) []workflow.Event {
	return append(append([]workflow.Event(nil), s.pre...), evs...)
}

func sealBox(key, ad, plain []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize(), gcm.NonceSize()+len(plain)+gcm.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return gcm.Seal(nonce, nonce, plain, ad), nil
}

func openBox(key, ad, box []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if len(box) < gcm.NonceSize() {
		return nil, veedel.Errorf(veedel.EINVALID, "sealed exam payload too short")
	}
	plain, err := gcm.Open(nil, box[:gcm.NonceSize()], box[gcm.NonceSize():], ad)
	if err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "sealed exam payload does not open with its key")
	}
	return plain, nil
}

// unseal opens a sealed event's payload with key into its typed payload.
func unseal(site string, e workflow.Event, key []byte) (any, error) {
	s, ok := e.Payload.(*Sealed)
	if !ok {
		return nil, fmt.Errorf("exam: %s has payload %T, not sealed", e.Type, e.Payload)
	}
	plain, err := openBox(key, aad(site, e.Type, e.Entity), s.Box)
	if err != nil {
		return nil, err
	}
	p := sealedTypes[e.Type]()
	if err := changelog.Unmarshal(plain, p); err != nil {
		return nil, err
	}
	return p, nil
}

// Escrow key files: the private key is PEM "VEEDEL EXAM ESCROW PRIVATE KEY"
// (32 bytes X25519, file mode 0600), the public one FILE.pub, PEM
// "VEEDEL EXAM ESCROW PUBLIC KEY".
const (
	pemEscrowPrivate = "VEEDEL EXAM ESCROW PRIVATE KEY"
	pemEscrowPublic  = "VEEDEL EXAM ESCROW PUBLIC KEY"
)

// WriteEscrowKey makes a new escrow key pair: the private key to path
// (0600, refused when the file exists) and the public key to path+".pub".
func WriteEscrowKey(path string) (*ecdh.PrivateKey, error) {
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "escrow key %s: %v", path, errors.Unwrap(err))
	}
	if err := pem.Encode(f, &pem.Block{Type: pemEscrowPrivate, Bytes: priv.Bytes()}); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	pub := pem.EncodeToMemory(&pem.Block{Type: pemEscrowPublic, Bytes: priv.PublicKey().Bytes()})
	if err := os.WriteFile(path+".pub", pub, 0o644); err != nil {
		return nil, err
	}
	return priv, nil
}

// ReadEscrowPublic reads an escrow public key file (FILE.pub).
func ReadEscrowPublic(path string) ([]byte, error) {
	b, err := readPEM(path, pemEscrowPublic)
	if err != nil {
		return nil, err
	}
	if _, err := ecdh.X25519().NewPublicKey(b); err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "%s: not an X25519 public key", path)
	}
	return b, nil
}

// ReadEscrowPrivate reads an escrow private key file.
func ReadEscrowPrivate(path string) (*ecdh.PrivateKey, error) {
	b, err := readPEM(path, pemEscrowPrivate)
	if err != nil {
		return nil, err
	}
	k, err := ecdh.X25519().NewPrivateKey(b)
	if err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "%s: not an X25519 private key", path)
	}
	return k, nil
}

func readPEM(path, typ string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "%s: %v", path, errors.Unwrap(err))
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != typ {
		return nil, veedel.Errorf(veedel.EINVALID, "%s: no PEM block %q", path, typ)
	}
	return b.Bytes, nil
}
