package blob_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/sync/blob"
)

// markedPDF returns n bytes that sniff as a PDF with marker repeated in
// every chunk, so that any page left of them shows.
func markedPDF(t *testing.T, n int, marker string) []byte {
	data := pdf(t, n)
	for i := 64; i+len(marker) < n; i += 4096 {
		copy(data[i:], marker)
	}
	return data
}

// leftIn reports which of the database's files (main, -wal) still hold
// marker.
func leftIn(t *testing.T, path, marker string) []string {
	t.Helper()
	var in []string
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(marker)) {
			in = append(in, filepath.Base(p))
		}
	}
	return in
}

// At the site (the appliance's SQLite), in the workflow's transaction: a
// file two records hold stays until both let go; the last release takes
// its chunks, its pending transfers and, with secure_delete, every byte
// of it from the database file; a partly fetched file goes the same way.
func TestRelease(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kfz.db")
	s, err := sqlite.Open(ctx, path, "kfz", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const marker = "VOLLMACHT-ERIKA-MUSTERMANN-7f3a"
	data := markedPDF(t, 3*blob.ChunkSize+100, marker)
	ref, err := s.Blobs().Put(ctx, bytes.NewReader(data), "vollmacht.pdf", 10<<20)
	if err != nil {
		t.Fatal(err)
	}
	partial := markedPDF(t, 2*blob.ChunkSize+1, marker)
	pref := blob.Ref{SHA256: sum(partial), Size: int64(len(partial)), Type: blob.TypePDF}
	if _, err := s.Blobs().Receive(ctx, pref, 0, blob.ChunkOf(partial, 0), blob.ChunkSum(blob.ChunkOf(partial, 0))); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 1, 5, 3, 0, 0, 0, time.UTC)
	tx, err := s.Writer().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"vehicle/A", "vehicle/B"} {
		if err := blob.Hold(ctx, tx, h, ref.SHA256); err != nil {
			t.Fatal(err)
		}
	}
	if err := blob.Hold(ctx, tx, "vehicle/C", pref.SHA256); err != nil {
		t.Fatal(err)
	}
	for _, r := range []blob.Ref{ref, pref} {
		if err := blob.Want(ctx, tx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := blob.Offer(ctx, tx, ref); err != nil {
		t.Fatal(err)
	}
	if gone, err := blob.Release(ctx, tx, "vehicle/A", ref.SHA256, now); err != nil || gone {
		t.Fatalf("release by A while B holds it: gone %v, %v", gone, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Blobs().Open(ctx, ref.SHA256); err != nil {
		t.Fatalf("B still holds it: %v", err)
	}

	// Rolled back: nothing changes.
	tx, _ = s.Writer().BeginTx(ctx, nil)
	if gone, err := blob.Release(ctx, tx, "vehicle/B", ref.SHA256, now); err != nil || !gone {
		t.Fatalf("the last release: gone %v, %v", gone, err)
	}
	tx.Rollback()
	if _, _, err := s.Blobs().Open(ctx, ref.SHA256); err != nil {
		t.Fatalf("a release rolled back took the file: %v", err)
	}

	tx, _ = s.Writer().BeginTx(ctx, nil)
	for _, r := range []struct{ holder, sha string }{{"vehicle/B", ref.SHA256}, {"vehicle/C", pref.SHA256}} {
		if gone, err := blob.Release(ctx, tx, r.holder, r.sha, now); err != nil || !gone {
			t.Fatalf("the last release of %.12s: gone %v, %v", r.sha, gone, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []blob.Ref{ref, pref} {
		if _, err := s.Blobs().Next(ctx, r); !errors.Is(err, blob.ErrErased) {
			t.Fatalf("%.12s after its release: %v, want ErrErased", r.SHA256, err)
		}
		if n, _ := s.Blobs().Chunks().Received(ctx, r.SHA256); n != 0 {
			t.Fatalf("%d chunks of %.12s left", n, r.SHA256)
		}
	}
	var transfers int
	if err := s.Writer().QueryRowContext(ctx, `SELECT count(*) FROM blob_transfers`).Scan(&transfers); err != nil || transfers != 0 {
		t.Fatalf("%d transfers left of released files (%v)", transfers, err)
	}
	if _, err := s.Writer().ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	if in := leftIn(t, path, marker); len(in) > 0 {
		t.Fatalf("the released files' bytes are still in %v", in)
	}

	// The control: a delete with secure_delete off leaves the bytes in
	// the freed pages, which is what the check above would have found.
	other := markedPDF(t, 2*blob.ChunkSize, "CONTROL-MARKER-c41b")
	oref, err := s.Blobs().Put(ctx, bytes.NewReader(other), "", 10<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Writer().ExecContext(ctx, `PRAGMA secure_delete = OFF`); err != nil {
		t.Fatal(err)
	}
	if err := s.Blobs().Delete(ctx, oref.SHA256); err != nil {
		t.Fatal(err)
	}
	s.Writer().ExecContext(ctx, `PRAGMA secure_delete = ON`)
	s.Writer().ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	if in := leftIn(t, path, "CONTROL-MARKER-c41b"); len(in) == 0 {
		t.Fatal("the control's bytes are gone without secure_delete: the check above proves nothing")
	}
}
