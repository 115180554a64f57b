package central

import (
	"context"
	"fmt"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/registration"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/workflow"
)

// Orders paid online wait at central for their payment (registration's
// payment.go): the store keeps each one with its sealed details until the
// provider's verified notification arrives, and then, in one transaction,
// records the payment and appends the order to its site's outbound log.
// Both stores (SQLite, PostgreSQL) keep them: PaymentStore is part of
// LogStore.

// PaymentStore keeps the orders that wait for their payment.
type PaymentStore interface {
	// HoldPayment stores a new payment in status "awaiting".
	HoldPayment(ctx context.Context, p HeldPayment) error
	// SettlePayment reads the payment of reference, lets decide choose the
	// new status and the events to send down, and, in the same
	// transaction, records them and appends the events to the payment's
	// site's outbound log (deleting the sealed details). decide returning
	// an error or changed=false stores nothing. ENOTFOUND for an unknown
	// reference.
	// txn is the provider's transaction, recorded with the new status.
	SettlePayment(ctx context.Context, reference, txn string, at time.Time, clock func() changelog.HLC,
		decide func(HeldPayment) (status string, changed bool, send []Outgoing, err error)) (HeldPayment, bool, error)
	// ExpirePayments marks the payments still awaiting that were created
	// before before as "expired", deletes their sealed details and
	// returns their references.
	ExpirePayments(ctx context.Context, before, at time.Time) ([]string, error)
	// HeldPayments returns every payment not paid (awaiting, cancelled,
	// failed, expired), for the read model at start.
	HeldPayments(ctx context.Context) ([]HeldPayment, error)
}

// HeldPayment is a payment as the store keeps it.
type HeldPayment struct {
	Reference   string
	Site        string
	AmountCents int64
	Currency    string
	Status      string // registration.PaymentAwaiting, …
	TxnID       string
	Placed      []byte // the OrderPlaced payload (CBOR) without its sealed details
	Sealed      []byte // the sealed details; nil once sent down, failed or expired
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (c *Central) paymentStore() (PaymentStore, error) { return c.store, nil }

func (c *Central) orders() *registration.Central {
	wf, _ := c.Workflow(registration.Prefix).(*registration.Central)
	return wf
}

// HoldForPayment keeps an order placed with online payment at central
// until it is paid (registration.PaymentHolder).
func (c *Central) HoldForPayment(ctx context.Context, site string, e workflow.Event) error {
	ps, err := c.paymentStore()
	if err != nil {
		return err
	}
	p, ok := e.Payload.(*registration.OrderPlaced)
	if !ok || p.FeeCents <= 0 {
		return veedel.Errorf(veedel.EINVALID, "nothing to pay for this order")
	}
	bare := *p
	bare.Sealed = nil
	placed, err := changelog.Marshal(&bare)
	if err != nil {
		return err
	}
	return ps.HoldPayment(ctx, HeldPayment{Reference: p.Code, Site: site, AmountCents: int64(p.FeeCents), Currency: "EUR",
		Status: registration.PaymentAwaiting, Placed: placed, Sealed: p.Sealed, CreatedAt: e.At, UpdatedAt: e.At})
}

// SettlePayment applies a verified payment notification: check is given
// the payment as stored (the caller compares amount and currency), then
// the outcome is decided (registration.PaymentRecord.Settle). Paid, the
// order goes down to its site in the same transaction; cancelled or
// failed, it ends in payment_failed. A repeat changes nothing. It returns
// the payment's outcome.
func (c *Central) SettlePayment(ctx context.Context, reference string, report registration.PaymentReport, check func(HeldPayment) error) (string, error) {
	ps, err := c.paymentStore()
	if err != nil {
		return "", err
	}
	clock, err := c.outboundClock(ctx)
	if err != nil {
		return "", err
	}
	now := c.now()
	var sent *workflow.Event
	held, changed, err := ps.SettlePayment(ctx, reference, report.TxnID, now, clock, func(h HeldPayment) (string, bool, []Outgoing, error) {
		if err := check(h); err != nil {
			return "", false, nil, err
		}
		rec := registration.PaymentRecord{Reference: h.Reference, Site: h.Site, AmountCents: h.AmountCents, Outcome: h.Status, TxnID: h.TxnID, Created: h.CreatedAt}
		outcome, changed, err := rec.Settle(report, now)
		if err != nil || !changed || outcome != registration.PaymentPaid {
			return outcome, changed, nil, err
		}
		var p registration.OrderPlaced
		if err := changelog.Unmarshal(h.Placed, &p); err != nil {
			return "", false, nil, fmt.Errorf("central: decode held order %s: %w", reference, err)
		}
		if len(h.Sealed) == 0 {
			return "", false, nil, veedel.Errorf(veedel.ECONFLICT, "order %s has no details left to send", reference)
		}
		p.Sealed = h.Sealed
		paid := registration.Paid(p, report.TxnID)
		sent = &workflow.Event{Type: registration.TypeOrderPlaced, Entity: "order/" + p.Code, At: now, Payload: paid}
		return outcome, true, []Outgoing{{Type: sent.Type, Entity: sent.Entity, Payload: paid}}, nil
	})
	if err != nil {
		return "", err
	}
	if changed {
		if sent != nil {
			if wf := c.orders(); wf != nil {
				wf.Sent(held.Site, *sent)
			}
			c.outboundGrew(held.Site)
		} else if wf := c.orders(); wf != nil {
			wf.PaymentFailed(reference, now)
		}
		c.notify(held.Site) // the citizen's open status page follows
		c.log.Info("payment settled", "reference", reference, "status", held.Status)
	}
	return held.Status, nil
}

// ExpirePayments ends the orders whose payment did not come within
// registration.PaymentWindow; it returns how many.
func (c *Central) ExpirePayments(ctx context.Context) (int, error) {
	ps, err := c.paymentStore()
	if err != nil {
		return 0, nil // no payments here
	}
	now := c.now()
	refs, err := ps.ExpirePayments(ctx, now.Add(-registration.PaymentWindow), now)
	if err != nil {
		return 0, err
	}
	if wf := c.orders(); wf != nil {
		for _, ref := range refs {
			if site := wf.PaymentFailed(ref, now); site != "" {
				c.notify(site)
			}
		}
	}
	return len(refs), nil
}

// loadPayments folds the orders that wait or waited for their payment
// into the read model.
func (c *Central) loadPayments(ctx context.Context) error {
	ps := c.store
	wf := c.orders()
	if wf == nil {
		return nil
	}
	held, err := ps.HeldPayments(ctx)
	if err != nil {
		return err
	}
	for _, h := range held {
		var p registration.OrderPlaced
		if err := changelog.Unmarshal(h.Placed, &p); err != nil {
			c.log.Error("fold held order", "reference", h.Reference, "err", err)
			continue
		}
		wf.Hold(h.Site, &p, h.CreatedAt)
		if h.Status != registration.PaymentAwaiting {
			wf.PaymentFailed(h.Reference, h.UpdatedAt)
		}
	}
	return nil
}
