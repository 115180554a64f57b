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
