package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
)

func openBenchStore(b *testing.B, name string) *Store {
	b.Helper()
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), name), "kalk", Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	_, err = s.Execute(context.Background(), func(_ *queue.State, at time.Time) ([]queue.Event, error) {
		return []queue.Event{{Type: queue.TypeServiceDefined, Entity: "service/meldung", At: at,
			Payload: &queue.ServiceDefined{ID: "meldung", Name: "An- und Ummeldung", Prefix: "B", ExpectedMinutes: 9}}}, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkCaptureOverhead measures what the change-log costs: issuing a
// ticket (state row + change-log entry, one transaction, synchronous=FULL)
// against the same ticket row written alone in its own transaction. Both
// run interleaved in one benchmark so the ratio is measured under the same
// load.
func BenchmarkCaptureOverhead(b *testing.B) {
	ctx := context.Background()
	logged := openBenchStore(b, "logged.db")
	bare := openBenchStore(b, "bare.db")
	var withLog, without time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, _, err := logged.IssueTicket(ctx, "meldung", "bench", ""); err != nil {
			b.Fatal(err)
		}
		withLog += time.Since(start)

		start = time.Now()
		tx, err := bare.db.Write.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO tickets (id, day, token, number, service, channel, status, issued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			fmt.Sprintf("2026-11-30/B%03d", i), "2026-11-30", RandomToken(), fmt.Sprintf("B%03d", i), "meldung", "bench", queue.StatusWaiting, time.Now().UnixMilli())
		if err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		without += time.Since(start)
	}
	b.ReportMetric(float64(withLog.Nanoseconds())/float64(b.N), "logged-ns/op")
	b.ReportMetric(float64(without.Nanoseconds())/float64(b.N), "bare-ns/op")
	b.ReportMetric(float64(withLog)/float64(without), "overhead-x")
}
