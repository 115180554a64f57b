package main

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/faultproxy"
)

// Sync benchmarks on loopback, central and appliance in one process, the
// appliance reaching central through a faultproxy.Proxy that only counts
// the bytes. Each reports its figures as metrics (make bench puts them in
// the table); ns/op means little here.

// syncPair is central and one appliance syncing through a counting proxy.
type syncPair struct {
	central *centralNode
	node    *applianceNode
	wire    *faultproxy.Proxy
	stop    func()
}

func startSyncPair(b *testing.B, dir string, cfg applianceConfig) syncPair {
	b.Helper()
	centralAddr := freeAddr(b)
	wire, err := faultproxy.Listen(centralAddr, nil)
	if err != nil {
		b.Fatal(err)
	}
	cn, cent := startCentral(b, dir, centralAddr)
	cfg.CentralURL = wire.URL()
	node, app := startAppliance(b, cfg)
	return syncPair{central: cn, node: node, wire: wire, stop: func() {
		app.stop()
		cent.stop()
		wire.Close()
	}}
}

// acked is how far central's read model of site has come.
func (p syncPair) acked(site string) uint64 {
	var acked uint64
	p.central.Central.ViewSite(site, func(_ *queue.State, cur central.SiteCursor) { acked = cur.Acked })
	return acked
}

func (p syncPair) waitSynced(b *testing.B, site string, timeout time.Duration) {
	b.Helper()
	eventually(b, timeout, "central has the site's log", func() (bool, string) {
		acked, last := p.acked(site), p.node.Store.LastSeq()
		return acked == last, describe("%d of %d", acked, last)
	})
}

// BenchmarkCatchUp: a site with 300,000 entries central has never seen
// (a month offline) pushes them all. Timed from the moment the running
// appliance can reach central (its own start-up, folding its log, is not
// counted) until central's read model has the last entry. Goal: ≤ 10 s.
func BenchmarkCatchUp(b *testing.B) {
	const entries = 300_000
	template := filepath.Join(b.TempDir(), "template.db")
	month := writeBusyMonth(b, template, "kalk", entries, 30, 2000)
	b.ResetTimer()
	b.StopTimer()
	var took time.Duration
	var up, down uint64
	for range b.N {
		dir := b.TempDir()
		copyFile(b, template, filepath.Join(dir, "kalk.db"))
		p := startSyncPair(b, dir, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db")})
		b.StartTimer()
		start := time.Now()
		wake, unsubscribe := p.central.Central.Subscribe("kalk")
		for p.acked("kalk") < month.Entries {
			select {
			case <-wake:
			case <-time.After(20 * time.Millisecond):
			}
			if time.Since(start) > 5*time.Minute {
				b.Fatalf("central has %d of %d entries after 5 minutes", p.acked("kalk"), month.Entries)
			}
		}
		took += time.Since(start)
		b.StopTimer()
		unsubscribe()
		st := p.wire.Stats()
		up, down = up+st.BytesUp, down+st.BytesDown
		p.stop()
	}
	n := float64(b.N)
	b.ReportMetric(took.Seconds()/n, "catchup-s")
	b.ReportMetric(float64(month.Entries)*n/took.Seconds(), "entries/s")
	b.ReportMetric(float64(up)/float64(month.Entries)/n, "wire-up-B/entry")
	b.ReportMetric(float64(down)/float64(month.Entries)/n, "wire-down-B/entry")
}

func copyFile(b testing.TB, from, to string) {
	b.Helper()
	src, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		b.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		b.Fatal(err)
	}
}

// percentiles returns the p50, p99 and maximum of samples in milliseconds.
func percentiles(samples []time.Duration) (p50, p99, top float64) {
	slices.Sort(samples)
	at := func(q float64) float64 {
		return float64(samples[min(len(samples)-1, int(q*float64(len(samples))))].Microseconds()) / 1000
	}
	return at(0.50), at(0.99), float64(samples[len(samples)-1].Microseconds()) / 1000
}

// BenchmarkCommitToCentral: the latency from a site's commit (a ticket
// issued, the transaction committed) to central's read model holding it,
// seen through central's change notifications. Commits come one at a
// time, 5 ms apart on average (a busy kiosk does one every few seconds).
// Each op is 1000 commits. Goal: p99 ≤ 1 s.
func BenchmarkCommitToCentral(b *testing.B) {
	const commits = 1000
	ctx := context.Background()
	dir := b.TempDir()
	p := startSyncPair(b, dir, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db")})
	defer p.stop()
	p.waitSynced(b, "kalk", 10*time.Second)
	base := p.wire.Stats()

	// Central's side: when each seq reached the read model.
	var mu sync.Mutex
	seenAt := map[uint64]time.Time{}
	wake, unsubscribe := p.central.Central.Subscribe("kalk")
	defer unsubscribe()
	done := make(chan struct{})
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		seen := p.acked("kalk")
		for {
			select {
			case <-done:
				return
			case <-wake:
			}
			now := time.Now()
			acked := p.acked("kalk")
			mu.Lock()
			for ; seen < acked; seen++ {
				seenAt[seen+1] = now
			}
			mu.Unlock()
		}
	}()

	r := rand.New(rand.NewPCG(1, 2))
	committedAt := map[uint64]time.Time{}
	b.ResetTimer()
	for range b.N {
		for range commits {
			time.Sleep(time.Duration(r.ExpFloat64() * float64(5*time.Millisecond)))
			if _, _, err := p.node.Store.IssueTicket(ctx, "meldung", "bench", ""); err != nil {
				b.Fatal(err)
			}
			committedAt[p.node.Store.LastSeq()] = time.Now()
		}
	}
	p.waitSynced(b, "kalk", 30*time.Second)
	b.StopTimer()
	close(done)
	<-watching

	var lat []time.Duration
	mu.Lock()
	for seq, at := range committedAt {
		lat = append(lat, max(seenAt[seq].Sub(at), 0))
	}
	mu.Unlock()
	p50, p99, top := percentiles(lat)
	st := p.wire.Stats()
	b.ReportMetric(p50, "p50-ms")
	b.ReportMetric(p99, "p99-ms")
	b.ReportMetric(top, "max-ms")
	b.ReportMetric(float64(st.BytesUp-base.BytesUp)/float64(len(lat)), "wire-up-B/entry")
	b.ReportMetric(float64(st.BytesDown-base.BytesDown)/float64(len(lat)), "wire-down-B/entry")
}

// BenchmarkCentralToSite: the latency from a central write (new opening
// hours for a site, appended to its outbound log) until the site's state
// has them: the downlink's long poll answered, the entry applied and
// committed at the site. Each op is 200 writes, 0–20 ms apart. Goal: p99
// ≤ 2 s.
func BenchmarkCentralToSite(b *testing.B) {
	const writes = 200
	ctx := context.Background()
	dir := b.TempDir()
	p := startSyncPair(b, dir, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db")})
	defer p.stop()
	p.waitSynced(b, "kalk", 10*time.Second)
	wake, unsubscribe := p.node.Store.Subscribe()
	defer unsubscribe()
	hasHours := func(close int) bool {
		ok := false
		p.node.Store.View(func(st *queue.State) {
			ok = len(st.Site.Hours) == 1 && st.Site.Hours[0].Close == close
		})
		return ok
	}

	r := rand.New(rand.NewPCG(3, 4))
	var lat []time.Duration
	b.ResetTimer()
	for range b.N {
		for i := range writes {
			time.Sleep(time.Duration(r.IntN(20)) * time.Millisecond)
			close := 12*60 + i%2*60 + 1 + r.IntN(59) // differs from the previous write
			start := time.Now()
			if err := p.central.Central.SetOpeningHours(ctx, "kalk", []queue.OpeningHours{{Weekday: time.Monday, Open: 8 * 60, Close: close}}); err != nil {
				b.Fatal(err)
			}
			for !hasHours(close) {
				select {
				case <-wake:
				case <-time.After(5 * time.Millisecond):
				}
				if time.Since(start) > 30*time.Second {
					b.Fatalf("write %d not at the site after 30 s; downlink: %+v", i, p.node.Downlink.Status())
				}
			}
			lat = append(lat, time.Since(start))
		}
	}
	b.StopTimer()
	p50, p99, top := percentiles(lat)
	b.ReportMetric(p50, "p50-ms")
	b.ReportMetric(p99, "p99-ms")
	b.ReportMetric(top, "max-ms")
}
