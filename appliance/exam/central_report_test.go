package exam

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/veedel/veedel/workflow"
)

// statsRandomRecords makes n records over districts with skewed categories, so
// that small cells abound.
func statsRandomRecords(r *rand.Rand, n int, districts []string) []Statistics {
	pick := func(xs []string) string {
		// Skewed: the first category most of the time.
		if r.IntN(4) > 0 {
			return xs[0]
		}
		return xs[r.IntN(len(xs))]
	}
	out := make([]Statistics, n)
	for i := range out {
		v := map[string]bool{}
		for _, a := range Vaccines {
			v[a] = r.IntN(10) > 0
		}
		sopess := map[string]string{}
		for _, d := range Domains {
			sopess[d] = pick(StatsSOPESSFindings)
		}
		out[i] = Statistics{Exam: fmt.Sprint(i), Year: 2027, District: districts[r.IntN(len(districts))], Sex: SexFemale,
			BMIClass: []string{BMINormal, BMINormal, BMINormal, BMIOverweight, BMIObese, BMIUnderweight, BMISevereUnderweight}[r.IntN(7)],
			Vision:   pick(StatsScreeningFindings), Hearing: pick(StatsScreeningFindings), ImpfpassShown: r.IntN(8) > 0, Vaccines: v,
			MeaslesProof: r.IntN(12) > 0, SOPESS: sopess, Recommendation: pick(StatsRecommendations)}
	}
	return out
}

// On random cohorts of every size: no count of 1 to 4 is shown, and no
// relation a reader sees (row and total, column and the city's cell, the
// districts' totals and the city's, across the tables) has exactly one
// hidden cell. Each seed is printed on failure.
func TestSuppression_Random(t *testing.T) {
	for seed := uint64(1); seed <= 60; seed++ {
		r := rand.New(rand.NewPCG(seed, 12))
		districts := []string{"Kalk", "Porz", "Sülz", "Nippes", "Chorweiler"}[:1+r.IntN(5)]
		recs := statsRandomRecords(r, r.IntN(120), districts)
		s := newStatsSuppressor()
		rep := statsBuildWith(s, recs)
		if !s.consistent() {
			t.Fatalf("seed %d: a relation with exactly one hidden cell", seed)
		}
		for _, tab := range rep.Tables {
			for _, row := range append(append([]StatsRow{}, tab.Rows...), tab.Total) {
				for _, c := range append(append([]StatsCell{}, row.Cells...), row.Total) {
					if v, ok := c.Value(); ok && v > 0 && v < SmallCell {
						t.Fatalf("seed %d: table %s shows %d", seed, tab.ID, v)
					}
				}
				sum, all := 0, true
				for _, c := range row.Cells {
					v, ok := c.Value()
					sum += v
					all = all && ok
				}
				if v, ok := row.Total.Value(); all && ok && sum != v {
					t.Fatalf("seed %d: table %s row %q adds up to %d, total %d", seed, tab.ID, row.District, sum, v)
				}
			}
		}
	}
}

// A district's number of children is one count in every table: hidden in
// one, hidden in all. And the Impfpass shown column is the vaccines'
// base.
func TestSuppression_SharedCells(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	rep := BuildStatsReport(2027, statsRandomRecords(r, 40, []string{"Kalk", "Porz", "Sülz"}))
	pass, _ := rep.Table(StatsTableImpfpass)
	for _, tab := range rep.Tables {
		for i, row := range tab.Rows {
			want := pass.Rows[i].Total.Suppressed
			if tab.Base == StatsBaseImpfpass {
				want = pass.Rows[i].Cells[0].Suppressed
			}
			if row.Total.Suppressed != want {
				t.Errorf("table %s, %s: total hidden %v, in the Impfpass table %v", tab.ID, row.District, row.Total.Suppressed, want)
			}
		}
	}
}

// The cohort of the issue: cells of 1 to 4 in a small city.
func TestSuppression_SmallCells(t *testing.T) {
	var recs []Statistics
	add := func(n int, district, bmi string) {
		for range n {
			recs = append(recs, Statistics{Exam: fmt.Sprint(len(recs)), Year: 2027, District: district, BMIClass: bmi})
		}
	}
	add(20, "Kalk", BMINormal)
	add(4, "Kalk", BMIObese)
	add(15, "Porz", BMINormal)
	add(6, "Porz", BMIObese)
	rep := BuildStatsReport(2027, recs)
	bmi, _ := rep.Table(StatsTableBMI)
	col := func(c string) int {
		for i, x := range bmi.Columns {
			if x == c {
				return i
			}
		}
		return -1
	}
	ob, no := col(BMIObese), col(BMINormal)
	// Kalk's 4 is hidden; its row needs a second (Kalk's 20), the obese
	// column a second (Porz's 6), and Porz's row then a second (its 15).
	for name, c := range map[string]StatsCell{"Kalk obese": bmi.Rows[0].Cells[ob], "Kalk normal": bmi.Rows[0].Cells[no],
		"Porz obese": bmi.Rows[1].Cells[ob], "Porz normal": bmi.Rows[1].Cells[no]} {
		if !c.Suppressed {
			t.Errorf("%s shown", name)
		}
	}
	if v, ok := bmi.Total.Cells[ob].Value(); !ok || v != 10 {
		t.Errorf("the city's obese children %v, want 10 shown", bmi.Total.Cells[ob].N)
	}
	if v, ok := bmi.Rows[0].Total.Value(); !ok || v != 24 {
		t.Errorf("Kalk's total %v, want 24 shown", bmi.Rows[0].Total.N)
	}
}

// A record signed off again replaces its first count.
func TestCentral_Resent(t *testing.T) {
	c := NewCentral()
	at := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	c.FromSite("gesundheitsamt", workflow.Event{Type: TypeStatistics, At: at, Payload: &Statistics{Exam: "a", Year: 2027, District: "Kalk", BMIClass: BMINormal}})
	c.FromSite("gesundheitsamt", workflow.Event{Type: TypeStatistics, At: at, Payload: &Statistics{Exam: "a", Year: 2027, District: "Kalk", BMIClass: BMIObese}})
	c.FromSite("gesundheitsamt", workflow.Event{Type: TypeStatistics, At: at, Payload: &Statistics{Exam: "b", Year: 2028, District: "Kalk"}})
	recs := c.Records(2027)
	if len(recs) != 1 || recs[0].BMIClass != BMIObese {
		t.Errorf("records = %+v; want a's second", recs)
	}
	if y := c.Years(); len(y) != 2 || y[0] != 2028 {
		t.Errorf("years = %v", y)
	}
}
