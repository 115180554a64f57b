package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/workflow"
)

// SMS notifications: the citizen's number in the site-local sms_signups
// table (never in the change-log, so never synced), and the SMS outbox.
// Package notify decides what to send; these methods only keep the rows.
//
// Erasure: the transaction that ends a ticket (finished, no-show,
// cancelled; the day rollover that expires the open tickets of earlier
// days) also deletes its sign-up and its outbox rows (project and
// expireBefore in store.go). Outbox rows never hold the number: a message
// not yet handed to the gateway when its ticket ends is not sent.

// SMS outbox statuses.
const (
	SMSPending = "pending" // to be sent at next_at
	SMSSent    = "sent"
	SMSFailed  = "failed"  // gave up after the maximum attempts
	SMSDropped = "dropped" // no longer useful (the ticket moved on)
)

// SMSSignup is a ticket whose citizen wants SMS. It carries no number:
// only the outbox's due messages do, for sending.
type SMSSignup struct {
	TicketID string
	Lang     string
}

// SMSMessage is a due message of the outbox, with the number to send to.
type SMSMessage struct {
	ID       int64
	TicketID string
	Kind     string
	To       string
	Text     string
	Attempts int
}

// SignUpSMS records a citizen's number (E.164, validated by the caller) for
// a ticket that is waiting or called. Signing up again replaces the number
// and language.
func (s *Store) SignUpSMS(ctx context.Context, ticketID, phone, lang string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.state.Tickets[ticketID]
	if t == nil {
		return veedel.Errorf(veedel.ENOTFOUND, "Ticket nicht gefunden / ticket not found")
	}
	if !smsActive(t) {
		return veedel.Errorf(veedel.ECONFLICT, "Dieses Ticket ist nicht mehr aktiv / this ticket is no longer active")
	}
	return upsertSignup(ctx, s.db.Write, ticketID, phone, lang, s.now())
}

// smsActive reports whether a ticket may still get SMS: it waits or is
// being called.
func smsActive(t *queue.Ticket) bool {
	return t.Status == queue.StatusWaiting || t.Status == queue.StatusCalled
}

// upsertSignup records a ticket's number and language; signing up again
// replaces them.
func upsertSignup(ctx context.Context, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, ticketID, phone, lang string, at time.Time) error {
	if _, err := db.ExecContext(ctx, `INSERT INTO sms_signups (ticket_id, phone, lang, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (ticket_id) DO UPDATE SET phone = excluded.phone, lang = excluded.lang`,
		ticketID, phone, lang, at.UnixMilli()); err != nil {
		return fmt.Errorf("store: sms sign-up: %w", err)
	}
	return nil
}

// SMSSignedUp reports whether a ticket has an SMS sign-up.
func (s *Store) SMSSignedUp(ctx context.Context, ticketID string) (bool, error) {
	var one int
	err := s.db.Read.QueryRowContext(ctx, `SELECT 1 FROM sms_signups WHERE ticket_id = ?`, ticketID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("store: read sms sign-up: %w", err)
	}
	return true, nil
}

// SMSSignups lists the tickets with an SMS sign-up.
func (s *Store) SMSSignups(ctx context.Context) ([]SMSSignup, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT ticket_id, lang FROM sms_signups ORDER BY created_at, ticket_id`)
	if err != nil {
		return nil, fmt.Errorf("store: list sms sign-ups: %w", err)
	}
	defer rows.Close()
	var out []SMSSignup
	for rows.Next() {
		var su SMSSignup
		if err := rows.Scan(&su.TicketID, &su.Lang); err != nil {
			return nil, fmt.Errorf("store: list sms sign-ups: %w", err)
		}
		out = append(out, su)
	}
	return out, rows.Err()
}

// EraseSMS deletes a ticket's number and its outbox rows, in one
// transaction. Ending a ticket does this by itself (eraseSMS); the worker
// calls it for what no event ends: a ticket of an earlier day before the
// new day's first event, or one the state no longer knows.
func (s *Store) EraseSMS(ctx context.Context, ticketID string) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: erase sms: %w", err)
	}
	defer tx.Rollback()
	if err := eraseSMS(ctx, tx, ticketID); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: erase sms: %w", err)
	}
	return nil
}

// eraseSMS deletes a ticket's sign-up and outbox rows inside tx: part of
// the transaction that ends the ticket.
func eraseSMS(ctx context.Context, tx workflow.Querier, ticketID string) error {
	if _, err := tx.ExecContext(ctx, sqlEraseSignups, ticketID); err != nil {
		return fmt.Errorf("store: erase sms: %w", err)
	}
	if _, err := tx.ExecContext(ctx, sqlEraseSMSOutbox, ticketID); err != nil {
		return fmt.Errorf("store: erase sms: %w", err)
	}
	return nil
}

// eraseSMSBefore deletes, inside the transaction that starts day, the
// sign-ups and outbox rows of every ticket of an earlier day, and the
// hand-over IDs older than a day.
func eraseSMSBefore(ctx context.Context, tx *sql.Tx, day string, at time.Time) error {
	for _, q := range []string{
		`DELETE FROM sms_signups WHERE ticket_id IN (SELECT id FROM tickets WHERE day < ?)`,
		`DELETE FROM sms_outbox WHERE ticket_id IN (SELECT id FROM tickets WHERE day < ?)`,
	} {
		if _, err := tx.ExecContext(ctx, q, day); err != nil {
			return fmt.Errorf("store: erase sms before %s: %w", day, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sms_handovers WHERE created_at < ?`, at.Add(-24*time.Hour).UnixMilli()); err != nil {
		return fmt.Errorf("store: forget sms hand-overs: %w", err)
	}
	return nil
}

// Outcomes of ApplySMSHandover.
const (
	HandoverApplied   = "applied"   // the sign-up is recorded
	HandoverRefused   = "refused"   // the ticket is unknown or no longer waiting or called
	HandoverDuplicate = "duplicate" // this hand-over was taken before: nothing changed
)

// ApplySMSHandover records a sign-up that a citizen left on central's
// status page (changelog.SMSHandover), exactly once per hand-over ID: the
// first time, the sign-up is recorded like the kiosk's (SignUpSMS: the
// ticket must be waiting or called) together with the ID, in one
// transaction; a refusal is recorded too; the same ID again changes
// nothing, so a later kiosk sign-up is never overwritten by a resent
// hand-over. The number is checked for shape only: central normalised it.
func (s *Store) ApplySMSHandover(ctx context.Context, h changelog.SMSHandover) (string, error) {
	if h.Validate() != nil {
		return "", veedel.Errorf(veedel.EINVALID, "store: malformed sms hand-over")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var one int
	err := s.db.Write.QueryRowContext(ctx, `SELECT 1 FROM sms_handovers WHERE id = ?`, h.ID).Scan(&one)
	if err == nil {
		return HandoverDuplicate, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: read sms hand-over: %w", err)
	}
	outcome := HandoverRefused
	if t := s.state.Tickets[h.Ticket]; t != nil && smsActive(t) && t.Day >= s.state.DayOf(s.now()) {
		outcome = HandoverApplied
	}
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("store: sms hand-over: %w", err)
	}
	defer tx.Rollback()
	now := s.now()
	if outcome == HandoverApplied {
		if err := upsertSignup(ctx, tx, h.Ticket, h.Phone, h.Lang, now); err != nil {
			return "", err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sms_handovers (id, ticket_id, outcome, created_at) VALUES (?, ?, ?, ?)`,
		h.ID, h.Ticket, outcome, now.UnixMilli()); err != nil {
		return "", fmt.Errorf("store: sms hand-over: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("store: sms hand-over: %w", err)
	}
	return outcome, nil
}

// EnqueueSMS queues a message of kind for a signed-up ticket, due at. It
// returns false when the ticket already has a message of that kind (sent,
// pending or given up: each kind goes out once per ticket) or no sign-up.
func (s *Store) EnqueueSMS(ctx context.Context, ticketID, kind, text string, at time.Time) (bool, error) {
	res, err := s.db.Write.ExecContext(ctx, `INSERT INTO sms_outbox (ticket_id, kind, text, status, next_at, created_at)
		SELECT ticket_id, ?, ?, ?, ?, ? FROM sms_signups WHERE ticket_id = ?
		ON CONFLICT (ticket_id, kind) DO NOTHING`,
		kind, text, SMSPending, at.UnixMilli(), at.UnixMilli(), ticketID)
	if err != nil {
		return false, fmt.Errorf("store: queue sms: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// DropSMS gives up a pending message of kind that is no longer useful.
func (s *Store) DropSMS(ctx context.Context, ticketID, kind string) error {
	_, err := s.db.Write.ExecContext(ctx, `UPDATE sms_outbox SET status = ? WHERE ticket_id = ? AND kind = ? AND status = ?`,
		SMSDropped, ticketID, kind, SMSPending)
	if err != nil {
		return fmt.Errorf("store: drop sms: %w", err)
	}
	return nil
}

// SMSKinds returns the kinds of message a ticket has in the outbox, with
// their status.
func (s *Store) SMSKinds(ctx context.Context, ticketID string) (map[string]string, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT kind, status FROM sms_outbox WHERE ticket_id = ?`, ticketID)
	if err != nil {
		return nil, fmt.Errorf("store: read sms outbox: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var kind, status string
		if err := rows.Scan(&kind, &status); err != nil {
			return nil, fmt.Errorf("store: read sms outbox: %w", err)
		}
		out[kind] = status
	}
	return out, rows.Err()
}

// DueSMS returns up to limit pending messages due at now, oldest first,
// with the number of their sign-up.
func (s *Store) DueSMS(ctx context.Context, now time.Time, limit int) ([]SMSMessage, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT o.id, o.ticket_id, o.kind, s.phone, o.text, o.attempts
		FROM sms_outbox o JOIN sms_signups s ON s.ticket_id = o.ticket_id
		WHERE o.status = ? AND o.next_at <= ? ORDER BY o.next_at, o.id LIMIT ?`, SMSPending, now.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: read due sms: %w", err)
	}
	defer rows.Close()
	var out []SMSMessage
	for rows.Next() {
		var m SMSMessage
		if err := rows.Scan(&m.ID, &m.TicketID, &m.Kind, &m.To, &m.Text, &m.Attempts); err != nil {
			return nil, fmt.Errorf("store: read due sms: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// NextSMSAt returns when the next pending message is due (false: none).
func (s *Store) NextSMSAt(ctx context.Context) (time.Time, bool, error) {
	var next sql.NullInt64
	if err := s.db.Read.QueryRowContext(ctx, `SELECT min(next_at) FROM sms_outbox WHERE status = ?`, SMSPending).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("store: read sms outbox: %w", err)
	}
	if !next.Valid {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(next.Int64), true, nil
}

// MarkSMSSent records that a message was delivered to the gateway.
func (s *Store) MarkSMSSent(ctx context.Context, id int64, at time.Time) error {
	_, err := s.db.Write.ExecContext(ctx, `UPDATE sms_outbox SET status = ?, attempts = attempts + 1, sent_at = ?, last_error = '' WHERE id = ?`,
		SMSSent, at.UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("store: mark sms sent: %w", err)
	}
	return nil
}

// MarkSMSRetry records a failed attempt: the message is due again at next,
// or, when giveUp, failed for good. reason must not contain the number.
func (s *Store) MarkSMSRetry(ctx context.Context, id int64, next time.Time, giveUp bool, reason string) error {
	status := SMSPending
	if giveUp {
		status = SMSFailed
	}
	_, err := s.db.Write.ExecContext(ctx, `UPDATE sms_outbox SET status = ?, attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ?`,
		status, next.UnixMilli(), reason, id)
	if err != nil {
		return fmt.Errorf("store: mark sms retry: %w", err)
	}
	return nil
}
