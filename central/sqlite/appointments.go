package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

// Online appointments (migration 0015, central/appointments.go). The
// writer's transactions are immediate (sqlitedb), so a hold counts and
// inserts under the database's write lock: of concurrent holds on the
// last place exactly one wins.

var _ central.AppointmentStore = (*Store)(nil)

const appointmentColumns = `code, token_hash, site, service, start, status, contact_hash, confirm_hash, attempts, expires,
	contact, sealed, sent_to, lang, replaces, created_at, updated_at, coalesce(for_ref, '')`

func scanAppointment(row interface{ Scan(...any) error }) (appointment.Record, error) {
	var r appointment.Record
	var start, expires, created, updated int64
	err := row.Scan(&r.Code, &r.TokenHash, &r.Site, &r.Service, &start, &r.Status, &r.ContactHash, &r.ConfirmHash, &r.Attempts, &expires,
		&r.Contact, &r.Sealed, &r.SentTo, &r.Lang, &r.Replaces, &created, &updated, &r.For)
	r.Start, r.Expires, r.CreatedAt, r.UpdatedAt = time.UnixMilli(start), time.UnixMilli(expires), time.UnixMilli(created), time.UnixMilli(updated)
	return r, err
}

// ExpireHolds ends the holds expired by now, deleting their personal
// data, and returns how many.
func (s *Store) ExpireHolds(ctx context.Context, now time.Time) (int, error) {
	res, err := s.db.Write.ExecContext(ctx, `UPDATE appointments SET status = 'expired', contact = NULL, sealed = NULL, confirm_hash = NULL,
		sent_to = '', updated_at = expires WHERE status = 'held' AND expires <= ?`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: expire holds: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// HoldSlot stores a new hold when its slot and its contact have room.
func (s *Store) HoldSlot(ctx context.Context, r appointment.Record, capacity, perContact int, now time.Time) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	var taken int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM appointments WHERE site = ? AND service = ? AND start = ?
		AND (status = 'confirmed' OR (status = 'held' AND expires > ?))`,
		r.Site, r.Service, r.Start.UnixMilli(), now.UnixMilli()).Scan(&taken); err != nil {
		return fmt.Errorf("store: places taken: %w", err)
	}
	if taken >= capacity {
		return appointment.ErrSlotTaken
	}
	var active int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM appointments WHERE contact_hash = ? AND service = ? AND start > ?
		AND (status = 'confirmed' OR (status = 'held' AND expires > ?))`,
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
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit hold: %w", err)
	}
	return nil
}

func insertAppointment(ctx context.Context, tx *sql.Tx, r appointment.Record, conflict string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO appointments (`+insertColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`+conflict,
		r.Code, r.TokenHash, r.Site, r.Service, r.Start.UnixMilli(), r.Status, r.ContactHash, r.ConfirmHash, r.Attempts, r.Expires.UnixMilli(),
		r.Contact, r.Sealed, r.SentTo, r.Lang, r.Replaces, r.CreatedAt.UnixMilli(), r.UpdatedAt.UnixMilli(), nullString(r.For))
	if err != nil {
		return fmt.Errorf("store: insert appointment: %w", err)
	}
	return nil
}

// insertColumns are the columns an insert names (for_ref as it is).
const insertColumns = `code, token_hash, site, service, start, status, contact_hash, confirm_hash, attempts, expires,
	contact, sealed, sent_to, lang, replaces, created_at, updated_at, for_ref`

// nullString stores "" (an ordinary booking) as NULL.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// BookingFor returns the newest confirmed booking for a record that
// starts after now.
func (s *Store) BookingFor(ctx context.Context, forRef string, now time.Time) (appointment.Record, error) {
	r, err := scanAppointment(s.db.Read.QueryRowContext(ctx, `SELECT `+appointmentColumns+` FROM appointments
		WHERE for_ref = ? AND status = 'confirmed' AND start > ? ORDER BY updated_at DESC, code LIMIT 1`, forRef, now.UnixMilli()))
	if errors.Is(err, sql.ErrNoRows) {
		return r, veedel.Errorf(veedel.ENOTFOUND, "Kein Termin gebucht / no booking")
	}
	if err != nil {
		return r, fmt.Errorf("store: booking for: %w", err)
	}
	return r, nil
}

// AppointmentByToken returns the appointment of a token's hash.
func (s *Store) AppointmentByToken(ctx context.Context, tokenHash []byte) (appointment.Record, error) {
	r, err := scanAppointment(s.db.Read.QueryRowContext(ctx, `SELECT `+appointmentColumns+` FROM appointments WHERE token_hash = ?`, tokenHash))
	if errors.Is(err, sql.ErrNoRows) {
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
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return appointment.Record{}, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	r, err := scanAppointment(tx.QueryRowContext(ctx, `SELECT `+appointmentColumns+` FROM appointments WHERE token_hash = ?`, tokenHash))
	if errors.Is(err, sql.ErrNoRows) {
		return r, veedel.Errorf(veedel.ENOTFOUND, "Termin nicht gefunden / appointment not found")
	}
	if err != nil {
		return r, fmt.Errorf("store: appointment: %w", err)
	}
	next, send, result := decide(r)
	if next == nil {
		return r, result
	}
	if _, err := tx.ExecContext(ctx, `UPDATE appointments SET status = ?, confirm_hash = ?, attempts = ?, contact = ?, sealed = ?, sent_to = ?, updated_at = ?
		WHERE code = ?`, next.Status, next.ConfirmHash, next.Attempts, next.Contact, next.Sealed, next.SentTo, next.UpdatedAt.UnixMilli(), r.Code); err != nil {
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
	if err := tx.Commit(); err != nil {
		return r, fmt.Errorf("store: commit appointment %s: %w", r.Code, err)
	}
	return *next, result
}

// SlotsTaken counts the live places per slot start.
func (s *Store) SlotsTaken(ctx context.Context, site, service string, from, to, now time.Time) (map[int64]int, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT start, count(*) FROM appointments
		WHERE site = ? AND service = ? AND start >= ? AND start < ? AND (status = 'confirmed' OR (status = 'held' AND expires > ?))
		GROUP BY start`, site, service, from.UnixMilli(), to.UnixMilli(), now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store: places taken: %w", err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var start int64
		var n int
		if err := rows.Scan(&start, &n); err != nil {
			return nil, fmt.Errorf("store: places taken: %w", err)
		}
		out[start] = n
	}
	return out, rows.Err()
}

// RecordBookings stores bookings sold before the store kept them.
func (s *Store) RecordBookings(ctx context.Context, records []appointment.Record) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	for _, r := range records {
		if err := insertAppointment(ctx, tx, r, " ON CONFLICT DO NOTHING"); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit bookings: %w", err)
	}
	return nil
}
