package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
)

const mobile = "+4917012345678"

// handedOver polls as the site (signed, sms=1) with the given
// confirmations and returns the IDs of the hand-overs in the answer.
func (e *env) handedOver(confirm string) []string {
	e.t.Helper()
	r := e.poll("site=" + siteID + "&after=0&sms=1" + confirm)
	if r.status != http.StatusOK {
		e.t.Fatalf("poll: %d %s", r.status, r.dl.Error)
	}
	var ids []string
	for _, h := range r.dl.SMS {
		ids = append(ids, h.ID)
	}
	return ids
}

// The site applied a hand-over, then its WAN dropped for longer than the
// hand-over lives: central marked it expired. The site's late
// confirmation still counts, since the site will text the citizen.
func TestSMSConfirmedAfterExpiry(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.mustPost(opening(t, e.Clock).batch(1, 5))
	su, err := e.Central.SignUpSMS(ctx, tokenA, mobile, "de")
	if err != nil {
		t.Fatal(err)
	}
	if ids := e.handedOver(""); len(ids) != 1 || ids[0] != su.ID {
		t.Fatalf("handed over %v, want [%s]", ids, su.ID)
	}
	e.Clock.Add(central.SMSHandoverTTL + time.Minute)
	if got := e.Central.TicketSMS(tokenA); got.State != central.SMSExpired {
		t.Fatalf("after %v offline: %+v, want expired", central.SMSHandoverTTL, got)
	}

	t.Run("OtherSitesConfirmationIgnored", func(t *testing.T) {
		e.Central.ConfirmSMS("kz-porz", true, []string{su.ID}, nil)
		if got := e.Central.TicketSMS(tokenA); got.State != central.SMSExpired {
			t.Errorf("after another site's confirmation: %+v, want still expired", got)
		}
	})
	if ids := e.handedOver("&sms_ok=" + su.ID); len(ids) != 0 {
		t.Errorf("handed over %v after expiry, want none (the number is dropped)", ids)
	}
	if got := e.Central.TicketSMS(tokenA); got.State != central.SMSConfirmed || got.ID != su.ID {
		t.Errorf("after the late confirmation: %+v, want confirmed", got)
	}

	t.Run("NotOverANewerSignUp", func(t *testing.T) {
		// B's first sign-up expires, the citizen signs up again; the first
		// one's late confirmation does not overwrite the second's state.
		first, err := e.Central.SignUpSMS(ctx, tokenB, mobile, "de")
		if err != nil {
			t.Fatal(err)
		}
		e.Clock.Add(central.SMSHandoverTTL + time.Minute)
		e.Central.TicketSMS(tokenB)
		second, err := e.Central.SignUpSMS(ctx, tokenB, mobile, "en")
		if err != nil {
			t.Fatal(err)
		}
		e.Central.ConfirmSMS(siteID, true, []string{first.ID}, nil)
		if got := e.Central.TicketSMS(tokenB); got.State != central.SMSPending || got.ID != second.ID {
			t.Errorf("after the first's late confirmation: %+v, want the second pending", got)
		}
	})

	t.Run("ForgottenAfterADay", func(t *testing.T) {
		su, err := e.Central.SignUpSMS(ctx, tokenB, mobile, "de")
		if err != nil {
			t.Fatal(err)
		}
		e.Clock.Add(central.SMSHandoverTTL + time.Minute)
		e.Central.TicketSMS(tokenB) // sweeps: expired
		e.Clock.Add(25 * time.Hour)
		e.Central.TicketSMS(tokenB) // sweeps: forgotten
		e.Central.ConfirmSMS(siteID, true, []string{su.ID}, nil)
		if got := e.Central.TicketSMS(tokenB); got.State != central.SMSNone {
			t.Errorf("a confirmation a day late: %+v, want nothing known", got)
		}
	})
}

// Central offers only numbers every site's downlink accepts
// (changelog.SMSHandover.Validate): a number the site refuses would
// otherwise come down with every poll.
func TestSignUpSMS_ErrNumberTheSiteRefuses(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.mustPost(opening(t, e.Clock).batch(1, 5))
	for _, phone := range []string{"+12", "+1234567", "+49170123456789012", "4917012345678", "+49 170 1234567"} {
		if _, err := e.Central.SignUpSMS(ctx, tokenA, phone, "de"); veedel.ErrorCode(err) != veedel.EINVALID {
			t.Errorf("SignUpSMS(%q) = %v, want EINVALID", phone, err)
		}
	}
	if ids := e.handedOver(""); len(ids) != 0 {
		t.Errorf("handed over %v, want none", ids)
	}
	if got := e.Central.TicketSMS(tokenA); got.State != central.SMSNone {
		t.Errorf("sign-up %+v, want none", got)
	}
}

// A full box refuses a new sign-up and leaves every pending one as it was;
// signing up again for a ticket with one pending replaces it even then.
func TestSignUpSMS_FullBox(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	l := opening(t, e.Clock)
	const n = 201 // one more ticket than a site's box holds
	for i := 3; i <= n+1; i++ {
		number := fmt.Sprintf("A%03d", i)
		l.add(queue.TypeTicketIssued, "ticket/2026-03-04/"+number, ticketIssued("2026-03-04/"+number, fmt.Sprintf("tok%021d", i), number))
	}
	e.mustPost(l.batch(1, uint64(len(l.entries))))
	tokens := []string{tokenA, tokenB}
	for i := 3; i <= n; i++ {
		tokens = append(tokens, fmt.Sprintf("tok%021d", i))
	}
	for _, tok := range tokens[:n-1] {
		if _, err := e.Central.SignUpSMS(ctx, tok, mobile, "de"); err != nil {
			t.Fatalf("sign-up %s: %v", tok, err)
		}
	}
	if _, err := e.Central.SignUpSMS(ctx, tokens[n-1], mobile, "de"); veedel.ErrorCode(err) != veedel.EUNAVAILABLE {
		t.Fatalf("sign-up beyond the box = %v, want EUNAVAILABLE", err)
	}
	again, err := e.Central.SignUpSMS(ctx, tokenA, mobile, "en")
	if err != nil {
		t.Fatalf("signing up again with a full box: %v, want it to replace the pending one", err)
	}
	if got := e.Central.TicketSMS(tokenA); got.State != central.SMSPending || got.ID != again.ID {
		t.Errorf("A's sign-up %+v, want the new one pending", got)
	}
	if got := e.Central.TicketSMS(tokenB); got.State != central.SMSPending {
		t.Errorf("B's sign-up %+v, want still pending", got)
	}
}

// The status page's event stream carries the sign-up's state and wakes
// when the site confirms it, so the page turns from "wird übermittelt" to
// "eingerichtet" by itself; the number is never in it.
func TestTicketEventsSMS(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := newEnv(t)
	e.mustPost(opening(t, e.Clock).batch(1, 5))
	su, err := e.Central.SignUpSMS(ctx, tokenA, mobile, "de")
	if err != nil {
		t.Fatal(err)
	}
	events := openStream(t, ctx, e.URL+"/t/"+tokenA+"/events")
	if ev := nextEvent(t, events); ev.Name != "ticket" || !strings.Contains(ev.Data, `"sms":"pending"`) {
		t.Fatalf("first event %+v, want the ticket with its sign-up pending", ev)
	}
	e.handedOver("&sms_ok=" + su.ID)
	ev := nextEvent(t, events)
	if !strings.Contains(ev.Data, `"sms":"confirmed"`) {
		t.Errorf("after the site's confirmation: %+v, want sms confirmed", ev)
	}
	if strings.Contains(ev.Data, "12345678") {
		t.Errorf("the stream carries the number: %s", ev.Data)
	}
}

// An error page (a mistyped number after an earlier sign-up) shows the
// form again but tells live.js the sign-up's real state, so the page does
// not take the difference for news and re-post itself.
func TestSMSErrorPageKeepsLiveState(t *testing.T) {
	e := newEnv(t)
	e.mustPost(opening(t, e.Clock).batch(1, 5))
	if _, err := e.Central.SignUpSMS(context.Background(), tokenA, mobile, "de"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.PostForm(e.URL+"/t/"+tokenA+"/sms", url.Values{"phone": {"12345"}, "consent": {"yes"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("POST a bad number = %d, want 400", resp.StatusCode)
	}
	page := string(body)
	if !strings.Contains(page, `data-sms="pending"`) || !strings.Contains(page, `data-page="/t/`+tokenA+`"`) || !strings.Contains(page, `name="phone"`) {
		t.Errorf("error page: want the form, data-sms=\"pending\" and its own address for live.js")
	}
}
