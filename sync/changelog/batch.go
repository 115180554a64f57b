package changelog

import (
	"crypto/ed25519"

	"github.com/veedel/veedel"
)

// Batch is what a site uploads: consecutive entries of its own log. An empty
// batch is a heartbeat that tells central the site is alive.
type Batch struct {
	Version uint    `cbor:"0,keyasint"`
	Site    string  `cbor:"1,keyasint"`
	Entries []Entry `cbor:"2,keyasint"`
	// SentAt is when the site sent the batch, by its estimate of central's
	// clock (CentralClock). In a batch with a Nonce it is the time central
	// checks against FreshWindow.
	SentAt HLC `cbor:"3,keyasint"`
	// KeyID names the site key that signed the batch (see KeyID) and Sig
	// is its ed25519 signature over the batch without Sig (see Sign).
	// Both are omitted from an unsigned batch, which central refuses.
	KeyID []byte `cbor:"4,keyasint,omitempty"`
	Sig   []byte `cbor:"5,keyasint,omitempty"`
	// Last is the seq of the site's newest committed entry when sending
	// (0: not reported), so that central can show how far behind it is.
	Last uint64 `cbor:"6,keyasint,omitempty"`
	// Nonce (NonceSize random bytes, signed with the rest) makes the batch
	// single-use: central takes a batch with a nonce only within
	// FreshWindow of SentAt and only once, and only such a batch counts as
	// the site's contact. A batch without one comes from an appliance
	// built before nonces (same schema version: an older decoder ignores
	// key 7, and such an appliance talks only to a central that knows
	// it, because central is upgraded first); central still stores its
	// entries idempotently, but it does not count as contact, because it
	// may be a replay (docs/SYNC.md, "Trust").
	Nonce []byte `cbor:"7,keyasint,omitempty"`
}

// Fresh reports whether the batch carries a nonce, i.e. can be checked for
// freshness and replays.
func (b *Batch) Fresh() bool { return len(b.Nonce) > 0 }

// Ack is central's answer to a batch: the highest seq of the site it has
// durably stored with an unbroken chain. The site resumes after Acked.
type Ack struct {
	Site  string `cbor:"1,keyasint" json:"site"`
	Acked uint64 `cbor:"2,keyasint" json:"acked"`
	Error string `cbor:"3,keyasint,omitempty" json:"error,omitempty"`
}

// Validate checks the batch's own shape and every entry's hash; whether the
// entries continue central's chain is central's check.
func (b *Batch) Validate() error {
	if b.Site == "" {
		return veedel.Errorf(veedel.EINVALID, "batch without site")
	}
	if b.Version < max(SchemaVersion-2, 1) || b.Version > SchemaVersion {
		return veedel.Errorf(veedel.EINVALID, "batch schema version %d not supported (accepting %d…%d)", b.Version, max(SchemaVersion-2, 1), SchemaVersion)
	}
	if n := len(b.KeyID); n != 0 && n != KeyIDSize {
		return veedel.Errorf(veedel.EINVALID, "batch key id has %d bytes, want %d", n, KeyIDSize)
	}
	if n := len(b.Sig); n != 0 && n != ed25519.SignatureSize {
		return veedel.Errorf(veedel.EINVALID, "batch signature has %d bytes, want %d", n, ed25519.SignatureSize)
	}
	if n := len(b.Nonce); n != 0 && n != NonceSize {
		return veedel.Errorf(veedel.EINVALID, "batch nonce has %d bytes, want %d", n, NonceSize)
	}
	if len(b.Entries) > MaxBatchEntries {
		return veedel.Errorf(veedel.EINVALID, "batch has %d entries, at most %d allowed", len(b.Entries), MaxBatchEntries)
	}
	for i := range b.Entries {
		e := &b.Entries[i]
		if e.Site != b.Site {
			return veedel.Errorf(veedel.EINVALID, "entry %d belongs to site %q, not %q", e.Seq, e.Site, b.Site)
		}
		if err := e.Verify(); err != nil {
			return err
		}
		if i > 0 && !e.Follows(b.Entries[i-1].Seq, b.Entries[i-1].Hash) {
			return veedel.Errorf(veedel.EINVALID, "entry %d does not follow entry %d in the batch", e.Seq, b.Entries[i-1].Seq)
		}
	}
	return nil
}
