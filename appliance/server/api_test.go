package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestHealthz(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	res := h.get(t, nil, "/healthz")
	if got, want := res.status, http.StatusOK; got != want {
		t.Fatalf("status = %d, want %d", got, want)
	}
	if got, want := res.header.Get("Content-Type"), "application/json"; !strings.HasPrefix(got, want) {
		t.Errorf("Content-Type = %q, want %s", got, want)
	}
	v := decode[struct {
		Role    string `json:"role"`
		Site    string `json:"site"`
		LastSeq uint64 `json:"last_seq"`
	}](t, res)
	if got, want := v.Role, "appliance"; got != want {
		t.Errorf("role = %q, want %q", got, want)
	}
	if got, want := v.Site, "kalk"; got != want {
		t.Errorf("site = %q, want %q", got, want)
	}
	if got, want := v.LastSeq, h.store.LastSeq(); got != want {
		t.Errorf("last_seq = %d, want %d", got, want)
	}
}

func TestAPIServicesAndCounters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	res := h.get(t, nil, "/api/v1/services")
	if got, want := res.status, http.StatusOK; got != want {
		t.Fatalf("services: status = %d, want %d", got, want)
	}
	services := decode[[]struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Prefix string `json:"prefix"`
	}](t, res)
	var ids []string
	for _, s := range services {
		ids = append(ids, s.ID)
	}
	if got, want := ids, []string{"ausweis", "meldung", "bescheinigung", "abholung"}; !slices.Equal(got, want) {
		t.Errorf("service ids = %v, want %v", got, want)
	}
	if len(services) > 0 {
		if got, want := services[0].Prefix, "A"; got != want {
			t.Errorf("ausweis prefix = %q, want %q", got, want)
		}
	}

	res = h.get(t, nil, "/api/v1/counters")
	if got, want := res.status, http.StatusOK; got != want {
		t.Fatalf("counters: status = %d, want %d", got, want)
	}
	counters := decode[[]struct {
		ID       string   `json:"id"`
		Name     string   `json:"name"`
		Services []string `json:"services"`
		Open     bool     `json:"open"`
	}](t, res)
	var got []string
	for _, c := range counters {
		got = append(got, c.ID+"="+c.Name)
		if c.Open {
			t.Errorf("counter %s open before anyone staffed it", c.ID)
		}
	}
	if want := []string{"1=Platz 1", "2=Platz 2", "3=Platz 3", "4=Platz 4"}; !slices.Equal(got, want) {
		t.Errorf("counters = %v, want %v", got, want)
	}
}

func TestAPIIssueTicket(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	res := h.postJSON(t, "/api/v1/tickets", `{"service":"ausweis"}`)
	if got, want := res.status, http.StatusCreated; got != want {
		t.Fatalf("status = %d, want %d: %s", got, want, res)
	}
	var raw map[string]any
	if err := json.Unmarshal(res.body, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["estimated_wait_minutes"].(float64); !ok {
		t.Errorf("estimated_wait_minutes = %#v, want a number", raw["estimated_wait_minutes"])
	}
	first := decode[apiTicket](t, res)
	if got, want := first.Number, "A001"; got != want {
		t.Errorf("number = %q, want %q", got, want)
	}
	if got := len(first.Token); got < 22 {
		t.Errorf("token %q has %d characters, want >= 22 (128 bits)", first.Token, got)
	}
	if got, want := first.Status, "waiting"; got != want {
		t.Errorf("status = %q, want %q", got, want)
	}
	if got, want := first.Position, 1; got != want {
		t.Errorf("position = %d, want %d", got, want)
	}
	if first.EstimatedWaitMinutes != nil && *first.EstimatedWaitMinutes < 0 {
		t.Errorf("estimated_wait_minutes = %d, want >= 0", *first.EstimatedWaitMinutes)
	}
	if got, want := first.StatusURL, portal+"/t/"+first.Token; got != want {
		t.Errorf("status_url = %q, want %q", got, want)
	}
	if got, want := res.header.Get("Location"), "/api/v1/tickets/"+first.Token; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if got := res.header.Get("Idempotent-Replayed"); got != "" {
		t.Errorf("Idempotent-Replayed = %q on a fresh ticket, want none", got)
	}

	second := h.issue(t, "ausweis")
	if got, want := second.Number, "A002"; got != want {
		t.Errorf("second number = %q, want %q", got, want)
	}
	if got, want := second.Position, 2; got != want {
		t.Errorf("second position = %d, want %d", got, want)
	}
	if second.Token == first.Token {
		t.Errorf("two tickets share the token %q", first.Token)
	}

	// Other services count on their own.
	if got, want := h.issue(t, "meldung").Number, "B001"; got != want {
		t.Errorf("first meldung number = %q, want %q", got, want)
	}

	// The ticket reads back by token.
	res = h.get(t, nil, "/api/v1/tickets/"+first.Token)
	if got, want := res.status, http.StatusOK; got != want {
		t.Fatalf("GET ticket: status = %d, want %d", got, want)
	}
	back := decode[apiTicket](t, res)
	if got, want := back.Number, "A001"; got != want {
		t.Errorf("read back number = %q, want %q", got, want)
	}
	if got, want := back.Position, 1; got != want {
		t.Errorf("read back position = %d, want %d", got, want)
	}

	q := h.queue(t)
	if got, want := q.Waiting, 3; got != want {
		t.Errorf("waiting = %d, want %d", got, want)
	}
	var numbers []string
	for _, tk := range q.Tickets {
		numbers = append(numbers, tk.Number)
	}
	if want := []string{"A001", "A002", "B001"}; !slices.Equal(numbers, want) {
		t.Errorf("queue = %v, want %v", numbers, want)
	}
}

func TestAPIIdempotencyKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	first := h.postJSON(t, "/api/v1/tickets", `{"service":"ausweis"}`, "Idempotency-Key", "retry-1")
	again := h.postJSON(t, "/api/v1/tickets", `{"service":"ausweis"}`, "Idempotency-Key", "retry-1")
	for _, r := range []response{first, again} {
		if got, want := r.status, http.StatusCreated; got != want {
			t.Fatalf("status = %d, want %d: %s", got, want, r)
		}
	}
	a, b := decode[apiTicket](t, first), decode[apiTicket](t, again)
	if got, want := b.Token, a.Token; got != want {
		t.Errorf("replayed token = %q, want %q", got, want)
	}
	if got, want := b.Number, "A001"; got != want {
		t.Errorf("replayed number = %q, want %q", got, want)
	}
	if got, want := again.header.Get("Idempotent-Replayed"), "true"; got != want {
		t.Errorf("Idempotent-Replayed = %q, want %q", got, want)
	}
	if got, want := h.queue(t).Waiting, 1; got != want {
		t.Errorf("waiting after a replay = %d, want %d", got, want)
	}

	// Twenty clients retrying at once get one ticket between them.
	const n = 20
	var wg sync.WaitGroup
	tokens := make([]string, n)
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, h.url+"/api/v1/tickets", strings.NewReader(`{"service":"meldung"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", "burst")
			res, err := h.client.Do(req)
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			defer res.Body.Close()
			statuses[i] = res.StatusCode
			var v apiTicket
			if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
				t.Errorf("request %d: decode: %v", i, err)
			}
			tokens[i] = v.Token
		}()
	}
	wg.Wait()
	for i := range n {
		if got, want := statuses[i], http.StatusCreated; got != want {
			t.Errorf("request %d: status = %d, want %d", i, got, want)
		}
		if got, want := tokens[i], tokens[0]; got != want || got == "" {
			t.Errorf("request %d: token = %q, want %q", i, got, want)
		}
	}
	q := h.queue(t)
	if got, want := q.Waiting, 2; got != want {
		t.Errorf("waiting after %d parallel retries = %d, want %d", n, got, want)
	}
	var meldung int
	for _, tk := range q.Tickets {
		if tk.Service == "meldung" {
			meldung++
		}
	}
	if got, want := meldung, 1; got != want {
		t.Errorf("meldung tickets = %d, want %d", got, want)
	}
}

// TestAPIBadInput checks that every refused request says why, in JSON, with
// a 4xx status, and changes nothing.
func TestAPIBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// One ausweis ticket waits: counter 3 serves no ausweis, so nobody waits for it.
	waiting := decode[apiTicket](t, h.postJSON(t, "/api/v1/tickets", `{"service":"ausweis"}`, "Idempotency-Key", "seed"))

	type request struct {
		method, path, body string
		contentType        string
		user, password     string
		headers            []string
	}
	tests := []struct {
		name       string
		req        request
		wantStatus int
		wantError  string // a part of the message
		wantAuth   bool   // WWW-Authenticate expected
	}{
		{"unknown service", request{method: "POST", path: "/api/v1/tickets", body: `{"service":"zulassung"}`, contentType: "application/json"},
			http.StatusBadRequest, "unknown service", false},
		{"missing service", request{method: "POST", path: "/api/v1/tickets", body: `{}`, contentType: "application/json"},
			http.StatusBadRequest, `"service" is required`, false},
		{"malformed JSON", request{method: "POST", path: "/api/v1/tickets", body: `{"service":`, contentType: "application/json"},
			http.StatusBadRequest, "malformed JSON", false},
		{"not an object", request{method: "POST", path: "/api/v1/tickets", body: `["ausweis"]`, contentType: "application/json"},
			http.StatusBadRequest, "", false},
		{"trailing data", request{method: "POST", path: "/api/v1/tickets", body: `{"service":"ausweis"} {}`, contentType: "application/json"},
			http.StatusBadRequest, "extra data", false},
		{"empty body", request{method: "POST", path: "/api/v1/tickets", body: ``, contentType: "application/json"},
			http.StatusBadRequest, "empty", false},
		{"unknown field", request{method: "POST", path: "/api/v1/tickets", body: `{"service":"ausweis","colour":"red"}`, contentType: "application/json"},
			http.StatusBadRequest, "colour", false},
		{"wrong type", request{method: "POST", path: "/api/v1/tickets", body: `{"service":7}`, contentType: "application/json"},
			http.StatusBadRequest, "service", false},
		{"wrong content type", request{method: "POST", path: "/api/v1/tickets", body: `{"service":"ausweis"}`, contentType: "text/plain"},
			http.StatusBadRequest, "Content-Type", false},
		{"form content type", request{method: "POST", path: "/api/v1/tickets", body: `service=ausweis`, contentType: "application/x-www-form-urlencoded"},
			http.StatusBadRequest, "Content-Type", false},
		{"idempotency key reused for another service", request{method: "POST", path: "/api/v1/tickets", body: `{"service":"meldung"}`, contentType: "application/json", headers: []string{"Idempotency-Key", "seed"}},
			http.StatusConflict, "another service", false},
		{"idempotency key too long", request{method: "POST", path: "/api/v1/tickets", body: `{"service":"ausweis"}`, contentType: "application/json", headers: []string{"Idempotency-Key", strings.Repeat("k", 201)}},
			http.StatusBadRequest, "Idempotency-Key", false},
		{"unknown token", request{method: "GET", path: "/api/v1/tickets/xyz"},
			http.StatusNotFound, "no ticket", false},
		{"unknown endpoint", request{method: "GET", path: "/api/v1/nothing"},
			http.StatusNotFound, "no such API endpoint", false},
		{"call-next without credentials", request{method: "POST", path: "/api/v1/counters/1/call-next"},
			http.StatusUnauthorized, "credentials", true},
		{"call-next with wrong password", request{method: "POST", path: "/api/v1/counters/1/call-next", user: "demo", password: "wrong"},
			http.StatusUnauthorized, "wrong user name or password", true},
		{"call-next as unknown user", request{method: "POST", path: "/api/v1/counters/1/call-next", user: "mallory", password: "demo"},
			http.StatusUnauthorized, "wrong user name or password", true},
		{"unknown counter", request{method: "POST", path: "/api/v1/counters/99/call-next", user: "demo", password: "demo"},
			http.StatusNotFound, "unknown counter", false},
		{"unknown action", request{method: "POST", path: "/api/v1/counters/1/dance", user: "demo", password: "demo"},
			http.StatusNotFound, "unknown action", false},
		{"nobody waiting", request{method: "POST", path: "/api/v1/counters/3/call-next", user: "demo", password: "demo"},
			http.StatusConflict, "nobody is waiting", false},
		{"finish with nobody called", request{method: "POST", path: "/api/v1/counters/1/finish", user: "demo", password: "demo"},
			http.StatusConflict, "no ticket is being served", false},
		{"recall with nobody called", request{method: "POST", path: "/api/v1/counters/1/recall", user: "demo", password: "demo"},
			http.StatusConflict, "no ticket is being served", false},
		{"no-show with nobody called", request{method: "POST", path: "/api/v1/counters/2/no-show", user: "demo", password: "demo"},
			http.StatusConflict, "no ticket is being served", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.snapshot(t)
			req := h.newRequest(t, tt.req.method, tt.req.path, strings.NewReader(tt.req.body))
			if tt.req.contentType != "" {
				req.Header.Set("Content-Type", tt.req.contentType)
			}
			if tt.req.user != "" {
				req.SetBasicAuth(tt.req.user, tt.req.password)
			}
			for i := 0; i+1 < len(tt.req.headers); i += 2 {
				req.Header.Set(tt.req.headers[i], tt.req.headers[i+1])
			}
			res := h.send(t, nil, req)

			if got, want := res.status, tt.wantStatus; got != want {
				t.Errorf("status = %d, want %d: %s", got, want, res)
			}
			if got, want := res.header.Get("Content-Type"), "application/json"; !strings.HasPrefix(got, want) {
				t.Errorf("Content-Type = %q, want %s", got, want)
			}
			var body map[string]any
			if err := json.Unmarshal(res.body, &body); err != nil {
				t.Fatalf("body %q is not JSON: %v", res.body, err)
			}
			msg, _ := body["error"].(string)
			if msg == "" || len(body) != 1 {
				t.Errorf("body = %s, want exactly {\"error\": \"…\"}", res)
			}
			if !strings.Contains(msg, tt.wantError) {
				t.Errorf("error = %q, want it to mention %q", msg, tt.wantError)
			}
			if got, want := res.header.Get("WWW-Authenticate") != "", tt.wantAuth; got != want {
				t.Errorf("WWW-Authenticate present = %v, want %v (%q)", got, want, res.header.Get("WWW-Authenticate"))
			}
			if got, want := h.snapshot(t), before; got != want {
				t.Errorf("state changed: %+v, want %+v", got, want)
			}
		})
	}
	if got, want := h.ticketStatus(t, waiting.Token), "waiting"; got != want {
		t.Errorf("ticket %s status = %q, want %q", waiting.Number, got, want)
	}
}

func TestAPICounterFlow(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a1, a2 := h.issue(t, "ausweis"), h.issue(t, "ausweis")

	res := h.counterAction(t, "1", "call-next")
	if got, want := res.status, http.StatusOK; got != want {
		t.Fatalf("call-next: status = %d, want %d: %s", got, want, res)
	}
	called := decode[apiTicket](t, res)
	if got, want := fmt.Sprint(called.Number, " ", called.Status, " ", called.Counter, " ", called.CounterName), "A001 called 1 Platz 1"; got != want {
		t.Errorf("call-next = %q, want %q", got, want)
	}
	// Staff identify the ticket by its ID; its token stays with the citizen.
	if got, want := called.ID, a1.ID; got != want || called.Token != "" {
		t.Errorf("called ticket = %q with token %q, want %q without", got, called.Token, want)
	}

	before := h.snapshot(t)
	res = h.counterAction(t, "1", "call-next")
	if got, want := res.status, http.StatusConflict; got != want {
		t.Errorf("call-next while serving: status = %d, want %d: %s", got, want, res)
	}
	if msg := decode[map[string]string](t, res)["error"]; !strings.Contains(msg, "still serving A001") {
		t.Errorf("call-next while serving: error = %q, want it to name A001", msg)
	}
	if got, want := h.snapshot(t), before; got != want {
		t.Errorf("refused call-next changed state: %+v, want %+v", got, want)
	}

	res = h.counterAction(t, "1", "recall")
	if got, want := res.status, http.StatusOK; got != want {
		t.Fatalf("recall: status = %d, want %d: %s", got, want, res)
	}
	if got, want := decode[apiTicket](t, res).Number, "A001"; got != want {
		t.Errorf("recalled %q, want %q", got, want)
	}

	res = h.counterAction(t, "1", "finish")
	if got, want := res.status, http.StatusOK; got != want {
		t.Fatalf("finish: status = %d, want %d: %s", got, want, res)
	}
	finished := decode[apiTicket](t, res)
	if got, want := finished.Number+" "+finished.Status, "A001 done"; got != want {
		t.Errorf("finish = %q, want %q", got, want)
	}
	if got, want := h.ticketStatus(t, a1.Token), "done"; got != want {
		t.Errorf("A001 status = %q, want %q", got, want)
	}

	// No-show at another counter.
	res = h.counterAction(t, "2", "call-next")
	if got, want := res.status, http.StatusOK; got != want {
		t.Fatalf("call-next at 2: status = %d, want %d: %s", got, want, res)
	}
	called = decode[apiTicket](t, res)
	if got, want := called.Number+" "+called.Counter+" "+called.CounterName, "A002 2 Platz 2"; got != want {
		t.Errorf("call-next at 2 = %q, want %q", got, want)
	}
	q := h.queue(t)
	if got, want := len(q.Called), 1; got != want {
		t.Fatalf("called in queue = %d, want %d", got, want)
	}
	if got, want := q.Called[0].Number, "A002"; got != want {
		t.Errorf("queue's called = %q, want %q", got, want)
	}
	res = h.counterAction(t, "2", "no-show")
	if got, want := res.status, http.StatusOK; got != want {
		t.Fatalf("no-show: status = %d, want %d: %s", got, want, res)
	}
	if got, want := decode[apiTicket](t, res).Status, "no_show"; got != want {
		t.Errorf("no-show status = %q, want %q", got, want)
	}
	if got, want := h.ticketStatus(t, a2.Token), "no_show"; got != want {
		t.Errorf("A002 status = %q, want %q", got, want)
	}
	q = h.queue(t)
	if q.Waiting != 0 || len(q.Called) != 0 {
		t.Errorf("queue after the flow: %d waiting, %d called, want 0 and 0", q.Waiting, len(q.Called))
	}

	// Calling opened both counters.
	counters := decode[[]struct {
		ID   string `json:"id"`
		Open bool   `json:"open"`
	}](t, h.get(t, nil, "/api/v1/counters"))
	var open []string
	for _, c := range counters {
		if c.Open {
			open = append(open, c.ID)
		}
	}
	if want := []string{"1", "2"}; !slices.Equal(open, want) {
		t.Errorf("open counters = %v, want %v", open, want)
	}
}

// TestAPICounterConcurrency has four counters drain the queue at once: every
// ticket is called exactly once, by one counter that serves it.
func TestAPICounterConcurrency(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	services := map[string]string{} // ticket ID -> service
	for i := range 30 {
		svc := "meldung"
		if i%3 == 0 {
			svc = "ausweis" // counter 3 does not serve these
		}
		tk := h.issue(t, svc)
		services[tk.ID] = svc
	}
	serves := map[string][]string{"1": {"ausweis", "meldung"}, "2": {"ausweis", "meldung"}, "3": {"meldung"}, "4": {"ausweis", "meldung"}}

	var mu sync.Mutex
	calledBy := map[string][]string{} // ticket ID -> counters that called it
	var wg sync.WaitGroup
	for counter := range serves {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 { // bound: never loop forever on a bug
				res, err := h.action(counter, "call-next")
				if err != nil {
					t.Errorf("counter %s: call-next: %v", counter, err)
					return
				}
				if res.status == http.StatusConflict {
					return // nobody left for this counter
				}
				if res.status != http.StatusOK {
					t.Errorf("counter %s: call-next: status %d: %s", counter, res.status, res)
					return
				}
				var tk apiTicket
				if err := json.Unmarshal(res.body, &tk); err != nil {
					t.Errorf("counter %s: %v", counter, err)
					return
				}
				if tk.Counter != counter || tk.Status != "called" {
					t.Errorf("counter %s called %s: counter %q status %q", counter, tk.Number, tk.Counter, tk.Status)
				}
				mu.Lock()
				calledBy[tk.ID] = append(calledBy[tk.ID], counter)
				mu.Unlock()
				res, err = h.action(counter, "finish")
				if err != nil || res.status != http.StatusOK {
					t.Errorf("counter %s: finish %s: %v %d %s", counter, tk.Number, err, res.status, res)
					return
				}
			}
			t.Errorf("counter %s never ran out of tickets", counter)
		}()
	}
	wg.Wait()

	if got, want := len(calledBy), len(services); got != want {
		t.Errorf("tickets called = %d, want %d", got, want)
	}
	for id, counters := range calledBy {
		if len(counters) != 1 {
			t.Errorf("ticket %s called by counters %v, want exactly one", id, counters)
			continue
		}
		if svc := services[id]; !slices.Contains(serves[counters[0]], svc) {
			t.Errorf("ticket %s (%s) called at counter %s, which does not serve it", id, svc, counters[0])
		}
	}
	q := h.queue(t)
	if q.Waiting != 0 || len(q.Called) != 0 {
		t.Errorf("queue after draining: %d waiting, %d called, want 0 and 0", q.Waiting, len(q.Called))
	}
}

// action is counterAction for goroutines: it reports errors instead of
// stopping the test.
func (h *harness) action(counter, action string) (response, error) {
	req, err := http.NewRequest(http.MethodPost, h.url+"/api/v1/counters/"+counter+"/"+action, nil)
	if err != nil {
		return response{}, err
	}
	req.SetBasicAuth("demo", "demo")
	res, err := h.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	r := response{status: res.StatusCode, header: res.Header, body: body}
	return r, err
}
