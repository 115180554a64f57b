package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// checkWritable refuses a database a node could open but never write: a
// read-only file, journal file or directory (SQLite keeps -wal and -shm
// beside the database) would let the node start and then fail every
// request that changes something. A file that does not exist yet is fine.
func checkWritable(file string) error {
	for _, f := range []string{file, file + "-wal", file + "-shm"} {
		fh, err := os.OpenFile(f, os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlite: %s cannot be written (%s): make it writable for the user running veedel, or restore a writable copy",
				f, reason(err))
		}
		fh.Close()
	}
	dir := filepath.Dir(file)
	probe, err := os.CreateTemp(dir, ".veedel-write-check-*")
	if err != nil {
		return fmt.Errorf("sqlite: the directory %s cannot be written (%s): SQLite keeps its journal files beside %s; make the directory writable for the user running veedel",
			dir, reason(err), filepath.Base(file))
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

// reason is err without the path os errors repeat.
func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// checkHeader refuses a file that is not empty but does not start with
// SQLite's header: SQLite would take a file shorter than its header for a
// new database and overwrite it.
func checkHeader(file string) error {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite: cannot read %s (%s): make it readable for the user running veedel", file, reason(err))
	}
	defer f.Close()
	header := make([]byte, 16)
	n, err := io.ReadFull(f, header)
	switch {
	case n == 0:
		return nil // empty: a new database (callers that know better check first)
	case err != nil || string(header) != "SQLite format 3\x00":
		return damaged(file, errors.New("no SQLite header"))
	}
	return nil
}

// checkIntegrity runs PRAGMA quick_check (every page read once, without
// cross-checking indexes: seconds for a site's file), so that a damaged
// file stops the node at start with its name, not later with "database
// disk image is malformed" on some request.
func checkIntegrity(ctx context.Context, db *sql.DB, file string) error {
	rows, err := db.QueryContext(ctx, "PRAGMA quick_check(5)")
	if err != nil {
		return damaged(file, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return damaged(file, err)
		}
		for _, l := range strings.Split(line, "\n") {
			if l = strings.TrimSpace(l); l != "ok" && l != "" && !strings.HasPrefix(l, "***") {
				problems = append(problems, l)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return damaged(file, err)
	}
	if len(problems) > 0 {
		return damaged(file, errors.New(strings.Join(problems, "; ")))
	}
	return nil
}

// damaged is the error for a file SQLite cannot read as a database: it
// names the file and what to do.
func damaged(file string, err error) error {
	return fmt.Errorf("sqlite: the database %s is damaged (%v): stop, keep the file for analysis and restore the last backup in its place", file, err)
}

// isDamage reports whether err is SQLite saying the file is corrupt
// (SQLITE_CORRUPT) or no database at all (SQLITE_NOTADB).
func isDamage(err error) bool {
	s := err.Error()
	return strings.Contains(s, "database disk image is malformed") || strings.Contains(s, "file is not a database")
}
