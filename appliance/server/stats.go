package server

import (
	"net/http"
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
	s.Store.View(func(st *queue.State) { p.SiteName = st.Site.Name })
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
