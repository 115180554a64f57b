package plates

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/veedel/veedel/workflow"
)

// A restored namespace answers as the folded one did and goes on the
// same: blocks, reservations (open, assigned, given back), assignments
// and plates given back, the next block's start and the reservations
// ended that the store is still to forget.
func TestCentralSnapshotRoundTrip(t *testing.T) {
	at := time.UnixMilli(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC).UnixMilli())
	ev := func(p any) workflow.Event { return workflow.Event{At: at, Payload: p} }
	folded := NewCentral()
	folded.Sent("kfz-poll", ev(&BlockGranted{Block{ID: 1, Letters: "AB", First: 1, Last: 20, Except: []int{7}}}))
	folded.Sent("kfz-nord", ev(&BlockGranted{Block{ID: 2, Letters: "AB", First: 21, Last: 40}}))
	folded.Sent("kfz-poll", ev(&ReservationSent{Plate: "K AB 100", TokenHash: []byte{1}, Expires: at.Add(time.Hour).UnixMilli()}))
	folded.Sent("kfz-poll", ev(&ReservationSent{Plate: "K AB 101", TokenHash: []byte{2}, Expires: at.Add(time.Hour).UnixMilli()}))
	folded.Sent("kfz-poll", ev(&ReservationSent{Plate: "K AB 102", TokenHash: []byte{3}, Expires: at.Add(time.Hour).UnixMilli()}))
	folded.FromSite("kfz-poll", ev(&Assigned{Plate: "K AB 3", Block: 1}))
	folded.FromSite("kfz-poll", ev(&Assigned{Plate: "K AB 101", TokenHash: []byte{2}}))
	folded.FromSite("kfz-poll", ev(&Returned{Plate: "K AB 102", TokenHash: []byte{3}}))
	folded.FromSite("kfz-nord", ev(&Returned{Plate: "K AB 22", Block: 2}))

	version, frozen := folded.Snapshot()
	data, err := json.Marshal(frozen)
	if err != nil {
		t.Fatal(err)
	}
	restored := NewCentral()
	if err := restored.Restore(version, data); err != nil {
		t.Fatal(err)
	}
	_, frozen = restored.Snapshot()
	if again, _ := json.Marshal(frozen); !bytes.Equal(again, data) {
		t.Fatalf("snapshot of the restored model differs:\n%s\nwant\n%s", again, data)
	}
	for _, p := range []string{"K AB 3", "K AB 7", "K AB 8", "K AB 22", "K AB 30", "K AB 41", "K AB 100", "K AB 101", "K AB 102"} {
		if got, want := restored.Status(p), folded.Status(p); got != want {
			t.Errorf("Status(%s) = %+v, want %+v", p, got, want)
		}
	}
	for _, site := range []string{"kfz-poll", "kfz-nord"} {
		if got, want := restored.Left(site), folded.Left(site); got != want {
			t.Errorf("Left(%s) = %d, want %d", site, got, want)
		}
	}
	if got, want := restored.Ended(), folded.Ended(); !reflect.DeepEqual(got, want) {
		t.Errorf("Ended = %v, want %v", got, want)
	}
	gotBlock, _ := restored.NextBlock(10, nil)
	wantBlock, _ := folded.NextBlock(10, nil)
	if !reflect.DeepEqual(gotBlock, wantBlock) {
		t.Errorf("NextBlock = %+v, want %+v", gotBlock, wantBlock)
	}
	if err := NewCentral().Restore(version+1, data); err == nil {
		t.Error("Restore of another version: no error")
	}
}
