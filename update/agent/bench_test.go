package agent_test

import (
	"context"
	"testing"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/update/agent"
)

// BenchmarkDownloadAndInstall: a 64 MiB release over loopback HTTP in
// 8 MiB range requests, verified, then written to a slot file, read back
// and given its boot entry; MB/s is the bundle's bytes per second of all
// of it (higher is better). On the box the slot is a partition and the
// line to central is slower: this is the agent's own cost.
func BenchmarkDownloadAndInstall(b *testing.B) {
	img := image(64 << 20)
	f := newFleet(b)
	bundle := f.release(f.priv, "2.0", "", img)
	f.plan(central.RolloutPlan{Version: "2.0", Stage: central.StageAll})
	b.SetBytes(int64(len(bundle)))
	for b.Loop() {
		b.StopTimer()
		bx := newBox(b)
		a := bx.agent(f, "kalk", "1.0", "a")
		a.Chunk = 8 << 20
		b.StartTimer()
		for range 100 {
			busy, err := a.Step(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if !busy && a.Status().State != agent.Downloading {
				break
			}
		}
		if _, err := a.Step(context.Background()); err != nil || a.Status().State != agent.Switching {
			b.Fatalf("state %+v, %v", a.Status(), err)
		}
	}
}
