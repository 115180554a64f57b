package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
)

// The rollout plan and the boxes' update reports (central/rollout.go).

// Rollout reads the rollout plan: the pilot stage while none is stored.
func (q Queries) Rollout(ctx context.Context) (central.RolloutPlan, error) {
	var plan string
	err := q.Read.QueryRow(ctx, `SELECT plan FROM rollout WHERE id = 1`).Scan(&plan)
	if errors.Is(err, sql.ErrNoRows) {
		return central.RolloutPlan{Stage: central.StagePilot}, nil
	} else if err != nil {
		return central.RolloutPlan{}, fmt.Errorf("store: read the rollout: %w", err)
	}
	var p central.RolloutPlan
	if err := json.Unmarshal([]byte(plan), &p); err != nil {
		return central.RolloutPlan{}, fmt.Errorf("store: the rollout: %w", err)
	}
	return p, nil
}

// SetRollout stores p in tx if the stored plan is still at p.Revision and
// returns it as stored. The row is made first (revision 0) and read
// d.ForUpdate, so that central nodes changing it at once take turns.
func SetRollout(ctx context.Context, tx Querier, d Dialect, p central.RolloutPlan, at time.Time) (central.RolloutPlan, error) {
	if _, err := tx.Exec(ctx, `INSERT INTO rollout (id, revision, plan, updated_at) VALUES (1, 0, '{"stage":"pilot"}', 0) ON CONFLICT (id) DO NOTHING`); err != nil {
		return central.RolloutPlan{}, fmt.Errorf("store: make the rollout: %w", err)
	}
	var rev int64
	if err := tx.QueryRow(ctx, `SELECT revision FROM rollout WHERE id = 1`+d.ForUpdate).Scan(&rev); err != nil {
		return central.RolloutPlan{}, fmt.Errorf("store: read the rollout: %w", err)
	}
	if rev != p.Revision {
		return central.RolloutPlan{}, veedel.Errorf(veedel.ECONFLICT, "the rollout was changed meanwhile (revision %d, yours %d): load it again", rev, p.Revision)
	}
	p.Revision, p.UpdatedAt = rev+1, at.UTC().Truncate(time.Millisecond)
	plan, err := json.Marshal(p)
	if err != nil {
		return central.RolloutPlan{}, err
	}
	if _, err := tx.Exec(ctx, `UPDATE rollout SET revision = ?, plan = ?, updated_at = ? WHERE id = 1`,
		p.Revision, string(plan), at.UnixMilli()); err != nil {
		return central.RolloutPlan{}, fmt.Errorf("store: write the rollout: %w", err)
	}
	return p, nil
}

// PutUpdateReport keeps a site's latest update report.
func (q Queries) PutUpdateReport(ctx context.Context, r central.UpdateReport) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	query := `
		INSERT INTO update_reports (site, report, reported_at) VALUES (?, ?, ?)
		ON CONFLICT (site) DO UPDATE SET report = excluded.report, reported_at = excluded.reported_at`
	if _, err := q.Write.Exec(ctx, query, r.Site, string(b), r.ReportedAt.UnixMilli()); err != nil {
		return fmt.Errorf("store: write the update report: %w", err)
	}
	return nil
}

// UpdateReports are every site's latest update report, by site.
func (q Queries) UpdateReports(ctx context.Context) ([]central.UpdateReport, error) {
	out, err := queryAll(ctx, q.Read, func(row Row) (central.UpdateReport, error) {
		var b string
		var r central.UpdateReport
		if err := row.Scan(&b); err != nil {
			return r, err
		}
		if err := json.Unmarshal([]byte(b), &r); err != nil {
			return r, fmt.Errorf("an update report: %w", err)
		}
		return r, nil
	}, `SELECT report FROM update_reports ORDER BY site`)
	if err != nil {
		return nil, fmt.Errorf("store: read the update reports: %w", err)
	}
	return out, nil
}
