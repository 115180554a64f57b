package plates

import (
	"slices"
	"testing"
	"time"

	"github.com/veedel/veedel/workflow"
)

func grant(c *Central, site string, b Block) {
	c.Sent(site, workflow.Event{Type: TypeBlockGranted, Payload: &BlockGranted{Block: b}})
}

// Blocks are cut in order (K-A 1.., then K-B …), never over a plate that
// is reserved, assigned or in another block, and never of a combination
// not issued; the read model tells each plate's owner.
func TestNextBlockAndStatus(t *testing.T) {
	c := NewCentral()
	c.Sent("zulassung", workflow.Event{Type: TypeReservationSent, Payload: &ReservationSent{Plate: "K-A 3", TokenHash: TokenHash("t"), Expires: 1}})
	b, ok := c.NextBlock(5, func(p string) bool { return p == "K-A 4" })
	if !ok || b.ID != 1 || b.Letters != "A" || b.First != 1 || b.Last != 5 || !slices.Equal(b.Except, []int{3, 4}) {
		t.Fatalf("first block %+v, want K-A 1..5 without 3 (reserved) and 4 (stored reservation)", b)
	}
	grant(c, "zulassung", b)
	b2, _ := c.NextBlock(9999, nil)
	if b2.ID != 2 || b2.First != 6 || b2.Last != 9999 {
		t.Fatalf("second block %+v, want K-A 6..9999", b2)
	}
	grant(c, "porz", b2)
	if b3, _ := c.NextBlock(10, nil); b3.Letters != "B" || b3.First != 1 {
		t.Errorf("third block %+v, want K-B 1..", b3)
	}
	for plate, want := range map[string]Status{
		"K-A 1":    {Plate: "K-A 1", State: StateBlock, Site: "zulassung", Block: 1},
		"K-A 3":    {Plate: "K-A 3", State: StateReserved, Site: "zulassung"},
		"K-A 4":    {Plate: "K-A 4", State: StateFree},
		"K-A 7":    {Plate: "K-A 7", State: StateBlock, Site: "porz", Block: 2},
		"K-SS 1":   {Plate: "K-SS 1", State: StateBlocked},
		"K-ZZ 999": {Plate: "K-ZZ 999", State: StateFree},
	} {
		if got := c.Status(plate); got != want {
			t.Errorf("%s: %+v, want %+v", plate, got, want)
		}
	}
	// Assigned, then cancelled: central's again (free), not the block's.
	c.FromSite("zulassung", workflow.Event{Type: TypeAssigned, Payload: &Assigned{Plate: "K-A 1", Block: 1, Left: 2}})
	if got := c.Status("K-A 1"); got.State != StateAssigned || c.Left("zulassung") != 2 {
		t.Errorf("after assignment: %+v, left %d", got, c.Left("zulassung"))
	}
	c.FromSite("zulassung", workflow.Event{Type: TypeReturned, Payload: &Returned{Plate: "K-A 1", Block: 1, Reason: ReturnCancelled}})
	if got := c.Status("K-A 1"); got.State != StateFree {
		t.Errorf("after return: %+v, want free", got)
	}
}

// Central folds the sites' logs before its outbound logs at start: the
// read model must come out the same in either order.
func TestFoldOrderDoesNotMatter(t *testing.T) {
	resv := workflow.Event{Type: TypeReservationSent, Payload: &ReservationSent{Plate: "K-Q 1", TokenHash: TokenHash("q"), Expires: time.Now().Add(time.Hour).UnixMilli()}}
	blk := workflow.Event{Type: TypeBlockGranted, Payload: &BlockGranted{Block: Block{ID: 3, Letters: "A", First: 1, Last: 10}}}
	blk1 := workflow.Event{Type: TypeBlockGranted, Payload: &BlockGranted{Block: Block{ID: 1, Letters: "B", First: 1, Last: 10}}}
	asg := workflow.Event{Type: TypeAssigned, Payload: &Assigned{Plate: "K-Q 1", TokenHash: TokenHash("q")}}
	walk := workflow.Event{Type: TypeAssigned, Payload: &Assigned{Plate: "K-A 1", Block: 3}}

	a := NewCentral()
	a.Sent("s", blk)
	a.Sent("t", blk1)
	a.Sent("s", resv)
	a.FromSite("s", asg)
	a.FromSite("s", walk)

	b := NewCentral()
	b.FromSite("s", asg)
	b.FromSite("s", walk)
	b.Sent("s", blk)
	b.Sent("t", blk1) // a lower ID after a higher one: still folded
	b.Sent("s", resv)

	for _, p := range []string{"K-Q 1", "K-A 1", "K-A 2", "K-B 5"} {
		if sa, sb := a.Status(p), b.Status(p); sa != sb {
			t.Errorf("%s: %+v one way, %+v the other", p, sa, sb)
		}
	}
	if a.Left("s") != 9 || b.Left("s") != 9 || b.Left("t") != 10 {
		t.Errorf("left: %d / %d / %d, want 9, 9, 10", a.Left("s"), b.Left("s"), b.Left("t"))
	}
	if na, _ := a.NextBlock(5, nil); na.ID != 4 {
		t.Errorf("next block id %d, want 4", na.ID)
	}
}
