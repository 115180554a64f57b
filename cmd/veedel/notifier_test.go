package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/appointment"
)

// gateway is an SMS sender that keeps what it sends; err fails every send.
type gateway struct {
	sent []string
	err  error
}

func (g *gateway) Send(_ context.Context, to, text string) error {
	if g.err != nil {
		return g.err
	}
	g.sent = append(g.sent, to+": "+text)
	return nil
}

// TestCitizenNotifierSMS: central with an SMS gateway and no e-mail sends
// the code to a mobile number (normalized), refuses a landline or no
// number at the phone field, and a gateway failure is an error that does
// not carry the number.
func TestCitizenNotifierSMS(t *testing.T) {
	g := &gateway{}
	n := citizenNotifier{sms: g}
	jan := appointment.Contact{Name: "Jan", Phone: "0151 2345 6789"}
	if err := n.Notify(context.Background(), jan, "de", "Code", "Ihr Code: 123456"); err != nil {
		t.Fatal(err)
	}
	if len(g.sent) != 1 || g.sent[0] != "+4915123456789: Ihr Code: 123456" {
		t.Fatalf("sent %q", g.sent)
	}
	for _, c := range []appointment.Contact{{Name: "Eva", Phone: "0221 123456"}, {Name: "Eva", Email: "eva@example.de"}} {
		if err := n.CanReach(c); veedel.ErrorCode(err) != veedel.EINVALID || veedel.ErrorFields(err)["phone"] == "" {
			t.Errorf("%+v: %v (fields %v), want EINVALID at phone", c, err, veedel.ErrorFields(err))
		}
	}
	if n.ByMail(appointment.Contact{Email: "eva@example.de"}) {
		t.Error("no outbox, yet by mail")
	}
	g.err = errors.New("gateway said no to 015123456789")
	err := n.Notify(context.Background(), jan, "de", "Code", "Ihr Code: 123456")
	if err == nil || strings.Contains(err.Error(), "23456789") {
		t.Fatalf("failed send: %v; want an error without the number", err)
	}
}
