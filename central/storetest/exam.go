package storetest

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

func cohortChild(id, site string, mac string) central.CohortChild {
	return central.CohortChild{Child: id, Year: 2027, District: "Kalk", Site: site, Sex: exam.SexFemale,
		DataMAC: []byte(mac), CodeHash: []byte("hash of " + id),
		Assigned: &central.Outgoing{Type: exam.TypeChildAssigned, Entity: "child/" + id,
			Payload: &exam.ChildAssigned{Child: id, Year: 2027, District: "Kalk", Sealed: []byte("sealed " + mac)}}}
}

// The cohort: a new child is inserted and sent to its site, an unchanged
// one neither stored again nor sent, a changed or moved one updated and
// sent (to its new site, while its old site is sent its unassignment),
// and the whole import is one transaction.
func testExamCohort(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	got, err := s.ImportCohort(ctx, []central.CohortChild{cohortChild("a", "gesundheitsamt", "1"), cohortChild("b", "gesundheitsamt", "1")}, start, hlcClock())
	if err != nil || !slices.Equal(got, []string{central.CohortImported, central.CohortImported}) {
		t.Fatalf("first import = %v, %v; want both imported", got, err)
	}
	later := start.Add(time.Hour)
	got, err = s.ImportCohort(ctx, []central.CohortChild{cohortChild("a", "gesundheitsamt", "1"), cohortChild("b", "gesundheitsamt", "2"),
		cohortChild("c", "porz", "1")}, later, hlcClock())
	if err != nil || !slices.Equal(got, []string{central.CohortUnchanged, central.CohortUpdated, central.CohortImported}) {
		t.Fatalf("second import = %v, %v; want unchanged, updated, imported", got, err)
	}
	out := outbound(t, s, "gesundheitsamt")
	if len(out) != 3 {
		t.Fatalf("gesundheitsamt's outbound log has %d entries, want 3 (a, b, b again)", len(out))
	}
	var last exam.ChildAssigned
	if err := changelog.Unmarshal(out[2].Payload, &last); err != nil || out[2].Type != exam.TypeChildAssigned || last.Child != "b" || string(last.Sealed) != "sealed 2" {
		t.Errorf("last entry = %s %+v, %v; want b's update", out[2].Type, last, err)
	}
	if n := len(outbound(t, s, "porz")); n != 1 {
		t.Errorf("porz's outbound log has %d entries, want 1", n)
	}
	// b moves to porz with the same data: updated and sent there.
	got, err = s.ImportCohort(ctx, []central.CohortChild{cohortChild("b", "porz", "2")}, later, hlcClock())
	if err != nil || !slices.Equal(got, []string{central.CohortUpdated}) {
		t.Fatalf("move = %v, %v; want updated", got, err)
	}
	if n := len(outbound(t, s, "porz")); n != 2 {
		t.Errorf("porz's outbound log has %d entries after the move, want 2", n)
	}
	// ... and the site it left lets it go, in the same transaction.
	out = outbound(t, s, "gesundheitsamt")
	var gone exam.ChildUnassigned
	if len(out) != 4 || out[3].Type != exam.TypeChildUnassigned || changelog.Unmarshal(out[3].Payload, &gone) != nil ||
		gone.Child != "b" || gone.Year != 2027 || gone.To != "porz" {
		t.Errorf("gesundheitsamt's outbound log after the move: %d entries, last %s %+v; want b unassigned, to porz", len(out), out[len(out)-1].Type, gone)
	}
	kids, err := s.Cohort(ctx, 2027)
	if err != nil || len(kids) != 3 {
		t.Fatalf("Cohort = %d, %v; want 3", len(kids), err)
	}
	a, b := kids[0], kids[1]
	if a.Child != "a" || !a.ImportedAt.Equal(start) || !a.UpdatedAt.Equal(start) || a.Sex != exam.SexFemale || a.District != "Kalk" ||
		!bytes.Equal(a.CodeHash, []byte("hash of a")) || !bytes.Equal(a.DataMAC, []byte("1")) {
		t.Errorf("a = %+v", a)
	}
	if b.Child != "b" || b.Site != "porz" || !b.ImportedAt.Equal(start) || !b.UpdatedAt.Equal(later) {
		t.Errorf("b = %+v; want moved to porz, updated later", b)
	}
	if other, err := s.Cohort(ctx, 2028); err != nil || len(other) != 0 {
		t.Errorf("Cohort(2028) = %v, %v; want none", other, err)
	}
	// The parents' code finds the child; another code finds none.
	if got, err := s.CohortByCode(ctx, []byte("hash of b")); err != nil || got.Child != "b" || got.Site != "porz" || got.Year != 2027 {
		t.Errorf("CohortByCode = %+v, %v; want b", got, err)
	}
	if _, err := s.CohortByCode(ctx, []byte("hash of z")); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Errorf("CohortByCode of an unknown code: %v, want ENOTFOUND", err)
	}
	// A reopened store (another process) sees the same.
	s2 := mustOpen(t, open)
	if kids2, err := s2.Cohort(ctx, 2027); err != nil || len(kids2) != 3 {
		t.Errorf("Cohort after reopening = %d, %v", len(kids2), err)
	}
}

// Two imports of the same new children at once: each child is imported
// once and sent once.
func testExamCohortConcurrent(t *testing.T, open Opener) {
	ctx := context.Background()
	stores := []Store{mustOpen(t, open), mustOpen(t, open)}
	kids := []central.CohortChild{cohortChild("a", "gesundheitsamt", "1"), cohortChild("b", "gesundheitsamt", "1")}
	results := make([][]string, len(stores))
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if results[i], err = s.ImportCohort(ctx, kids, start, hlcClock()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	imported := 0
	for _, r := range results {
		for _, o := range r {
			if o == central.CohortImported {
				imported++
			}
		}
	}
	if imported != 2 {
		t.Errorf("imported %d times in all (%v), want 2", imported, results)
	}
	if n := len(outbound(t, stores[0], "gesundheitsamt")); n != 2 {
		t.Errorf("outbound has %d entries, want 2", n)
	}
}

// The district→site table: set, change (a district's name regardless of
// case is one district), remove.
func testExamDistricts(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	if d, err := s.ExamDistricts(ctx); err != nil || len(d) != 0 {
		t.Fatalf("ExamDistricts at first = %v, %v; want none", d, err)
	}
	for _, set := range [][2]string{{"Kalk", "gesundheitsamt"}, {"Porz", "porz"}, {"kalk", "porz"}} {
		if err := s.SetExamDistrict(ctx, set[0], set[1], start); err != nil {
			t.Fatal(err)
		}
	}
	d, err := s.ExamDistricts(ctx)
	if err != nil || len(d) != 2 || d[0].District != "kalk" || d[0].Site != "porz" || d[1].District != "Porz" || !d[1].UpdatedAt.Equal(start) {
		t.Fatalf("ExamDistricts = %+v, %v; want kalk→porz, Porz→porz", d, err)
	}
	if err := s.SetExamDistrict(ctx, "KALK", "", start); err != nil {
		t.Fatal(err)
	}
	if d, err := s.ExamDistricts(ctx); err != nil || len(d) != 1 || d[0].District != "Porz" {
		t.Errorf("after removing kalk = %+v, %v", d, err)
	}
}
