package central_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/sqlite"
	"github.com/veedel/veedel/sync/changelog"
)

// BenchmarkIngestEndToEnd: what central does with a site's batch of 1,000
// entries as it arrives on the wire (the sync handler's work after reading
// the body): decode the CBOR and check every entry's hash
// (changelog.ReadBatch), check the site's signature and take the nonce,
// append to site_log and fold into the read model (Central.Ingest). Beside
// it, on a second file in the same run, the append alone (sqlite.Store.
// Append of the same decoded entries): append-rows/s is what
// central/sqlite's BenchmarkIngest measures, e2e-rows/s what a site
// catching up gets.
func BenchmarkIngestEndToEnd(b *testing.B) {
	const batch = 1000
	ctx := context.Background()
	log := siteLog(b, max(b.N, batch))
	open := func(name string) (*sqlite.Store, *central.Central) {
		store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), name))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { store.Close() })
		c, err := central.New(ctx, store, nil, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		return store, c
	}
	store, c := open("central.db")
	appendOnly, _ := open("append.db")
	key := enrollTestKey(b, c, store, "kalk")
	b.ResetTimer()
	b.StopTimer()
	var e2e, appendTook time.Duration
	for lo := 0; lo < len(log); lo += batch {
		hi := min(lo+batch, len(log))
		// Signed fresh as the uplink signs, just before it is sent.
		sent := &changelog.Batch{Version: changelog.SchemaVersion, Site: "kalk", Entries: log[lo:hi]}
		if err := sent.SignFresh(key, time.Now()); err != nil {
			b.Fatal(err)
		}
		wire, err := changelog.Marshal(sent)
		if err != nil {
			b.Fatal(err)
		}

		b.StartTimer()
		start := time.Now()
		got, err := changelog.ReadBatch(bytes.NewReader(wire))
		if err != nil {
			b.Fatal(err)
		}
		if ack, err := c.Ingest(ctx, got); err != nil || ack.Acked != uint64(hi) {
			b.Fatalf("ingest: ack %+v, %v", ack, err)
		}
		e2e += time.Since(start)

		start = time.Now()
		if _, _, err := appendOnly.Append(ctx, &changelog.Batch{Version: changelog.SchemaVersion, Site: "kalk", Entries: log[lo:hi]}, time.Now(), true); err != nil {
			b.Fatal(err)
		}
		appendTook += time.Since(start)
		b.StopTimer()
	}
	n := float64(len(log))
	b.ReportMetric(n/e2e.Seconds(), "e2e-rows/s")
	b.ReportMetric(n/appendTook.Seconds(), "append-rows/s")
	b.ReportMetric(e2e.Seconds()/appendTook.Seconds(), "e2e-slowdown-x")
}
