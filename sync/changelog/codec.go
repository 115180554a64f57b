package changelog

import (
	"fmt"
	"io"

	"github.com/fxamacker/cbor/v2"
	"github.com/veedel/veedel"
)

// Limits on untrusted input. A batch larger than MaxBatchBytes is refused
// before it is decoded.
const (
	MaxBatchBytes   = 8 << 20
	MaxBatchEntries = 2000
	MaxPayloadBytes = 64 << 10
)

// encMode is Core Deterministic Encoding (RFC 8949 §4.2.1): the same value
// always encodes to the same bytes, so hashes are stable across nodes.
var encMode = func() cbor.EncMode {
	m, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// decMode is strict: duplicate map keys, indefinite lengths and tags are
// refused and every size is bounded, because batches come from the network.
var decMode = func() cbor.DecMode {
	m, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		TagsMd:           cbor.TagsForbidden,
		MaxNestedLevels:  16,
		MaxArrayElements: MaxBatchEntries,
		MaxMapPairs:      256,
		UTF8:             cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// Marshal encodes v deterministically.
func Marshal(v any) ([]byte, error) { return encMode.Marshal(v) }

// Unmarshal decodes untrusted CBOR into v with the strict limits. Trailing
// bytes after the value are an error.
func Unmarshal(data []byte, v any) error {
	if err := decMode.Unmarshal(data, v); err != nil {
		return veedel.Errorf(veedel.EINVALID, "ungültiges CBOR / malformed CBOR: %v", err)
	}
	return nil
}

// ReadBatch reads and decodes one batch from r, reading at most
// MaxBatchBytes, and checks every entry's hash and site.
func ReadBatch(r io.Reader) (*Batch, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBatchBytes+1))
	if err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "batch unreadable: %v", err)
	}
	if len(data) > MaxBatchBytes {
		return nil, veedel.Errorf(veedel.EINVALID, "batch larger than %d bytes", MaxBatchBytes)
	}
	var b Batch
	if err := Unmarshal(data, &b); err != nil {
		return nil, err
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	return &b, nil
}

// DecodePayload decodes an entry's payload into the type registered for its
// event type by newPayload, or reports the type as unknown.
func DecodePayload(e *Entry, newPayload func(string) (any, bool)) (any, error) {
	p, ok := newPayload(e.Type)
	if !ok {
		return nil, fmt.Errorf("unknown event type %q", e.Type)
	}
	if err := Unmarshal(e.Payload, p); err != nil {
		return nil, fmt.Errorf("entry %d (%s): %w", e.Seq, e.Type, err)
	}
	return p, nil
}
