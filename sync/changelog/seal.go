package changelog

import (
	"crypto/ecdh"
	"crypto/hpke"

	"github.com/veedel/veedel"
)

// Personal data that central sends down (today the SMS hand-over's number)
// is sealed to the receiving site with HPKE (RFC 9180, base mode:
// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305). The site's
// box key is an X25519 key derived from its signing key (sitekey.BoxKey);
// its public half travels in every signed poll (HeaderBoxKey, covered by
// the signature), so central seals to the key of the very site whose
// enrolled key signed the poll, and an existing site needs no new
// enrollment. The HPKE info binds the sealed number to the site, the
// hand-over's ID, ticket and language: a sealed number moved to another
// hand-over, ticket or site does not open.

// BoxKeySize is the length of an X25519 public key.
const BoxKeySize = 32

// maxSealedLen bounds a sealed number: the encapsulated key (32 bytes), at
// most 16 bytes of number and the tag (16 bytes), with room to spare.
const maxSealedLen = 256

var (
	sealKEM  = hpke.DHKEM(ecdh.X25519())
	sealKDF  = hpke.HKDFSHA256()
	sealAEAD = hpke.ChaCha20Poly1305()
)

func smsSealInfo(site string, h SMSHandover) []byte {
	return []byte("veedel-sms-handover-v1\n" + site + "\n" + h.ID + "\n" + h.Ticket + "\n" + h.Lang)
}

// SealSMS returns h as it travels to site: the number sealed to the
// site's box key (boxKey, X25519 public, BoxKeySize bytes), Phone empty.
func SealSMS(h SMSHandover, site string, boxKey []byte) (SMSHandover, error) {
	pub, err := sealKEM.NewPublicKey(boxKey)
	if err != nil {
		return SMSHandover{}, veedel.Errorf(veedel.EINVALID, "sms hand-over: the site's box key is not an X25519 key")
	}
	sealed, err := hpke.Seal(pub, sealKDF, sealAEAD, smsSealInfo(site, h), []byte(h.Phone))
	if err != nil {
		return SMSHandover{}, veedel.Errorf(veedel.EINVALID, "sms hand-over %s cannot be sealed: %v", h.ID, err)
	}
	h.Phone, h.Sealed = "", sealed
	return h, nil
}

// OpenSMS opens a hand-over sealed to site with the site's box key. A
// hand-over without a sealed number (sent in clear), or one that does not
// open with box (sealed to another site or key, or altered), is an
// EINVALID error that names only the hand-over.
func OpenSMS(h SMSHandover, site string, box *ecdh.PrivateKey) (SMSHandover, error) {
	if len(h.Sealed) == 0 || h.Phone != "" {
		return SMSHandover{}, veedel.Errorf(veedel.EINVALID, "download: sms hand-over %s is not sealed to this site", h.ID)
	}
	priv, err := hpke.NewDHKEMPrivateKey(box)
	if err != nil {
		return SMSHandover{}, veedel.Errorf(veedel.EINVALID, "download: sms hand-over %s: no box key: %v", h.ID, err)
	}
	phone, err := hpke.Open(priv, sealKDF, sealAEAD, smsSealInfo(site, h), h.Sealed)
	if err != nil {
		return SMSHandover{}, veedel.Errorf(veedel.EINVALID, "download: sms hand-over %s does not open with this site's box key", h.ID)
	}
	h.Phone, h.Sealed = string(phone), nil
	return h, nil
}

// Seal seals plaintext to a site's box key (X25519 public, BoxKeySize
// bytes) for a purpose: info binds the ciphertext to what it belongs to
// (a workflow's record and site), so that it does not open anywhere else.
// Workflows use it for the personal data central sends down: central
// stores and forwards what it cannot read.
func Seal(boxKey []byte, info string, plaintext []byte) ([]byte, error) {
	pub, err := sealKEM.NewPublicKey(boxKey)
	if err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "seal: the site's box key is not an X25519 key")
	}
	sealed, err := hpke.Seal(pub, sealKDF, sealAEAD, []byte("veedel-sealed-v1\n"+info), plaintext)
	if err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "seal: %v", err)
	}
	return sealed, nil
}

// Open opens what Seal sealed to box with the same info. Anything else
// (another key, another info, altered bytes) is an EINVALID error.
func Open(box *ecdh.PrivateKey, info string, sealed []byte) ([]byte, error) {
	if box == nil {
		return nil, veedel.Errorf(veedel.EINVALID, "open sealed data: this site has no box key")
	}
	priv, err := hpke.NewDHKEMPrivateKey(box)
	if err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "open sealed data: %v", err)
	}
	plain, err := hpke.Open(priv, sealKDF, sealAEAD, []byte("veedel-sealed-v1\n"+info), sealed)
	if err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "sealed data does not open with this site's box key")
	}
	return plain, nil
}
