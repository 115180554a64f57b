package mail_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/veedel/veedel/internal/mail"
	"github.com/veedel/veedel/internal/mail/mailsim"
)

// BenchmarkEnqueue: rendering a message and committing it in its own
// transaction on a real SQLite file (synchronous=FULL, as the appliance).
func BenchmarkEnqueue(b *testing.B) {
	db := mustOpenDB(b, tempDB(b))
	defer db.Close()
	o := &mail.Outbox{DB: db.Write, From: from}
	ctx := context.Background()
	msg := citizenMail("")
	b.ReportAllocs()
	for b.Loop() {
		tx, err := db.Write.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := o.Enqueue(ctx, tx, msg); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeliver: one message from the outbox to the SMTP stand-in over
// loopback: claim, a full SMTP session, mark sent (two commits).
func BenchmarkDeliver(b *testing.B) {
	sim := mustSim(b, mailsim.Options{MaxMessages: 10})
	db := mustOpenDB(b, tempDB(b))
	defer db.Close()
	o := &mail.Outbox{DB: db.Write, From: from, Sender: relayTo(sim), Logger: quiet}
	ctx := context.Background()
	msg := citizenMail("")
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		if _, err := o.Enqueue(ctx, db.Write, msg); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if n, err := o.Step(ctx); n != 1 || err != nil {
			b.Fatal(fmt.Sprint(n, err))
		}
	}
}
