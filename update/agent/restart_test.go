package agent_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/update"
	"github.com/veedel/veedel/update/agent"
)

// The download's position is the partial file on the data partition: an
// agent started again (a reboot, a crash) asks from where the file ends,
// not from zero. A crash in the middle of the install leaves the old slot
// booting and the bundle staged; the next agent installs it.
func TestRestartResumesDownloadAndInstall(t *testing.T) {
	f := newFleet(t)
	img := image(300_000)
	f.release(f.priv, "2.0", "", img)
	f.plan(central.RolloutPlan{Version: "2.0", Stage: central.StageAll})
	b := newBox(t)
	b.open = true
	a := b.agent(f, "kalk", "1.0", "a")
	steps(t, a, 1) // the first chunk of 64 KiB
	steps(t, a, 1) // and the second
	if a.Status().State != agent.Downloading {
		t.Fatalf("state %+v", a.Status())
	}
	a = b.agent(f, "kalk", "1.0", "a") // the box restarted
	steps(t, a, 1)
	f.mu.Lock()
	last := f.ranges[len(f.ranges)-1]
	f.mu.Unlock()
	if last != "bytes=131072-196607" {
		t.Errorf("after the restart the download asked for %q, want to resume at 131072", last)
	}
	steps(t, a, 50)
	if a.Status().State != agent.Staged {
		t.Fatalf("state %+v, want staged", a.Status())
	}

	// The power fails during the install, before the slot's entry exists.
	b.open = false
	crashing := b.agent(f, "kalk", "1.0", "a")
	crashing.Install = func(bundle string) (update.Manifest, error) {
		os.WriteFile(b.slotB, []byte("half a root file system"), 0o644)
		panic("power cut")
	}
	func() {
		defer func() { recover() }()
		steps(t, crashing, 3)
	}()
	if es := b.entries(t); len(es) != 1 || es[0] != "veedel-a.conf" {
		t.Fatalf("entries after the cut: %v, want A's alone", es)
	}
	again := b.agent(f, "kalk", "1.0", "a")
	steps(t, again, 3)
	if again.Status().State != agent.Switching || b.reboots != 1 {
		t.Fatalf("after the cut: %+v, reboots %d; want it installed again and rebooted", again.Status(), b.reboots)
	}
	if got, _ := os.ReadFile(b.slotB); !bytes.Equal(got[:len(img)], img) || strings.Contains(string(got), "half") {
		t.Error("slot B does not hold the release after the second install")
	}
}
