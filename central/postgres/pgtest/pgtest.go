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
	"strings"
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
	schema := "veedel_test_" + strings.ToLower(rand.Text()[:16])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
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

func redact(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}
