package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/provision"
	"github.com/veedel/veedel/update/agent"
)

// veedel flash (the technician's laptop), veedel provision and veedel
// health (the appliance's boot): see images/ and docs/IMAGES.md.

func runFlash(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("flash", flag.ContinueOnError)
	fs.SetOutput(stderr)
	image := fs.String("image", "", "the disk image from make image (required)")
	device := fs.String("device", "", "the whole disk to write, e.g. /dev/sdb: everything on it is lost")
	output := fs.String("output", "", "write a provisioned image file instead of a device (for tests and for virtual machines)")
	site := fs.String("site", "", "the site's ID, e.g. kalk (required)")
	central := fs.String("central", "", "central's URL, e.g. https://central.example (empty: no sync)")
	caFile := fs.String("ca", "", "PEM file of CA certificates to trust for central's HTTPS, besides the system's")
	token := fs.String("enroll-token", "", "one-time token from veedel central enroll (needs -central)")
	address := fs.String("address", "", "static LAN address with prefix, e.g. 10.20.30.40/24 (empty: DHCP)")
	gateway := fs.String("gateway", "", "the LAN's gateway with -address")
	dns := fs.String("dns", "", "DNS servers with -address, comma-separated")
	ntp := fs.String("ntp", "", "NTP servers, comma-separated (empty: DHCP's, else Debian's pool)")
	health := fs.Duration("health-timeout", provision.DefaultHealthTimeout, "how long a boot has to answer /healthz before it counts as failed")
	anytime := fs.Bool("update-switch-anytime", false, "let the update agent switch to a new release at once, not only in the site's closing hours (lab and test boxes)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: veedel flash -image veedel.img (-device /dev/sdX | -output FILE) -site ID [-central URL -enroll-token T [-ca FILE]] [network flags]

Writes the appliance image to a disk (or a new image file) and the site's
provisioning into its provisioning partition: site, central's URL and CA,
the enrollment token and the network. On first boot the appliance takes it
over onto its data partition, wipes the partition, enrolls with the token
and then deletes it. Set VEEDEL_ADMIN_PASSWORD to give the site lead's login
"admin" its first password (the box deletes it once set). The device must
not be mounted.

`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *image == "" {
		return usageErrorf("flash: -image is required")
	}
	if (*device == "") == (*output == "") {
		return usageErrorf("flash: give either -device or -output")
	}
	rec := &provision.Record{Site: *site, CentralURL: strings.TrimRight(*central, "/"), EnrollToken: strings.TrimSpace(*token),
		HealthTimeout: provision.Duration(*health), UpdateSwitchAnytime: *anytime,
		Network: provision.Network{Address: *address, Gateway: *gateway, DNS: splitList(*dns), NTP: splitList(*ntp)}}
	if *caFile != "" {
		b, err := os.ReadFile(*caFile)
		if err != nil {
			return usageErrorf("flash: -ca: %v", err)
		}
		rec.CentralCA = string(b)
	}
	// Like veedel appliance: never on the command line (shell history, ps).
	rec.AdminPassword = os.Getenv("VEEDEL_ADMIN_PASSWORD")
	if rec.Site == "" {
		return usageErrorf("flash: -site is required")
	}
	if err := rec.Validate(); err != nil {
		return usageErrorf("flash: %v", err)
	}
	img, err := os.Open(*image)
	if err != nil {
		return usageErrorf("flash: -image: %v", err)
	}
	defer img.Close()
	st, err := img.Stat()
	if err != nil {
		return err
	}
	if _, err := provision.ReadGPT(img); err != nil {
		return usageErrorf("flash: -image %s: %v", *image, err)
	}
	var dst *os.File
	if *device != "" {
		dst, err = openDevice(*device)
	} else {
		// A new file only: never overwrite an image or a disk by mistake.
		dst, err = os.OpenFile(*output, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			return usageErrorf("flash: -output %s exists; remove it first", *output)
		}
	}
	if err != nil {
		return err
	}
	start := time.Now()
	if err := provision.Flash(img, st.Size(), dst, *device != "", rec); err != nil {
		dst.Close()
		if *output != "" {
			os.Remove(*output)
		}
		return fmt.Errorf("flash: %v", err)
	}
	if err := dst.Close(); err != nil {
		return err
	}
	target := *device + *output
	fmt.Fprintf(stdout, "flashed %s for site %s in %s\n", target, rec.Site, time.Since(start).Round(100*time.Millisecond))
	return nil
}

// openDevice opens a block device for writing, exclusively: Linux refuses
// O_EXCL on a block device that is mounted or otherwise in use.
func openDevice(name string) (*os.File, error) {
	st, err := os.Stat(name)
	if err != nil {
		return nil, usageErrorf("flash: -device: %v", err)
	}
	if st.Mode()&os.ModeDevice == 0 || st.Mode()&os.ModeCharDevice != 0 {
		return nil, usageErrorf("flash: -device %s is not a block device (use -output for a file)", name)
	}
	f, err := os.OpenFile(name, os.O_RDWR|os.O_EXCL, 0)
	if err != nil {
		return nil, usageErrorf("flash: -device %s: %v (is it mounted?)", name, err)
	}
	return f, nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func runProvision(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("provision", flag.ContinueOnError)
	fs.SetOutput(stderr)
	device := fs.String("device", "/dev/disk/by-partlabel/provision", "the provisioning partition")
	data := fs.String("data", "/var/lib/veedel", "the appliance's data directory (the data partition)")
	run := fs.String("run", "/run", "where the boot's settings go (veedel/appliance.env, systemd/network)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: veedel provision [-device PART] [-data DIR] [-run DIR]

Runs on the appliance at every boot (veedel-provision.service): takes over a
provisioning record that veedel flash wrote to the provisioning partition
onto the data partition and wipes the partition; then writes the boot's
settings (the appliance's environment, a static network, NTP servers) from
the record kept on the data partition. A box never provisioned gets none.

`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rec, err := provision.TakeOver(*device, *data)
	switch {
	case err == nil:
		fmt.Fprintf(stdout, "provision: took over the provisioning for site %s and wiped %s\n", rec.Site, *device)
	case errors.Is(err, provision.ErrNone), errors.Is(err, os.ErrNotExist):
	default:
		return fmt.Errorf("provision: %v", err)
	}
	rec, err = provision.Load(*data)
	if errors.Is(err, provision.ErrNone) {
		fmt.Fprintln(stdout, "provision: this box is not provisioned (veedel flash -site ...)")
		return nil
	}
	if err != nil {
		return fmt.Errorf("provision: %v", err)
	}
	if err := provision.Configure(rec, *data, *run); err != nil {
		return fmt.Errorf("provision: %v", err)
	}
	return nil
}

func runHealth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://127.0.0.1:8081/healthz", "the appliance's health URL")
	timeout := fs.Duration("timeout", provision.DefaultHealthTimeout, "how long to wait for a healthy answer")
	updateDir := fs.String("update-dir", "", "the update agent's folder (/var/lib/veedel/update): a release the agent switched to is healthy only once the agent's proof passed")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: veedel health [-url URL] [-timeout D] [-update-dir DIR]

Waits until the appliance answers its health URL with 200 OK: exit 0, or 1
after the timeout. The boot's health check (veedel-health.service): only a
healthy boot is marked good, else boot counting falls back to the other slot.
With -update-dir, the first boot of a release the update agent switched to
waits instead for the agent's proof (service up, store open, a sync round
since the boot): exit 0 once the agent marked it healthy, 1 when the agent
found it failed or after the timeout and 2 minutes more (the agent decides
first and records why).

`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *timeout <= 0 {
		return usageErrorf("health: -timeout must be positive, e.g. 5m")
	}
	if *updateDir != "" {
		st, err := agent.ReadState(*updateDir)
		if err != nil {
			// An unreadable state: the agent starts idle from it too.
			fmt.Fprintf(stderr, "health: the update state: %v\n", err)
		} else if st.AwaitsProof(veedel.Version) {
			return awaitProof(ctx, *updateDir, *timeout+proofMargin, stdout)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second}
	var last string
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
		if err != nil {
			return usageErrorf("health: -url: %v", err)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				fmt.Fprintf(stdout, "health: %s answers 200 OK\n", *url)
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("health: %s not healthy within %s (last: %s)", *url, *timeout, last)
		case <-time.After(time.Second):
		}
	}
}

// proofMargin is how much longer the health check waits for the update
// agent's proof than the agent itself takes (-prove-within is the same
// timeout): the agent decides first, records the reason and marks the
// entry bad; the health check's failure is only the backstop.
const proofMargin = 2 * time.Minute

// awaitProof waits for the update agent's verdict on this release.
func awaitProof(ctx context.Context, dir string, within time.Duration, stdout io.Writer) error {
	fmt.Fprintf(stdout, "health: release %s was switched to: waiting for the update agent's proof\n", veedel.Version)
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		st, err := agent.ReadState(dir)
		switch {
		case err != nil:
		case st.State == agent.Healthy && st.Target == veedel.Version:
			fmt.Fprintf(stdout, "health: the update agent proved release %s\n", veedel.Version)
			return nil
		case st.AwaitsProof(veedel.Version) && st.Reason != "":
			return fmt.Errorf("health: %s", st.Reason)
		case !st.AwaitsProof(veedel.Version):
			return fmt.Errorf("health: the update agent's state is %s, not healthy for release %s", st.State, veedel.Version)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("health: the update agent did not prove release %s within %s", veedel.Version, within)
		case <-time.After(time.Second):
		}
	}
}
