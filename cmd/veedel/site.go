package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/postgres"
	"github.com/veedel/veedel/ui"
)

// `veedel central site add|list`: central's site directory on the command
// line. Like enroll, it works on central's database directly (the SQLite
// file or PostgreSQL), also while central runs (a running central picks a new site up with its first batch,
// its admin pages at once).

func runCentralSite(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "add":
			return runCentralSiteAdd(ctx, args[1:], stdout, stderr)
		case "list":
			return runCentralSiteList(ctx, args[1:], stdout, stderr)
		case "remove":
			return runCentralSiteRemove(ctx, args[1:], stdout, stderr)
		case "-h", "-help", "--help":
			fmt.Fprint(stderr, siteUsage)
			return flag.ErrHelp
		}
		return usageErrorf("central site: unknown command %q: add, list or remove", args[0])
	}
	return usageErrorf("central site: add, list or remove (veedel central site add -help)")
}

const siteUsage = `Usage: veedel central site add -id ID -name NAME [-kind KIND] [-page URL] [-address TEXT] [-data DIR | -db URL]
       veedel central site list [-data DIR | -db URL]
       veedel central site remove -id ID [-data DIR | -db URL]

Central's site directory: only a site in it can be enrolled, and the portal
and the open data name, group and link sites as it says. A new central
knows Cologne's customer centres; add every other site here (or on the
admin pages), and remove those a city does not have ("remove" refuses a
site that has enrolled or sent data: revoke its key instead). Works while
central runs.
`

func siteKinds() string {
	kinds := make([]string, len(central.SiteKinds))
	for i, k := range central.SiteKinds {
		kinds[i] = string(k)
	}
	return strings.Join(kinds, ", ")
}

func runCentralSiteAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("central site add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.String("id", "", "site ID (required): lower-case letters, digits and hyphens, as the appliance's -site")
	name := fs.String("name", "", "the site's name (required), e.g. \"Kfz-Zulassungsstelle Poll\"")
	kind := fs.String("kind", string(central.KindCustomerCentre), "kind of site, one of: "+siteKinds())
	page := fs.String("page", "", "the site's public page, linked from the open data: an http(s) URL or a path on the city's site (default: the portal)")
	address := fs.String("address", "", "the site's address, e.g. \"Am Butzweilerhof 1, 50829 Köln\"")
	data := fs.String("data", "./var", "directory of central's SQLite file (as for veedel central)")
	db := dbFlag(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, siteUsage+"\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *id == "" || *name == "" {
		return usageErrorf("central site add: -id and -name are required")
	}
	site := central.Site{ID: *id, Name: *name, Kind: central.SiteKind(*kind), Page: *page, Address: *address}
	site.Normalize()
	if err := site.Validate(); err != nil {
		return usageErrorf("central site add: %s", ui.InLang("en", veedel.ErrorMessage(err)))
	}
	store, path, err := openCentralFile(ctx, "central site add", *db, *data, true)
	if err != nil {
		return err
	}
	defer store.Close()
	site.AddedAt = time.Now()
	if err := store.AddSite(ctx, site); err != nil {
		if veedel.ErrorCode(err) == veedel.ECONFLICT {
			return usageErrorf("central site add: site %q exists already (change it on the admin pages)", site.ID)
		}
		return err
	}
	where := "-data " + *data
	if *db != "" {
		where = "-db …"
	}
	fmt.Fprintf(stdout, "added site %s (%s, %s) to central's directory %s; enroll its appliance with: veedel central enroll -site %s %s\n",
		site.ID, site.Name, site.Kind, path, site.ID, where)
	return nil
}

func runCentralSiteList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("central site list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./var", "directory of central's SQLite file (as for veedel central)")
	db := dbFlag(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, siteUsage+"\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	store, _, err := openCentralFile(ctx, "central site list", *db, *data, false)
	if err != nil {
		return err
	}
	defer store.Close()
	sites, err := store.Directory(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tNAME\tPAGE\tADDRESS")
	for _, s := range sites {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ID, s.Kind, s.Name, s.Page, s.Address)
	}
	return tw.Flush()
}

func runCentralSiteRemove(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("central site remove", flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.String("id", "", "site ID (required)")
	data := fs.String("data", "./var", "directory of central's SQLite file (as for veedel central)")
	db := dbFlag(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, siteUsage+"\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *id == "" {
		return usageErrorf("central site remove: -id is required")
	}
	store, path, err := openCentralFile(ctx, "central site remove", *db, *data, false)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.RemoveSite(ctx, *id); err != nil {
		if code := veedel.ErrorCode(err); code == veedel.ECONFLICT || code == veedel.ENOTFOUND {
			return usageErrorf("central site remove: %s", veedel.ErrorMessage(err))
		}
		return err
	}
	fmt.Fprintf(stdout, "removed site %s from central's directory %s\n", *id, path)
	return nil
}

// openCentralFile opens central's database: PostgreSQL with db (or
// VEEDEL_DB), else the SQLite file in dir (created when create is set). It
// returns the store and how messages name it; cmd names the command in
// errors.
func openCentralFile(ctx context.Context, cmd, db, dir string, create bool) (centralStore, string, error) {
	name, err := centralDB(db, dir)
	if err != nil {
		return nil, "", usageErrorf("%s: %s", cmd, err.Error())
	}
	if !postgres.IsURL(name) && !create {
		if _, err := os.Stat(name); errors.Is(err, os.ErrNotExist) {
			return nil, "", fmt.Errorf("%s: no central database at %s (check -data, or give -db)", cmd, name)
		}
	}
	store, err := openStore(ctx, name)
	if err != nil {
		return nil, "", err
	}
	return store, dbName(name), nil
}
