package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/plates"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

// The snapshot of the read models is stored with its positions and read
// back as it was; a newer one replaces it whole, positions included.
func testSnapshotStore(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	if _, ok, err := s.LoadSnapshot(ctx); ok || err != nil {
		t.Fatalf("LoadSnapshot of a new store = %v, %v; want none", ok, err)
	}
	first := central.StoredSnapshot{Version: 3, TakenAt: time.UnixMilli(start.UnixMilli()), Data: []byte("first\x00\xff"),
		Positions: []central.SnapshotPosition{{Site: "chorweiler", Log: 7}, {Site: "kalk", Log: 1 << 40, Outbound: 12}, {Site: "porz", Outbound: 3}}}
	if err := s.SaveSnapshot(ctx, first); err != nil {
		t.Fatal(err)
	}
	again := mustOpen(t, open) // another process
	got, ok, err := again.LoadSnapshot(ctx)
	if err != nil || !ok || !reflect.DeepEqual(got, first) {
		t.Fatalf("LoadSnapshot = %+v, %v, %v; want %+v", got, ok, err, first)
	}
	second := central.StoredSnapshot{Version: 4, TakenAt: first.TakenAt.Add(time.Hour), Data: []byte("second"),
		Positions: []central.SnapshotPosition{{Site: "kalk", Log: 9, Outbound: 13}}}
	if err := again.SaveSnapshot(ctx, second); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := s.LoadSnapshot(ctx); err != nil || !ok || !reflect.DeepEqual(got, second) {
		t.Fatalf("LoadSnapshot after a second save = %+v, %v, %v; want %+v (the first's positions gone)", got, ok, err, second)
	}
}

// fullFold is a store without snapshots: central folds every log on it.
type fullFold struct{ central.LogStore }

// logBuffer collects a central's log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A start from a snapshot and the log entries after it has the read models
// of a start that folds every log, for cuts anywhere in the logs: between
// entries of a business day, after a day's end, with entries of the
// outbound logs on either side, and a snapshot taken by a central that
// was itself restored from one.
func testSnapshotEqualsFullFold(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	now := func() time.Time { return start.AddDate(0, 0, 20) }
	sites := []string{"chorweiler", "kalk", "porz"}
	const total, perDay = 900, 40 // about 7 days per site
	history := map[string][]changelog.Entry{}
	for i, site := range sites {
		history[site] = HistoryLog(t, site, total-100*i, perDay)
	}
	fed := map[string]int{}
	feed := func(frac float64) {
		for _, site := range sites {
			to := int(frac * float64(len(history[site])))
			if to <= fed[site] {
				continue
			}
			if _, _, err := s.Append(ctx, batchOf(site, history[site][fed[site]:to]), start, true); err != nil {
				t.Fatal(err)
			}
			fed[site] = to
		}
	}
	block := int64(0)
	send := func(c *central.Central, site string) {
		block++
		err := c.SendToSite(ctx, site, queue.Event{Type: plates.TypeBlockGranted, Entity: fmt.Sprintf("block/%d", block),
			Payload: &plates.BlockGranted{Block: plates.Block{ID: block, Letters: "AB", First: int(block-1)*10 + 1, Last: int(block) * 10}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	for step, cut := range []float64{0.01, 0.3, 0.31, 0.55, 0.9, 1, 1} {
		feed(cut)
		var buf, fullBuf logBuffer
		restored := newSnapshotCentral(t, s, now, &buf)
		full := newSnapshotCentral(t, fullFold{s}, now, &fullBuf)
		if step > 0 && !strings.Contains(buf.String(), "restored from their snapshot") {
			t.Fatalf("cut %v: central did not start from the snapshot:\n%s", cut, buf.String())
		}
		sameReadModels(t, fmt.Sprintf("cut %v", cut), restored, full, history)
		// Outbound entries on both sides of the next snapshot: a block of
		// plates and a citizen's cancellation of a waiting ticket.
		send(restored, sites[step%len(sites)])
		site := sites[(step+2)%len(sites)]
		for i := fed[site] - 1; i >= 0; i-- {
			var p queue.TicketIssued
			if e := history[site][i]; e.Type == queue.TypeTicketIssued {
				if err := changelog.Unmarshal(e.Payload, &p); err != nil {
					t.Fatal(err)
				}
				if st, _ := restored.Ticket(p.Token); st.Status != queue.StatusWaiting {
					break // the day is over
				}
				if st, err := restored.RequestCancel(ctx, p.Token); err != nil || !st.CancelRequested {
					t.Fatalf("cut %v: RequestCancel of %s's newest ticket = %+v, %v", cut, site, st, err)
				}
				break
			}
		}
		if saved, err := restored.SaveSnapshot(ctx); err != nil || !saved {
			t.Fatalf("cut %v: SaveSnapshot = %v, %v", cut, saved, err)
		}
		send(restored, sites[(step+1)%len(sites)])
	}
}

// newSnapshotCentral starts a central on store, its log in buf.
func newSnapshotCentral(t *testing.T, store central.LogStore, now func() time.Time, buf *logBuffer) *central.Central {
	t.Helper()
	c, err := central.New(context.Background(), store, now, slog.New(slog.NewTextHandler(buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sameReadModels fails unless got's read models are want's: the frozen
// models byte for byte, and what the portal shows.
func sameReadModels(t *testing.T, what string, got, want *central.Central, history map[string][]changelog.Entry) {
	t.Helper()
	g, _, err := got.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := want.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g.Positions, w.Positions) {
		t.Fatalf("%s: positions %+v, want the full fold's %+v", what, g.Positions, w.Positions)
	}
	if !bytes.Equal(g.Data, w.Data) {
		t.Fatalf("%s: read models differ from the full fold's:\n%s", what, firstDifference(g.Data, w.Data))
	}
	if gs, ws := got.Sites(), want.Sites(); !reflect.DeepEqual(gs, ws) {
		t.Fatalf("%s: Sites = %+v, want %+v", what, gs, ws)
	}
	for site, entries := range history {
		for _, e := range entries[max(0, len(entries)-12):] {
			if e.Type != queue.TypeTicketIssued {
				continue
			}
			var p queue.TicketIssued
			if err := changelog.Unmarshal(e.Payload, &p); err != nil {
				t.Fatal(err)
			}
			gt, gok := got.Ticket(p.Token)
			wt, wok := want.Ticket(p.Token)
			if gok != wok || !reflect.DeepEqual(gt, wt) {
				t.Fatalf("%s: %s's ticket %s = %+v, %v; want %+v, %v", what, site, p.ID, gt, gok, wt, wok)
			}
		}
	}
}

// firstDifference shows where two JSON documents part.
func firstDifference(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(0, i-200)
	return fmt.Sprintf("at byte %d:\n got …%s…\nwant …%s…", i, got[lo:min(len(got), i+200)], want[lo:min(len(want), i+200)])
}

// Read models larger than anything a sync batch holds (maps of hundreds
// of orders, appointments, plates and exams) are restored too: the
// snapshot is central's own data, not bounded like a site's batch.
func testSnapshotLarge(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	now := func() time.Time { return start.AddDate(0, 0, 40) }
	// A workflow event with every ticket: about 400 of each workflow.
	log := historyLog(t, &history{site: "kalk", perDay: 100, every: 1, at: start}, 6000)
	for lo := 0; lo < len(log); lo += 1000 {
		if _, _, err := s.Append(ctx, batchOf("kalk", log[lo:min(lo+1000, len(log))]), start, true); err != nil {
			t.Fatal(err)
		}
	}
	c := newSnapshotCentral(t, s, now, &logBuffer{})
	if saved, err := c.SaveSnapshot(ctx); err != nil || !saved {
		t.Fatalf("SaveSnapshot = %v, %v", saved, err)
	}
	var buf logBuffer
	got := newSnapshotCentral(t, s, now, &buf)
	if !strings.Contains(buf.String(), "restored from their snapshot") {
		t.Fatalf("central did not start from the snapshot:\n%s", buf.String())
	}
	sameReadModels(t, "large", got, newSnapshotCentral(t, fullFold{s}, now, &logBuffer{}), map[string][]changelog.Entry{"kalk": log})
}

// A snapshot central cannot use (damaged, of another version, of a
// workflow's or the queue's model of another version, ahead of the logs)
// is passed over with a log line: central folds every log instead and
// has the read models of a full fold, not a half-restored mix.
func testSnapshotFallback(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	now := func() time.Time { return start.AddDate(0, 0, 20) }
	history := map[string][]changelog.Entry{}
	for _, site := range []string{"kalk", "porz"} {
		history[site] = HistoryLog(t, site, 400, 30)
		if _, _, err := s.Append(ctx, batchOf(site, history[site][:250]), start, true); err != nil {
			t.Fatal(err)
		}
	}
	c := newSnapshotCentral(t, s, now, &logBuffer{})
	if err := c.SendToSite(ctx, "kalk", queue.Event{Type: plates.TypeBlockGranted, Entity: "block/1",
		Payload: &plates.BlockGranted{Block: plates.Block{ID: 1, Letters: "AB", First: 1, Last: 10}}}); err != nil {
		t.Fatal(err)
	}
	if saved, err := c.SaveSnapshot(ctx); err != nil || !saved {
		t.Fatalf("SaveSnapshot = %v, %v", saved, err)
	}
	for site, entries := range history {
		if _, _, err := s.Append(ctx, batchOf(site, entries[250:]), start, true); err != nil {
			t.Fatal(err)
		}
	}
	good, ok, err := s.LoadSnapshot(ctx)
	if err != nil || !ok {
		t.Fatalf("LoadSnapshot = %v, %v", ok, err)
	}
	// edit changes the snapshot's JSON.
	edit := func(change func(doc map[string]any)) []byte {
		var doc map[string]any
		if err := json.Unmarshal(good.Data, &doc); err != nil {
			t.Fatal(err)
		}
		change(doc)
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name   string
		change func(*central.StoredSnapshot)
	}{
		{"damaged", func(s *central.StoredSnapshot) { s.Data = s.Data[:len(s.Data)/2] }},
		{"older version", func(s *central.StoredSnapshot) { s.Version = 0 }},
		{"newer version", func(s *central.StoredSnapshot) { s.Version = 1 << 20 }},
		{"a workflow's model of another version", func(s *central.StoredSnapshot) {
			s.Data = edit(func(doc map[string]any) {
				wfs := doc["workflows"].([]any)
				wfs[len(wfs)-1].(map[string]any)["version"] = 99 // the others restore first
			})
		}},
		{"a workflow's model missing", func(s *central.StoredSnapshot) {
			s.Data = edit(func(doc map[string]any) { doc["workflows"] = doc["workflows"].([]any)[1:] })
		}},
		{"the queue's model of another version", func(s *central.StoredSnapshot) {
			s.Data = edit(func(doc map[string]any) {
				doc["sites"].([]any)[1].(map[string]any)["queue"].(map[string]any)["version"] = 99
			})
		}},
		{"ahead of the log", func(s *central.StoredSnapshot) {
			s.Positions = append([]central.SnapshotPosition(nil), s.Positions...)
			s.Positions[0].Log = 1 << 30
		}},
	} {
		bad := good
		tc.change(&bad)
		if err := s.SaveSnapshot(ctx, bad); err != nil {
			t.Fatal(err)
		}
		var buf logBuffer
		got := newSnapshotCentral(t, s, now, &buf)
		if !strings.Contains(buf.String(), "snapshot of the read models not used") {
			t.Fatalf("%s: no log line that the snapshot was passed over:\n%s", tc.name, buf.String())
		}
		sameReadModels(t, tc.name, got, newSnapshotCentral(t, fullFold{s}, now, &logBuffer{}), history)
	}
	// The good one again: used.
	if err := s.SaveSnapshot(ctx, good); err != nil {
		t.Fatal(err)
	}
	var buf logBuffer
	got := newSnapshotCentral(t, s, now, &buf)
	if !strings.Contains(buf.String(), "restored from their snapshot") {
		t.Fatalf("the good snapshot was not used:\n%s", buf.String())
	}
	sameReadModels(t, "good", got, newSnapshotCentral(t, fullFold{s}, now, &logBuffer{}), history)
}
