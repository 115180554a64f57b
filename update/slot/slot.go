// Package slot is the appliance's side of an A/B update: which root slot
// is booted, writing the other one, and the systemd-boot entries that
// decide what boots next (Boot Loader Specification type #1 entries with
// boot counting, docs/IMAGES.md).
//
// The order makes every crash safe: the inactive slot's entry is removed
// before a byte of the slot is written, the slot is written, synced and
// read back against the bundle's SHA-256, and only then is its kernel put
// on the ESP and its entry written, with a newer version (it sorts first)
// and a "+3" boot counter. A boot that does not prove healthy is retried
// until the counter runs out; systemd-boot then sorts the entry last and
// boots the old slot, which finds the entry at "+0-3" and reports the
// rollback.
package slot

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Slots are the root slots' names, as in the partition labels root-a and
// root-b and the kernel command line's veedel.slot=.
var Slots = []string{"a", "b"}

// Other is the slot that is not s.
func Other(s string) string {
	if s == "a" {
		return "b"
	}
	return "a"
}

// Current is the booted slot, from the kernel command line
// (/proc/cmdline): veedel.slot=a or b.
func Current(cmdline []byte) (string, error) {
	for _, f := range strings.Fields(string(cmdline)) {
		if v, ok := strings.CutPrefix(f, "veedel.slot="); ok {
			if v == "a" || v == "b" {
				return v, nil
			}
			return "", fmt.Errorf("kernel command line: veedel.slot=%q, want a or b", v)
		}
	}
	return "", errors.New("kernel command line has no veedel.slot= (not booted from a Veedel image?)")
}

// Entry is one slot's boot entry on the ESP.
type Entry struct {
	Slot string
	File string // file name in loader/entries, e.g. veedel-b+2-1.conf
	// Generation is the entry's "version": the newest sorts first.
	Generation int
	// TriesLeft and TriesDone are the boot counter ("+left-done"), -1
	// when the entry has none (it is blessed: it booted healthy).
	TriesLeft, TriesDone int
	Title                string
	// Release is the Veedel version the slot holds.
	Release string
}

// Bad says the boot counter has run out: the boot loader no longer picks
// this entry while another exists.
func (e Entry) Bad() bool { return e.TriesLeft == 0 }

// Blessed says the entry booted healthy once (no counter any more).
func (e Entry) Blessed() bool { return e.TriesLeft < 0 }

var entryName = regexp.MustCompile(`^veedel-([ab])(?:\+(\d+)(?:-(\d+))?)?\.conf$`)

// ESP is the mounted EFI system partition (/efi on the appliance).
type ESP struct{ Dir string }

func (e ESP) entriesDir() string { return filepath.Join(e.Dir, "loader", "entries") }

// Entries are the slots' entries, newest generation first.
func (e ESP) Entries() ([]Entry, error) {
	des, err := os.ReadDir(e.entriesDir())
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, de := range des {
		m := entryName.FindStringSubmatch(de.Name())
		if m == nil {
			continue
		}
		en := Entry{Slot: m[1], File: de.Name(), TriesLeft: -1, TriesDone: -1}
		if m[2] != "" {
			en.TriesLeft, _ = strconv.Atoi(m[2])
			en.TriesDone = 0
			if m[3] != "" {
				en.TriesDone, _ = strconv.Atoi(m[3])
			}
		}
		b, err := os.ReadFile(filepath.Join(e.entriesDir(), de.Name()))
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			k, v, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
			v = strings.TrimSpace(v)
			switch k {
			case "version":
				en.Generation, _ = strconv.Atoi(v)
			case "title":
				en.Title = v
			case "#release":
				en.Release = v
			}
		}
		out = append(out, en)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Generation > out[j].Generation })
	return out, nil
}

// Invalidate removes the slot's entries (and so makes the slot unbootable)
// before the slot is written: a crash while it is written leaves only the
// running slot bootable.
func (e ESP) Invalidate(slot string) error {
	ens, err := e.Entries()
	if err != nil {
		return err
	}
	for _, en := range ens {
		if en.Slot == slot {
			if err := os.Remove(filepath.Join(e.entriesDir(), en.File)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	return syncDir(e.entriesDir())
}

// Tries is the boot counter a new entry starts with.
const Tries = 3

// Install puts the slot's kernel and initramfs on the ESP and writes its
// entry with the next generation (so it sorts first: the next boot boots
// it) and a boot counter of Tries. options is the kernel command line
// without root= and veedel.slot=, which Install adds from rootUUID.
func (e ESP) Install(slot, release, rootUUID, options string, kernel, initrd io.Reader) (Entry, error) {
	if slot != "a" && slot != "b" {
		return Entry{}, fmt.Errorf("slot %q, want a or b", slot)
	}
	if strings.ContainsAny(release, "\n\r") || strings.ContainsAny(options, "\n\r") {
		return Entry{}, errors.New("release and options must be one line")
	}
	ens, err := e.Entries()
	if err != nil {
		return Entry{}, err
	}
	gen := 1
	for _, en := range ens {
		if en.Slot == slot {
			return Entry{}, fmt.Errorf("slot %s still has the entry %s: invalidate it before writing the slot", slot, en.File)
		}
		gen = max(gen, en.Generation+1)
	}
	dir := filepath.Join(e.Dir, "veedel", slot)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Entry{}, err
	}
	if err := writeFrom(filepath.Join(dir, "vmlinuz"), kernel); err != nil {
		return Entry{}, err
	}
	if err := writeFrom(filepath.Join(dir, "initrd.img"), initrd); err != nil {
		return Entry{}, err
	}
	up := strings.ToUpper(slot)
	conf := fmt.Sprintf("title Veedel %s (slot %s)\n#release %s\nsort-key veedel\nversion %d\nlinux /veedel/%s/vmlinuz\ninitrd /veedel/%s/initrd.img\noptions root=PARTUUID=%s %s veedel.slot=%s\n",
		release, up, release, gen, slot, slot, rootUUID, strings.TrimSpace(options), slot)
	name := fmt.Sprintf("veedel-%s+%d.conf", slot, Tries)
	if err := writeFrom(filepath.Join(e.entriesDir(), name), strings.NewReader(conf)); err != nil {
		return Entry{}, err
	}
	return Entry{Slot: slot, File: name, Generation: gen, TriesLeft: Tries, TriesDone: 0, Title: fmt.Sprintf("Veedel %s (slot %s)", release, up), Release: release}, nil
}

// RolledBack reports the other slot's entry when the boot loader gave up
// on it: it is newer than the running slot's entry (an update was
// installed there) and its counter ran out, so this boot is a fallback.
func (e ESP) RolledBack(current string) (Entry, bool, error) {
	ens, err := e.Entries()
	if err != nil {
		return Entry{}, false, err
	}
	var cur, other *Entry
	for i := range ens {
		switch ens[i].Slot {
		case current:
			cur = &ens[i]
		case Other(current):
			other = &ens[i]
		}
	}
	if cur == nil || other == nil {
		return Entry{}, false, nil
	}
	if other.Bad() && other.Generation > cur.Generation {
		return *other, true, nil
	}
	return Entry{}, false, nil
}

// Write copies a verified image to the slot's partition (dev), syncs it,
// and reads it back against want (the bundle's SHA-256, hex): a slot that
// does not read back exactly is never given a boot entry. img must be the
// reader update.Open returned; its error at the end (a wrong hash or
// length) fails the write.
func Write(dev string, img io.Reader, size int64, want string) error {
	f, err := os.OpenFile(dev, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, img)
	if err != nil {
		f.Close()
		return fmt.Errorf("writing slot %s: %w", dev, err)
	}
	if n != size {
		f.Close()
		return fmt.Errorf("writing slot %s: wrote %d bytes, the manifest says %d", dev, n, size)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	r, err := os.Open(dev)
	if err != nil {
		return err
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.CopyN(h, r, size); err != nil {
		return fmt.Errorf("reading slot %s back: %w", dev, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("slot %s reads back with SHA-256 %s, want %s", dev, got, want)
	}
	return nil
}

// writeFrom writes a file atomically: temporary file, fsync, rename, and
// the directory synced.
func writeFrom(name string, r io.Reader) error { return WriteFile(name, r) }

// WriteFile writes a file atomically (also for the update agent's state):
// a temporary file beside it, fsync, rename, and the directory synced, so
// that after a crash the file is the old one or the new one, whole.
func WriteFile(name string, r io.Reader) error {
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error { return SyncDir(dir) }

// SyncDir syncs a directory, so that the names created or renamed in it
// survive a power cut.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Bless marks the slot's entry good for good, as systemd-bless-boot does:
// its boot counter is dropped from the name (veedel-b+2-1.conf →
// veedel-b.conf). An entry already blessed stays as it is.
func (e ESP) Bless(slot string) error {
	ens, err := e.Entries()
	if err != nil {
		return err
	}
	for _, en := range ens {
		if en.Slot != slot || en.Blessed() {
			continue
		}
		if err := os.Rename(filepath.Join(e.entriesDir(), en.File), filepath.Join(e.entriesDir(), "veedel-"+slot+".conf")); err != nil {
			return err
		}
		return syncDir(e.entriesDir())
	}
	return nil
}

// MarkBad marks the slot's entry as failed, as "systemd-bless-boot bad"
// does: its counter is set to no tries left (veedel-b+2-1.conf →
// veedel-b+0-1.conf), so that the next boot takes the other slot at once
// instead of trying this one again. The update agent does this when the
// new release failed its proof: the boot loader's remaining tries are for
// boots that never got as far as an answer. A blessed entry is left as it
// is (a release that proved itself once is not given up by this).
func (e ESP) MarkBad(slot string) error {
	ens, err := e.Entries()
	if err != nil {
		return err
	}
	for _, en := range ens {
		if en.Slot != slot || en.Blessed() || en.Bad() {
			continue
		}
		bad := fmt.Sprintf("veedel-%s+0-%d.conf", slot, en.TriesDone+en.TriesLeft)
		if err := os.Rename(filepath.Join(e.entriesDir(), en.File), filepath.Join(e.entriesDir(), bad)); err != nil {
			return err
		}
		return syncDir(e.entriesDir())
	}
	return nil
}

// KernelOptions is the running kernel command line without what names a
// slot (root=, veedel.slot=) or what the boot loader adds (BOOT_IMAGE=,
// initrd=): the options a new slot's entry carries over, so that the
// console, the panic timeout and the like stay as the image set them.
func KernelOptions(cmdline []byte) string {
	var keep []string
	for _, f := range strings.Fields(string(cmdline)) {
		k, _, _ := strings.Cut(f, "=")
		switch k {
		case "root", "veedel.slot", "BOOT_IMAGE", "initrd":
			continue
		}
		keep = append(keep, f)
	}
	return strings.Join(keep, " ")
}
