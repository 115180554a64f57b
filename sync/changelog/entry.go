package changelog

import (
	"bytes"
	"crypto/sha256"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/veedel/veedel"
)

// SchemaVersion is the envelope version this build writes. Central accepts
// SchemaVersion-2 … SchemaVersion.
const SchemaVersion = 1

// Entry is one committed event in a site's change-log. Seq is gap-free per
// site starting at 1; Prev is the Hash of entry Seq-1 (empty for Seq 1), so a
// site's log is a hash chain that central can verify entry by entry.
type Entry struct {
	Version uint            `cbor:"0,keyasint"`
	Site    string          `cbor:"1,keyasint"`
	Seq     uint64          `cbor:"2,keyasint"`
	HLC     HLC             `cbor:"3,keyasint"`
	Type    string          `cbor:"4,keyasint"`
	Entity  string          `cbor:"5,keyasint"`
	Payload cbor.RawMessage `cbor:"6,keyasint"`
	Prev    []byte          `cbor:"7,keyasint"`
	Hash    []byte          `cbor:"8,keyasint,omitempty"`
}

// NewEntry builds and seals the entry that follows prev (nil for the first
// entry of a site), encoding payload deterministically.
func NewEntry(site string, prev *Entry, hlc HLC, eventType, entity string, payload any) (Entry, error) {
	raw, err := Marshal(payload)
	if err != nil {
		return Entry{}, err
	}
	e := Entry{Version: SchemaVersion, Site: site, Seq: 1, HLC: hlc, Type: eventType, Entity: entity, Payload: raw}
	if prev != nil {
		e.Seq, e.Prev = prev.Seq+1, prev.Hash
	}
	e.Hash, err = e.ComputeHash()
	return e, err
}

// ComputeHash returns SHA-256 over the deterministic encoding of the entry
// without its Hash field.
func (e Entry) ComputeHash() ([]byte, error) {
	e.Hash = nil
	data, err := Marshal(e)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	return sum[:], nil
}

// At is the site's wall time of the entry.
func (e *Entry) At() time.Time { return e.HLC.Time() }

// Verify checks an entry on its own: version, fields, size and hash.
func (e *Entry) Verify() error {
	switch {
	case e.Version < max(SchemaVersion-2, 1) || e.Version > SchemaVersion:
		return veedel.Errorf(veedel.EINVALID, "entry %d: schema version %d not supported (accepting %d…%d)", e.Seq, e.Version, max(SchemaVersion-2, 1), SchemaVersion)
	case e.Site == "" || e.Seq == 0 || e.Type == "":
		return veedel.Errorf(veedel.EINVALID, "entry %d: site, seq and type are required", e.Seq)
	case len(e.Payload) > MaxPayloadBytes:
		return veedel.Errorf(veedel.EINVALID, "entry %d: payload larger than %d bytes", e.Seq, MaxPayloadBytes)
	case e.Seq == 1 && len(e.Prev) != 0, e.Seq > 1 && len(e.Prev) != sha256.Size:
		return veedel.Errorf(veedel.EINVALID, "entry %d: bad previous hash", e.Seq)
	}
	want, err := e.ComputeHash()
	if err != nil {
		return veedel.Errorf(veedel.EINVALID, "entry %d: %v", e.Seq, err)
	}
	if !bytes.Equal(want, e.Hash) {
		return veedel.Errorf(veedel.EINVALID, "entry %d: hash does not match its content", e.Seq)
	}
	return nil
}

// Follows reports whether e is the direct successor of an entry with the
// given seq and hash: the chain holds.
func (e *Entry) Follows(seq uint64, hash []byte) bool {
	return e.Seq == seq+1 && bytes.Equal(e.Prev, hash)
}
