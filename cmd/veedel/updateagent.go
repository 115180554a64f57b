package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/sitekey"
	"github.com/veedel/veedel/update"
	"github.com/veedel/veedel/update/agent"
	"github.com/veedel/veedel/update/slot"
)

// veedel update-agent: the appliance's update agent (package update/agent),
// run as root beside the appliance's service (the appliance itself may
// write neither the root slots nor the ESP).

func runUpdateAgent(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("update-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "/var/lib/veedel", "the data partition: the site key, and the update folder for the state and the download")
	site := fs.String("site", "", "the site's ID (required)")
	central := fs.String("central", "", "central's URL (required)")
	var pubs stringList
	fs.Var(&pubs, "release-pub", "a trusted public release key file (repeat for two keys during a rotation; at least one, or -release-keys)")
	keysDir := fs.String("release-keys", "", "a folder of trusted public release keys (*.pub; the image's /etc/veedel/release-keys), besides -release-pub")
	anytime := fs.Bool("switch-anytime", false, "switch to a staged release at once instead of in the site's closing hours (a lab or test box: veedel flash -update-switch-anytime)")
	esp := fs.String("esp", "/efi", "the mounted EFI system partition")
	cmdline := fs.String("cmdline", "/proc/cmdline", "the kernel command line (names the booted slot)")
	reboot := fs.String("reboot-command", "systemctl reboot", "the command that reboots the box")
	proveURL := fs.String("prove-url", "http://127.0.0.1:8081/healthz", "the appliance's health URL the new release must answer")
	proveWithin := fs.Duration("prove-within", 10*time.Minute, "how long a new release has after boot to prove itself (service up, store open, a sync round)")
	poll := fs.Duration("poll", 5*time.Minute, "how often to ask central")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: veedel update-agent -site ID -central URL -release-pub FILE [flags]

The appliance's update agent (as root). It polls central's update channel,
signed with the site's key, downloads the release the rollout gives the site
(resumably), verifies it (trusted release key, hashes, minimum version) before
anything is written, installs it into the inactive root slot in the site's
closing hours and reboots. After the boot the new release must prove itself
within -prove-within, else the boot loader falls back to the old slot, which
reports "rolled back" with the reason to central.

`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *keysDir != "" {
		names, err := filepath.Glob(filepath.Join(*keysDir, "*.pub"))
		if err != nil || len(names) == 0 {
			return usageErrorf("update-agent: -release-keys %s: no *.pub files", *keysDir)
		}
		pubs = append(pubs, names...)
	}
	if *site == "" || *central == "" || len(pubs) == 0 {
		return usageErrorf("update-agent: -site, -central and -release-pub (or -release-keys) are required")
	}
	var trusted []ed25519.PublicKey
	for _, p := range pubs {
		pub, err := update.ReadPublicKey(p)
		if err != nil {
			return usageErrorf("update-agent: -release-pub: %v", err)
		}
		trusted = append(trusted, pub)
	}
	if *proveWithin <= 0 || *poll <= 0 {
		return usageErrorf("update-agent: -prove-within and -poll must be positive")
	}
	key, err := sitekey.Load(filepath.Join(*data, *site+".key"))
	if err != nil {
		return fmt.Errorf("update-agent: the site key (the appliance creates it at its first start): %w", err)
	}
	cl, err := os.ReadFile(*cmdline)
	if err != nil {
		return err
	}
	current, err := slot.Current(cl)
	if err != nil {
		return err
	}
	e := slot.ESP{Dir: *esp}
	target := slot.Target{ESP: e, Current: current,
		Device:   func(s string) string { return "/dev/disk/by-partlabel/root-" + s },
		PartUUID: partUUID,
		Options:  slot.KernelOptions(cl),
		Kernel:   squashfsKernel,
	}
	closed := siteClosed(*site)
	if *anytime {
		closed = func(time.Time) bool { return true }
	}
	// The proof's sync round counts from the boot (the appliance may have
	// synced before the agent started).
	since := bootTime()
	if since.IsZero() {
		since = time.Now()
	}
	a := &agent.Agent{Site: *site, CentralURL: strings.TrimRight(*central, "/"), Dir: filepath.Join(*data, "update"),
		Trusted: trusted, Version: veedel.Version, Slot: current, Poll: *poll, ProveWithin: *proveWithin,
		Authorize: func(r *http.Request) error { changelog.SignRequest(r, *site, key, time.Now()); return nil },
		Install: func(bundle string) (update.Manifest, error) {
			m, _, err := target.Apply(bundle, trusted)
			return m, err
		},
		Closed: closed,
		Reboot: func(ctx context.Context) error {
			f := strings.Fields(*reboot)
			return exec.CommandContext(ctx, f[0], f[1:]...).Run()
		},
		Prove:    func(ctx context.Context) error { return proveHealthy(ctx, *proveURL, since) },
		Bless:    func() error { return e.Bless(current) },
		MarkBad:  func() error { return e.MarkBad(current) },
		FellBack: func() (string, bool, error) { en, ok, err := e.RolledBack(current); return en.Release, ok, err },
		DiskFree: func() int64 {
			var st syscall.Statfs_t
			if syscall.Statfs(*data, &st) != nil {
				return 0
			}
			return int64(st.Bavail) * st.Bsize
		},
		BootedAt: bootTime(),
	}
	fmt.Fprintf(stdout, "update-agent: site %s, release %s from slot %s\n", *site, veedel.Version, current)
	if err := a.Run(ctx); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// siteClosed is the site's opening hours from the catalogue: closed means
// not open now and not opening within the hour. A site the catalogue does
// not know switches between 1 and 5 at night, Cologne time.
func siteClosed(site string) func(time.Time) bool {
	seed, ok := appliance.Catalog[site]
	loc, err := time.LoadLocation(seed.Site.TimeZone)
	if !ok || err != nil || len(seed.Site.Hours) == 0 {
		cologne, err := time.LoadLocation("Europe/Berlin")
		if err != nil {
			cologne = time.UTC
		}
		return func(t time.Time) bool { h := t.In(cologne).Hour(); return h >= 1 && h < 5 }
	}
	st := queue.NewState(site)
	st.Site.Hours, st.Site.Location = seed.Site.Hours, loc
	return func(t time.Time) bool {
		h := st.HoursAt(t)
		return !h.Open && (h.NextOpen.IsZero() || h.NextOpen.Sub(t) > time.Hour)
	}
}

// proveHealthy: the appliance answers its health URL (it is up and its
// store opened), as this release, with a sync round with central since
// the agent started.
func proveHealthy(ctx context.Context, url string, since time.Time) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	var h struct {
		Version string `json:"version"`
		Sync    *struct {
			LastContact time.Time `json:"last_contact"`
			LastError   string    `json:"last_error"`
		} `json:"sync"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&h); err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	switch {
	case h.Version != veedel.Version:
		return fmt.Errorf("%s says release %s, not %s", url, h.Version, veedel.Version)
	case h.Sync == nil:
		return fmt.Errorf("%s: the appliance does not sync", url)
	case h.Sync.LastContact.Before(since):
		return fmt.Errorf("no sync round with central since the boot (last error: %q)", h.Sync.LastError)
	}
	return nil
}

// partUUID is a slot partition's PARTUUID, from /dev/disk/by-partuuid.
func partUUID(s string) string {
	want, err := filepath.EvalSymlinks("/dev/disk/by-partlabel/root-" + s)
	if err != nil {
		return ""
	}
	des, _ := os.ReadDir("/dev/disk/by-partuuid")
	for _, d := range des {
		if p, err := filepath.EvalSymlinks(filepath.Join("/dev/disk/by-partuuid", d.Name())); err == nil && p == want {
			return d.Name()
		}
	}
	return ""
}

// squashfsKernel mounts the slot just written read-only and opens its
// kernel and initramfs.
func squashfsKernel(dev string) (io.ReadCloser, io.ReadCloser, func(), error) {
	dir, err := os.MkdirTemp("", "veedel-slot-")
	if err != nil {
		return nil, nil, nil, err
	}
	if out, err := exec.Command("mount", "-t", "squashfs", "-o", "ro", dev, dir).CombinedOutput(); err != nil {
		os.Remove(dir)
		return nil, nil, nil, fmt.Errorf("mount %s: %v: %s", dev, err, out)
	}
	done := func() { exec.Command("umount", dir).Run(); os.Remove(dir) }
	k, err := os.Open(filepath.Join(dir, "boot", "vmlinuz"))
	if err != nil {
		done()
		return nil, nil, nil, err
	}
	i, err := os.Open(filepath.Join(dir, "boot", "initrd.img"))
	if err != nil {
		k.Close()
		done()
		return nil, nil, nil, err
	}
	return k, i, done, nil
}

// bootTime is when the box booted (/proc/stat's btime).
func bootTime() time.Time {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			var s int64
			fmt.Sscan(v, &s)
			return time.Unix(s, 0)
		}
	}
	return time.Time{}
}
