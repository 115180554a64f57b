package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
)

// PutSMSHandover stores a pending hand-over, replacing the ticket's
// pending one, within the bounds (central.SMSStore). Sign-ups take the
// table's lock in turn, so that two nodes cannot both take the last
// place.
func (s *Store) PutSMSHandover(ctx context.Context, r central.SMSRecord, liveSince time.Time, perSite, total int) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `LOCK TABLE sms_handovers IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return fmt.Errorf("store: lock sms hand-overs: %w", err)
	}
	var site, all, replaced int
	err = tx.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE site = $1),
		count(*),
		count(*) FILTER (WHERE site = $1 AND ticket = $2)
		FROM sms_handovers WHERE state = $3 AND created_at >= $4`,
		r.Site, r.Ticket, central.SMSPending, liveSince.UnixMilli()).Scan(&site, &all, &replaced)
	if err != nil {
		return fmt.Errorf("store: count sms hand-overs: %w", err)
	}
	if site-replaced >= perSite || all-replaced >= total {
		return veedel.Errorf(veedel.EUNAVAILABLE, "too many sms hand-overs pending")
	}
	if _, err := tx.Exec(ctx, `DELETE FROM sms_handovers WHERE site = $1 AND ticket = $2 AND state = $3`,
		r.Site, r.Ticket, central.SMSPending); err != nil {
		return fmt.Errorf("store: replace sms hand-over: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO sms_handovers (id, site, ticket, lang, box_key, sealed, state, created_at, state_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, r.ID, r.Site, r.Ticket, r.Lang, r.BoxKey, r.Sealed, central.SMSPending,
		r.CreatedAt.UnixMilli(), r.At.UnixMilli()); err != nil {
		return fmt.Errorf("store: put sms hand-over: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: commit sms hand-over: %w", err)
	}
	return nil
}

// PendingSMSHandovers returns the site's live pending hand-overs sealed to
// boxKey (central.SMSStore).
func (s *Store) PendingSMSHandovers(ctx context.Context, site string, boxKey []byte, liveSince time.Time, limit int) ([]central.SMSRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+smsColumns+` FROM sms_handovers
		WHERE site = $1 AND state = $2 AND created_at >= $3 AND box_key = $4 AND sealed IS NOT NULL ORDER BY n LIMIT $5`,
		site, central.SMSPending, liveSince.UnixMilli(), boxKey, limit)
	if err != nil {
		return nil, fmt.Errorf("store: read sms hand-overs: %w", err)
	}
	defer rows.Close()
	var out []central.SMSRecord
	for rows.Next() {
		r, err := scanSMS(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SettleSMSHandovers records the site's answer to its hand-overs
// (central.SMSStore).
func (s *Store) SettleSMSHandovers(ctx context.Context, site string, ids []string, state string, at time.Time) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	tag, err := s.pool.Exec(ctx, `UPDATE sms_handovers SET state = $1, state_at = $2, sealed = NULL
		WHERE site = $3 AND state IN ($4, $5) AND id = ANY($6)`, state, at.UnixMilli(), site, central.SMSPending, central.SMSExpired, ids)
	if err != nil {
		return 0, fmt.Errorf("store: settle sms hand-overs: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// LatestSMSHandover returns the ticket's latest hand-over
// (central.SMSStore).
func (s *Store) LatestSMSHandover(ctx context.Context, site, ticket string) (central.SMSRecord, bool, error) {
	r, err := scanSMS(s.pool.QueryRow(ctx, `SELECT `+smsColumns+` FROM sms_handovers
		WHERE site = $1 AND ticket = $2 ORDER BY n DESC LIMIT 1`, site, ticket))
	if errors.Is(err, pgx.ErrNoRows) {
		return central.SMSRecord{}, false, nil
	}
	if err != nil {
		return central.SMSRecord{}, false, fmt.Errorf("store: read sms hand-over: %w", err)
	}
	return r, true, nil
}

// SweepSMSHandovers expires old pending hand-overs and forgets old
// outcomes (central.SMSStore).
func (s *Store) SweepSMSHandovers(ctx context.Context, expireBefore, forgetBefore, at time.Time) (int, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, `UPDATE sms_handovers SET state = $1, state_at = $2, sealed = NULL
		WHERE state = $3 AND created_at < $4`, central.SMSExpired, at.UnixMilli(), central.SMSPending, expireBefore.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: expire sms hand-overs: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM sms_handovers WHERE state_at < $1`, forgetBefore.UnixMilli()); err != nil {
		return 0, fmt.Errorf("store: forget sms hand-overs: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("store: commit sms sweep: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

const smsColumns = `id, site, ticket, lang, box_key, sealed, state, created_at, state_at`

func scanSMS(row pgx.Row) (central.SMSRecord, error) {
	var r central.SMSRecord
	var created, at int64
	if err := row.Scan(&r.ID, &r.Site, &r.Ticket, &r.Lang, &r.BoxKey, &r.Sealed, &r.State, &created, &at); err != nil {
		return r, err
	}
	r.CreatedAt, r.At = time.UnixMilli(created).UTC(), time.UnixMilli(at).UTC()
	return r, nil
}
