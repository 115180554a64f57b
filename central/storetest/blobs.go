package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/blob"
)

func blobFiles(t *testing.T, s Store) *blob.Files {
	t.Helper()
	bs, ok := s.(central.BlobStore)
	if !ok {
		t.Fatalf("%T keeps no files", s)
	}
	return blob.New(bs.BlobChunks())
}

// testPDF returns n bytes that sniff as a PDF, the rest from seed.
func testPDF(seed uint64, n int) ([]byte, blob.Ref) {
	r := rand.New(rand.NewPCG(seed, 1))
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	copy(data, "%PDF-1.4\n")
	sum := sha256.Sum256(data)
	return data, blob.Ref{SHA256: hex.EncodeToString(sum[:]), Size: int64(n), Type: blob.TypePDF}
}

// A file Put is read back whole, and the same bytes are kept once.
func testBlobsPutOpen(t *testing.T, open Opener) {
	ctx := context.Background()
	f := blobFiles(t, mustOpen(t, open))
	data, want := testPDF(1, 2*blob.ChunkSize+5)
	ref, err := f.Put(ctx, bytes.NewReader(data), "a.pdf", 1<<20)
	if err != nil || ref.SHA256 != want.SHA256 || ref.Size != want.Size || ref.Type != blob.TypePDF {
		t.Fatalf("Put: %+v, %v; want %+v", ref, err, want)
	}
	if _, err := f.Put(ctx, bytes.NewReader(data), "b.pdf", 1<<20); err != nil {
		t.Fatalf("the same bytes again: %v", err)
	}
	// From another connection, as after a restart.
	rc, got, err := blobFiles(t, mustOpen(t, open)).Open(ctx, ref.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	back, _ := io.ReadAll(rc)
	if !bytes.Equal(back, data) || got.Size != ref.Size || got.Type != ref.Type {
		t.Fatalf("read back %d bytes as %+v, want the %d put", len(back), got, len(data))
	}
	// Deleted (its keeping time is over): gone, chunks and all.
	if err := f.Delete(ctx, ref.SHA256); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.Open(ctx, ref.SHA256); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Fatalf("a deleted file: %v, want ENOTFOUND", err)
	}
	if next, err := f.Next(ctx, ref); err != nil || next != 0 {
		t.Fatalf("a deleted file's chunks: resume at %d (%v), want 0", next, err)
	}
}

// A file received chunk by chunk is invisible until the last chunk is in
// and the whole hash checked; the position survives a reopen; a corrupt
// chunk changes nothing; a whole file that does not match its hash is
// discarded.
func testBlobsReceive(t *testing.T, open Opener) {
	ctx := context.Background()
	f := blobFiles(t, mustOpen(t, open))
	data, ref := testPDF(2, 3*blob.ChunkSize+100)
	for i := range 2 {
		if done, err := f.Receive(ctx, ref, i, blob.ChunkOf(data, i), blob.ChunkSum(blob.ChunkOf(data, i))); err != nil || done {
			t.Fatalf("chunk %d: done %v, %v", i, done, err)
		}
	}
	if _, _, err := f.Open(ctx, ref.SHA256); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Fatalf("an incomplete file: %v, want ENOTFOUND", err)
	}
	// Reopened: the transfer resumes at chunk 2.
	f = blobFiles(t, mustOpen(t, open))
	if next, err := f.Next(ctx, ref); err != nil || next != 2 {
		t.Fatalf("resume point after reopening: %d, %v; want 2", next, err)
	}
	bad := bytes.Clone(blob.ChunkOf(data, 2))
	bad[7] ^= 1
	if _, err := f.Receive(ctx, ref, 2, bad, blob.ChunkSum(blob.ChunkOf(data, 2))); veedel.ErrorCode(err) != veedel.EINVALID {
		t.Fatalf("a corrupt chunk: %v, want EINVALID", err)
	}
	if _, err := f.Receive(ctx, ref, 3, blob.ChunkOf(data, 3), blob.ChunkSum(blob.ChunkOf(data, 3))); veedel.ErrorCode(err) != veedel.ECONFLICT {
		t.Fatalf("chunk 3 before 2: %v, want ECONFLICT", err)
	}
	if next, _ := f.Next(ctx, ref); next != 2 {
		t.Fatalf("resume point after the refusals: %d, want 2", next)
	}
	// The same chunk twice at once (a duplicated request): both fine.
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if _, err := f.Receive(ctx, ref, 2, blob.ChunkOf(data, 2), blob.ChunkSum(blob.ChunkOf(data, 2))); err != nil {
				t.Errorf("chunk 2: %v", err)
			}
		})
	}
	wg.Wait()
	done, err := f.Receive(ctx, ref, 3, blob.ChunkOf(data, 3), blob.ChunkSum(blob.ChunkOf(data, 3)))
	if err != nil || !done {
		t.Fatalf("the last chunk: done %v, %v", done, err)
	}
	rc, _, err := f.Open(ctx, ref.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if back, _ := io.ReadAll(rc); !bytes.Equal(back, data) {
		t.Fatal("the received file differs from what was sent")
	}

	// Chunks that each match their sum but not the file's hash.
	other, lie := testPDF(3, blob.ChunkSize+1)
	_, real := testPDF(4, blob.ChunkSize+1)
	lie.SHA256 = real.SHA256
	f.Receive(ctx, lie, 0, blob.ChunkOf(other, 0), blob.ChunkSum(blob.ChunkOf(other, 0)))
	if _, err := f.Receive(ctx, lie, 1, blob.ChunkOf(other, 1), blob.ChunkSum(blob.ChunkOf(other, 1))); veedel.ErrorCode(err) != veedel.EINVALID {
		t.Fatalf("a file that does not match its hash: %v, want EINVALID", err)
	}
	if _, _, err := f.Open(ctx, lie.SHA256); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Fatalf("the mismatched file is visible: %v", err)
	}
	if next, _ := f.Next(ctx, lie); next != 0 {
		t.Fatalf("the mismatched file resumes at %d, want 0 (discarded)", next)
	}
}

// A file two records hold stays until both released it; the last release
// erases it, complete or partly received, and leaves a tombstone: Open,
// ReadChunk, Next and Receive refuse it (ErrErased), also from another
// connection; a new hold of the same bytes lifts it.
func testBlobsRelease(t *testing.T, open Opener) {
	ctx := context.Background()
	f := blobFiles(t, mustOpen(t, open))
	data, _ := testPDF(5, blob.ChunkSize+9)
	ref, err := f.Put(ctx, bytes.NewReader(data), "vollmacht.pdf", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"vehicle/A", "vehicle/B", "vehicle/A"} {
		if err := f.Hold(ctx, h, ref.SHA256); err != nil {
			t.Fatalf("hold by %s: %v", h, err)
		}
	}
	if holders, err := blobFiles(t, mustOpen(t, open)).Chunks().(*blob.SQL).Holders(ctx, ref.SHA256); err != nil || !slices.Equal(holders, []string{"vehicle/A", "vehicle/B"}) {
		t.Fatalf("holders %q, %v", holders, err)
	}
	if gone, err := f.Release(ctx, "vehicle/A", ref.SHA256); err != nil || gone {
		t.Fatalf("release by A while B holds it: gone %v, %v", gone, err)
	}
	if _, _, err := f.Open(ctx, ref.SHA256); err != nil {
		t.Fatalf("B still holds it: %v", err)
	}
	if gone, err := f.Release(ctx, "vehicle/B", ref.SHA256); err != nil || !gone {
		t.Fatalf("the last release: gone %v, %v", gone, err)
	}
	if gone, err := f.Release(ctx, "vehicle/B", ref.SHA256); err != nil || gone {
		t.Fatalf("released twice: gone %v, %v", gone, err)
	}
	g := blobFiles(t, mustOpen(t, open))
	if _, _, err := g.Open(ctx, ref.SHA256); !errors.Is(err, blob.ErrErased) || veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Fatalf("an erased file: %v, want ENOTFOUND wrapping ErrErased", err)
	}
	if _, _, err := g.ReadChunk(ctx, ref.SHA256, 0); !errors.Is(err, blob.ErrErased) {
		t.Fatalf("a chunk of an erased file: %v", err)
	}
	if _, err := g.Next(ctx, ref); !errors.Is(err, blob.ErrErased) {
		t.Fatalf("the resume point of an erased file: %v", err)
	}
	if _, err := g.Receive(ctx, ref, 0, blob.ChunkOf(data, 0), blob.ChunkSum(blob.ChunkOf(data, 0))); !errors.Is(err, blob.ErrErased) {
		t.Fatalf("an erased file sent again: %v", err)
	}
	if n, err := g.Chunks().Received(ctx, ref.SHA256); err != nil || n != 0 {
		t.Fatalf("%d chunks left of the erased file (%v)", n, err)
	}

	// A file partly received and held by nobody else: its chunks go too.
	part, pref := testPDF(6, 2*blob.ChunkSize+1)
	if _, err := f.Receive(ctx, pref, 0, blob.ChunkOf(part, 0), blob.ChunkSum(blob.ChunkOf(part, 0))); err != nil {
		t.Fatal(err)
	}
	if err := f.Hold(ctx, "vehicle/C", pref.SHA256); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Release(ctx, "vehicle/C", pref.SHA256); err != nil {
		t.Fatal(err)
	}
	if n, _ := f.Chunks().Received(ctx, pref.SHA256); n != 0 {
		t.Fatalf("%d chunks of a partly received file left after its release", n)
	}
	if _, err := f.Next(ctx, pref); !errors.Is(err, blob.ErrErased) {
		t.Fatalf("a partly received file after its release: %v", err)
	}

	// The same bytes held anew (another application uploads them): the
	// tombstone goes and the file is taken again.
	if err := f.Hold(ctx, "vehicle/D", ref.SHA256); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Put(ctx, bytes.NewReader(data), "again.pdf", 1<<20); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.Open(ctx, ref.SHA256); err != nil {
		t.Fatalf("held and put again: %v", err)
	}

	// Holds by a range of holders: central's uploads are held by their
	// day, and the days past their keeping are let go.
	for _, h := range []string{"upload/2026-12-06", "upload/2026-12-04", "upload/2026-12-05", "vehicle/E"} {
		if err := f.Hold(ctx, h, pref.SHA256); err != nil {
			t.Fatal(err)
		}
	}
	got, err := blobFiles(t, mustOpen(t, open)).HeldBetween(ctx, "upload/", "upload/2026-12-06")
	if want := []blob.Holding{{SHA256: pref.SHA256, Holder: "upload/2026-12-04"}, {SHA256: pref.SHA256, Holder: "upload/2026-12-05"}}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("holds between upload/ and upload/2026-12-06: %v, %v; want %v", got, err, want)
	}
}
