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
	folded.Sent("zulassung", ev(&ApplicationSubmitted{ID: "A1", Process: ProcessTransfer, Submitted: at.UnixMilli(), TokenHash: hash("t1"), PlateMode: PlateRandom,
		Attachments: []Attachment{{Kind: "vollmacht", File: blob.Ref{SHA256: "cd", Size: 5, Type: "application/pdf"}}}}))
	folded.FromSite("zulassung", ev(&SettingsChanged{FourEyes: true, Staff: "leitung"}))
	folded.Sent("zulassung", ev(&ApplicationSubmitted{ID: "A2", Process: ProcessNew, Submitted: at.UnixMilli(), TokenHash: hash("t2"), Company: "autohaus", PlateMode: PlateRandom}))
	folded.Sent("zulassung", ev(&ApplicationSubmitted{ID: "A3", Process: ProcessDeregister, Submitted: at.UnixMilli(), TokenHash: hash("t3"), PlateMode: PlateKeep}))
	folded.FromSite("zulassung", ev(&ApplicationReceived{ApplicationSubmitted{ID: "A1"}}))
	folded.FromSite("zulassung", ev(&ApplicationClaimed{ID: "A1", Staff: "demo"}))
	folded.FromSite("zulassung", ev(&ApplicationApproved{ID: "A1", Staff: "demo", Plate: "K-AB 123", FIN: "WVWZZZ1JZXW000001", Code: "CODE12345678", ValidUntil: "2026-12-11",
		Permit: blob.Ref{SHA256: "ab", Size: 10, Type: "application/pdf"}}))
	folded.FromSite("zulassung", ev(&DocumentsPosted{ID: "A1", Staff: "demo"}))
	folded.FromSite("zulassung", ev(&ApplicationReceived{ApplicationSubmitted{ID: "A2"}}))
	folded.FromSite("zulassung", ev(&InfoRequested{ID: "A2", Staff: "demo", Reason: "Vollmacht fehlt"}))
	// A4 was asked for more and answered (a sealed note and a file).
	folded.Sent("zulassung", ev(&ApplicationSubmitted{ID: "A4", Process: ProcessTransfer, Submitted: at.UnixMilli(), TokenHash: hash("t4"), PlateMode: PlateKeep}))
	folded.FromSite("zulassung", ev(&ApplicationReceived{ApplicationSubmitted{ID: "A4"}}))
	folded.FromSite("zulassung", ev(&InfoRequested{ID: "A4", Staff: "demo", Reason: "Kaufvertrag fehlt"}))
	folded.Sent("zulassung", ev(&ApplicationSupplemented{ID: "A4", Sealed: []byte{1}, Attachments: []Attachment{{Kind: AttachmentOther, File: blob.Ref{SHA256: "cd", Name: "kaufvertrag.pdf"}}}}))
	if a, _ := folded.ByID("A4"); !a.Answered.Equal(at) || !a.AnswerNote || !reflect.DeepEqual(a.AnswerFiles, []string{"kaufvertrag.pdf"}) || a.Status != StatusSubmitted {
		t.Fatalf("A4 after the answer: %+v", a)
	}

	version, frozen := folded.Snapshot()
	data, err := json.Marshal(frozen)
	if err != nil {
		t.Fatal(err)
	}
	restored := NewCentral()
	if err := restored.Restore(version, data); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(restored.byID, folded.byID) || !reflect.DeepEqual(restored.byToken, folded.byToken) || !reflect.DeepEqual(restored.byCode, folded.byCode) ||
		!reflect.DeepEqual(restored.settings, folded.settings) {
		t.Fatalf("restored model differs from the folded one")
	}
	if got := restored.Open(); !maps.Equal(got, map[string]int{"zulassung": 3}) /* A2, A3, A4 */ || !maps.Equal(got, folded.Open()) {
		t.Errorf("open after restore %v, folded %v", got, folded.Open())
	}
	if a, ok := restored.ByToken("t2"); !ok || a.Status != StatusInfoRequested || a.Company != "autohaus" {
		t.Errorf("A2 by token after restore: %+v, %v", a, ok)
	}
	if st, ok := restored.Settings("zulassung"); !ok || !st.FourEyes || st.By != "leitung" || !st.At.Equal(at) {
		t.Errorf("settings after restore: %+v, %v", st, ok)
	}
	if a, _ := restored.ByID("A1"); len(a.Files) != 1 || !a.Done.Equal(at) {
		t.Errorf("A1's files and done after restore: %+v", a)
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

// Erasable: an application's attachments are due KeepDetails after it was
// done, its permit KeepDetails after the permit's last valid day; a file
// another application still needs is not, nor one erased already.
func TestCentralErasable(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 12, d, 9, 0, 0, 0, time.UTC) }
	ref := func(s string) blob.Ref { return blob.Ref{SHA256: s, Size: 1, Type: blob.TypePDF} }
	files := func(s ...string) (out []Attachment) {
		for _, x := range s {
			out = append(out, Attachment{Kind: "vollmacht", File: ref(x)})
		}
		return out
	}
	c := NewCentral()
	send := func(id string, at time.Time, f []Attachment) {
		c.Sent("zulassung", workflow.Event{At: at, Payload: &ApplicationSubmitted{ID: id, Process: ProcessTransfer, TokenHash: make([]byte, 32), Attachments: f}})
		c.FromSite("zulassung", workflow.Event{At: at, Payload: &ApplicationReceived{ApplicationSubmitted{ID: id}}})
	}
	send("R1", day(1), files("own1", "shared"))
	c.FromSite("zulassung", workflow.Event{At: day(2), Payload: &ApplicationRejected{ID: "R1", Reason: "x"}})
	send("R2", day(1), files("shared")) // still open
	send("P1", day(1), nil)             // approved, posted on day 3
	c.FromSite("zulassung", workflow.Event{At: day(2), Payload: &ApplicationApproved{ID: "P1", Code: "C", ValidUntil: "2026-12-12", Permit: ref("permit")}})
	c.FromSite("zulassung", workflow.Event{At: day(3), Payload: &DocumentsPosted{ID: "P1"}})

	if got := c.Erasable(day(2).Add(KeepDetails - time.Hour)); len(got) != 0 {
		t.Fatalf("due before the keeping time: %+v", got)
	}
	got := c.Erasable(day(2).Add(KeepDetails + time.Hour))
	if want := []FileRelease{{ID: "R1", SHA256: "own1"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("due after R1's keeping time: %+v, want %+v", got, want)
	}
	c.Erased(got[0])
	got = c.Erasable(day(13).Add(KeepDetails + time.Hour))
	if want := []FileRelease{{ID: "P1", SHA256: "permit", Permit: true}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("due after the permit's keeping time: %+v, want %+v (the shared file: R2 is open)", got, want)
	}
	c.Erased(got[0])
	if a, _ := c.ByID("P1"); a.View("/permit").PermitURL != "" {
		t.Fatal("the status still links the erased permit")
	}
	c.FromSite("zulassung", workflow.Event{At: day(20), Payload: &ApplicationClaimed{ID: "R2"}})
	c.FromSite("zulassung", workflow.Event{At: day(20), Payload: &ApplicationRejected{ID: "R2", Reason: "x"}})
	got = c.Erasable(day(20).Add(KeepDetails + time.Hour))
	if want := []FileRelease{{ID: "R1", SHA256: "shared"}, {ID: "R2", SHA256: "shared"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("due once R2 is done too: %+v, want %+v", got, want)
	}
}
