package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// Statements every command runs, prepared once on the writer connection
// at Open. SQLite parses a statement each time it is prepared, and for
// these small statements parsing cost about as much as running them,
// under the store's lock. A transaction takes a prepared one with
// Tx.StmtContext, which reuses the connection's statement; every other
// statement is prepared when it runs, as before.
const (
	sqlAppendEntry    = `INSERT INTO changelog (seq, version, hlc, type, entity, payload, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	sqlSavepoint      = `SAVEPOINT command`
	sqlRelease        = `RELEASE command`
	sqlTicketIssued   = `INSERT INTO tickets (id, day, token, number, service, channel, status, issued_at, estimate_minutes, estimate_p90) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlTicketCalled   = `UPDATE tickets SET status = ?, counter = ?, called_at = ? WHERE id = ?`
	sqlTicketEnded    = `UPDATE tickets SET status = ?, finished_at = ? WHERE id = ?`
	sqlEraseSignups   = `DELETE FROM sms_signups WHERE ticket_id = ?`
	sqlEraseSMSOutbox = `DELETE FROM sms_outbox WHERE ticket_id = ?`
	sqlIdempotencyGet = `SELECT request, ticket_id FROM idempotency_keys WHERE key = ?`
	sqlIdempotencyPut = `INSERT INTO idempotency_keys (key, request, ticket_id, created_at) VALUES (?, ?, ?, ?)`
)

var hotStatements = []string{
	sqlAppendEntry, sqlSavepoint, sqlRelease, sqlTicketIssued, sqlTicketCalled, sqlTicketEnded,
	sqlEraseSignups, sqlEraseSMSOutbox, sqlIdempotencyGet, sqlIdempotencyPut,
}

// prepare prepares hotStatements on db (the writer).
func prepare(ctx context.Context, db *sql.DB) (map[string]*sql.Stmt, error) {
	m := make(map[string]*sql.Stmt, len(hotStatements))
	for _, q := range hotStatements {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			closeStatements(m)
			return nil, fmt.Errorf("store: prepare: %w", err)
		}
		m[q] = st
	}
	return m, nil
}

func closeStatements(m map[string]*sql.Stmt) {
	for _, st := range m {
		st.Close()
	}
}

// preparedTx runs a transaction's statements, the prepared ones through
// their statements. It is a workflow.Querier, so the workflows' own
// statements go through it too (prepared when they run).
type preparedTx struct {
	tx   *sql.Tx
	stmt map[string]*sql.Stmt
}

func (s *Store) prepared(tx *sql.Tx) preparedTx { return preparedTx{tx: tx, stmt: s.stmts} }

func (p preparedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := p.stmt[query]; st != nil {
		return p.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return p.tx.ExecContext(ctx, query, args...)
}

func (p preparedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := p.stmt[query]; st != nil {
		return p.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return p.tx.QueryContext(ctx, query, args...)
}

func (p preparedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := p.stmt[query]; st != nil {
		return p.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return p.tx.QueryRowContext(ctx, query, args...)
}
