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
	NotMeasured  = "nicht_gemessen"  // BMI not measured
	NoRecommend  = "keine_angabe"    // no recommendation given
	PassShown    = "vorgelegt"       // Impfpass shown
	PassNotShown = "nicht_vorgelegt" // Impfpass not shown
	Complete     = "vollstaendig"    // basic immunisation complete
	Incomplete   = "unvollstaendig"
	Proof        = "nachweis" // measles proof (Masernschutzgesetz)
	NoProof      = "kein_nachweis"
)

// Bases of the tables: who a table counts.
const (
	BaseChildren = "kinder"             // every child examined
	BaseImpfpass = "impfpass_vorgelegt" // the children whose Impfpass was seen
)

// Table IDs besides "sopess_" + domain and "impfung_" + antigen.
const (
	TableBMI            = "bmi"
	TableVision         = "sehen"
	TableHearing        = "hoeren"
	TableRecommendation = "empfehlung"
	TableImpfpass       = "impfpass"
	TableMeaslesProof   = "masernschutz"
	TableSOPESSPrefix   = "sopess_"
	TableVaccinePrefix  = "impfung_"
)

// BMIClasses lists the BMI columns in report order.
var BMIClasses = []string{BMISevereUnderweight, BMIUnderweight, BMINormal, BMIOverweight, BMIObese, NotMeasured}

// ScreeningFindings are the columns of vision and hearing.
var ScreeningFindings = []string{FindingNormal, FindingBorderline, FindingAbnormal, FindingTreated, FindingNotTested}

// SOPESSFindings are the columns of a SOPESS domain.
var SOPESSFindings = []string{FindingNormal, FindingBorderline, FindingAbnormal, FindingNotTested}

// Recommendations lists the recommendation columns.
var Recommendations = []string{RecommendReady, RecommendReadyWithAid, RecommendDeferral, RecommendSpecialNeedsAO, NoRecommend}

// Report is a school year's tables.
type Report struct {
	Year int `json:"year"`
	// Children is the number of children counted (null when small).
	Children  Cell     `json:"children"`
	Districts []string `json:"districts"`
	Tables    []Table  `json:"tables"`
	// SmallCell is the smallest count shown.
	SmallCell int `json:"small_cell"`
}

// Table is one finding by district.
type Table struct {
	ID      string   `json:"id"`
	Base    string   `json:"base"`
	Columns []string `json:"columns"`
	// Rows are the districts in Report.Districts' order; Total is the
	// city's row.
	Rows  []Row `json:"rows"`
	Total Row   `json:"total"`
}

// Row is a district's (or the city's) counts: Cells in the table's
// column order, and their Total.
type Row struct {
	District string `json:"district,omitempty"`
	Cells    []Cell `json:"cells"`
	Total    Cell   `json:"total"`
}

// Cell is a count; N is null and Suppressed true when it is not shown.
type Cell struct {
	N          *int `json:"n"`
	Suppressed bool `json:"suppressed,omitempty"`
}

// Value returns the count and whether it is shown.
func (c Cell) Value() (int, bool) {
	if c.N == nil {
		return 0, false
	}
	return *c.N, true
}

// Table returns the report's table with id.
func (r Report) Table(id string) (Table, bool) {
	for _, t := range r.Tables {
		if t.ID == id {
			return t, true
		}
	}
	return Table{}, false
}

// Rate is part/whole in percent, false when either is not shown or whole
// is zero.
func Rate(part, whole Cell) (float64, bool) {
	p, ok1 := part.Value()
	w, ok2 := whole.Value()
	if !ok1 || !ok2 || w == 0 {
		return 0, false
	}
	return 100 * float64(p) / float64(w), true
}

// tableSpec says how a table counts a record: the category of the
// record, "" when the record is outside the table's base.
type tableSpec struct {
	id, base string
	columns  []string
	category func(Statistics) string
}

func oneOf(v string, allowed []string, otherwise string) string {
	if slices.Contains(allowed, v) {
		return v
	}
	return otherwise
}

func specs() []tableSpec {
	out := []tableSpec{
		{TableBMI, BaseChildren, BMIClasses, func(s Statistics) string { return oneOf(s.BMIClass, BMIClasses, NotMeasured) }},
		{TableVision, BaseChildren, ScreeningFindings, func(s Statistics) string { return oneOf(s.Vision, ScreeningFindings, FindingNotTested) }},
		{TableHearing, BaseChildren, ScreeningFindings, func(s Statistics) string { return oneOf(s.Hearing, ScreeningFindings, FindingNotTested) }},
	}
	for _, d := range Domains {
		out = append(out, tableSpec{TableSOPESSPrefix + d, BaseChildren, SOPESSFindings, func(s Statistics) string {
			return oneOf(s.SOPESS[d], SOPESSFindings, FindingNotTested)
		}})
	}
	out = append(out,
		tableSpec{TableRecommendation, BaseChildren, Recommendations, func(s Statistics) string { return oneOf(s.Recommendation, Recommendations, NoRecommend) }},
		tableSpec{TableImpfpass, BaseChildren, []string{PassShown, PassNotShown}, func(s Statistics) string {
			if s.ImpfpassShown {
				return PassShown
			}
			return PassNotShown
		}},
		tableSpec{TableMeaslesProof, BaseChildren, []string{Proof, NoProof}, func(s Statistics) string {
			if s.MeaslesProof {
				return Proof
			}
			return NoProof
		}},
	)
	for _, v := range Vaccines {
		out = append(out, tableSpec{TableVaccinePrefix + v, BaseImpfpass, []string{Complete, Incomplete}, func(s Statistics) string {
			switch {
			case !s.ImpfpassShown:
				return ""
			case s.Vaccines[v]:
				return Complete
			}
			return Incomplete
		}})
	}
	return out
}

// BuildReport counts the records of one year into the tables and
// suppresses their small cells.
func BuildReport(year int, records []Statistics) Report {
	rep := buildWith(newSuppressor(), records)
	rep.Year = year
	return rep
}

// buildWith builds the report with s (tests look into s afterwards).
func buildWith(s *suppressor, records []Statistics) Report {
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
	for _, base := range []string{BaseChildren, BaseImpfpass} {
		keys := []string{}
		for _, d := range append(slices.Clone(districts), all) {
			n := 0
			for _, r := range records {
				if (d == all || strings.TrimSpace(r.District) == d) && (base == BaseChildren || r.ImpfpassShown) {
					n++
				}
			}
			s.cell(baseKey(base, d), n)
			keys = append(keys, baseKey(base, d))
		}
		s.line(keys...)
	}
	sp := specs()
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
				k := cellKey(t, d, c)
				s.cell(k, counts[d+"\x00"+c])
				row = append(row, k)
			}
			s.line(append(row, baseKey(t.base, d))...)
		}
		for _, c := range t.columns {
			col := []string{}
			for _, d := range append(slices.Clone(districts), all) {
				col = append(col, cellKey(t, d, c))
			}
			s.line(col...)
		}
	}
	s.run()

	rep := Report{Year: year, Districts: districts, Children: s.shown(baseKey(BaseChildren, all)), SmallCell: SmallCell}
	for _, t := range sp {
		tab := Table{ID: t.id, Base: t.base, Columns: t.columns}
		for _, d := range append(slices.Clone(districts), all) {
			row := Row{District: d, Total: s.shown(baseKey(t.base, d))}
			for _, c := range t.columns {
				row.Cells = append(row.Cells, s.shown(cellKey(t, d, c)))
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

func baseKey(base, district string) string { return "base\x00" + base + "\x00" + district }

// cellKey names a table's cell; the Impfpass shown column is the base of
// the vaccines' tables, one cell in both.
func cellKey(t tableSpec, district, column string) string {
	if t.id == TableImpfpass && column == PassShown {
		return baseKey(BaseImpfpass, district)
	}
	return "cell\x00" + t.id + "\x00" + district + "\x00" + column
}

// suppressor finds the cells to suppress over a set of linear relations
// (lines: the cells of each sum to the others' sum, e.g. a row and its
// total), a cell being one count wherever it appears.
type suppressor struct {
	val   map[string]int
	sup   map[string]bool
	lines [][]string
	deg   map[string]int
}

func newSuppressor() *suppressor {
	return &suppressor{val: map[string]int{}, sup: map[string]bool{}, deg: map[string]int{}}
}

func (s *suppressor) cell(key string, n int) { s.val[key] = n }

func (s *suppressor) line(keys ...string) {
	s.lines = append(s.lines, keys)
	for _, k := range keys {
		s.deg[k]++
	}
}

// run suppresses the small cells, then, until every line has none or at
// least two suppressed, one more cell of each line with exactly one.
func (s *suppressor) run() {
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
func (s *suppressor) cost(k string) int {
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
func (s *suppressor) consistent() bool {
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

func (s *suppressor) shown(key string) Cell {
	if s.sup[key] {
		return Cell{Suppressed: true}
	}
	n := s.val[key]
	return Cell{N: &n}
}
