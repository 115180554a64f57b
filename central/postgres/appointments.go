package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/sqlstore"
	"github.com/veedel/veedel/sync/changelog"
)

// Online appointments (migration 0004, central/appointments.go). Several
// central nodes hold at once: a hold takes the advisory locks of its slot
// and then of its contact and service for its transaction, counts, and
// inserts; nobody takes a slot's lock while holding a contact's, so the
// locks cannot deadlock. Changes lock the row (FOR UPDATE).
//
// ExpireHolds, BookingFor, AppointmentByToken and SlotsTaken are
// sqlstore.Queries'.

var _ central.AppointmentStore = (*Store)(nil)

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
	if err := sqlstore.HoldSlot(ctx, newWriteTx(tx), r, capacity, perContact, now); err != nil {
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

// UpdateAppointment changes an appointment and sends decide's events to
// its site, in one transaction.
func (s *Store) UpdateAppointment(ctx context.Context, tokenHash []byte, at time.Time, clock func() changelog.HLC,
	decide func(appointment.Record) (*appointment.Record, []central.Outgoing, error)) (appointment.Record, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return appointment.Record{}, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	r, next, result := sqlstore.UpdateAppointment(ctx, newWriteTx(tx), dialect, tokenHash, at, clock, decide)
	if next == nil {
		return r, result
	}
	if err := s.fault.before(ctx, "commit"); err != nil {
		return r, fmt.Errorf("store: commit: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return r, fmt.Errorf("store: commit appointment %s: %w", r.Code, err)
	}
	return *next, result
}

// RecordBookings stores bookings sold before the store kept them.
func (s *Store) RecordBookings(ctx context.Context, records []appointment.Record) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	if err := sqlstore.RecordBookings(ctx, newWriteTx(tx), records); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: commit bookings: %w", err)
	}
	return nil
}
