package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// The workflows' SMS (migration 0017): a message with a Phone is queued
// here in the transaction of its event (or by SendDue), when the site
// sends SMS (UseSMS: the SMS worker runs), and sent by appliance/notify.
// The number and text are erased in the statement that ends the row.

// MessageSMSRetention is how long the record of a sent or failed message
// (its key, no number, no text) is kept, so that a key repeated within it
// queues nothing.
const MessageSMSRetention = 30 * 24 * time.Hour

// MessageSMS is a queued workflow SMS.
type MessageSMS struct {
	ID       int64
	Key      string
	To       string // as the citizen gave it: the worker normalizes it
	Text     string
	Attempts int
}

// UseSMS makes the store queue the workflows' messages that have a phone
// number for the SMS worker.
func (s *Store) UseSMS() { s.sms.Store(true) }

// enqueueMessageSMS queues one message in tx; false when its key was
// queued before.
func enqueueMessageSMS(ctx context.Context, tx *sql.Tx, key, phone, text string, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO message_sms (dedupe_key, phone, text, status, next_at, created_at)
		VALUES (?, ?, ?, 'pending', ?, ?) ON CONFLICT (dedupe_key) DO NOTHING`, key, phone, text, now.UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("store: queue sms: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DueMessageSMS returns up to limit queued messages due at now.
func (s *Store) DueMessageSMS(ctx context.Context, now time.Time, limit int) ([]MessageSMS, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT id, dedupe_key, phone, text, attempts FROM message_sms
		WHERE status = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?`, now.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: read due sms: %w", err)
	}
	defer rows.Close()
	var out []MessageSMS
	for rows.Next() {
		var m MessageSMS
		if err := rows.Scan(&m.ID, &m.Key, &m.To, &m.Text, &m.Attempts); err != nil {
			return nil, fmt.Errorf("store: read due sms: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// MarkMessageSMSSent records a message as sent (or possibly sent) and
// erases its number and text.
func (s *Store) MarkMessageSMSSent(ctx context.Context, id int64, at time.Time) error {
	_, err := s.db.Write.ExecContext(ctx, `UPDATE message_sms SET status = 'sent', attempts = attempts + 1, phone = NULL, text = NULL,
		last_error = '', done_at = ? WHERE id = ? AND status = 'pending'`, at.UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("store: mark sms sent: %w", err)
	}
	return nil
}

// MarkMessageSMSRetry records a failed attempt: due again at next, or,
// when giveUp, failed for good (number and text erased). reason must not
// contain the number.
func (s *Store) MarkMessageSMSRetry(ctx context.Context, id int64, at, next time.Time, giveUp bool, reason string) error {
	q := `UPDATE message_sms SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ? AND status = 'pending'`
	args := []any{next.UnixMilli(), reason, id}
	if giveUp {
		q = `UPDATE message_sms SET status = 'failed', attempts = attempts + 1, phone = NULL, text = NULL, last_error = ?, done_at = ?
			WHERE id = ? AND status = 'pending'`
		args = []any{reason, at.UnixMilli(), id}
	}
	if _, err := s.db.Write.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("store: mark sms retry: %w", err)
	}
	return nil
}

// SweepMessageSMS deletes the records of messages done before cutoff.
func (s *Store) SweepMessageSMS(ctx context.Context, cutoff time.Time) error {
	if _, err := s.db.Write.ExecContext(ctx, `DELETE FROM message_sms WHERE done_at IS NOT NULL AND done_at < ?`, cutoff.UnixMilli()); err != nil {
		return fmt.Errorf("store: sweep sms: %w", err)
	}
	return nil
}
