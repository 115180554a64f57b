package notify_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/notify"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/sync/changelog"
)

// The number goes in the transaction that ends the ticket: right after the
// ending command returns, before any worker step, the sign-up and the
// outbox rows are gone from the file.
func TestEraseInEndingTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, end := range map[string]func(t *testing.T, f *fixture, tk queue.Ticket){
		"Finished": func(t *testing.T, f *fixture, _ queue.Ticket) { f.callNext(t); f.step(t); f.finish(t) },
		"NoShow": func(t *testing.T, f *fixture, _ queue.Ticket) {
			f.callNext(t)
			f.step(t)
			f.clock.Add(4 * time.Minute) // a no-show only some minutes after the call
			f.exec(t, func(st *queue.State, at time.Time) ([]queue.Event, error) {
				e, err := st.NoShow(at, "1")
				return []queue.Event{e}, err
			})
		},
		"Cancelled": func(t *testing.T, f *fixture, tk queue.Ticket) {
			f.exec(t, func(st *queue.State, at time.Time) ([]queue.Event, error) {
				e, err := st.Cancel(at, tk.Token)
				return []queue.Event{e}, err
			})
		},
		"ExpiredAtRollover": func(t *testing.T, f *fixture, _ queue.Ticket) {
			// The next morning's first event expires yesterday's tickets.
			f.clock.Add(24 * time.Hour)
			f.issue(t, "ausweis")
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			tk := f.issue(t, "ausweis")
			if err := f.store.SignUpSMS(ctx, tk.ID, phone, "de"); err != nil {
				t.Fatal(err)
			}
			f.step(t) // queues (and sends) "soon": an outbox row
			if got := f.rows(t, "sms_signups", tk.ID) + f.rows(t, "sms_outbox", tk.ID); got < 2 {
				t.Fatalf("rows before the end = %d, want a sign-up and a message", got)
			}
			end(t, f, tk)
			if got := f.rows(t, "sms_signups", tk.ID) + f.rows(t, "sms_outbox", tk.ID); got != 0 {
				t.Errorf("rows right after the ending command = %d, want 0", got)
			}
			f.noNumberInLogs(t)
		})
	}
}

// The call message goes out when the ticket is called, before it ends; a
// call message still failing when the ticket ends is dropped with the
// number, not sent later.
func TestCallMessageAndEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.issue(t, "ausweis")
	tk := f.issue(t, "ausweis")
	if err := f.store.SignUpSMS(ctx, tk.ID, phone, "de"); err != nil {
		t.Fatal(err)
	}
	f.callNext(t) // the first ticket
	f.step(t)
	f.finish(t)
	f.callNext(t) // ours
	f.step(t)
	texts := f.sender.texts()
	if len(texts) == 0 || texts[len(texts)-1] != tk.Number+" bitte zu Platz 1" {
		t.Fatalf("sent %q, want the call last", texts)
	}
	f.finish(t)
	if got := f.rows(t, "sms_signups", tk.ID) + f.rows(t, "sms_outbox", tk.ID); got != 0 {
		t.Errorf("rows after the end = %d, want 0", got)
	}

	// A call message that the gateway refuses until the ticket ends.
	g := newFixture(t)
	mine := g.issue(t, "ausweis")
	if err := g.store.SignUpSMS(ctx, mine.ID, phone, "de"); err != nil {
		t.Fatal(err)
	}
	g.sender.fail(errors.New("status 503"))
	g.callNext(t)
	g.step(t)
	if kinds, _ := g.store.SMSKinds(ctx, mine.ID); kinds[notify.KindCalled] != sqlite.SMSPending {
		t.Fatalf("kinds = %v, want called pending", kinds)
	}
	g.finish(t)
	g.sender.fail(nil)
	g.clock.Add(time.Hour)
	g.step(t)
	if got := g.sender.texts(); len(got) != 0 {
		t.Errorf("sent %q after the ticket ended, want nothing", got)
	}
}

// A sign-up handed over from central's status page is recorded once per
// hand-over ID: delivered again, it changes nothing, not even after a
// newer sign-up at the kiosk; a ticket no longer waiting refuses it.
func TestApplySMSHandover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	tk := f.issue(t, "ausweis")
	h := changelog.SMSHandover{ID: "h-1", Ticket: tk.ID, Phone: phone, Lang: "tr"}
	for i, want := range []string{sqlite.HandoverApplied, sqlite.HandoverDuplicate} {
		got, err := f.store.ApplySMSHandover(ctx, h)
		if err != nil || got != want {
			t.Fatalf("apply #%d = %q, %v; want %q", i+1, got, err, want)
		}
	}
	if err := f.store.SignUpSMS(ctx, tk.ID, "+4917011112222", "de"); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.store.ApplySMSHandover(ctx, h); got != sqlite.HandoverDuplicate {
		t.Errorf("resent hand-over = %q, want duplicate", got)
	}
	f.step(t)
	if got := f.sender.sent[len(f.sender.sent)-1].to; got != "+4917011112222" {
		t.Errorf("sent to %s, want the kiosk's newer number", notify.Mask(got))
	}
	f.callNext(t)
	f.finish(t)
	if got, _ := f.store.ApplySMSHandover(ctx, changelog.SMSHandover{ID: "h-2", Ticket: tk.ID, Phone: phone, Lang: "de"}); got != sqlite.HandoverRefused {
		t.Errorf("hand-over for a finished ticket = %q, want refused", got)
	}
	if got, _ := f.store.ApplySMSHandover(ctx, changelog.SMSHandover{ID: "h-3", Ticket: "2026-11-30/X999", Phone: phone, Lang: "de"}); got != sqlite.HandoverRefused {
		t.Errorf("hand-over for an unknown ticket = %q, want refused", got)
	}
	if got := f.rows(t, "sms_signups", tk.ID); got != 0 {
		t.Errorf("sign-ups = %d, want 0", got)
	}
}
