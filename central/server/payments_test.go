package server_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/veedel/veedel/appliance/registration"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/server"
	"github.com/veedel/veedel/central/sqlite"
	"github.com/veedel/veedel/internal/payment"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/sitekey"
	"github.com/veedel/veedel/ui"
)

var paySecret = []byte("the city's and the provider's shared secret")

// paymentEnv is an env whose central offers online payment through the
// demo provider, mounted at /sim/pay/ on the same server and spoken to
// over HTTP, and whose site takes orders.
type paymentEnv struct {
	*env
	dbPath string
}

func newPaymentEnv(t *testing.T) *paymentEnv {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "central.db")
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clk := &clock{t: start}
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := central.New(ctx, store, clk.Now, logger)
	if err != nil {
		t.Fatal(err)
	}
	renderer, err := ui.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	client := &payment.Client{Secret: paySecret, Now: clk.Now}
	s := &server.Server{Central: c, Renderer: renderer, Logger: logger, Now: clk.Now,
		Payments: &server.Payments{Provider: client, Secret: paySecret}}
	mux := http.NewServeMux()
	mux.Handle("/sim/pay/", http.StripPrefix("/sim/pay", &payment.Demo{Secret: paySecret, Now: clk.Now}))
	mux.Handle("/", s.Handler())
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	client.BaseURL = ts.URL + "/sim/pay"
	e := &env{t: t, URL: ts.URL, Clock: clk, Central: c, Store: store, Logs: logs}
	e.enroll(siteID, siteKey(siteID))
	l := opening(t, e.Clock)
	e.mustPost(l.batch(1, uint64(len(l.entries))))
	box, err := sitekey.BoxKey(siteKey(siteID))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Central.RecordBoxKey(ctx, siteID, box.PublicKey().Bytes()); err != nil {
		t.Fatal(err)
	}
	return &paymentEnv{env: e, dbPath: path}
}

const onlineOrderBody = `{"kind":"meldebescheinigung","site":"` + siteID + `","delivery":"post","copies":2,"payment":"online",
 "person":{"family_name":"Kowalczyk-Öztürk","given_names":"Zofia","birth_date":"1990-02-28","birth_place":"Gdańsk"},
 "address":{"street":"Kalker Hauptstraße 1","postcode":"51103","city":"Köln"},
 "contact":{"email":"zofia@example.de"},"consent":true}`

// placeOnline places an order paid online through the API.
func (e *paymentEnv) placeOnline() (code, token, payURL string) {
	e.t.Helper()
	status, out := e.postJSON("/api/v1/orders", onlineOrderBody)
	if status != http.StatusCreated || out["status"] != registration.StatusAwaitingPayment || out["fee_cents"] != 2000.0 {
		e.t.Fatalf("order paid online: %d %v", status, out)
	}
	payURL, _ = out["payment_url"].(string)
	if !strings.HasPrefix(payURL, e.URL+"/sim/pay/p/") {
		e.t.Fatalf("payment_url %q is not the provider's page", payURL)
	}
	return out["code"].(string), out["token"].(string), payURL
}

// notify POSTs a notification as the provider would (no Origin header).
func (e *paymentEnv) notify(body []byte) (int, map[string]any) {
	e.t.Helper()
	resp, err := http.Post(e.URL+"/api/v1/payments/notify", "application/json", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		e.t.Fatalf("notify: %v in %q", err, data)
	}
	return resp.StatusCode, out
}

func (e *paymentEnv) signed(n payment.Notification) []byte {
	payment.Sign(paySecret, &n)
	b, _ := json.Marshal(n)
	return b
}

// row reads the payment's stored status and whether its sealed details
// are still kept, from the SQLite file itself.
func (e *paymentEnv) row(code string) (status string, sealed bool) {
	e.t.Helper()
	db, err := sql.Open("sqlite", "file:"+e.dbPath+"?mode=ro")
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT status, sealed IS NOT NULL FROM payments WHERE reference = ?`, code).Scan(&status, &sealed); err != nil {
		e.t.Fatalf("payment row %s: %v", code, err)
	}
	return status, sealed
}

// page GETs an absolute URL, following redirects, and returns the body.
func (e *paymentEnv) page(u string) string {
	e.t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func (e *paymentEnv) orderStatus(token string) string {
	e.t.Helper()
	var st server.OrderStatus
	if got := e.getJSON("/api/v1/orders/"+token, &st); got != http.StatusOK {
		e.t.Fatalf("status: %d", got)
	}
	return st.Status
}

// ordersSent counts the order_placed entries of code in the site's
// outbound log.
func (e *paymentEnv) ordersSent(code string) []registration.OrderPlaced {
	e.t.Helper()
	var out []registration.OrderPlaced
	for _, en := range e.outboundLog(siteID) {
		if en.Type != registration.TypeOrderPlaced || en.Entity != "order/"+code {
			continue
		}
		var p registration.OrderPlaced
		if err := cbor.Unmarshal(en.Payload, &p); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// TestPaymentNotificationRefused: every tampered, wrong, stale or
// replayed notification gets a 4xx that says why, and stores nothing and
// sends nothing down; the good one sends the order down once, and its
// repeat is answered the same without a second entry.
func TestPaymentNotificationRefused(t *testing.T) {
	e := newPaymentEnv(t)
	before := len(e.outboundLog(siteID))
	code, token, _ := e.placeOnline()
	if got := len(e.outboundLog(siteID)); got != before {
		t.Fatalf("an unpaid order went down: %d entries", got-before)
	}
	if st, sealed := e.row(code); st != registration.PaymentAwaiting || !sealed {
		t.Fatalf("held payment: %s sealed %v", st, sealed)
	}
	now := e.Clock.Now()
	good := payment.Notification{Reference: code, AmountCents: 2000, Currency: "EUR", Status: payment.StatusPaid,
		TransactionID: "T-1", Timestamp: now.Unix()}
	captured := e.signed(good)

	tampered := func(edit func(m map[string]any)) []byte {
		var m map[string]any
		json.Unmarshal(captured, &m)
		edit(m)
		b, _ := json.Marshal(m)
		return b
	}
	flipped := tampered(func(m map[string]any) {
		sig := []byte(m["signature"].(string))
		sig[7] ^= 0x01 // '0'<->'1', 'a'<->'`'…: one byte differs
		if sig[7] == '`' {
			sig[7] = 'b'
		}
		m["signature"] = string(sig)
	})
	for _, c := range []struct {
		name   string
		body   []byte
		status int
		says   string
	}{
		{"FlippedSignatureByte", flipped, http.StatusUnauthorized, "signature"},
		{"AmountTamperedInTransit", tampered(func(m map[string]any) { m["amount"] = 1 }), http.StatusUnauthorized, "signature"},
		{"WrongAmountSigned", e.signed(payment.Notification{Reference: code, AmountCents: 1000, Currency: "EUR", Status: "paid", TransactionID: "T-2", Timestamp: now.Unix()}), http.StatusBadRequest, "amount 10.00 EUR, expected 20.00 EUR"},
		{"WrongCurrencySigned", e.signed(payment.Notification{Reference: code, AmountCents: 2000, Currency: "USD", Status: "paid", TransactionID: "T-2", Timestamp: now.Unix()}), http.StatusBadRequest, "currency"},
		{"WrongReferenceSigned", e.signed(payment.Notification{Reference: "UNOSUCHORD", AmountCents: 2000, Currency: "EUR", Status: "paid", TransactionID: "T-2", Timestamp: now.Unix()}), http.StatusNotFound, "no order awaits"},
		{"StaleTimestamp", e.signed(payment.Notification{Reference: code, AmountCents: 2000, Currency: "EUR", Status: "paid", TransactionID: "T-2", Timestamp: now.Add(-10 * time.Minute).Unix()}), http.StatusUnauthorized, "timestamp"},
		{"NotJSON", []byte(`reference=` + code + `&status=paid`), http.StatusBadRequest, ""},
		{"FieldMissing", tampered(func(m map[string]any) { delete(m, "transaction_id") }), http.StatusBadRequest, "transaction_id"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, out := e.notify(c.body)
			msg, _ := out["error"].(string)
			if fields, ok := out["fields"].(map[string]any); ok {
				for k, v := range fields {
					msg += " " + k + ": " + v.(string)
				}
			}
			if status != c.status || msg == "" || !strings.Contains(msg, c.says) {
				t.Fatalf("got %d %q, want %d saying %q", status, msg, c.status, c.says)
			}
			if got := len(e.outboundLog(siteID)); got != before {
				t.Fatalf("refused notification sent %d entries down", got-before)
			}
			if st, sealed := e.row(code); st != registration.PaymentAwaiting || !sealed {
				t.Fatalf("refused notification changed the payment: %s sealed %v", st, sealed)
			}
			if st := e.orderStatus(token); st != registration.StatusAwaitingPayment {
				t.Fatalf("status after a refused notification: %s", st)
			}
		})
	}

	// The refusals are counted for the admins, by status, not logged one
	// by one.
	rejs, err := e.Central.Rejections(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	counted := 0
	for _, r := range rejs {
		if r.Kind == "POST /api/v1/payments/notify" {
			counted += r.Count
		}
	}
	if counted != 8 {
		t.Errorf("%d refused notifications counted, want 8: %+v", counted, rejs)
	}

	// The good notification: the order goes down once, paid, its details
	// sealed to the site; central keeps no sealed copy.
	if status, out := e.notify(captured); status != http.StatusOK || out["status"] != registration.PaymentPaid {
		t.Fatalf("good notification: %d %v", status, out)
	}
	// The provider's retries (the same transaction, signed anew) get the
	// same answer and add nothing.
	e.Clock.Add(time.Minute)
	good.Timestamp = e.Clock.Now().Unix()
	for range 3 {
		if status, out := e.notify(e.signed(good)); status != http.StatusOK || out["status"] != registration.PaymentPaid {
			t.Fatalf("repeat: %d %v", status, out)
		}
	}
	sent := e.ordersSent(code)
	if len(sent) != 1 || sent[0].Payment != registration.PaymentOnline || sent[0].PaidTxn != "T-1" || len(sent[0].Sealed) == 0 {
		t.Fatalf("sent down: %+v", sent)
	}
	box, _ := sitekey.BoxKey(siteKey(siteID))
	if _, err := changelog.Open(box, "registration.order\n"+siteID+"\n"+code, sent[0].Sealed); err != nil {
		t.Fatalf("the site cannot open the paid order: %v", err)
	}
	if st, sealed := e.row(code); st != registration.PaymentPaid || sealed {
		t.Fatalf("after paid: %s sealed %v", st, sealed)
	}
	if st := e.orderStatus(token); st != registration.StatusReceived {
		t.Fatalf("status after paid: %s", st)
	}

	// A replay of the captured notification after its freshness window,
	// a contradicting outcome of the same transaction, and a second
	// payment: refused, nothing more goes down.
	e.Clock.Add(10 * time.Minute)
	for _, c := range []struct {
		body   []byte
		status int
	}{
		{captured, http.StatusUnauthorized},
		{e.signed(payment.Notification{Reference: code, AmountCents: 2000, Currency: "EUR", Status: "cancelled", TransactionID: "T-1", Timestamp: e.Clock.Now().Unix()}), http.StatusConflict},
		{e.signed(payment.Notification{Reference: code, AmountCents: 2000, Currency: "EUR", Status: "paid", TransactionID: "T-9", Timestamp: e.Clock.Now().Unix()}), http.StatusConflict},
	} {
		if status, out := e.notify(c.body); status != c.status || out["error"] == "" {
			t.Errorf("after paid: %d %v, want %d", status, out, c.status)
		}
	}
	if n := len(e.ordersSent(code)); n != 1 {
		t.Fatalf("the order went down %d times", n)
	}
	// The notification is no browser request: it carries no Origin; one
	// posted cross-site from a browser is refused by the router.
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/api/v1/payments/notify", bytes.NewReader(captured))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site browser post: %v %v", resp.StatusCode, err)
	}
}

// TestPaymentDemoFlow: the citizen orders on the form, is sent to the
// demo provider, presses "Bezahlen" and comes back to the status page;
// the provider told central over HTTP, and the order is in the site's
// outbound log once. Pressing "Abbrechen" on another order ends it in
// payment_failed, with nothing sent and the details deleted.
func TestPaymentDemoFlow(t *testing.T) {
	e := newPaymentEnv(t)
	form := with(goodOrderForm(), "delivery", registration.DeliveryPost, "address.street", "Kalker Hauptstraße 1",
		"address.postcode", "51103", "address.city", "Köln")
	resp, body := e.postForm("/bestellen", form)
	to := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(to, e.URL+"/sim/pay/p/") {
		t.Fatalf("form: %s to %q: %s", resp.Status, to, body)
	}
	page := e.page(to)
	for _, s := range []string{"Demo-Bezahldienst", "20,00 €", "Bezahlen", "Abbrechen"} {
		if !strings.Contains(page, s) {
			t.Fatalf("provider page lacks %q", s)
		}
	}
	// Bezahlen: the provider notifies central, then sends the browser back.
	resp, _ = e.postForm(strings.TrimPrefix(to, e.URL), url.Values{"action": {"pay"}})
	back := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(back, e.URL+"/o/") {
		t.Fatalf("after Bezahlen: %s to %q", resp.Status, back)
	}
	token := strings.TrimPrefix(back, e.URL+"/o/")
	o, ok := e.Central.Workflow(registration.Prefix).(*registration.Central).ByToken(token)
	if !ok || o.Status != registration.StatusReceived || o.Payment != registration.PaymentOnline {
		t.Fatalf("after paying: %+v %v", o, ok)
	}
	// Pressing again (a reload of the provider's answer) sends the same
	// transaction: still one entry.
	e.postForm(strings.TrimPrefix(to, e.URL), url.Values{"action": {"pay"}})
	if sent := e.ordersSent(o.Code); len(sent) != 1 || sent[0].PaidTxn == "" {
		t.Fatalf("sent down: %d", len(sent))
	}
	if page := e.page(back); !strings.Contains(page, "Bezahlt") || strings.Contains(page, "Erneut bezahlen") {
		t.Fatalf("status page after paying:\n%s", page)
	}

	// Abbrechen on a second order.
	resp, _ = e.postForm("/bestellen", with(form, "submission", "BBBBBBBBBBBBBBBBBBBBBB"))
	to2 := resp.Header.Get("Location")
	resp, _ = e.postForm(strings.TrimPrefix(to2, e.URL), url.Values{"action": {"cancel"}})
	token2 := strings.TrimPrefix(resp.Header.Get("Location"), e.URL+"/o/")
	o2, _ := e.Central.Workflow(registration.Prefix).(*registration.Central).ByToken(token2)
	if o2.Status != registration.StatusPaymentFailed || len(e.ordersSent(o2.Code)) != 0 {
		t.Fatalf("cancelled: %+v, %d sent", o2, len(e.ordersSent(o2.Code)))
	}
	if st, sealed := e.row(o2.Code); st != registration.PaymentCancelled || sealed {
		t.Fatalf("cancelled row: %s sealed %v", st, sealed)
	}
	if page := e.page(e.URL + "/o/" + token2); !strings.Contains(page, "Bezahlung fehlgeschlagen") {
		t.Fatalf("status page after cancelling:\n%s", page)
	}

	// Pickup: the citizen chooses to pay at the counter or online.
	if page := e.page(e.URL + "/bestellen"); !strings.Contains(page, `id="f-payment-online"`) || !strings.Contains(page, `id="f-payment-at_pickup" value="at_pickup" checked`) {
		t.Fatal("the form offers no choice of payment")
	}
	resp, _ = e.postForm("/bestellen", with(goodOrderForm(), "submission", "CCCCCCCCCCCCCCCCCCCCCC", "payment", "online"))
	if to := resp.Header.Get("Location"); !strings.HasPrefix(to, e.URL+"/sim/pay/p/") {
		t.Fatalf("pickup paid online goes to %q", to)
	}
	resp, _ = e.postForm("/bestellen", with(goodOrderForm(), "submission", "DDDDDDDDDDDDDDDDDDDDDD", "payment", "at_pickup"))
	if to := resp.Header.Get("Location"); !strings.HasSuffix(to, "/bestaetigung") {
		t.Fatalf("pickup paid at the counter goes to %q", to)
	}
}

// TestPaymentExpiry: an order not paid within the window ends in
// payment_failed with its details deleted, a late notification is
// refused, and the statuses survive central's restart.
func TestPaymentExpiry(t *testing.T) {
	e := newPaymentEnv(t)
	code, token, _ := e.placeOnline()
	if page := e.page(e.URL + "/o/" + token); !strings.Contains(page, "Bezahlung ausstehend") || !strings.Contains(page, `href="/o/`+token+`/bezahlen"`) {
		t.Fatalf("status page awaiting payment:\n%s", page)
	}
	// "Erneut bezahlen" opens a new attempt at the provider.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(e.URL + "/o/" + token + "/bezahlen")
	if err != nil || resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), e.URL+"/sim/pay/p/") {
		t.Fatalf("pay again: %v %v", resp, err)
	}
	resp.Body.Close()
	code2, token2, _ := e.placeOnline()

	e.Clock.Add(registration.PaymentWindow - time.Minute)
	if n, err := e.Central.ExpirePayments(context.Background()); err != nil || n != 0 {
		t.Fatalf("expired within the window: %d %v", n, err)
	}
	e.Clock.Add(2 * time.Minute)
	// A payment that comes after the window, before the sweep: refused.
	late := e.signed(payment.Notification{Reference: code, AmountCents: 2000, Currency: "EUR", Status: "paid", TransactionID: "T-late", Timestamp: e.Clock.Now().Unix()})
	if status, out := e.notify(late); status != http.StatusConflict || !strings.Contains(out["error"].(string), "expired") {
		t.Fatalf("late payment: %d %v", status, out)
	}
	if n, err := e.Central.ExpirePayments(context.Background()); err != nil || n != 2 {
		t.Fatalf("expired: %d %v", n, err)
	}
	if status, _ := e.notify(late); status != http.StatusConflict {
		t.Fatalf("late payment after the sweep: %d", status)
	}
	for _, c := range []string{code, code2} {
		if st, sealed := e.row(c); st != registration.PaymentExpired || sealed || len(e.ordersSent(c)) != 0 {
			t.Fatalf("%s after expiry: %s sealed %v", c, st, sealed)
		}
	}
	if st := e.orderStatus(token); st != registration.StatusPaymentFailed {
		t.Fatalf("status after expiry: %s", st)
	}
	// Restart: the read model comes back from the payments table.
	c2, err := central.New(context.Background(), e.Store, e.Clock.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{token, token2} {
		if o, ok := c2.Workflow(registration.Prefix).(*registration.Central).ByToken(tok); !ok || o.Status != registration.StatusPaymentFailed {
			t.Fatalf("after restart: %+v %v", o, ok)
		}
	}
}

// TestPaymentNotificationConcurrentRepeats: the provider's retries racing
// each other (20 at once, the same transaction) are all answered 200 and
// the order goes down once.
func TestPaymentNotificationConcurrentRepeats(t *testing.T) {
	e := newPaymentEnv(t)
	code, _, _ := e.placeOnline()
	body := e.signed(payment.Notification{Reference: code, AmountCents: 2000, Currency: "EUR", Status: payment.StatusPaid,
		TransactionID: "T-race", Timestamp: e.Clock.Now().Unix()})
	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Go(func() {
			resp, err := http.Post(e.URL+"/api/v1/payments/notify", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("notification %d: %d", i, s)
		}
	}
	if n := len(e.ordersSent(code)); n != 1 {
		t.Fatalf("the order went down %d times", n)
	}
}

// TestPaymentNotificationFullDisk: a paid notification that central
// cannot commit (a full disk) gets a 5xx, so the provider tries again;
// nothing of it is stored or sent, the order still awaits its payment,
// and the retry sends it down once.
func TestPaymentNotificationFullDisk(t *testing.T) {
	e := newPaymentEnv(t)
	code, token, _ := e.placeOnline()
	body := e.signed(payment.Notification{Reference: code, AmountCents: 2000, Currency: "EUR", Status: payment.StatusPaid,
		TransactionID: "T-disk", Timestamp: e.Clock.Now().Unix()})
	e.Store.SetFault(func(context.Context, string) error { return fmt.Errorf("database or disk is full: %w", syscall.ENOSPC) })
	resp, err := http.Post(e.URL+"/api/v1/payments/notify", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 500 {
		t.Fatalf("notification on a full disk: %d, want 5xx so that the provider retries", resp.StatusCode)
	}
	if st, sealed := e.row(code); st != registration.PaymentAwaiting || !sealed || len(e.ordersSent(code)) != 0 || e.orderStatus(token) != registration.StatusAwaitingPayment {
		t.Fatalf("after the failed commit: %s sealed %v, %d sent, status %s", st, sealed, len(e.ordersSent(code)), e.orderStatus(token))
	}
	e.Store.SetFault(nil)
	if status, out := e.notify(body); status != http.StatusOK || out["status"] != registration.PaymentPaid {
		t.Fatalf("retry: %d %v", status, out)
	}
	if n := len(e.ordersSent(code)); n != 1 || e.orderStatus(token) != registration.StatusReceived {
		t.Fatalf("after the retry: %d sent, status %s", n, e.orderStatus(token))
	}
}
