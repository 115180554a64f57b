package vehicle

import (
	"context"
	"strings"

	"github.com/veedel/veedel/workflow"
)

// The applicant hears of each decision by e-mail and/or SMS, to the
// contact in the sealed application: approved (with the plate and how
// long the provisional proof holds), rejected (and why), more needed (and
// what). Company applications are told through their webhook at central
// too; the message goes to the contact they gave all the same.

// ProcessNames are the processes' German names.
var ProcessNames = map[string]string{
	ProcessNew:          "Neuzulassung",
	ProcessTransfer:     "Umschreibung (Halterwechsel)",
	ProcessReregister:   "Wiederzulassung",
	ProcessDeregister:   "Außerbetriebsetzung",
	ProcessAddressShift: "Adressänderung",
}

// messages returns what a decision tells the applicant.
func messages(ctx context.Context, q workflow.Querier, e workflow.Event) ([]workflow.Message, error) {
	var id, step string
	switch p := e.Payload.(type) {
	case *ApplicationApproved:
		id, step = p.ID, StatusApproved
	case *ApplicationRejected:
		id, step = p.ID, StatusRejected
	case *InfoRequested:
		id, step = p.ID, StatusInfoRequested
	default:
		return nil, nil
	}
	a, err := Get(ctx, q, id)
	if err != nil || a.Details == nil || (a.Details.Owner.Email == "" && a.Details.Owner.Phone == "") {
		return nil, err
	}
	o := a.Details.Owner
	name := strings.TrimSpace(o.GivenNames + " " + o.FamilyName)
	if o.Kind == "company" || name == "" {
		name = o.CompanyName
	}
	process := ProcessNames[a.Process]
	m := workflow.Message{Name: name, Email: o.Email, Phone: o.Phone, Key: "vehicle:" + a.ID + ":" + step}
	switch step {
	case StatusApproved:
		p := e.Payload.(*ApplicationApproved)
		m.Subject = "Genehmigt: " + process + " (Antrag " + a.ID + ")"
		plate, platePlain := "", ""
		if p.Plate != "" {
			plate = "\nKennzeichen: " + p.Plate
			platePlain = " Kennzeichen " + p.Plate + "."
		}
		m.Text = "Ihr Antrag " + a.ID + " (" + process + ") ist genehmigt." + plate +
			"\nDer vorläufige Zulassungsnachweis gilt bis " + germanDate(p.ValidUntil) + ". Sie finden ihn als PDF auf Ihrer Statusseite; " +
			"Zulassungsbescheinigung und Plaketten kommen mit der Post." +
			"\n\nYour application " + a.ID + " has been approved. The provisional proof of registration (PDF, on your status page) is valid until " + p.ValidUntil + "."
		m.SMS = "Stadt: Ihr Antrag " + a.ID + " (" + process + ") ist genehmigt." + platePlain + " Vorläufiger Nachweis bis " + germanDate(p.ValidUntil) + " auf Ihrer Statusseite."
	case StatusRejected:
		m.Subject = "Abgelehnt: " + process + " (Antrag " + a.ID + ")"
		m.Text = "Ihr Antrag " + a.ID + " (" + process + ") konnte nicht genehmigt werden.\nGrund: " + a.Reason +
			"\n\nYour application " + a.ID + " could not be approved. Reason: see above."
		m.SMS = "Stadt: Ihr Antrag " + a.ID + " wurde abgelehnt. Grund: " + short(a.Reason)
	case StatusInfoRequested:
		m.Subject = "Rückfrage zu Ihrem Antrag " + a.ID
		m.Text = "Zu Ihrem Antrag " + a.ID + " (" + process + ") brauchen wir noch etwas von Ihnen:\n" + a.Reason +
			"\nBitte ergänzen Sie den Antrag auf Ihrer Statusseite." +
			"\n\nWe need more for your application " + a.ID + " (see above): please add it on your status page."
		m.SMS = "Stadt: Zu Ihrem Antrag " + a.ID + " fehlt noch etwas: " + short(a.Reason) + " Bitte auf Ihrer Statusseite ergänzen."
	}
	m.SMS = strings.ReplaceAll(m.SMS, "\n", " ")
	return []workflow.Message{m}, nil
}

// short cuts a reason for an SMS.
func short(s string) string {
	if r := []rune(s); len(r) > 100 {
		return string(r[:99]) + "…"
	}
	return s
}

// germanDate writes YYYY-MM-DD as DD.MM.YYYY.
func germanDate(d string) string {
	if len(d) != 10 {
		return d
	}
	return d[8:10] + "." + d[5:7] + "." + d[0:4]
}
