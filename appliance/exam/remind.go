package exam

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/workflow"
)

// Reminders of the exam, the day before (the workflow's Due): to the
// contact the parents gave when they booked online (the booking's, which
// appliance/appointment leaves to this workflow), else to the parents'
// contact from the register. A booking is reminded of RemindBefore ahead,
// as appointments are; an exam the desk scheduled (a day, perhaps a
// slot) from remindFrom o'clock on the day before. Moving the exam makes
// a new reminder (the key names the day and time).

// RemindBefore is how long before a booked exam its reminder is due.
var RemindBefore = appointment.RemindBefore

// remindNotAfter: a booked exam closer than this gets no reminder.
const remindNotAfter = 2 * time.Hour

// remindFrom is the hour of the day before from which an exam the desk
// scheduled is reminded of (no SMS at midnight).
const remindFrom = 9

// due returns the reminders due at now.
func due(ctx context.Context, q workflow.Querier, now time.Time) ([]workflow.Message, error) {
	loc := berlin()
	local := now.In(loc)
	tomorrow := "not yet" // matches no day
	if local.Hour() >= remindFrom {
		tomorrow = local.AddDate(0, 0, 1).Format(time.DateOnly)
	}
	rows, err := q.QueryContext(ctx, bookedExams+` WHERE e.record IS NOT NULL AND e.status NOT IN (?, ?)
			AND ((a.start > ? AND a.start <= ?) OR (a.code IS NULL AND e.day = ?))`,
		StatusSignedOff, StatusInProgress, now.Add(remindNotAfter).UnixMilli(), now.Add(RemindBefore).UnixMilli(), tomorrow)
	if err != nil {
		return nil, fmt.Errorf("exam: reminders: %w", err)
	}
	defer rows.Close()
	var out []workflow.Message
	for rows.Next() {
		var blob, contact []byte
		var code sql.NullString
		var start sql.NullInt64
		if err := rows.Scan(&blob, &code, &start, &contact); err != nil {
			return nil, fmt.Errorf("exam: reminders: %w", err)
		}
		var r Record
		if err := changelog.Unmarshal(blob, &r); err != nil {
			return nil, fmt.Errorf("exam: reminders: %w", err)
		}
		to := appointment.Contact{Name: r.Person.ParentName, Email: r.Person.ParentEmail, Phone: r.Person.ParentPhone}
		var c appointment.Contact
		if len(contact) > 0 && cbor.Unmarshal(contact, &c) == nil && (c.Email != "" || c.Phone != "") {
			to = c
		}
		if to.Email == "" && to.Phone == "" {
			continue
		}
		day, slot := r.Day, r.Slot
		if code.Valid {
			at := time.UnixMilli(start.Int64).In(loc)
			day, slot = at.Format(time.DateOnly), at.Format("15:04")
		}
		out = append(out, reminder(r.ID, to, day, slot))
	}
	return out, rows.Err()
}

// reminder is the message of an exam on day (YYYY-MM-DD) at slot (HH:MM,
// "" for none); it names neither the child nor anything of its health.
func reminder(id string, to appointment.Contact, day, slot string) workflow.Message {
	d, _ := time.Parse(time.DateOnly, day)
	when, whenEN := "am "+d.Format("02.01."), "on "+day
	if slot != "" {
		when += " um " + slot + " Uhr"
		whenEN += " at " + slot
	}
	return workflow.Message{Name: to.Name, Email: to.Email, Phone: to.Phone, Key: "exam:" + id + ":reminder:" + day + " " + slot,
		SMS:     "Erinnerung: Schuleingangsuntersuchung Ihres Kindes " + when + ". Bitte Impfpass, U-Heft und ggf. Brille mitbringen; Einladungscode am Kiosk eingeben.",
		Subject: "Erinnerung: Schuleingangsuntersuchung " + when,
		Text: "Die Schuleingangsuntersuchung Ihres Kindes ist " + when + ".\n" +
			"Bitte bringen Sie den Impfpass, das gelbe Untersuchungsheft (U-Heft) und, falls vorhanden, die Brille oder das Hörgerät Ihres Kindes mit.\n" +
			"Geben Sie am Kiosk den Buchungscode aus dem Einladungsschreiben ein.\n" +
			"Wenn Sie den Termin nicht wahrnehmen können, buchen Sie bitte mit dem Code einen neuen.\n\n" +
			"Reminder: your child's school-entry exam is " + whenEN + ". Please bring the vaccination record, the yellow check-up booklet and, if any, the child's glasses or hearing aid. Enter the booking code from the invitation letter at the kiosk."}
}

func berlin() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return time.UTC
	}
	return loc
}
