// Package sqlstore is the SQL that central's two stores, central/sqlite
// and central/postgres, share: the rollout plan and the update reports,
// the school-entry cohort, online appointments and the payments orders
// wait for. Each query is written once, with ? placeholders in SQL both
// databases speak, and runs on the Querier a store hands in (PostgreSQL's
// numbers the placeholders $1, $2, …).
//
// What truly differs stays in the stores: each begins and commits its own
// transactions and takes its own locks (SQLite's one writer holds the
// database's write lock; PostgreSQL locks rows and takes advisory locks,
// as several central nodes write at once), appends to its outbound log
// in its own way (Tx.AppendOutbound), and keeps its own case-insensitive
// exam districts.
package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

// Querier runs SQL with ? placeholders on a store's database or in one of
// its transactions. Row.Scan returns an error that is sql.ErrNoRows for
// errors.Is when there is no row (pgx.ErrNoRows is).
type Querier interface {
	// Exec runs query and returns how many rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Row is a row to scan (*sql.Row, pgx.Row).
type Row interface {
	Scan(dest ...any) error
}

// Rows are the rows of a query, read with Next and Scan and closed after.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Queries are the store methods that need no transaction of the store's
// own: both stores embed them. The functions of this package that take a
// Tx or Querier run in the caller's transaction instead.
type Queries struct {
	Read  Querier // reads (SQLite's reader pool)
	Write Querier // writes outside a transaction (SQLite's one writer)
}

// Tx is a store's write transaction, owned by the store's method: it
// begins it, takes its locks and commits; the functions of this package
// only read and write in it.
type Tx interface {
	Querier
	// AppendOutbound appends events to site's outbound log after its head.
	AppendOutbound(ctx context.Context, site string, events []Stamped, at time.Time) error
}

// Dialect is what the shared SQL needs to know of a store's database.
type Dialect struct {
	// ForUpdate ends a SELECT of a row the transaction goes on to change:
	// " FOR UPDATE" on PostgreSQL, where several central nodes may
	// change it at once; "" on SQLite, whose one writer's transactions
	// are immediate and so hold the database's write lock already.
	ForUpdate string
}

// queryAll runs query on q and reads each row it returns with scan.
func queryAll[T any](ctx context.Context, q Querier, scan func(Row) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Stamped is an event for a site's outbound log: its payload encoded (a
// cbor.RawMessage) and its HLC taken.
type Stamped struct {
	central.Outgoing
	HLC changelog.HLC
}

// stamp encodes o's payload and takes its HLC from clock.
func stamp(o central.Outgoing, clock func() changelog.HLC) (Stamped, error) {
	payload, err := changelog.Marshal(o.Payload)
	if err != nil {
		return Stamped{}, fmt.Errorf("store: encode %s: %w", o.Type, err)
	}
	return Stamped{Outgoing: central.Outgoing{Type: o.Type, Entity: o.Entity, Payload: cbor.RawMessage(payload)}, HLC: clock()}, nil
}

// stampAll stamps events in order.
func stampAll(events []central.Outgoing, clock func() changelog.HLC) ([]Stamped, error) {
	out := make([]Stamped, len(events))
	for i, o := range events {
		var err error
		if out[i], err = stamp(o, clock); err != nil {
			return nil, err
		}
	}
	return out, nil
}
