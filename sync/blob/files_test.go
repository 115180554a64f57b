package blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"path/filepath"
	"testing"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/sync/blob"
)

// mustStore opens a real appliance store (its migrations make the blob
// tables) in a temporary directory.
func mustStore(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "kalk.db"), "kalk", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// pdf returns n bytes that sniff as a PDF, random after the header.
func pdf(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	copy(b, "%PDF-1.7\n")
	return b
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestPutOpen(t *testing.T) {
	ctx := context.Background()
	f := mustStore(t).Blobs()
	data := pdf(t, 3*blob.ChunkSize+17)
	ref, err := f.Put(ctx, bytes.NewReader(data), "vollmacht.pdf", 10<<20)
	if err != nil {
		t.Fatal(err)
	}
	if want := (blob.Ref{SHA256: sum(data), Size: int64(len(data)), Type: blob.TypePDF, Name: "vollmacht.pdf"}); ref != want {
		t.Fatalf("got %+v, want %+v", ref, want)
	}
	r, got, err := f.Open(ctx, ref.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(back, data) || got.Size != ref.Size || got.Type != blob.TypePDF {
		t.Fatalf("read back %d bytes (%v), ref %+v; want the %d put", len(back), err, got, len(data))
	}
	// The same bytes again: the same file, under the new name.
	again, err := f.Put(ctx, bytes.NewReader(data), "copy.pdf", 10<<20)
	if err != nil || again.SHA256 != ref.SHA256 || again.Name != "copy.pdf" {
		t.Fatalf("second put: %+v, %v", again, err)
	}
}

func TestPutRefuses(t *testing.T) {
	ctx := context.Background()
	f := mustStore(t).Blobs()
	jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, make([]byte, 100)...)
	if ref, err := f.Put(ctx, bytes.NewReader(jpeg), "", 1000); err != nil || ref.Type != blob.TypeJPEG {
		t.Fatalf("a JPEG: %+v, %v", ref, err)
	}
	for name, tc := range map[string]struct {
		data  []byte
		limit int64
	}{
		"TooLarge": {pdf(t, 1001), 1000},
		"PNG":      {[]byte("\x89PNG\r\n\x1a\n...."), 1000},
		"Empty":    {nil, 1000},
		"Text":     {[]byte("hello %PDF-"), 1000},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.Put(ctx, bytes.NewReader(tc.data), "", tc.limit)
			if veedel.ErrorCode(err) != veedel.EINVALID {
				t.Fatalf("got %v, want EINVALID", err)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	f := mustStore(t).Blobs()
	data := pdf(t, blob.ChunkSize+1)
	ref, err := f.Put(ctx, bytes.NewReader(data), "", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Delete(ctx, ref.SHA256); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.Open(ctx, ref.SHA256); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Fatalf("a deleted file: %v, want ENOTFOUND", err)
	}
	if next, _ := f.Next(ctx, ref); next != 0 {
		t.Fatalf("a deleted file's chunks are kept: resume at %d", next)
	}
	if err := f.Delete(ctx, ref.SHA256); err != nil {
		t.Fatalf("deleted twice: %v", err)
	}
}

func TestOpenMissing(t *testing.T) {
	_, _, err := mustStore(t).Blobs().Open(context.Background(), sum([]byte("x")))
	if veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Fatalf("got %v, want ENOTFOUND", err)
	}
}

func TestWantOffer(t *testing.T) {
	ctx := context.Background()
	s := mustStore(t)
	data := pdf(t, 1000)
	ref := blob.Ref{SHA256: sum(data), Size: 1000, Type: blob.TypePDF}
	tx, err := s.Writer().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := blob.Want(ctx, tx, ref); err != nil {
		t.Fatal(err)
	}
	if err := blob.Want(ctx, tx, ref); err != nil {
		t.Fatalf("wanted twice: %v", err)
	}
	if err := blob.Offer(ctx, tx, ref); veedel.ErrorCode(err) != veedel.ECONFLICT {
		t.Fatalf("offered before Put: %v, want ECONFLICT", err)
	}
	if err := blob.Want(ctx, tx, blob.Ref{SHA256: "nothex", Size: 1, Type: blob.TypePDF}); veedel.ErrorCode(err) != veedel.EINVALID {
		t.Fatalf("a bad ref: %v, want EINVALID", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Blobs().Put(ctx, bytes.NewReader(data), "", 2000); err != nil {
		t.Fatal(err)
	}
	tx, _ = s.Writer().BeginTx(ctx, nil)
	defer tx.Rollback()
	if err := blob.Offer(ctx, tx, ref); err != nil {
		t.Fatalf("offered after Put: %v", err)
	}
}

// Receive refuses what does not fit the Ref: a chunk of the wrong size,
// one beyond the file, a Ref over MaxSize or of a type not accepted, and
// a file whose bytes are not of its Ref's type.
func TestReceiveRefuses(t *testing.T) {
	ctx := context.Background()
	f := mustStore(t).Blobs()
	data := pdf(t, blob.ChunkSize+10)
	ref := blob.Ref{SHA256: sum(data), Size: int64(len(data)), Type: blob.TypePDF}
	short := data[:blob.ChunkSize-1]
	for name, tc := range map[string]struct {
		ref  blob.Ref
		i    int
		data []byte
		code string
	}{
		"ShortChunk":  {ref, 0, short, veedel.EINVALID},
		"BeyondFile":  {ref, 2, data[:10], veedel.EINVALID},
		"Negative":    {ref, -1, data[:10], veedel.EINVALID},
		"TooLarge":    {blob.Ref{SHA256: ref.SHA256, Size: blob.MaxSize + 1, Type: blob.TypePDF}, 0, data[:blob.ChunkSize], veedel.EINVALID},
		"Type":        {blob.Ref{SHA256: ref.SHA256, Size: ref.Size, Type: "text/html"}, 0, data[:blob.ChunkSize], veedel.EINVALID},
		"NotNext":     {ref, 1, data[blob.ChunkSize:], veedel.ECONFLICT},
		"UpperCaseSH": {blob.Ref{SHA256: "AB" + ref.SHA256[2:], Size: ref.Size, Type: blob.TypePDF}, 0, data[:blob.ChunkSize], veedel.EINVALID},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := f.Receive(ctx, tc.ref, tc.i, tc.data, blob.ChunkSum(tc.data)); veedel.ErrorCode(err) != tc.code {
				t.Fatalf("got %v, want %s", err, tc.code)
			}
		})
	}
	if next, _ := f.Next(ctx, ref); next != 0 {
		t.Fatalf("after the refusals the transfer resumes at %d, want 0", next)
	}

	// A JPEG's bytes under a Ref that says PDF: discarded at the end.
	jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, make([]byte, 50)...)
	lie := blob.Ref{SHA256: sum(jpeg), Size: int64(len(jpeg)), Type: blob.TypePDF}
	if _, err := f.Receive(ctx, lie, 0, jpeg, blob.ChunkSum(jpeg)); veedel.ErrorCode(err) != veedel.EINVALID {
		t.Fatalf("a JPEG sent as a PDF: %v, want EINVALID", err)
	}
	if _, _, err := f.Open(ctx, lie.SHA256); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Fatalf("the mistyped file is visible: %v", err)
	}
}
