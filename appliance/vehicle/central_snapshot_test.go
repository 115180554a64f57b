package vehicle

import (
	"crypto/sha256"
	"encoding/json"
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/veedel/veedel/sync/blob"
	"github.com/veedel/veedel/workflow"
)

// A restored read model answers the status page, the dashboard and
// /verify as the folded one did, and goes on folding the same.
func TestCentralSnapshotRoundTrip(t *testing.T) {
	at := time.UnixMilli(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).UnixMilli())
	ev := func(p any) workflow.Event { return workflow.Event{At: at, Payload: p} }
	hash := func(token string) []byte { h := sha256.Sum256([]byte(token)); return h[:] }
	folded := NewCentral()
	folded.Sent("zulassung", ev(&ApplicationSubmitted{ID: "A1", Process: ProcessTransfer, Submitted: at.UnixMilli(), TokenHash: hash("t1"), PlateMode: PlateRandom}))
	folded.Sent("zulassung", ev(&ApplicationSubmitted{ID: "A2", Process: ProcessNew, Submitted: at.UnixMilli(), TokenHash: hash("t2"), Company: "autohaus", PlateMode: PlateRandom}))
	folded.Sent("zulassung", ev(&ApplicationSubmitted{ID: "A3", Process: ProcessDeregister, Submitted: at.UnixMilli(), TokenHash: hash("t3"), PlateMode: PlateKeep}))
	folded.FromSite("zulassung", ev(&ApplicationReceived{ApplicationSubmitted{ID: "A1"}}))
	folded.FromSite("zulassung", ev(&ApplicationClaimed{ID: "A1", Staff: "demo"}))
	folded.FromSite("zulassung", ev(&ApplicationApproved{ID: "A1", Staff: "demo", Plate: "K-AB 123", FIN: "WVWZZZ1JZXW000001", Code: "CODE12345678", ValidUntil: "2026-12-11",
		Permit: blob.Ref{SHA256: "ab", Size: 10, Type: "application/pdf"}}))
	folded.FromSite("zulassung", ev(&DocumentsPosted{ID: "A1", Staff: "demo"}))
	folded.FromSite("zulassung", ev(&ApplicationReceived{ApplicationSubmitted{ID: "A2"}}))
	folded.FromSite("zulassung", ev(&InfoRequested{ID: "A2", Staff: "demo", Reason: "Vollmacht fehlt"}))

	version, frozen := folded.Snapshot()
	data, err := json.Marshal(frozen)
	if err != nil {
		t.Fatal(err)
	}
	restored := NewCentral()
	if err := restored.Restore(version, data); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(restored.byID, folded.byID) || !reflect.DeepEqual(restored.byToken, folded.byToken) || !reflect.DeepEqual(restored.byCode, folded.byCode) {
		t.Fatalf("restored model differs from the folded one")
	}
	if got := restored.Open(); !maps.Equal(got, map[string]int{"zulassung": 2}) || !maps.Equal(got, folded.Open()) {
		t.Errorf("open after restore %v, folded %v", got, folded.Open())
	}
	if a, ok := restored.ByToken("t2"); !ok || a.Status != StatusInfoRequested || a.Company != "autohaus" {
		t.Errorf("A2 by token after restore: %+v, %v", a, ok)
	}
	if v, ok := restored.Verify("CODE12345678"); !ok || v.Plate != "K-AB 123" {
		t.Errorf("verify after restore: %+v, %v", v, ok)
	}
	// Folding goes on: a late rejection does not undo the approval, the
	// answer to the request for more is folded.
	var changes []StatusChange
	restored.OnChange(func(c StatusChange) { changes = append(changes, c) })
	restored.FromSite("zulassung", ev(&ApplicationRejected{ID: "A1", Staff: "demo", Reason: "late"}))
	restored.Sent("zulassung", ev(&ApplicationSupplemented{ID: "A2"}))
	if a, _ := restored.ByID("A1"); a.Status != StatusApproved {
		t.Errorf("A1 after a late rejection: %s", a.Status)
	}
	if len(changes) != 1 || changes[0].ID != "A2" || changes[0].Status != StatusSubmitted {
		t.Errorf("changes after restore: %+v", changes)
	}
}
