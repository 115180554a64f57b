package appointment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/workflow"
)

// accept takes what central sends: a booking becomes the site's (a queue
// booking from central's share, and the appointment's row), a
// cancellation takes it off. Each once, however often delivered.
func accept(ctx context.Context, q workflow.Querier, env workflow.Env, at time.Time, e workflow.Event) ([]workflow.Event, error) {
	switch p := e.Payload.(type) {
	case *Booked:
		code := queue.NormalizeBookingCode(p.Code)
		if code != p.Code || p.Service == "" || p.Start <= 0 {
			return nil, veedel.Errorf(veedel.EINVALID, "appointment %q malformed", p.Code)
		}
		if _, err := status(ctx, q, p.Code); err == nil {
			return nil, nil
		} else if veedel.ErrorCode(err) != veedel.ENOTFOUND {
			return nil, err
		}
		return []workflow.Event{
			{Type: queue.TypeBookingCreated, Entity: "booking/" + p.Code, At: at,
				Payload: &queue.BookingCreated{Code: p.Code, Service: p.Service, Slot: p.Start, Online: true, For: p.For}},
			{Type: TypeReceived, Entity: entity(p.Code), At: at, Payload: &Received{Booked: *p}},
		}, nil
	case *Cancelled:
		st, err := status(ctx, q, p.Code)
		if veedel.ErrorCode(err) == veedel.ENOTFOUND || st == StatusCancelled {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		return []workflow.Event{
			{Type: queue.TypeBookingCancelled, Entity: "booking/" + p.Code, At: at, Payload: &queue.BookingCancelled{Code: p.Code}},
			{Type: TypeWithdrawn, Entity: entity(p.Code), At: at, Payload: &Withdrawn{Code: p.Code}},
		}, nil
	}
	return nil, veedel.Errorf(veedel.EINVALID, "Ereignis %s wird von der Zentrale nicht angenommen / event %s is not accepted from central", e.Type, e.Type)
}

func project(ctx context.Context, q workflow.Querier, env workflow.Env, e workflow.Event) error {
	at := e.At.UnixMilli()
	switch p := e.Payload.(type) {
	case *Received:
		var contact []byte
		if env.Open != nil {
			if plain, err := env.Open(sealInfo(env.Site, p.Code), p.Sealed); err == nil {
				var c Contact
				if cbor.Unmarshal(plain, &c) == nil {
					contact = plain
				}
			}
		}
		var forRef any
		if p.For != "" {
			forRef = p.For
		}
		_, err := q.ExecContext(ctx, `INSERT INTO appointments (code, service, start, status, lang, contact, booked_at, updated_at, for_ref)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING`,
			p.Code, p.Service, p.Start, StatusAtSite, p.Lang, contact, p.BookedAt, at, forRef)
		return err
	case *Withdrawn:
		_, err := q.ExecContext(ctx, `UPDATE appointments SET status = ?, updated_at = ? WHERE code = ?`, StatusCancelled, at, p.Code)
		return err
	case *Booked, *Cancelled:
		return fmt.Errorf("%s is central's and never in the site's log", e.Type)
	}
	return nil
}

func status(ctx context.Context, q workflow.Querier, code string) (string, error) {
	var st string
	err := q.QueryRowContext(ctx, `SELECT status FROM appointments WHERE code = ?`, code).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return "", veedel.Errorf(veedel.ENOTFOUND, "Termin %s ist hier nicht bekannt / appointment %s is not known here", code, code)
	}
	return st, err
}

// Appointment is an online appointment as the site's staff see it.
type Appointment struct {
	Code    string    `json:"code"`
	Service string    `json:"service"`
	Start   time.Time `json:"start"`
	Status  string    `json:"status"`
	Contact *Contact  `json:"contact,omitempty"`
	// For is the record the booking is for (Booked.For: an exam's
	// child), "" for none; not in the API's answers.
	For string `json:"-"`
}

// ForDay returns the online appointments starting in [from, to), by time.
func ForDay(ctx context.Context, q workflow.Querier, from, to time.Time) ([]Appointment, error) {
	rows, err := q.QueryContext(ctx, `SELECT code, service, start, status, contact, coalesce(for_ref, '') FROM appointments WHERE start >= ? AND start < ? ORDER BY start, code`,
		from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("appointment: list: %w", err)
	}
	defer rows.Close()
	out := []Appointment{}
	for rows.Next() {
		var a Appointment
		var start int64
		var contact []byte
		if err := rows.Scan(&a.Code, &a.Service, &start, &a.Status, &contact, &a.For); err != nil {
			return nil, fmt.Errorf("appointment: list: %w", err)
		}
		a.Start = time.UnixMilli(start)
		if len(contact) > 0 {
			var c Contact
			if cbor.Unmarshal(contact, &c) == nil {
				a.Contact = &c
			}
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ForRecord returns the live online appointment for the record ref
// (Booked.For), the newest; nil when there is none.
func ForRecord(ctx context.Context, q workflow.Querier, ref string) (*Appointment, error) {
	var a Appointment
	var start int64
	err := q.QueryRowContext(ctx, `SELECT code, service, start, status, for_ref FROM appointments WHERE for_ref = ? AND status = ?
		ORDER BY booked_at DESC, code LIMIT 1`, ref, StatusAtSite).Scan(&a.Code, &a.Service, &start, &a.Status, &a.For)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("appointment: for %s: %w", ref, err)
	}
	a.Start = time.UnixMilli(start)
	return &a, nil
}

func eraseContacts(ctx context.Context, q workflow.Querier, cutoff time.Time) (int64, error) {
	res, err := q.ExecContext(ctx, `UPDATE appointments SET contact = NULL WHERE start < ? AND contact IS NOT NULL`, cutoff.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("appointment: erase contacts: %w", err)
	}
	return res.RowsAffected()
}
