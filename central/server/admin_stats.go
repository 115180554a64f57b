package server

import (
	"net/http"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/internal/statcsv"
	"github.com/veedel/veedel/ui"
)

// The statistics page: per site and day the same figures the site's desk
// shows (central.DayStats computes them from the stored log with the same
// rules), the day's totals per site, a site's hours on request (?site=),
// and all of it as CSV.

var cologne = func() *time.Location {
	if loc, err := time.LoadLocation("Europe/Berlin"); err == nil {
		return loc
	}
	return time.UTC
}()

type statsPageData struct {
	Frame adminFrame
	Day   string
	Prev  string
	Next  string
	Sites []siteStatsRow
	// Site is the site whose hours are shown, with its hours.
	Site  string
	Hours []statcsv.Row
	CSV   string
}

type siteStatsRow struct {
	ID, Name string
	statcsv.Row
	Selected bool
}

// adminStatDay is the requested day (YYYY-MM-DD), or today in Cologne.
func (s *Server) adminStatDay(r *http.Request) (string, time.Time, error) {
	q := r.URL.Query().Get("day")
	if q == "" {
		now := s.now().In(cologne)
		d := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, cologne)
		return d.Format(time.DateOnly), d, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, q, cologne)
	if err != nil {
		return "", time.Time{}, veedel.Errorf(veedel.EINVALID, "Tag %q ungültig, erwartet JJJJ-MM-TT / invalid day, want YYYY-MM-DD", q)
	}
	return q, d, nil
}

func (s *Server) adminStats(w http.ResponseWriter, r *http.Request) {
	day, start, err := s.adminStatDay(r)
	if err != nil {
		s.renderAdminError(w, r, err)
		return
	}
	all, err := s.Central.AllDayStats(r.Context(), day)
	if err != nil {
		s.renderAdminError(w, r, err)
		return
	}
	lang := ui.Lang(w, r)
	mark, total := ",", ui.Translate(lang, "stats.total")
	if lang == "en" {
		mark = "."
	}
	d := statsPageData{Frame: s.frame(r, "stats"), Day: day, Prev: start.AddDate(0, 0, -1).Format(time.DateOnly),
		Site: r.URL.Query().Get("site"), CSV: "/admin/stats.csv?day=" + day}
	if next := start.AddDate(0, 0, 1); !next.After(s.now()) {
		d.Next = next.Format(time.DateOnly)
	}
	for _, st := range all {
		row := siteStatsRow{ID: st.Site, Name: st.SiteName, Row: statcsv.RowOf(st.Total, mark, total), Selected: st.Site == d.Site}
		row.Hour = ""
		d.Sites = append(d.Sites, row)
		if row.Selected {
			for _, f := range st.Hours {
				d.Hours = append(d.Hours, statcsv.RowOf(f, mark, total))
			}
		}
	}
	s.renderAdmin(w, r, http.StatusOK, "admin_stats", "admin.stats.title", "", "", d)
}

func (s *Server) adminStatsCSV(w http.ResponseWriter, r *http.Request) {
	day, _, err := s.adminStatDay(r)
	if err != nil {
		s.renderAdminError(w, r, err)
		return
	}
	all, err := s.Central.AllDayStats(r.Context(), day)
	if err != nil {
		s.renderAdminError(w, r, err)
		return
	}
	sites := make([]statcsv.Site, 0, len(all))
	for _, st := range all {
		sites = append(sites, statcsv.Site{Name: st.SiteName, DayStats: st.DayStats})
	}
	if err := statcsv.Serve(w, "veedel-statistik-"+day+".csv", sites); err != nil {
		s.Logger.Warn("stats csv", "err", err)
	}
}
