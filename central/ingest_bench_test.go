package central_test

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/sqlite"
	"github.com/veedel/veedel/internal/sqlitedb"
	"github.com/veedel/veedel/sync/changelog"
)

// BenchmarkIngestEndToEnd: what central does with a site's batch of 1,000
// entries as it arrives on the wire (the sync handler's work after reading
// the body): decode the CBOR and check every entry's hash
// (changelog.ReadBatch), check the site's signature and take the nonce,
// append to site_log and fold into the read model (Central.Ingest). Beside
// it, on other files in the same run and the same disk:
//   - append-rows/s: the store's append alone (sqlite.Store.Append of the
//     same decoded entries: the row lock's, resend and chain checks, the
//     cursor), what central/sqlite's BenchmarkIngest measures;
//   - raw-insert-rows/s: the same rows inserted raw, one transaction and
//     one prepared INSERT per batch, into a table with site_log's
//     columns, primary key, (site, hlc) index and foreign key to a table
//     of sites, on the same SQLite settings (WAL, synchronous=FULL).
//
// e2e/insert-speedup-x is central's rows/s over the raw INSERT's: bigger
// is better, 1 is as fast as the raw rows.
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
	raw, err := sqlitedb.Open(ctx, filepath.Join(b.TempDir(), "raw.db"), fstest.MapFS{"0001_raw.sql": {Data: []byte(
		`CREATE TABLE sites (id TEXT PRIMARY KEY);
		 CREATE TABLE site_log (site TEXT NOT NULL REFERENCES sites (id), seq INTEGER NOT NULL, version INTEGER NOT NULL,
			hlc INTEGER NOT NULL, type TEXT NOT NULL, entity TEXT NOT NULL, payload BLOB NOT NULL, prev BLOB, hash BLOB NOT NULL,
			received_at INTEGER NOT NULL, PRIMARY KEY (site, seq));
		 CREATE INDEX site_log_hlc ON site_log (site, hlc);
		 INSERT INTO sites VALUES ('kalk');`)}}, sqlitedb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close() })
	key := enrollTestKey(b, c, store, "kalk")
	b.ResetTimer()
	b.StopTimer()
	var e2e, appendTook, insertTook time.Duration
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

		start = time.Now()
		if err := rawInsert(ctx, raw.Write, log[lo:hi]); err != nil {
			b.Fatal(err)
		}
		insertTook += time.Since(start)
		b.StopTimer()
	}
	n := float64(len(log))
	b.ReportMetric(n/e2e.Seconds(), "e2e-rows/s")
	b.ReportMetric(n/appendTook.Seconds(), "append-rows/s")
	b.ReportMetric(n/insertTook.Seconds(), "raw-insert-rows/s")
	b.ReportMetric(e2e.Seconds()/appendTook.Seconds(), "e2e-slowdown-x")
	b.ReportMetric(insertTook.Seconds()/e2e.Seconds(), "e2e/insert-speedup-x")
}

// rawInsert inserts the entries into the raw table in one transaction
// with one prepared INSERT, as a plain program would.
func rawInsert(ctx context.Context, db *sql.DB, entries []changelog.Entry) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO site_log (site, seq, version, hlc, type, entity, payload, prev, hash, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	at := time.Now().UnixMilli()
	for i := range entries {
		e := &entries[i]
		if _, err := stmt.ExecContext(ctx, e.Site, int64(e.Seq), e.Version, int64(e.HLC), e.Type, e.Entity, []byte(e.Payload), e.Prev, e.Hash, at); err != nil {
			return err
		}
	}
	return tx.Commit()
}
