package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
)

// PutSMSHandover stores a pending hand-over, replacing the ticket's
// pending one, within the bounds (central.SMSStore).
func (s *Store) PutSMSHandover(ctx context.Context, r central.SMSRecord, liveSince time.Time, perSite, total int) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	var site, all, replaced int
	err = tx.QueryRowContext(ctx, `SELECT
		coalesce(sum(CASE WHEN site = ? THEN 1 ELSE 0 END), 0),
		count(*),
		coalesce(sum(CASE WHEN site = ? AND ticket = ? THEN 1 ELSE 0 END), 0)
		FROM sms_handovers WHERE state = ? AND created_at >= ?`,
		r.Site, r.Site, r.Ticket, central.SMSPending, liveSince.UnixMilli()).Scan(&site, &all, &replaced)
	if err != nil {
		return fmt.Errorf("store: count sms hand-overs: %w", err)
	}
	if site-replaced >= perSite || all-replaced >= total {
		return veedel.Errorf(veedel.EUNAVAILABLE, "too many sms hand-overs pending")
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sms_handovers WHERE site = ? AND ticket = ? AND state = ?`,
		r.Site, r.Ticket, central.SMSPending); err != nil {
		return fmt.Errorf("store: replace sms hand-over: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sms_handovers (id, site, ticket, lang, box_key, sealed, state, created_at, state_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.Site, r.Ticket, r.Lang, r.BoxKey, r.Sealed, central.SMSPending,
		r.CreatedAt.UnixMilli(), r.At.UnixMilli()); err != nil {
		return fmt.Errorf("store: put sms hand-over: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit sms hand-over: %w", err)
	}
	return nil
}

// PendingSMSHandovers returns the site's live pending hand-overs sealed to
// boxKey (central.SMSStore).
func (s *Store) PendingSMSHandovers(ctx context.Context, site string, boxKey []byte, liveSince time.Time, limit int) ([]central.SMSRecord, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT `+smsColumns+` FROM sms_handovers
		WHERE site = ? AND state = ? AND created_at >= ? AND box_key = ? AND sealed IS NOT NULL ORDER BY n LIMIT ?`,
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
	args := []any{state, at.UnixMilli(), site, central.SMSPending, central.SMSExpired}
	for _, id := range ids {
		args = append(args, id)
	}
	res, err := s.db.Write.ExecContext(ctx, `UPDATE sms_handovers SET state = ?, state_at = ?, sealed = NULL
		WHERE site = ? AND state IN (?, ?) AND id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, args...)
	if err != nil {
		return 0, fmt.Errorf("store: settle sms hand-overs: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// LatestSMSHandover returns the ticket's latest hand-over
// (central.SMSStore).
func (s *Store) LatestSMSHandover(ctx context.Context, site, ticket string) (central.SMSRecord, bool, error) {
	r, err := scanSMS(s.db.Read.QueryRowContext(ctx, `SELECT `+smsColumns+` FROM sms_handovers
		WHERE site = ? AND ticket = ? ORDER BY n DESC LIMIT 1`, site, ticket))
	if errors.Is(err, sql.ErrNoRows) {
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
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE sms_handovers SET state = ?, state_at = ?, sealed = NULL
		WHERE state = ? AND created_at < ?`, central.SMSExpired, at.UnixMilli(), central.SMSPending, expireBefore.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: expire sms hand-overs: %w", err)
	}
	n, _ := res.RowsAffected()
	if _, err := tx.ExecContext(ctx, `DELETE FROM sms_handovers WHERE state_at < ?`, forgetBefore.UnixMilli()); err != nil {
		return 0, fmt.Errorf("store: forget sms hand-overs: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: commit sms sweep: %w", err)
	}
	return int(n), nil
}

const smsColumns = `id, site, ticket, lang, box_key, sealed, state, created_at, state_at`

func scanSMS(row interface{ Scan(...any) error }) (central.SMSRecord, error) {
	var r central.SMSRecord
	var created, at int64
	if err := row.Scan(&r.ID, &r.Site, &r.Ticket, &r.Lang, &r.BoxKey, &r.Sealed, &r.State, &created, &at); err != nil {
		return r, err
	}
	r.CreatedAt, r.At = time.UnixMilli(created).UTC(), time.UnixMilli(at).UTC()
	return r, nil
}
