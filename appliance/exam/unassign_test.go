package exam_test

import (
	"context"
	"testing"

	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/workflow"
)

// A child central moves to another site leaves this one: a child not yet
// examined is dropped (the record goes, here and in what the escrow key
// restores; assigned back, it opens again); a child examined already is
// kept, and the site's answer tells central so. Unknown children change
// nothing.
func TestChildUnassigned(t *testing.T) {
	ctx := context.Background()
	s := newSite(t)
	s.assign("kind-weg", child, "EWEGWEG23")
	examined := exam.Child{FamilyName: "Bleibtreu", GivenNames: "Ida", BirthDate: "2021-02-02", Sex: exam.SexFemale, SchoolDistrict: "Innenstadt"}
	s.assign("kind-da", examined, "EDADADA23")
	recs, _ := exam.Records(ctx, s.store.Read())
	ids := map[string]string{}
	for id := range recs {
		r, _ := exam.Get(ctx, s.store.Read(), id)
		ids[r.Child] = id
	}
	if err := s.exec("assistenz", exam.RoleAssistant, func(c exam.Command, q workflow.Querier) ([]workflow.Event, error) {
		return c.Record(ctx, q, ids["kind-da"], exam.Input{HeightCM: f(117), WeightKG: f(21)})
	}); err != nil {
		t.Fatal(err)
	}

	unassign := func(child string) string {
		return s.send(exam.TypeChildUnassigned, "exam.child/"+child, &exam.ChildUnassigned{Child: child, Year: 2027, To: "porz"})
	}
	if got := unassign("kind-weg"); got != sqlite.InboxApplied {
		t.Fatalf("unassign a child not examined: %s", got)
	}
	if _, err := exam.Get(ctx, s.store.Read(), ids["kind-weg"]); err == nil {
		t.Fatal("the child's record stays after it left")
	}
	if got := unassign("kind-da"); got != sqlite.InboxApplied {
		t.Fatalf("unassign a child examined: %s", got)
	}
	if r, err := exam.Get(ctx, s.store.Read(), ids["kind-da"]); err != nil || r.Measurement == nil {
		t.Fatalf("the examined child's record: %+v %v", r, err)
	}
	if got := unassign("kind-unbekannt"); got != sqlite.InboxUnchanged {
		t.Fatalf("unassign an unknown child: %s", got)
	}

	entries, err := s.store.EntriesAfter(ctx, 0, 10000, 1<<24)
	if err != nil {
		t.Fatal(err)
	}
	answers := map[string]exam.ChildLeft{}
	for _, e := range entries {
		if e.Type == exam.TypeDropped || e.Type == exam.TypeKept {
			var l exam.ChildLeft
			if err := changelog.Unmarshal(e.Payload, &l); err != nil {
				t.Fatal(err)
			}
			answers[e.Type] = l
		}
	}
	if d := answers[exam.TypeDropped]; d.Child != "kind-weg" || d.Exam != ids["kind-weg"] || d.To != "porz" {
		t.Errorf("dropped answer = %+v", d)
	}
	if k := answers[exam.TypeKept]; k.Child != "kind-da" || k.Status != exam.StatusInProgress {
		t.Errorf("kept answer = %+v", k)
	}
	// Central reads the answers: the kept child is listed.
	c := exam.NewCentral()
	for _, e := range entries {
		if p, err := changelog.DecodePayload(&e, c.NewPayload); err == nil {
			c.FromSite(siteID, workflow.Event{Type: e.Type, Entity: e.Entity, At: e.At(), Payload: p})
		}
	}
	if kept := c.Kept(2027); len(kept) != 1 || kept[0].Child != "kind-da" || kept[0].Site != siteID || kept[0].To != "porz" {
		t.Errorf("central's kept children = %+v", kept)
	}
	// The escrow key restores what the site has: not the dropped child.
	priv, _ := exam.ReadEscrowPrivate(s.escrow)
	restored, err := exam.OpenWithEscrow(priv, entries)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := restored[ids["kind-weg"]]; ok || len(restored) != 1 {
		t.Errorf("restored %d records, the dropped one among them: %v", len(restored), ok)
	}
	// Assigned back here: a new record.
	s.assign("kind-weg", child, "EWEGWEG23")
	if recs, _ := exam.Records(ctx, s.store.Read()); len(recs) != 2 {
		t.Errorf("%d records after assigning the child back, want 2", len(recs))
	}
}
