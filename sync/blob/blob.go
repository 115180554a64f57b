// Package blob is the sync capability for files that travel with a
// workflow's events (an application's attachments down to the site, the
// provisional permit PDF up to central; later scanned files and exam
// reports): content-addressed by SHA-256, stored once per node, and
// moved in chunks on the site's signed sync channel, resumable where a
// transfer stopped. The change-log carries a Ref, never the bytes.
//
// This file is the contract the workflows build on; the stores and the
// transfer live beside it.
package blob

import (
	"context"
	"io"
)

// Ref names a file by its content. It is what an event carries.
type Ref struct {
	// SHA256 is the lower-case hex SHA-256 of the bytes.
	SHA256 string `cbor:"1,keyasint" json:"sha256"`
	Size   int64  `cbor:"2,keyasint" json:"size"`
	// Type is the media type as checked from the bytes
	// ("application/pdf", "image/jpeg").
	Type string `cbor:"3,keyasint" json:"type"`
	// Name is the file name the person gave (shown to staff; may be "").
	Name string `cbor:"4,keyasint,omitempty" json:"name,omitempty"`
}

// Store keeps files by content at one node (a site's SQLite store,
// central's SQLite or PostgreSQL store).
type Store interface {
	// Put reads r to its end and stores the bytes under their hash:
	// an EINVALID *veedel.Error when they are more than limit bytes or
	// not of an allowed type (PDF or JPEG unless the store was told
	// otherwise). Putting the same bytes twice stores them once.
	Put(ctx context.Context, r io.Reader, name string, limit int64) (Ref, error)
	// Open returns the whole file, or an ENOTFOUND *veedel.Error while
	// it is not (yet) at this node.
	Open(ctx context.Context, sha256 string) (io.ReadCloser, Ref, error)
}
