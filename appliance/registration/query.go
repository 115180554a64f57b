package registration

import (
	"context"
	"fmt"

	"github.com/veedel/veedel/workflow"
)

// Filter selects orders for the back office's list.
type Filter struct {
	// Status is a status, "open" (at the site and not done) or "" (all).
	Status string
	// Kind is a kind, or "" (all).
	Kind string
	// Limit bounds the answer.
	Limit int
}

// Find returns the orders the filter selects, oldest first.
func Find(ctx context.Context, q workflow.Querier, f Filter) ([]Order, error) {
	query := `SELECT ` + orderColumns + ` FROM orders WHERE 1 = 1`
	var args []any
	switch f.Status {
	case "":
	case "open":
		query += ` AND status IN (?, ?, ?)`
		args = append(args, StatusAtSite, StatusInProgress, StatusReady)
	default:
		query += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.Kind != "" {
		query += ` AND kind = ?`
		args = append(args, f.Kind)
	}
	query += ` ORDER BY received_at, code LIMIT ?`
	args = append(args, f.Limit)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("registration: list orders: %w", err)
	}
	defer rows.Close()
	out := []Order{}
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, fmt.Errorf("registration: list orders: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// CountOpen counts the orders at the site that are not done.
func CountOpen(ctx context.Context, q workflow.Querier) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM orders WHERE status IN (?, ?, ?)`, StatusAtSite, StatusInProgress, StatusReady).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("registration: count orders: %w", err)
	}
	return n, nil
}

// ValidKind reports whether k names a kind (or is "": every kind).
func ValidKind(k string) bool {
	if k == "" {
		return true
	}
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}
