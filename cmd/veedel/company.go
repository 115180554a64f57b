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
	"github.com/veedel/veedel/central/business"
	"github.com/veedel/veedel/central/postgres"
	"github.com/veedel/veedel/internal/login"
	"github.com/veedel/veedel/ui"
)

// runCentralCompany: veedel central company add, the business portal's
// company accounts (also at /admin/unternehmen).
func runCentralCompany(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return usageErrorf("central company: want \"add\" (veedel central company add -help)")
	}
	fs := flag.NewFlagSet("central company add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.String("id", "", "the company's short name (required): 2–40 lower-case letters, digits or dashes, e.g. rheinflotte")
	name := fs.String("name", "", "the company's name (required), e.g. \"Rheinflotte GmbH\"")
	admin := fs.String("admin", "", "the login name of its first company admin (required)")
	data := fs.String("data", "./var", "directory of central's SQLite file")
	db := dbFlag(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: veedel central company add -id ID -name NAME -admin USER [-data DIR | -db URL]

Creates a company account of the business portal (/unternehmen) and its
first company admin, who logs in with the password and then sets up the
second factor (TOTP) there, and adds the company's further users, API keys
and webhook. The password is read from VEEDEL_PASSWORD or, without it,
from the first line of standard input: at least `+fmt.Sprint(login.MinPasswordLength)+` characters, not a
common password. Works while central runs.

`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *id == "" || *name == "" || *admin == "" {
		return usageErrorf("central company add: -id, -name and -admin are required")
	}
	password, ok := os.LookupEnv("VEEDEL_PASSWORD")
	if !ok {
		line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("central company add: read the password from stdin: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	for _, check := range []error{business.CheckID("id", *id), business.CheckID("admin", *admin), login.CheckNewPassword(*admin, password)} {
		if check != nil {
			return usageErrorf("central company add: %s", ui.InLang("en", veedel.ErrorMessage(check)))
		}
	}
	store, path, err := openCentralFile(ctx, "central company add", *db, *data, true)
	if err != nil {
		return err
	}
	defer store.Close()
	w, ok := store.(mailDB)
	if !ok {
		return fmt.Errorf("central company add: the store has no SQL handle")
	}
	bs := &business.Store{DB: w.Writer(), Postgres: postgres.IsURL(*db)}
	hash, err := login.HashPassword(password)
	if err != nil {
		return err
	}
	now := time.Now()
	if err := bs.CreateCompany(ctx, *id, *name, now); err != nil {
		if veedel.ErrorCode(err) == veedel.EINVALID || veedel.ErrorCode(err) == veedel.ECONFLICT {
			return usageErrorf("central company add: %s", ui.InLang("en", veedel.ErrorMessage(err)))
		}
		return err
	}
	if err := bs.PutUser(ctx, *id, *admin, business.RoleAdmin, hash, now); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "company %s with its admin %s saved in %s\n", *id, *admin, path)
	return nil
}
