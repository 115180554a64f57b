package postgres_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/veedel/veedel/central/postgres"
	"github.com/veedel/veedel/central/postgres/pgtest"
)

// TestLead: of two central nodes on one database, one runs the singleton
// work; when its lock's session dies (its connection is killed), its work
// stops and the other's starts; never both at once.
func TestLead(t *testing.T) {
	url := pgtest.URL(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var running, maxRunning, starts atomic.Int32
	var mu sync.Mutex
	leaders := map[int]bool{}
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for i := range 2 {
		s, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		wg.Go(func() {
			s.Lead(ctx, "test-work", nil, func(wctx context.Context) {
				n := running.Add(1)
				for m := maxRunning.Load(); n > m && !maxRunning.CompareAndSwap(m, n); m = maxRunning.Load() {
				}
				starts.Add(1)
				mu.Lock()
				leaders[i] = true
				mu.Unlock()
				<-wctx.Done()
				running.Add(-1)
			})
		})
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(6 * postgres.LeadCheck)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("a leader", func() bool { return starts.Load() == 1 })
	time.Sleep(postgres.LeadCheck + 500*time.Millisecond)
	if n := starts.Load(); n != 1 {
		t.Fatalf("%d starts with both nodes up, want 1", n)
	}
	// Kill the leader's lock session, as a failed-over or partitioned
	// database connection would end it.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var killed int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l
		WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid()
		AND l.objid::int = hashtext('veedel central lead ' || current_database() || ' ' || current_schema() || ' test-work')`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d lock sessions, want 1", killed)
	}
	waitFor("the work to move", func() bool { return starts.Load() == 2 })
	if m := maxRunning.Load(); m != 1 {
		t.Errorf("the work ran %d times at once, want 1", m)
	}
	mu.Lock()
	if len(leaders) != 2 {
		t.Errorf("leaders %v, want both nodes in turn", leaders)
	}
	mu.Unlock()
}
