package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central/storetest"
	"github.com/veedel/veedel/sync/changelog"
)

// benchLog builds n chained entries of ticket events for one site.
func benchLog(b *testing.B, n int) []changelog.Entry {
	b.Helper()
	entries := make([]changelog.Entry, n)
	var prev *changelog.Entry
	clock := changelog.NewClock(nil, 0)
	for i := range entries {
		id := fmt.Sprintf("2026-11-30/B%04d", i)
		e, err := changelog.NewEntry("kalk", prev, clock.Now(), queue.TypeTicketIssued, "ticket/"+id,
			&queue.TicketIssued{ID: id, Token: "aaaaaaaaaaaaaaaaaaaaa" + fmt.Sprint(i), Number: fmt.Sprintf("B%04d", i), Service: "meldung", Channel: "kiosk"})
		if err != nil {
			b.Fatal(err)
		}
		entries[i] = e
		prev = &entries[i]
	}
	return entries
}

// BenchmarkIngest compares central's append of a site's entries (chain
// check, idempotency by (site, seq), batches of 1000: sqlite.Store.Append,
// without decoding, signature check or fold; central's
// BenchmarkIngestEndToEnd has those) with a raw batched INSERT of the same
// rows into a table with the same columns, constraints and indexes as
// site_log (NOT NULL, the primary key (site, seq), the foreign key to
// sites, the (site, hlc) index), both on SQLite files with the same
// pragmas, in one run. append-slowdown-x is append time ÷ raw time: 1.10
// means the append takes 10 % longer than the plain INSERT.
func BenchmarkIngest(b *testing.B) {
	const batch = 1000
	ctx := context.Background()
	entries := benchLog(b, b.N)
	store, err := Open(ctx, filepath.Join(b.TempDir(), "central.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	raw, err := Open(ctx, filepath.Join(b.TempDir(), "raw.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.db.Write.Exec(`CREATE TABLE raw_log (
		site        TEXT    NOT NULL REFERENCES sites (id),
		seq         INTEGER NOT NULL,
		version     INTEGER NOT NULL,
		hlc         INTEGER NOT NULL,
		type        TEXT    NOT NULL,
		entity      TEXT    NOT NULL,
		payload     BLOB    NOT NULL,
		prev        BLOB,
		hash        BLOB    NOT NULL,
		received_at INTEGER NOT NULL,
		PRIMARY KEY (site, seq));
		CREATE INDEX raw_log_hlc ON raw_log (site, hlc);
		INSERT INTO sites (id) VALUES ('kalk');`); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var ingest, insert time.Duration
	for lo := 0; lo < len(entries); lo += batch {
		hi := min(lo+batch, len(entries))
		start := time.Now()
		if _, _, err := store.Append(ctx, &changelog.Batch{Version: changelog.SchemaVersion, Site: "kalk", Entries: entries[lo:hi]}, time.Now(), true); err != nil {
			b.Fatal(err)
		}
		ingest += time.Since(start)

		start = time.Now()
		tx, err := raw.db.Write.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		// Prepared once per batch, as Append does: the baseline is the
		// fastest plain insert, not a strawman.
		stmt, err := tx.Prepare(`INSERT INTO raw_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range entries[lo:hi] {
			if _, err := stmt.Exec(e.Site, e.Seq, e.Version, int64(e.HLC), e.Type, e.Entity, []byte(e.Payload), e.Prev, e.Hash, 0); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		insert += time.Since(start)
	}
	n := float64(len(entries))
	b.ReportMetric(n/ingest.Seconds(), "append-rows/s")
	b.ReportMetric(n/insert.Seconds(), "raw-rows/s")
	b.ReportMetric(ingest.Seconds()/insert.Seconds(), "append-slowdown-x")
}

// BenchmarkStartup: central's start on SQLite with 100,000 stored events
// (10 sites; VEEDEL_BENCH_STARTUP_EVENTS for more), folding every
// event (fold) and from a snapshot of the read models (snapshot);
// central/postgres has the same.
func BenchmarkStartup(b *testing.B) {
	path := filepath.Join(b.TempDir(), "central.db")
	storetest.BenchStartup(b, func(ctx context.Context) (storetest.Store, error) {
		s, err := Open(ctx, path)
		if err != nil {
			return nil, err
		}
		return s, nil
	}, 10, storetest.StartupEvents(b)/10)
}
