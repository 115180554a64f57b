package exam

import (
	"cmp"
	"slices"
	"strings"
)

// The yearly tables of the school-entry report, in the shape of the NRW
// report (Schuleingangsuntersuchungen, Landeszentrum Gesundheit): one
// table per finding, a row per school district and one for the city, a
// column per category and the row's total.
//
// Small cells: a count of 1 to SmallCell-1 children is never shown
// (primary suppression), and so that none can be worked out again from
// the totals beside it, every linear relation a reader sees (a row and
// its total, a column and its total, the districts' totals and the
// city's) is made to hold either no suppressed cell or at least two
// (complementary suppression). The relations span the tables: a
// district's number of children is the total of every table counted over
// all children, and the number with an Impfpass shown is both a column
// of the Impfpass table and the total of every vaccine's table, so each
// such count is one cell, suppressed everywhere or nowhere. Complements
// are the cells that unsettle the fewest other relations (a cell whose
// other relations hold two hidden cells already costs nothing), then the
// smallest non-zero counts, then cells shared by fewer relations. A zero
// is shown: it is nobody's data.

// Column codes beside the contract's categories.
const (
	StatsNotMeasured  = "nicht_gemessen"  // BMI not measured
	StatsNoRecommend  = "keine_angabe"    // no recommendation given
	StatsPassShown    = "vorgelegt"       // Impfpass shown
	StatsPassNotShown = "nicht_vorgelegt" // Impfpass not shown
	StatsComplete     = "vollstaendig"    // basic immunisation complete
	StatsIncomplete   = "unvollstaendig"
	StatsProof        = "nachweis" // measles proof (Masernschutzgesetz)
	StatsNoProof      = "kein_nachweis"
)

// Bases of the tables: who a table counts.
const (
	StatsBaseChildren = "kinder"             // every child examined
	StatsBaseImpfpass = "impfpass_vorgelegt" // the children whose Impfpass was seen
)

// Table IDs besides "sopess_" + domain and "impfung_" + antigen.
const (
	StatsTableBMI            = "bmi"
	StatsTableVision         = "sehen"
	StatsTableHearing        = "hoeren"
	StatsTableRecommendation = "empfehlung"
	StatsTableImpfpass       = "impfpass"
	StatsTableMeaslesProof   = "masernschutz"
	StatsTableSOPESSPrefix   = "sopess_"
	StatsTableVaccinePrefix  = "impfung_"
)

// StatsBMIClasses lists the BMI columns in report order.
var StatsBMIClasses = []string{BMISevereUnderweight, BMIUnderweight, BMINormal, BMIOverweight, BMIObese, StatsNotMeasured}

// StatsScreeningFindings are the columns of vision and hearing.
var StatsScreeningFindings = []string{FindingNormal, FindingBorderline, FindingAbnormal, FindingTreated, FindingNotTested}

// StatsSOPESSFindings are the columns of a SOPESS domain.
var StatsSOPESSFindings = []string{FindingNormal, FindingBorderline, FindingAbnormal, FindingNotTested}

// StatsRecommendations lists the recommendation columns.
var StatsRecommendations = []string{RecommendReady, RecommendReadyWithAid, RecommendDeferral, RecommendSpecialNeedsAO, StatsNoRecommend}

// StatsReport is a school year's tables.
type StatsReport struct {
	Year int `json:"year"`
	// Children is the number of children counted (null when small).
	Children  StatsCell    `json:"children"`
	Districts []string     `json:"districts"`
	Tables    []StatsTable `json:"tables"`
	// SmallCell is the smallest count shown.
	SmallCell int `json:"small_cell"`
}

// StatsTable is one finding by district.
type StatsTable struct {
	ID      string   `json:"id"`
	Base    string   `json:"base"`
	Columns []string `json:"columns"`
	// Rows are the districts in StatsReport.Districts' order; Total is the
	// city's row.
	Rows  []StatsRow `json:"rows"`
	Total StatsRow   `json:"total"`
}

// StatsRow is a district's (or the city's) counts: Cells in the table's
// column order, and their Total.
type StatsRow struct {
	District string      `json:"district,omitempty"`
	Cells    []StatsCell `json:"cells"`
	Total    StatsCell   `json:"total"`
}

// StatsCell is a count; N is null and Suppressed true when it is not shown.
type StatsCell struct {
	N          *int `json:"n"`
	Suppressed bool `json:"suppressed,omitempty"`
}

// Value returns the count and whether it is shown.
func (c StatsCell) Value() (int, bool) {
	if c.N == nil {
		return 0, false
	}
	return *c.N, true
}

// Table returns the report's table with id.
func (r StatsReport) Table(id string) (StatsTable, bool) {
	for _, t := range r.Tables {
		if t.ID == id {
			return t, true
		}
	}
	return StatsTable{}, false
}

// StatsRate is part/whole in percent, false when either is not shown or whole
// is zero.
func StatsRate(part, whole StatsCell) (float64, bool) {
	p, ok1 := part.Value()
	w, ok2 := whole.Value()
	if !ok1 || !ok2 || w == 0 {
		return 0, false
	}
	return 100 * float64(p) / float64(w), true
}

// statsTableSpec says how a table counts a record: the category of the
// record, "" when the record is outside the table's base.
type statsTableSpec struct {
	id, base string
	columns  []string
	category func(Statistics) string
}

func statsOneOf(v string, allowed []string, otherwise string) string {
	if slices.Contains(allowed, v) {
		return v
	}
	return otherwise
}

func statsSpecs() []statsTableSpec {
	out := []statsTableSpec{
		{StatsTableBMI, StatsBaseChildren, StatsBMIClasses, func(s Statistics) string { return statsOneOf(s.BMIClass, StatsBMIClasses, StatsNotMeasured) }},
		{StatsTableVision, StatsBaseChildren, StatsScreeningFindings, func(s Statistics) string { return statsOneOf(s.Vision, StatsScreeningFindings, FindingNotTested) }},
		{StatsTableHearing, StatsBaseChildren, StatsScreeningFindings, func(s Statistics) string { return statsOneOf(s.Hearing, StatsScreeningFindings, FindingNotTested) }},
	}
	for _, d := range Domains {
		out = append(out, statsTableSpec{StatsTableSOPESSPrefix + d, StatsBaseChildren, StatsSOPESSFindings, func(s Statistics) string {
			return statsOneOf(s.SOPESS[d], StatsSOPESSFindings, FindingNotTested)
		}})
	}
	out = append(out,
		statsTableSpec{StatsTableRecommendation, StatsBaseChildren, StatsRecommendations, func(s Statistics) string { return statsOneOf(s.Recommendation, StatsRecommendations, StatsNoRecommend) }},
		statsTableSpec{StatsTableImpfpass, StatsBaseChildren, []string{StatsPassShown, StatsPassNotShown}, func(s Statistics) string {
			if s.ImpfpassShown {
				return StatsPassShown
			}
			return StatsPassNotShown
		}},
		statsTableSpec{StatsTableMeaslesProof, StatsBaseChildren, []string{StatsProof, StatsNoProof}, func(s Statistics) string {
			if s.MeaslesProof {
				return StatsProof
			}
			return StatsNoProof
		}},
	)
	for _, v := range Vaccines {
		out = append(out, statsTableSpec{StatsTableVaccinePrefix + v, StatsBaseImpfpass, []string{StatsComplete, StatsIncomplete}, func(s Statistics) string {
			switch {
			case !s.ImpfpassShown:
				return ""
			case s.Vaccines[v]:
				return StatsComplete
			}
			return StatsIncomplete
		}})
	}
	return out
}

// BuildStatsReport counts the records of one year into the tables and
// suppresses their small cells.
func BuildStatsReport(year int, records []Statistics) StatsReport {
	rep := statsBuildWith(newStatsSuppressor(), records)
	rep.Year = year
	return rep
}

// statsBuildWith builds the report with s (tests look into s afterwards).
func statsBuildWith(s *statsSuppressor, records []Statistics) StatsReport {
	year := 0
	districts := []string{}
	for _, r := range records {
		d := strings.TrimSpace(r.District)
		if !slices.Contains(districts, d) {
			districts = append(districts, d)
		}
	}
	slices.Sort(districts)
	all := "*"
	// The bases' totals: per district and the city's.
	for _, base := range []string{StatsBaseChildren, StatsBaseImpfpass} {
		keys := []string{}
		for _, d := range append(slices.Clone(districts), all) {
			n := 0
			for _, r := range records {
				if (d == all || strings.TrimSpace(r.District) == d) && (base == StatsBaseChildren || r.ImpfpassShown) {
					n++
				}
			}
			s.cell(statsBaseKey(base, d), n)
			keys = append(keys, statsBaseKey(base, d))
		}
		s.line(keys...)
	}
	sp := statsSpecs()
	for _, t := range sp {
		counts := map[string]int{}
		for _, r := range records {
			if c := t.category(r); c != "" {
				counts[strings.TrimSpace(r.District)+"\x00"+c]++
				counts[all+"\x00"+c]++
			}
		}
		for _, d := range append(slices.Clone(districts), all) {
			row := []string{}
			for _, c := range t.columns {
				k := statsCellKey(t, d, c)
				s.cell(k, counts[d+"\x00"+c])
				row = append(row, k)
			}
			s.line(append(row, statsBaseKey(t.base, d))...)
		}
		for _, c := range t.columns {
			col := []string{}
			for _, d := range append(slices.Clone(districts), all) {
				col = append(col, statsCellKey(t, d, c))
			}
			s.line(col...)
		}
	}
	s.run()

	rep := StatsReport{Year: year, Districts: districts, Children: s.shown(statsBaseKey(StatsBaseChildren, all)), SmallCell: SmallCell}
	for _, t := range sp {
		tab := StatsTable{ID: t.id, Base: t.base, Columns: t.columns}
		for _, d := range append(slices.Clone(districts), all) {
			row := StatsRow{District: d, Total: s.shown(statsBaseKey(t.base, d))}
			for _, c := range t.columns {
				row.Cells = append(row.Cells, s.shown(statsCellKey(t, d, c)))
			}
			if d == all {
				row.District = ""
				tab.Total = row
			} else {
				tab.Rows = append(tab.Rows, row)
			}
		}
		rep.Tables = append(rep.Tables, tab)
	}
	return rep
}

func statsBaseKey(base, district string) string { return "base\x00" + base + "\x00" + district }

// statsCellKey names a table's cell; the Impfpass shown column is the base of
// the vaccines' tables, one cell in both.
func statsCellKey(t statsTableSpec, district, column string) string {
	if t.id == StatsTableImpfpass && column == StatsPassShown {
		return statsBaseKey(StatsBaseImpfpass, district)
	}
	return "cell\x00" + t.id + "\x00" + district + "\x00" + column
}

// statsSuppressor finds the cells to suppress over a set of linear relations
// (lines: the cells of each sum to the others' sum, e.g. a row and its
// total), a cell being one count wherever it appears.
type statsSuppressor struct {
	val   map[string]int
	sup   map[string]bool
	lines [][]string
	deg   map[string]int
}

func newStatsSuppressor() *statsSuppressor {
	return &statsSuppressor{val: map[string]int{}, sup: map[string]bool{}, deg: map[string]int{}}
}

func (s *statsSuppressor) cell(key string, n int) { s.val[key] = n }

func (s *statsSuppressor) line(keys ...string) {
	s.lines = append(s.lines, keys)
	for _, k := range keys {
		s.deg[k]++
	}
}

// run suppresses the small cells, then, until every line has none or at
// least two suppressed, one more cell of each line with exactly one.
func (s *statsSuppressor) run() {
	for k, v := range s.val {
		if v > 0 && v < SmallCell {
			s.sup[k] = true
		}
	}
	for changed := true; changed; {
		changed = false
		for _, l := range s.lines {
			n := 0
			for _, k := range l {
				if s.sup[k] {
					n++
				}
			}
			if n != 1 {
				continue
			}
			cand := slices.DeleteFunc(slices.Clone(l), func(k string) bool { return s.sup[k] })
			if len(cand) == 0 {
				continue
			}
			cost := map[string]int{}
			for _, k := range cand {
				cost[k] = s.cost(k)
			}
			slices.SortFunc(cand, func(a, b string) int {
				va, vb := s.val[a], s.val[b]
				if c := cmp.Compare(cost[a], cost[b]); c != 0 {
					return c
				}
				if (va == 0) != (vb == 0) {
					if va == 0 {
						return 1
					}
					return -1
				}
				return cmp.Or(cmp.Compare(va, vb), cmp.Compare(s.deg[a], s.deg[b]), cmp.Compare(a, b))
			})
			s.sup[cand[0]] = true
			changed = true
		}
	}
}

// cost is what suppressing k does to the other relations it is in: one
// more for each that would then hold exactly one suppressed cell, one
// less for each that holds one now (it would be settled too).
func (s *statsSuppressor) cost(k string) int {
	c := 0
	for _, l := range s.lines {
		if !slices.Contains(l, k) {
			continue
		}
		n := 0
		for _, o := range l {
			if s.sup[o] {
				n++
			}
		}
		switch n {
		case 0:
			c++
		case 1:
			c--
		}
	}
	return c
}

// consistent reports, for tests, whether every relation holds no suppressed
// cell or at least two.
func (s *statsSuppressor) consistent() bool {
	for _, l := range s.lines {
		n := 0
		for _, k := range l {
			if s.sup[k] {
				n++
			}
		}
		if n == 1 {
			return false
		}
	}
	return true
}

func (s *statsSuppressor) shown(key string) StatsCell {
	if s.sup[key] {
		return StatsCell{Suppressed: true}
	}
	n := s.val[key]
	return StatsCell{N: &n}
}
