package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/jackc/pgx/v5"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

// Online appointments (migration 0004, central/appointments.go). Several
// central nodes hold at once: a hold takes the advisory locks of its slot
// and then of its contact and service for its transaction, counts, and
// inserts; nobody takes a slot's lock while holding a contact's, so the
// locks cannot deadlock. Changes lock the row (FOR UPDATE).

var _ central.AppointmentStore = (*Store)(nil)

const appointmentColumns = `code, token_hash, site, service, start, status, contact_hash, confirm_hash, attempts, expires,
	contact, sealed, sent_to, lang, replaces, created_at, updated_at, coalesce(for_ref, '')`

func scanAppointment(row pgx.Row) (appointment.Record, error) {
	var r appointment.Record
	var start, expires, created, updated int64
	var attempts int32
	err := row.Scan(&r.Code, &r.TokenHash, &r.Site, &r.Service, &start, &r.Status, &r.ContactHash, &r.ConfirmHash, &attempts, &expires,
		&r.Contact, &r.Sealed, &r.SentTo, &r.Lang, &r.Replaces, &created, &updated, &r.For)
	r.Attempts = int(attempts)
	r.Start, r.Expires, r.CreatedAt, r.UpdatedAt = time.UnixMilli(start), time.UnixMilli(expires), time.UnixMilli(created), time.UnixMilli(updated)
	return r, err
}

// HoldSlot stores a new hold when its slot and its contact have room.
func (s *Store) HoldSlot(ctx context.Context, r appointment.Record, capacity, perContact int, now time.Time) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	slot := fmt.Sprintf("veedel slot %s\n%s\n%d", r.Site, r.Service, r.Start.UnixMilli())
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, slot); err != nil {
		return fmt.Errorf("store: lock slot: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1 || encode($2, 'hex'), 0))`, "veedel contact "+r.Service+"\n", r.ContactHash); err != nil {
		return fmt.Errorf("store: lock contact: %w", err)
	}
	var taken int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM appointments WHERE site = $1 AND service = $2 AND start = $3
		AND (status = 'confirmed' OR (status = 'held' AND expires > $4))`,
		r.Site, r.Service, r.Start.UnixMilli(), now.UnixMilli()).Scan(&taken); err != nil {
		return fmt.Errorf("store: places taken: %w", err)
	}
	if taken >= capacity {
		return appointment.ErrSlotTaken
	}
	var active int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM appointments WHERE contact_hash = $1 AND service = $2 AND start > $3
		AND (status = 'confirmed' OR (status = 'held' AND expires > $4))`,
		r.ContactHash, r.Service, now.UnixMilli(), now.UnixMilli()).Scan(&active); err != nil {
		return fmt.Errorf("store: contact's appointments: %w", err)
	}
	if active >= perContact {
		return appointment.ErrContactLimit
	}
	if err := insertAppointment(ctx, tx, r, ""); err != nil {
		return err
	}
	if err := s.fault.before(ctx, "commit"); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: commit hold: %w", err)
	}
	return nil
}

func insertAppointment(ctx context.Context, tx pgx.Tx, r appointment.Record, conflict string) error {
	_, err := tx.Exec(ctx, `INSERT INTO appointments (`+insertColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`+conflict,
		r.Code, r.TokenHash, r.Site, r.Service, r.Start.UnixMilli(), r.Status, r.ContactHash, r.ConfirmHash, int32(r.Attempts), r.Expires.UnixMilli(),
		r.Contact, r.Sealed, r.SentTo, r.Lang, r.Replaces, r.CreatedAt.UnixMilli(), r.UpdatedAt.UnixMilli(), forRef(r.For))
	if err != nil {
		return fmt.Errorf("store: insert appointment: %w", err)
	}
	return nil
}

// ExpireHolds ends the holds expired by now, deleting their personal
// data, and returns how many.
func (s *Store) ExpireHolds(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE appointments SET status = 'expired', contact = NULL, sealed = NULL, confirm_hash = NULL,
		sent_to = '', updated_at = expires WHERE status = 'held' AND expires <= $1`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: expire holds: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// insertColumns are the columns an insert names (for_ref as it is).
const insertColumns = `code, token_hash, site, service, start, status, contact_hash, confirm_hash, attempts, expires,
	contact, sealed, sent_to, lang, replaces, created_at, updated_at, for_ref`

// forRef stores "" (an ordinary booking) as NULL.
func forRef(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// BookingFor returns the newest confirmed booking for a record that
// starts after now.
func (s *Store) BookingFor(ctx context.Context, forRef string, now time.Time) (appointment.Record, error) {
	r, err := scanAppointment(s.pool.QueryRow(ctx, `SELECT `+appointmentColumns+` FROM appointments
		WHERE for_ref = $1 AND status = 'confirmed' AND start > $2 ORDER BY updated_at DESC, code LIMIT 1`, forRef, now.UnixMilli()))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, veedel.Errorf(veedel.ENOTFOUND, "Kein Termin gebucht / no booking")
	}
	if err != nil {
		return r, fmt.Errorf("store: booking for: %w", err)
	}
	return r, nil
}

// AppointmentByToken returns the appointment of a token's hash.
func (s *Store) AppointmentByToken(ctx context.Context, tokenHash []byte) (appointment.Record, error) {
	r, err := scanAppointment(s.pool.QueryRow(ctx, `SELECT `+appointmentColumns+` FROM appointments WHERE token_hash = $1`, tokenHash))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, veedel.Errorf(veedel.ENOTFOUND, "Termin nicht gefunden / appointment not found")
	}
	if err != nil {
		return r, fmt.Errorf("store: appointment: %w", err)
	}
	return r, nil
}

// UpdateAppointment changes an appointment and sends decide's events to
// its site, in one transaction.
func (s *Store) UpdateAppointment(ctx context.Context, tokenHash []byte, at time.Time, clock func() changelog.HLC,
	decide func(appointment.Record) (*appointment.Record, []central.Outgoing, error)) (appointment.Record, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return appointment.Record{}, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	r, err := scanAppointment(tx.QueryRow(ctx, `SELECT `+appointmentColumns+` FROM appointments WHERE token_hash = $1 FOR UPDATE`, tokenHash))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, veedel.Errorf(veedel.ENOTFOUND, "Termin nicht gefunden / appointment not found")
	}
	if err != nil {
		return r, fmt.Errorf("store: appointment: %w", err)
	}
	next, send, result := decide(r)
	if next == nil {
		return r, result
	}
	if _, err := tx.Exec(ctx, `UPDATE appointments SET status = $1, confirm_hash = $2, attempts = $3, contact = $4, sealed = $5, sent_to = $6, updated_at = $7
		WHERE code = $8`, next.Status, next.ConfirmHash, int32(next.Attempts), next.Contact, next.Sealed, next.SentTo, next.UpdatedAt.UnixMilli(), r.Code); err != nil {
		return r, fmt.Errorf("store: update appointment %s: %w", r.Code, err)
	}
	if len(send) > 0 {
		stamped := make([]stampedEvent, len(send))
		for i, e := range send {
			payload, err := changelog.Marshal(e.Payload)
			if err != nil {
				return r, fmt.Errorf("store: encode %s: %w", e.Type, err)
			}
			stamped[i] = stampedEvent{Outgoing: central.Outgoing{Type: e.Type, Entity: e.Entity, Payload: cbor.RawMessage(payload)}, hlc: clock()}
		}
		if err := appendOutbound(ctx, tx, r.Site, stamped, at); err != nil {
			return r, err
		}
	}
	if err := s.fault.before(ctx, "commit"); err != nil {
		return r, fmt.Errorf("store: commit: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return r, fmt.Errorf("store: commit appointment %s: %w", r.Code, err)
	}
	return *next, result
}

// SlotsTaken counts the live places per slot start.
func (s *Store) SlotsTaken(ctx context.Context, site, service string, from, to, now time.Time) (map[int64]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT start, count(*) FROM appointments
		WHERE site = $1 AND service = $2 AND start >= $3 AND start < $4 AND (status = 'confirmed' OR (status = 'held' AND expires > $5))
		GROUP BY start`, site, service, from.UnixMilli(), to.UnixMilli(), now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store: places taken: %w", err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var start, n int64
		if err := rows.Scan(&start, &n); err != nil {
			return nil, fmt.Errorf("store: places taken: %w", err)
		}
		out[start] = int(n)
	}
	return out, rows.Err()
}

// RecordBookings stores bookings sold before the store kept them.
func (s *Store) RecordBookings(ctx context.Context, records []appointment.Record) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	for _, r := range records {
		if err := insertAppointment(ctx, tx, r, " ON CONFLICT DO NOTHING"); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: commit bookings: %w", err)
	}
	return nil
}
