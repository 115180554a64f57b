package main

import (
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/sitekey"
	"github.com/veedel/veedel/sync/uplink"
	"github.com/veedel/veedel/workflow"
)

// restoreConfig is what `veedel appliance restore` needs: a replacement
// appliance rebuilds its site from central's copy of the site's log
// (docs/SYNC.md, "Restoring a site").
type restoreConfig struct {
	Site       string
	DB         string // the site's SQLite file, which must not hold a log yet
	KeyFile    string // "" = <directory of DB>/<site>.key
	CentralURL string
	CentralCA  string
	// EnrollToken is a new one-time token for the site (veedel central
	// enroll): it enrolls this appliance's key, revoking the old one's.
	EnrollToken string
	// EscrowKeys are the health office's escrow private key files: they
	// open the exam data keys the old appliance logged.
	EscrowKeys []string
	Logger     *slog.Logger
	// Now is the appliance's clock (nil: time.Now); PageEntries the page
	// size asked of central (0: central's maximum). Tests set them.
	Now         func() time.Time
	PageEntries int
}

// restoreResult is what a restore did.
type restoreResult struct {
	Entries  uint64 // entries restored (seq 1 to Entries)
	Exams    int    // exam records rebuilt
	Rewraps  int    // exam data keys wrapped to the new box key
	Tickets  int    // tickets in the restored queue state
	Duration time.Duration
}

const restoreUsage = `Usage: veedel appliance restore -site ID -central URL -enroll-token TOKEN [-exam-escrow-key FILE] [flags]

Rebuilds a site on a replacement appliance from central's copy of the
site's change-log, when the old appliance was lost with its database.
Run it once on an empty data directory, then start the appliance as usual
(veedel appliance -site ID -central URL ...): it goes on where the log
ended. The token (veedel central enroll) enrolls this appliance's key;
the old appliance's key is revoked with it. A school-health site needs
the health office's escrow private key (veedel exam escrow-keygen): the
exam records are sealed in the log and open only with it; they are
wrapped to this appliance's key in a new entry after the restored ones.
Staff logins, the exam audit log and other site-local data are not in the
log: create the logins again (VEEDEL_ADMIN_PASSWORD, then /desk/users).

`

func runApplianceRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("appliance restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, restoreUsage)
		fs.PrintDefaults()
	}
	site := fs.String("site", "", "site ID (required): the site to restore")
	data := fs.String("data", "./var", "directory for the site's SQLite file (it must not hold the site's log yet)")
	central := fs.String("central", "", "central's URL (required), e.g. https://central.example")
	centralCA := fs.String("central-ca", "", "PEM file of CA certificates to trust for central's HTTPS, besides the system's")
	enrollToken := fs.String("enroll-token", "", "a new one-time token from veedel central enroll for this site (required; or set VEEDEL_ENROLL_TOKEN)")
	var escrows []string
	fs.Func("exam-escrow-key", "the health office's escrow private key file (veedel exam escrow-keygen -out FILE); repeat it for keys replaced over the years", func(v string) error {
		escrows = append(escrows, v)
		return nil
	})
	verbose := fs.Bool("v", false, "log more")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *site == "" {
		return usageErrorf("appliance restore: -site is required")
	}
	if *central == "" {
		return usageErrorf("appliance restore: -central is required: the site is restored from central's copy of its log")
	}
	if *enrollToken == "" {
		*enrollToken = os.Getenv("VEEDEL_ENROLL_TOKEN")
	}
	if strings.TrimSpace(*enrollToken) == "" {
		return usageErrorf("appliance restore: -enroll-token is required: create one with veedel central enroll -site %s", *site)
	}
	cfg := restoreConfig{Site: *site, DB: filepath.Join(*data, *site+".db"), CentralURL: *central, CentralCA: *centralCA,
		EnrollToken: strings.TrimSpace(*enrollToken), EscrowKeys: escrows, Logger: newLogger(stderr, *verbose)}
	res, err := restoreSite(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored site %s from central: %d entries, %d tickets, %d exam records, %d exam keys wrapped to this appliance (%.1f s)\nstart it with: veedel appliance -site %s -data %s -central %s\n",
		cfg.Site, res.Entries, res.Tickets, res.Exams, res.Rewraps, res.Duration.Seconds(), cfg.Site, *data, cfg.CentralURL)
	return nil
}

// restoreSite restores cfg's site into cfg.DB from central. It builds the
// store in a file beside it (DB + ".restoring") and renames it into place
// only when everything went in: an interrupted or failed restore leaves
// no half-restored site behind, and can be run again.
func restoreSite(ctx context.Context, cfg restoreConfig) (restoreResult, error) {
	start := time.Now()
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.KeyFile == "" {
		cfg.KeyFile = filepath.Join(filepath.Dir(cfg.DB), cfg.Site+".key")
	}
	var escrows []*ecdh.PrivateKey
	for _, f := range cfg.EscrowKeys {
		k, err := exam.ReadEscrowPrivate(f)
		if err != nil {
			return restoreResult{}, usageErrorf("appliance restore: -exam-escrow-key: %s", veedel.ErrorMessage(err))
		}
		escrows = append(escrows, k)
	}
	if err := os.MkdirAll(filepath.Dir(cfg.DB), 0o750); err != nil {
		return restoreResult{}, err
	}
	if err := checkRestoreTarget(ctx, cfg); err != nil {
		return restoreResult{}, err
	}
	client, err := centralClient(cfg.CentralCA)
	if err != nil {
		return restoreResult{}, err
	}
	key, _, err := sitekey.LoadOrCreate(cfg.KeyFile)
	if err != nil {
		return restoreResult{}, err
	}
	box, err := sitekey.BoxKey(key)
	if err != nil {
		return restoreResult{}, err
	}
	tmp := cfg.DB + ".restoring"
	removeDB(tmp)
	store, err := sqlite.Open(ctx, tmp, cfg.Site, sqlite.Options{Now: cfg.Now, BoxKey: box, Logger: cfg.Logger})
	if err != nil {
		return restoreResult{}, err
	}
	res, err := restoreInto(ctx, cfg, store, key, client, escrows)
	if cerr := store.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		removeDB(tmp)
		return restoreResult{}, err
	}
	removeDB(cfg.DB)
	for _, suffix := range []string{"", "-wal"} {
		if err := os.Rename(tmp+suffix, cfg.DB+suffix); err != nil && !(suffix != "" && errors.Is(err, fs.ErrNotExist)) {
			return restoreResult{}, fmt.Errorf("appliance restore: %w", err)
		}
	}
	os.Remove(tmp + "-shm")
	res.Duration = time.Since(start)
	cfg.Logger.Info("site restored from central", "site", cfg.Site, "entries", res.Entries, "exams", res.Exams, "file", cfg.DB)
	return res, nil
}

// checkRestoreTarget refuses a site database that holds a change-log: a
// restore would replace a site's data (exit 2).
func checkRestoreTarget(ctx context.Context, cfg restoreConfig) error {
	fi, err := os.Stat(cfg.DB)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("cannot read the site database %s (%v)", cfg.DB, pathless(err))
	case fi.IsDir():
		return usageErrorf("appliance restore: the site database %s is a directory: choose another -data", cfg.DB)
	case fi.Size() == 0:
		return nil
	}
	store, err := sqlite.Open(ctx, cfg.DB, cfg.Site, sqlite.Options{Logger: cfg.Logger})
	if err != nil {
		return err
	}
	last := store.LastSeq()
	store.Close()
	if last > 0 {
		return usageErrorf("appliance restore: the site database %s holds the site's log up to seq %d: restore only into an empty data directory", cfg.DB, last)
	}
	return nil
}

// removeDB removes an SQLite file with its WAL and shared-memory files.
func removeDB(path string) {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
}

// restoreInto enrolls key, takes in central's copy of the site's log,
// checks that every exam data key opened, wraps them to the new box key
// and records central's position as the uplink's.
func restoreInto(ctx context.Context, cfg restoreConfig, store *sqlite.Store, key ed25519.PrivateKey, client *http.Client, escrows []*ecdh.PrivateKey) (restoreResult, error) {
	up := &uplink.Uplink{Outbox: store, Site: cfg.Site, CentralURL: cfg.CentralURL, Logger: cfg.Logger, Now: cfg.Now,
		Key: key, EnrollToken: cfg.EnrollToken, Enrollments: store}
	if client != nil {
		up.Client = client
	}
	if err := up.Enroll(ctx); err != nil {
		// The key may be enrolled already (a restore interrupted after
		// its enrollment, run again with the used token): central says so
		// by answering.
		if _, ferr := up.FetchLog(ctx, 0, 1); ferr != nil {
			return restoreResult{}, fmt.Errorf("appliance restore: %v", err)
		}
		sum := sha256.Sum256([]byte(cfg.EnrollToken))
		if err := store.SetEnrolledKey(ctx, changelog.KeyIDString(changelog.KeyID(sitekey.Public(key))), hex.EncodeToString(sum[:])); err != nil {
			return restoreResult{}, err
		}
	}
	open := exam.EscrowOpener(escrows)
	var after, head uint64
	for {
		page, err := up.FetchLog(ctx, after, cfg.PageEntries)
		if err != nil {
			return restoreResult{}, fmt.Errorf("appliance restore: %w", err)
		}
		head = page.Head
		if len(page.Entries) == 0 {
			break
		}
		if after, err = store.Restore(ctx, page.Entries, open); err != nil {
			return restoreResult{}, fmt.Errorf("appliance restore: central's copy of the log: %s", veedel.ErrorMessage(err))
		}
		cfg.Logger.Debug("restored", "site", cfg.Site, "through", after, "of", head)
		if after >= head {
			break
		}
	}
	switch {
	case head == 0:
		return restoreResult{}, fmt.Errorf("appliance restore: central holds no log of site %s: nothing to restore (start the appliance as a new site)", cfg.Site)
	case after != head:
		return restoreResult{}, fmt.Errorf("appliance restore: central's copy ended at seq %d, its head is %d", after, head)
	}
	if ids, err := exam.Unopened(ctx, store.Read()); err != nil {
		return restoreResult{}, err
	} else if len(ids) > 0 {
		return restoreResult{}, fmt.Errorf("appliance restore: %d exam data keys (first %s) open with none of the escrow keys given: give the health office's escrow private key with -exam-escrow-key (nothing was restored)", len(ids), ids[0])
	}
	if err := store.SetAckedSeq(ctx, head); err != nil {
		return restoreResult{}, err
	}
	var res restoreResult
	res.Entries = head
	pub, err := exam.EscrowInForce(ctx, store.Read())
	if err != nil {
		return restoreResult{}, err
	}
	if pub != nil {
		if err := exam.UseEscrow(ctx, store.Writer(), pub); err != nil {
			return restoreResult{}, err
		}
		env := store.Env()
		events, err := store.ExecuteTx(ctx, func(_ *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
			return exam.Rewrap(ctx, q, env, at)
		})
		if err != nil {
			return restoreResult{}, fmt.Errorf("appliance restore: wrap the exam keys to this appliance: %w", err)
		}
		res.Rewraps = len(events)
	}
	recs, err := exam.Records(ctx, store.Read())
	if err != nil {
		return restoreResult{}, err
	}
	res.Exams = len(recs)
	store.View(func(st *queue.State) { res.Tickets = len(st.Tickets) })
	return res, nil
}
