// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// schema in the database named by VEEDEL_TEST_POSTGRES (default
// DefaultURL: the machine's PostgreSQL, which .ci/run starts), dropped
// when the test ends. Without a reachable PostgreSQL the test is skipped,
// or, under CI (CI set), fails.
package pgtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the database tests use without VEEDEL_TEST_POSTGRES.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// BaseURL returns the test database's URL, or skips (fails under CI) when
// PostgreSQL does not answer.
func BaseURL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv("VEEDEL_TEST_POSTGRES")
	if base == "" {
		base = DefaultURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL at %s does not answer (%v): start it (.ci/run does) or set VEEDEL_TEST_POSTGRES", redact(base), err)
		if ci := os.Getenv("CI"); ci != "" && ci != "0" && ci != "false" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	conn.Close(ctx)
	return base
}

// URL returns the URL of a new, empty schema of the test database, which
// every connection opened with it uses (search_path); the schema is
// dropped when the test ends.
func URL(tb testing.TB) string {
	tb.Helper()
	base := BaseURL(tb)
	schema := fmt.Sprintf("%s%d_%s", prefix, time.Now().Unix(), strings.ToLower(rand.Text()[:12]))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	sweep.Do(func() { dropStale(ctx, conn) })
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create test schema: %v", err)
	}
	tb.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("drop test schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// prefix starts every test schema's name, followed by its creation time
// (Unix seconds).
const prefix = "veedel_test_"

var sweep sync.Once

// dropStale drops test schemas older than a day: those of test processes
// that were killed before their cleanup ran.
func dropStale(ctx context.Context, conn *pgx.Conn) {
	rows, err := conn.Query(ctx, `SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)`, prefix)
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, name := range names {
		ts, _, _ := strings.Cut(strings.TrimPrefix(name, prefix), "_")
		if sec, err := strconv.ParseInt(ts, 10, 64); err == nil && time.Since(time.Unix(sec, 0)) > 24*time.Hour {
			conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE")
		}
	}
}

func redact(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}
