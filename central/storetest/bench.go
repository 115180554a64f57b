package storetest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

// BenchStartup stores sites × perSite events (tickets issued), then
// measures central.New on the store: a central's start today, which reads
// and folds every stored event, and the live heap after it (the read
// models; all tickets stay waiting, more than a real day holds). It is the
// figure snapshots of the read models are to make independent of history
// (issue 16).
func BenchStartup(b *testing.B, open Opener, sites, perSite int) {
	ctx := context.Background()
	s, err := open(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i := range sites {
		site := fmt.Sprintf("site-%02d", i)
		log := siteLog(b, site, perSite)
		for lo := 0; lo < len(log); lo += 1000 {
			batch := &changelog.Batch{Version: changelog.SchemaVersion, Site: site, Entries: log[lo:min(lo+1000, len(log))]}
			if _, _, err := s.Append(ctx, batch, time.Now(), true); err != nil {
				b.Fatal(err)
			}
		}
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var heap uint64
	b.ResetTimer()
	for b.Loop() {
		c, err := central.New(ctx, s, nil, quiet)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		heap = max(heap, liveHeap())
		runtime.KeepAlive(c)
		b.StartTimer()
	}
	b.ReportMetric(float64(sites*perSite)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/start")
	b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
}

// StartupEvents is how many events the start-up benchmarks store:
// VEEDEL_BENCH_STARTUP_EVENTS, default 100,000 (1,000,000 and more for
// the table in issue 16; storing them takes a while).
func StartupEvents(tb testing.TB) int {
	n := 100_000
	if v := os.Getenv("VEEDEL_BENCH_STARTUP_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 10 {
			tb.Fatalf("VEEDEL_BENCH_STARTUP_EVENTS=%q: want a number of events, at least 10", v)
		}
	}
	return n
}

// liveHeap is the heap in use after a collection: what the read models
// hold.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
