package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/faultproxy"
)

// TestThirtyDaysOffline: a busy site works a whole month while central is
// down (over 300,000 change-log entries), then central comes up and the
// site catches up completely: the invariant checker must find central's
// log equal to the site's and its read model equal to the site's state.
// It reports the catch-up time, the bytes on the wire, the peak memory
// and the largest WAL files.
//
// Skipped with -short and under the race detector (writing the month alone
// takes minutes there); `make offline` runs it.
func TestThirtyDaysOffline(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 300,000 entries; skipped with -short")
	}
	if raceEnabled {
		t.Skip("too slow under the race detector; run make offline")
	}
	const entries = 300_000
	dir := t.TempDir()
	db := filepath.Join(dir, "kalk.db")
	month := writeBusyMonth(t, db, "kalk", entries, 30, 2000)
	t.Logf("wrote %d entries (%d tickets over %d days) in %v, %.0f entries/s; site WAL at most %s",
		month.Entries, month.Tickets, month.Days, month.Took.Round(time.Millisecond), float64(month.Entries)/month.Took.Seconds(), mib(uint64(month.MaxWALSize)))
	if month.Entries < entries {
		t.Fatalf("only %d entries written", month.Entries)
	}

	// The appliance starts and tries to reach central, which is down.
	centralAddr := freeAddr(t)
	wire, err := faultproxy.Listen(centralAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer wire.Close()
	opened := time.Now()
	node, _ := startAppliance(t, applianceConfig{Site: "kalk", DB: db, CentralURL: wire.URL()})
	t.Logf("appliance opened its %d entries in %v", node.Store.LastSeq(), time.Since(opened).Round(time.Millisecond))
	eventually(t, 10*time.Second, "the uplink notices central is down", func() (bool, string) {
		st := node.Uplink.Status()
		return st.Failures > 0, describe("%+v", st)
	})

	siteWAL, centralWAL := watchWAL(db+"-wal"), watchWAL(filepath.Join(dir, "central.db-wal"))
	mem := memPeak()
	start := time.Now()
	cn, _ := startCentral(t, dir, centralAddr)
	wake, unsubscribe := cn.Central.Subscribe("kalk")
	defer unsubscribe()
	var firstBatch time.Duration
	last := node.Store.LastSeq()
	deadline := time.After(5 * time.Minute)
	for acked := uint64(0); acked < last; {
		select {
		case <-wake:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("central has %d of %d entries after 5 minutes; uplink: %+v", acked, last, node.Uplink.Status())
		}
		cn.Central.ViewSite("kalk", func(_ *queue.State, cur central.SiteCursor) { acked = cur.Acked })
		if acked > 0 && firstBatch == 0 {
			firstBatch = time.Since(start)
		}
	}
	catchUp := time.Since(start)
	heap, rss := mem()
	maxSiteWAL, maxCentralWAL := siteWAL(), centralWAL()
	stats := wire.Stats()

	for _, p := range checkInvariants(context.Background(), cn, []siteUnderTest{{Site: "kalk", Store: node.Store}}) {
		t.Error(p)
	}
	size := func(path string) string {
		fi, err := os.Stat(path)
		if err != nil {
			return "0"
		}
		return mib(uint64(fi.Size()))
	}
	t.Logf("caught up %d entries in %v after central started (first batch after %v, so %v of pure transfer): %.0f entries/s",
		last, catchUp.Round(time.Millisecond), firstBatch.Round(time.Millisecond), (catchUp - firstBatch).Round(time.Millisecond), float64(last)/(catchUp-firstBatch).Seconds())
	t.Logf("wire: %d connections, %.1f bytes up and %.2f down per entry", stats.Count, float64(stats.BytesUp)/float64(last), float64(stats.BytesDown)/float64(last))
	t.Logf("memory during catch-up (central and appliance in one process): Go heap in use at most %s, resident at most %s", mib(heap), mib(rss))
	t.Logf("WAL during catch-up at most: site %s, central %s; files now: site.db %s, central.db %s",
		mib(uint64(maxSiteWAL)), mib(uint64(maxCentralWAL)), size(db), size(filepath.Join(dir, "central.db")))
}
