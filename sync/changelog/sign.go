package changelog

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/veedel/veedel"
)

// KeyIDSize is the length of a key id in bytes.
const KeyIDSize = 8

// KeyID names a site's public key: the first KeyIDSize bytes of its SHA-256.
// It is short on the wire; central looks the full key up by it, and a
// (harmless) collision only makes a signature fail to verify.
func KeyID(pub ed25519.PublicKey) []byte {
	sum := sha256.Sum256(pub)
	return sum[:KeyIDSize]
}

// KeyIDString is a key id as logs, the CLI and the admin pages show it: hex.
func KeyIDString(id []byte) string { return hex.EncodeToString(id) }

// SigningBytes is what a batch's signature covers: the deterministic CBOR
// encoding of the batch with Sig left out (KeyID included).
func (b *Batch) SigningBytes() ([]byte, error) {
	c := *b
	c.Sig = nil
	return Marshal(&c)
}

// Sign sets KeyID to priv's key id and Sig to the ed25519 signature of
// SigningBytes. Every batch a site sends is signed, heartbeats included. It
// fails only when the batch cannot be encoded.
func (b *Batch) Sign(priv ed25519.PrivateKey) error {
	b.KeyID = KeyID(priv.Public().(ed25519.PublicKey))
	msg, err := b.SigningBytes()
	if err != nil {
		return err
	}
	b.Sig = ed25519.Sign(priv, msg)
	return nil
}

// SignFresh makes the batch single-use and signs it: SentAt becomes at
// (the site's estimate of central's clock, CentralClock), Nonce a new
// random one, then Sign. Every batch an appliance sends is signed so.
func (b *Batch) SignFresh(priv ed25519.PrivateKey, at time.Time) error {
	b.SentAt, b.Nonce = HLCAt(at), NewNonce()
	return b.Sign(priv)
}

// VerifySignature checks that the batch is signed by pub: KeyID names pub
// and Sig verifies over SigningBytes. The error is EUNAUTHORIZED.
func (b *Batch) VerifySignature(pub ed25519.PublicKey) error {
	switch {
	case len(b.Sig) == 0 || len(b.KeyID) == 0:
		return veedel.Errorf(veedel.EUNAUTHORIZED, "batch is not signed")
	case len(pub) != ed25519.PublicKeySize:
		return veedel.Errorf(veedel.EUNAUTHORIZED, "no valid public key to verify the batch with")
	case !bytes.Equal(b.KeyID, KeyID(pub)):
		return veedel.Errorf(veedel.EUNAUTHORIZED, "batch is signed by key %s, not by key %s", KeyIDString(b.KeyID), KeyIDString(KeyID(pub)))
	}
	msg, err := b.SigningBytes()
	if err != nil {
		return veedel.Errorf(veedel.EUNAUTHORIZED, "batch cannot be encoded for verification: %v", err)
	}
	if !ed25519.Verify(pub, msg, b.Sig) {
		return veedel.Errorf(veedel.EUNAUTHORIZED, "batch signature does not verify with key %s", KeyIDString(b.KeyID))
	}
	return nil
}
