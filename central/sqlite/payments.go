package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/sqlstore"
	"github.com/veedel/veedel/sync/changelog"
)

// Orders paid online, held until paid (migration 0013, central/payments.go).
//
// HoldPayment, ExpirePayments and HeldPayments are sqlstore.Queries'.

var _ central.PaymentStore = (*Store)(nil)

// SettlePayment decides and records a payment's notification, and sends
// what decide returns down to the payment's site, in one transaction.
func (s *Store) SettlePayment(ctx context.Context, reference, txn string, at time.Time, clock func() changelog.HLC,
	decide func(central.HeldPayment) (string, bool, []central.Outgoing, error)) (central.HeldPayment, bool, error) {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return central.HeldPayment{}, false, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	p, settled, err := sqlstore.SettlePayment(ctx, newWriteTx(tx), dialect, reference, txn, at, clock, decide)
	if settled == nil {
		return p, false, err
	}
	if err := s.fault.before(ctx, "commit"); err != nil {
		return p, false, fmt.Errorf("store: commit: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return p, false, fmt.Errorf("store: commit payment %s: %w", reference, err)
	}
	return *settled, true, nil
}
