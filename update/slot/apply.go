package slot

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"os"

	"github.com/veedel/veedel/update"
)

// Target is an appliance's disk as the update sees it.
type Target struct {
	ESP ESP
	// Current is the booted slot (Current(/proc/cmdline)).
	Current string
	// Device is the slot's partition, e.g. /dev/disk/by-partlabel/root-b.
	Device func(slot string) string
	// PartUUID is the slot's partition UUID, for the entry's root=.
	PartUUID func(slot string) string
	// Options is the kernel command line besides root= and veedel.slot=.
	Options string
	// Kernel opens the kernel and initramfs of the root file system just
	// written to dev (on the appliance: /boot/vmlinuz and /boot/initrd.img
	// of the squashfs, mounted read-only).
	Kernel func(dev string) (kernel, initrd io.ReadCloser, done func(), err error)
}

// Apply installs a downloaded bundle into the inactive slot and makes it
// the next boot's: the whole bundle is verified first (a flipped byte or
// an unknown key is refused before anything is written), then the slot's
// entry is removed, the slot written and read back, the kernel put on the
// ESP and the entry written with a boot counter. The caller reboots (in
// the site's closing hours).
func (t Target) Apply(bundle string, trusted []ed25519.PublicKey) (update.Manifest, Entry, error) {
	f, err := os.Open(bundle)
	if err != nil {
		return update.Manifest{}, Entry{}, err
	}
	defer f.Close()
	m, err := update.Verify(f, trusted)
	if err != nil {
		return m, Entry{}, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return m, Entry{}, err
	}
	// The same bytes again, checked again while they are written.
	m2, img, err := update.Open(f, trusted)
	if err != nil {
		return m, Entry{}, err
	}
	if m2 != m {
		return m, Entry{}, fmt.Errorf("bundle %s changed while it was applied", bundle)
	}
	slot := Other(t.Current)
	if err := t.ESP.Invalidate(slot); err != nil {
		return m, Entry{}, fmt.Errorf("removing slot %s's boot entry: %w", slot, err)
	}
	dev := t.Device(slot)
	if err := Write(dev, img, m.RootfsSize, m.RootfsSHA256); err != nil {
		return m, Entry{}, err
	}
	kernel, initrd, done, err := t.Kernel(dev)
	if err != nil {
		return m, Entry{}, fmt.Errorf("the new root file system's kernel: %w", err)
	}
	defer done()
	defer kernel.Close()
	defer initrd.Close()
	en, err := t.ESP.Install(slot, m.Version, t.PartUUID(slot), t.Options, kernel, initrd)
	if err != nil {
		return m, Entry{}, err
	}
	return m, en, nil
}
