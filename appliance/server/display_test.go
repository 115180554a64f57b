package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestDisplayPage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	res := h.get(t, nil, "/display")
	if got, want := res.status, http.StatusOK; got != want {
		t.Fatalf("status = %d, want %d", got, want)
	}
	if !strings.Contains(res.String(), `<span id="now-number">–</span>`) {
		t.Errorf("empty display does not show a dash:\n%s", res)
	}
	if !strings.Contains(res.String(), "Kundenzentrum Kalk") {
		t.Errorf("display does not name the site")
	}

	h.issue(t, "ausweis")
	h.counterAction(t, "1", "call-next")
	res = h.get(t, nil, "/display")
	if !strings.Contains(res.String(), `<span id="now-number">A001</span>`) || !strings.Contains(res.String(), `<span id="now-counter">Platz 1</span>`) {
		t.Errorf("display does not show A001 → Platz 1:\n%s", res)
	}
}

// sseEvent is one Server-Sent Event.
type sseEvent struct {
	name string
	data string
}

type displayData struct {
	Calls []struct {
		Number      string `json:"number"`
		CounterName string `json:"counter_name"`
		Recall      bool   `json:"recall"`
		Announce    string `json:"announce"`
	} `json:"calls"`
	Waiting int `json:"waiting"`
}

func TestDisplayEvents(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.issue(t, "ausweis")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url+"/display/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if got, want := res.StatusCode, http.StatusOK; got != want {
		t.Fatalf("status = %d, want %d", got, want)
	}
	if got, want := res.Header.Get("Content-Type"), "text/event-stream"; got != want {
		t.Errorf("Content-Type = %q, want %q", got, want)
	}

	events := make(chan sseEvent, 16)
	go func() {
		defer close(events)
		r := bufio.NewReader(res.Body)
		var ev sseEvent
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			switch {
			case line == "":
				if ev.name != "" || ev.data != "" {
					events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data += strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	next := func() (sseEvent, displayData) {
		t.Helper()
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("stream ended")
			}
			var d displayData
			if err := json.Unmarshal([]byte(ev.data), &d); err != nil {
				t.Fatalf("event data %q: %v", ev.data, err)
			}
			return ev, d
		case <-time.After(10 * time.Second):
			t.Fatal("no event within 10 s")
		}
		panic("unreachable")
	}

	ev, d := next()
	if got, want := ev.name, "display"; got != want {
		t.Errorf("first event = %q, want %q", got, want)
	}
	if got, want := len(d.Calls), 0; got != want {
		t.Errorf("first event has %d calls, want %d", got, want)
	}
	if got, want := d.Waiting, 1; got != want {
		t.Errorf("first event waiting = %d, want %d", got, want)
	}

	if res := h.counterAction(t, "1", "call-next"); res.status != http.StatusOK {
		t.Fatalf("call-next: status %d: %s", res.status, res)
	}
	// An event published off the write path before the call (the
	// estimates) may still come first on a loaded machine; the call must
	// show within the deadline.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ev, d = next()
		if got, want := ev.name, "display"; got != want {
			t.Errorf("event after call-next = %q, want %q", got, want)
		}
		if len(d.Calls) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no event with the call within 10 s; last: %s", ev.data)
		}
	}
	if got, want := d.Calls[0].Number+" → "+d.Calls[0].CounterName, "A001 → Platz 1"; got != want {
		t.Errorf("calls[0] = %q, want %q", got, want)
	}
	if got, want := d.Calls[0].Announce, "Nummer A null null eins, bitte zu Platz 1."; got != want {
		t.Errorf("calls[0] announces %q, want %q", got, want)
	}
	if got, want := d.Waiting, 0; got != want {
		t.Errorf("second event waiting = %d, want %d", got, want)
	}

	// A recall is announced again. Events for what came before it (the
	// estimates, published off the write path) may still arrive first on
	// a loaded machine: the recall must show within the deadline.
	h.counterAction(t, "1", "recall")
	deadline = time.Now().Add(10 * time.Second)
	for {
		_, d = next()
		if len(d.Calls) >= 2 && d.Calls[0].Number == "A001" && d.Calls[0].Recall {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after recall calls = %+v, want A001 first, marked as recall", d.Calls)
		}
	}

	cancel()
	select {
	case <-events:
	case <-time.After(10 * time.Second):
		t.Error("stream did not end after cancel")
	}
}

// TestNoTokensInLogs checks that ticket tokens, which open a citizen's
// ticket status, never reach the logs.
func TestNoTokensInLogs(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tk := h.issue(t, "ausweis")
	kiosk := h.postForm(t, nil, "/kiosk/tickets", "service=meldung&key=k1")
	kioskToken := strings.TrimPrefix(kiosk.header.Get("Location"), "/kiosk/tickets/")

	for _, path := range []string{
		"/api/v1/tickets/" + tk.Token,
		"/kiosk/tickets/" + tk.Token,
		"/kiosk/tickets/" + tk.Token + "/qr.png",
		"/kiosk/tickets/" + tk.Token + "/print",
		"/kiosk/tickets/" + kioskToken,
	} {
		if got, want := h.get(t, nil, path).status, http.StatusOK; got != want {
			t.Errorf("GET %s: status = %d, want %d", path, got, want)
		}
	}
	h.get(t, nil, "/api/v1/queue")

	// The access log is written after the response; wait for the last line.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(h.logs.String(), "route=/api/v1/queue") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "route=/api/v1/tickets/{token}") {
		t.Errorf("no access log line for the ticket request; logs:\n%s", logs)
	}
	for _, token := range []string{tk.Token, kioskToken} {
		if token == "" || strings.Contains(logs, token) {
			t.Errorf("token %q appears in the logs:\n%s", token, logs)
		}
	}
}
