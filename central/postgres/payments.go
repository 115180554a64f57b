package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

// Orders paid online, held until paid (migration 0003, central/payments.go),
// and the e-mail outbox's database handle. A payment's notification locks
// its row (FOR UPDATE): of two nodes taking the same notification at once,
// the second sees it settled and changes nothing.

var _ central.PaymentStore = (*Store)(nil)

// Writer is a database/sql handle on the store's pool, for the mail
// outbox (internal/mail with Postgres set), whose table mail_outbox is in
// this database.
func (s *Store) Writer() *sql.DB {
	s.sqlOnce.Do(func() { s.sqlDB = stdlib.OpenDBFromPool(s.pool) })
	return s.sqlDB
}

// HoldPayment stores a new payment awaiting its notification.
func (s *Store) HoldPayment(ctx context.Context, p central.HeldPayment) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO payments (reference, site, amount_cents, currency, status, placed, sealed, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, p.Reference, p.Site, p.AmountCents, p.Currency, p.Status, p.Placed, p.Sealed,
		p.CreatedAt.UnixMilli(), p.UpdatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: hold payment %s: %w", p.Reference, err)
	}
	return nil
}

const paymentColumns = `reference, site, amount_cents, currency, status, COALESCE(provider_txn, ''), placed, sealed, created_at, updated_at`

func scanPayment(row pgx.Row) (central.HeldPayment, error) {
	var p central.HeldPayment
	var created, updated int64
	err := row.Scan(&p.Reference, &p.Site, &p.AmountCents, &p.Currency, &p.Status, &p.TxnID, &p.Placed, &p.Sealed, &created, &updated)
	p.CreatedAt, p.UpdatedAt = time.UnixMilli(created), time.UnixMilli(updated)
	return p, err
}

// SettlePayment decides and records a payment's notification, and sends
// what decide returns down to the payment's site, in one transaction.
func (s *Store) SettlePayment(ctx context.Context, reference, txn string, at time.Time, clock func() changelog.HLC,
	decide func(central.HeldPayment) (string, bool, []central.Outgoing, error)) (central.HeldPayment, bool, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return central.HeldPayment{}, false, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	p, err := scanPayment(tx.QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE reference = $1 FOR UPDATE`, reference))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, false, veedel.Errorf(veedel.ENOTFOUND, "payment notification refused: no order awaits a payment under reference %q", reference)
	}
	if err != nil {
		return p, false, fmt.Errorf("store: payment %s: %w", reference, err)
	}
	status, changed, send, err := decide(p)
	if err != nil || !changed {
		if status != "" {
			p.Status = status
		}
		return p, false, err
	}
	if _, err := tx.Exec(ctx, `UPDATE payments SET status = $1, provider_txn = $2, sealed = NULL, updated_at = $3 WHERE reference = $4 AND status = $5`,
		status, txn, at.UnixMilli(), reference, p.Status); err != nil {
		return p, false, fmt.Errorf("store: settle payment %s: %w", reference, err)
	}
	if len(send) > 0 {
		stamped := make([]stampedEvent, len(send))
		for i, e := range send {
			payload, err := changelog.Marshal(e.Payload)
			if err != nil {
				return p, false, fmt.Errorf("store: encode %s: %w", e.Type, err)
			}
			stamped[i] = stampedEvent{Outgoing: central.Outgoing{Type: e.Type, Entity: e.Entity, Payload: cbor.RawMessage(payload)}, hlc: clock()}
		}
		if err := appendOutbound(ctx, tx, p.Site, stamped, at); err != nil {
			return p, false, err
		}
	}
	if err := s.fault.before(ctx, "commit"); err != nil {
		return p, false, fmt.Errorf("store: commit: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return p, false, fmt.Errorf("store: commit payment %s: %w", reference, err)
	}
	p.Status, p.TxnID, p.Sealed, p.UpdatedAt = status, txn, nil, at
	return p, true, nil
}

// ExpirePayments ends the payments awaiting since before.
func (s *Store) ExpirePayments(ctx context.Context, before, at time.Time) ([]string, error) {
	rows, err := s.pool.Query(ctx, `UPDATE payments SET status = 'expired', sealed = NULL, updated_at = $1
		WHERE status = 'awaiting' AND created_at < $2 RETURNING reference`, at.UnixMilli(), before.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store: expire payments: %w", err)
	}
	refs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: expire payments: %w", err)
	}
	return refs, nil
}

// HeldPayments returns the payments not paid.
func (s *Store) HeldPayments(ctx context.Context) ([]central.HeldPayment, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+paymentColumns+` FROM payments WHERE status <> 'paid' ORDER BY created_at`)
	if err != nil {
		return nil, fmt.Errorf("store: held payments: %w", err)
	}
	defer rows.Close()
	var out []central.HeldPayment
	for rows.Next() {
		p, err := scanPayment(rows)
		if err != nil {
			return nil, fmt.Errorf("store: held payments: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
