package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/veedel/veedel/appliance/plates"
	"github.com/veedel/veedel/sync/changelog"
)

// The plates' part of the invariant checker. After a run has healed and
// gone quiet, over every site together:
//
//  5. no plate is assigned twice (counting every assignment in every
//     site's log, less those given back before the next);
//  6. a site assigned a walk-in plate only from a block central granted
//     it (its outbound log), a reserved plate only with a reservation
//     central sent it;
//  7. no plate was in two blocks, or in a block and a reservation;
//  8. every plate a desk was told of (a 201) is in its site's log, and
//     central's read model says each live assignment is its site's.

// plateLedger is what the plate checks read, gathered from the logs.
type plateLedger struct {
	granted  map[string][]plates.Block        // site -> blocks central sent it
	reserved map[string]map[string]string     // site -> token hash (hex) -> plate
	events   map[string][]any                 // site -> its *plates.Assigned / *plates.Returned, in log order
	told     map[string][]string              // site -> plates answered with 201
	status   func(plate string) plates.Status // central's read model
}

func checkPlates(ctx context.Context, cn *centralNode, sites []siteUnderTest) []string {
	l := plateLedger{granted: map[string][]plates.Block{}, reserved: map[string]map[string]string{}, events: map[string][]any{},
		told: map[string][]string{}, status: cn.Central.Plates().Status}
	decode := func(e *changelog.Entry) any {
		if !strings.HasPrefix(e.Type, plates.Prefix) {
			return nil
		}
		p, err := changelog.DecodePayload(e, plates.NewPayload)
		if err != nil {
			return err
		}
		return p
	}
	var problems []string
	for _, s := range sites {
		l.told[s.Site] = s.Plates
		l.reserved[s.Site] = map[string]string{}
		out, _, err := cn.store.Outbound(ctx, s.Site, 0, 1_000_000, 256<<20)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: central's outbound log: %v", s.Site, err))
			continue
		}
		for i := range out {
			switch p := decode(&out[i]).(type) {
			case *plates.BlockGranted:
				l.granted[s.Site] = append(l.granted[s.Site], p.Block)
			case *plates.ReservationSent:
				l.reserved[s.Site][hex.EncodeToString(p.TokenHash)] = p.Plate
			case error:
				problems = append(problems, fmt.Sprintf("%s: outbound entry %d: %v", s.Site, out[i].Seq, p))
			}
		}
		own, err := siteLog(ctx, s.Store)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", s.Site, err))
			continue
		}
		for i := range own {
			switch p := decode(&own[i]).(type) {
			case *plates.Assigned, *plates.Returned:
				l.events[s.Site] = append(l.events[s.Site], p)
			case error:
				problems = append(problems, fmt.Sprintf("%s: log entry %d: %v", s.Site, own[i].Seq, p))
			}
		}
	}
	return append(problems, l.problems()...)
}

// problems checks 5–8 on the ledger.
func (l plateLedger) problems() []string {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	sites := make([]string, 0, len(l.events)+len(l.granted))
	for s := range l.granted {
		sites = append(sites, s)
	}
	for s := range l.events {
		if !slices.Contains(sites, s) {
			sites = append(sites, s)
		}
	}
	slices.Sort(sites)

	// 7. Blocks and reservations never share a plate.
	owner := map[string]string{}
	claim := func(plate, who string) {
		if prev, ok := owner[plate]; ok {
			fail("plate %s is in %s and in %s at once", plate, prev, who)
			return
		}
		owner[plate] = who
	}
	for _, s := range sites {
		for _, b := range l.granted[s] {
			for d := b.First; d <= b.Last; d++ {
				if b.Holds(b.Letters, d) {
					claim(plates.Name(b.Letters, d), fmt.Sprintf("block %d of %s", b.ID, s))
				}
			}
		}
	}
	// A reservation may follow a plate given back (it left its block):
	// those are checked by 5 instead.
	returned := map[string]bool{}
	for _, s := range sites {
		for _, ev := range l.events[s] {
			if r, ok := ev.(*plates.Returned); ok {
				returned[r.Plate] = true
			}
		}
	}
	for _, s := range sites {
		for _, plate := range l.reserved[s] {
			if !returned[plate] {
				claim(plate, "a reservation sent to "+s)
			}
		}
	}

	// 5 and 6. Every assignment from the site's own, none twice.
	live := map[string]string{} // plate -> site holding it
	assignedAt := map[string][]string{}
	for _, s := range sites {
		for _, ev := range l.events[s] {
			switch p := ev.(type) {
			case *plates.Assigned:
				if holder, ok := live[p.Plate]; ok {
					fail("plate %s issued twice: by %s and by %s", p.Plate, holder, s)
				}
				live[p.Plate] = s
				assignedAt[s] = append(assignedAt[s], p.Plate)
				if p.Block > 0 {
					letters, digits, _ := plates.Split(p.Plate)
					i := slices.IndexFunc(l.granted[s], func(b plates.Block) bool { return b.ID == p.Block })
					if i < 0 || !l.granted[s][i].Holds(letters, digits) {
						fail("%s assigned %s from block %d, which central did not grant it with that plate", s, p.Plate, p.Block)
					}
				} else if plate, ok := l.reserved[s][hex.EncodeToString(p.TokenHash)]; !ok || plate != p.Plate {
					fail("%s assigned %s by a reservation central did not send it", s, p.Plate)
				}
			case *plates.Returned:
				if p.TokenHash == nil && live[p.Plate] == s {
					delete(live, p.Plate)
				}
			}
		}
	}

	// 8. What the desks were told, and central's read model.
	for _, s := range sites {
		for _, plate := range l.told[s] {
			if n := countOf(assignedAt[s], plate); n != 1 {
				fail("%s told a desk %s, which is in its log %d times", s, plate, n)
			}
		}
	}
	if l.status != nil {
		for plate, s := range live {
			if st := l.status(plate); st.State != plates.StateAssigned || st.Site != s {
				fail("central's read model has %s as %+v, the log as assigned at %s", plate, st, s)
			}
		}
	}
	return problems
}

func countOf(list []string, v string) int {
	n := 0
	for _, x := range list {
		if x == v {
			n++
		}
	}
	return n
}

// The plate checks find what they are for: a plate issued by two sites,
// a walk-in outside the site's blocks, a plate in two blocks, a reserved
// plate without the reservation, a plate a desk was told but not logged.
func TestPlateInvariantChecker(t *testing.T) {
	tok := plates.TokenHash("t")
	good := func() plateLedger {
		return plateLedger{
			granted: map[string][]plates.Block{
				"kalk": {{ID: 1, Letters: "A", First: 1, Last: 5, Except: []int{3}}},
				"porz": {{ID: 2, Letters: "A", First: 6, Last: 10}},
			},
			reserved: map[string]map[string]string{"porz": {hex.EncodeToString(tok): "K-A 3"}},
			events: map[string][]any{
				"kalk": {&plates.Assigned{Plate: "K-A 1", Block: 1}, &plates.Assigned{Plate: "K-A 2", Block: 1}},
				"porz": {&plates.Assigned{Plate: "K-A 6", Block: 2}, &plates.Assigned{Plate: "K-A 3", TokenHash: tok}},
			},
			told: map[string][]string{"kalk": {"K-A 1", "K-A 2"}, "porz": {"K-A 3"}},
		}
	}
	if p := good().problems(); len(p) != 0 {
		t.Fatalf("a good ledger: %v", p)
	}
	for name, tc := range map[string]struct {
		spoil func(*plateLedger)
		want  string
	}{
		"issued twice": {func(l *plateLedger) {
			l.events["porz"] = append(l.events["porz"], &plates.Assigned{Plate: "K-A 1", Block: 2})
		}, "K-A 1 issued twice"},
		"outside its blocks": {func(l *plateLedger) {
			l.events["kalk"] = append(l.events["kalk"], &plates.Assigned{Plate: "K-A 7", Block: 1})
		}, "did not grant it"},
		"two blocks": {func(l *plateLedger) {
			l.granted["porz"] = append(l.granted["porz"], plates.Block{ID: 3, Letters: "A", First: 5, Last: 5})
		}, "K-A 5 is in block 1 of kalk and in block 3 of porz"},
		"block and reservation": {func(l *plateLedger) {
			l.reserved["porz"][hex.EncodeToString(plates.TokenHash("u"))] = "K-A 8"
		}, "K-A 8 is in block 2 of porz and in a reservation"},
		"no reservation": {func(l *plateLedger) {
			l.events["kalk"] = append(l.events["kalk"], &plates.Assigned{Plate: "K-B 1", TokenHash: plates.TokenHash("x")})
		}, "reservation central did not send"},
		"told, not logged": {func(l *plateLedger) {
			l.told["kalk"] = append(l.told["kalk"], "K-A 4")
		}, "told a desk K-A 4"},
	} {
		l := good()
		tc.spoil(&l)
		if got := strings.Join(l.problems(), "\n"); !strings.Contains(got, tc.want) {
			t.Errorf("%s: problems %q, want one with %q", name, got, tc.want)
		}
	}
}
