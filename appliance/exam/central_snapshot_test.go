package exam

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/veedel/veedel/workflow"
)

// A restored statistics model holds the folded one's records and the
// children kept at their old site, and a drop folded after the restore
// still takes a kept child off the list.
func TestCentralSnapshotRoundTrip(t *testing.T) {
	at := time.UnixMilli(time.Date(2027, 3, 4, 9, 0, 0, 0, time.UTC).UnixMilli())
	folded := NewCentral()
	folded.FromSite("gesundheitsamt", workflow.Event{Type: TypeStatistics, At: at,
		Payload: &Statistics{Exam: "e1", Year: 2027, District: "Kalk", AgeMonths: 70, Sex: SexFemale, Vision: FindingNormal}})
	folded.FromSite("gesundheitsamt", workflow.Event{Type: TypeKept, At: at,
		Payload: &ChildLeft{Child: "c1", Year: 2027, To: "gesundheit-nord", Status: "signed_off"}})
	folded.FromSite("gesundheitsamt", workflow.Event{Type: TypeKept, At: at,
		Payload: &ChildLeft{Child: "c2", Year: 2027, To: "gesundheit-nord", Status: "in_progress"}})

	version, frozen := folded.Snapshot()
	data, err := json.Marshal(frozen)
	if err != nil {
		t.Fatal(err)
	}
	restored := NewCentral()
	if err := restored.Restore(version, data); err != nil {
		t.Fatal(err)
	}
	if got, want := restored.Kept(2027), folded.Kept(2027); len(want) != 2 || !reflect.DeepEqual(got, want) {
		t.Errorf("kept after restore = %+v, folded %+v", got, want)
	}
	if !reflect.DeepEqual(restored.exams, folded.exams) {
		t.Errorf("records after restore = %+v, folded %+v", restored.exams, folded.exams)
	}
	restored.FromSite("gesundheitsamt", workflow.Event{Type: TypeDropped, At: at.Add(time.Hour), Payload: &ChildLeft{Child: "c1", Year: 2027}})
	if got := restored.Kept(2027); len(got) != 1 || got[0].Child != "c2" {
		t.Errorf("after c1 was dropped: %+v", got)
	}
}
