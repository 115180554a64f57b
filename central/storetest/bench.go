package storetest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

// BenchStartup stores sites × perSite events (tickets issued), then
// measures central.New on the store: a central's start today, which reads
// and folds every stored event. It is the figure snapshots of the read
// models are to make independent of history (issue 16).
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
	b.ResetTimer()
	for b.Loop() {
		if _, err := central.New(ctx, s, nil, quiet); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(sites*perSite)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/start")
}
