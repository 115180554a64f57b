package registration

import (
	"context"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/workflow"
)

// Online payment. An order paid online stays at central, in status
// awaiting_payment, until the payment provider's verified notification
// says it is paid: only then does it go down to its site (with Payment
// "online" and the provider's transaction ID), so that a site never works
// on an order nobody paid for. A cancelled or failed payment, or none
// within PaymentWindow, ends the order in payment_failed; its sealed
// details are then deleted unsent.

// Statuses of an order paid online before it goes down.
const (
	StatusAwaitingPayment = "awaiting_payment" // placed; central waits for the provider
	StatusPaymentFailed   = "payment_failed"   // cancelled, refused or not paid in time: final
)

// PaymentWindow is how long an order waits for its payment.
var PaymentWindow = 30 * time.Minute

// Outcomes of a payment as central records it (PaymentRecord.Outcome).
const (
	PaymentAwaiting  = "awaiting"
	PaymentPaid      = "paid"
	PaymentCancelled = "cancelled"
	PaymentFailed    = "failed"
	PaymentExpired   = "expired"
)

// PaymentHolder is what placing an order paid online needs beyond Host:
// keep the order, sealed, durably at central until it is paid. A Host
// without it does not offer online payment.
type PaymentHolder interface {
	HoldForPayment(ctx context.Context, site string, e workflow.Event) error
}

// PaymentRecord is what central keeps of a payment.
type PaymentRecord struct {
	Reference   string // the order code
	Site        string
	AmountCents int64
	Outcome     string // PaymentAwaiting, PaymentPaid, …
	TxnID       string // the provider's transaction, once one was reported
	Created     time.Time
}

// PaymentReport is a verified notification: the provider's word.
type PaymentReport struct {
	Status string // "paid", "cancelled" or "failed" (package payment)
	TxnID  string
}

// Settle decides what a verified notification does to a payment as of
// now. It returns the new outcome and whether anything changes; a repeat
// of the notification that decided the payment changes nothing and is no
// error (the provider retries until it hears 2xx). Everything else on a
// decided payment is ECONFLICT, and so is money paid after the window (it
// must be refunded); a cancellation or failure after it changes nothing.
func (p PaymentRecord) Settle(n PaymentReport, now time.Time) (string, bool, error) {
	outcome := PaymentFailed
	switch n.Status {
	case PaymentPaid:
		outcome = PaymentPaid
	case PaymentCancelled:
		outcome = PaymentCancelled
	}
	expired := p.Outcome == PaymentExpired || (p.Outcome == PaymentAwaiting && now.Sub(p.Created) > PaymentWindow)
	switch {
	case expired && outcome == PaymentPaid:
		return "", false, veedel.Errorf(veedel.ECONFLICT, "payment for %s came after the %s window: the order has expired and must be refunded", p.Reference, PaymentWindow)
	case expired:
		return PaymentExpired, false, nil // nothing was paid: nothing to do
	case p.Outcome == PaymentAwaiting:
		return outcome, true, nil
	case p.TxnID == n.TxnID && p.Outcome == outcome:
		return outcome, false, nil // the same notification again
	case p.TxnID == n.TxnID:
		return "", false, veedel.Errorf(veedel.ECONFLICT, "transaction %s of %s was reported %s before, now %s: refused", n.TxnID, p.Reference, p.Outcome, n.Status)
	default:
		return "", false, veedel.Errorf(veedel.ECONFLICT, "payment for %s is already %s (transaction %s); transaction %s refused", p.Reference, p.Outcome, p.TxnID, n.TxnID)
	}
}

// Hold folds an order held for its payment into the read model.
func (c *Central) Hold(site string, p *OrderPlaced, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.order(site, p)
	if o.Status == "" {
		o.Status, o.UpdatedAt = StatusAwaitingPayment, at
	}
}

// PaymentFailed ends an order that was not paid and returns its site
// ("" for an order it does not know).
func (c *Central) PaymentFailed(code string, at time.Time) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.byCode[code]
	if o == nil {
		return ""
	}
	if o.Status == StatusAwaitingPayment {
		o.Status, o.UpdatedAt = StatusPaymentFailed, at
	}
	return o.Site
}

// Paid returns the order as it goes down once paid: Payment "online" and
// the provider's transaction.
func Paid(p OrderPlaced, txn string) *OrderPlaced {
	p.Payment, p.PaidTxn = PaymentOnline, txn
	return &p
}
