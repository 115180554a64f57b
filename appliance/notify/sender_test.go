package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/veedel/veedel/appliance/notify"
)

// gateway is a fake SMS gateway that records requests.
type gateway struct {
	mu       sync.Mutex
	status   int
	requests []gatewayRequest
}

type gatewayRequest struct {
	method, path, ctype, auth string
	body                      []byte
}

func newGateway(t *testing.T, status int) (*gateway, *httptest.Server) {
	g := &gateway{status: status}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		g.mu.Lock()
		g.requests = append(g.requests, gatewayRequest{r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), body})
		status := g.status
		g.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, `{"error":"number +4915123456789 unknown"}`)
	}))
	t.Cleanup(srv.Close)
	return g, srv
}

func (g *gateway) last(t *testing.T) gatewayRequest {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.requests) == 0 {
		t.Fatal("gateway got no request")
	}
	return g.requests[len(g.requests)-1]
}

const text = "A042 \"bitte\" zu Platz 3 & 4 € ä\n"

func TestHTTPSenderJSON(t *testing.T) {
	t.Parallel()
	g, srv := newGateway(t, http.StatusAccepted)
	s := &notify.HTTPSender{URL: srv.URL + "/sms", Header: http.Header{"Authorization": {"Bearer k"}}}
	if err := s.Send(context.Background(), "+4915123456789", text); err != nil {
		t.Fatalf("Send: %v", err)
	}
	req := g.last(t)
	if req.method != http.MethodPost || req.path != "/sms" || req.ctype != "application/json" || req.auth != "Bearer k" {
		t.Errorf("request = %s %s, Content-Type %q, Authorization %q", req.method, req.path, req.ctype, req.auth)
	}
	var got struct{ To, Text string }
	if err := json.Unmarshal(req.body, &got); err != nil {
		t.Fatalf("body %s: %v", req.body, err)
	}
	if got.To != "+4915123456789" || got.Text != text {
		t.Errorf("body = %+v", got)
	}
}

func TestHTTPSenderForm(t *testing.T) {
	t.Parallel()
	g, srv := newGateway(t, http.StatusOK)
	s := &notify.HTTPSender{URL: srv.URL, Method: http.MethodPut,
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		Body:   "recipient={to}&message={text}&sender=Stadt+Koeln"}
	if err := s.Send(context.Background(), "+4915123456789", text); err != nil {
		t.Fatalf("Send: %v", err)
	}
	req := g.last(t)
	if req.method != http.MethodPut {
		t.Errorf("method = %s", req.method)
	}
	form, err := url.ParseQuery(string(req.body))
	if err != nil {
		t.Fatal(err)
	}
	if form.Get("recipient") != "+4915123456789" || form.Get("message") != text || form.Get("sender") != "Stadt Koeln" {
		t.Errorf("form = %v", form)
	}
}

func TestHTTPSenderVerbatim(t *testing.T) {
	t.Parallel()
	g, srv := newGateway(t, http.StatusOK)
	s := &notify.HTTPSender{URL: srv.URL, Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, Body: "{to}: {text}"}
	if err := s.Send(context.Background(), "+4915123456789", "hallo"); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got, want := string(g.last(t).body), "+4915123456789: hallo"; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
}

func TestHTTPSenderFailure(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusBadRequest, http.StatusInternalServerError, http.StatusMovedPermanently} {
		_, srv := newGateway(t, status)
		s := &notify.HTTPSender{URL: srv.URL + "/sms?key=secret"}
		err := s.Send(context.Background(), "+4915123456789", "x")
		if err == nil {
			t.Errorf("status %d: no error", status)
			continue
		}
		// Neither the number (echoed by the gateway) nor the URL's key.
		if msg := err.Error(); strings.Contains(msg, "456789") || strings.Contains(msg, "secret") {
			t.Errorf("status %d: error %q leaks", status, msg)
		}
	}
	// Unreachable gateway: the URL's key must not be in the error.
	_, srv := newGateway(t, http.StatusOK)
	srv.Close()
	err := (&notify.HTTPSender{URL: srv.URL + "/sms?key=secret"}).Send(context.Background(), "+4915123456789", "x")
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("unreachable gateway: error %v", err)
	}
}

// A gateway that rejects the request itself fails it for good; timeouts,
// rate limits and server errors are retried by the outbox.
func TestHTTPSenderPermanent(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]bool{
		http.StatusBadRequest: true, http.StatusUnauthorized: true, http.StatusUnprocessableEntity: true,
		http.StatusRequestTimeout: false, http.StatusTooManyRequests: false, http.StatusBadGateway: false, http.StatusServiceUnavailable: false,
	} {
		_, srv := newGateway(t, status)
		err := (&notify.HTTPSender{URL: srv.URL}).Send(context.Background(), "+4915123456789", "x")
		var p notify.PermanentError
		if got := errors.As(err, &p) && p.Permanent(); got != want {
			t.Errorf("status %d: permanent %v, want %v (err %v)", status, got, want, err)
		}
	}
}

func TestLogSenderMasks(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	s := notify.LogSender{Logger: slog.New(slog.NewTextHandler(&buf, nil))}
	if err := s.Send(context.Background(), "+4915123454567", "A042 bitte zu Platz 3"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "15123454567") || !strings.Contains(out, "+49 151 ****4567") || !strings.Contains(out, "A042 bitte zu Platz 3") {
		t.Errorf("log = %s", out)
	}
}
