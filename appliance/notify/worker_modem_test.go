package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/notify"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/hardware/modem"
	"github.com/veedel/veedel/hardware/modemsim"
)

// withModem makes f's worker send through a GSM modem on a simulator,
// with short timeouts.
func (f *fixture) withModem(t *testing.T) *modemsim.Sim {
	t.Helper()
	sim, err := modemsim.Start(modemsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	m, err := modem.Open("serial://"+sim.Path(), modem.Options{
		CommandTimeout: 2 * time.Second,
		SubmitTimeout:  300 * time.Millisecond,
		Backoff:        10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	f.worker.Sender = m
	return sim
}

// signedUp issues a ticket signed up for SMS, whose "soon" message is due.
func (f *fixture) signedUp(t *testing.T) string {
	t.Helper()
	tk := f.issue(t, "ausweis")
	if err := f.store.SignUpSMS(context.Background(), tk.ID, phone, "de"); err != nil {
		t.Fatal(err)
	}
	return tk.ID
}

func (f *fixture) soonState(t *testing.T, ticket string) string {
	t.Helper()
	kinds, err := f.store.SMSKinds(context.Background(), ticket)
	if err != nil {
		t.Fatal(err)
	}
	return kinds[notify.KindSoon]
}

// TestOutboxModemMaybeSent: a modem that takes a message and never says
// it did (maybe sent) gets it once: the worker records it as sent and
// does not send it again.
func TestOutboxModemMaybeSent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sim := f.withModem(t)
	ticket := f.signedUp(t)
	sim.Hang()
	f.step(t)
	if got, want := f.soonState(t, ticket), sqlite.SMSSent; got != want {
		t.Errorf("after the hang: soon %q, want %q", got, want)
	}
	for range 4 {
		f.clock.Add(time.Hour)
		f.step(t)
	}
	if got := len(sim.Parts()); got != 1 {
		t.Errorf("submitted %d times, want once", got)
	}
	if !strings.Contains(f.logs.String(), "not sent again") {
		t.Errorf("logs do not say why it is not sent again:\n%s", f.logs)
	}
	f.noNumberInLogs(t)
}

// TestOutboxModemNoSIM: a permanent failure (no SIM) fails the message at
// once, without retries, and the log names the ticket, not the number.
func TestOutboxModemNoSIM(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sim := f.withModem(t)
	ticket := f.signedUp(t)
	sim.SetSIM(false)
	f.step(t)
	if got, want := f.soonState(t, ticket), sqlite.SMSFailed; got != want {
		t.Errorf("after no SIM: soon %q, want %q", got, want)
	}
	sim.SetSIM(true)
	for range 4 {
		f.clock.Add(time.Hour)
		f.step(t)
	}
	if got := len(sim.Parts()); got != 0 {
		t.Errorf("submitted %d times, want never", got)
	}
	logs := f.logs.String()
	if got := strings.Count(logs, "sms failed"); got != 1 {
		t.Errorf("failures logged %d times, want once:\n%s", got, logs)
	}
	if !strings.Contains(logs, "permanent") || !strings.Contains(logs, ticket) {
		t.Errorf("log does not say permanent for the ticket:\n%s", logs)
	}
	f.noNumberInLogs(t)
}

// TestOutboxModemNoNetworkRetried: a temporary failure (no network) is
// still retried, and the message goes out once the network is back.
func TestOutboxModemNoNetworkRetried(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sim := f.withModem(t)
	ticket := f.signedUp(t)
	sim.SetNetwork(false)
	f.step(t)
	if got, want := f.soonState(t, ticket), sqlite.SMSPending; got != want {
		t.Errorf("without network: soon %q, want %q (to retry)", got, want)
	}
	sim.SetNetwork(true)
	f.clock.Add(time.Hour)
	f.step(t)
	if got, want := f.soonState(t, ticket), sqlite.SMSSent; got != want {
		t.Errorf("network back: soon %q, want %q", got, want)
	}
	if msgs := sim.Messages(); len(msgs) != 1 || !strings.HasPrefix(msgs[0].Text, "Ihre Nummer") {
		t.Errorf("delivered %+v, want the soon message once", msgs)
	}
	f.noNumberInLogs(t)
}
