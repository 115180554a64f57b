package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/veedel/veedel/workflow"
	"github.com/veedel/veedel/workflows"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

// The invariant checker of the fault-injection suite. After a run has
// healed and gone quiet, for every site:
//
//  1. central's stored log is one unbroken chain 1..N: no gaps, no
//     duplicates, every entry's hash true to its content;
//  2. it is the site's own log: N is the site's last seq and every entry
//     the site still has (compaction may have removed old ones) is equal
//     field by field;
//  3. central's read model equals a fresh fold of that log, and both equal
//     the appliance's own state (compared as queue.Snapshot: tickets with
//     status, counter and number, the waiting order, counters, services,
//     recent calls, the day);
//  4. every ticket a client was told about (a 201) is in the log exactly
//     once, and no token is issued twice.

// siteUnderTest is what the checker needs of one site.
type siteUnderTest struct {
	Site  string
	Store *sqlite.Store
	// Issued are tokens of tickets a client received a 201 for.
	Issued []string
	// Plates are plates a desk received a 201 for (plates_invariant_test.go).
	Plates []string
}

// checkInvariants returns every violation found (none: nil).
func checkInvariants(ctx context.Context, cn *centralNode, sites []siteUnderTest) []string {
	var problems []string
	for _, s := range sites {
		for _, p := range checkSite(ctx, cn, s) {
			problems = append(problems, s.Site+": "+p)
		}
	}
	return append(problems, checkPlates(ctx, cn, sites)...)
}

func checkSite(ctx context.Context, cn *centralNode, s siteUnderTest) []string {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	// 1. Central's log.
	var stored []changelog.Entry
	err := cn.store.Scan(ctx, s.Site, 0, func(e changelog.Entry) error {
		stored = append(stored, e)
		return nil
	})
	if err != nil {
		return append(problems, fmt.Sprintf("scan central's log: %v", err))
	}
	if msg := chainProblem(stored, 0, nil); msg != "" {
		fail("central's log: %s", msg)
	}

	// 2. The site's own log.
	last := s.Store.LastSeq()
	if uint64(len(stored)) != last {
		fail("central has %d entries, the site's last seq is %d", len(stored), last)
	}
	own, err := siteLog(ctx, s.Store)
	if err != nil {
		return append(problems, err.Error())
	}
	if len(own) > 0 {
		var prevHash []byte
		from := own[0].Seq
		if from > 1 && from-1 <= uint64(len(stored)) {
			prevHash = stored[from-2].Hash
		}
		if msg := chainProblem(own, from-1, prevHash); msg != "" {
			fail("site's log: %s", msg)
		}
		if own[len(own)-1].Seq != last {
			fail("site's log ends at %d, its last seq is %d", own[len(own)-1].Seq, last)
		}
	}
	for _, e := range own {
		if e.Seq > uint64(len(stored)) {
			fail("entry %d (%s) is missing at central", e.Seq, e.Type)
			break
		}
		if c := stored[e.Seq-1]; !sameEntry(c, e) {
			fail("entry %d differs: central %s %x, site %s %x", e.Seq, c.Type, c.Hash[:6], e.Type, e.Hash[:6])
			break
		}
	}

	// 3. Read models.
	fresh := queue.NewState(s.Site)
	for _, e := range stored {
		p, err := changelog.DecodePayload(&e, workflow.Payloads(queue.NewPayload, workflows.Site()))
		if err != nil {
			fail("entry %d: %v", e.Seq, err)
			continue
		}
		fresh.Apply(queue.Event{Type: e.Type, Entity: e.Entity, At: e.At(), Payload: p})
	}
	var model, siteState []byte
	var cursor central.SiteCursor
	if !cn.Central.ViewSite(s.Site, func(st *queue.State, cur central.SiteCursor) {
		model, cursor = snapshotJSON(st), cur
	}) {
		fail("central has no read model of the site")
	}
	if cursor.Acked != uint64(len(stored)) {
		fail("central's cursor says acked %d, its log has %d entries", cursor.Acked, len(stored))
	}
	s.Store.View(func(st *queue.State) { siteState = snapshotJSON(st) })
	folded := snapshotJSON(fresh)
	if d := firstDiff(model, folded); d != "" {
		fail("central's read model differs from a fresh fold of its log: %s", d)
	}
	if d := firstDiff(siteState, folded); d != "" {
		fail("the appliance's state differs from the fold of central's log: %s", d)
	}

	// 4. Tickets exactly once.
	issued := map[string]int{}
	for _, e := range stored {
		if e.Type != queue.TypeTicketIssued {
			continue
		}
		p, err := changelog.DecodePayload(&e, queue.NewPayload)
		if err == nil {
			issued[p.(*queue.TicketIssued).Token]++
		}
	}
	for token, n := range issued {
		if n > 1 {
			fail("token %s… issued %d times", token[:6], n)
		}
	}
	missing := 0
	for _, token := range s.Issued {
		if issued[token] != 1 {
			missing++
		}
	}
	if missing > 0 {
		fail("%d of %d tickets answered with 201 are not in the log exactly once", missing, len(s.Issued))
	}
	return problems
}

// siteLog reads every entry the site still has, oldest first.
func siteLog(ctx context.Context, store *sqlite.Store) ([]changelog.Entry, error) {
	after, err := store.CompactedThrough(ctx)
	if err != nil {
		return nil, err
	}
	var out []changelog.Entry
	for {
		batch, err := store.EntriesAfter(ctx, after, 5000, 64<<20)
		if err != nil {
			return nil, fmt.Errorf("read the site's log after %d: %w", after, err)
		}
		if len(batch) == 0 {
			return out, nil
		}
		out = append(out, batch...)
		after = batch[len(batch)-1].Seq
	}
}

// chainProblem checks that entries are seqs after+1, after+2, … each
// verified and following its predecessor (prevHash: the hash of entry
// after, nil when unknown or after is 0).
func chainProblem(entries []changelog.Entry, after uint64, prevHash []byte) string {
	for i := range entries {
		e := &entries[i]
		if want := after + uint64(i) + 1; e.Seq != want {
			return fmt.Sprintf("entry %d where %d belongs (gap or duplicate)", e.Seq, want)
		}
		if err := e.Verify(); err != nil {
			return err.Error()
		}
		switch {
		case i > 0 && !e.Follows(entries[i-1].Seq, entries[i-1].Hash):
			return fmt.Sprintf("entry %d does not follow entry %d", e.Seq, e.Seq-1)
		case i == 0 && e.Seq == 1 && len(e.Prev) != 0:
			return "entry 1 has a previous hash"
		case i == 0 && prevHash != nil && !e.Follows(after, prevHash):
			return fmt.Sprintf("entry %d does not follow central's entry %d", e.Seq, after)
		}
	}
	return ""
}

func sameEntry(a, b changelog.Entry) bool {
	return a.Version == b.Version && a.Site == b.Site && a.Seq == b.Seq && a.HLC == b.HLC && a.Type == b.Type &&
		a.Entity == b.Entity && bytes.Equal(a.Payload, b.Payload) && bytes.Equal(a.Prev, b.Prev) && bytes.Equal(a.Hash, b.Hash)
}

func snapshotJSON(st *queue.State) []byte {
	data, err := json.MarshalIndent(st.Snapshot(), "", " ")
	if err != nil {
		return []byte(err.Error())
	}
	return data
}

// firstDiff describes the first differing line of two JSON documents.
func firstDiff(a, b []byte) string {
	if bytes.Equal(a, b) {
		return ""
	}
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range max(len(la), len(lb)) {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return fmt.Sprintf("line %d: %q vs %q", i+1, strings.TrimSpace(x), strings.TrimSpace(y))
		}
	}
	return "documents differ"
}

// TestInvariantChecker makes sure the checker is not blind: it must pass a
// synced site and name a missing entry, a gap and a tampered entry.
func TestInvariantChecker(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cn, cent := startCentral(t, dir, freeAddr(t))
	node, _ := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"), CentralURL: cent.URL, Heartbeat: 100 * time.Millisecond})
	tokens := issueTickets(t, node.URL, 5, "meldung")
	synced := func() (bool, string) {
		var acked uint64
		cn.Central.ViewSite("kalk", func(_ *queue.State, cur central.SiteCursor) { acked = cur.Acked })
		return acked == node.Store.LastSeq(), describe("central %d of %d", acked, node.Store.LastSeq())
	}
	eventually(t, 5*time.Second, "synced", synced)
	site := []siteUnderTest{{Site: "kalk", Store: node.Store, Issued: tokens}}
	if p := checkInvariants(ctx, cn, site); len(p) != 0 {
		t.Fatalf("synced site: %v", p)
	}
	expect := func(what string, want ...string) {
		t.Helper()
		got := strings.Join(checkInvariants(ctx, cn, site), "\n")
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: problems\n%s\nshould mention %q", what, got, w)
			}
		}
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "central.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The seed's length decides where the tickets start: find the first.
	var first int
	if err := db.QueryRow(`SELECT MIN(seq) FROM site_log WHERE site = 'kalk' AND type = ?`, queue.TypeTicketIssued).Scan(&first); err != nil {
		t.Fatal(err)
	}
	var payload []byte
	db.QueryRow(`SELECT payload FROM site_log WHERE site = 'kalk' AND seq = ?`, first+1).Scan(&payload)
	tampered := bytes.Clone(payload)
	tampered[len(tampered)-1] ^= 1 // a letter of the channel: still valid CBOR
	if _, err := db.Exec(`UPDATE site_log SET payload = ? WHERE site = 'kalk' AND seq = ?`, tampered, first+1); err != nil {
		t.Fatal(err)
	}
	expect("tampered entry", fmt.Sprintf("central's log: invalid: entry %d: hash does not match", first+1), fmt.Sprintf("entry %d differs", first+1))
	db.Exec(`UPDATE site_log SET payload = ? WHERE site = 'kalk' AND seq = ?`, payload, first+1)

	if _, err := db.Exec(`DELETE FROM site_log WHERE site = 'kalk' AND seq = ?`, first); err != nil {
		t.Fatal(err)
	}
	expect("gap", fmt.Sprintf("entry %d where %d belongs", first+1, first), "fresh fold", "not in the log exactly once")

	// A ticket central never gets: its disk is full.
	cn.store.SetFault(func(context.Context, string) error { return fmt.Errorf("disk full: %w", syscall.ENOSPC) })
	site[0].Issued = append(site[0].Issued, issueTickets(t, node.URL, 1, "ausweis")...)
	expect("entry missing at central", fmt.Sprintf("the site's last seq is %d", node.Store.LastSeq()), "the appliance's state differs")
}
