package images

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/provision"
)

// TestImageUpdates shows the image's A/B updates in qemu against a real
// central on the host (10.0.2.2 from the guest), on one box in turn:
//
//  1. kill while the inactive slot is written: the rollout names release
//     B; once the agent has downloaded and verified it and slot B's first
//     bytes reach the disk, qemu is killed (a power cut). Slot A boots
//     again with every ticket issued before.
//  2. A→B: the agent finds B staged (downloaded and verified before the
//     cut), writes slot B again, reboots; B proves itself (service up, store open, a
//     sync round), its boot is marked good, and central's fleet view
//     (GET /api/v1/devices) shows release B healthy. The tickets are there.
//  3. rollback: release C's appliance does not start (its store "does not
//     open": a unit drop-in fails it, the build is otherwise B's). The
//     agent installs C into the other slot and reboots; C does not prove
//     itself within the health timeout, its agent records why, marks its
//     entry bad and reboots; B boots again and central shows "rolled-back"
//     with the reason.
//
// A bundle with a flipped byte or an unknown key is refused before
// anything is written: shown by update/agent's
// TestBadBundlesRefusedBeforeWriting and update/slot's
// TestApplyRefusesBeforeWriting (on files and loopback HTTP), not here.
//
// Needs VEEDEL_IMAGE (built with RELEASE_PUB = VEEDEL_RELEASE_KEY's .pub),
// VEEDEL_ROOTFS (its rootfs.squashfs), VEEDEL_RELEASE_KEY and root (the
// test bundles are the image's root file system with another veedel
// binary: unsquashfs, mksquashfs). make image-test sets them.
func TestImageUpdates(t *testing.T) {
	if os.Getenv("VEEDEL_IMAGE_TEST") == "" {
		t.Skip("set VEEDEL_IMAGE_TEST=1 (make image-test) to update the appliance image in qemu")
	}
	img, rootfs, key := os.Getenv("VEEDEL_IMAGE"), os.Getenv("VEEDEL_ROOTFS"), os.Getenv("VEEDEL_RELEASE_KEY")
	for _, f := range []string{img, rootfs, key, ovmfCode, ovmfVars} {
		if _, err := os.Stat(f); err != nil || f == "" {
			t.Fatalf("%q: %v (make image-test sets VEEDEL_IMAGE, VEEDEL_ROOTFS and VEEDEL_RELEASE_KEY)", f, err)
		}
	}
	dir := t.TempDir()
	bin := veedelBinary(t, dir)
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	versionA := strings.TrimSpace(strings.TrimPrefix(string(out), "veedel "))
	versionB, versionC := versionA+"-b", versionA+"-c"

	// Central with a releases folder and an admin login for the API.
	releases := filepath.Join(dir, "releases")
	os.MkdirAll(releases, 0o755)
	centralDir := filepath.Join(dir, "central")
	centralPort := freePort(t)
	centralURL := fmt.Sprintf("http://127.0.0.1:%d", centralPort)
	central := exec.Command(bin, "central", "-data", centralDir, "-listen", fmt.Sprintf("127.0.0.1:%d", centralPort), "-releases", releases)
	var centralLog bytes.Buffer
	central.Stdout, central.Stderr = &centralLog, &centralLog
	if err := central.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		central.Process.Kill()
		central.Wait()
		if t.Failed() {
			t.Logf("central:\n%s", tail(centralLog.Bytes(), 3000))
		}
	}()
	waitHealthy(t, centralURL+"/healthz", nil, &centralLog, time.Minute)
	out, err = exec.Command(bin, "central", "enroll", "-site", "kalk", "-data", centralDir).Output()
	if err != nil {
		t.Fatalf("central enroll: %v", err)
	}
	token := strings.TrimSpace(string(out))
	adduser := exec.Command(bin, "central", "adduser", "-name", "anna", "-data", centralDir)
	adduser.Env = append(os.Environ(), "VEEDEL_PASSWORD=geheim-update-test")
	if out, err := adduser.CombinedOutput(); err != nil {
		t.Fatalf("central adduser: %v: %s", err, out)
	}
	api := &fleetAPI{t: t, url: centralURL, user: "anna", password: "geheim-update-test"}

	// The bundles B and C: the image's root file system with a veedel of
	// another version (C's appliance fails at start), signed with the
	// test release key the image trusts.
	bundles := make(chan error, 1)
	go func() {
		for _, r := range []struct {
			version string
			broken  bool
		}{{versionB, false}, {versionC, true}} {
			if err := makeBundle(dir, rootfs, bin, key, releases, r.version, r.broken); err != nil {
				bundles <- fmt.Errorf("bundle %s: %w", r.version, err)
				return
			}
		}
		bundles <- nil
	}()

	disk := filepath.Join(dir, "disk.img")
	health := 4 * time.Minute
	flash(t, img, disk, &provision.Record{Site: "kalk", HealthTimeout: provision.Duration(health),
		CentralURL: fmt.Sprintf("http://10.0.2.2:%d", centralPort), EnrollToken: token,
		AdminPassword: "vier Wörter im Satz hier", UpdateSwitchAnytime: true, UpdatePoll: provision.Duration(10 * time.Second)})
	vm := newVM(t, dir, disk)
	defer vm.stop()

	start := time.Now()
	vm.start()
	vm.waitVersion(versionA, 15*time.Minute)
	figure(t, "boot A to healthy", time.Since(start))
	tickets := vm.issue(5)
	if err := <-bundles; err != nil {
		t.Fatal(err)
	}

	// 1. Power cut while slot B is written.
	api.plan(versionB, false)
	planned := time.Now()
	parts := vm.partitions()
	rootB := parts["root-b"]
	for {
		if time.Since(planned) > 20*time.Minute {
			t.Fatal("slot B was not written within 20 minutes of the plan")
		}
		if vm.exitedNow() {
			t.Fatalf("qemu ended before slot B was written: %s", vm.qerr.String())
		}
		b := make([]byte, 4)
		if f, err := os.Open(disk); err == nil {
			f.ReadAt(b, rootB)
			f.Close()
		}
		if string(b) == "hsqs" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	vm.kill()
	figure(t, "plan B to slot B's first bytes on disk (download, verify, start of write)", time.Since(planned))
	if r := api.report("kalk"); r.State != "switching" {
		t.Logf("central's last report before the cut: %+v", r)
	}
	if ents := vm.entries(); strings.Contains(ents, "veedel-b") {
		t.Fatalf("slot B already has a boot entry when qemu was killed (the cut came after the write): %s", ents)
	}
	// Slot A boots; its tickets are counted at once (the agent takes the
	// staged bundle up again, but writing the slot takes it a minute).
	start = time.Now()
	vm.start()
	vm.waitVersion(versionA, 15*time.Minute)
	figure(t, "boot A after the power cut to healthy", time.Since(start))
	vm.checkTickets(tickets)
	t.Logf("after the power cut slot A booted with all %d tickets", len(tickets))

	// 2. A→B: the agent installs the staged bundle again and reboots.
	planned = start
	var switching time.Time
	deadline := time.Now().Add(25 * time.Minute)
	for {
		r := api.report("kalk")
		if switching.IsZero() && (r.State == "switching" || r.Version == versionB) {
			switching = time.Now()
			figure(t, "restart after the cut to switching", switching.Sub(planned))
		}
		if r.Version == versionB && r.State == "healthy" {
			t.Logf("central's fleet view: %+v", r)
			break
		}
		if r.State == "failed" || r.State == "rolled-back" {
			t.Fatalf("update to B: %+v", r)
		}
		if time.Now().After(deadline) || vm.exitedNow() {
			t.Fatalf("release B not healthy at central within 25 minutes (last report %+v)", r)
		}
		time.Sleep(2 * time.Second)
	}
	figure(t, "switching to B proved healthy (write, reboot, boot, proof)", time.Since(switching))
	figure(t, "restart after the cut to B healthy at central", time.Since(planned))
	vm.checkTickets(tickets)
	more := vm.issue(2)

	// 3. C fails its proof and rolls back to B.
	api.plan(versionC, false)
	planned = time.Now()
	var cBooted time.Time
	deadline = time.Now().Add(35 * time.Minute)
	for {
		r := api.report("kalk")
		if cBooted.IsZero() && r.State == "switching" && r.Target == versionC {
			cBooted = time.Now()
			figure(t, "plan C to switching (download + verify)", cBooted.Sub(planned))
		}
		if r.Version == versionB && r.State == "rolled-back" {
			t.Logf("central's fleet view: %+v", r)
			if r.Target != versionC || !strings.Contains(r.Reason, "did not prove itself") {
				t.Errorf("the rollback's report lacks the release or the reason: %+v", r)
			}
			break
		}
		if r.Version == versionC && r.State == "healthy" {
			t.Fatalf("the broken release C proved itself: %+v", r)
		}
		if time.Now().After(deadline) || vm.exitedNow() {
			t.Fatalf("no rollback from C to B within 35 minutes (last report %+v)", r)
		}
		time.Sleep(2 * time.Second)
	}
	figure(t, "switching to C until B reports the rollback (write, reboot, C's boot, proof timeout "+health.String()+", B's boot)", time.Since(cBooted))
	vm.waitVersion(versionB, 5*time.Minute)
	vm.checkTickets(append(tickets, more...))
	serial := readString(vm.serial)
	for _, want := range []string{"did not prove itself"} {
		if !strings.Contains(serial, want) {
			t.Logf("serial console lacks %q", want)
		}
	}
	vm.kill()
	t.Logf("boot entries at the end: %s", vm.entries())
}

// figure logs a measured time for docs/IMAGES.md.
func figure(t *testing.T, what string, d time.Duration) {
	t.Helper()
	t.Logf("figure: %s: %s", what, d.Round(time.Second))
	fmt.Fprintf(os.Stderr, "image-test figure: %s: %s\n", what, d.Round(time.Second))
}

// makeBundle writes releases/VERSION.bundle: rootfs with a veedel built
// as VERSION (and, broken, an appliance unit that fails at start).
func makeBundle(dir, rootfs, bin, key, releases, version string, broken bool) error {
	tree := filepath.Join(dir, "tree-"+version)
	run := func(name string, args ...string) error {
		cmd := exec.Command(name, args...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", name, err, tail(out, 2000))
		}
		return nil
	}
	if err := run("unsquashfs", "-q", "-n", "-d", tree, rootfs); err != nil {
		return err
	}
	defer os.RemoveAll(tree)
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-X github.com/veedel/veedel.Version="+version+" -s -w", "-o", filepath.Join(tree, "usr", "bin", "veedel"), "../cmd/veedel")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v: %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(tree, "etc", "veedel-version"), []byte(version+"\n"), 0o644); err != nil {
		return err
	}
	if broken {
		d := filepath.Join(tree, "etc", "systemd", "system", "veedel.service.d")
		os.MkdirAll(d, 0o755)
		conf := "# A test release whose appliance does not start (as if its store did not open).\n[Service]\nExecStartPre=/bin/sh -c 'echo \"veedel: the store does not open (test release)\" >&2; exit 1'\n"
		if err := os.WriteFile(filepath.Join(d, "broken.conf"), []byte(conf), 0o644); err != nil {
			return err
		}
	}
	sq := filepath.Join(dir, version+".squashfs")
	if err := run("mksquashfs", tree, sq, "-noappend", "-no-progress", "-quiet", "-comp", "zstd", "-Xcompression-level", "3", "-b", "1M"); err != nil {
		return err
	}
	defer os.Remove(sq)
	return run(bin, "release", "sign", "-key", key, "-version", version, "-rootfs", sq, "-out", filepath.Join(releases, version+".bundle"))
}

// fleetAPI is central's admin JSON API: the rollout and the fleet view.
type fleetAPI struct {
	t                   *testing.T
	url, user, password string
}

type updateReport struct {
	Site, Version, Slot, State, Target, Reason string
	Progress                                   int
}

func (a *fleetAPI) do(method, path string, body any, into any) {
	a.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.url+path, r)
	req.SetBasicAuth(a.user, a.password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		a.t.Fatalf("%s %s: %s: %s", method, path, resp.Status, b)
	}
	if into != nil {
		if err := json.Unmarshal(b, into); err != nil {
			a.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// plan sets the rollout: version for all sites (paused or not).
func (a *fleetAPI) plan(version string, paused bool) {
	a.t.Helper()
	var st struct {
		Plan struct {
			Revision int64 `json:"revision"`
		} `json:"plan"`
	}
	a.do(http.MethodGet, "/api/v1/rollout", nil, &st)
	a.do(http.MethodPut, "/api/v1/rollout", map[string]any{"revision": st.Plan.Revision, "version": version, "stage": "all", "paused": paused}, nil)
	a.t.Logf("rollout: %s for all sites, paused %v", version, paused)
}

// report is the site's update state in central's fleet view.
func (a *fleetAPI) report(site string) updateReport {
	a.t.Helper()
	var st struct {
		Rollout struct {
			Reports []updateReport `json:"reports"`
		} `json:"rollout"`
	}
	a.do(http.MethodGet, "/api/v1/devices", nil, &st)
	for _, r := range st.Rollout.Reports {
		if r.Site == site {
			return r
		}
	}
	return updateReport{}
}

// vm is the appliance under qemu: a disk and its UEFI variables kept
// across runs (a kill is a power cut), the serial console appended.
type vm struct {
	t          *testing.T
	disk, vars string
	serial     string
	port       int
	qemu       *exec.Cmd
	qerr       bytes.Buffer
	exited     chan struct{}
}

func newVM(t *testing.T, dir, disk string) *vm {
	v := &vm{t: t, disk: disk, vars: filepath.Join(dir, "vars.fd"), serial: filepath.Join(dir, "serial.log"), port: freePort(t)}
	copyFile(t, ovmfVars, v.vars)
	return v
}

func (v *vm) start() {
	v.t.Helper()
	accel := os.Getenv("VEEDEL_QEMU_ACCEL")
	if accel == "" {
		accel = "tcg"
	}
	// The serial console of every run, one after the other.
	log, err := os.OpenFile(v.serial, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		v.t.Fatal(err)
	}
	v.qemu = exec.Command("qemu-system-x86_64",
		"-machine", "q35,accel="+accel, "-m", "1024", "-smp", "2",
		"-drive", "if=pflash,format=raw,readonly=on,file="+ovmfCode,
		"-drive", "if=pflash,format=raw,file="+v.vars,
		"-drive", "file="+v.disk+",format=raw,if=virtio",
		"-netdev", fmt.Sprintf("user,id=n0,hostfwd=tcp:127.0.0.1:%d-:8081", v.port),
		"-device", "virtio-net-pci,netdev=n0",
		"-chardev", "file,id=s0,path=/dev/stdout", "-serial", "chardev:s0", "-display", "none", "-monitor", "none")
	v.qemu.Stdout = &stampWriter{w: log, start: time.Now(), bol: true}
	v.qerr.Reset()
	v.qemu.Stderr = &v.qerr
	if err := v.qemu.Start(); err != nil {
		v.t.Fatalf("qemu: %v", err)
	}
	v.exited = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { c.Wait(); log.Close(); close(done) }(v.qemu, v.exited)
}

func (v *vm) exitedNow() bool {
	select {
	case <-v.exited:
		return true
	default:
		return false
	}
}

// kill cuts the power.
func (v *vm) kill() {
	if v.qemu != nil && v.qemu.Process != nil {
		v.qemu.Process.Kill()
		<-v.exited
	}
}

func (v *vm) stop() {
	v.kill()
	if v.t.Failed() {
		b, _ := os.ReadFile(v.serial)
		v.t.Logf("serial console (last 8000 bytes):\n%s", tail(b, 8000))
	}
}

// waitVersion waits until the appliance answers /healthz as version.
func (v *vm) waitVersion(version string, max time.Duration) {
	v.t.Helper()
	client := &http.Client{Timeout: 3 * time.Second}
	deadline := time.Now().Add(max)
	last := ""
	for time.Now().Before(deadline) {
		if v.exitedNow() {
			v.t.Fatalf("qemu exited: %s", v.qerr.String())
		}
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", v.port))
		if err == nil {
			var h struct{ Version string }
			json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
			last = fmt.Sprintf("%s %s", resp.Status, h.Version)
			if resp.StatusCode == http.StatusOK && h.Version == version {
				return
			}
		}
		time.Sleep(time.Second)
	}
	v.t.Fatalf("the appliance did not answer /healthz as %s within %s (last: %s)", version, max, last)
}

// issue draws n tickets at the kiosk's API through the forwarded port and
// returns their tokens (each answered 201: committed).
func (v *vm) issue(n int) []string {
	v.t.Helper()
	var tokens []string
	for i := range n {
		req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/api/v1/tickets", v.port), strings.NewReader(`{"service":"ausweis"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("image-update-%d-%d", time.Now().UnixNano(), i))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			v.t.Fatal(err)
		}
		var tk struct{ Token string }
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &tk) != nil || tk.Token == "" {
			v.t.Fatalf("issue a ticket: %s: %s", resp.Status, b)
		}
		tokens = append(tokens, tk.Token)
	}
	return tokens
}

// checkTickets asks the appliance for each ticket by its token.
func (v *vm) checkTickets(tokens []string) {
	v.t.Helper()
	for _, tk := range tokens {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/v1/tickets/%s", v.port, tk))
		if err != nil {
			v.t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			v.t.Errorf("ticket %s…: %s after the boot", tk[:6], resp.Status)
		}
	}
}

// partitions are the disk's partitions' offsets by label.
func (v *vm) partitions() map[string]int64 {
	v.t.Helper()
	f, err := os.Open(v.disk)
	if err != nil {
		v.t.Fatal(err)
	}
	defer f.Close()
	parts, err := provision.ReadGPT(f)
	if err != nil {
		v.t.Fatal(err)
	}
	out := map[string]int64{}
	for _, l := range []string{"esp", "root-a", "root-b", "data"} {
		p, err := provision.Find(parts, l)
		if err != nil {
			v.t.Fatal(err)
		}
		out[l] = p.Offset
	}
	return out
}

// entries lists the ESP's boot entries (qemu stopped).
func (v *vm) entries() string {
	v.t.Helper()
	out, err := exec.Command("mdir", "-b", "-i", fmt.Sprintf("%s@@%d", v.disk, v.partitions()["esp"]), "::/loader/entries").CombinedOutput()
	if err != nil {
		v.t.Fatalf("mdir: %v: %s", err, out)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

// stampWriter prefixes each line of the serial console with the seconds
// since qemu started: where a software-emulated boot spends its time
// (firmware, kernel, initramfs, units, the appliance) without a shell in
// the guest.
type stampWriter struct {
	w     io.Writer
	start time.Time
	bol   bool
}

func (s *stampWriter) Write(p []byte) (int, error) {
	var b bytes.Buffer
	for _, c := range p {
		if s.bol {
			fmt.Fprintf(&b, "[%7.1f] ", time.Since(s.start).Seconds())
			s.bol = false
		}
		b.WriteByte(c)
		if c == '\n' {
			s.bol = true
		}
	}
	if _, err := s.w.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}
