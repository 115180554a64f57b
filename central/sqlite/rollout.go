package sqlite

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

// Rollout reads the rollout plan (central/rollout.go).
func (s *Store) Rollout(ctx context.Context) (central.RolloutPlan, error) {
	var plan string
	err := s.db.Read.QueryRowContext(ctx, `SELECT plan FROM rollout WHERE id = 1`).Scan(&plan)
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

// SetRollout stores p if the stored plan is still at p.Revision.
func (s *Store) SetRollout(ctx context.Context, p central.RolloutPlan, at time.Time) (central.RolloutPlan, error) {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return central.RolloutPlan{}, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	var rev int64
	if err := tx.QueryRowContext(ctx, `SELECT revision FROM rollout WHERE id = 1`).Scan(&rev); err != nil && !errors.Is(err, sql.ErrNoRows) {
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
	if _, err := tx.ExecContext(ctx, `INSERT INTO rollout (id, revision, plan, updated_at) VALUES (1, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET revision = excluded.revision, plan = excluded.plan, updated_at = excluded.updated_at`,
		p.Revision, string(plan), at.UnixMilli()); err != nil {
		return central.RolloutPlan{}, fmt.Errorf("store: write the rollout: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return central.RolloutPlan{}, fmt.Errorf("store: commit the rollout: %w", err)
	}
	return p, nil
}

// PutUpdateReport keeps a site's latest update report.
func (s *Store) PutUpdateReport(ctx context.Context, r central.UpdateReport) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := s.db.Write.ExecContext(ctx, `INSERT INTO update_reports (site, report, reported_at) VALUES (?, ?, ?)
		ON CONFLICT (site) DO UPDATE SET report = excluded.report, reported_at = excluded.reported_at`,
		r.Site, string(b), r.ReportedAt.UnixMilli()); err != nil {
		return fmt.Errorf("store: write the update report: %w", err)
	}
	return nil
}

// UpdateReports are every site's latest update report, by site.
func (s *Store) UpdateReports(ctx context.Context) ([]central.UpdateReport, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT report FROM update_reports ORDER BY site`)
	if err != nil {
		return nil, fmt.Errorf("store: read the update reports: %w", err)
	}
	defer rows.Close()
	var out []central.UpdateReport
	for rows.Next() {
		var b string
		var r central.UpdateReport
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(b), &r); err != nil {
			return nil, fmt.Errorf("store: an update report: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
