package central_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/sqlite"
	"github.com/veedel/veedel/sync/changelog"
)

// siteLog is a true site log: the site definition, then tickets issued,
// called and finished at two counters.
func siteLog(tb testing.TB, n int) []changelog.Entry {
	tb.Helper()
	st := queue.NewState("kalk")
	clock := changelog.NewClock(func() time.Time { return time.Date(2026, 10, 5, 6, 0, 0, 0, time.UTC) }, 0)
	var log []changelog.Entry
	add := func(events ...queue.Event) {
		for _, ev := range events {
			var prev *changelog.Entry
			if len(log) > 0 {
				prev = &log[len(log)-1]
			}
			e, err := changelog.NewEntry("kalk", prev, clock.Now(), ev.Type, ev.Entity, ev.Payload)
			if err != nil {
				tb.Fatal(err)
			}
			ev.At = e.At()
			st.Apply(ev)
			log = append(log, e)
		}
	}
	add(queue.Event{Type: queue.TypeSiteDescribed, Entity: "site/kalk", Payload: &queue.SiteDescribed{ID: "kalk", Name: "Kundenzentrum Kalk", TimeZone: "Europe/Berlin"}},
		queue.Event{Type: queue.TypeServiceDefined, Entity: "service/meldung", Payload: &queue.ServiceDefined{ID: "meldung", Name: "Anmeldung", Prefix: "B", ExpectedMinutes: 5}})
	for _, id := range []string{"1", "2"} {
		add(queue.Event{Type: queue.TypeCounterDefined, Entity: "counter/" + id, Payload: &queue.CounterDefined{ID: id, Name: "Platz " + id, Services: []string{"meldung"}}})
	}
	for i := 0; len(log) < n; i++ {
		at := clock.Now().Time()
		switch i % 3 {
		case 0, 1:
			e, err := st.IssueTicket(at, "meldung", fmt.Sprintf("token-%018d", i), "kiosk")
			if err != nil {
				tb.Fatal(err)
			}
			add(e)
		case 2:
			counter := fmt.Sprint(1 + i%2)
			if e, err := st.Finish(at, counter); err == nil {
				add(e)
			}
			if events, err := st.CallNext(at, counter, "anna"); err == nil {
				add(events...)
			}
		}
	}
	return log
}

// FuzzIngest throws sequences of batches at central: slices of a true site
// log, resent, out of order, with a byte flipped. Whatever arrives, central's
// stored log must stay a gap-free prefix of the true log with equal hashes,
// and its read model must equal a fresh fold of what it stored.
func FuzzIngest(f *testing.F) {
	f.Add([]byte{0, 10, 10, 10, 20, 5})
	f.Add([]byte{5, 3, 0, 3, 0, 3, 200, 1})
	f.Add([]byte{0, 40, 0, 40})
	f.Add([]byte{3, 7, 1, 2, 9, 9, 0, 255, 17, 4})
	truth := siteLog(f, 60)
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 64 {
			return
		}
		ctx := context.Background()
		store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "central.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		c, err := central.New(ctx, store, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		key := enrollTestKey(t, c, store, "kalk")
		// Each op is (start, length[, flip]): send truth[start:start+length],
		// and when the length byte's high bit is set, flip one byte first.
		for i := 0; i+1 < len(ops); i += 2 {
			start := int(ops[i]) % len(truth)
			n := int(ops[i+1]&0x3f) % (len(truth) - start + 1)
			batch := changelog.Batch{Version: changelog.SchemaVersion, Site: "kalk", Entries: append([]changelog.Entry(nil), truth[start:start+n]...)}
			if ops[i+1]&0x80 != 0 && n > 0 {
				e := &batch.Entries[int(ops[i])%n]
				payload := append([]byte(nil), e.Payload...)
				payload[int(ops[i+1])%len(payload)] ^= 0x5a
				e.Payload = payload
			}
			if err := batch.Validate(); err != nil {
				continue // refused at the door, as the HTTP layer does
			}
			if err := batch.Sign(key); err != nil {
				t.Fatal(err)
			}
			c.Ingest(ctx, &batch)
		}
		checkPrefix(t, ctx, store, c, truth)
	})
}

func checkPrefix(t *testing.T, ctx context.Context, store *sqlite.Store, c *central.Central, truth []changelog.Entry) {
	t.Helper()
	var stored []changelog.Entry
	if err := store.Scan(ctx, "kalk", 0, func(e changelog.Entry) error { stored = append(stored, e); return nil }); err != nil {
		t.Fatal(err)
	}
	fold := queue.NewState("kalk")
	for i, e := range stored {
		if e.Seq != uint64(i+1) || string(e.Hash) != string(truth[i].Hash) {
			t.Fatalf("stored entry %d (seq %d) is not the site's entry %d", i, e.Seq, i+1)
		}
		p, err := changelog.DecodePayload(&e, queue.NewPayload)
		if err != nil {
			t.Fatal(err)
		}
		fold.Apply(queue.Event{Type: e.Type, Entity: e.Entity, At: e.At(), Payload: p})
	}
	if len(stored) == 0 {
		return
	}
	var gotWaiting, wantWaiting, got, want []string
	c.ViewSite("kalk", func(st *queue.State, _ central.SiteCursor) {
		for _, tk := range st.Waiting() {
			gotWaiting = append(gotWaiting, tk.ID)
		}
		for id, tk := range st.Tickets {
			got = append(got, id+"="+tk.Status+"@"+tk.Counter)
		}
	})
	for _, tk := range fold.Waiting() {
		wantWaiting = append(wantWaiting, tk.ID)
	}
	for id, tk := range fold.Tickets {
		want = append(want, id+"="+tk.Status+"@"+tk.Counter)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(gotWaiting, wantWaiting) || !slices.Equal(got, want) {
		t.Fatalf("central's read model differs from the fold of its stored log:\n got %v %v\nwant %v %v", gotWaiting, got, wantWaiting, want)
	}
}
