package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
)

// TestPublicViewsCarryNoTokens: whatever anyone on the LAN can read
// without logging in (the queue API, the call display and its stream, the
// kiosk, the services and counters), and what staff see, carries no
// ticket's token: the raw bytes are searched for every issued token.
func TestPublicViewsCarryNoTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var tokens []string
	for _, svc := range []string{"ausweis", "ausweis", "meldung", "ausweis"} {
		tokens = append(tokens, h.issue(t, svc).Token)
	}
	kiosk := h.browser(t)
	tokens = append(tokens, strings.TrimPrefix(h.kioskTicket(t, kiosk, "k1"), "/kiosk/tickets/"))
	for i, tok := range tokens {
		if len(tok) < 22 {
			t.Fatalf("ticket %d: the issuer got no token (%q)", i, tok)
		}
	}
	// One called, one parked: every list has something in it.
	if res := h.counterAction(t, "1", "call-next"); res.status != http.StatusOK {
		t.Fatalf("call-next: %d %s", res.status, res)
	}
	if res := h.counterAction(t, "2", "call-next"); res.status != http.StatusOK {
		t.Fatalf("call-next: %d %s", res.status, res)
	}
	staffAnswer := h.counterAction(t, "2", "park")
	if staffAnswer.status != http.StatusOK {
		t.Fatalf("park: %d %s", staffAnswer.status, staffAnswer)
	}
	if res := h.counterAction(t, "1", "recall"); res.status != http.StatusOK {
		t.Fatalf("recall: %d %s", res.status, res)
	}

	// The display's stream, read as a waiting room's screen reads it:
	// its first event, and the one after a change.
	stream := h.displayStream(t)
	first := stream.next(t)
	if res := h.counterAction(t, "3", "call-next"); res.status != http.StatusOK {
		t.Fatalf("call-next: %d %s", res.status, res)
	}
	second := stream.next(t)

	staffQueue := h.send(t, nil, func() *http.Request {
		req := h.newRequest(t, http.MethodGet, "/api/v1/queue", nil)
		req.SetBasicAuth("demo", "demo")
		return req
	}())
	lead := h.lead(t)
	seen := map[string]string{
		"GET /api/v1/queue":            h.get(t, nil, "/api/v1/queue").String(),
		"GET /api/v1/queue as staff":   staffQueue.String(),
		"GET /api/v1/counters":         h.get(t, nil, "/api/v1/counters").String(),
		"GET /api/v1/services":         h.get(t, nil, "/api/v1/services").String(),
		"GET /display":                 h.get(t, nil, "/display").String(),
		"GET /display/events (first)":  first,
		"GET /display/events (change)": second,
		"GET /kiosk":                   h.get(t, nil, "/kiosk").String(),
		"GET /":                        h.get(t, nil, "/").String(),
		"GET /healthz":                 h.get(t, nil, "/healthz").String(),
		"POST park (staff API)":        staffAnswer.String(),
		"GET /desk":                    h.get(t, lead, "/desk").String(),
		"GET /desk/devices":            h.get(t, lead, "/desk/devices").String(),
	}
	for what, body := range seen {
		for i, tok := range tokens {
			if strings.Contains(body, tok) {
				t.Errorf("%s carries the token of ticket %d", what, i)
			}
		}
	}
	// Still the waiting room's facts: numbers and counters.
	for _, what := range []string{"GET /api/v1/queue", "GET /api/v1/queue as staff"} {
		var b bytes.Buffer
		if err := json.Compact(&b, []byte(seen[what])); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		seen[what] = b.String()
	}
	for _, want := range []string{`"number":"A001"`, `"counter_name":"Platz 1"`, `"number":"B001"`} {
		if q := seen["GET /api/v1/queue"]; !strings.Contains(q, want) {
			t.Errorf("public queue lacks %s: %s", want, q)
		}
	}
	if !strings.Contains(second, `"number":"A00`) {
		t.Errorf("display stream after a call names no number: %s", second)
	}
	// Staff see the ticket's details, the public listing does not.
	if q := seen["GET /api/v1/queue as staff"]; !strings.Contains(q, `"id":"`) || !strings.Contains(q, `"issued_at"`) {
		t.Errorf("staff queue lacks ticket ids and times: %s", q)
	}
	if q := seen["GET /api/v1/queue"]; strings.Contains(q, `"id":`) || strings.Contains(q, `"class"`) || strings.Contains(q, "status_url") {
		t.Errorf("public queue shows more than numbers and counters: %s", q)
	}
	// Wrong staff credentials on the queue are refused, not shown the public view.
	req := h.newRequest(t, http.MethodGet, "/api/v1/queue", nil)
	req.SetBasicAuth("demo", "wrong")
	if res := h.send(t, nil, req); res.status != http.StatusUnauthorized {
		t.Errorf("queue with a wrong password: status %d, want 401", res.status)
	}

	// Whoever took the ticket has its token, and reads it back with it.
	for _, tok := range tokens[:1] {
		if res := h.get(t, nil, "/api/v1/tickets/"+tok); !strings.Contains(res.String(), tok) {
			t.Errorf("GET /api/v1/tickets/{token} does not give the holder the token back: %s", res)
		}
	}
}

// TestStrangerCannotActWithoutToken: what a public listing shows (the
// number) or what a stranger might guess (the ticket's ID, a prefix of
// its token) cancels nothing and signs nothing up for SMS; the token
// does.
func TestStrangerCannotActWithoutToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	kiosk := h.browser(t)
	path := h.kioskTicket(t, kiosk, "victim")
	token := strings.TrimPrefix(path, "/kiosk/tickets/")
	id := h.ticketID(t, path)
	if res := h.postForm(t, kiosk, path+"/sms", url.Values{"phone": {"0151 23456789"}, "consent": {"yes"}}.Encode()); res.status != http.StatusSeeOther {
		t.Fatalf("the holder's own sign-up: status %d: %s", res.status, res)
	}
	number := h.queue(t).Tickets[0].Number

	stranger := h.browser(t)
	for _, guess := range []string{number, url.PathEscape(id), token[:21], token[:21] + "A", strings.ToUpper(token), "*"} {
		if guess == token {
			continue
		}
		if res := h.postForm(t, stranger, "/kiosk/tickets/"+guess+"/sms", url.Values{"phone": {"0160 99999999"}, "consent": {"yes"}}.Encode()); res.status != http.StatusNotFound {
			t.Errorf("SMS sign-up with %q: status %d, want 404", guess, res.status)
		}
		if res := h.postJSON(t, "/api/v1/tickets/"+guess+"/cancel", ""); res.status != http.StatusNotFound {
			t.Errorf("cancel with %q: status %d, want 404", guess, res.status)
		}
		if res := h.get(t, stranger, "/kiosk/tickets/"+guess); res.status != http.StatusNotFound {
			t.Errorf("ticket page with %q: status %d, want 404", guess, res.status)
		}
	}
	if got := h.ticketStatus(t, token); got != queue.StatusWaiting {
		t.Errorf("after the stranger's tries the ticket is %q, want waiting", got)
	}
	// The number the site would text is still the holder's.
	ctx := context.Background()
	now := time.Now()
	if _, err := h.store.EnqueueSMS(ctx, id, "test", "Test", now); err != nil {
		t.Fatal(err)
	}
	due, err := h.store.DueSMS(ctx, now, 10)
	if err != nil || len(due) != 1 || due[0].To != "+4915123456789" {
		t.Errorf("after the stranger's tries the site would text %+v (%v), want the holder's +4915123456789", due, err)
	}
	// The token itself works: the holder cancels.
	if res := h.postJSON(t, "/api/v1/tickets/"+token+"/cancel", ""); res.status != http.StatusOK {
		t.Errorf("the holder's cancel: status %d: %s", res.status, res)
	}
}

// displayStream is an open GET /display/events.
type displayStream struct {
	events chan string
}

func (h *harness) displayStream(t *testing.T) *displayStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url+"/display/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /display/events: status %d", res.StatusCode)
	}
	s := &displayStream{events: make(chan string, 16)}
	go func() {
		defer close(s.events)
		r := bufio.NewReader(res.Body)
		var raw strings.Builder
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			raw.WriteString(line)
			if line == "\n" {
				s.events <- raw.String()
				raw.Reset()
			}
		}
	}()
	return s
}

// next returns the stream's next event, raw bytes and all.
func (s *displayStream) next(t *testing.T) string {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatal("display stream ended")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no display event within 10 s")
	}
	return ""
}
