package vehicle_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/sync/blob"
	"github.com/veedel/veedel/workflow"
)

// markedFile stores a PDF at the site (as the transfer would) with
// marker all through it, and returns its Ref.
func (s *site) markedFile(marker, name string) blob.Ref {
	s.t.Helper()
	data := make([]byte, 2*blob.ChunkSize+300)
	rand.Read(data)
	copy(data, "%PDF-1.7\n")
	for i := 64; i+len(marker) < len(data); i += 2048 {
		copy(data[i:], marker)
	}
	ref, err := s.store.Blobs().Put(context.Background(), bytes.NewReader(data), name, 10<<20)
	if err != nil {
		s.t.Fatal(err)
	}
	return ref
}

// inFile reports whether the site's SQLite file or its WAL holds marker.
func (s *site) inFile(marker string) bool {
	s.t.Helper()
	for _, p := range []string{s.path, s.path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			s.t.Fatal(err)
		}
		if bytes.Contains(b, []byte(marker)) {
			return true
		}
	}
	return false
}

// count is how often marker is in the SQLite file and its WAL.
func (s *site) count(marker string) int {
	s.t.Helper()
	n := 0
	for _, p := range []string{s.path, s.path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			s.t.Fatal(err)
		}
		n += bytes.Count(b, []byte(marker))
	}
	return n
}

// vacuumed reports whether marker is in the SQLite file after VACUUM and
// a checkpoint (nothing left in free pages, the free space of b-tree
// pages or the WAL).
func (s *site) vacuumed(marker string) bool {
	s.t.Helper()
	for _, q := range []string{`VACUUM`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
		if _, err := s.store.Writer().ExecContext(context.Background(), q); err != nil {
			s.t.Fatal(err)
		}
	}
	return s.inFile(marker)
}

// TestErasureTakesTheFiles: when an application's keeping time is over,
// its attachments go with its details — rows, chunks, pending transfers
// and every byte in the SQLite file (at once: the store deletes with
// secure_delete on; and after a VACUUM) — unless another application still
// holds the same file; the permit PDF goes once its validity ended the
// same keeping time ago.
func TestErasureTakesTheFiles(t *testing.T) {
	ctx := context.Background()
	s := newSite(t)
	s.grantBlock(1, "AB", 100, 199)
	const own, shared, permit = "ERIKA-MUSTERMANN-VOLLMACHT-91c2", "GEMEINSAME-VOLLMACHT-FIRMA-5d0e", "PERMIT-PDF-MARKER-a77f"
	ownRef, sharedRef := s.markedFile(own, "vollmacht-erika.pdf"), s.markedFile(shared, "vollmacht-firma.pdf")
	file := func(r blob.Ref) vehicle.Attachment { return vehicle.Attachment{Kind: "vollmacht", File: r} }
	if got := s.apply(s.submitFiles("V0001", goodApplication(vehicle.ProcessTransfer, vehicle.PlateKeep), "", []vehicle.Attachment{file(ownRef), file(sharedRef)})); got != sqlite.InboxApplied {
		t.Fatal(got)
	}
	if got := s.apply(s.submitFiles("V0002", goodApplication(vehicle.ProcessTransfer, vehicle.PlateKeep), "", []vehicle.Attachment{file(sharedRef)})); got != sqlite.InboxApplied {
		t.Fatal(got)
	}
	// V0001 rejected (done); V0002 still open.
	for _, st := range []vehicle.Step{{ID: "V0001", Action: vehicle.ActionClaim, Staff: "anna"}, {ID: "V0001", Action: vehicle.ActionReject, Staff: "anna", Reason: "Vollmacht unleserlich"}} {
		if err := s.step(st); err != nil {
			t.Fatal(err)
		}
	}
	// V0003 approved with a real permit PDF, its documents posted.
	if got := s.apply(s.submitFiles("V0003", goodApplication(vehicle.ProcessNew, vehicle.PlateRandom), "", nil)); got != sqlite.InboxApplied {
		t.Fatal(got)
	}
	if err := s.step(vehicle.Step{ID: "V0003", Action: vehicle.ActionClaim, Staff: "ben"}); err != nil {
		t.Fatal(err)
	}
	s.checkAll("V0003", "ben")
	permitRef := s.markedFile(permit, "")
	var approved *vehicle.ApplicationApproved
	if _, err := s.store.ExecuteTx(ctx, func(_ *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
		events, p, err := vehicle.Approve(ctx, q, at, vehicle.Approval{ID: "V0003", Staff: "ben", Code: "CODEV0003", ValidUntil: "2026-12-17",
			Permit: func(*vehicle.ApplicationApproved) (blob.Ref, error) { return permitRef, nil },
			Plate:  func([]byte, string) ([]workflow.Event, string, error) { return nil, "K-AB 100", nil }})
		approved = p
		return events, err
	}); err != nil || approved == nil {
		t.Fatal(err)
	}
	if err := s.step(vehicle.Step{ID: "V0003", Action: vehicle.ActionPost, Staff: "ben"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.Writer().ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{own, shared, permit} {
		if !s.inFile(m) {
			t.Fatalf("%s is not in the file before the erasure: the check below proves nothing", m)
		}
	}
	before := s.count(own)

	// Not before the keeping time.
	if n, err := s.store.ErasePersonalData(ctx); err != nil || n != 0 {
		t.Fatalf("erasure at once: %d, %v", n, err)
	}
	// After it: V0001's details and its own file go; the shared file
	// stays (V0002 holds it); the permit is still within its keeping time
	// (valid until 2026-12-17).
	s.now = s.now.Add(vehicle.KeepDetails + time.Hour)
	if n, err := s.store.ErasePersonalData(ctx); err != nil || n != 2 {
		t.Fatalf("erasure after the keeping time: %d, %v; want 2 (V0001, V0003)", n, err)
	}
	if _, _, err := s.store.Blobs().Open(ctx, ownRef.SHA256); !errors.Is(err, blob.ErrErased) {
		t.Fatalf("V0001's own file: %v, want erased", err)
	}
	if n := s.count(own); n != 0 {
		t.Fatalf("%d of %d copies of V0001's own file's marker are left after the erasure and the checkpoint, before any VACUUM", n, before)
	}
	if s.vacuumed(own) {
		t.Fatal("a byte of V0001's own file is still in the SQLite file")
	}
	if _, _, err := s.store.Blobs().Open(ctx, sharedRef.SHA256); err != nil {
		t.Fatalf("the file V0002 still holds: %v", err)
	}
	if !s.vacuumed(shared) {
		t.Fatal("the shared file's bytes went while V0002 holds it")
	}
	if files, _ := vehicle.Attachments(ctx, s.store.Read(), "V0001"); len(files) != 0 {
		t.Fatalf("V0001 still lists %d files after its erasure", len(files))
	}
	var wanted int
	s.store.Writer().QueryRowContext(ctx, `SELECT count(*) FROM blob_transfers WHERE sha256 = ?`, ownRef.SHA256).Scan(&wanted)
	if wanted != 0 {
		t.Fatalf("the erased file is still to be fetched (%d transfers)", wanted)
	}
	if _, _, err := s.store.Blobs().Open(ctx, permitRef.SHA256); err != nil || !s.vacuumed(permit) {
		t.Fatalf("the permit went within its keeping time: %v", err)
	}

	// V0002 done too: now the shared file goes.
	for _, st := range []vehicle.Step{{ID: "V0002", Action: vehicle.ActionClaim, Staff: "anna"}, {ID: "V0002", Action: vehicle.ActionReject, Staff: "anna", Reason: "Doppelt"}} {
		if err := s.step(st); err != nil {
			t.Fatal(err)
		}
	}
	// KeepDetails after V0002 was done (long after the permit's validity
	// ended, on 2026-12-17, plus KeepDetails).
	s.now = s.now.Add(vehicle.KeepDetails + time.Hour)
	if _, err := s.store.ErasePersonalData(ctx); err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]string{"shared": shared, "permit": permit, "own": own} {
		if s.vacuumed(m) {
			t.Fatalf("a byte of the %s file is still in the SQLite file", name)
		}
	}
	if a := s.app("V0003"); a.Permit != nil || a.Plate != "K-AB 100" || a.Status != vehicle.StatusApproved {
		t.Fatalf("V0003 after its permit went: %+v", a)
	}
}
