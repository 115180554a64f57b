package mail

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/veedel/veedel/internal/placeholder"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/veedel/veedel"
)

// Outbox defaults.
const (
	DefaultMaxAttempts = 20               // with the backoff below: about 8 h of retries
	DefaultBackoff     = 30 * time.Second // after the first failure, doubling
	DefaultMaxBackoff  = 30 * time.Minute
	DefaultRetention   = 30 * 24 * time.Hour
	DefaultSendTimeout = 60 * time.Second
	defaultPoll        = 5 * time.Second
	// recordTimeout bounds recording an attempt's outcome, which is done
	// even when the worker is stopping: a message sent must be marked.
	recordTimeout = 10 * time.Second
	batch         = 20
	sweepEvery    = time.Hour
	maxErrorText  = 300
)

// Execer is what Enqueue writes through: the caller's *sql.Tx (or a
// *sql.DB or *sql.Conn where no transaction is wanted).
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Outbox is the durable e-mail queue in table mail_outbox and the worker
// that sends it. Set the exported fields, then call Enqueue from the
// business transactions and Run once in the background. Safe for
// concurrent use. Workers in several processes may share one database
// (central nodes on one PostgreSQL): a claim is one UPDATE that holds the
// row for the attempt's lease, so their clocks must agree to well within
// SendTimeout.
type Outbox struct {
	// DB holds mail_outbox; the worker's short transactions go to it (the
	// appliance: the store's writer pool).
	DB *sql.DB
	// From is the sender of every message ("Stadt Köln
	// <noreply@stadt-koeln.de>"), also the envelope's return path; its
	// domain ends the Message-IDs.
	From Address
	// Sender delivers (a *Relay); nil leaves messages queued.
	Sender Sender
	Logger *slog.Logger
	// MaxAttempts bounds the tries per message (0: DefaultMaxAttempts).
	MaxAttempts int
	// Backoff is the pause after the first failed attempt, doubling after
	// each further one up to MaxBackoff (0: the defaults).
	Backoff, MaxBackoff time.Duration
	// Retention is how long the minimal record of a sent or failed message
	// is kept (0: DefaultRetention).
	Retention time.Duration
	// SendTimeout bounds one attempt (0: DefaultSendTimeout).
	SendTimeout time.Duration
	// Poll is how often Run looks without a Kick (0: 5 s).
	Poll time.Duration
	// Postgres says DB is PostgreSQL (through pgx's database/sql driver):
	// the queries take $1, $2 … (the table: central/postgres migration
	// 0003). False: SQLite.
	Postgres bool
	// Now is the clock (nil: time.Now); Rand the randomness of
	// Message-IDs and MIME boundaries (nil: crypto/rand).
	Now  func() time.Time
	Rand io.Reader

	once      sync.Once
	kick      chan struct{}
	mu        sync.Mutex // one Step at a time
	lastSweep time.Time
}

func (o *Outbox) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *Outbox) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

func (o *Outbox) kicks() chan struct{} {
	o.once.Do(func() { o.kick = make(chan struct{}, 1) })
	return o.kick
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Enqueue renders msg and queues it in tx, the caller's transaction: the
// message exists exactly when tx commits. It reports false, and queues
// nothing, when msg.Key is set and a message with that key was queued
// before (also one already sent, within Retention). Call Kick after the
// commit to have it sent at once rather than within Poll. A message that
// cannot be rendered (bad address, subject with a line break …) is an
// EINVALID error with a message a person can act on.
func (o *Outbox) Enqueue(ctx context.Context, tx Execer, msg Message) (bool, error) {
	if err := ValidateAddress(o.From.Email); err != nil {
		return false, fmt.Errorf("mail: the sender address (-mail-from) is not valid: %w", err)
	}
	random := make([]byte, 20)
	if _, err := io.ReadFull(or[io.Reader](o.Rand, rand.Reader), random); err != nil {
		return false, fmt.Errorf("mail: %w", err)
	}
	now := o.now()
	domain := o.From.Email[strings.LastIndexByte(o.From.Email, '@')+1:]
	id := "<" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(random[:15])) + "@" + domain + ">"
	data, err := render(msg, rendering{From: o.From, MessageID: id, Date: now, Boundary: hex.EncodeToString(random[15:])})
	if err != nil {
		return false, err
	}
	var key any
	if msg.Key != "" {
		key = msg.Key
	}
	res, err := tx.ExecContext(ctx, o.query(sqlEnqueue), key, id, o.From.Email, msg.To.Email, data, now.UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("mail: enqueue: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("mail: enqueue: %w", err)
	}
	return n == 1, nil
}

// query is q in the database's dialect.
func (o *Outbox) query(q string) string {
	if !o.Postgres {
		return q
	}
	return placeholder.Dollar(q)
}

// Kick wakes Run to send what is due now.
func (o *Outbox) Kick() {
	select {
	case o.kicks() <- struct{}{}:
	default:
	}
}

// Run sends until ctx ends: at every Kick and every Poll.
func (o *Outbox) Run(ctx context.Context) {
	ticker := time.NewTicker(or(o.Poll, defaultPoll))
	defer ticker.Stop()
	for {
		if _, err := o.Step(ctx); err != nil && ctx.Err() == nil {
			o.logger().Error("mail outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-o.kicks():
		case <-ticker.C:
		}
	}
}

// Step sends every message due now, one after the other, and deletes the
// records older than Retention (at most hourly). It returns how many
// messages the relay took.
func (o *Outbox) Step(ctx context.Context) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.now()
	if now.Sub(o.lastSweep) >= sweepEvery {
		if _, err := o.DB.ExecContext(ctx, o.query(sqlSweep), now.Add(-or(o.Retention, DefaultRetention)).UnixMilli()); err != nil {
			return 0, fmt.Errorf("mail: sweep: %w", err)
		}
		o.lastSweep = now
	}
	if o.Sender == nil {
		return 0, nil
	}
	type due struct {
		id          int64
		interrupted bool
	}
	sent := 0
	for ctx.Err() == nil {
		// Attempts move next_at into the future, so each round picks
		// new rows; a full batch means there may be more.
		var dues []due
		rows, err := o.DB.QueryContext(ctx, o.query(sqlDue), now.UnixMilli(), batch)
		if err != nil {
			return sent, fmt.Errorf("mail: due: %w", err)
		}
		for rows.Next() {
			var d due
			var claimed sql.NullInt64
			if err := rows.Scan(&d.id, &claimed); err != nil {
				rows.Close()
				return sent, fmt.Errorf("mail: due: %w", err)
			}
			d.interrupted = claimed.Valid
			dues = append(dues, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return sent, fmt.Errorf("mail: due: %w", err)
		}
		for _, d := range dues {
			if ctx.Err() != nil {
				break
			}
			ok, err := o.attempt(ctx, d.id, d.interrupted)
			if err != nil {
				return sent, err
			}
			if ok {
				sent++
			}
		}
		if len(dues) < batch {
			break
		}
	}
	return sent, nil
}

// backoff is the pause after the n-th failed attempt.
func (o *Outbox) backoff(n int) time.Duration {
	d, limit := or(o.Backoff, DefaultBackoff), or(o.MaxBackoff, DefaultMaxBackoff)
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// attempt sends one message: it records the attempt, sends, and records the
// outcome. It reports whether the relay took the message; an error means
// the outbox itself failed (the database).
func (o *Outbox) attempt(ctx context.Context, id int64, interrupted bool) (bool, error) {
	now := o.now()
	sendTimeout := or(o.SendTimeout, DefaultSendTimeout)
	// The lease: no one picks the row again before this attempt has ended
	// and recorded its outcome; if the process dies, the retry is then.
	lease := now.Add(sendTimeout + recordTimeout)
	var (
		attempts          int
		msgID, from, rcpt string
		data              []byte
	)
	err := o.DB.QueryRowContext(ctx, o.query(sqlClaim), now.UnixMilli(), lease.UnixMilli(), id, now.UnixMilli()).
		Scan(&attempts, &msgID, &from, &rcpt, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // sent, failed or claimed since the scan
	}
	if err != nil {
		return false, fmt.Errorf("mail: claim %d: %w", id, err)
	}
	log := o.logger().With("mail", id, "message_id", msgID, "attempt", attempts)
	if interrupted {
		log.Warn("mail: the previous attempt ended without a recorded outcome (process stopped?); sending again with the same Message-ID")
	}
	sctx, cancel := context.WithTimeout(ctx, sendTimeout)
	sendErr := o.Sender.Send(sctx, Envelope{From: from, To: rcpt}, data)
	cancel()

	// Record even when ctx ended: a sent message must be marked sent.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	done := o.now().UnixMilli()
	text := scrub(sendErr, rcpt)
	switch {
	case sendErr == nil:
		if _, err := o.DB.ExecContext(rctx, o.query(sqlSent), done, done, id); err != nil {
			// The relay has it; the row is retried after the lease.
			return true, fmt.Errorf("mail: %d was sent but could not be marked sent (it will be sent again with the same Message-ID): %w", id, err)
		}
		log.Info("mail sent")
		return true, nil
	case isPermanent(sendErr) || attempts >= or(o.MaxAttempts, DefaultMaxAttempts):
		if _, err := o.DB.ExecContext(rctx, o.query(sqlFailed), done, text, id); err != nil {
			return false, fmt.Errorf("mail: mark %d failed: %w", id, err)
		}
		log.Error("mail not sent, given up", "err", text)
	default:
		next := o.now().Add(o.backoff(attempts))
		if _, err := o.DB.ExecContext(rctx, o.query(sqlRetry), next.UnixMilli(), text, id); err != nil {
			return false, fmt.Errorf("mail: record attempt on %d: %w", id, err)
		}
		log.Warn("mail not sent, will retry", "err", text, "retry_in", o.backoff(attempts).String())
	}
	return false, nil
}

// scrub is err's text for the record and the log: without the recipient
// (relays quote it: "550 5.1.1 <a@b.de>: unknown user"), at most 300 bytes.
func scrub(err error, rcpt string) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if rcpt != "" {
		s = strings.ReplaceAll(s, rcpt, "<Empfänger>")
		if at := strings.LastIndexByte(rcpt, '@'); at > 0 {
			s = strings.ReplaceAll(s, rcpt[:at], "<Empfänger>")
		}
	}
	if len(s) > maxErrorText {
		s = strings.ToValidUTF8(s[:maxErrorText], "") + "…"
	}
	return s
}

// Status values of a Record.
const (
	StatusPending = "pending"
	StatusSent    = "sent"
	StatusFailed  = "failed"
)

// Record is what the outbox knows about a message; after sending, this is
// all it knows.
type Record struct {
	ID        int64
	MessageID string
	Status    string
	Attempts  int
	LastError string
	CreatedAt time.Time
	SentAt    time.Time // zero unless sent
}

// Lookup returns the record of the message queued with key, ENOTFOUND if
// there is none (never queued, or deleted after Retention).
func (o *Outbox) Lookup(ctx context.Context, key string) (Record, error) {
	var r Record
	var created int64
	var sent sql.NullInt64
	err := o.DB.QueryRowContext(ctx, o.query(sqlLookup), key).Scan(&r.ID, &r.MessageID, &r.Status, &r.Attempts, &r.LastError, &created, &sent)
	if errors.Is(err, sql.ErrNoRows) {
		return r, veedel.Errorf(veedel.ENOTFOUND, "keine E-Mail mit diesem Schlüssel / no e-mail with this key")
	}
	if err != nil {
		return r, fmt.Errorf("mail: lookup: %w", err)
	}
	r.CreatedAt = time.UnixMilli(created)
	if sent.Valid {
		r.SentAt = time.UnixMilli(sent.Int64)
	}
	return r, nil
}

// Counts is the number of messages per status, for health pages.
type Counts struct {
	Pending, Sent, Failed int
	// OldestPending is when the oldest message still waiting was queued
	// (zero when none waits): a relay down for long shows here.
	OldestPending time.Time
}

// Counts counts the messages in the outbox by status.
func (o *Outbox) Counts(ctx context.Context) (Counts, error) {
	var c Counts
	rows, err := o.DB.QueryContext(ctx, o.query(sqlCounts))
	if err != nil {
		return c, fmt.Errorf("mail: counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var status string
		var n int
		var oldest int64
		if err := rows.Scan(&status, &n, &oldest); err != nil {
			return c, fmt.Errorf("mail: counts: %w", err)
		}
		switch status {
		case StatusPending:
			c.Pending, c.OldestPending = n, time.UnixMilli(oldest)
		case StatusSent:
			c.Sent = n
		case StatusFailed:
			c.Failed = n
		}
	}
	return c, rows.Err()
}
