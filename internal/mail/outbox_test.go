package mail_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/internal/mail"
	"github.com/veedel/veedel/internal/mail/mailsim"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newOutbox(db *sql.DB, sim *mailsim.Sim, c *clock) *mail.Outbox {
	return &mail.Outbox{DB: db, From: from, Sender: relayTo(sim), Now: c.Now, Logger: quiet}
}

func citizenMail(key string) mail.Message {
	return mail.Message{
		To:      mail.Address{Name: "Jürgen Müller", Email: "juergen.mueller@example.org"},
		Subject: "Ihre Meldebescheinigung liegt bereit", Text: "Guten Tag,\nIhre Meldebescheinigung liegt im Kundenzentrum Kalk bereit.", Key: key,
	}
}

// enqueueCommitted queues msg in a transaction of its own, as a business
// command would, and commits.
func enqueueCommitted(t *testing.T, o *mail.Outbox, db *sql.DB, msg mail.Message) bool {
	t.Helper()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	queued, err := o.Enqueue(ctx, tx, msg)
	if err != nil {
		tx.Rollback()
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return queued
}

func mustCounts(t *testing.T, o *mail.Outbox) mail.Counts {
	t.Helper()
	c, err := o.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestOutboxRetriesThenDeliversOnce: while the relay answers 451 the
// outbox keeps the message and backs off (doubling, capped); when the relay
// accepts it is delivered exactly once, and later steps send nothing.
func TestOutboxRetriesThenDeliversOnce(t *testing.T) {
	ctx := context.Background()
	sim := mustSim(t, mailsim.Options{})
	db := mustOpenDB(t, tempDB(t))
	defer db.Close()
	c := newClock()
	o := newOutbox(db.Write, sim, c)
	o.Backoff, o.MaxBackoff = 10*time.Second, 60*time.Second
	enqueueCommitted(t, o, db.Write, citizenMail("order:K7F3:ready"))

	sim.SetFault(mailsim.Fault{Stage: mailsim.Data, Code: 451})
	var waits []time.Duration
	for attempt := 1; attempt <= 6; attempt++ {
		if n, err := o.Step(ctx); n != 0 || err != nil {
			t.Fatalf("attempt %d: Step = %d, %v; want 0 sent while the relay refuses", attempt, n, err)
		}
		// Not due again before its backoff: stepping now sends nothing.
		sessions := sim.Sessions()
		o.Step(ctx)
		if sim.Sessions() != sessions {
			t.Fatalf("attempt %d: retried before the backoff", attempt)
		}
		var next int64
		db.Write.QueryRow(`SELECT next_at FROM mail_outbox`).Scan(&next)
		wait := time.UnixMilli(next).Sub(c.Now())
		waits = append(waits, wait)
		c.Advance(wait)
	}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 60 * time.Second, 60 * time.Second, 60 * time.Second}
	for i := range want {
		if waits[i] != want[i] {
			t.Errorf("backoffs = %v, want %v", waits, want)
			break
		}
	}
	r, err := o.Lookup(ctx, "order:K7F3:ready")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != mail.StatusPending || r.Attempts != 6 || !strings.Contains(r.LastError, "451") {
		t.Fatalf("record while refused = %+v", r)
	}
	if got := len(sim.Messages()); got != 0 {
		t.Fatalf("sim kept %d messages it refused", got)
	}
	if got := mustCounts(t, o); got.Pending != 1 || !got.OldestPending.Equal(newClock().Now()) {
		t.Fatalf("counts while refused = %+v, want 1 pending since %v", got, newClock().Now())
	}

	sim.ClearFault()
	if n, err := o.Step(ctx); n != 1 || err != nil {
		t.Fatalf("Step = %d, %v; want 1 sent", n, err)
	}
	for range 3 {
		c.Advance(time.Hour)
		if n, err := o.Step(ctx); n != 0 || err != nil {
			t.Fatalf("Step after delivery = %d, %v; want nothing", n, err)
		}
	}
	msgs := sim.Messages()
	if len(msgs) != 1 {
		t.Fatalf("sim received %d messages, want exactly 1", len(msgs))
	}
	r, _ = o.Lookup(ctx, "order:K7F3:ready")
	if r.Status != mail.StatusSent || r.Attempts != 7 || r.SentAt.IsZero() || r.LastError != "" || r.MessageID != msgs[0].MessageID {
		t.Fatalf("record after delivery = %+v (sim got Message-ID %s)", r, msgs[0].MessageID)
	}
	if got := mustCounts(t, o); got != (mail.Counts{Sent: 1}) {
		t.Fatalf("counts = %+v", got)
	}
}

// TestOutboxRestartDoesNotResend: a sent message stays sent across a
// restart (the SQLite file closed and opened again); a pending one is sent
// by the new process.
func TestOutboxRestartDoesNotResend(t *testing.T) {
	ctx := context.Background()
	sim := mustSim(t, mailsim.Options{})
	file := tempDB(t)
	c := newClock()

	db := mustOpenDB(t, file)
	o := newOutbox(db.Write, sim, c)
	enqueueCommitted(t, o, db.Write, citizenMail("a"))
	if n, err := o.Step(ctx); n != 1 || err != nil {
		t.Fatalf("Step = %d, %v", n, err)
	}
	enqueueCommitted(t, o, db.Write, citizenMail("b")) // queued, not sent before the "crash"
	db.Close()

	for restart := 1; restart <= 3; restart++ {
		db = mustOpenDB(t, file)
		o = newOutbox(db.Write, sim, c)
		c.Advance(time.Minute)
		o.Step(ctx)
		if queued := enqueueCommitted(t, o, db.Write, citizenMail("a")); queued {
			t.Errorf("restart %d: the same key was queued again", restart)
		}
		db.Close()
	}
	msgs := sim.Messages()
	if len(msgs) != 2 || msgs[0].MessageID == msgs[1].MessageID {
		t.Fatalf("sim received %d messages, want a and b once each", len(msgs))
	}
}

// TestOutboxRollback: a message queued in a transaction that rolls back
// does not exist.
func TestOutboxRollback(t *testing.T) {
	ctx := context.Background()
	sim := mustSim(t, mailsim.Options{})
	db := mustOpenDB(t, tempDB(t))
	defer db.Close()
	o := newOutbox(db.Write, sim, newClock())
	tx, err := db.Write.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE orders (code TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	if queued, err := o.Enqueue(ctx, tx, citizenMail("order:X:ready")); !queued || err != nil {
		t.Fatalf("Enqueue = %v, %v", queued, err)
	}
	tx.Rollback() // the business change failed after queueing
	if n, err := o.Step(ctx); n != 0 || err != nil {
		t.Fatalf("Step = %d, %v; want nothing to send", n, err)
	}
	if got := mustCounts(t, o); got != (mail.Counts{}) {
		t.Fatalf("counts = %+v, want an empty outbox", got)
	}
	if sim.Sessions() != 0 {
		t.Fatalf("the relay was contacted %d times", sim.Sessions())
	}
	if _, err := o.Lookup(ctx, "order:X:ready"); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Fatalf("Lookup = %v, want not found", err)
	}
}

// TestOutboxErasesPersonalData: once sent, or given up, the row keeps no
// address and no text; the minimal record goes after Retention.
func TestOutboxErasesPersonalData(t *testing.T) {
	ctx := context.Background()
	sim := mustSim(t, mailsim.Options{})
	db := mustOpenDB(t, tempDB(t))
	defer db.Close()
	c := newClock()
	o := newOutbox(db.Write, sim, c)
	o.Retention = 7 * 24 * time.Hour
	enqueueCommitted(t, o, db.Write, citizenMail("sent"))
	o.Step(ctx)
	sim.SetFault(mailsim.Fault{Stage: mailsim.Rcpt, Code: 550})
	bad := citizenMail("refused")
	bad.To.Email = "gibt-es-nicht@example.org"
	enqueueCommitted(t, o, db.Write, bad)
	o.Step(ctx)
	sim.ClearFault()

	var n int
	db.Write.QueryRow(`SELECT count(*) FROM mail_outbox WHERE recipient IS NOT NULL OR data IS NOT NULL`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d rows still hold an address or a message", n)
	}
	r, _ := o.Lookup(ctx, "refused")
	if r.Status != mail.StatusFailed || r.Attempts != 1 || !strings.Contains(r.LastError, "550") || strings.Contains(r.LastError, "gibt-es-nicht") {
		t.Fatalf("refused record = %+v: want failed after one attempt, 550, no address", r)
	}
	var dump strings.Builder
	rows, _ := db.Write.Query(`SELECT * FROM mail_outbox`)
	cols, _ := rows.Columns()
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		rows.Scan(ptrs...)
		for _, v := range vals {
			dump.WriteString(strings.ToLower(strings.TrimSpace(toString(v))) + "|")
		}
	}
	rows.Close()
	for _, personal := range []string{"mueller", "müller", "jürgen", "meldebescheinigung", "gibt-es-nicht"} {
		if strings.Contains(dump.String(), personal) {
			t.Errorf("the outbox still holds %q: %s", personal, dump.String())
		}
	}

	c.Advance(7*24*time.Hour + time.Minute)
	o.Step(ctx)
	if got := mustCounts(t, o); got != (mail.Counts{}) {
		t.Fatalf("counts after retention = %+v, want none", got)
	}
}

func toString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case []byte:
		return string(v)
	case string:
		return v
	default:
		return strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(fmtAny(v), "\n", " "), "\r", ""))
	}
}

// TestOutboxGivesUp: after MaxAttempts temporary failures the message is
// failed and erased; it is never sent.
func TestOutboxGivesUp(t *testing.T) {
	ctx := context.Background()
	sim := mustSim(t, mailsim.Options{})
	db := mustOpenDB(t, tempDB(t))
	defer db.Close()
	c := newClock()
	o := newOutbox(db.Write, sim, c)
	o.MaxAttempts = 3
	enqueueCommitted(t, o, db.Write, citizenMail("k"))
	sim.SetFault(mailsim.Fault{Stage: mailsim.Greeting})
	for range 5 {
		o.Step(ctx)
		c.Advance(time.Hour)
	}
	sim.ClearFault()
	o.Step(ctx)
	if r, _ := o.Lookup(ctx, "k"); r.Status != mail.StatusFailed || r.Attempts != 3 {
		t.Fatalf("record = %+v, want failed after 3 attempts", r)
	}
	if sim.Sessions() != 3 || len(sim.Messages()) != 0 {
		t.Fatalf("relay saw %d sessions and %d messages, want 3 and 0", sim.Sessions(), len(sim.Messages()))
	}
}

// TestOutboxInterruptedAttempt shows the one window of at-least-once: the
// relay took the message but the outcome never reached the outbox (here
// the connection drops before the 250; a crash before the mark is the
// same). The message goes again after the lease, with the same
// Message-ID, so the recipient's side can tell it is the same mail.
func TestOutboxInterruptedAttempt(t *testing.T) {
	ctx := context.Background()
	sim := mustSim(t, mailsim.Options{})
	db := mustOpenDB(t, tempDB(t))
	defer db.Close()
	c := newClock()
	o := newOutbox(db.Write, sim, c)
	enqueueCommitted(t, o, db.Write, citizenMail("k"))
	sim.SetFault(mailsim.Fault{Stage: mailsim.AfterData, Count: 1})
	if n, _ := o.Step(ctx); n != 0 {
		t.Fatalf("sent = %d, want 0: the relay never said 250", n)
	}
	c.Advance(time.Hour)
	if n, _ := o.Step(ctx); n != 1 {
		t.Fatalf("sent = %d, want 1", n)
	}
	msgs := sim.Messages()
	if len(msgs) != 2 || msgs[0].MessageID != msgs[1].MessageID || msgs[0].MessageID == "" {
		t.Fatalf("sim has %d messages; want the same Message-ID twice", len(msgs))
	}
}

// TestOutboxCrashAfterClaim: a process that died during an attempt (the
// claim committed, no outcome) leaves the row to the next process, which
// sends it once the lease has passed, and not before.
func TestOutboxCrashAfterClaim(t *testing.T) {
	ctx := context.Background()
	sim := mustSim(t, mailsim.Options{})
	file := tempDB(t)
	c := newClock()
	db := mustOpenDB(t, file)
	o := newOutbox(db.Write, sim, c)
	enqueueCommitted(t, o, db.Write, citizenMail("k"))
	// What attempt() records before it sends, then the process is gone.
	lease := c.Now().Add(mail.DefaultSendTimeout + 10*time.Second)
	if _, err := db.Write.Exec(`UPDATE mail_outbox SET attempts = 1, claimed_at = ?, next_at = ?`, c.Now().UnixMilli(), lease.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = mustOpenDB(t, file)
	defer db.Close()
	o = newOutbox(db.Write, sim, c)
	if n, _ := o.Step(ctx); n != 0 {
		t.Fatal("sent during the dead process's lease")
	}
	c.Advance(time.Minute + 11*time.Second)
	if n, _ := o.Step(ctx); n != 1 {
		t.Fatal("not sent after the lease")
	}
	if r, _ := o.Lookup(ctx, "k"); r.Attempts != 2 || r.Status != mail.StatusSent {
		t.Fatalf("record = %+v", r)
	}
}

func TestOutboxDedupeKey(t *testing.T) {
	sim := mustSim(t, mailsim.Options{})
	db := mustOpenDB(t, tempDB(t))
	defer db.Close()
	o := newOutbox(db.Write, sim, newClock())
	if !enqueueCommitted(t, o, db.Write, citizenMail("order:K7F3:ready")) {
		t.Fatal("first enqueue not queued")
	}
	if enqueueCommitted(t, o, db.Write, citizenMail("order:K7F3:ready")) {
		t.Fatal("second enqueue with the same key queued")
	}
	enqueueCommitted(t, o, db.Write, citizenMail(""))
	enqueueCommitted(t, o, db.Write, citizenMail(""))
	if got := mustCounts(t, o); got.Pending != 3 {
		t.Fatalf("pending = %d, want 3 (keyless messages are never deduplicated)", got.Pending)
	}
}

func TestOutboxEnqueueInvalid(t *testing.T) {
	db := mustOpenDB(t, tempDB(t))
	defer db.Close()
	o := &mail.Outbox{DB: db.Write, From: from}
	ctx := context.Background()
	long := strings.Repeat("ä", mail.MaxSubject+1)
	for name, m := range map[string]func(*mail.Message){
		"ErrAddressMissing":  func(m *mail.Message) { m.To.Email = "" },
		"ErrAddressNoDomain": func(m *mail.Message) { m.To.Email = "juergen" },
		"ErrAddressUmlaut":   func(m *mail.Message) { m.To.Email = "jürgen@example.org" },
		"ErrAddressTwo":      func(m *mail.Message) { m.To.Email = "a@example.org, b@example.org" },
		"ErrAddressName":     func(m *mail.Message) { m.To.Email = "Jürgen <j@example.org>" },
		"ErrSubjectInject":   func(m *mail.Message) { m.Subject = "Hallo\r\nBcc: victim@example.org" },
		"ErrNameInject":      func(m *mail.Message) { m.To.Name = "X\nBcc: v@example.org" },
		"ErrSubjectLong":     func(m *mail.Message) { m.Subject = long },
		"ErrSubjectMissing":  func(m *mail.Message) { m.Subject = " " },
		"ErrTextMissing":     func(m *mail.Message) { m.Text = "" },
		"ErrTextNotUTF8":     func(m *mail.Message) { m.Text = "Gr\xfc\xdfe" },
		"ErrAttachmentPath": func(m *mail.Message) {
			m.Attachment = &mail.Attachment{Filename: "../etc/passwd", ContentType: "text/plain"}
		},
		"ErrAttachmentType": func(m *mail.Message) {
			m.Attachment = &mail.Attachment{Filename: "a.pdf", ContentType: "pdf"}
		},
	} {
		t.Run(name, func(t *testing.T) {
			msg := citizenMail("")
			m(&msg)
			_, err := o.Enqueue(ctx, db.Write, msg)
			if veedel.ErrorCode(err) != veedel.EINVALID || veedel.ErrorMessage(err) == "" {
				t.Fatalf("err = %v, want EINVALID with a message", err)
			}
		})
	}
	if got := mustCounts(t, o); got != (mail.Counts{}) {
		t.Fatalf("counts = %+v: invalid messages were stored", got)
	}
}

// TestOutboxRun: Run sends at Kick without waiting for Poll, and stops
// with its context.
func TestOutboxRun(t *testing.T) {
	sim := mustSim(t, mailsim.Options{})
	db := mustOpenDB(t, tempDB(t))
	defer db.Close()
	o := &mail.Outbox{DB: db.Write, From: from, Sender: relayTo(sim), Poll: time.Hour, Logger: quiet}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { o.Run(ctx); close(done) }()
	changed := sim.Changed()
	enqueueCommitted(t, o, db.Write, citizenMail(""))
	o.Kick()
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("not sent within 10 s of Kick")
	}
	cancel()
	<-done
}

// TestMigrationsMatchSchema: the stores' migration files are the package's
// schema, byte for byte.
func TestMigrationsMatchSchema(t *testing.T) {
	for _, f := range []string{"appliance/sqlite/migrations/0015_mail_outbox.sql", "central/sqlite/migrations/0012_mail_outbox.sql"} {
		b, err := os.ReadFile(filepath.Join("..", "..", f))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != mail.SchemaSQLite {
			t.Errorf("%s differs from internal/mail/schema/sqlite.sql", f)
		}
	}
}

// markFails is a Sender that delivers, then makes the database refuse
// writes, as if the process lost its disk (or died) between the relay's
// 250 and the commit that marks the row sent.
type markFails struct {
	mail.Sender
	db *sql.DB
}

func (m markFails) Send(ctx context.Context, env mail.Envelope, data []byte) error {
	err := m.Sender.Send(ctx, env, data)
	if _, perr := m.db.ExecContext(ctx, `PRAGMA query_only = 1`); perr != nil {
		panic(perr)
	}
	return err
}

// TestOutboxMarkFails: the relay took the message but the outbox could not
// record it. Step says so; the row stays pending under its lease and goes
// again afterwards with the same Message-ID (at least once), then is sent.
func TestOutboxMarkFails(t *testing.T) {
	ctx := context.Background()
	sim := mustSim(t, mailsim.Options{})
	db := mustOpenDB(t, tempDB(t))
	defer db.Close()
	c := newClock()
	o := newOutbox(db.Write, sim, c)
	enqueueCommitted(t, o, db.Write, citizenMail("k"))
	o.Sender = markFails{Sender: relayTo(sim), db: db.Write} // db.Write has one connection: the pragma holds for the outbox
	if _, err := o.Step(ctx); err == nil || !strings.Contains(err.Error(), "could not be marked sent") {
		t.Fatalf("Step err = %v, want the failed mark reported", err)
	}
	db.Write.ExecContext(ctx, `PRAGMA query_only = 0`)
	o.Sender = relayTo(sim)
	if n, _ := o.Step(ctx); n != 0 {
		t.Fatal("sent again within the lease")
	}
	c.Advance(mail.DefaultSendTimeout + 11*time.Second)
	if n, err := o.Step(ctx); n != 1 || err != nil {
		t.Fatalf("Step after the lease = %d, %v", n, err)
	}
	msgs := sim.Messages()
	if len(msgs) != 2 || msgs[0].MessageID != msgs[1].MessageID {
		t.Fatalf("sim has %d messages, want the same Message-ID twice", len(msgs))
	}
	c.Advance(time.Hour)
	if n, _ := o.Step(ctx); n != 0 || len(sim.Messages()) != 2 {
		t.Fatal("sent a third time after it was marked")
	}
}

// TestOutboxSharedDatabase: three workers sharing one database (two central nodes
// on one PostgreSQL, or a stray second process) never send a message
// twice: a claim is one UPDATE that holds the row for its lease.
func TestOutboxSharedDatabase(t *testing.T) {
	ctx := context.Background()
	sim := mustSim(t, mailsim.Options{MaxMessages: 1000})
	db := mustOpenDB(t, tempDB(t))
	defer db.Close()
	c := newClock()
	const n = 60
	for i := range n {
		enqueueCommitted(t, newOutbox(db.Write, sim, c), db.Write, citizenMail(fmt.Sprint("k", i)))
	}
	var wg sync.WaitGroup
	sent := make([]int, 3)
	for w := range sent {
		o := newOutbox(db.Write, sim, c) // each its own Outbox: no shared mutex
		wg.Go(func() {
			for range 5 {
				k, err := o.Step(ctx)
				if err != nil {
					t.Error(err)
				}
				sent[w] += k
			}
		})
	}
	wg.Wait()
	ids := map[string]int{}
	for _, m := range sim.Messages() {
		ids[m.MessageID]++
	}
	if len(ids) != n || sent[0]+sent[1]+sent[2] != n {
		t.Fatalf("%d distinct messages, %v sent per worker; want %d in all", len(ids), sent, n)
	}
	for id, k := range ids {
		if k != 1 {
			t.Fatalf("%s delivered %d times", id, k)
		}
	}
	t.Logf("sent per worker: %v", sent)
}
