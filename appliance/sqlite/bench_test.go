package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
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
			Payload: &queue.ServiceDefined{ID: "meldung", Name: "An- und Ummeldung", Prefix: "B", ExpectedMinutes: 9}},
			{Type: queue.TypeCounterDefined, Entity: "counter/1", At: at,
				Payload: &queue.CounterDefined{ID: "1", Name: "Platz 1", Services: []string{"meldung"}}},
			{Type: queue.TypeCounterOpened, Entity: "counter/1", At: at,
				Payload: &queue.CounterOpened{Counter: "1", Staff: "bench"}}}, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// benchQueue is about how many tickets wait while BenchmarkCaptureOverhead
// issues more: Cologne's busiest centres have 40-120 waiting.
const benchQueue = 60

// BenchmarkCaptureOverhead measures what the change-log costs and what a
// kiosk's ticket really costs. Three files, interleaved in one run so that
// they share the load: issue is IssueTicket as the kiosk calls it (state
// row, change-log entry and the wait estimate recorded in it; one
// transaction, synchronous=FULL); capture is the same without the
// estimate (the change-log's own cost); bare is the same ticket row
// written alone in its own transaction. capture-slowdown-x is capture ÷
// bare, issue-slowdown-x issue ÷ bare (1.10: 10 % slower than the bare row).
func BenchmarkCaptureOverhead(b *testing.B) {
	ctx := context.Background()
	issuing := openBenchStore(b, "issue.db")
	logged := openBenchStore(b, "logged.db")
	bare := openBenchStore(b, "bare.db")
	logged.skipEstimates = true
	var withEstimate, withLog, without time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, _, err := issuing.IssueTicket(ctx, "meldung", "bench", ""); err != nil {
			b.Fatal(err)
		}
		withEstimate += time.Since(start)

		start = time.Now()
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

		// A busy site has a queue, not an ever longer one: keep about
		// benchQueue waiting (outside the timed part), so that the wait
		// estimate each ticket records costs what it costs on a real day.
		if i%benchQueue == benchQueue-1 {
			b.StopTimer()
			for _, s := range []*Store{issuing, logged} {
				for range 2 * benchQueue { // a call and a finish per ticket
					if _, err := s.Execute(ctx, func(st *queue.State, at time.Time) ([]queue.Event, error) {
						if c := st.Counters["1"]; c != nil && c.Current != "" {
							e, err := st.Finish(at, "1")
							return []queue.Event{e}, err
						}
						return st.CallNext(at, "1", "bench")
					}); err != nil {
						b.Fatal(err)
					}
				}
			}
			// The bare side serves its rows too, one transaction per
			// call or finish, so every file sees the same write load.
			for j := range 2 * benchQueue {
				status := queue.StatusCalled
				if j%2 == 1 {
					status = queue.StatusDone
				}
				if _, err := bare.db.Write.ExecContext(ctx, `UPDATE tickets SET status = ? WHERE id = ?`,
					status, fmt.Sprintf("2026-11-30/B%03d", i-benchQueue+1+j/2)); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(withEstimate.Nanoseconds())/float64(b.N), "issue-ns/op")
	b.ReportMetric(float64(withLog.Nanoseconds())/float64(b.N), "capture-ns/op")
	b.ReportMetric(float64(without.Nanoseconds())/float64(b.N), "bare-ns/op")
	b.ReportMetric(float64(withLog)/float64(without), "capture-slowdown-x")
	b.ReportMetric(float64(withEstimate)/float64(without), "issue-slowdown-x")
}

// BenchmarkIssueConcurrent: tickets per second from one client and from 16
// at once, on a queue kept at 1,000 (each client's citizen gives up its
// previous ticket after each new one, as veedel load -steady does), and
// how many commands a commit carried (group commit). Compare the two
// sub-benchmarks' tickets/s: what concurrency adds.
func BenchmarkIssueConcurrent(b *testing.B) {
	for _, clients := range []int{1, 16} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			ctx := context.Background()
			s := openBenchStore(b, "site.db")
			for range 1000 {
				if _, _, err := s.IssueTicket(ctx, "meldung", "bench", ""); err != nil {
					b.Fatal(err)
				}
			}
			s.SettleEstimates()
			before := s.GroupStats()
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for range clients {
				wg.Go(func() {
					previous := ""
					for next.Add(1) <= int64(b.N) {
						t, _, err := s.IssueTicket(ctx, "meldung", "bench", "")
						if err != nil {
							b.Error(err)
							return
						}
						if previous != "" {
							if _, err := s.Execute(ctx, func(st *queue.State, at time.Time) ([]queue.Event, error) {
								e, err := st.Cancel(at, previous)
								return []queue.Event{e}, err
							}); err != nil {
								b.Error(err)
								return
							}
						}
						previous = t.Token
					}
				})
			}
			wg.Wait()
			took := time.Since(start)
			b.StopTimer()
			after := s.GroupStats()
			b.ReportMetric(float64(b.N)/took.Seconds(), "tickets/s")
			b.ReportMetric(float64(after.Commands-before.Commands)/float64(max(after.Groups-before.Groups, 1)), "commands/commit")
		})
	}
}
