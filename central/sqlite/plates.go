package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
)

// Wunschkennzeichen reserved online (migration 0017, central/plates.go).

var _ central.PlateStore = (*Store)(nil)

// ReservePlate stores a reservation unless the plate has a live one; an
// expired one of the plate is deleted in the same transaction.
func (s *Store) ReservePlate(ctx context.Context, r central.PlateReservation) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM plate_reservations WHERE plate = ? AND expires_at <= ?`, r.Plate, r.CreatedAt.UnixMilli()); err != nil {
		return fmt.Errorf("store: reserve plate: %w", err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO plate_reservations (plate, token_hash, name, email, site, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (plate) DO NOTHING`,
		r.Plate, r.TokenHash, r.Name, r.Email, r.Site, r.CreatedAt.UnixMilli(), r.ExpiresAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: reserve plate: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return veedel.Errorf(veedel.ECONFLICT, "%s ist schon reserviert / %s is reserved already", r.Plate, r.Plate)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: reserve plate: commit: %w", err)
	}
	return nil
}

const plateColumns = `plate, token_hash, name, email, site, created_at, expires_at`

func scanPlateReservation(row interface{ Scan(...any) error }) (central.PlateReservation, error) {
	var r central.PlateReservation
	var created, expires int64
	err := row.Scan(&r.Plate, &r.TokenHash, &r.Name, &r.Email, &r.Site, &created, &expires)
	r.CreatedAt, r.ExpiresAt = time.UnixMilli(created), time.UnixMilli(expires)
	return r, err
}

// PlateReservation returns plate's live reservation.
func (s *Store) PlateReservation(ctx context.Context, plate string, now time.Time) (central.PlateReservation, error) {
	r, err := scanPlateReservation(s.db.Read.QueryRowContext(ctx, `SELECT `+plateColumns+` FROM plate_reservations WHERE plate = ? AND expires_at > ?`,
		plate, now.UnixMilli()))
	if errors.Is(err, sql.ErrNoRows) {
		return r, veedel.Errorf(veedel.ENOTFOUND, "%s ist nicht reserviert / %s is not reserved", plate, plate)
	} else if err != nil {
		return r, fmt.Errorf("store: plate reservation: %w", err)
	}
	return r, nil
}

// PlateReservations returns every stored reservation, by plate.
func (s *Store) PlateReservations(ctx context.Context) ([]central.PlateReservation, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT `+plateColumns+` FROM plate_reservations ORDER BY plate`)
	if err != nil {
		return nil, fmt.Errorf("store: plate reservations: %w", err)
	}
	defer rows.Close()
	var out []central.PlateReservation
	for rows.Next() {
		r, err := scanPlateReservation(rows)
		if err != nil {
			return nil, fmt.Errorf("store: plate reservations: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// EndPlateReservation deletes the reservation with this token hash.
func (s *Store) EndPlateReservation(ctx context.Context, tokenHash []byte) error {
	if _, err := s.db.Write.ExecContext(ctx, `DELETE FROM plate_reservations WHERE token_hash = ?`, tokenHash); err != nil {
		return fmt.Errorf("store: end plate reservation: %w", err)
	}
	return nil
}

// ExpirePlateReservations deletes the reservations expired at now.
func (s *Store) ExpirePlateReservations(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.Write.ExecContext(ctx, `DELETE FROM plate_reservations WHERE expires_at <= ?`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: expire plate reservations: %w", err)
	}
	return res.RowsAffected()
}
