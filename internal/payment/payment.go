// Package payment is the interface to an e-payment provider, modelled on
// the German public-sector ones (ePayBL, pmPayment, Giropay): the merchant
// creates a payment (amount in cents, EUR, its own reference, a return URL
// and a notification URL) and sends the citizen's browser to the redirect
// URL the provider answers; after the citizen paid or gave up, the
// provider POSTs a notification server to server, signed with
// HMAC-SHA256 over its canonical fields with a secret both sides share.
// The merchant trusts only that notification, never the browser's return:
// it checks the signature (in constant time), the timestamp's freshness,
// and the amount and reference against what it expects, and answers a
// repeat of the same transaction as it answered the first.
//
// Demo is a provider that behaves that way over HTTP, for the demo and the
// tests.
package payment

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/veedel/veedel"
)

// Currency is the only currency the city takes.
const Currency = "EUR"

// Outcomes a notification reports.
const (
	StatusPaid      = "paid"      // the money is the city's
	StatusCancelled = "cancelled" // the citizen gave up at the provider
	StatusFailed    = "failed"    // the provider refused the payment
)

// MaxAge is how old (or how far ahead of the merchant's clock) a
// notification's timestamp may be.
const MaxAge = 5 * time.Minute

// MaxNotificationBody bounds a notification's JSON.
const MaxNotificationBody = 4 << 10

// Request creates a payment.
type Request struct {
	Reference   string `json:"reference"` // the merchant's: the order code
	AmountCents int64  `json:"amount"`
	Currency    string `json:"currency"`
	Description string `json:"description"` // what the citizen pays for; no personal data
	ReturnURL   string `json:"return_url"`  // where the provider sends the browser back
	NotifyURL   string `json:"notify_url"`  // where the provider POSTs the notification
	Timestamp   int64  `json:"timestamp"`   // Unix seconds
	Signature   string `json:"signature"`   // hex HMAC-SHA256 of canonical()
}

func (r *Request) canonical() []byte {
	return canonical(r.Reference, strconv.FormatInt(r.AmountCents, 10), r.Currency, r.Description, r.ReturnURL, r.NotifyURL, strconv.FormatInt(r.Timestamp, 10))
}

// Session is a created payment: send the browser to RedirectURL.
type Session struct {
	ID          string `json:"id"`
	RedirectURL string `json:"redirect_url"`
}

// Provider creates payments.
type Provider interface {
	Create(ctx context.Context, req Request) (Session, error)
}

// Notification is what the provider POSTs to the notification URL (JSON).
type Notification struct {
	Reference     string `json:"reference"`
	AmountCents   int64  `json:"amount"`
	Currency      string `json:"currency"`
	Status        string `json:"status"`
	TransactionID string `json:"transaction_id"`
	Timestamp     int64  `json:"timestamp"` // Unix seconds
	Signature     string `json:"signature"` // hex HMAC-SHA256 of Canonical()
}

// Canonical is what is signed: the fields in a fixed order, one a line.
func (n *Notification) Canonical() []byte {
	return canonical(n.Reference, strconv.FormatInt(n.AmountCents, 10), n.Currency, n.Status, n.TransactionID, strconv.FormatInt(n.Timestamp, 10))
}

// canonical joins fields with newlines; a field holding a newline cannot
// be told apart, so it is refused before signing or verifying (see clean).
func canonical(fields ...string) []byte {
	return []byte("veedel-payment-v1\n" + strings.Join(fields, "\n"))
}

func mac(secret, msg []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(msg)
	return hex.EncodeToString(m.Sum(nil))
}

// Sign sets n's signature.
func Sign(secret []byte, n *Notification) { n.Signature = mac(secret, n.Canonical()) }

// signRequest sets r's signature.
func signRequest(secret []byte, r *Request) { r.Signature = mac(secret, r.canonical()) }

// validSignature compares in constant time.
func validSignature(secret, msg []byte, sig string) bool {
	got, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	want := hmac.New(sha256.New, secret)
	want.Write(msg)
	return hmac.Equal(got, want.Sum(nil))
}

// Verify checks a notification's form, signature and freshness as of now.
// It does not know what the merchant expects: the caller checks the
// reference and amount against its own record (Expect).
func Verify(secret []byte, n *Notification, now time.Time) error {
	if len(secret) == 0 {
		return veedel.Errorf(veedel.EUNAVAILABLE, "no payment provider secret configured")
	}
	f := veedel.FieldErrors{}
	for name, v := range map[string]string{"reference": n.Reference, "currency": n.Currency, "status": n.Status, "transaction_id": n.TransactionID} {
		switch {
		case v == "":
			f.Add(name, "required")
		case len(v) > 100 || strings.ContainsAny(v, "\n\r"):
			f.Add(name, "too long or holds a line break")
		}
	}
	switch n.Status {
	case "", StatusPaid, StatusCancelled, StatusFailed:
	default:
		f.Add("status", "paid, cancelled or failed")
	}
	if n.AmountCents <= 0 {
		f.Add("amount", "a positive amount in cents")
	}
	if n.Signature == "" {
		f.Add("signature", "required")
	}
	if err := f.Err("malformed payment notification"); err != nil {
		return err
	}
	if !validSignature(secret, n.Canonical(), n.Signature) {
		return veedel.Errorf(veedel.EUNAUTHORIZED, "payment notification refused: the signature does not match its fields (tampered, or signed with another secret)")
	}
	at := time.Unix(n.Timestamp, 0)
	if d := now.Sub(at); d > MaxAge || d < -MaxAge {
		return veedel.Errorf(veedel.EUNAUTHORIZED, "payment notification refused: its timestamp %s is more than %s from now (%s): a replay or a wrong clock",
			at.UTC().Format(time.RFC3339), MaxAge, now.UTC().Format(time.RFC3339))
	}
	return nil
}

// Expect checks a verified notification against what the merchant
// recorded for the reference: the same amount, in euros.
func Expect(n *Notification, reference string, amountCents int64) error {
	switch {
	case n.Reference != reference:
		return veedel.Errorf(veedel.EINVALID, "payment notification refused: reference %q is not the one expected (%q)", n.Reference, reference)
	case n.Currency != Currency:
		return veedel.Errorf(veedel.EINVALID, "payment notification refused: currency %q, expected %s", n.Currency, Currency)
	case n.AmountCents != amountCents:
		return veedel.Errorf(veedel.EINVALID, "payment notification refused: amount %s EUR, expected %s EUR for %s", euros(n.AmountCents), euros(amountCents), reference)
	}
	return nil
}

func euros(cents int64) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }

// Client is a Provider spoken to over HTTP: POST {BaseURL}/api/payments
// with the signed Request as JSON, answered with a Session.
type Client struct {
	BaseURL string
	Secret  []byte
	HTTP    *http.Client     // nil: a client with a 10 s timeout
	Now     func() time.Time // nil: time.Now
}

// Create creates a payment at the provider.
func (c *Client) Create(ctx context.Context, req Request) (Session, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	if req.Currency == "" {
		req.Currency = Currency
	}
	req.Timestamp = now().Unix()
	signRequest(c.Secret, &req)
	body, _ := json.Marshal(req)
	base := strings.TrimSuffix(c.BaseURL, "/")
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/payments", bytes.NewReader(body))
	if err != nil {
		return Session{}, err
	}
	hr.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(hr)
	if err != nil {
		return Session{}, veedel.Errorf(veedel.EUNAVAILABLE, "Bezahldienst nicht erreichbar / payment provider unreachable: %v", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return Session{}, veedel.Errorf(veedel.EUNAVAILABLE, "Bezahldienst lehnt ab / payment provider refused: %s: %s", resp.Status, bytes.TrimSpace(data))
	}
	var s Session
	if err := json.Unmarshal(data, &s); err != nil || s.RedirectURL == "" {
		return Session{}, veedel.Errorf(veedel.EUNAVAILABLE, "payment provider answered no redirect URL")
	}
	// A relative redirect is the provider's own path.
	u, err := url.Parse(s.RedirectURL)
	if err != nil {
		return Session{}, veedel.Errorf(veedel.EUNAVAILABLE, "payment provider answered a bad redirect URL")
	}
	if !u.IsAbs() {
		b, err := url.Parse(base + "/")
		if err != nil {
			return Session{}, err
		}
		s.RedirectURL = b.ResolveReference(u).String()
	}
	return s, nil
}
