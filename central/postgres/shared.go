package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/veedel/veedel/central/sqlstore"
	"github.com/veedel/veedel/internal/placeholder"
)

// The SQL this store shares with central/sqlite (central/sqlstore): the
// methods of the embedded sqlstore.Queries, and the functions the store's
// own transactions call.

// dialect: several central nodes write at once, so a transaction locks a
// row it reads to change.
var dialect = sqlstore.Dialect{ForUpdate: " FOR UPDATE"}

// shared runs sqlstore's SQL on the pool or in a transaction, its ?
// placeholders numbered $1, $2, … (internal/placeholder).
type shared struct {
	db interface {
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
		QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	}
}

func (q shared) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := q.db.Exec(ctx, placeholder.Dollar(query), args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (q shared) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := q.db.Query(ctx, placeholder.Dollar(query), args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (q shared) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return q.db.QueryRow(ctx, placeholder.Dollar(query), args...)
}

// writeTx is a transaction as central/sqlstore takes it.
type writeTx struct {
	shared
	tx pgx.Tx
}

func newWriteTx(tx pgx.Tx) writeTx { return writeTx{shared{tx}, tx} }

func (t writeTx) AppendOutbound(ctx context.Context, site string, events []sqlstore.Stamped, at time.Time) error {
	stamped := make([]stampedEvent, len(events))
	for i, e := range events {
		stamped[i] = stampedEvent{Outgoing: e.Outgoing, hlc: e.HLC}
	}
	return appendOutbound(ctx, t.tx, site, stamped, at)
}
