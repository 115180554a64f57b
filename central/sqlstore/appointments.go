package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

// Online appointments (central/appointments.go). A hold counts the places
// taken and inserts; the store makes sure that of concurrent holds on the
// last place exactly one wins (SQLite's writer holds the database's write
// lock, PostgreSQL takes advisory locks of the slot and of the contact).

const appointmentColumns = `code, token_hash, site, service, start, status, contact_hash, confirm_hash, attempts, expires,
	contact, sealed, sent_to, lang, replaces, created_at, updated_at, coalesce(for_ref, '')`

// insertColumns are the columns an insert names (for_ref as it is).
const insertColumns = `code, token_hash, site, service, start, status, contact_hash, confirm_hash, attempts, expires,
	contact, sealed, sent_to, lang, replaces, created_at, updated_at, for_ref`

// live is what an appointment that takes its place is: confirmed, or
// held and not expired by the time its ? gives (now).
const live = `(status = 'confirmed' OR (status = 'held' AND expires > ?))`

func scanAppointment(row Row) (appointment.Record, error) {
	var r appointment.Record
	var start, expires, created, updated int64
	err := row.Scan(&r.Code, &r.TokenHash, &r.Site, &r.Service, &start, &r.Status, &r.ContactHash, &r.ConfirmHash, &r.Attempts, &expires,
		&r.Contact, &r.Sealed, &r.SentTo, &r.Lang, &r.Replaces, &created, &updated, &r.For)
	r.Start, r.Expires, r.CreatedAt, r.UpdatedAt = time.UnixMilli(start), time.UnixMilli(expires), time.UnixMilli(created), time.UnixMilli(updated)
	return r, err
}

// ExpireHolds ends the holds expired by now, deleting their personal
// data, and returns how many.
func (q Queries) ExpireHolds(ctx context.Context, now time.Time) (int, error) {
	query := `
		UPDATE appointments SET status = 'expired', contact = NULL, sealed = NULL, confirm_hash = NULL, sent_to = '', updated_at = expires
		WHERE status = 'held' AND expires <= ?`
	n, err := q.Write.Exec(ctx, query, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: expire holds: %w", err)
	}
	return int(n), nil
}

// HoldSlot stores a new hold in tx when its slot and its contact have
// room; the caller holds the locks that make the count hold until commit.
func HoldSlot(ctx context.Context, tx Querier, r appointment.Record, capacity, perContact int, now time.Time) error {
	var taken int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM appointments WHERE site = ? AND service = ? AND start = ? AND `+live,
		r.Site, r.Service, r.Start.UnixMilli(), now.UnixMilli()).Scan(&taken); err != nil {
		return fmt.Errorf("store: places taken: %w", err)
	}
	if taken >= capacity {
		return appointment.ErrSlotTaken
	}
	var active int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM appointments WHERE contact_hash = ? AND service = ? AND start > ? AND `+live,
		r.ContactHash, r.Service, now.UnixMilli(), now.UnixMilli()).Scan(&active); err != nil {
		return fmt.Errorf("store: contact's appointments: %w", err)
	}
	if active >= perContact {
		return appointment.ErrContactLimit
	}
	return insertAppointment(ctx, tx, r, "")
}

// RecordBookings stores bookings sold before the store kept them, in tx;
// those it has are left as they are.
func RecordBookings(ctx context.Context, tx Querier, records []appointment.Record) error {
	for _, r := range records {
		if err := insertAppointment(ctx, tx, r, " ON CONFLICT DO NOTHING"); err != nil {
			return err
		}
	}
	return nil
}

func insertAppointment(ctx context.Context, tx Querier, r appointment.Record, conflict string) error {
	_, err := tx.Exec(ctx, `INSERT INTO appointments (`+insertColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`+conflict,
		r.Code, r.TokenHash, r.Site, r.Service, r.Start.UnixMilli(), r.Status, r.ContactHash, r.ConfirmHash, r.Attempts, r.Expires.UnixMilli(),
		r.Contact, r.Sealed, r.SentTo, r.Lang, r.Replaces, r.CreatedAt.UnixMilli(), r.UpdatedAt.UnixMilli(), nullString(r.For))
	if err != nil {
		return fmt.Errorf("store: insert appointment: %w", err)
	}
	return nil
}

// nullString stores "" (an ordinary booking) as NULL.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// BookingFor returns the newest confirmed booking for a record that
// starts after now.
func (q Queries) BookingFor(ctx context.Context, forRef string, now time.Time) (appointment.Record, error) {
	r, err := scanAppointment(q.Read.QueryRow(ctx, `SELECT `+appointmentColumns+` FROM appointments
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
func (q Queries) AppointmentByToken(ctx context.Context, tokenHash []byte) (appointment.Record, error) {
	return appointmentByToken(ctx, q.Read, Dialect{}, tokenHash)
}

func appointmentByToken(ctx context.Context, q Querier, d Dialect, tokenHash []byte) (appointment.Record, error) {
	r, err := scanAppointment(q.QueryRow(ctx, `SELECT `+appointmentColumns+` FROM appointments WHERE token_hash = ?`+d.ForUpdate, tokenHash))
	if errors.Is(err, sql.ErrNoRows) {
		return r, veedel.Errorf(veedel.ENOTFOUND, "Termin nicht gefunden / appointment not found")
	}
	if err != nil {
		return r, fmt.Errorf("store: appointment: %w", err)
	}
	return r, nil
}

// UpdateAppointment reads the appointment of tokenHash in tx (d.ForUpdate)
// and lets decide change it. It returns the appointment as read, and
// next, what decide made of it: when next is nil nothing changed and err
// is why; otherwise the change is written and decide's events appended
// to the appointment's site's outbound log, the caller commits and
// returns *next and err, decide's result.
func UpdateAppointment(ctx context.Context, tx Tx, d Dialect, tokenHash []byte, at time.Time, clock func() changelog.HLC,
	decide func(appointment.Record) (*appointment.Record, []central.Outgoing, error)) (r appointment.Record, next *appointment.Record, err error) {
	r, err = appointmentByToken(ctx, tx, d, tokenHash)
	if err != nil {
		return r, nil, err
	}
	next, send, result := decide(r)
	if next == nil {
		return r, nil, result
	}
	query := `
		UPDATE appointments SET status = ?, confirm_hash = ?, attempts = ?, contact = ?, sealed = ?, sent_to = ?, updated_at = ?
		WHERE code = ?`
	if _, err := tx.Exec(ctx, query, next.Status, next.ConfirmHash, next.Attempts, next.Contact, next.Sealed, next.SentTo, next.UpdatedAt.UnixMilli(), r.Code); err != nil {
		return r, nil, fmt.Errorf("store: update appointment %s: %w", r.Code, err)
	}
	if len(send) > 0 {
		stamped, err := stampAll(send, clock)
		if err != nil {
			return r, nil, err
		}
		if err := tx.AppendOutbound(ctx, r.Site, stamped, at); err != nil {
			return r, nil, err
		}
	}
	return r, next, result
}

// SlotsTaken counts the live places per slot start.
func (q Queries) SlotsTaken(ctx context.Context, site, service string, from, to, now time.Time) (map[int64]int, error) {
	query := `
		SELECT start, count(*) FROM appointments
		WHERE site = ? AND service = ? AND start >= ? AND start < ? AND ` + live + `
		GROUP BY start`
	rows, err := q.Read.Query(ctx, query, site, service, from.UnixMilli(), to.UnixMilli(), now.UnixMilli())
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
