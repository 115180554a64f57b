package registration

import (
	"context"
	"fmt"
	"strings"

	"github.com/veedel/veedel/workflow"
)

// The citizen hears of each step that asks something of them or ends the
// order: ready (come and pick it up), dispatched, rejected (and why).
// Messages go in the language the order was placed in where there is a
// text in it, with German; the status page says the same.

// KindNames are the certificates' German names.
var KindNames = map[string]string{
	KindMelde:          "Meldebescheinigung",
	KindMeldeErweitert: "Erweiterte Meldebescheinigung",
	KindGeburt:         "Geburtsurkunde",
	KindEhe:            "Eheurkunde",
	KindLebenspartner:  "Lebenspartnerschaftsurkunde",
	KindSterbe:         "Sterbeurkunde",
}

// messages returns what an order's step tells its citizen.
func messages(ctx context.Context, q workflow.Querier, e workflow.Event) ([]workflow.Message, error) {
	var step, de, en, reason string
	switch p := e.Payload.(type) {
	case *OrderReady:
		step = StatusReady
		de = "Ihre %s (Bestellung %s) liegt zur Abholung bereit.\nBitte bringen Sie Ihren Ausweis mit und geben Sie am Kiosk den Code %s ein.%s"
		en = "Your certificate (order %s) is ready for pickup. Bring your ID and enter the code at the kiosk."
	case *OrderDispatched:
		step = StatusDispatched
		de = "Ihre %s (Bestellung %s) ist heute mit der Post an Sie gegangen.%s%s"
		en = "Your certificate (order %s) went into the post today."
	case *OrderRejected:
		step = StatusRejected
		reason = p.Reason
		if r := []rune(reason); len(r) > 100 {
			reason = string(r[:99]) + "…"
		}
		de = "Ihre %s (Bestellung %s) konnte nicht ausgestellt werden.%s\nGrund: " + strings.ReplaceAll(p.Reason, "%", "%%") + "%s"
		en = "Your order %s could not be completed. Reason: see above."
	default:
		return nil, nil
	}
	code := codeOf(e.Payload)
	o, err := Get(ctx, q, code)
	if err != nil || o.Details == nil || (o.Details.Contact.Email == "" && o.Details.Contact.Phone == "") {
		return nil, err
	}
	if step == StatusReady && o.Delivery == DeliveryPost {
		return nil, nil // it will be dispatched: that is the message
	}
	fee := ""
	if step == StatusReady && o.Payment == PaymentAtPickup && o.FeeCents > 0 {
		fee = fmt.Sprintf("\nGebühr: %d,%02d € (bar oder mit Karte).", o.FeeCents/100, o.FeeCents%100)
	}
	var text string
	switch step {
	case StatusReady:
		text = fmt.Sprintf(de, KindNames[o.Kind], o.Code, o.Code, fee)
	case StatusDispatched:
		text = fmt.Sprintf(de, KindNames[o.Kind], o.Code, "", "")
	case StatusRejected:
		text = fmt.Sprintf(de, KindNames[o.Kind], o.Code, "", "")
	}
	text += "\n\n" + fmt.Sprintf(en, o.Code)
	name := strings.TrimSpace(o.Details.Person.GivenNames + " " + o.Details.Person.FamilyName)
	subjects := map[string]string{
		StatusReady:      "Abholbereit: " + KindNames[o.Kind],
		StatusDispatched: "Versandt: " + KindNames[o.Kind],
		StatusRejected:   "Bestellung " + o.Code + " abgelehnt",
	}
	sms := map[string]string{
		StatusReady:      fmt.Sprintf("Stadt: Ihre %s liegt zur Abholung bereit. Am Kiosk den Code %s eingeben, Ausweis mitbringen.%s", KindNames[o.Kind], o.Code, fee),
		StatusDispatched: fmt.Sprintf("Stadt: Ihre %s (Bestellung %s) ist heute per Post an Sie gegangen.", KindNames[o.Kind], o.Code),
		StatusRejected:   fmt.Sprintf("Stadt: Ihre Bestellung %s konnte nicht ausgestellt werden. Grund: %s", o.Code, reason),
	}
	return []workflow.Message{{Name: name, Email: o.Details.Contact.Email, Phone: o.Details.Contact.Phone, Subject: subjects[step], Text: text,
		SMS: strings.ReplaceAll(sms[step], "\n", " "), Key: "order:" + o.Code + ":" + step}}, nil
}
