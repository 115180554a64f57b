package agent_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/update/agent"
)

// An update A→B over loopback HTTP: the download is cut halfway and
// resumes from where the file ends (a range request, not from zero); the
// bundle is verified and staged, and installed only when the site is
// closed; the new release proves itself and blesses its boot, and central
// learns each state.
func TestUpdateResumesSwitchesWhenClosedAndBlesses(t *testing.T) {
	f := newFleet(t)
	img := image(300_000)
	bundle := f.release(f.priv, "2.0", "1.0", img)
	f.plan(central.RolloutPlan{Version: "2.0", Stage: central.StagePilot, Pilots: []string{"kalk"}})
	b := newBox(t)
	a := b.agent(f, "kalk", "1.0", "a")

	f.mu.Lock()
	f.cutAfter = 40_000 // the first chunk (64 KiB) breaks off after 40,000 bytes
	f.mu.Unlock()
	steps(t, a, 1) // poll, first chunk cut
	if st := a.Status(); st.State != agent.Downloading {
		t.Fatalf("after the cut: %+v", st)
	}
	a.PollNow()
	steps(t, a, 1) // reports the progress, fetches on
	if r := f.report("kalk"); r.State != agent.Downloading || r.Progress == 0 || r.Progress >= 100 || r.Target != "2.0" || r.DiskFree != 123<<20 {
		t.Errorf("central's report while downloading: %+v", r)
	}
	steps(t, a, 50)
	f.mu.Lock()
	ranges := append([]string(nil), f.ranges...)
	f.mu.Unlock()
	if len(ranges) < 2 || ranges[0] != "bytes=0-65535" || !strings.HasPrefix(ranges[1], "bytes=40000-") {
		t.Errorf("range requests %q: want the second to resume at byte 40000", ranges)
	}
	if st := a.Status(); st.State != agent.Staged {
		t.Fatalf("after the download: %+v, want staged", st)
	}
	if got, _ := os.ReadFile(b.data + "/2.0.bundle"); !bytes.Equal(got, bundle) {
		t.Fatal("the staged bundle differs from central's")
	}
	// Open: nothing is switched.
	b.open = true
	steps(t, a, 3)
	if b.reboots != 0 || len(b.entries(t)) != 1 {
		t.Fatalf("switched during opening hours: reboots %d, entries %v", b.reboots, b.entries(t))
	}
	b.open = false
	steps(t, a, 3)
	if b.reboots != 1 || a.Status().State != agent.Switching {
		t.Fatalf("closed: reboots %d, state %+v", b.reboots, a.Status())
	}
	if got, _ := os.ReadFile(b.slotB); !bytes.Equal(got[:len(img)], img) {
		t.Fatal("slot B does not hold the new release")
	}
	if es := b.entries(t); len(es) != 2 || es[1] != "veedel-b+3.conf" {
		t.Fatalf("entries after the switch: %v", es)
	}
	if r := f.report("kalk"); r.State != agent.Switching || r.Version != "1.0" {
		t.Errorf("central's report at the switch: %+v", r)
	}

	// The reboot: release 2.0 from slot B, the same data partition.
	n := b.agent(f, "kalk", "2.0", "b")
	n.Prove = func(context.Context) error { return nil }
	steps(t, n, 3)
	if st := n.Status(); st.State != agent.Healthy {
		t.Fatalf("the new release: %+v, want healthy", st)
	}
	if es := b.entries(t); len(es) != 2 || es[1] != "veedel-b.conf" {
		t.Errorf("entries after the proof: %v, want B blessed", es)
	}
	if r := f.report("kalk"); r.State != agent.Healthy || r.Version != "2.0" || r.Slot != "b" {
		t.Errorf("central's report after the proof: %+v", r)
	}
}
