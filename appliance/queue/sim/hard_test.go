package sim

import (
	"os"
	"slices"
	"strconv"
	"testing"
)

// Hard-day seeds: tuning looked at histories 1–6 only; the figures and
// the test come from histories 101–106 (one per site profile), unseen by
// the tuning. Each history has hardWarm warm-up days, then measured days.
const (
	hardWarm = 6
	hardDays = 6
)

var (
	hardTuningSeeds     = seeds(1, 6)
	hardEvaluationSeeds = seeds(101, 6)
)

func hardRecords(t testing.TB, seeds []uint64, cond Conditions, warm, days int) []HardRecord {
	t.Helper()
	var all []HardRecord
	for _, s := range seeds {
		r, err := History(s, cond, warm, days)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, r...)
	}
	return all
}

func report(t testing.TB, name string, recs []HardRecord) {
	t.Helper()
	t.Logf("%-28s %v", name, Summarise(recs))
	for _, key := range []struct {
		name string
		f    func(HardRecord) string
	}{{"load", func(r HardRecord) string { return r.Load }}, {"hour", func(r HardRecord) string { return r.Hour }},
		{"site", func(r HardRecord) string { return r.Site }}} {
		groups := By(recs, key.f)
		keys := make([]string, 0, len(groups))
		for k := range groups {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			t.Logf("  %-26s %v", key.name+" "+k, Summarise(groups[k]))
		}
	}
}

// TestHardTune prints the figures of the tuning histories, all conditions
// on and each alone (HARD_EVAL=1: the evaluation histories instead).
func TestHardTune(t *testing.T) {
	if testing.Short() || os.Getenv("HARD_TUNE") == "" {
		t.Skip("HARD_TUNE=1 to run")
	}
	s := hardTuningSeeds
	if os.Getenv("HARD_EVAL") != "" {
		s = hardEvaluationSeeds
	}
	days := hardDays
	if n, err := strconv.Atoi(os.Getenv("HARD_DAYS")); err == nil {
		days = n
	}
	report(t, "all conditions", hardRecords(t, s, HardDays(), hardWarm, days))
	if os.Getenv("HARD_EACH") != "" {
		report(t, "none", hardRecords(t, s, Conditions{}, hardWarm, days))
		for _, c := range ConditionNames {
			report(t, "only "+c, hardRecords(t, s, Only(c), hardWarm, days))
		}
	}
}

// Deterministic: the same seed gives the same history.
func TestHistorySeeded(t *testing.T) {
	a, err := History(3, HardDays(), 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := History(3, HardDays(), 1, 2)
	if len(a) != len(b) || len(a) < 100 {
		t.Fatalf("histories of seed 3: %d and %d walk-ins", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("record %d differs: %+v, %+v", i, a[i], b[i])
		}
	}
}

// The P90 calibrates itself: on a site whose service times drift across
// days (35 % slower, then faster, over 24 days), with every hard condition
// on, about a tenth of the walk-ins wait longer than the P90 they were
// shown, once the site has run a few days.
func TestP90CoverageUnderDrift(t *testing.T) {
	if testing.Short() {
		t.Skip("30 simulated days")
	}
	cond := HardDays()
	cond.Drift = true
	for _, seed := range []uint64{301, 302} {
		recs := hardRecords(t, []uint64{seed}, cond, 6, 30)
		f := Summarise(recs)
		t.Logf("seed %d (%s): %v", seed, recs[0].Site, f)
		if f.BeyondP90 < 0.08 || f.BeyondP90 > 0.12 {
			t.Errorf("seed %d: %.1f %% waited longer than the P90 shown, want 10 ± 2 %%", seed, 100*f.BeyondP90)
		}
	}
}

// BenchmarkEstimateHardDays: the estimate on hard days (every condition
// on), 36 measured days of 6 site histories unseen by the tuning, each
// after 6 warm-up days: overall (All) and by hour group and load level,
// with the same columns as BenchmarkEstimateAccuracy's easy days. NoneOn
// is the same histories with every condition off.
func BenchmarkEstimateHardDays(b *testing.B) {
	var recs []HardRecord
	b.Run("All", func(b *testing.B) {
		for b.Loop() {
			recs = hardRecords(b, hardEvaluationSeeds, HardDays(), hardWarm, hardDays)
		}
		reportFigures(b, Summarise(recs))
	})
	if recs == nil {
		return // filtered out
	}
	for _, g := range []struct {
		name, key string
		f         func(HardRecord) string
	}{
		{"FirstHour", FirstHour, func(r HardRecord) string { return r.Hour }},
		{"Peak", Peak, func(r HardRecord) string { return r.Hour }},
		{"Other", Other, func(r HardRecord) string { return r.Hour }},
		{"LastHour", LastHour, func(r HardRecord) string { return r.Hour }},
		{"Light", Light, func(r HardRecord) string { return r.Load }},
		{"Normal", Normal, func(r HardRecord) string { return r.Load }},
		{"Heavy", Heavy, func(r HardRecord) string { return r.Load }},
	} {
		b.Run(g.name, func(b *testing.B) {
			var f Figures
			for b.Loop() {
				f = Summarise(By(recs, g.f)[g.key])
			}
			reportFigures(b, f)
		})
	}
	b.Run("NoneOn", func(b *testing.B) {
		var f Figures
		for b.Loop() {
			f = Summarise(hardRecords(b, hardEvaluationSeeds, Conditions{}, hardWarm, hardDays))
		}
		reportFigures(b, f)
	})
}

func reportFigures(b *testing.B, f Figures) {
	b.ReportMetric(f.VeedelMAE, "veedel-mae-min")
	b.ReportMetric(f.ZMSMAE, "zms-mae-min")
	b.ReportMetric(f.Ratio, "mae-ratio")
	b.ReportMetric(f.VeedelMAEU60, "veedel-mae-under60-min")
	b.ReportMetric(f.BeyondP90, "beyond-p90-share")
	b.ReportMetric(float64(f.Tickets), "tickets")
}
