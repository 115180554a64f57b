package slot

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/update"
)

const uuidA, uuidB = "56454544-454c-4000-8000-00000000000a", "56454544-454c-4000-8000-00000000000b"

// disk is an appliance's disk in files: an ESP directory with slot A
// installed and blessed, and the two slots as files.
type disk struct {
	esp        ESP
	slotA      string
	slotB      string
	kernelSeen []byte
}

func newDisk(t *testing.T) *disk {
	t.Helper()
	dir := t.TempDir()
	d := &disk{esp: ESP{Dir: filepath.Join(dir, "esp")}, slotA: filepath.Join(dir, "root-a"), slotB: filepath.Join(dir, "root-b")}
	if err := os.MkdirAll(d.esp.entriesDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	// As images/build.sh writes it, after a healthy first boot blessed it.
	os.WriteFile(filepath.Join(d.esp.entriesDir(), "veedel-a.conf"), []byte("title Veedel 1.0 (slot A)\n#release 1.0\nsort-key veedel\nversion 1\nlinux /veedel/a/vmlinuz\n"), 0o644)
	os.WriteFile(d.slotA, bytes.Repeat([]byte("A"), 1<<16), 0o644)
	os.WriteFile(d.slotB, make([]byte, 1<<20), 0o644)
	return d
}

func (d *disk) target() Target {
	return Target{ESP: d.esp, Current: "a",
		Device: func(s string) string {
			if s == "a" {
				return d.slotA
			}
			return d.slotB
		},
		PartUUID: func(s string) string {
			if s == "a" {
				return uuidA
			}
			return uuidB
		},
		Options: "rootfstype=squashfs ro panic=10",
		Kernel: func(dev string) (io.ReadCloser, io.ReadCloser, func(), error) {
			b, err := os.ReadFile(dev)
			if err != nil {
				return nil, nil, nil, err
			}
			d.kernelSeen = b[:8]
			return io.NopCloser(strings.NewReader("kernel from " + string(b[:8]))), io.NopCloser(strings.NewReader("initrd")), func() {}, nil
		},
	}
}

func writeBundle(t *testing.T, key ed25519.PrivateKey, version string, image []byte) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), version+".bundle")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := update.Sign(f, key, version, "", bytes.NewReader(image), time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	return name
}

func newKey(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

func TestApplyWritesInactiveSlotAndEntry(t *testing.T) {
	d := newDisk(t)
	pub, priv := newKey(t)
	image := bytes.Repeat([]byte("rootfs-B"), 1<<14)
	m, en, err := d.target().Apply(writeBundle(t, priv, "2.0", image), []ed25519.PublicKey{pub})
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != "2.0" || en.Slot != "b" || en.Generation != 2 || en.File != "veedel-b+3.conf" {
		t.Fatalf("manifest %+v entry %+v", m, en)
	}
	got, _ := os.ReadFile(d.slotB)
	if !bytes.Equal(got[:len(image)], image) {
		t.Fatal("slot B does not hold the image")
	}
	if a, _ := os.ReadFile(d.slotA); !bytes.Equal(a, bytes.Repeat([]byte("A"), 1<<16)) {
		t.Fatal("the running slot A was touched")
	}
	conf, _ := os.ReadFile(filepath.Join(d.esp.entriesDir(), "veedel-b+3.conf"))
	for _, want := range []string{"version 2\n", "options root=PARTUUID=" + uuidB + " rootfstype=squashfs ro panic=10 veedel.slot=b\n", "linux /veedel/b/vmlinuz\n", "#release 2.0\n"} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("entry lacks %q:\n%s", want, conf)
		}
	}
	if k, _ := os.ReadFile(filepath.Join(d.esp.Dir, "veedel", "b", "vmlinuz")); string(k) != "kernel from rootfs-B" {
		t.Errorf("kernel on the ESP: %q (want the new slot's)", k)
	}
	ens, _ := d.esp.Entries()
	if len(ens) != 2 || ens[0].Slot != "b" || ens[0].TriesLeft != 3 || ens[1].Slot != "a" || !ens[1].Blessed() {
		t.Fatalf("entries %+v: want B first with 3 tries, A blessed", ens)
	}
}

// A bundle with one flipped byte, or signed by a key the appliance does not
// trust, is refused before anything is written: slot B and the entries
// stay exactly as they were.
func TestApplyRefusesBeforeWriting(t *testing.T) {
	pub, priv := newKey(t)
	_, other := newKey(t)
	image := bytes.Repeat([]byte("rootfs-B"), 1<<14)
	for name, bundle := range map[string]func(t *testing.T) string{
		"flipped byte in the image": func(t *testing.T) string {
			p := writeBundle(t, priv, "2.0", image)
			b, _ := os.ReadFile(p)
			b[len(b)-100] ^= 1
			os.WriteFile(p, b, 0o644)
			return p
		},
		"flipped byte in the manifest": func(t *testing.T) string {
			p := writeBundle(t, priv, "2.0", image)
			b, _ := os.ReadFile(p)
			i := bytes.Index(b, []byte(`"2.0"`))
			b[i+1] = '3'
			os.WriteFile(p, b, 0o644)
			return p
		},
		"unknown key": func(t *testing.T) string { return writeBundle(t, other, "2.0", image) },
	} {
		t.Run(name, func(t *testing.T) {
			d := newDisk(t)
			// B holds an older, blessed install: it must survive.
			os.WriteFile(filepath.Join(d.esp.entriesDir(), "veedel-b.conf"), []byte("version 0\n"), 0o644)
			before, _ := os.ReadFile(d.slotB)
			_, _, err := d.target().Apply(bundle(t), []ed25519.PublicKey{pub})
			if !errors.Is(err, update.ErrInvalid) {
				t.Fatalf("err %v, want update.ErrInvalid", err)
			}
			if after, _ := os.ReadFile(d.slotB); !bytes.Equal(after, before) {
				t.Fatal("slot B was written")
			}
			if _, err := os.Stat(filepath.Join(d.esp.entriesDir(), "veedel-b.conf")); err != nil {
				t.Fatal("slot B's entry was removed for a bundle that was refused")
			}
		})
	}
}

// A write that stops halfway (power cut, kill) leaves only slot A
// bootable: B's entry is removed before its first byte is written.
func TestInterruptedWriteLeavesOnlyTheRunningSlot(t *testing.T) {
	d := newDisk(t)
	os.WriteFile(filepath.Join(d.esp.entriesDir(), "veedel-b.conf"), []byte("version 0\n"), 0o644)
	if err := d.esp.Invalidate("b"); err != nil {
		t.Fatal(err)
	}
	err := Write(d.slotB, io.MultiReader(strings.NewReader("half"), errReader{}), 100, strings.Repeat("0", 64))
	if err == nil {
		t.Fatal("an interrupted write succeeded")
	}
	ens, _ := d.esp.Entries()
	if len(ens) != 1 || ens[0].Slot != "a" {
		t.Fatalf("entries after an interrupted write: %+v, want only A", ens)
	}
	// Nor does a slot that reads back wrong get an entry.
	if err := Write(d.slotB, strings.NewReader("abcd"), 4, strings.Repeat("0", 64)); err == nil || !strings.Contains(err.Error(), "reads back") {
		t.Fatalf("wrong read-back: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("power cut") }

func TestRolledBack(t *testing.T) {
	d := newDisk(t)
	w := func(name, body string) { os.WriteFile(filepath.Join(d.esp.entriesDir(), name), []byte(body), 0o644) }
	// B was installed (generation 2) and failed three boots: A runs again.
	w("veedel-b+0-3.conf", "title Veedel 2.0 (slot B)\n#release 2.0\nversion 2\n")
	en, ok, err := d.esp.RolledBack("a")
	if err != nil || !ok || en.Release != "2.0" || en.TriesDone != 3 {
		t.Fatalf("rolled back: %+v %v %v", en, ok, err)
	}
	// B still trying (+1-2): no rollback yet, A is not running.
	os.Remove(filepath.Join(d.esp.entriesDir(), "veedel-b+0-3.conf"))
	w("veedel-b+1-2.conf", "version 2\n")
	if _, ok, _ := d.esp.RolledBack("a"); ok {
		t.Fatal("a boot with tries left counts as a rollback")
	}
	// An old failed B (older than A's entry) is not this boot's rollback.
	os.Remove(filepath.Join(d.esp.entriesDir(), "veedel-b+1-2.conf"))
	w("veedel-a.conf", "version 3\n")
	w("veedel-b+0-3.conf", "version 2\n")
	if _, ok, _ := d.esp.RolledBack("a"); ok {
		t.Fatal("an older failed entry counts as a rollback")
	}
}

func TestInstallRefusesAnUninvalidatedSlot(t *testing.T) {
	d := newDisk(t)
	if _, err := d.esp.Install("a", "2.0", uuidA, "ro", strings.NewReader("k"), strings.NewReader("i")); err == nil {
		t.Fatal("Install overwrote the running slot's entry")
	}
}

func TestCurrent(t *testing.T) {
	if s, err := Current([]byte("root=PARTUUID=x ro veedel.slot=b quiet\n")); err != nil || s != "b" {
		t.Fatalf("%q %v", s, err)
	}
	if _, err := Current([]byte("root=/dev/sda1")); err == nil {
		t.Fatal("no veedel.slot accepted")
	}
	if _, err := Current([]byte("veedel.slot=c")); err == nil {
		t.Fatal("veedel.slot=c accepted")
	}
}

// Bless drops the counter of the slot's entry and only of that slot's.
func TestBless(t *testing.T) {
	d := newDisk(t)
	os.WriteFile(filepath.Join(d.esp.entriesDir(), "veedel-b+1-2.conf"), []byte("#release 2.0\nversion 2\n"), 0o644)
	if err := d.esp.Bless("b"); err != nil {
		t.Fatal(err)
	}
	ens, _ := d.esp.Entries()
	if len(ens) != 2 || ens[0].File != "veedel-b.conf" || !ens[0].Blessed() || ens[0].Release != "2.0" || ens[1].File != "veedel-a.conf" {
		t.Fatalf("entries after Bless(b): %+v", ens)
	}
	if err := d.esp.Bless("b"); err != nil {
		t.Errorf("Bless of a blessed entry: %v", err)
	}
}

// MarkBad sets the counter of a trying entry to zero, so that the next
// boot falls back at once, and RolledBack then sees the fallback; a blessed
// entry stays good.
func TestMarkBad(t *testing.T) {
	d := newDisk(t)
	os.WriteFile(filepath.Join(d.esp.entriesDir(), "veedel-b+2-1.conf"), []byte("#release 2.0\nversion 2\n"), 0o644)
	if err := d.esp.MarkBad("b"); err != nil {
		t.Fatal(err)
	}
	ens, _ := d.esp.Entries()
	if len(ens) != 2 || ens[0].File != "veedel-b+0-3.conf" || !ens[0].Bad() {
		t.Fatalf("entries after MarkBad(b): %+v", ens)
	}
	if en, ok, err := d.esp.RolledBack("a"); err != nil || !ok || en.Release != "2.0" {
		t.Fatalf("after MarkBad(b), booted from A: rolled back %+v %v %v", en, ok, err)
	}
	if err := d.esp.MarkBad("a"); err != nil {
		t.Fatal(err)
	}
	if ens, _ := d.esp.Entries(); ens[1].File != "veedel-a.conf" {
		t.Fatalf("MarkBad of a blessed entry renamed it: %+v", ens)
	}
}

func TestKernelOptions(t *testing.T) {
	got := KernelOptions([]byte("BOOT_IMAGE=/x initrd=\\veedel\\a\\initrd.img root=PARTUUID=56 rootfstype=squashfs ro console=ttyS0,115200 panic=10 veedel.slot=a\n"))
	if want := "rootfstype=squashfs ro console=ttyS0,115200 panic=10"; got != want {
		t.Fatalf("KernelOptions = %q, want %q", got, want)
	}
}
