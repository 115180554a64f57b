package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/veedel/veedel/central/postgres"
	"github.com/veedel/veedel/central/postgres/pgtest"
	"github.com/veedel/veedel/sync/changelog"
)

// The server ends every connection of central (a failover, a restart of
// PostgreSQL, an administrator's pg_terminate_backend): the store's next
// calls work on new connections, and what was committed is all there.
func TestConnectionsEnded(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t) + "&application_name=veedel-failover-test"
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	log := testLog(t, 20)
	if _, _, err := s.Append(ctx, &changelog.Batch{Version: changelog.SchemaVersion, Site: "kalk", Entries: log[:10]}, time.Now(), true); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, pgtest.BaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var ended int
	if err := admin.QueryRow(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'veedel-failover-test') t`).Scan(&ended); err != nil || ended == 0 {
		t.Fatalf("ended %d connections (%v), want the store's", ended, err)
	}
	// A call on a connection the server ended fails (pgxpool checks only
	// connections idle for over a second before use), as a batch whose
	// commit was lost does: the appliance sends it again. Within a few
	// calls the pool has new connections, and nothing is stored twice.
	var failures int
	for {
		accepted, acked, err := s.Append(ctx, &changelog.Batch{Version: changelog.SchemaVersion, Site: "kalk", Entries: log[5:]}, time.Now(), true)
		if err == nil {
			if len(accepted) != 10 || acked != 20 {
				t.Fatalf("Append after the connections ended: %d accepted, acked %d; want 10, 20", len(accepted), acked)
			}
			break
		}
		if failures++; failures > 10 {
			t.Fatalf("Append still fails after %d tries: %v", failures, err)
		}
	}
	t.Logf("%d calls failed on ended connections", failures)
	n := 0
	if err := s.Scan(ctx, "kalk", 0, func(changelog.Entry) error { n++; return nil }); err != nil || n != 20 {
		t.Errorf("Scan = %d entries, %v; want 20", n, err)
	}
}

func testLog(t *testing.T, n int) []changelog.Entry {
	t.Helper()
	entries := make([]changelog.Entry, n)
	var prev *changelog.Entry
	for i := range entries {
		e, err := changelog.NewEntry("kalk", prev, changelog.HLC(i+1)<<16, "queue.ticket_issued", fmt.Sprintf("ticket/%d", i), map[string]string{"id": fmt.Sprint(i)})
		if err != nil {
			t.Fatal(err)
		}
		entries[i] = e
		prev = &entries[i]
	}
	return entries
}
