// Command veedel is Veedel's one binary: the site appliance, the central
// node, and a demo that runs central with two sites on one machine.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // appliances may lack /usr/share/zoneinfo; Europe/Berlin must always load

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/ui"
)

const usage = `Usage: veedel <command> [flags]

Commands:
  appliance   run a site's appliance (kiosk, desk, call display, API, sync);
              "appliance restore" rebuilds a lost site from central's copy
  central     run the central node (citizen portal, sync ingest, API);
              "central site" keeps the directory of sites,
              "central enroll" / "central revoke" manage their keys,
              "central adduser" creates an admin login
  demo        run central and every kind of site (customer centres, the registration and school-health offices) on this machine
  exam        escrow-keygen: the health office's escrow key of the school-entry exams
  flash       write the appliance image and a site's provisioning to a disk
  provision   (on the appliance, at boot) take over the provisioning
  health      (on the appliance, at boot) wait for the appliance's /healthz
  load        load a running site: kiosks, counters and readers at once
  release     the city's signed update bundles: keygen, sign, verify
  update-agent  (on the appliance) download, install and prove the rollout's release
  version     print the version

Run "veedel <command> -help" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes a command and returns the process exit code: 0 on success,
// 2 for bad usage (with one line saying what is wrong), 1 for other errors.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "veedel: no command given (want appliance, central, demo, exam, flash, load, release or version; veedel -help says more)")
		return 2
	}
	var err error
	switch args[0] {
	case "appliance":
		tuneGC()
		err = runAppliance(ctx, args[1:], stdout, stderr)
	case "central":
		tuneGC()
		err = runCentral(ctx, args[1:], stdout, stderr)
	case "demo":
		tuneGC()
		err = runDemo(ctx, args[1:], stdout, stderr)
	case "load":
		err = runLoad(ctx, args[1:], stdout, stderr)
	case "exam":
		err = runExam(args[1:], stdout, stderr)
	case "release":
		err = runRelease(ctx, args[1:], stdout, stderr)
	case "flash":
		err = runFlash(ctx, args[1:], stdout, stderr)
	case "provision":
		err = runProvision(ctx, args[1:], stdout, stderr)
	case "health":
		err = runHealth(ctx, args[1:], stdout, stderr)
	case "update-agent":
		err = runUpdateAgent(ctx, args[1:], stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "veedel", veedel.Version)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "veedel: unknown command %q (want appliance, central, demo, exam, flash, load, release or version)\n", args[0])
		return 2
	}
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, "veedel:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "veedel:", err)
		return 1
	}
}

// usageErrorf is an error in how veedel was called: exit code 2. Its text
// is the line the operator reads ("veedel: central enroll: -site is
// required"), with no "usage" label in front: a taken port or an unknown
// site is not a matter of syntax.
func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

type usageError struct{ err error }

func (e usageError) Error() string        { return e.err.Error() }
func (e usageError) Unwrap() error        { return e.err }
func (e usageError) Is(target error) bool { return target == errUsage }

// parseFlags parses flags, turning a flag error into a usage error of one
// line ("appliance: flag provided but not defined: -x"); the usage text is
// printed only when asked for with -help (then flag.ErrHelp is returned).
func parseFlags(fs *flag.FlagSet, args []string) error {
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return err
	case err != nil:
		return usageErrorf("%s: %v (see veedel %s -help)", fs.Name(), err, fs.Name())
	case fs.NArg() > 0:
		return usageErrorf("%s: unexpected argument %q (see veedel %s -help)", fs.Name(), fs.Arg(0), fs.Name())
	}
	return nil
}

func newLogger(w io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// brandFlag adds -brand (the city's name, logo and colours) to fs; its
// load reads the file after parsing, a bad file being a usage error.
func brandFlag(fs *flag.FlagSet) func() (*ui.Brand, error) {
	file := fs.String("brand", os.Getenv("VEEDEL_BRAND"), "JSON file with the city's name per language, logo (SVG or PNG) and two colours (or set VEEDEL_BRAND; default: Cologne's; docs/DEPLOY.md)")
	return func() (*ui.Brand, error) {
		if *file == "" {
			return nil, nil
		}
		b, err := ui.LoadBrand(*file)
		if err != nil {
			return nil, usageErrorf("-brand: %s", veedel.ErrorMessage(err))
		}
		return b, nil
	}
}
