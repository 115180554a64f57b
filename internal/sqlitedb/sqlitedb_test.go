package sqlitedb_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/veedel/veedel/internal/sqlitedb"
)

// migrations returns an in-memory migration directory.
func migrations(files map[string]string) fs.FS {
	m := fstest.MapFS{}
	for name, body := range files {
		m[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return m
}

var twoMigrations = map[string]string{
	"0001_things.sql": "CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\nINSERT INTO things (name) VALUES ('first');",
	"0002_more.sql":   "INSERT INTO things (name) VALUES ('second');",
}

// mustOpen opens path with the migrations and closes it when the test ends.
func mustOpen(tb testing.TB, path string, files map[string]string, opts sqlitedb.Options) *sqlitedb.DB {
	tb.Helper()
	db, err := sqlitedb.Open(context.Background(), path, migrations(files), opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func pragma[T any](tb testing.TB, db *sql.DB, name string) T {
	tb.Helper()
	var v T
	if err := db.QueryRow("PRAGMA " + name).Scan(&v); err != nil {
		tb.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

// userVersion reads the schema version with a plain connection, outside
// the package under test.
func userVersion(tb testing.TB, path string) int {
	tb.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	return pragma[int](tb, db, "user_version")
}

func count(tb testing.TB, db *sql.DB, table string) int {
	tb.Helper()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		tb.Fatalf("count %s: %v", table, err)
	}
	return n
}

func TestOpen(t *testing.T) {
	t.Run("WriterPragmas", func(t *testing.T) {
		db := mustOpen(t, filepath.Join(t.TempDir(), "a.db"), twoMigrations, sqlitedb.Options{})
		if got, want := pragma[string](t, db.Write, "journal_mode"), "wal"; !strings.EqualFold(got, want) {
			t.Errorf("journal_mode = %q, want %q", got, want)
		}
		if got, want := pragma[int](t, db.Write, "foreign_keys"), 1; got != want {
			t.Errorf("foreign_keys = %d, want %d", got, want)
		}
		if got, want := pragma[int](t, db.Write, "synchronous"), 2; got != want {
			t.Errorf("synchronous = %d, want %d (FULL)", got, want)
		}
		if got, want := pragma[int](t, db.Write, "busy_timeout"), 10000; got != want {
			t.Errorf("busy_timeout = %d, want %d", got, want)
		}
		if got, want := db.Write.Stats().MaxOpenConnections, 1; got != want {
			t.Errorf("writer max open connections = %d, want %d", got, want)
		}
	})

	t.Run("DeletesLeaveNoBytes", func(t *testing.T) {
		// What is deleted (erased personal data) is overwritten in the
		// file, not left in free pages for a copy of the disk to find.
		path := filepath.Join(t.TempDir(), "a.db")
		db := mustOpen(t, path, twoMigrations, sqlitedb.Options{})
		if got, want := pragma[int](t, db.Write, "secure_delete"), 1; got != want {
			t.Errorf("secure_delete = %d, want %d", got, want)
		}
		const marker = "DE89370400440532013000-Erika-Mustermann"
		for i := range 50 {
			if _, err := db.Write.Exec("INSERT INTO things (name) VALUES (?)", fmt.Sprintf("%s-%d-%s", marker, i, strings.Repeat("x", 500))); err != nil {
				t.Fatal(err)
			}
		}
		inFile := func() int {
			if _, err := db.Write.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			return bytes.Count(b, []byte(marker))
		}
		if n := inFile(); n < 50 {
			t.Fatalf("%d copies of the marker before the delete, want at least 50: the check below proves nothing", n)
		}
		if _, err := db.Write.Exec("DELETE FROM things WHERE name LIKE ?", marker+"%"); err != nil {
			t.Fatal(err)
		}
		if n := inFile(); n != 0 {
			t.Errorf("%d copies of deleted rows left in the file", n)
		}
	})

	t.Run("SynchronousOverride", func(t *testing.T) {
		db := mustOpen(t, filepath.Join(t.TempDir(), "a.db"), twoMigrations, sqlitedb.Options{Synchronous: "NORMAL"})
		if got, want := pragma[int](t, db.Write, "synchronous"), 1; got != want {
			t.Errorf("synchronous = %d, want %d (NORMAL)", got, want)
		}
	})

	t.Run("ReaderPragmas", func(t *testing.T) {
		db := mustOpen(t, filepath.Join(t.TempDir(), "a.db"), twoMigrations, sqlitedb.Options{})
		if got, want := pragma[string](t, db.Read, "journal_mode"), "wal"; !strings.EqualFold(got, want) {
			t.Errorf("reader journal_mode = %q, want %q", got, want)
		}
		if got, want := pragma[int](t, db.Read, "foreign_keys"), 1; got != want {
			t.Errorf("reader foreign_keys = %d, want %d", got, want)
		}
		if _, err := db.Read.Exec("INSERT INTO things (name) VALUES ('x')"); err == nil {
			t.Errorf("insert through the reader pool: err = nil, want a read-only error")
		}
	})

	t.Run("ReaderSeesCommits", func(t *testing.T) {
		db := mustOpen(t, filepath.Join(t.TempDir(), "a.db"), twoMigrations, sqlitedb.Options{})
		if _, err := db.Write.Exec("INSERT INTO things (name) VALUES ('third')"); err != nil {
			t.Fatal(err)
		}
		if got, want := count(t, db.Read, "things"), 3; got != want {
			t.Errorf("reader sees %d rows, want %d", got, want)
		}
	})

	t.Run("ForeignKeysEnforced", func(t *testing.T) {
		db := mustOpen(t, filepath.Join(t.TempDir(), "a.db"), map[string]string{
			"0001_fk.sql": "CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (parent INTEGER NOT NULL REFERENCES parent (id));",
		}, sqlitedb.Options{})
		if _, err := db.Write.Exec("INSERT INTO child (parent) VALUES (42)"); err == nil {
			t.Errorf("insert of a child without parent: err = nil, want a foreign key error")
		}
	})

	t.Run("WriterTransactionsAreImmediate", func(t *testing.T) {
		// An immediate transaction takes the write lock at BEGIN: a second
		// writer (another process) waits for it instead of deadlocking on
		// a lock upgrade. Check that another connection cannot write while
		// the writer's transaction is open, even before it wrote anything.
		path := filepath.Join(t.TempDir(), "a.db")
		db := mustOpen(t, path, twoMigrations, sqlitedb.Options{})
		tx, err := db.Write.Begin()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		if _, err := other.Exec("INSERT INTO things (name) VALUES ('other')"); err == nil {
			t.Errorf("another connection wrote during the writer's open transaction; want SQLITE_BUSY")
		}
	})
}

func TestMigrate(t *testing.T) {
	t.Run("AppliedOnce", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "a.db")
		db := mustOpen(t, path, twoMigrations, sqlitedb.Options{})
		if got, want := count(t, db.Write, "things"), 2; got != want {
			t.Errorf("rows after migrating = %d, want %d", got, want)
		}
		db.Close()
		if got, want := userVersion(t, path), 2; got != want {
			t.Errorf("user_version = %d, want %d", got, want)
		}

		// Re-opening applies nothing again (0002 would insert a row).
		db = mustOpen(t, path, twoMigrations, sqlitedb.Options{})
		if got, want := count(t, db.Write, "things"), 2; got != want {
			t.Errorf("rows after re-opening = %d, want %d", got, want)
		}
		db.Close()

		// A new migration is applied alone.
		more := map[string]string{"0003_third.sql": "INSERT INTO things (name) VALUES ('third');"}
		for k, v := range twoMigrations {
			more[k] = v
		}
		db = mustOpen(t, path, more, sqlitedb.Options{})
		if got, want := count(t, db.Write, "things"), 3; got != want {
			t.Errorf("rows after a new migration = %d, want %d", got, want)
		}
		db.Close()
		if got, want := userVersion(t, path), 3; got != want {
			t.Errorf("user_version = %d, want %d", got, want)
		}
	})

	t.Run("NumericOrder", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "a.db")
		db := mustOpen(t, path, map[string]string{
			"0010_last.sql":  "INSERT INTO log (step) VALUES ('10');",
			"0002_mid.sql":   "INSERT INTO log (step) VALUES ('2');",
			"0001_table.sql": "CREATE TABLE log (n INTEGER PRIMARY KEY AUTOINCREMENT, step TEXT);",
		}, sqlitedb.Options{})
		rows, err := db.Read.Query("SELECT step FROM log ORDER BY n")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var s string
			rows.Scan(&s)
			got = append(got, s)
		}
		if strings.Join(got, ",") != "2,10" {
			t.Errorf("migrations ran in order %v, want [2 10]", got)
		}
		if got, want := pragma[int](t, db.Write, "user_version"), 10; got != want {
			t.Errorf("user_version = %d, want %d", got, want)
		}
	})

	t.Run("ErrFailingMigrationLeavesVersion", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "a.db")
		db := mustOpen(t, path, twoMigrations, sqlitedb.Options{})
		db.Close()

		bad := map[string]string{"0003_bad.sql": "CREATE TABLE half (x);\nINSERT INTO no_such_table VALUES (1);"}
		for k, v := range twoMigrations {
			bad[k] = v
		}
		if db, err := sqlitedb.Open(context.Background(), path, migrations(bad), sqlitedb.Options{}); err == nil {
			db.Close()
			t.Fatalf("Open with a failing migration: err = nil, want an error")
		} else if !strings.Contains(err.Error(), "0003_bad.sql") {
			t.Errorf("error %q does not name the failing migration", err)
		}
		if got, want := userVersion(t, path), 2; got != want {
			t.Errorf("user_version after a failing migration = %d, want %d", got, want)
		}
		plain, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer plain.Close()
		var n int
		if err := plain.QueryRow("SELECT count(*) FROM sqlite_schema WHERE name = 'half'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("table of the failed migration exists; want its statements rolled back")
		}

		// Once fixed, the migration applies.
		bad["0003_bad.sql"] = "CREATE TABLE half (x);"
		db = mustOpen(t, path, bad, sqlitedb.Options{})
		if got, want := pragma[int](t, db.Write, "user_version"), 3; got != want {
			t.Errorf("user_version after the fixed migration = %d, want %d", got, want)
		}
	})

	t.Run("ErrFailingMigrationOnNewFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "a.db")
		_, err := sqlitedb.Open(context.Background(), path, migrations(map[string]string{
			"0001_ok.sql":  "CREATE TABLE a (x);",
			"0002_bad.sql": "THIS IS NOT SQL;",
		}), sqlitedb.Options{})
		if err == nil {
			t.Fatal("Open: err = nil, want an error")
		}
		if got, want := userVersion(t, path), 1; got != want {
			t.Errorf("user_version = %d, want %d (the good migration stays applied)", got, want)
		}
	})

	t.Run("ErrBadName", func(t *testing.T) {
		_, err := sqlitedb.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"), migrations(map[string]string{
			"initial.sql": "CREATE TABLE a (x);",
		}), sqlitedb.Options{})
		if err == nil {
			t.Fatal("Open with a migration without number: err = nil, want an error")
		}
	})
}

// A damaged file stops Open with its name and what to do, instead of
// opening and failing later, request by request.
func TestOpenRefusesDamagedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "site.db")
	db := mustOpen(t, path, map[string]string{
		"0001_things.sql": "CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL);" +
			"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 2000) INSERT INTO things (name) SELECT printf('thing %d with some text', i) FROM n;",
	}, sqlitedb.Options{})
	db.Close()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	if fi.Size() < 4*4096 {
		t.Fatalf("file too small to damage: %d bytes", fi.Size())
	}
	// Damage the last page: a table page nothing reads at open.
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xa5}, 4096), fi.Size()-4096); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = sqlitedb.Open(context.Background(), path, migrations(nil), sqlitedb.Options{})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), "backup") {
		t.Errorf("Open on a damaged file: %v; want an error naming %s and what to do", err, path)
	}
}

// A read-only file would open and then fail every write: Open refuses it.
// (Root writes any file: the binary test in cmd/veedel runs as nobody.)
func TestOpenRefusesReadOnlyFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("file modes do not bind root; cmd/veedel's TestStartRefusesUnwritableDataAndUnreadableKey covers this")
	}
	path := filepath.Join(t.TempDir(), "site.db")
	mustOpen(t, path, twoMigrations, sqlitedb.Options{}).Close()
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	if err := os.Chmod(path, 0o444); err != nil {
		t.Fatal(err)
	}
	_, err := sqlitedb.Open(context.Background(), path, migrations(twoMigrations), sqlitedb.Options{})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "cannot be written") {
		t.Errorf("Open on a read-only file: %v", err)
	}
}

// A short file of garbage would be taken for a new database and
// overwritten: Open refuses it and leaves it as it is.
func TestOpenRefusesGarbageFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "central.db")
	if err := os.WriteFile(path, []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := sqlitedb.Open(context.Background(), path, migrations(twoMigrations), sqlitedb.Options{})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("Open on a garbage file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "garbage\n" {
		t.Errorf("Open changed the file: %q", b)
	}
}
