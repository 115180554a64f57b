package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
)

// Statistics read the tickets projection: one indexed query per day (the
// tickets_day index), then queue.SummariseDay computes the figures, the
// same function central uses on the stored log, so both show the same.

// DayStats returns the statistics of one business day (YYYY-MM-DD, site
// time). A day without tickets has zero figures and no hours.
func (s *Store) DayStats(ctx context.Context, day string) (queue.DayStats, error) {
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return queue.DayStats{}, veedel.Errorf(veedel.EINVALID, "Tag %q ungültig, erwartet JJJJ-MM-TT / invalid day, want YYYY-MM-DD", day)
	}
	tickets, err := s.statTickets(ctx, day)
	if err != nil {
		return queue.DayStats{}, err
	}
	var loc *time.Location
	s.View(func(st *queue.State) { loc = st.Site.Location })
	return queue.SummariseDay(day, loc, tickets), nil
}

func (s *Store) statTickets(ctx context.Context, day string) ([]queue.StatTicket, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT status, issued_at, called_at, finished_at, estimate_minutes, estimate_p90
		FROM tickets WHERE day = ? ORDER BY issued_at, id`, day)
	if err != nil {
		return nil, fmt.Errorf("store: stats %s: %w", day, err)
	}
	defer rows.Close()
	var out []queue.StatTicket
	for rows.Next() {
		var t queue.StatTicket
		var issued int64
		var called, finished, est, p90 sql.NullInt64
		if err := rows.Scan(&t.Status, &issued, &called, &finished, &est, &p90); err != nil {
			return nil, fmt.Errorf("store: stats %s: %w", day, err)
		}
		t.IssuedAt = time.UnixMilli(issued)
		if called.Valid {
			t.CalledAt = time.UnixMilli(called.Int64)
		}
		if finished.Valid {
			t.FinishedAt = time.UnixMilli(finished.Int64)
		}
		if est.Valid {
			m := int(est.Int64)
			t.EstimateMinutes = &m
		}
		if p90.Valid {
			m := int(p90.Int64)
			t.EstimateP90 = &m
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// StatDays returns the most recent days with tickets, newest first, at
// most limit, for the day picker.
func (s *Store) StatDays(ctx context.Context, limit int) ([]string, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT DISTINCT day FROM tickets ORDER BY day DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: stat days: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("store: stat days: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
