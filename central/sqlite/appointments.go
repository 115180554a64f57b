package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/sqlstore"
	"github.com/veedel/veedel/sync/changelog"
)

// Online appointments (migration 0015, central/appointments.go). The
// writer's transactions are immediate (sqlitedb), so a hold counts and
// inserts under the database's write lock: of concurrent holds on the
// last place exactly one wins.
//
// ExpireHolds, BookingFor, AppointmentByToken and SlotsTaken are
// sqlstore.Queries'.

var _ central.AppointmentStore = (*Store)(nil)

// HoldSlot stores a new hold when its slot and its contact have room.
func (s *Store) HoldSlot(ctx context.Context, r appointment.Record, capacity, perContact int, now time.Time) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	if err := sqlstore.HoldSlot(ctx, newWriteTx(tx), r, capacity, perContact, now); err != nil {
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

// UpdateAppointment changes an appointment and sends decide's events to
// its site, in one transaction.
func (s *Store) UpdateAppointment(ctx context.Context, tokenHash []byte, at time.Time, clock func() changelog.HLC,
	decide func(appointment.Record) (*appointment.Record, []central.Outgoing, error)) (appointment.Record, error) {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return appointment.Record{}, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	r, next, result := sqlstore.UpdateAppointment(ctx, newWriteTx(tx), dialect, tokenHash, at, clock, decide)
	if next == nil {
		return r, result
	}
	if err := s.fault.before(ctx, "commit"); err != nil {
		return r, fmt.Errorf("store: commit: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return r, fmt.Errorf("store: commit appointment %s: %w", r.Code, err)
	}
	return *next, result
}

// RecordBookings stores bookings sold before the store kept them.
func (s *Store) RecordBookings(ctx context.Context, records []appointment.Record) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	if err := sqlstore.RecordBookings(ctx, newWriteTx(tx), records); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit bookings: %w", err)
	}
	return nil
}
