package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/sqlstore"
)

// The rollout plan and the update reports (central/rollout.go): reading
// the plan and the reports is sqlstore.Queries'.

// SetRollout stores p if the stored plan is still at p.Revision.
func (s *Store) SetRollout(ctx context.Context, p central.RolloutPlan, at time.Time) (central.RolloutPlan, error) {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return central.RolloutPlan{}, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	p, err = sqlstore.SetRollout(ctx, newWriteTx(tx), dialect, p, at)
	if err != nil {
		return central.RolloutPlan{}, err
	}
	if err := tx.Commit(); err != nil {
		return central.RolloutPlan{}, fmt.Errorf("store: commit the rollout: %w", err)
	}
	return p, nil
}
