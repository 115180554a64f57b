package mail_test

import (
	"context"
	"database/sql"

	"github.com/veedel/veedel/internal/mail"
)

// A business command queues its mail in its own transaction; the worker
// sends it after the commit.
func ExampleOutbox_Enqueue() {
	ctx := context.Background()
	var db *sql.DB // the node's database with table mail_outbox
	outbox := &mail.Outbox{
		DB:     db,
		From:   mail.Address{Name: "Stadt Köln", Email: "noreply@stadt-koeln.example"},
		Sender: &mail.Relay{Addr: "mail.stadt-koeln.example:587", TLS: mail.TLSRequired},
	}
	go outbox.Run(ctx)

	markReady := func(tx *sql.Tx, code, email string) error {
		// … the order's own change in tx …
		_, err := outbox.Enqueue(ctx, tx, mail.Message{
			To:      mail.Address{Email: email},
			Subject: "Ihre Meldebescheinigung liegt bereit",
			Text:    "Guten Tag,\nIhre Meldebescheinigung liegt im Kundenzentrum Kalk für Sie bereit.",
			Key:     "order:" + code + ":ready", // once per order and step, also if the command repeats
		})
		return err
	}
	_ = markReady
	// After tx.Commit(): outbox.Kick()
}
