package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central/postgres"
	"github.com/veedel/veedel/central/postgres/pgtest"
)

// Processes that open a new database at once (central and veedel central
// adduser on a fresh install) migrate it once and seed its directory once.
func TestOpen_Concurrent(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(ctx, url)
			if err == nil {
				s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		}
	}
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sites, err := s.Directory(ctx)
	if err != nil || len(sites) == 0 {
		t.Fatalf("Directory = %d sites, %v; want the seed's", len(sites), err)
	}
	ids := map[string]bool{}
	for _, site := range sites {
		if ids[site.ID] {
			t.Errorf("site %s twice", site.ID)
		}
		ids[site.ID] = true
	}
}

// A database migrated by a newer veedel is refused with a message that
// says so, instead of being used with a schema this one does not know.
func TestOpen_NewerSchema(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	if s, err := postgres.Open(ctx, url); veedel.ErrorCode(err) != veedel.ECONFLICT {
		if err == nil {
			s.Close()
		}
		t.Errorf("Open of a newer schema: %v, want ECONFLICT", err)
	}
}

// A password in the URL never shows in an error.
func TestOpen_ErrorHidesPassword(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://veedel:sekret-pw@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err == nil {
		t.Fatal("Open of a closed port succeeded")
	}
	if msg := err.Error(); strings.Contains(msg, "sekret-pw") {
		t.Errorf("error shows the password: %s", msg)
	}
}
