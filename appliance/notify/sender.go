package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Sender delivers one SMS. to is an E.164 number ("+4915123456789"), text
// the whole message in UTF-8: the sender encodes and splits it (Split) as
// its transport needs. An error means the message may not have been
// delivered; the outbox retries it. Adapters: HTTPSender (an SMS gateway),
// LogSender (the demo); a GSM modem sender comes with the hardware.
type Sender interface {
	Send(ctx context.Context, to, text string) error
}

// HTTPSender sends through an SMS gateway's HTTP API: one request per
// message to URL with Method (default POST), Header, and Body with the
// placeholders {to} and {text}, escaped for the body's Content-Type
// (JSON string escaping for application/json and +json types, form
// escaping for application/x-www-form-urlencoded, verbatim otherwise).
// Any 2xx status is success.
//
// The URL takes no placeholders: a number in a URL ends up in proxies'
// and gateways' access logs. Errors never contain the URL (it may carry an
// API key) nor the gateway's response body (it may echo the number).
type HTTPSender struct {
	URL    string
	Method string
	Header http.Header
	// Body is the request body template, e.g. {"to":"{to}","text":"{text}"}.
	Body string
	// Client defaults to a client with a 30 s timeout.
	Client *http.Client
}

// DefaultGatewayBody is the body template when none is configured.
const DefaultGatewayBody = `{"to":"{to}","text":"{text}"}`

// Send posts one message.
func (s *HTTPSender) Send(ctx context.Context, to, text string) error {
	method := s.Method
	if method == "" {
		method = http.MethodPost
	}
	tmpl := s.Body
	if tmpl == "" {
		tmpl = DefaultGatewayBody
	}
	ctype := s.Header.Get("Content-Type")
	if ctype == "" {
		ctype = "application/json"
	}
	esc := escaper(ctype)
	body := strings.NewReplacer("{to}", esc(to), "{text}", esc(text)).Replace(tmpl)
	req, err := http.NewRequestWithContext(ctx, method, s.URL, strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("sms gateway: bad request: %w", stripURL(err))
	}
	for k, vs := range s.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", ctype)
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("sms gateway: %w", stripURL(err))
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return &GatewayError{Status: res.StatusCode}
	}
	return nil
}

// GatewayError is a gateway's refusal. A 4xx other than 408 (timeout) and
// 429 (rate limit) means the request itself is wrong (a bad number, a
// rejected text, bad credentials): sending it again cannot help, so the
// outbox fails it at once; everything else is retried.
type GatewayError struct {
	Status int
}

func (e *GatewayError) Error() string { return fmt.Sprintf("sms gateway: status %d", e.Status) }

// Permanent reports whether retrying cannot help (PermanentError).
func (e *GatewayError) Permanent() bool {
	return e.Status >= 400 && e.Status < 500 && e.Status != http.StatusRequestTimeout && e.Status != http.StatusTooManyRequests
}

var _ PermanentError = (*GatewayError)(nil)

// escaper returns how a placeholder's value is escaped in a body of ctype.
func escaper(ctype string) func(string) string {
	mt, _, _ := mime.ParseMediaType(ctype)
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return func(s string) string {
			b, _ := json.Marshal(s)
			return string(b[1 : len(b)-1])
		}
	case mt == "application/x-www-form-urlencoded":
		return url.QueryEscape
	}
	return func(s string) string { return s }
}

// stripURL drops the URL from a client error (it may hold credentials).
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// LogSender is the demo's sender: it only logs that an SMS would be sent,
// with the number masked.
type LogSender struct {
	Logger *slog.Logger
}

// Send logs the message.
func (s LogSender) Send(ctx context.Context, to, text string) error {
	logger := s.Logger
	if logger == nil {
		logger = slog.Default()
	}
	m := Split(text)
	logger.InfoContext(ctx, "sms would be sent (demo: no gateway configured)", "to", Mask(to), "text", text,
		"encoding", m.Encoding.String(), "segments", len(m.Parts))
	return nil
}
