package central

import (
	"context"
	"sync"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/sync/blob"
)

// BlobStore keeps the files that travel with the workflows' events
// (sync/blob): central/sqlite and central/postgres implement it.
type BlobStore interface {
	// BlobChunks returns the store's chunk tables (blobs, blob_chunks).
	BlobChunks() blob.Chunks
}

// Blobs returns central's files: a portal's upload is Put here before
// the event that references it is sent to a site; a site's file (a
// permit) is here once Open finds it. Without a BlobStore every call is
// EUNAVAILABLE.
func (c *Central) Blobs() *blob.Files {
	if bs, ok := c.store.(BlobStore); ok {
		return blob.New(bs.BlobChunks())
	}
	return blob.New(noBlobs{})
}

// blobRefs are the files the logs reference, per site: those a site's
// own log references (it may send them up) and those its outbound log
// references (it may fetch them). Folded from the logs, in memory.
type blobRefs struct {
	mu   sync.Mutex
	up   map[string]map[string]blob.Ref // site → sha256 → ref
	down map[string]map[string]blob.Ref
}

// saw records the files an event of site's own log (up) or of its
// outbound log references.
func (b *blobRefs) saw(up bool, site string, payload any) {
	refs := blob.Refs(payload)
	if len(refs) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	m := &b.down
	if up {
		m = &b.up
	}
	if *m == nil {
		*m = map[string]map[string]blob.Ref{}
	}
	if (*m)[site] == nil {
		(*m)[site] = map[string]blob.Ref{}
	}
	for _, r := range refs {
		(*m)[site][r.SHA256] = r
	}
}

// BlobFromSite returns the Ref of a file site's own log references: the
// only files central takes from it. EFORBIDDEN otherwise.
func (c *Central) BlobFromSite(site, sha string) (blob.Ref, error) {
	return c.blobs.find(true, site, sha)
}

// BlobForSite returns the Ref of a file site's outbound log references:
// the only files central gives it. EFORBIDDEN otherwise.
func (c *Central) BlobForSite(site, sha string) (blob.Ref, error) {
	return c.blobs.find(false, site, sha)
}

func (b *blobRefs) find(up bool, site, sha string) (blob.Ref, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.down
	if up {
		m = b.up
	}
	if r, ok := m[site][sha]; ok {
		return r, nil
	}
	return blob.Ref{}, veedel.Errorf(veedel.EFORBIDDEN, "file %.12s is not referenced in site %s's log", sha, site)
}

type noBlobs struct{}

func (noBlobs) err() error {
	return veedel.Errorf(veedel.EUNAVAILABLE, "this central keeps no files")
}
func (n noBlobs) Stat(context.Context, string) (blob.Ref, error)      { return blob.Ref{}, n.err() }
func (n noBlobs) Chunk(context.Context, string, int) ([]byte, error)  { return nil, n.err() }
func (n noBlobs) Received(context.Context, string) (int, error)       { return 0, n.err() }
func (n noBlobs) PutChunk(context.Context, string, int, []byte) error { return n.err() }
func (n noBlobs) Commit(context.Context, blob.Ref) error              { return n.err() }
func (n noBlobs) Discard(context.Context, string) error               { return n.err() }
func (n noBlobs) Remove(context.Context, string) error                { return n.err() }

// ReferenceBlob records that site may send up (dir blob.Up) or fetch
// (blob.Down) the file ref names, for a file the logs reference in a form
// Refs cannot see (inside a sealed payload). Files in the clear in an
// event's payload need no call: the fold finds them.
func (c *Central) ReferenceBlob(site, dir string, ref blob.Ref) {
	c.blobs.saw(dir == blob.Up, site, ref)
}
