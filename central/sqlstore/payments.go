package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

// Orders paid online, held until paid (central/payments.go).

const paymentColumns = `reference, site, amount_cents, currency, status, COALESCE(provider_txn, ''), placed, sealed, created_at, updated_at`

func scanPayment(row Row) (central.HeldPayment, error) {
	var p central.HeldPayment
	var created, updated int64
	err := row.Scan(&p.Reference, &p.Site, &p.AmountCents, &p.Currency, &p.Status, &p.TxnID, &p.Placed, &p.Sealed, &created, &updated)
	p.CreatedAt, p.UpdatedAt = time.UnixMilli(created), time.UnixMilli(updated)
	return p, err
}

// HoldPayment stores a new payment awaiting its notification.
func (q Queries) HoldPayment(ctx context.Context, p central.HeldPayment) error {
	query := `
		INSERT INTO payments (reference, site, amount_cents, currency, status, placed, sealed, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	if _, err := q.Write.Exec(ctx, query, p.Reference, p.Site, p.AmountCents, p.Currency, p.Status, p.Placed, p.Sealed,
		p.CreatedAt.UnixMilli(), p.UpdatedAt.UnixMilli()); err != nil {
		return fmt.Errorf("store: hold payment %s: %w", p.Reference, err)
	}
	return nil
}

// SettlePayment reads the payment of reference in tx (d.ForUpdate) and
// lets decide settle it. It returns the payment as read (with decide's
// status when it changed nothing), and settled: when nil nothing changed
// and err is why; otherwise the settlement is written and decide's events
// appended to the payment's site's outbound log, and the caller commits
// and returns *settled.
func SettlePayment(ctx context.Context, tx Tx, d Dialect, reference, txn string, at time.Time, clock func() changelog.HLC,
	decide func(central.HeldPayment) (string, bool, []central.Outgoing, error)) (p central.HeldPayment, settled *central.HeldPayment, err error) {
	p, err = scanPayment(tx.QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE reference = ?`+d.ForUpdate, reference))
	if errors.Is(err, sql.ErrNoRows) {
		return p, nil, veedel.Errorf(veedel.ENOTFOUND, "payment notification refused: no order awaits a payment under reference %q", reference)
	}
	if err != nil {
		return p, nil, fmt.Errorf("store: payment %s: %w", reference, err)
	}
	status, changed, send, err := decide(p)
	if err != nil || !changed {
		if status != "" {
			p.Status = status
		}
		return p, nil, err
	}
	if _, err := tx.Exec(ctx, `UPDATE payments SET status = ?, provider_txn = ?, sealed = NULL, updated_at = ? WHERE reference = ? AND status = ?`,
		status, txn, at.UnixMilli(), reference, p.Status); err != nil {
		return p, nil, fmt.Errorf("store: settle payment %s: %w", reference, err)
	}
	if len(send) > 0 {
		stamped, err := stampAll(send, clock)
		if err != nil {
			return p, nil, err
		}
		if err := tx.AppendOutbound(ctx, p.Site, stamped, at); err != nil {
			return p, nil, err
		}
	}
	s := p
	s.Status, s.TxnID, s.Sealed, s.UpdatedAt = status, txn, nil, at
	return p, &s, nil
}

// ExpirePayments ends the payments awaiting since before and returns
// their references.
func (q Queries) ExpirePayments(ctx context.Context, before, at time.Time) ([]string, error) {
	query := `
		UPDATE payments SET status = 'expired', sealed = NULL, updated_at = ?
		WHERE status = 'awaiting' AND created_at < ?
		RETURNING reference`
	refs, err := queryAll(ctx, q.Write, func(row Row) (ref string, err error) {
		err = row.Scan(&ref)
		return ref, err
	}, query, at.UnixMilli(), before.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store: expire payments: %w", err)
	}
	return refs, nil
}

// HeldPayments returns the payments not paid.
func (q Queries) HeldPayments(ctx context.Context) ([]central.HeldPayment, error) {
	out, err := queryAll(ctx, q.Read, scanPayment, `SELECT `+paymentColumns+` FROM payments WHERE status <> 'paid' ORDER BY created_at`)
	if err != nil {
		return nil, fmt.Errorf("store: held payments: %w", err)
	}
	return out, nil
}
