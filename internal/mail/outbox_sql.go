package mail

import _ "embed"

// SchemaSQLite creates table mail_outbox in SQLite. The stores apply it as
// their migration (appliance/sqlite/migrations/0015_mail_outbox.sql,
// central/sqlite/migrations/0012_mail_outbox.sql: copies, checked by
// TestMigrationsMatchSchema).
//
//go:embed schema/sqlite.sql
var SchemaSQLite string

// The outbox's SQL, all of it, in the dialect SQLite and PostgreSQL share
// except for the placeholders: a PostgreSQL variant needs $1, $2 … here
// and a schema with BIGINT/BYTEA/BIGSERIAL.
const (
	sqlEnqueue = `INSERT INTO mail_outbox (dedupe_key, message_id, mail_from, recipient, data, status, next_at, created_at)
		VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)
		ON CONFLICT (dedupe_key) DO NOTHING`

	sqlDue = `SELECT id, claimed_at FROM mail_outbox
		WHERE status = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?`

	// sqlClaim records an attempt before it starts: attempts+1, and a
	// lease in next_at so no one picks the row while it runs.
	sqlClaim = `UPDATE mail_outbox SET attempts = attempts + 1, claimed_at = ?, next_at = ?
		WHERE id = ? AND status = 'pending' AND next_at <= ?
		RETURNING attempts, message_id, mail_from, recipient, data`

	sqlSent = `UPDATE mail_outbox SET status = 'sent', sent_at = ?, done_at = ?, claimed_at = NULL,
		recipient = NULL, data = NULL, last_error = ''
		WHERE id = ? AND status = 'pending'`

	sqlFailed = `UPDATE mail_outbox SET status = 'failed', done_at = ?, claimed_at = NULL,
		recipient = NULL, data = NULL, last_error = ?
		WHERE id = ? AND status = 'pending'`

	sqlRetry = `UPDATE mail_outbox SET claimed_at = NULL, next_at = ?, last_error = ?
		WHERE id = ? AND status = 'pending'`

	sqlSweep = `DELETE FROM mail_outbox WHERE done_at IS NOT NULL AND done_at < ?`

	sqlCounts = `SELECT status, count(*), min(created_at) FROM mail_outbox GROUP BY status`

	sqlLookup = `SELECT id, message_id, status, attempts, last_error, created_at, sent_at
		FROM mail_outbox WHERE dedupe_key = ?`
)
