package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/veedel/veedel"
)

// ChunkSize is the size of every chunk but a file's last: chunk i holds
// bytes [i*ChunkSize, (i+1)*ChunkSize). Part of the wire format: both ends
// cut a file the same way.
const ChunkSize = 256 << 10

// MaxSize is the largest file a node takes from another (a site from
// central, central from a site), whatever its Ref claims.
const MaxSize = 64 << 20

// Media types Put and a transfer accept unless told otherwise.
const (
	TypePDF  = "application/pdf"
	TypeJPEG = "image/jpeg"
)

// Chunks is what a node's database keeps for its files: the chunks of
// complete and incomplete files, and which files are complete. SQL (sql.go)
// implements it for SQLite and PostgreSQL.
type Chunks interface {
	// Stat returns the Ref of a complete file, or ENOTFOUND (wrapping
	// ErrErased for a file erased here, release.go).
	Stat(ctx context.Context, sha string) (Ref, error)
	// Chunk returns chunk i of a file (complete or not), or ENOTFOUND.
	Chunk(ctx context.Context, sha string, i int) ([]byte, error)
	// Received returns how many chunks of the file are stored (they are
	// always stored in order, so these are chunks 0 … n-1).
	Received(ctx context.Context, sha string) (int, error)
	// PutChunk stores chunk i; a chunk stored already is kept.
	PutChunk(ctx context.Context, sha string, i int, data []byte) error
	// Commit makes a file whose chunks are all stored visible.
	Commit(ctx context.Context, ref Ref) error
	// Discard removes the chunks of an incomplete file.
	Discard(ctx context.Context, sha string) error
	// Remove removes a file, complete or not; a file not here is no
	// error.
	Remove(ctx context.Context, sha string) error
}

// Files is a node's Store over its Chunks, and the receiving and sending
// ends of a transfer. It is safe for concurrent use as far as its Chunks
// are.
type Files struct {
	c Chunks
	// Types are the media types accepted; nil: PDF and JPEG.
	Types []string
}

var _ Store = (*Files)(nil)

// New returns the files kept in c.
func New(c Chunks) *Files { return &Files{c: c} }

func (f *Files) types() []string {
	if f.Types != nil {
		return f.Types
	}
	return []string{TypePDF, TypeJPEG}
}

// Sniff returns the media type of a file from its first bytes: PDF
// (%PDF-), JPEG (FF D8 FF), or "".
func Sniff(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return TypePDF
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return TypeJPEG
	}
	return ""
}

// Chunks returns how many chunks a file of size bytes has (an empty file
// has one, empty).
func NumChunks(size int64) int {
	if size <= 0 {
		return 1
	}
	return int((size + ChunkSize - 1) / ChunkSize)
}

// Put reads r to its end and stores the bytes under their hash (Store).
// The file is visible only once every chunk is stored.
func (f *Files) Put(ctx context.Context, r io.Reader, name string, limit int64) (Ref, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return Ref{}, fmt.Errorf("blob: read upload: %w", err)
	}
	if int64(len(data)) > limit {
		return Ref{}, veedel.Errorf(veedel.EINVALID, "the file is larger than %s: send a smaller one", human(limit))
	}
	typ := Sniff(data)
	if typ == "" || !slices.Contains(f.types(), typ) {
		return Ref{}, veedel.Errorf(veedel.EINVALID, "the file is not a PDF or JPEG: send a PDF or a JPEG picture")
	}
	sum := sha256.Sum256(data)
	ref := Ref{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data)), Type: typ, Name: name}
	if have, err := f.c.Stat(ctx, ref.SHA256); err == nil {
		have.Name = name
		return have, nil
	} else if veedel.ErrorCode(err) != veedel.ENOTFOUND {
		return Ref{}, err
	}
	for i := 0; i < NumChunks(ref.Size); i++ {
		if err := f.c.PutChunk(ctx, ref.SHA256, i, ChunkOf(data, i)); err != nil {
			return Ref{}, err
		}
	}
	if err := f.c.Commit(ctx, ref); err != nil {
		return Ref{}, err
	}
	return ref, nil
}

// ChunkOf returns chunk i of a whole file's bytes.
func ChunkOf(data []byte, i int) []byte {
	lo := min(i*ChunkSize, len(data))
	return data[lo:min(lo+ChunkSize, len(data))]
}

func human(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d KB", n>>10)
}

// Open returns the whole file, or ENOTFOUND while it is not complete here
// (Store).
func (f *Files) Open(ctx context.Context, sha string) (io.ReadCloser, Ref, error) {
	ref, err := f.c.Stat(ctx, sha)
	if err != nil {
		return nil, Ref{}, err
	}
	return &reader{ctx: ctx, f: f, ref: ref}, ref, nil
}

// Stat returns the Ref of a complete file, or ENOTFOUND.
func (f *Files) Stat(ctx context.Context, sha string) (Ref, error) { return f.c.Stat(ctx, sha) }

type reader struct {
	ctx  context.Context
	f    *Files
	ref  Ref
	next int
	buf  []byte
}

func (r *reader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.next >= NumChunks(r.ref.Size) {
			return 0, io.EOF
		}
		c, err := r.f.c.Chunk(r.ctx, r.ref.SHA256, r.next)
		if err != nil {
			return 0, err
		}
		r.buf, r.next = c, r.next+1
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (r *reader) Close() error { return nil }

// Delete removes a file from this node at once, held or not, and leaves
// no tombstone (a transfer may bring it again). A workflow erasing a
// record uses Release (release.go) instead, which keeps a file another
// record still holds. A file not here is no error.
func (f *Files) Delete(ctx context.Context, sha string) error { return f.c.Remove(ctx, sha) }

// ChunkSum returns the lower-case hex SHA-256 of a chunk.
func ChunkSum(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// Next returns the transfer's resume point for a file: the number of the
// first chunk not yet received here, or NumChunks when it is complete; an
// error wrapping ErrErased for a file erased here (nothing takes it
// again).
func (f *Files) Next(ctx context.Context, ref Ref) (int, error) {
	if _, err := f.c.Stat(ctx, ref.SHA256); err == nil {
		return NumChunks(ref.Size), nil
	} else if veedel.ErrorCode(err) != veedel.ENOTFOUND || errors.Is(err, ErrErased) {
		return 0, err
	}
	return f.c.Received(ctx, ref.SHA256)
}

// ErrCorrupt marks a chunk or file whose bytes do not match their hash.
var ErrCorrupt = errors.New("blob: bytes do not match their hash")

// Receive stores chunk i of the file ref names, sent with sum, its
// SHA-256: an EINVALID error (wrapping ErrCorrupt) when the bytes do not
// match sum, are not the chunk's size, or i is not the next chunk
// expected (ECONFLICT, with the resume point in the message). A chunk
// received before is taken again without change. After the last chunk
// the whole file's SHA-256 and type are checked and only then is it
// visible; done reports that. A whole file that does not match is
// discarded (its chunks are sent again from 0).
func (f *Files) Receive(ctx context.Context, ref Ref, i int, data []byte, sum string) (done bool, err error) {
	if err := f.CheckRef(ref); err != nil {
		return false, err
	}
	n := NumChunks(ref.Size)
	if i < 0 || i >= n {
		return false, veedel.Errorf(veedel.EINVALID, "chunk %d of a file of %d chunks", i, n)
	}
	if ChunkSum(data) != sum {
		return false, fmt.Errorf("%w: %w", veedel.Errorf(veedel.EINVALID, "chunk %d does not match its SHA-256: send it again", i), ErrCorrupt)
	}
	want := ChunkSize
	if i == n-1 {
		want = int(ref.Size - int64(n-1)*ChunkSize)
	}
	if len(data) != want {
		return false, veedel.Errorf(veedel.EINVALID, "chunk %d has %d bytes, not %d", i, len(data), want)
	}
	next, err := f.Next(ctx, ref)
	if err != nil {
		return false, err
	}
	switch {
	case next == n:
		return true, nil
	case i > next:
		return false, veedel.Errorf(veedel.ECONFLICT, "chunk %d before chunk %d: resume at %d", i, next, next)
	case i < next:
		return false, nil // a resend of a chunk stored already
	}
	if err := f.c.PutChunk(ctx, ref.SHA256, i, data); err != nil {
		return false, err
	}
	if i < n-1 {
		return false, nil
	}
	return true, f.finish(ctx, ref)
}

// finish checks the whole file and makes it visible, or discards it.
func (f *Files) finish(ctx context.Context, ref Ref) error {
	h := sha256.New()
	var head []byte
	for i := 0; i < NumChunks(ref.Size); i++ {
		c, err := f.c.Chunk(ctx, ref.SHA256, i)
		if err != nil {
			return err
		}
		if i == 0 {
			head = c
		}
		h.Write(c)
	}
	if hex.EncodeToString(h.Sum(nil)) != ref.SHA256 || Sniff(head) != ref.Type {
		if err := f.c.Discard(ctx, ref.SHA256); err != nil {
			return err
		}
		return fmt.Errorf("%w: %w", veedel.Errorf(veedel.EINVALID, "file %.12s does not match its SHA-256 or type: sending it again from the start", ref.SHA256), ErrCorrupt)
	}
	ref.Name = ""
	return f.c.Commit(ctx, ref)
}

// CheckRef refuses a Ref no transfer may carry: a malformed hash, a size
// over MaxSize, a type not accepted.
func (f *Files) CheckRef(ref Ref) error {
	if !ValidSHA(ref.SHA256) {
		return veedel.Errorf(veedel.EINVALID, "not a SHA-256: %q", ref.SHA256)
	}
	if ref.Size < 0 || ref.Size > MaxSize {
		return veedel.Errorf(veedel.EINVALID, "a file of %d bytes: at most %s", ref.Size, human(MaxSize))
	}
	if !slices.Contains(f.types(), ref.Type) {
		return veedel.Errorf(veedel.EINVALID, "files of type %q are not accepted", ref.Type)
	}
	return nil
}

// ValidSHA reports whether s is a lower-case hex SHA-256.
func ValidSHA(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// ReadChunk returns chunk i of a complete file and its SHA-256 (the
// sending end of a transfer), or ENOTFOUND.
func (f *Files) ReadChunk(ctx context.Context, sha string, i int) (Ref, []byte, error) {
	ref, err := f.c.Stat(ctx, sha)
	if err != nil {
		return Ref{}, nil, err
	}
	if i < 0 || i >= NumChunks(ref.Size) {
		return Ref{}, nil, veedel.Errorf(veedel.ENOTFOUND, "file %.12s has no chunk %d", sha, i)
	}
	data, err := f.c.Chunk(ctx, sha, i)
	return ref, data, err
}

// Chunks returns the node's chunk tables.
func (f *Files) Chunks() Chunks { return f.c }
