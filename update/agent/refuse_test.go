package agent_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/update/agent"
)

// A bundle with one flipped byte, or signed by a key the box does not
// trust, is refused before anything is written: slot B and the boot
// entries stay as they were, the download is deleted, and after the
// second failure the release is refused and central says why.
func TestBadBundlesRefusedBeforeWriting(t *testing.T) {
	for _, tc := range []struct {
		name, why string
		make      func(f *fleet)
	}{
		{"flipped byte", "SHA-256", func(f *fleet) {
			b := f.release(f.priv, "2.0", "", image(200_000))
			b[len(b)-1000] ^= 1
			os.WriteFile(filepath.Join(f.releases, "2.0.bundle"), b, 0o644)
		}},
		{"unknown key", "not signed by a trusted release key", func(f *fleet) {
			_, other, _ := ed25519.GenerateKey(rand.Reader)
			f.release(other, "2.0", "", image(200_000))
		}},
		{"minimum version", "updates only from 1.5 or newer", func(f *fleet) {
			f.release(f.priv, "2.0", "1.5", image(200_000))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFleet(t)
			tc.make(f)
			f.plan(central.RolloutPlan{Version: "2.0", Stage: central.StageAll})
			b := newBox(t)
			a := b.agent(f, "kalk", "1.0", "a")
			for range 3 {
				a.PollNow()
				steps(t, a, 20)
			}
			st := a.Status()
			if st.State != agent.Failed || st.Refused != "2.0" || !strings.Contains(st.Reason, tc.why) {
				t.Fatalf("state %+v, want failed and refused because of %q", st, tc.why)
			}
			if got, _ := os.ReadFile(b.slotB); !bytes.Equal(got, make([]byte, 1<<20)) {
				t.Error("slot B was written")
			}
			if es := b.entries(t); len(es) != 1 || es[0] != "veedel-a.conf" || b.reboots != 0 {
				t.Errorf("entries %v, reboots %d: want A's alone, no reboot", es, b.reboots)
			}
			if left, _ := filepath.Glob(filepath.Join(b.data, "2.0.*")); len(left) != 0 {
				t.Errorf("the refused download is kept: %v", left)
			}
			a.PollNow()
			steps(t, a, 3)
			if r := f.report("kalk"); r.State != agent.Failed || !strings.Contains(r.Reason, tc.why) {
				t.Errorf("central's report: %+v", r)
			}
		})
	}
}

// A release that does not prove itself reboots (using up a boot try);
// once the boot loader falls back, the old release reports "rolled back"
// with the new one's reason, and does not take that release again.
func TestFailedProofRollsBackAndCentralSaysWhy(t *testing.T) {
	f := newFleet(t)
	f.release(f.priv, "2.0", "", image(100_000))
	f.plan(central.RolloutPlan{Version: "2.0", Stage: central.StageAll})
	b := newBox(t)
	a := b.agent(f, "kalk", "1.0", "a")
	steps(t, a, 20)
	steps(t, a, 3)
	if a.Status().State != agent.Switching || b.reboots != 1 {
		t.Fatalf("before the reboot: %+v, reboots %d", a.Status(), b.reboots)
	}
	for try := 1; try <= 3; try++ {
		n := b.agent(f, "kalk", "2.0", "b")
		n.ProveWithin = 1 // gone at once
		n.Prove = func(context.Context) error { return errors.New("/healthz: connection refused") }
		steps(t, n, 2)
		if b.reboots != 1+try {
			t.Fatalf("try %d: reboots %d, want a reboot after the failed proof", try, b.reboots)
		}
		// systemd-boot counts the try down.
		es := b.entries(t)
		next := map[string]string{"veedel-b+3.conf": "veedel-b+2-1.conf", "veedel-b+2-1.conf": "veedel-b+1-2.conf", "veedel-b+1-2.conf": "veedel-b+0-3.conf"}
		os.Rename(filepath.Join(b.esp.Dir, "loader", "entries", es[1]), filepath.Join(b.esp.Dir, "loader", "entries", next[es[1]]))
	}
	// Slot A boots again.
	old := b.agent(f, "kalk", "1.0", "a")
	steps(t, old, 3)
	st := old.Status()
	if st.State != agent.RolledBack || st.Refused != "2.0" || !strings.Contains(st.Reason, "did not prove itself") || !strings.Contains(st.Reason, "connection refused") {
		t.Fatalf("the old release's state: %+v", st)
	}
	r := f.report("kalk")
	if r.State != agent.RolledBack || r.Version != "1.0" || r.Target != "2.0" || !strings.Contains(r.Reason, "connection refused") {
		t.Errorf("central's report: %+v", r)
	}
	// Central still plans 2.0: the box does not fetch it again.
	f.mu.Lock()
	before := len(f.ranges)
	f.mu.Unlock()
	old.PollNow()
	steps(t, old, 3)
	f.mu.Lock()
	after := len(f.ranges)
	f.mu.Unlock()
	if after != before || old.Status().State != agent.RolledBack {
		t.Errorf("after the rollback the box fetched the failed release again (%d → %d requests, %+v)", before, after, old.Status())
	}
}

// Rings, pause and pins as the sites see them over HTTP: only the pilots
// download in the pilot stage, nobody while paused, a pinned site its pin;
// and the bundle endpoint hands a site only the release planned for it.
func TestRolloutRingsPauseAndPin(t *testing.T) {
	f := newFleet(t)
	f.release(f.priv, "2.0", "", image(50_000))
	f.release(f.priv, "1.5", "", image(50_000))
	f.plan(central.RolloutPlan{Version: "2.0", Stage: central.StagePilot, Pilots: []string{"kalk"}, Pins: map[string]string{"chorweiler": "1.5"}})
	boxes := map[string]*agent.Agent{}
	for _, site := range []string{"kalk", "porz", "chorweiler"} {
		boxes[site] = newBox(t).agent(f, site, "1.0", "a")
	}
	check := func(stage string, want map[string]string) {
		t.Helper()
		for site, a := range boxes {
			a.PollNow()
			steps(t, a, 1)
			if got := a.Status().Target; a.Status().State != agent.Downloading && a.Status().State != agent.Staged && a.Status().State != agent.Switching {
				got = ""
				if want[site] != "" {
					t.Errorf("%s: %s: state %+v, want a download of %s", stage, site, a.Status(), want[site])
				}
			} else if got != want[site] {
				t.Errorf("%s: %s downloads %q, want %q", stage, site, got, want[site])
			}
		}
	}
	check("pilot", map[string]string{"kalk": "2.0", "chorweiler": "1.5"})
	f.plan(central.RolloutPlan{Version: "2.0", Stage: central.StageAll, Paused: true, Pilots: []string{"kalk"}, Pins: map[string]string{"chorweiler": "1.5"}})
	check("paused", map[string]string{"chorweiler": "1.5"})
	f.plan(central.RolloutPlan{Version: "2.0", Stage: central.StageAll, Pilots: []string{"kalk"}, Pins: map[string]string{"chorweiler": "1.5"}})
	check("all", map[string]string{"kalk": "2.0", "porz": "2.0", "chorweiler": "1.5"})

	req, _ := http.NewRequest(http.MethodGet, f.url+"/api/v1/sync/update/bundle?site=porz&version=1.5", nil)
	req.Header.Set("X-Test-Site", "porz")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("porz asks for 1.5 (not planned for it): %s, want 404", resp.Status)
	}
}

// With MarkBad (as on the appliance) one failed proof is enough: the new
// release's entry is marked bad before the reboot, the next boot is the
// old slot's, and it reports the rollback with the reason.
func TestFailedProofMarksTheEntryBadAndFallsBackAtOnce(t *testing.T) {
	f := newFleet(t)
	f.release(f.priv, "2.0", "", image(100_000))
	f.plan(central.RolloutPlan{Version: "2.0", Stage: central.StageAll})
	b := newBox(t)
	a := b.agent(f, "kalk", "1.0", "a")
	steps(t, a, 20)
	steps(t, a, 3)
	if a.Status().State != agent.Switching || b.reboots != 1 {
		t.Fatalf("before the reboot: %+v, reboots %d", a.Status(), b.reboots)
	}
	// systemd-boot takes B's first try.
	os.Rename(filepath.Join(b.esp.Dir, "loader", "entries", "veedel-b+3.conf"), filepath.Join(b.esp.Dir, "loader", "entries", "veedel-b+2-1.conf"))
	n := b.agent(f, "kalk", "2.0", "b")
	n.ProveWithin = 1
	n.Prove = func(context.Context) error { return errors.New("/healthz: connection refused") }
	n.MarkBad = func() error { return b.esp.MarkBad("b") }
	steps(t, n, 2)
	if b.reboots != 2 {
		t.Fatalf("reboots %d after the failed proof, want 2", b.reboots)
	}
	if es := b.entries(t); len(es) != 2 || es[1] != "veedel-b+0-3.conf" {
		t.Fatalf("entries after the failed proof: %v, want B marked bad", es)
	}
	old := b.agent(f, "kalk", "1.0", "a")
	steps(t, old, 3)
	if st := old.Status(); st.State != agent.RolledBack || !strings.Contains(st.Reason, "connection refused") {
		t.Fatalf("the old release's state: %+v", st)
	}
	if r := f.report("kalk"); r.State != agent.RolledBack || r.Version != "1.0" || !strings.Contains(r.Reason, "did not prove itself") {
		t.Errorf("central's report: %+v", r)
	}
}
