package business

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/vehicle"
)

// Webhooks: on every status change of a company's application a delivery
// is queued (EnqueueChange, from central's status hook) in central's
// database with its idempotency key, the same key for every attempt:
// "vehicle:<id>:<status>:<time in ms>", so that central folding its logs
// again at start-up queues nothing twice. Sender posts the deliveries one
// company at a time in order, signed, and retries a failure with
// exponential backoff and jitter until the endpoint answers 2xx: at least
// once. A receiver deduplicates by the key.

// Headers of a delivery.
const (
	HeaderSignature = "X-Veedel-Signature" // "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body)
	HeaderTimestamp = "X-Veedel-Timestamp" // Unix seconds of this attempt
	HeaderKey       = "Idempotency-Key"    // the delivery's key, the same on every attempt
)

// Event is a delivery's JSON body.
type Event struct {
	Key         string           `json:"idempotency_key"`
	Type        string           `json:"type"` // "vehicle_application.status_changed"
	Application EventApplication `json:"application"`
	At          string           `json:"at"` // RFC 3339, the site's time of the change
}

// EventApplication is the application's state in an Event.
type EventApplication struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Plate  string `json:"plate,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Delivery is a queued or sent webhook call, as the delivery log shows it.
type Delivery struct {
	ID         int64
	Company    string
	Key        string
	Body       string
	Status     string // pending, delivered, failed
	Attempts   int
	NextAt     time.Time
	LastError  string
	LastStatus int // the endpoint's last HTTP status, 0 for none
	Created    time.Time
	Delivered  time.Time
}

// EnqueueChange queues the webhook delivery of a status change of a
// company's application, when the company has an endpoint. A change
// queued before (same key) is not queued again; it reports whether this
// call queued it.
func (s *Store) EnqueueChange(ctx context.Context, c vehicle.StatusChange, now time.Time) (bool, error) {
	if c.Company == "" {
		return false, nil
	}
	co, err := s.Company(ctx, c.Company)
	if err != nil || co.WebhookURL == "" {
		return false, err
	}
	key := fmt.Sprintf("vehicle:%s:%s:%d", c.ID, c.Status, c.At)
	body, err := json.Marshal(Event{Key: key, Type: "vehicle_application.status_changed",
		Application: EventApplication{ID: c.ID, Status: c.Status, Plate: c.Plate, Reason: c.Reason},
		At:          time.UnixMilli(c.At).UTC().Format(time.RFC3339Nano)})
	if err != nil {
		return false, err
	}
	n, err := s.exec(ctx, `INSERT INTO business_deliveries (company, key, body, next_at, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
		c.Company, key, string(body), ms(now), ms(now))
	return n == 1, err
}

const deliveryCols = `id, company, key, body, status, attempts, next_at, last_error, last_status, created_at, delivered_at`

func scanDelivery(sc interface{ Scan(...any) error }) (Delivery, error) {
	var d Delivery
	var next, created int64
	var delivered sql.NullInt64
	err := sc.Scan(&d.ID, &d.Company, &d.Key, &d.Body, &d.Status, &d.Attempts, &next, &d.LastError, &d.LastStatus, &created, &delivered)
	d.NextAt, d.Created, d.Delivered = time.UnixMilli(next), time.UnixMilli(created), fromMS(delivered)
	return d, err
}

// Deliveries lists a company's newest deliveries (at most limit).
func (s *Store) Deliveries(ctx context.Context, company string, limit int) ([]Delivery, error) {
	rows, err := s.DB.QueryContext(ctx, s.q(`SELECT `+deliveryCols+` FROM business_deliveries WHERE company = ? ORDER BY id DESC LIMIT ?`), company, limit)
	if err != nil {
		return nil, fmt.Errorf("business: deliveries: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// claim takes the next due delivery: the oldest pending one of a company
// whose earlier deliveries are all done (a company's changes arrive in
// order), marking the attempt and leasing it until leaseEnd.
func (s *Store) claim(ctx context.Context, now, leaseEnd time.Time) (Delivery, bool, error) {
	row := s.DB.QueryRowContext(ctx, s.q(`UPDATE business_deliveries SET attempts = attempts + 1, next_at = ?
		WHERE status = 'pending' AND id = (
			SELECT d.id FROM business_deliveries d
			WHERE d.status = 'pending' AND d.next_at <= ?
			  AND NOT EXISTS (SELECT 1 FROM business_deliveries e WHERE e.company = d.company AND e.status = 'pending' AND e.id < d.id)
			ORDER BY d.next_at, d.id LIMIT 1)
		RETURNING `+deliveryCols), ms(leaseEnd), ms(now))
	d, err := scanDelivery(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Delivery{}, false, nil
	}
	if err != nil {
		return Delivery{}, false, fmt.Errorf("business: claim delivery: %w", err)
	}
	return d, true, nil
}

// finish records an attempt's outcome: delivered, or pending again from
// next (failed when next is zero).
func (s *Store) finish(ctx context.Context, id int64, status int, errText string, next, now time.Time) error {
	switch {
	case errText == "":
		_, err := s.exec(ctx, `UPDATE business_deliveries SET status = 'delivered', last_status = ?, last_error = '', delivered_at = ? WHERE id = ?`, status, ms(now), id)
		return err
	case next.IsZero():
		_, err := s.exec(ctx, `UPDATE business_deliveries SET status = 'failed', last_status = ?, last_error = ? WHERE id = ?`, status, errText, id)
		return err
	}
	_, err := s.exec(ctx, `UPDATE business_deliveries SET next_at = ?, last_status = ?, last_error = ? WHERE id = ?`, ms(next), status, errText, id)
	return err
}

// Sign is the signature header's value of body at timestamp ts.
func Sign(secret []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10) + "."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a delivery as a receiver should: the signature over the
// timestamp and body in constant time, and the timestamp within window of
// now (against replays).
func Verify(secret []byte, signature, timestamp string, body []byte, now time.Time, window time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("timestamp missing or not a number")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > window || d < -window {
		return errors.New("timestamp outside the window")
	}
	if !hmac.Equal([]byte(Sign(secret, ts, body)), []byte(signature)) {
		return errors.New("signature does not match")
	}
	return nil
}

// Sender posts the queued deliveries. Run it once per cluster (under the
// database's lock, as the mail outbox).
type Sender struct {
	Store *Store
	Key   []byte // central's business key, which opens the webhook secrets
	// Client posts the deliveries (nil: Client(AllowPrivate), which
	// reaches public addresses only and follows no redirect).
	Client *http.Client
	// AllowPrivate lets deliveries reach loopback and private networks
	// and go over plain http:// (central's -webhook-allow-private: the
	// demo, tests). Off, such endpoints are refused at every attempt.
	AllowPrivate bool
	// Resolver resolves the endpoints' names (nil: the system's).
	Resolver *net.Resolver
	Now      func() time.Time
	Logger   *slog.Logger
	// Poll is how often Run looks for due deliveries (0: 2 s); Backoff
	// the first retry's pause (0: 10 s), doubling up to MaxBackoff (0:
	// 30 min), each with jitter; after GiveUp (0: 72 h) since it was
	// queued a delivery is failed.
	Poll, Backoff, MaxBackoff, GiveUp time.Duration
	kick                              chan struct{}
	clientOnce                        sync.Once
	client                            *http.Client
}

// Timeout bounds one attempt.
const Timeout = 10 * time.Second

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Kick wakes Run (a delivery was queued).
func (s *Sender) Kick() {
	select {
	case s.kicks() <- struct{}{}:
	default:
	}
}

func (s *Sender) kicks() chan struct{} {
	if s.kick == nil {
		s.kick = make(chan struct{}, 1)
	}
	return s.kick
}

// Run sends until ctx ends.
func (s *Sender) Run(ctx context.Context) {
	kick := s.kicks()
	for {
		for {
			sent, err := s.Step(ctx)
			if err != nil {
				s.logger().Error("webhook", "err", err)
				break
			}
			if !sent {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-kick:
		case <-time.After(orDefault(s.Poll, 2*time.Second)):
		}
	}
}

func (s *Sender) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Step makes one attempt at the next due delivery; false when none is due.
func (s *Sender) Step(ctx context.Context) (bool, error) {
	now := s.now()
	d, ok, err := s.Store.claim(ctx, now, now.Add(Timeout+10*time.Second))
	if err != nil || !ok {
		return false, err
	}
	status, errText := s.post(ctx, d, now)
	var next time.Time
	if errText != "" {
		if now.Sub(d.Created) < orDefault(s.GiveUp, 72*time.Hour) {
			next = now.Add(s.backoff(d.Attempts))
		}
		s.logger().Warn("webhook delivery failed", "company", d.Company, "delivery", d.ID, "attempt", d.Attempts, "status", status, "err", errText, "retry", !next.IsZero())
	}
	return true, s.Store.finish(ctx, d.ID, status, errText, next, s.now())
}

// backoff is the pause after the n-th failed attempt: Backoff doubled
// each time up to MaxBackoff, then a random part of it taken off (jitter:
// between half and all of it), so that receivers coming back are not hit
// by every sender at once.
func (s *Sender) backoff(n int) time.Duration {
	d, most := orDefault(s.Backoff, 10*time.Second), orDefault(s.MaxBackoff, 30*time.Minute)
	for i := 1; i < n && d < most; i++ {
		d *= 2
	}
	d = min(d, most)
	return d/2 + rand.N(d/2+1)
}

// post makes one attempt; errText "" is success.
func (s *Sender) post(ctx context.Context, d Delivery, now time.Time) (int, string) {
	co, err := s.Store.Company(ctx, d.Company)
	if err != nil {
		return 0, err.Error()
	}
	if co.WebhookURL == "" {
		return 0, "kein Endpunkt / no endpoint"
	}
	// Saved before the rules were, or under -webhook-allow-private:
	// checked again (the address itself by the dial).
	if err := CheckEndpoint(ctx, co.WebhookURL, s.AllowPrivate, nil); err != nil {
		return 0, veedel.ErrorFields(err)["webhook_url"]
	}
	sealed, err := s.Store.WebhookSecret(ctx, d.Company)
	if err != nil || sealed == nil {
		return 0, "kein Geheimnis / no secret"
	}
	secret, err := Open(s.Key, webhookAAD(d.Company), sealed)
	if err != nil {
		return 0, "Geheimnis unlesbar / secret unreadable"
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, co.WebhookURL, strings.NewReader(d.Body))
	if err != nil {
		return 0, err.Error()
	}
	ts := now.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "veedel-webhook/1")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(secret, ts, []byte(d.Body)))
	req.Header.Set(HeaderKey, d.Key)
	s.clientOnce.Do(func() {
		if s.client = s.Client; s.client == nil {
			s.client = Client(s.AllowPrivate, s.Resolver)
		}
	})
	resp, err := s.client.Do(req)
	if err != nil {
		if _, after, ok := strings.Cut(err.Error(), errPrivateAddr.Error()+": "); ok && errors.Is(err, errPrivateAddr) {
			return 0, "Adresse nicht öffentlich erreichbar / address not on the public internet: " + after
		}
		return 0, cutURL(err.Error(), co.WebhookURL)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 == 3 {
		// Not followed: a redirect could lead anywhere, and the
		// endpoint is what the company admin saved.
		return resp.StatusCode, "HTTP " + strconv.Itoa(resp.StatusCode) + ": Weiterleitung nicht gefolgt, bitte die Adresse ändern / redirect not followed, please change the address"
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, "HTTP " + strconv.Itoa(resp.StatusCode)
	}
	return resp.StatusCode, ""
}

// cutURL keeps the endpoint's address (it may hold a token) out of the log.
func cutURL(s, url string) string {
	return strings.ReplaceAll(s, url, "<endpoint>")
}

// webhookAAD binds a sealed webhook secret to its company.
func webhookAAD(company string) string { return "business.webhook\n" + company }

// TOTPAAD binds a sealed TOTP secret to its user.
func TOTPAAD(company, name string) string { return "business.totp\n" + company + "\n" + name }

// NewWebhookSecret makes a company's webhook secret and returns it in
// clear (shown once) and sealed (for SetWebhook).
func NewWebhookSecret(key []byte, company string) (string, []byte, error) {
	token, _ := newToken()
	secret := "whsec_" + token
	sealed, err := Seal(key, webhookAAD(company), []byte(secret))
	return secret, sealed, err
}

// CatchUp queues the current state of every application of every company
// with an endpoint, as EnqueueChange would have: the status hook runs only
// while central folds new entries, so a change folded just before a crash
// (its entry committed, its delivery not) is queued here at the next start.
// Changes queued before are not queued again (same key). It returns how
// many it queued.
func (s *Store) CatchUp(ctx context.Context, current func(id string) (vehicle.StatusChange, bool), now time.Time) (int, error) {
	companies, err := s.Companies(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, co := range companies {
		if co.WebhookURL == "" {
			continue
		}
		apps, err := s.Applications(ctx, co.ID, 1<<30)
		if err != nil {
			return n, err
		}
		for _, a := range apps {
			c, ok := current(a.AppID)
			if !ok {
				continue
			}
			c.Company = co.ID
			queued, err := s.EnqueueChange(ctx, c, now)
			if err != nil {
				return n, err
			}
			if queued {
				n++
			}
		}
	}
	return n, nil
}
