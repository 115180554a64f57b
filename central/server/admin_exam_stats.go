package server

import (
	"encoding/csv"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/internal/statcsv"
	"github.com/veedel/veedel/ui"
)

// The statistics of the school-entry exams (/admin/exam/statistics): the
// yearly tables (exam.StatsReport, small cells suppressed), the vaccination
// rates, two charts drawn on the server as SVG (each with its title,
// description and its figures as a table beside it), and the tables as
// CSV in statcsv's format.

// suppressedMark stands for a suppressed count in the CSV, as the
// statistical offices print it ("Zahlenwert geheim zu halten").
const suppressedMark = "."

type examStatsData struct {
	Frame     adminFrame
	Year      int
	YearLabel string
	Years     []int
	Children  string
	Tables    []statTable // the vaccination rates first
	Charts    []statChart
	CSV       string
	Empty     bool
}

// statTable is a table as the page shows it.
type statTable struct {
	ID, Title string
	Rates     bool // percentages, no total column
	Columns   []string
	Rows      []statRow
}

type statRow struct {
	Rates bool
	Name  string
	Cells []statCell
	Total statCell
	City  bool
}

type statCell struct {
	Text       string
	Suppressed bool
}

type statChart struct {
	ID, Title, Desc string
	SVG             template.HTML
	Bars            []chartBar
}

type chartBar struct {
	Label, Value string
	Percent      float64
	Shown        bool
}

func (s *Server) examReport(w http.ResponseWriter, r *http.Request) (exam.StatsReport, bool) {
	year, err := s.schoolYear(r)
	if err != nil {
		s.renderAdminError(w, r, err)
		return exam.StatsReport{}, false
	}
	return s.Central.ExamReport(year), true
}

// examTableTitle names a table in lang.
func examTableTitle(lang, id string) string {
	switch {
	case strings.HasPrefix(id, exam.StatsTableSOPESSPrefix):
		return ui.Translate(lang, "examstats.table.sopess", ui.Translate(lang, "examstats.domain."+strings.TrimPrefix(id, exam.StatsTableSOPESSPrefix)))
	case strings.HasPrefix(id, exam.StatsTableVaccinePrefix):
		return ui.Translate(lang, "examstats.table.vaccine", ui.Translate(lang, "examstats.vaccine."+strings.TrimPrefix(id, exam.StatsTableVaccinePrefix)))
	}
	return ui.Translate(lang, "examstats.table."+id)
}

func countText(c exam.StatsCell) statCell {
	if n, ok := c.Value(); ok {
		return statCell{Text: strconv.Itoa(n)}
	}
	return statCell{Text: suppressedMark, Suppressed: true}
}

func percentText(lang string, v float64) string {
	s := strconv.FormatFloat(v, 'f', 1, 64)
	if lang != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s + " %"
}

func (s *Server) adminExamStats(w http.ResponseWriter, r *http.Request) {
	rep, ok := s.examReport(w, r)
	if !ok {
		return
	}
	lang := ui.Lang(w, r)
	d := examStatsData{Frame: s.frame(r, "exam"), Year: rep.Year, YearLabel: yearLabel(rep.Year), Years: s.Central.ExamYears(),
		Children: countText(rep.Children).Text, CSV: fmt.Sprintf("/admin/exam/statistics.csv?year=%d", rep.Year)}
	if n, ok := rep.Children.Value(); ok && n == 0 {
		d.Empty = true
	}
	city := ui.Translate(lang, "examstats.city")
	for _, t := range rep.Tables {
		st := statTable{ID: t.ID, Title: examTableTitle(lang, t.ID)}
		for _, c := range t.Columns {
			st.Columns = append(st.Columns, ui.Translate(lang, "examstats.cat."+c))
		}
		for _, row := range append(append([]exam.StatsRow{}, t.Rows...), t.Total) {
			sr := statRow{Name: row.District, Total: countText(row.Total), City: row.District == ""}
			if sr.City {
				sr.Name = city
			}
			for _, c := range row.Cells {
				sr.Cells = append(sr.Cells, countText(c))
			}
			st.Rows = append(st.Rows, sr)
		}
		d.Tables = append(d.Tables, st)
	}
	d.Tables = append([]statTable{vaccinationRates(lang, rep, city)}, d.Tables...)
	d.Charts = examCharts(lang, rep)
	s.renderAdmin(w, r, http.StatusOK, "admin_exam_stats", "examstats.title", "", "", d)
}

// vaccinationRates is the share of complete basic immunisation per
// antigen and district, among the children whose Impfpass was seen, and
// the share with measles proof among all: "." where a count is
// suppressed.
func vaccinationRates(lang string, rep exam.StatsReport, city string) statTable {
	st := statTable{ID: "rates", Title: ui.Translate(lang, "examstats.rates.h"), Rates: true}
	var tables []exam.StatsTable
	for _, v := range exam.Vaccines {
		if t, ok := rep.Table(exam.StatsTableVaccinePrefix + v); ok {
			tables = append(tables, t)
			st.Columns = append(st.Columns, ui.Translate(lang, "examstats.vaccine."+v))
		}
	}
	proof, _ := rep.Table(exam.StatsTableMeaslesProof)
	st.Columns = append(st.Columns, ui.Translate(lang, "examstats.table."+exam.StatsTableMeaslesProof))
	rate := func(part, whole exam.StatsCell) statCell {
		if v, ok := exam.StatsRate(part, whole); ok {
			return statCell{Text: percentText(lang, v)}
		}
		return statCell{Text: suppressedMark, Suppressed: part.Suppressed || whole.Suppressed}
	}
	for i := 0; i <= len(rep.Districts); i++ {
		sr := statRow{City: i == len(rep.Districts), Rates: true}
		if sr.City {
			sr.Name = city
		} else {
			sr.Name = rep.Districts[i]
		}
		row := func(t exam.StatsTable) exam.StatsRow {
			if sr.City {
				return t.Total
			}
			return t.Rows[i]
		}
		for _, t := range tables {
			rw := row(t)
			sr.Cells = append(sr.Cells, rate(rw.Cells[0], rw.Total))
		}
		if len(proof.Columns) > 0 {
			rw := row(proof)
			sr.Cells = append(sr.Cells, rate(rw.Cells[0], rw.Total))
		}
		st.Rows = append(st.Rows, sr)
	}
	return st
}

// examCharts draws the city's BMI classes and vaccination rates.
func examCharts(lang string, rep exam.StatsReport) []statChart {
	var charts []statChart
	if t, ok := rep.Table(exam.StatsTableBMI); ok {
		c := statChart{ID: "chart-bmi", Title: ui.Translate(lang, "examstats.chart.bmi"), Desc: ui.Translate(lang, "examstats.chart.bmi.desc", rep.Year)}
		for i, col := range t.Columns {
			b := chartBar{Label: ui.Translate(lang, "examstats.cat."+col), Value: suppressedMark}
			if v, ok := exam.StatsRate(t.Total.Cells[i], t.Total.Total); ok {
				b.Percent, b.Value, b.Shown = v, percentText(lang, v), true
			}
			c.Bars = append(c.Bars, b)
		}
		charts = append(charts, c)
	}
	c := statChart{ID: "chart-vaccines", Title: ui.Translate(lang, "examstats.chart.vaccines"), Desc: ui.Translate(lang, "examstats.chart.vaccines.desc", rep.Year)}
	for _, v := range exam.Vaccines {
		t, ok := rep.Table(exam.StatsTableVaccinePrefix + v)
		if !ok {
			continue
		}
		b := chartBar{Label: ui.Translate(lang, "examstats.vaccine."+v), Value: suppressedMark}
		if p, ok := exam.StatsRate(t.Total.Cells[0], t.Total.Total); ok {
			b.Percent, b.Value, b.Shown = p, percentText(lang, p), true
		}
		c.Bars = append(c.Bars, b)
	}
	charts = append(charts, c)
	for i := range charts {
		charts[i].SVG = barChartSVG(charts[i], ui.Translate(lang, "examstats.suppressed"))
	}
	return charts
}

// barChartSVG draws horizontal bars from 0 to 100 %: an image with its
// title and description (role img, labelled by both); the figures are
// in the table beside it.
func barChartSVG(c statChart, suppressed string) template.HTML {
	const labelW, barW, rowH, pad = 190.0, 300.0, 24.0, 8.0
	width := labelW + barW + 80
	height := pad*2 + rowH*float64(len(c.Bars)) + 18
	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="100%%" role="img" aria-labelledby="%s-title %s-desc" class="chart" preserveAspectRatio="xMinYMin meet">`,
		width, height, c.ID, c.ID)
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, c.ID, esc(c.Title), c.ID, esc(c.Desc))
	for _, tick := range []float64{0, 50, 100} {
		x := labelW + barW*tick/100
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#767676" stroke-width="0.5"/>`, x, pad, x, height-18)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="#333">%.0f %%</text>`, x, height-4, tick)
	}
	for i, bar := range c.Bars {
		y := pad + rowH*float64(i)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="12" text-anchor="end" fill="#1a1a1a">%s</text>`, labelW-6, y+rowH*0.65, esc(bar.Label))
		if bar.Shown {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#1d5fa6"/>`, labelW, y+4, barW*bar.Percent/100, rowH-8)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="12" fill="#1a1a1a">%s</text>`, labelW+barW*bar.Percent/100+4, y+rowH*0.65, esc(bar.Value))
		} else {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="12" fill="#555">%s (%s)</text>`, labelW+4, y+rowH*0.65, esc(suppressedMark), esc(suppressed))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// adminExamStatsCSV writes the tables as CSV (statcsv's format: BOM,
// semicolons, CRLF), one line per table, district and category; a
// suppressed count is ".".
func (s *Server) adminExamStatsCSV(w http.ResponseWriter, r *http.Request) {
	rep, ok := s.examReport(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fmt.Sprintf("schuleingangsuntersuchung-%d.csv", rep.Year)}))
	w.Header().Set("Cache-Control", "no-store")
	if err := writeExamCSV(w, rep); err != nil {
		s.Logger.Warn("exam csv", "err", err)
	}
}

func writeExamCSV(w http.ResponseWriter, rep exam.StatsReport) error {
	if _, err := w.Write([]byte(statcsv.BOM)); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Comma, cw.UseCRLF = ';', true
	cw.Write([]string{"Schuljahr", "Tabelle", "Schulbezirk", "Kategorie", "Kinder"})
	year := fmt.Sprintf("%d/%02d", rep.Year, (rep.Year+1)%100)
	for _, t := range rep.Tables {
		title := examTableTitle("de", t.ID)
		for _, row := range append(append([]exam.StatsRow{}, t.Rows...), t.Total) {
			district := row.District
			if district == "" {
				district = "Gesamt"
			}
			for i, c := range row.Cells {
				cw.Write([]string{year, title, district, ui.Translate("de", "examstats.cat."+t.Columns[i]), countText(c).Text})
			}
			cw.Write([]string{year, title, district, "Gesamt", countText(row.Total).Text})
		}
	}
	cw.Flush()
	return cw.Error()
}
