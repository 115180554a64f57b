package business

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
)

// Secrets central must read again (a user's TOTP secret, a company's
// webhook secret) are stored sealed with AES-256-GCM under central's
// business key (central.Central.BusinessKey), the row's identity as
// additional data so that a sealed value copied to another row fails.

// Seal encrypts plain for the row named by aad.
func Seal(key []byte, aad string, plain []byte) ([]byte, error) {
	aead, err := gcm(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	rand.Read(nonce)
	return aead.Seal(nonce, nonce, plain, []byte(aad)), nil
}

// Open decrypts what Seal sealed for aad.
func Open(key []byte, aad string, sealed []byte) ([]byte, error) {
	aead, err := gcm(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize() {
		return nil, errors.New("business: sealed value too short")
	}
	n := aead.NonceSize()
	return aead.Open(nil, sealed[:n], sealed[n:], []byte(aad))
}

func gcm(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}
