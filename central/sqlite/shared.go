package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/veedel/veedel/central/sqlstore"
)

// The SQL this store shares with central/postgres (central/sqlstore): the
// methods of the embedded sqlstore.Queries, and the functions the store's
// own transactions call.

// dialect: the writer's transactions are immediate (sqlitedb), so a row
// read in one stays as read until commit without FOR UPDATE.
var dialect = sqlstore.Dialect{}

// shared runs sqlstore's SQL on the reader pool, the writer or a
// transaction of the writer.
type shared struct {
	db interface {
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
		QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	}
}

func (q shared) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := q.db.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q shared) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := q.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (q shared) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return q.db.QueryRowContext(ctx, query, args...)
}

// sqlRows closes as sqlstore.Rows do, without an error: what Close could
// report, Err does.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

// writeTx is a transaction of the writer as central/sqlstore takes it.
type writeTx struct {
	shared
	tx *sql.Tx
}

func newWriteTx(tx *sql.Tx) writeTx { return writeTx{shared{tx}, tx} }

func (t writeTx) AppendOutbound(ctx context.Context, site string, events []sqlstore.Stamped, at time.Time) error {
	stamped := make([]stampedEvent, len(events))
	for i, e := range events {
		stamped[i] = stampedEvent{Outgoing: e.Outgoing, hlc: e.HLC}
	}
	return appendOutbound(ctx, t.tx, site, stamped, at)
}
