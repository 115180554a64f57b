package central

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/veedel/veedel"
)

// The portal's forms are posted once: the booking form's last step and the
// order form carry a random submission key (22 characters) made when the
// page was rendered, and the same form posted twice (a double tap, a
// reload of the POST) holds one slot or places one order, whichever
// central node each post reaches. The first post runs under a lock of the
// database for its key and records what it gave the citizen (the hold's
// or order's token); a repeat waits for the lock and gets the same. The
// token is stored sealed with a key derived from the submission key, which
// only the citizen's page has: the database alone does not open a
// citizen's booking or order.

// SubmissionStore remembers the results of the portal's forms.
type SubmissionStore interface {
	// SubmissionResult returns the result recorded for the form with
	// this key hash; ENOTFOUND when none, or when it expired by now.
	SubmissionResult(ctx context.Context, keyHash []byte, now time.Time) ([]byte, error)
	// RecordSubmission records the form's result until expires and
	// deletes the records expired at now.
	RecordSubmission(ctx context.Context, keyHash, result []byte, now, expires time.Time) error
}

// SubmissionKeyLen is the length of a form's submission key (16 random
// bytes, base64url): other values are not tracked.
const SubmissionKeyLen = 22

// SubmitOnce runs first for the first post of the form of kind with the
// submission key key, once on every central node, and records its result
// (a token) for ttl; a repeat of the post gets that result with repeat
// true, without running first. A first that fails records nothing: the
// next post runs it afresh. A key that is not a submission key is not
// tracked (first runs).
func (c *Central) SubmitOnce(ctx context.Context, kind, key string, ttl time.Duration, first func() (string, error)) (result string, repeat bool, err error) {
	if len(key) != SubmissionKeyLen {
		result, err = first()
		return result, false, err
	}
	id := sha256.Sum256([]byte("veedel form " + kind + "\n" + key))
	unlock, err := c.store.Lock(ctx, "form "+hex.EncodeToString(id[:12]))
	if err != nil {
		return "", false, err
	}
	defer unlock()
	now := c.now()
	sealed, err := c.store.SubmissionResult(ctx, id[:], now)
	switch {
	case err == nil:
		if result, err := openSubmission(key, kind, sealed); err == nil {
			return result, true, nil
		}
		c.log.Error("form submission: cannot open the recorded result", "kind", kind)
	case veedel.ErrorCode(err) != veedel.ENOTFOUND:
		return "", false, err
	}
	result, err = first()
	if err != nil {
		return result, false, err
	}
	sealed, err = sealSubmission(key, kind, result)
	if err == nil {
		err = c.store.RecordSubmission(context.WithoutCancel(ctx), id[:], sealed, now, now.Add(ttl))
	}
	if err != nil {
		// Made, but not recorded: a repeat would make another.
		c.log.Error("form submission: record", "kind", kind, "err", err)
	}
	return result, false, nil
}

func submissionAEAD(key string) (cipher.AEAD, error) {
	k := sha256.Sum256([]byte("veedel form seal\n" + key))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func sealSubmission(key, kind, result string) ([]byte, error) {
	aead, err := submissionAEAD(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	return aead.Seal(nonce, nonce, []byte(result), []byte(kind)), nil
}

func openSubmission(key, kind string, sealed []byte) (string, error) {
	aead, err := submissionAEAD(key)
	if err != nil {
		return "", err
	}
	if len(sealed) < aead.NonceSize() {
		return "", errors.New("sealed result too short")
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(kind))
	return string(plain), err
}
