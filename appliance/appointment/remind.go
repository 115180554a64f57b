package appointment

import (
	"context"
	"fmt"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/veedel/veedel/workflow"
)

// RemindBefore is how long before an appointment its reminder is due.
var RemindBefore = 24 * time.Hour

// remindNotAfter: an appointment closer than this gets no reminder (booked
// at short notice, or the site was off all day: a late reminder would
// only confuse).
const remindNotAfter = 2 * time.Hour

// due returns the reminders of the appointments that start within
// RemindBefore and not sooner than remindNotAfter; the outbox sends each
// once (its key). An appointment for a record (an exam's child) is
// reminded of by its record's workflow (appliance/exam, remind.go).
func due(ctx context.Context, q workflow.Querier, now time.Time) ([]workflow.Message, error) {
	rows, err := q.QueryContext(ctx, `SELECT code, service, start, contact FROM appointments
		WHERE status = ? AND contact IS NOT NULL AND for_ref IS NULL AND start > ? AND start <= ? ORDER BY start`,
		StatusAtSite, now.Add(remindNotAfter).UnixMilli(), now.Add(RemindBefore).UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("appointment: reminders: %w", err)
	}
	defer rows.Close()
	var out []workflow.Message
	for rows.Next() {
		var code, service string
		var start int64
		var contact []byte
		if err := rows.Scan(&code, &service, &start, &contact); err != nil {
			return nil, err
		}
		var c Contact
		if cbor.Unmarshal(contact, &c) != nil || (c.Email == "" && c.Phone == "") {
			continue
		}
		at := time.UnixMilli(start).In(berlin())
		out = append(out, workflow.Message{Name: c.Name, Email: c.Email, Phone: c.Phone, Key: "appt:" + code + ":reminder",
			SMS: fmt.Sprintf("Erinnerung: Ihr Termin ist am %s um %s Uhr. Code %s am Kiosk eingeben. Absagen über Ihren Link.",
				at.Format("02.01."), at.Format("15:04"), code),
			Subject: "Erinnerung: Ihr Termin am " + at.Format("02.01.") + " um " + at.Format("15:04") + " Uhr",
			Text: fmt.Sprintf("Ihr Termin ist am %s um %s Uhr. Buchungscode: %s\nBitte geben Sie den Code am Kiosk ein oder zeigen Sie den QR-Code.\nWenn Sie nicht kommen können, sagen Sie den Termin bitte über Ihren Link ab: so bekommt jemand anderes den Platz.\n\nReminder: your appointment is on %s at %s. Code: %s",
				at.Format("02.01.2006"), at.Format("15:04"), code, at.Format("2006-01-02"), at.Format("15:04"), code)})
	}
	return out, rows.Err()
}

func berlin() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return time.UTC
	}
	return loc
}
