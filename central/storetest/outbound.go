package storetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

func testOutboundLog(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	clock := hlcClock()
	sites, err := s.AppendOutbound(ctx, "kalk", []central.Outgoing{service("a", "A", 5), service("b", "B", 6), service("c", "C", 7)}, start, clock)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sites, []string{"kalk"}) {
		t.Errorf("sites = %v, want [kalk]", sites)
	}
	first := outbound(t, s, "kalk")
	if len(first) != 3 || first[1].Entity != "service/b" {
		t.Fatalf("outbound = %+v, want 3 entries in order", first)
	}
	if other := outbound(t, s, "porz"); len(other) != 0 {
		t.Errorf("porz got %d entries of kalk's", len(other))
	}

	t.Run("BoundedRead", func(t *testing.T) {
		got, head, err := s.Outbound(ctx, "kalk", 1, 1, 1<<20)
		if err != nil || len(got) != 1 || got[0].Seq != 2 || head != 3 {
			t.Errorf("Outbound(after 1, limit 1) = %d entries (first %v), head %d, %v; want entry 2, head 3", len(got), got, head, err)
		}
		got, _, _ = s.Outbound(ctx, "kalk", 0, 10, 1)
		if len(got) != 1 {
			t.Errorf("Outbound with 1 byte = %d entries, want at least and at most one", len(got))
		}
		got, head, _ = s.Outbound(ctx, "kalk", 3, 10, 1<<20)
		if len(got) != 0 || head != 3 {
			t.Errorf("Outbound(after head) = %d entries, head %d; want none, 3", len(got), head)
		}
	})

	t.Run("SurvivesRestart", func(t *testing.T) {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = mustOpen(t, open)
		again := outbound(t, s, "kalk")
		if len(again) != len(first) {
			t.Fatalf("after restart: %d entries, want %d", len(again), len(first))
		}
		for i := range again {
			if !bytes.Equal(again[i].Hash, first[i].Hash) {
				t.Errorf("entry %d changed by the restart", again[i].Seq)
			}
		}
		last, err := s.LastOutboundHLC(ctx)
		if err != nil || last != first[2].HLC {
			t.Errorf("LastOutboundHLC = %d, %v; want %d", last, err, first[2].HLC)
		}
		// The log continues the chain after the restart.
		if _, err := s.AppendOutbound(ctx, "kalk", []central.Outgoing{service("d", "D", 8)}, start, changelog.NewClock(func() time.Time { return start }, last).Now); err != nil {
			t.Fatal(err)
		}
		all := outbound(t, s, "kalk")
		if len(all) != 4 || all[3].HLC <= first[2].HLC {
			t.Errorf("after append: %d entries, last HLC %d; want 4 and later than %d", len(all), all[3].HLC, first[2].HLC)
		}
		heads, err := s.OutboundHeads(ctx)
		if err != nil || heads["kalk"] != 4 || len(heads) != 1 {
			t.Errorf("OutboundHeads = %v, %v; want kalk: 4", heads, err)
		}
	})
}

func testCityReference(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	clock := hlcClock()
	knownSite(t, s, "kalk")
	knownSite(t, s, "porz")
	if joined, err := s.JoinSite(ctx, "kalk", start, clock); err != nil || !joined {
		t.Fatalf("JoinSite(kalk) = %v, %v; want true", joined, err)
	}
	if joined, err := s.JoinSite(ctx, "kalk", start, clock); err != nil || joined {
		t.Fatalf("JoinSite(kalk) again = %v, %v; want false", joined, err)
	}
	if n := len(outbound(t, s, "kalk")); n != 0 {
		t.Fatalf("kalk joined with %d entries, want 0 (no reference data yet)", n)
	}

	// City-wide: kalk (joined) gets it; porz (known, not joined) joins in
	// the same transaction and gets all reference data.
	sites, err := s.AppendOutbound(ctx, "", []central.Outgoing{service("ausweis", "A", 12)}, start, clock)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(sites)
	if !slices.Equal(sites, []string{"kalk", "porz"}) {
		t.Errorf("sites = %v, want kalk and porz", sites)
	}
	for _, site := range []string{"kalk", "porz"} {
		if got := outbound(t, s, site); len(got) != 1 || got[0].Entity != "service/ausweis" {
			t.Errorf("%s outbound = %+v, want the service once", site, got)
		}
	}
	if joined, _ := s.JoinSite(ctx, "porz", start, clock); joined {
		t.Errorf("porz joined twice")
	}

	// A change of the same entity replaces the reference, and goes out.
	if _, err := s.AppendOutbound(ctx, "", []central.Outgoing{service("ausweis", "A", 15), service("meldung", "B", 9)}, start, clock); err != nil {
		t.Fatal(err)
	}
	refs, err := s.CityReference(ctx, queue.TypeServiceDefined)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 2 {
		t.Fatalf("reference = %d entries, want 2", len(refs))
	}
	var svc queue.ServiceDefined
	if err := changelog.Unmarshal(refs[0].Payload.([]byte), &svc); err != nil || svc.ID != "ausweis" || svc.ExpectedMinutes != 15 {
		t.Errorf("reference[0] = %+v, %v; want ausweis with 15 minutes", svc, err)
	}

	// A site that appears later joins with the current reference only.
	knownSite(t, s, "nippes")
	if joined, err := s.JoinSite(ctx, "nippes", start, clock); err != nil || !joined {
		t.Fatalf("JoinSite(nippes) = %v, %v", joined, err)
	}
	got := outbound(t, s, "nippes")
	if len(got) != 2 {
		t.Fatalf("nippes outbound = %d entries, want the 2 current references", len(got))
	}
	if err := changelog.Unmarshal(got[0].Payload, &svc); err != nil || svc.ExpectedMinutes != 15 {
		t.Errorf("nippes got %+v, want the current definition (15 minutes)", svc)
	}
	if n := len(outbound(t, s, "kalk")); n != 3 {
		t.Errorf("kalk outbound = %d entries, want 3", n)
	}
}

// Writers (central nodes) append city-wide reference data and a site's
// own events while sites join, all at once: every site's outbound log
// stays one gap-free chain, and every joined site gets each city-wide
// event exactly once, from the event or from its join.
func testOutboundConcurrent(t *testing.T, open Opener) {
	ctx := context.Background()
	const writers, events = 3, 8
	stores := make([]Store, writers)
	for i := range stores {
		stores[i] = mustOpen(t, open)
	}
	early := []string{"kalk", "porz"}
	late := []string{"nippes", "ehrenfeld", "chorweiler"}
	for _, site := range append(append([]string{}, early...), late...) {
		knownSite(t, stores[0], site)
	}
	for _, site := range early {
		if _, err := stores[0].JoinSite(ctx, site, start, hlcClock()); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers+len(late))
	for w := range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			clock := hlcClock()
			for i := range events {
				id := fmt.Sprintf("w%d-%d", w, i)
				if _, err := stores[w].AppendOutbound(ctx, "", []central.Outgoing{service(id, "A", 5)}, start, clock); err != nil {
					errs <- err
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			clock := hlcClock()
			for i := range events {
				o := central.Outgoing{Type: queue.TypeCancelRequested, Entity: fmt.Sprintf("ticket/w%d-%d", w, i), Payload: &queue.CancelRequested{ID: fmt.Sprintf("w%d-%d", w, i)}}
				if _, err := stores[w].AppendOutbound(ctx, "kalk", []central.Outgoing{o}, start, clock); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i, site := range late {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := stores[i%writers].JoinSite(ctx, site, start, hlcClock()); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, site := range append(early, late...) {
		count := map[string]int{}
		for _, e := range outbound(t, stores[0], site) {
			if e.Type == queue.TypeServiceDefined {
				count[e.Entity]++
			}
		}
		for w := range writers {
			for i := range events {
				if n := count[fmt.Sprintf("service/w%d-%d", w, i)]; n != 1 {
					t.Errorf("%s got service w%d-%d %d times, want once", site, w, i, n)
				}
			}
		}
	}
	if n := len(outbound(t, stores[0], "kalk")); n != 2*writers*events {
		t.Errorf("kalk's outbound has %d entries, want %d", n, 2*writers*events)
	}
}
