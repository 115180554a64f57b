package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/internal/statcsv"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/ui"
)

// The statistics page: per hour of a day the arrivals, waits, service
// times, no-shows and how right the shown estimate was, with the day's
// totals and a CSV export. Every logged-in staff member may see it: the
// figures are the site's, with nothing about a clerk or a citizen.

// statDays is how many recent days the day picker lists.
const statDays = 60

type statsPage struct {
	SiteName string
	Day      string
	Prev     string
	Next     string // "" when Day is today or later
	Days     []string
	Hours    []statcsv.Row
	Total    statcsv.Row
	CSV      string
	// Calibration is how the estimate has calibrated itself so far (all
	// days, not only Day).
	Calibration []calibrationRow
}

// calibrationRow is one line of the estimate's self-calibration: the
// service (or the site's, all services), the phase of the day and length
// of the waits shown, the factor on the P90's margin, and how many of the
// walk-ins measured waited longer than the P90 they were shown.
type calibrationRow struct {
	Service, Phase, Wait string
	Margin               string // "×1,25"
	Over, Seen           int
	Share                string // "9,8 %"
}

func calibrationRows(st *queue.State, lang, mark string) []calibrationRow {
	var out []calibrationRow
	num := func(x float64, digits int) string {
		return strings.Replace(strconv.FormatFloat(x, 'f', digits, 64), ".", mark, 1)
	}
	for _, c := range st.Calibrations() {
		name := ui.Translate(lang, "calib.site")
		if svc := st.Services[c.Service]; svc != nil {
			name = ui.ServiceName(lang, svc.ID, svc.Name, svc.NameEN)
		}
		wait := ui.Translate(lang, "calib.short")
		if c.Long {
			wait = ui.Translate(lang, "calib.long")
		}
		out = append(out, calibrationRow{Service: name, Phase: ui.Translate(lang, "calib.phase."+strconv.Itoa(c.Phase)), Wait: wait,
			Margin: "×" + num(c.P90, 2), Over: c.Over, Seen: c.Seen, Share: num(100*float64(c.Over)/float64(max(c.Seen, 1)), 1) + " %"})
	}
	return out
}

// statDay is the requested day, or today in the site's time zone.
func (s *Server) statDay(r *http.Request) (string, time.Time) {
	var loc *time.Location
	s.Store.View(func(st *queue.State) { loc = st.Site.Location })
	if d, err := time.ParseInLocation(time.DateOnly, r.URL.Query().Get("day"), loc); err == nil {
		return d.Format(time.DateOnly), d
	}
	now := s.current().In(loc)
	d := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	return d.Format(time.DateOnly), d
}

func (s *Server) deskStats(w http.ResponseWriter, r *http.Request) {
	day, start := s.statDay(r)
	stats, err := s.Store.DayStats(r.Context(), day)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	days, err := s.Store.StatDays(r.Context(), statDays)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	lang := ui.Lang(w, r, ui.StaffLangs...)
	mark := ","
	if lang == "en" {
		mark = "."
	}
	total := ui.Translate(lang, "stats.total")
	p := statsPage{Day: day, Days: days, Prev: start.AddDate(0, 0, -1).Format(time.DateOnly),
		Total: statcsv.RowOf(stats.Total, mark, total), CSV: "/desk/stats.csv?day=" + day}
	if next := start.AddDate(0, 0, 1); !next.After(s.current()) {
		p.Next = next.Format(time.DateOnly)
	}
	for _, f := range stats.Hours {
		p.Hours = append(p.Hours, statcsv.RowOf(f, mark, total))
	}
	s.Store.View(func(st *queue.State) {
		p.SiteName = st.Site.Name
		p.Calibration = calibrationRows(st, lang, mark)
	})
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "desk_stats", "desk", ui.Translate(lang, "stats.title"), p)
}

func (s *Server) deskStatsCSV(w http.ResponseWriter, r *http.Request) {
	day, _ := s.statDay(r)
	if q := r.URL.Query().Get("day"); q != "" {
		day = q // a malformed day is refused (EINVALID), not replaced by today
	}
	stats, err := s.Store.DayStats(r.Context(), day)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	var name string
	s.Store.View(func(st *queue.State) { name = st.Site.Name })
	filename := "veedel-statistik-" + s.Store.Site() + "-" + day + ".csv"
	if err := statcsv.Serve(w, filename, []statcsv.Site{{Name: name, DayStats: stats}}); err != nil {
		s.Logger.Warn("stats csv", "route", web.Route(r), "err", err)
	}
}
