package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/sqlstore"
	"github.com/veedel/veedel/sync/changelog"
)

// Orders paid online, held until paid (migration 0003, central/payments.go),
// and the e-mail outbox's database handle. A payment's notification locks
// its row (FOR UPDATE): of two nodes taking the same notification at once,
// the second sees it settled and changes nothing.
//
// HoldPayment, ExpirePayments and HeldPayments are sqlstore.Queries'.

var _ central.PaymentStore = (*Store)(nil)

// Writer is a database/sql handle on the store's pool, for the mail
// outbox (internal/mail with Postgres set), whose table mail_outbox is in
// this database.
func (s *Store) Writer() *sql.DB {
	s.sqlOnce.Do(func() { s.sqlDB = stdlib.OpenDBFromPool(s.pool) })
	return s.sqlDB
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
	p, settled, err := sqlstore.SettlePayment(ctx, newWriteTx(tx), dialect, reference, txn, at, clock, decide)
	if settled == nil {
		return p, false, err
	}
	if err := s.fault.before(ctx, "commit"); err != nil {
		return p, false, fmt.Errorf("store: commit: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return p, false, fmt.Errorf("store: commit payment %s: %w", reference, err)
	}
	return *settled, true, nil
}
