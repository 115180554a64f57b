package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central/postgres"
	"github.com/veedel/veedel/central/postgres/pgtest"
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

// BenchmarkIngest compares central's ingest on PostgreSQL (site row lock,
// resend check, chain check, COPY, cursor update; batches of 1000) with two
// raw baselines on the same server in the same run, each into a table of
// the same columns and primary key, one transaction per batch:
//   - raw-insert: a batched INSERT, the batch's 1000 INSERTs pipelined in
//     one round trip (pgx.Batch), the fastest plain INSERT;
//   - raw-copy: COPY of the same rows, the fastest way in at all.
//
// The batches alternate between the three, so that the server's state
// (checkpoints, autovacuum) weighs on each alike.
func BenchmarkIngest(b *testing.B) {
	const batch = 1000
	ctx := context.Background()
	url := pgtest.URL(b)
	entries := benchLog(b, b.N)
	store, err := postgres.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, table := range []string{"raw_insert", "raw_copy"} {
		if _, err := conn.Exec(ctx, `CREATE TABLE `+table+` (site TEXT COLLATE "C" NOT NULL, seq BIGINT NOT NULL, version INTEGER NOT NULL, hlc BIGINT NOT NULL,
			type TEXT COLLATE "C" NOT NULL, entity TEXT COLLATE "C" NOT NULL, payload BYTEA NOT NULL, prev BYTEA, hash BYTEA NOT NULL, received_at BIGINT NOT NULL,
			PRIMARY KEY (site, seq))`); err != nil {
			b.Fatal(err)
		}
	}
	columns := []string{"site", "seq", "version", "hlc", "type", "entity", "payload", "prev", "hash", "received_at"}
	row := func(e *changelog.Entry) []any {
		return []any{e.Site, int64(e.Seq), int32(e.Version), int64(e.HLC), e.Type, e.Entity, []byte(e.Payload), e.Prev, e.Hash, time.Now().UnixMilli()}
	}
	b.ResetTimer()
	var ingest, insert, copied time.Duration
	for lo := 0; lo < len(entries); lo += batch {
		hi := min(lo+batch, len(entries))
		part := entries[lo:hi]

		start := time.Now()
		if _, _, err := store.Append(ctx, &changelog.Batch{Version: changelog.SchemaVersion, Site: "kalk", Entries: part}, time.Now(), true); err != nil {
			b.Fatal(err)
		}
		ingest += time.Since(start)

		start = time.Now()
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var pb pgx.Batch
			for i := range part {
				pb.Queue(`INSERT INTO raw_insert (site, seq, version, hlc, type, entity, payload, prev, hash, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, row(&part[i])...)
			}
			return tx.SendBatch(ctx, &pb).Close()
		})
		if err != nil {
			b.Fatal(err)
		}
		insert += time.Since(start)

		start = time.Now()
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			rows := make([][]any, len(part))
			for i := range part {
				rows[i] = row(&part[i])
			}
			_, err := tx.CopyFrom(ctx, pgx.Identifier{"raw_copy"}, columns, pgx.CopyFromRows(rows))
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		copied += time.Since(start)
	}
	n := float64(len(entries))
	b.ReportMetric(n/ingest.Seconds(), "ingest-rows/s")
	b.ReportMetric(n/insert.Seconds(), "raw-insert-rows/s")
	b.ReportMetric(n/copied.Seconds(), "raw-copy-rows/s")
	b.ReportMetric(insert.Seconds()/ingest.Seconds(), "ingest/insert-x")
	b.ReportMetric(copied.Seconds()/ingest.Seconds(), "ingest/copy-x")
}

// BenchmarkStartup: central's start on PostgreSQL with 100,000 stored
// events (10 sites; VEEDEL_BENCH_STARTUP_EVENTS for more), folding every
// event (fold) and from a snapshot of the read models (snapshot).
func BenchmarkStartup(b *testing.B) {
	url := pgtest.URL(b)
	storetest.BenchStartup(b, func(ctx context.Context) (storetest.Store, error) {
		s, err := postgres.Open(ctx, url)
		if err != nil {
			return nil, err
		}
		return s, nil
	}, 10, storetest.StartupEvents(b)/10)
}
