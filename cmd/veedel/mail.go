package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/appliance/notify"
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

// citizenNotifier sends central's messages to citizens (an appointment's
// confirmation code, its confirmation): by e-mail through the durable
// outbox when the citizen gave an address, by SMS through central's
// gateway (-sms-gateway) when they gave a mobile number, both when both.
// An SMS goes out at once, not from an outbox: both messages matter only
// now (a code expires in minutes, and the page the citizen has open shows
// the booking), so a gateway that fails is said on the page instead of
// retried for hours, and central keeps no number on disk.
type citizenNotifier struct {
	outbox *mail.Outbox  // nil: no e-mail
	sms    notify.Sender // nil: no SMS
}

// smsTimeout bounds one SMS hand-over to the gateway.
const smsTimeout = 30 * time.Second

// ByMail reports whether c gets the messages by e-mail.
func (n citizenNotifier) ByMail(c appointment.Contact) bool { return c.Email != "" && n.outbox != nil }

func (n citizenNotifier) bySMS(c appointment.Contact) bool { return c.Phone != "" && n.sms != nil }

// CanReach refuses a contact central cannot send to.
func (n citizenNotifier) CanReach(c appointment.Contact) error {
	if n.ByMail(c) {
		if err := mail.ValidateAddress(c.Email); err != nil {
			return &veedel.Error{Code: veedel.EINVALID, Message: veedel.ErrorMessage(err), Fields: map[string]string{"email": veedel.ErrorMessage(err)}}
		}
	}
	if n.bySMS(c) {
		if _, err := notify.NormalizeMobile(c.Phone); err != nil {
			msg := "Keine Mobilnummer: der Code kommt per SMS (z. B. 0171 1234567) / not a mobile number: the code comes by SMS"
			return &veedel.Error{Code: veedel.EINVALID, Message: msg, Fields: map[string]string{"phone": msg}}
		}
	}
	switch {
	case n.ByMail(c) || n.bySMS(c):
		return nil
	case n.outbox != nil:
		return &veedel.Error{Code: veedel.EINVALID, Message: "Der Bestätigungscode kommt per E-Mail: bitte eine E-Mail-Adresse angeben / the confirmation code comes by e-mail: please give an e-mail address",
			Fields: map[string]string{"email": "Pflichtangabe für die Bestätigung / required for the confirmation"}}
	default:
		return &veedel.Error{Code: veedel.EINVALID, Message: "Der Bestätigungscode kommt per SMS: bitte eine Mobilnummer angeben / the confirmation code comes by SMS: please give a mobile number",
			Fields: map[string]string{"phone": "Pflichtangabe für die Bestätigung / required for the confirmation"}}
	}
}

// Notify queues the e-mail durably (and wakes the sender) and hands the
// SMS to the gateway; an error only when neither went.
func (n citizenNotifier) Notify(ctx context.Context, to appointment.Contact, lang, subject, body string) error {
	if err := n.CanReach(to); err != nil {
		return err
	}
	var errs []error
	sent := false
	if n.ByMail(to) {
		if err := n.mail(ctx, to, subject, body); err != nil {
			errs = append(errs, err)
		} else {
			sent = true
		}
	}
	if n.bySMS(to) {
		number, _ := notify.NormalizeMobile(to.Phone)
		sctx, cancel := context.WithTimeout(ctx, smsTimeout)
		err := n.sms.Send(sctx, number, body)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("sms to %s: %s", notify.Mask(number), notify.Scrub(err.Error(), number)))
		} else {
			sent = true
		}
	}
	if sent {
		return nil
	}
	return errors.Join(errs...)
}

func (n citizenNotifier) mail(ctx context.Context, to appointment.Contact, subject, body string) error {
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
