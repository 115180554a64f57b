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

// boxKeyRecorded polls as the site with its box key, which central seals
// the numbers to at sign-up: a site that never polled takes no sign-ups.
func (e *env) boxKeyRecorded() {
	e.t.Helper()
	if r := e.poll("site=" + siteID + "&after=0&sms=1"); r.status != http.StatusOK {
		e.t.Fatalf("poll: %d %s", r.status, r.dl.Error)
	}
}

// The site applied a hand-over, then its WAN dropped for longer than the
// hand-over lives: central marked it expired. The site's late
// confirmation still counts, since the site will text the citizen.
func TestSMSConfirmedAfterExpiry(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.mustPost(opening(t, e.Clock).batch(1, 5))
	e.boxKeyRecorded()
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
	e.boxKeyRecorded()
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
	e.boxKeyRecorded()
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
	e.boxKeyRecorded()
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
	e.boxKeyRecorded()
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

// postSMS posts the status page's SMS form of token and returns the status
// and the page.
func (e *env) postSMS(token string, form url.Values) (int, string) {
	e.t.Helper()
	resp, err := http.PostForm(e.URL+"/t/"+token+"/sms", form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// tag returns the first HTML tag of page that contains marker, or "".
func tag(page, marker string) string {
	i := strings.Index(page, marker)
	if i < 0 {
		return ""
	}
	start := strings.LastIndex(page[:i], "<")
	end := strings.Index(page[i:], ">")
	if start < 0 || end < 0 {
		return ""
	}
	return page[start : i+end+1]
}

// A refused sign-up shows the form again as the citizen left it (the
// number typed, the consent ticked) and ties the message to the field it
// is about.
func TestSMSErrorKeepsConsentAndNamesTheField(t *testing.T) {
	e := newEnv(t)
	e.mustPost(opening(t, e.Clock).batch(1, 5))
	for _, tt := range []struct {
		name    string
		form    url.Values
		checked bool
		field   string // the input described by the message
	}{
		{"BadNumberConsented", url.Values{"phone": {"12345"}, "consent": {"yes"}}, true, `id="sms-phone"`},
		{"BadNumberNoConsent", url.Values{"phone": {"12345"}}, false, `id="sms-phone"`},
		{"NoConsent", url.Values{"phone": {"0170 1234 5678"}}, false, `name="consent"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, page := e.postSMS(tokenA, tt.form)
			if status != http.StatusBadRequest {
				t.Fatalf("POST = %d, want 400", status)
			}
			contains(t, "error page", page, `id="sms-error"`, `value="`+tt.form.Get("phone")+`"`)
			phone, consent := tag(page, `id="sms-phone"`), tag(page, `name="consent"`)
			if got := strings.Contains(consent, " checked"); got != tt.checked {
				t.Errorf("consent %s: checked %v, want %v", consent, got, tt.checked)
			}
			for _, in := range []string{phone, consent} {
				described := strings.Contains(in, `aria-describedby="sms-error"`) && strings.Contains(in, `aria-invalid="true"`)
				if want := strings.Contains(in, tt.field); described != want {
					t.Errorf("%s: described by the error %v, want %v", in, described, want)
				}
			}
		})
	}
}

// The language menu of a page answering a post (an SMS sign-up's error, a
// refused cancellation) links to the ticket's status page: the posted
// address takes no GET.
func TestLanguageMenuAfterAPost(t *testing.T) {
	e := newEnv(t)
	l := opening(t, e.Clock)
	e.mustPost(l.batch(1, 5))
	call(l) // A is called: it can no longer be cancelled
	e.mustPost(l.batch(6, 7))
	links := func(what, page, token string) {
		t.Helper()
		contains(t, what, page, `href="/t/`+token+`?lang=tr"`, `href="/t/`+token+`?lang=en"`)
		for _, bad := range []string{"/sms?lang=", "/cancel?lang="} {
			if strings.Contains(page, bad) {
				t.Errorf("%s: a language link goes to %s…", what, bad)
			}
		}
	}

	status, _, page := e.postCancel(tokenA)
	if status != http.StatusConflict {
		t.Fatalf("POST cancel of a called ticket = %d, want 409", status)
	}
	links("refused cancellation", page, tokenA)

	status, page = e.postSMS(tokenB, url.Values{"phone": {"12345"}, "consent": {"yes"}})
	if status != http.StatusBadRequest {
		t.Fatalf("POST a bad number = %d, want 400", status)
	}
	links("status page with the SMS error", page, tokenB)

	status, page = e.postSMS(tokenB, url.Values{"phone": {strings.Repeat("0", 8<<10)}})
	if status != http.StatusBadRequest || !strings.Contains(page, `id="notfound-heading"`) {
		t.Fatalf("POST an oversized form = %d, want 400 with the message page", status)
	}
	links("unreadable SMS form", page, tokenB)
}
