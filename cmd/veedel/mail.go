package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/internal/mail"
)

// mailConfig is how a node sends e-mail: through an SMTP relay, from a
// durable outbox in its own SQLite file (internal/mail).
type mailConfig struct {
	Relay     string // host:port; "" = no e-mail
	TLS       string // mail.TLSOpportunistic, TLSRequired, TLSOff
	User      string // AUTH PLAIN user; password from VEEDEL_SMTP_PASSWORD
	From      string // "Stadt Köln <noreply@stadt-koeln.de>"
	Retention time.Duration
}

// mailFlags adds the e-mail flags to fs.
func mailFlags(fs *flag.FlagSet) *mailConfig {
	c := &mailConfig{}
	fs.StringVar(&c.Relay, "smtp", "", "SMTP relay host:port for e-mail to citizens (none: no e-mail is sent)")
	fs.StringVar(&c.TLS, "smtp-tls", mail.TLSOpportunistic, "STARTTLS to the relay: opportunistic, required or off")
	fs.StringVar(&c.User, "smtp-user", "", "SMTP AUTH user (password from VEEDEL_SMTP_PASSWORD)")
	fs.StringVar(&c.From, "mail-from", "Stadt Köln <noreply@veedel.invalid>", "sender of e-mail to citizens")
	fs.DurationVar(&c.Retention, "mail-retention", mail.DefaultRetention, "how long the record of a sent e-mail (no address, no text) is kept")
	return c
}

// check validates the flags: exit 2 with one line when they are wrong.
func (c *mailConfig) check() error {
	if c.Relay == "" {
		return nil
	}
	var err error
	if c.Relay, err = mail.ParseRelay(c.Relay); err != nil {
		return usageErrorf("-smtp: %s", veedel.ErrorMessage(err))
	}
	if c.TLS, err = mail.ParseTLSPolicy(c.TLS); err != nil {
		return usageErrorf("-smtp-tls: %s", veedel.ErrorMessage(err))
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return usageErrorf("-mail-from: %s", veedel.ErrorMessage(err))
	}
	return nil
}

// outbox returns the node's mail outbox on db, nil when no relay is set.
func (c *mailConfig) outbox(db mailDB, logger *slog.Logger) (*mail.Outbox, error) {
	if c == nil || c.Relay == "" {
		return nil, nil
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return nil, usageErrorf("-mail-from: %s", veedel.ErrorMessage(err))
	}
	relay := &mail.Relay{Addr: c.Relay, TLS: c.TLS, Username: c.User, Password: os.Getenv("VEEDEL_SMTP_PASSWORD")}
	return &mail.Outbox{DB: db.Writer(), From: from, Sender: relay, Logger: logger, Retention: c.Retention}, nil
}

// mailDB is a store with its writer for the outbox.
type mailDB interface {
	Writer() *sql.DB
}

// mailNotifier sends confirmation codes by e-mail through the outbox.
type mailNotifier struct {
	outbox *mail.Outbox
}

// CanReach refuses a contact without an e-mail address: central has no
// SMS gateway of its own yet.
func (n mailNotifier) CanReach(c appointment.Contact) error {
	if c.Email == "" {
		return &veedel.Error{Code: veedel.EINVALID, Message: "Der Bestätigungscode kommt per E-Mail: bitte eine E-Mail-Adresse angeben / the confirmation code comes by e-mail: please give an e-mail address",
			Fields: map[string]string{"email": "Pflichtangabe für die Bestätigung / required for the confirmation"}}
	}
	if err := mail.ValidateAddress(c.Email); err != nil {
		return &veedel.Error{Code: veedel.EINVALID, Message: veedel.ErrorMessage(err), Fields: map[string]string{"email": veedel.ErrorMessage(err)}}
	}
	return nil
}

// Notify queues the message durably and wakes the sender.
func (n mailNotifier) Notify(ctx context.Context, to appointment.Contact, lang, subject, body string) error {
	if err := n.CanReach(to); err != nil {
		return err
	}
	tx, err := n.outbox.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := n.outbox.Enqueue(ctx, tx, mail.Message{To: mail.Address{Name: to.Name, Email: to.Email}, Subject: subject, Text: body}); err != nil {
		return fmt.Errorf("queue mail: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	n.outbox.Kick()
	return nil
}
