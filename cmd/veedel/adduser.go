package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/login"
	"github.com/veedel/veedel/ui"
)

// runCentralAddUser creates an admin login for central's /admin pages, or
// resets an existing one's password and role. It writes to central's
// database directly (the SQLite file, or PostgreSQL with -db), so it works
// while central runs: the new password is valid at once.
func runCentralAddUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("central adduser", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "login name (required): lower-case letters, digits, dot, hyphen, underscore")
	role := fs.String("role", central.RoleAdmin, "admin (edits the catalogue and opening hours) or technician (watches sync, edits nothing)")
	data := fs.String("data", "./var", "directory of central's SQLite file")
	db := dbFlag(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: veedel central adduser -name NAME [-role admin|technician] [-data DIR | -db URL]

Creates a login for central's admin pages (/admin) and the admin API, or
resets the password and role of an existing one. The password is read from
the environment variable VEEDEL_PASSWORD or, without it, from the first line
of standard input: at least `+fmt.Sprint(login.MinPasswordLength)+` characters (a phrase of several words is
good), not a common password. Works while central runs.

`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *name == "" {
		return usageErrorf("central adduser: -name is required")
	}
	password, ok := os.LookupEnv("VEEDEL_PASSWORD")
	if !ok {
		line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("central adduser: read the password from stdin: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	// The operator's password policy first (it is stricter than the
	// store's minimum, which the demo's admin/admin must pass).
	if err := login.CheckNewPassword(*name, password); err != nil {
		return usageErrorf("central adduser: %s", ui.InLang("en", err.Error()))
	}
	if err := central.ValidateAdmin(*name, *role, password); err != nil {
		return usageErrorf("central adduser: %s", ui.InLang("en", veedel.ErrorMessage(err)))
	}
	// Creating the file is fine: an admin may be set up before central's
	// first start. Where it went is printed, so a wrong -data shows.
	store, path, err := openCentralFile(ctx, "central adduser", *db, *data, true)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.CreateAdmin(ctx, *name, *role, password, time.Now()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "admin login %s (%s) saved in %s\n", *name, *role, path)
	return nil
}
