package storetest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

// BenchStartup stores sites × perSite events (HistoryBatches: ordinary
// business days of 400 tickets, years of them for millions of events) and
// then measures central.New on the store, before and after snapshots of
// the read models, in one run on one database:
//
//   - fold: a start that folds every stored event (a store without
//     snapshots, as central was before them);
//   - snapshot: a start from a snapshot taken at the end of the logs,
//     which folds only what came after it (nothing here).
//
// Memory: heap-MB is the live heap after the start (the read models),
// peak-heap-MB the largest heap seen while starting (sampled every 5 ms),
// alloc-MB what the start allocated. fill-s is how long storing the
// events took (once); snapshot-MB is the snapshot's size, wait-ms the
// longest a site's fold waited while it was taken, save-ms the time to
// take and store it.
func BenchStartup(b *testing.B, open Opener, sites, perSite int) {
	ctx := context.Background()
	s, err := open(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	filled := time.Now()
	for i := range sites {
		site := fmt.Sprintf("site-%02d", i)
		err := HistoryBatches(site, perSite, 400, 1000, func(entries []changelog.Entry) error {
			_, _, err := s.Append(ctx, batchOf(site, entries), time.Now(), true)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	fill := time.Since(filled)
	quiet := slog.New(slog.DiscardHandler)
	c, err := central.New(ctx, s, nil, quiet)
	if err != nil {
		b.Fatal(err)
	}
	// The snapshot: Snapshot holds every fold while it copies the models;
	// wait-ms is the longest a reader of a site's model (as a batch's
	// fold) waited meanwhile, save-ms the time to take and store it.
	var cut time.Duration
	watching, watched := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-watching:
				return
			default:
			}
			t := time.Now()
			c.ViewSite("site-00", func(*queue.State, central.SiteCursor) {})
			cut = max(cut, time.Since(t))
		}
	}()
	saving := time.Now()
	snap, ok, err := c.Snapshot()
	close(watching)
	<-watched
	if err != nil || !ok {
		b.Fatalf("Snapshot = %v, %v", ok, err)
	}
	if err := s.SaveSnapshot(ctx, snap); err != nil {
		b.Fatal(err)
	}
	save := time.Since(saving)
	c = nil
	for _, tc := range []struct {
		name  string
		store central.LogStore
	}{{"fold", fullFold{s}}, {"snapshot", s}} {
		b.Run(tc.name, func(b *testing.B) {
			var heap, peak, alloc uint64
			for b.Loop() {
				b.StopTimer()
				before := liveHeap()
				var m0 runtime.MemStats
				runtime.ReadMemStats(&m0)
				stop := samplePeakHeap()
				b.StartTimer()
				var buf logBuffer
				c, err := central.New(ctx, tc.store, nil, slog.New(slog.NewTextHandler(&buf, nil)))
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if restored := strings.Contains(buf.String(), "restored from their snapshot"); restored != (tc.name == "snapshot") {
					b.Fatalf("%s: started from the snapshot: %v\n%s", tc.name, restored, buf.String())
				}
				p := stop()
				var m1 runtime.MemStats
				runtime.ReadMemStats(&m1)
				alloc = max(alloc, m1.TotalAlloc-m0.TotalAlloc)
				peak = max(peak, p-min(p, before))
				live := liveHeap()
				heap = max(heap, live-min(live, before))
				runtime.KeepAlive(c)
				b.StartTimer()
			}
			b.ReportMetric(float64(sites*perSite), "events")
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/start")
			b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(alloc)/(1<<20), "alloc-MB")
			b.ReportMetric(fill.Seconds(), "fill-s")
			if tc.name == "snapshot" {
				b.ReportMetric(float64(len(snap.Data))/(1<<20), "snapshot-MB")
				b.ReportMetric(cut.Seconds()*1000, "wait-ms")
				b.ReportMetric(save.Seconds()*1000, "save-ms")
			}
		})
	}
}

// samplePeakHeap samples the heap in use until the returned function is
// called, which returns the largest seen.
func samplePeakHeap() func() uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(stopped)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-stopped
		metrics.Read(sample)
		return max(peak.Load(), sample[0].Value.Uint64())
	}
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
