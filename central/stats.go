package central

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
)

// Statistics at central come from the stored site logs, not from the read
// models: a read model keeps only today's and yesterday's tickets. A day of
// a busy site is about 5,000 entries, so a day's figures are one indexed
// range scan by HLC (RangeScanner) over that day's entries, folded into the
// tickets the appliance's projection would hold and summarised with
// queue.SummariseDay: the same function the appliance uses, so both show
// the same figures for the same log. Every ticket event of a day carries
// that day's HLC (a ticket never outlives its day), so the day's entries
// are all a day's statistics need.

// RangeScanner is implemented by log stores that can read a site's entries
// within an HLC range efficiently (an index on site and hlc). Stores that
// do not are scanned from the start.
type RangeScanner interface {
	// ScanRange calls fn with each stored entry of site with from <= hlc <
	// to, in seq order.
	ScanRange(ctx context.Context, site string, from, to changelog.HLC, fn func(changelog.Entry) error) error
}

// SiteDayStats are one site's statistics of one day.
type SiteDayStats struct {
	Site     string
	SiteName string
	queue.DayStats
}

// DayStats computes a site's statistics for day (YYYY-MM-DD in the site's
// time zone) from the stored log.
func (c *Central) DayStats(ctx context.Context, site, day string) (SiteDayStats, error) {
	var loc *time.Location
	var name string
	if !c.ViewSite(site, func(st *queue.State, _ SiteCursor) { loc, name = st.Site.Location, st.Site.Name }) {
		return SiteDayStats{}, veedel.Errorf(veedel.ENOTFOUND, "Unbekannter Standort %q / unknown site", site)
	}
	start, err := time.ParseInLocation(time.DateOnly, day, loc)
	if err != nil {
		return SiteDayStats{}, veedel.Errorf(veedel.EINVALID, "Tag %q ungültig, erwartet JJJJ-MM-TT / invalid day, want YYYY-MM-DD", day)
	}
	end := start.AddDate(0, 0, 1)
	from, to := changelog.HLCAt(start), changelog.HLCAt(end)
	f := NewStatFold(loc)
	fold := func(e changelog.Entry) error { f.Add(e); return nil }
	if rs, ok := c.store.(RangeScanner); ok {
		err = rs.ScanRange(ctx, site, from, to, fold)
	} else {
		err = c.store.Scan(ctx, site, 0, func(e changelog.Entry) error {
			if e.HLC >= from && e.HLC < to {
				f.Add(e)
			}
			return nil
		})
	}
	if err != nil {
		return SiteDayStats{}, fmt.Errorf("central: stats %s %s: %w", site, day, err)
	}
	return SiteDayStats{Site: site, SiteName: name, DayStats: f.Day(day)}, nil
}

// AllDayStats computes every known site's statistics for day, ordered by
// site name.
func (c *Central) AllDayStats(ctx context.Context, day string) ([]SiteDayStats, error) {
	var out []SiteDayStats
	for _, s := range c.Sites() {
		st, err := c.DayStats(ctx, s.ID, day)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// StatFold folds a day's log entries into the tickets the appliance's
// tickets projection holds for that day, for queue.SummariseDay.
type StatFold struct {
	loc     *time.Location
	order   []string
	tickets map[string]*queue.StatTicket
}

// NewStatFold returns an empty fold for a site in time zone loc.
func NewStatFold(loc *time.Location) *StatFold {
	return &StatFold{loc: loc, tickets: map[string]*queue.StatTicket{}}
}

// Add folds one entry; entries of other types, or undecodable ones, are
// skipped (the read model reports those).
func (f *StatFold) Add(e changelog.Entry) {
	switch e.Type {
	case queue.TypeTicketIssued, queue.TypeTicketCalled, queue.TypeTicketFinished, queue.TypeTicketNoShow:
	default:
		return
	}
	p, err := changelog.DecodePayload(&e, queue.NewPayload)
	if err != nil {
		return
	}
	at := e.At()
	switch p := p.(type) {
	case *queue.TicketIssued:
		if _, ok := f.tickets[p.ID]; ok {
			return
		}
		f.tickets[p.ID] = &queue.StatTicket{IssuedAt: at, Status: queue.StatusWaiting,
			EstimateMinutes: p.EstimateMinutes, EstimateP90: p.EstimateP90}
		f.order = append(f.order, p.ID)
	case *queue.TicketCalled:
		if t := f.tickets[p.ID]; t != nil {
			t.Status, t.CalledAt = queue.StatusCalled, at
		}
	case *queue.TicketFinished:
		if t := f.tickets[p.ID]; t != nil {
			t.Status, t.FinishedAt = queue.StatusDone, at
		}
	case *queue.TicketNoShow:
		if t := f.tickets[p.ID]; t != nil {
			t.Status, t.FinishedAt = queue.StatusNoShow, at
		}
	}
}

// Day summarises the folded tickets as day's statistics.
func (f *StatFold) Day(day string) queue.DayStats {
	tickets := make([]queue.StatTicket, 0, len(f.order))
	for _, id := range f.order {
		tickets = append(tickets, *f.tickets[id])
	}
	slices.SortStableFunc(tickets, func(a, b queue.StatTicket) int { return a.IssuedAt.Compare(b.IssuedAt) })
	return queue.SummariseDay(day, f.loc, tickets)
}
