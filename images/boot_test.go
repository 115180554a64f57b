// Package images holds the appliance image's build (build.sh) and its boot
// test: VEEDEL_IMAGE_TEST=1 boots the image that make image built in qemu
// (make image-test does both).
package images

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	centralsqlite "github.com/veedel/veedel/central/sqlite"
	"github.com/veedel/veedel/provision"
)

// OVMF, Debian's UEFI firmware for qemu (package ovmf).
const (
	ovmfCode = "/usr/share/OVMF/OVMF_CODE_4M.fd"
	ovmfVars = "/usr/share/OVMF/OVMF_VARS_4M.fd"
)

// TestImageBootsToHealthy flashes the built image for site kalk (as a
// technician would, into a file), boots it under qemu with UEFI and waits
// for the appliance's /healthz through a forwarded port. Then it checks
// what the first boot must have done: the provisioning partition wiped,
// and slot A's boot entry blessed (its "+3" boot counter removed) once the
// boot proved healthy.
func TestImageBootsToHealthy(t *testing.T) {
	if os.Getenv("VEEDEL_IMAGE_TEST") == "" {
		t.Skip("set VEEDEL_IMAGE_TEST=1 (make image-test) to boot the appliance image in qemu")
	}
	img := os.Getenv("VEEDEL_IMAGE")
	if img == "" {
		img = "../.cache/images/out/veedel.img"
	}
	for _, f := range []string{img, ovmfCode, ovmfVars} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%v (make image builds the image; apt-get install ovmf qemu-system-x86)", err)
		}
	}
	dir := t.TempDir()

	// Central on the host's loopback, which the guest reaches as 10.0.2.2
	// (qemu's user network), and a one-time token for kalk.
	bin := veedelBinary(t, dir)
	centralDir := filepath.Join(dir, "central")
	centralPort := freePort(t)
	central := exec.Command(bin, "central", "-data", centralDir, "-listen", fmt.Sprintf("127.0.0.1:%d", centralPort))
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
	waitHealthy(t, fmt.Sprintf("http://127.0.0.1:%d/healthz", centralPort), nil, &centralLog, time.Minute)
	out, err := exec.Command(bin, "central", "enroll", "-site", "kalk", "-data", centralDir).Output()
	if err != nil {
		t.Fatalf("central enroll: %v", err)
	}
	token := strings.TrimSpace(string(out))

	disk := filepath.Join(dir, "disk.img")
	flash(t, img, disk, &provision.Record{Site: "kalk", HealthTimeout: provision.Duration(3 * time.Minute),
		CentralURL: fmt.Sprintf("http://10.0.2.2:%d", centralPort), EnrollToken: token, AdminPassword: "vier Wörter im Satz hier"})
	vars := filepath.Join(dir, "vars.fd")
	copyFile(t, ovmfVars, vars)

	port := freePort(t)
	serial := filepath.Join(dir, "serial.log")
	// Software emulation unless told otherwise: /dev/kvm may exist and
	// still hang (nested virtualization), and CI must not depend on it.
	accel := os.Getenv("VEEDEL_QEMU_ACCEL")
	if accel == "" {
		accel = "tcg"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	qemu := exec.CommandContext(ctx, "qemu-system-x86_64",
		"-machine", "q35,accel="+accel, "-m", "1024", "-smp", "2",
		"-drive", "if=pflash,format=raw,readonly=on,file="+ovmfCode,
		"-drive", "if=pflash,format=raw,file="+vars,
		"-drive", "file="+disk+",format=raw,if=virtio",
		"-netdev", fmt.Sprintf("user,id=n0,hostfwd=tcp:127.0.0.1:%d-:8081", port),
		"-device", "virtio-net-pci,netdev=n0",
		"-serial", "file:"+serial, "-display", "none", "-monitor", "none", "-no-reboot")
	var qerr bytes.Buffer
	qemu.Stderr = &qerr
	start := time.Now()
	if err := qemu.Start(); err != nil {
		t.Fatalf("qemu: %v (apt-get install qemu-system-x86)", err)
	}
	// exited is closed when qemu has ended; qerr then holds its stderr.
	exited := make(chan struct{})
	go func() { qemu.Wait(); close(exited) }()
	defer func() {
		qemu.Process.Kill()
		<-exited
		if t.Failed() {
			b, _ := os.ReadFile(serial)
			t.Logf("serial console (last 6000 bytes):\n%s", tail(b, 6000))
		}
	}()

	url := fmt.Sprintf("http://127.0.0.1:%d/healthz", port)
	healthy := waitHealthy(t, url, exited, &qerr, 12*time.Minute)
	t.Logf("accel %s: boot to healthy in %s", accel, healthy.Sub(start).Round(100*time.Millisecond))
	fmt.Fprintf(os.Stderr, "image-test: accel=%s boot-to-healthy=%s\n", accel, healthy.Sub(start).Round(100*time.Millisecond))

	// The appliance enrolls its key at central with the token.
	if strings.Contains(readString(serial), "[FAILED]") {
		t.Errorf("a unit failed to start at boot (serial console: [FAILED])")
	}
	deadline := time.Now().Add(3 * time.Minute)
	for !enrolled(t, filepath.Join(centralDir, "central.db"), "kalk") {
		if time.Now().After(deadline) {
			t.Fatal("the appliance did not enroll at central")
		}
		time.Sleep(2 * time.Second)
	}
	t.Logf("enrolled at central %s after the boot began", time.Since(start).Round(100*time.Millisecond))

	// The boot is blessed once veedel-health.service has passed: wait for
	// the serial console to say so, then stop the machine.
	deadline = time.Now().Add(2 * time.Minute)
	blessed := regexp.MustCompile(`Finished.*(systemd-bless-boot|Boot Loader Entry as Good)`)
	for !blessed.MatchString(readString(serial)) && time.Now().Before(deadline) {
		time.Sleep(time.Second)
	}
	// The rename on the ESP and the token's deletion reach the disk (ext4
	// commits its journal every 5 s).
	time.Sleep(10 * time.Second)
	qemu.Process.Kill()
	<-exited

	f, err := os.Open(disk)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parts, err := provision.ReadGPT(f)
	if err != nil {
		t.Fatal(err)
	}
	prov, err := provision.Find(parts, "provision")
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, prov.Size)
	if _, err := f.ReadAt(b, prov.Offset); err != nil {
		t.Fatal(err)
	}
	if _, err := provision.Decode(b); err != provision.ErrNone {
		t.Errorf("after the first boot the provisioning partition still holds a record (err %v): it must be wiped", err)
	}
	esp, err := provision.Find(parts, "esp")
	if err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command("mdir", "-b", "-i", fmt.Sprintf("%s@@%d", disk, esp.Offset), "::/loader/entries").CombinedOutput()
	if err != nil {
		t.Fatalf("mdir: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "veedel-a.conf") || strings.Contains(string(out), "+") {
		t.Errorf("slot A's entry is not blessed after a healthy boot: %s", out)
	}

	// The data partition holds the site's database and the provisioning,
	// and no longer the enrollment token.
	data, err := provision.Find(parts, "data")
	if err != nil {
		t.Fatal(err)
	}
	part := filepath.Join(dir, "data.part")
	pf, err := os.Create(part)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(pf, io.NewSectionReader(f, data.Offset, data.Size)); err != nil {
		t.Fatal(err)
	}
	pf.Close()
	// Killing qemu cut the power: e2fsck replays the journal as the next
	// boot would, and must find nothing worse to fix (exit 0 or 1).
	fsck := exec.Command("e2fsck", "-fy", part)
	if out, err := fsck.CombinedOutput(); err != nil && fsck.ProcessState.ExitCode() > 1 {
		t.Fatalf("e2fsck of the data partition after the power cut: %v: %s", err, out)
	}
	out, err = exec.Command("debugfs", "-R", "ls -p /", part).CombinedOutput()
	if err != nil {
		t.Fatalf("debugfs: %v: %s", err, out)
	}
	listing := string(out)
	for _, want := range []string{"/kalk.db/", "/provision.json/", "/kalk.key/"} {
		if !strings.Contains(listing, want) {
			t.Errorf("data partition lacks %s:\n%s", strings.Trim(want, "/"), listing)
		}
	}
	if strings.Contains(listing, "/enroll-token/") {
		t.Errorf("the enrollment token is still on the data partition after the enrollment:\n%s", listing)
	}
	if strings.Contains(listing, "/admin-password/") {
		t.Errorf("the admin password is still on the data partition after the appliance set it:\n%s", listing)
	}
}

// veedelBinary is the binary make image built (VEEDEL_BIN), else one built
// now.
func veedelBinary(t *testing.T, dir string) string {
	t.Helper()
	if b := os.Getenv("VEEDEL_BIN"); b != "" {
		return b
	}
	b := filepath.Join(dir, "veedel")
	if out, err := exec.Command("go", "build", "-o", b, "../cmd/veedel").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	return b
}

// enrolled says whether central's store has an active key for the site.
func enrolled(t *testing.T, db, site string) bool {
	t.Helper()
	st, err := centralsqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	keys, err := st.SiteKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.Site == site && k.Active() {
			return true
		}
	}
	return false
}

func flash(t *testing.T, img, disk string, rec *provision.Record) {
	t.Helper()
	src, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		t.Fatal(err)
	}
	dst, err := os.OpenFile(disk, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if err := provision.Flash(src, st.Size(), dst, false, rec); err != nil {
		t.Fatal(err)
	}
}

func waitHealthy(t *testing.T, url string, exited <-chan struct{}, qerr *bytes.Buffer, max time.Duration) time.Time {
	t.Helper()
	client := &http.Client{Timeout: 3 * time.Second}
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatalf("qemu exited before the appliance was healthy: %s", qerr.String())
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Logf("healthz: %s", bytes.TrimSpace(body))
				return time.Now()
			}
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("the appliance did not answer %s within %s", url, max)
	return time.Time{}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readString(name string) string {
	b, _ := os.ReadFile(name)
	return string(b)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
