package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"strings"
	"time"

	"github.com/veedel/veedel"
)

// Envelope is the SMTP envelope: the return path and the one recipient.
type Envelope struct {
	From string
	To   string
}

// Sender hands a rendered message to the next hop. A nil error means the
// hop took responsibility for it (SMTP: 250 after DATA).
type Sender interface {
	Send(ctx context.Context, env Envelope, data []byte) error
}

// SendError is a Sender's failure. Permanent failures (an SMTP 5xx: no
// such recipient, message refused) are not retried.
type SendError struct {
	// Code is the SMTP reply code, 0 when the relay did not answer
	// (connection refused, timeout, TLS failure).
	Code      int
	Permanent bool
	// Stage is the SMTP step that failed: connect, tls, auth, mail, rcpt,
	// data.
	Stage string
	Err   error
}

func (e *SendError) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("smtp %s: %d %v", e.Stage, e.Code, e.Err)
	}
	return fmt.Sprintf("smtp %s: %v", e.Stage, e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// isPermanent reports whether err says that sending again cannot help.
func isPermanent(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Permanent
}

// TLS policies for Relay. Implicit TLS (SMTPS, port 465) is not
// supported: use the submission port 587 with STARTTLS.
const (
	// TLSOpportunistic (or "") uses STARTTLS when the relay offers it.
	TLSOpportunistic = "opportunistic"
	// TLSRequired refuses to send unless STARTTLS succeeds.
	TLSRequired = "required"
	// TLSOff never uses STARTTLS (a relay on the loopback interface).
	TLSOff = "off"
)

// Relay is a Sender that delivers each message in its own SMTP session to
// one relay (the city's mail gateway, or mailsim in the demo).
type Relay struct {
	// Addr is the relay's host:port ("mail.stadt-koeln.de:587").
	Addr string
	// TLS is the STARTTLS policy (TLSOpportunistic, TLSRequired, TLSOff).
	TLS string
	// TLSConfig verifies the relay's certificate (nil: system roots and
	// the host of Addr as server name).
	TLSConfig *tls.Config
	// Username and Password, if set, are sent with AUTH PLAIN, and only
	// over TLS or to a relay on the loopback interface; a relay that does
	// not offer AUTH is used without.
	Username, Password string
	// Helo is the name sent with EHLO (empty: the host name).
	Helo string
	// Timeout bounds a whole session when ctx has no earlier deadline
	// (0: 60 s).
	Timeout time.Duration
}

// ParseTLSPolicy checks a TLS policy as given on the command line.
func ParseTLSPolicy(s string) (string, error) {
	switch s {
	case "", TLSOpportunistic:
		return TLSOpportunistic, nil
	case TLSRequired, TLSOff:
		return s, nil
	}
	return "", veedel.Errorf(veedel.EINVALID, "SMTP-TLS %q: erlaubt sind opportunistic, required, off / want opportunistic, required or off", s)
}

// ParseRelay checks a relay's host:port as given on the command line.
func ParseRelay(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || port == "" {
		return "", veedel.Errorf(veedel.EINVALID, "SMTP-Relay %q: erwartet Host:Port, z. B. mail.example.de:587 / want host:port", addr)
	}
	return addr, nil
}

// Send delivers data to env.To through the relay.
func (r *Relay) Send(ctx context.Context, env Envelope, data []byte) (err error) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	host, _, err := net.SplitHostPort(r.Addr)
	if err != nil {
		return &SendError{Stage: "connect", Permanent: true, Err: err}
	}
	if _, err := ParseTLSPolicy(r.TLS); err != nil {
		return &SendError{Stage: "tls", Permanent: true, Err: err}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", r.Addr)
	if err != nil {
		return &SendError{Stage: "connect", Err: err}
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	// A cancelled ctx ends a session blocked on the network at once.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	stage := "connect"
	fail := func(err error) error {
		se := &SendError{Stage: stage, Err: err}
		var te *textproto.Error
		if errors.As(err, &te) {
			se.Code, se.Err = te.Code, errors.New(te.Msg)
			se.Permanent = te.Code >= 500
		}
		return se
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	helo := r.Helo
	if helo == "" {
		if helo, err = os.Hostname(); err != nil || helo == "" {
			helo = "veedel.localhost"
		}
	}
	stage = "ehlo"
	if err := c.Hello(helo); err != nil {
		return fail(err)
	}
	if r.TLS != TLSOff {
		stage = "tls"
		if ok, _ := c.Extension("STARTTLS"); ok {
			cfg := r.TLSConfig
			if cfg == nil {
				cfg = &tls.Config{}
			}
			if cfg.ServerName == "" {
				cfg = cfg.Clone()
				cfg.ServerName = host
			}
			if err := c.StartTLS(cfg); err != nil {
				return fail(err)
			}
		} else if r.TLS == TLSRequired {
			return &SendError{Stage: stage, Err: errors.New("the relay does not offer STARTTLS and -smtp-tls=required")}
		}
	}
	if r.Username != "" {
		if ok, mechs := c.Extension("AUTH"); ok {
			stage = "auth"
			if !hasWord(mechs, "PLAIN") {
				return &SendError{Stage: stage, Err: fmt.Errorf("the relay offers AUTH %s, Veedel speaks PLAIN only", mechs)}
			}
			if err := c.Auth(smtp.PlainAuth("", r.Username, r.Password, host)); err != nil {
				return fail(err)
			}
		}
	}
	stage = "mail"
	if err := c.Mail(env.From); err != nil {
		return fail(err)
	}
	stage = "rcpt"
	if err := c.Rcpt(env.To); err != nil {
		return fail(err)
	}
	stage = "data"
	w, err := c.Data()
	if err != nil {
		return fail(err)
	}
	if _, err := w.Write(data); err != nil {
		return fail(err)
	}
	if err := w.Close(); err != nil { // reads the reply to the final "."
		return fail(err)
	}
	c.Quit() // the relay has the message; a failing QUIT changes nothing
	return nil
}

func hasWord(list, word string) bool {
	for _, w := range strings.Fields(list) {
		if strings.EqualFold(w, word) {
			return true
		}
	}
	return false
}
