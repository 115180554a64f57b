package sim

import (
	"math"
	"testing"
)

// Metrics summarises simulated days.
type Metrics struct {
	Tickets      int
	VeedelMAE    float64 // minutes
	ZMSMAE       float64 // minutes
	Ratio        float64 // VeedelMAE / ZMSMAE
	VeedelMAEU60 float64 // over tickets that waited under 60 minutes
	ZMSMAEU60    float64
	BeyondP90    float64 // share of tickets that waited longer than their P90
	MeanWait     float64
	MaxWait      float64
	MeanBias     float64 // mean (estimate - actual): positive is pessimistic
}

func measure(t testing.TB, seeds []uint64) Metrics {
	t.Helper()
	var m Metrics
	var u60 int
	for _, seed := range seeds {
		d, err := Run(seed)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range d.Records {
			m.Tickets++
			ev, ez := math.Abs(float64(r.Veedel)-r.Actual), math.Abs(r.ZMS-r.Actual)
			m.VeedelMAE += ev
			m.ZMSMAE += ez
			m.MeanBias += float64(r.Veedel) - r.Actual
			m.MeanWait += r.Actual
			m.MaxWait = max(m.MaxWait, r.Actual)
			if r.Actual < 60 {
				u60++
				m.VeedelMAEU60 += ev
				m.ZMSMAEU60 += ez
			}
			if r.Actual > float64(r.P90) {
				m.BeyondP90++
			}
		}
	}
	n := float64(m.Tickets)
	m.VeedelMAE /= n
	m.ZMSMAE /= n
	m.MeanBias /= n
	m.MeanWait /= n
	m.BeyondP90 /= n
	m.VeedelMAEU60 /= float64(max(u60, 1))
	m.ZMSMAEU60 /= float64(max(u60, 1))
	m.Ratio = m.VeedelMAE / m.ZMSMAE
	return m
}

func seeds(from, n uint64) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = from + uint64(i)
	}
	return out
}

// Tuning used seeds 1–10 only; the benchmark evaluates on seeds 1001–1020,
// which the estimator's constants were never fitted to, and the test on the
// first three of them. Days vary a lot (seeds 2001–2003 are heavy days with
// a mean wait near 50 minutes, on which the under-60 MAE is about 5.8).
var (
	tuningSeeds     = seeds(1, 10)
	evaluationSeeds = seeds(1001, 20)
	testSeeds       = seeds(1001, 3)
	heavySeeds      = seeds(2001, 3)
)

func TestTune(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	t.Logf("%+v", measure(t, tuningSeeds))
}

// The goals of the queue-quality issue, with some margin, on three days.
func TestEstimateAccuracy(t *testing.T) {
	m := measure(t, testSeeds)
	t.Logf("%+v", m)
	if m.Ratio > 0.6 {
		t.Errorf("Veedel MAE / ZMS MAE = %.2f, want at most 0.6 (goal 0.7)", m.Ratio)
	}
	if m.VeedelMAEU60 > 4.5 {
		t.Errorf("Veedel MAE for waits under 60 minutes = %.1f, want at most 4.5 (goal 5)", m.VeedelMAEU60)
	}
	if m.BeyondP90 > 0.09 {
		t.Errorf("share beyond P90 = %.3f, want at most 0.09 (goal 0.10)", m.BeyondP90)
	}
}

// Deterministic: the same seed gives the same day.
func TestSeeded(t *testing.T) {
	a, err := Run(7)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Run(7)
	if len(a.Records) != len(b.Records) || len(a.Records) < 100 {
		t.Fatalf("days of seed 7: %d and %d tickets", len(a.Records), len(b.Records))
	}
	for i := range a.Records {
		if a.Records[i] != b.Records[i] {
			t.Fatalf("record %d differs: %+v, %+v", i, a.Records[i], b.Records[i])
		}
	}
}

func BenchmarkEstimateAccuracy(b *testing.B) {
	var m, h Metrics
	for b.Loop() {
		m = measure(b, evaluationSeeds)
		h = measure(b, heavySeeds)
	}
	b.ReportMetric(m.VeedelMAE, "veedel-mae-min")
	b.ReportMetric(m.ZMSMAE, "zms-mae-min")
	b.ReportMetric(m.Ratio, "mae-ratio")
	b.ReportMetric(m.VeedelMAEU60, "veedel-mae-under60-min")
	b.ReportMetric(m.BeyondP90, "beyond-p90-share")
	b.ReportMetric(float64(m.Tickets), "tickets")
	b.ReportMetric(h.Ratio, "heavy-mae-ratio")
	b.ReportMetric(h.VeedelMAEU60, "heavy-mae-under60-min")
	b.ReportMetric(h.BeyondP90, "heavy-beyond-p90-share")
	b.ReportMetric(h.MeanWait, "heavy-mean-wait-min")
}
