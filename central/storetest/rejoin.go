package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
)

// TestRejoinSite: a rejoin appends the current reference data again (the
// city's in dependency order, then the site's newest opening hours), once
// per request and at most once a minute per site.
func testRejoinSite(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	clock := hlcClock()
	knownSite(t, s, "kalk")

	rejoin := func(after uint64, at time.Time) (bool, int) {
		t.Helper()
		done, n, err := s.RejoinSite(ctx, "kalk", after, at, central.RejoinInterval, clock)
		if err != nil {
			t.Fatal(err)
		}
		return done, n
	}
	t.Run("NotJoined", func(t *testing.T) {
		if done, n := rejoin(0, start); done || n != 0 {
			t.Errorf("rejoin of a site that has not joined = %v, %d; want not done, nothing", done, n)
		}
	})

	if joined, err := s.JoinSite(ctx, "kalk", start, clock); err != nil || !joined {
		t.Fatalf("JoinSite(kalk) = %v, %v", joined, err)
	}
	hours := func(close int) central.Outgoing {
		return central.Outgoing{Type: queue.TypeSiteDescribed, Entity: "site/kalk",
			Payload: &queue.SiteDescribed{ID: "kalk", Hours: []queue.OpeningHours{{Weekday: time.Monday, Open: 8 * 60, Close: close}}}}
	}
	group := central.Outgoing{Type: queue.TypeGroupDefined, Entity: "group/kfz", Payload: &queue.GroupDefined{ID: "kfz", Name: "Kfz", NameEN: "Vehicles", Prefix: "K"}}
	for _, step := range []struct {
		site string
		out  central.Outgoing
	}{
		{"", service("ausweis", "A", 12)},
		{"kalk", hours(12 * 60)},
		{"", group},
		{"kalk", central.Outgoing{Type: queue.TypeCancelRequested, Entity: "ticket/t1", Payload: &queue.CancelRequested{ID: "t1"}}},
		{"kalk", hours(16 * 60)},
		{"", group}, // the group edited after the service: still replayed first
	} {
		if _, err := s.AppendOutbound(ctx, step.site, []central.Outgoing{step.out}, start, clock); err != nil {
			t.Fatal(err)
		}
	}
	const head = 6
	if n := len(outbound(t, s, "kalk")); n != head {
		t.Fatalf("kalk outbound = %d entries, want %d", n, head)
	}

	// The city's reference twice (a letter freed on the first pass lets
	// a group through on the second), then the site's own newest hours.
	if done, n := rejoin(head, start); !done || n != 5 {
		t.Fatalf("rejoin = %v, %d; want done, 5 entries", done, n)
	}
	all := outbound(t, s, "kalk")
	var replay []string
	for _, e := range all[head:] {
		replay = append(replay, e.Entity)
	}
	if want := []string{"group/kfz", "service/ausweis", "group/kfz", "service/ausweis", "site/kalk"}; !slices.Equal(replay, want) {
		t.Errorf("replay = %v, want %v (no command)", replay, want)
	}
	if !slices.Equal(all[head+4].Payload, all[4].Payload) {
		t.Errorf("replayed hours are not the newest sent to kalk")
	}

	t.Run("SameRequestAgain", func(t *testing.T) {
		// Asked again from the same (or an older) cursor: done, nothing new.
		for _, after := range []uint64{head, head - 1} {
			if done, n := rejoin(after, start.Add(2*time.Minute)); !done || n != 0 {
				t.Errorf("rejoin(%d) again = %v, %d; want done, nothing appended", after, done, n)
			}
		}
	})
	t.Run("OncePerMinute", func(t *testing.T) {
		if done, n := rejoin(head+5, start.Add(59*time.Second)); done || n != 0 {
			t.Errorf("new rejoin within a minute = %v, %d; want not done, nothing", done, n)
		}
		if done, n := rejoin(head+5, start.Add(time.Minute)); !done || n != 5 {
			t.Errorf("new rejoin a minute later = %v, %d; want done, 5 entries", done, n)
		}
	})
	t.Run("CursorBeyondHead", func(t *testing.T) {
		if done, n := rejoin(1000, start.Add(time.Hour)); done || n != 0 {
			t.Errorf("rejoin beyond the head = %v, %d; want not done, nothing", done, n)
		}
	})
	if n := len(outbound(t, s, "kalk")); n != head+10 {
		t.Errorf("kalk outbound = %d entries, want %d (two replays of 5)", n, head+10)
	}
}
