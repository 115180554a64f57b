package server_test

import (
	"context"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/central/business"
	"github.com/veedel/veedel/central/server"
	"github.com/veedel/veedel/internal/login"
	"github.com/veedel/veedel/internal/ratelimit"
)

// bizEnv is central with the business portal on a server of its own
// (the sites sync to env's), a company "rheinflotte" and its API key.
type bizEnv struct {
	*env
	l      *siteLog
	BizURL string
	Biz    *business.Store
	Key    string
}

func newBizEnv(t *testing.T, limit ratelimit.Limit) *bizEnv {
	e, l := vehicleSite(t)
	st := &business.Store{DB: e.Store.Writer()}
	s := &server.Server{Central: e.Central, Logger: slog.New(slog.NewTextHandler(e.Logs, nil)), Now: e.Clock.Now, Business: st, BusinessLimit: limit,
		WebhookAllowPrivate: true}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	ctx := context.Background()
	if err := st.CreateCompany(ctx, "rheinflotte", "Rheinflotte GmbH", e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	_, key, err := st.CreateAPIKey(ctx, "rheinflotte", "ERP", e.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return &bizEnv{env: e, l: l, BizURL: ts.URL, Biz: st, Key: key}
}

var manyLimit = ratelimit.Limit{Burst: 1000, Every: time.Millisecond}

// upload posts a bulk upload and decodes the answer.
func (b *bizEnv) upload(t testing.TB, key, contentType, body string) (int, business.Results, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.BizURL+"/api/v1/business/vehicle-applications", strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var res business.Results
	if resp.StatusCode == http.StatusMultiStatus {
		if err := json.Unmarshal(data, &res); err != nil {
			t.Fatalf("%v in %s", err, data)
		}
	}
	return resp.StatusCode, res, string(data) + " Retry-After=" + resp.Header.Get("Retry-After")
}

// bulkRows is n JSON rows with keys order-1…, the rows in bad with a
// wrong IBAN check digit.
func bulkRows(n int, bad ...int) string {
	rows := make([]string, n)
	for i := range rows {
		iban := "DE89370400440532013000"
		for _, b := range bad {
			if b == i+1 {
				iban = "DE89370400440532013001"
			}
		}
		body := transferBody(iban, `{"mode":"random"}`)
		rows[i] = `{"row_key":"order-` + fmt.Sprint(i+1) + `",` + body[1:]
	}
	return "[" + strings.Join(rows, ",") + "]"
}

// TestBusinessBulkUpload: 500 rows in one request, each with its own
// result (a wrong IBAN named by its JSON path); the same upload again
// submits nothing (row keys); 501 rows are refused whole; no key, a
// revoked key: 401.
func TestBusinessBulkUpload(t *testing.T) {
	b := newBizEnv(t, manyLimit)
	status, res, raw := b.upload(t, b.Key, "application/json", bulkRows(500, 3, 250))
	if status != http.StatusMultiStatus || len(res.Rows) != 500 || res.Submitted != 498 || res.Failed != 2 {
		t.Fatalf("status %d, %d rows, %d submitted, %d failed: %.300s", status, len(res.Rows), res.Submitted, res.Failed, raw)
	}
	for i, r := range res.Rows {
		if r.Row != i+1 || r.Key != fmt.Sprint("order-", i+1) {
			t.Fatalf("row %d: %+v", i+1, r)
		}
		if i+1 == 3 || i+1 == 250 {
			if r.Status != http.StatusUnprocessableEntity || r.Fields["sepa.iban"] == "" || r.ID != "" {
				t.Errorf("bad row %d: %+v", i+1, r)
			}
			continue
		}
		if r.Status != http.StatusCreated || r.ID == "" || r.Token == "" || r.StatusURL != "/api/v1/business/vehicle-applications/"+r.ID {
			t.Errorf("row %d: %+v", i+1, r)
		}
	}
	sent := b.submittedEvents(siteID)
	if len(sent) != 498 || sent[0].Company != "rheinflotte" {
		t.Fatalf("%d sent down", len(sent))
	}

	// The client retries the whole upload (say its connection dropped).
	status, again, _ := b.upload(t, b.Key, "application/json", bulkRows(500, 3, 250))
	if status != http.StatusMultiStatus || again.Submitted != 0 || again.Replayed != 498 || again.Failed != 2 {
		t.Fatalf("again: %d, %+v", status, again.Rows[:2])
	}
	if again.Rows[0].ID != res.Rows[0].ID || !again.Rows[0].Replayed || again.Rows[0].Token != "" {
		t.Errorf("replayed row %+v, first %+v", again.Rows[0], res.Rows[0])
	}
	if n := len(b.submittedEvents(siteID)); n != 498 {
		t.Errorf("%d sent down after the retry, want 498", n)
	}
	// The corrected row 3 goes in under its key.
	status, fixed, _ := b.upload(t, b.Key, "application/json", "["+strings.TrimSuffix(strings.TrimPrefix(bulkRows(3), "["), "]")+"]")
	if status != http.StatusMultiStatus || fixed.Rows[2].Status != http.StatusCreated || fixed.Replayed != 2 {
		t.Errorf("corrected: %+v", fixed)
	}

	if status, _, raw := b.upload(t, b.Key, "application/json", bulkRows(501)); status != http.StatusRequestEntityTooLarge || !strings.Contains(raw, "500") {
		t.Errorf("501 rows: %d %s", status, raw)
	}
	if status, _, _ := b.upload(t, "", "application/json", bulkRows(1)); status != http.StatusUnauthorized {
		t.Errorf("no key: %d", status)
	}
	if err := b.Biz.RevokeAPIKey(context.Background(), "rheinflotte", b.Key[len(business.APIKeyPrefix):][:8], b.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := b.upload(t, b.Key, "application/json", bulkRows(1)); status != http.StatusUnauthorized {
		t.Errorf("revoked key: %d", status)
	}
}

// TestBusinessCSV: the CSV columns are the JSON paths; a bad FIN is named
// as vehicle.fin in its row's result; the list shows the company's own.
func TestBusinessCSV(t *testing.T) {
	b := newBizEnv(t, manyLimit)
	csv := "row_key;process;owner.kind;owner.family_name;owner.given_names;owner.birth_date;owner.street;owner.postcode;owner.city;vehicle.fin;vehicle.zb1_number;vehicle.zb1_code;vehicle.zb2_number;vehicle.zb2_code;vehicle.current_plate;evb;sepa.iban;sepa.holder;plate.mode\n" +
		"A-1;umschreibung;person;Schmitz;Anna;1984-03-17;Venloer Str. 12;50672;Köln;WVWZZZ1JZXW000001;AB1234567C;K7QM4XP;AF7654321;K7QM4XPA2B3C;K-AB 123;A1B2C3D;DE89370400440532013000;Anna Schmitz;random\n" +
		"A-2;umschreibung;person;Schmitz;Anna;1984-03-17;Venloer Str. 12;50672;Köln;WVWZZZ1JZXW00000I;AB1234567C;K7QM4XP;AF7654321;K7QM4XPA2B3C;K-AB 123;A1B2C3D;DE89370400440532013000;Anna Schmitz;random\n"
	status, res, raw := b.upload(t, b.Key, "text/csv; charset=utf-8", csv)
	if status != http.StatusMultiStatus || len(res.Rows) != 2 || res.Rows[0].Status != http.StatusCreated || res.Rows[1].Fields["vehicle.fin"] == "" {
		t.Fatalf("%d %s", status, raw)
	}
	if status, _, raw := b.upload(t, b.Key, "text/csv", "row_key;colour\nx;red\n"); status != http.StatusBadRequest || !strings.Contains(raw, "colour") {
		t.Errorf("unknown column: %d %s", status, raw)
	}
	req, _ := http.NewRequest(http.MethodGet, b.BizURL+"/api/v1/business/vehicle-applications/"+res.Rows[0].ID, nil)
	req.Header.Set("Authorization", "Bearer "+b.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var v vehicle.StatusView
	json.NewDecoder(resp.Body).Decode(&v)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || v.Status != vehicle.StatusSubmitted || v.ID != res.Rows[0].ID {
		t.Errorf("status %d %+v", resp.StatusCode, v)
	}
}

// TestBusinessRateLimit: a company's requests beyond its limit get 429
// with Retry-After; another company is not slowed.
func TestBusinessRateLimit(t *testing.T) {
	b := newBizEnv(t, ratelimit.Limit{Burst: 2, Every: time.Minute})
	for i := range 2 {
		if status, _, raw := b.upload(t, b.Key, "application/json", "[]"); status != http.StatusBadRequest {
			t.Fatalf("request %d: %d %s", i, status, raw)
		}
	}
	status, _, raw := b.upload(t, b.Key, "application/json", "[]")
	if status != http.StatusTooManyRequests || !strings.Contains(raw, "Retry-After=60") {
		t.Errorf("third: %d %s", status, raw)
	}
	ctx := context.Background()
	b.Biz.CreateCompany(ctx, "autohaus", "Autohaus am Ring", b.Clock.Now())
	_, other, _ := b.Biz.CreateAPIKey(ctx, "autohaus", "ERP", b.Clock.Now())
	if status, _, _ := b.upload(t, other, "application/json", "[]"); status != http.StatusBadRequest {
		t.Errorf("other company: %d", status)
	}
}

// receiver is a company's webhook endpoint: it records every attempt and
// answers 503 while down.
type receiver struct {
	mu       sync.Mutex
	down     bool
	failOnce map[string]bool // keys answered 500 once after being recorded
	attempts []attempt
}

type attempt struct {
	key, sig, ts string
	body         []byte
	ok           bool
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	a := attempt{key: r.Header.Get(business.HeaderKey), sig: r.Header.Get(business.HeaderSignature), ts: r.Header.Get(business.HeaderTimestamp), body: body}
	switch {
	case rc.down:
		w.WriteHeader(http.StatusServiceUnavailable)
	case rc.failOnce[a.key]:
		delete(rc.failOnce, a.key) // processed, but the answer is lost
		w.WriteHeader(http.StatusInternalServerError)
	default:
		a.ok = true
		w.WriteHeader(http.StatusNoContent)
	}
	rc.attempts = append(rc.attempts, a)
}

// TestBusinessWebhookReceiverDown: the receiver is down while the site
// decides; once it is back every state change arrives, in order, signed;
// a change whose answer was lost arrives again with the same key.
func TestBusinessWebhookReceiverDown(t *testing.T) {
	b := newBizEnv(t, manyLimit)
	ctx := context.Background()
	rc := &receiver{down: true, failOnce: map[string]bool{}}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	key, err := b.Central.BusinessKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	secret, sealed, err := business.NewWebhookSecret(key, "rheinflotte")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Biz.SetWebhook(ctx, "rheinflotte", hook.URL, sealed); err != nil {
		t.Fatal(err)
	}
	// The receiver is on loopback: allowed as central's
	// -webhook-allow-private allows it.
	sender := &business.Sender{Store: b.Biz, Key: key, Now: b.Clock.Now, Backoff: time.Second, MaxBackoff: time.Minute,
		AllowPrivate: true, Logger: slog.New(slog.NewTextHandler(b.Logs, nil))}
	drain := func() {
		for {
			sent, err := sender.Step(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !sent {
				return
			}
		}
	}

	_, res, raw := b.upload(t, b.Key, "application/json", bulkRows(2))
	if res.Submitted != 2 {
		t.Fatal(raw)
	}
	sent := b.submittedEvents(siteID)
	n := len(b.l.entries)
	for _, s := range sent {
		b.l.add(vehicle.TypeReceived, vehicle.Entity(s.ID), &vehicle.ApplicationReceived{ApplicationSubmitted: s})
	}
	b.l.add(vehicle.TypeRejected, vehicle.Entity(sent[0].ID), &vehicle.ApplicationRejected{ID: sent[0].ID, Staff: "demo", Reason: "Steuerrückstand"})
	b.mustPost(b.l.batch(uint64(n+1), uint64(len(b.l.entries))))
	want := []string{sent[0].ID + ":submitted", sent[1].ID + ":submitted", sent[0].ID + ":at_site", sent[1].ID + ":at_site", sent[0].ID + ":rejected"}

	// Down for half an hour: attempts fail and back off.
	for range 30 {
		drain()
		b.Clock.Add(time.Minute)
	}
	ds, _ := b.Biz.Deliveries(ctx, "rheinflotte", 100)
	if len(ds) != len(want) {
		t.Fatalf("%d deliveries queued, want %d", len(ds), len(want))
	}
	rc.mu.Lock()
	downAttempts := len(rc.attempts)
	rc.down = false
	rc.failOnce[ds[len(ds)-2].Key] = true // the second change: received, but the 200 lost
	rc.mu.Unlock()
	if downAttempts < 5 || downAttempts > 40 {
		t.Errorf("%d attempts while down for 30 min with backoff up to a minute", downAttempts)
	}
	for range 10 {
		b.Clock.Add(time.Minute)
		drain()
	}

	rc.mu.Lock()
	defer rc.mu.Unlock()
	var got []string
	lost, tries := ds[len(ds)-2].Key, 0
	for _, a := range rc.attempts {
		if a.key == lost && a.ok {
			tries++
		}
	}
	if tries != 1 || len(rc.failOnce) != 0 {
		t.Errorf("the change whose answer was lost: %d successful attempts, failOnce %v", tries, rc.failOnce)
	}
	byKey := map[string]attempt{}
	for _, a := range rc.attempts {
		if first, ok := byKey[a.key]; ok && string(first.body) != string(a.body) {
			t.Errorf("key %s with two bodies", a.key)
		}
		byKey[a.key] = a
		ts := a.ts
		if err := business.Verify([]byte(secret), a.sig, ts, a.body, b.Clock.Now(), time.Hour); err != nil {
			t.Errorf("attempt %s: %v", a.key, err)
		}
		if !a.ok {
			continue
		}
		var ev business.Event
		if err := json.Unmarshal(a.body, &ev); err != nil || ev.Key != a.key {
			t.Fatalf("%v %s", err, a.body)
		}
		got = append(got, ev.Application.ID+":"+ev.Application.Status)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("delivered\n%v\nwant\n%v", got, want)
	}
	if !strings.HasPrefix(rc.attempts[0].sig, "sha256=") {
		t.Errorf("signature %q", rc.attempts[0].sig)
	}
	// A forged body does not verify.
	a := rc.attempts[len(rc.attempts)-1]
	if business.Verify([]byte(secret), a.sig, a.ts, append(a.body, ' '), b.Clock.Now(), time.Hour) == nil {
		t.Error("a changed body verified")
	}
}

// TestBusinessLoginTOTP: password, then the enrolment's QR code and a
// code from it; the same code does not let in a second time; a clerk may
// not open the settings.
func TestBusinessLoginTOTP(t *testing.T) {
	b := newBizEnv(t, manyLimit)
	ctx := context.Background()
	hash, _ := login.HashPassword("ein langer Satz aus Wörtern")
	if err := b.Biz.PutUser(ctx, "rheinflotte", "jana", business.RoleClerk, hash, b.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	form := func(path string, v url.Values) (*http.Response, string) {
		resp, err := c.PostForm(b.BizURL+path, v)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	logIn := func(password string) (*http.Response, string) {
		return form("/unternehmen/anmelden", url.Values{"company": {"rheinflotte"}, "user": {"jana"}, "password": {password}})
	}
	if resp, body := logIn("falsch falsch falsch"); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "falsch") {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	resp, body := logIn("ein langer Satz aus Wörtern")
	if resp.Request.URL.Path != "/unternehmen/code" || !strings.Contains(body, `id="totp-qr"`) {
		t.Fatalf("after the password: %s %.400s", resp.Request.URL.Path, body)
	}
	m := regexp.MustCompile(`id="totp-secret" dir="ltr">([A-Z2-7 ]+)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no secret shown")
	}
	secret, err := base32NoPad(strings.ReplaceAll(m[1], " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := form("/unternehmen/code", url.Values{"code": {"000000"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong code: %d", resp.StatusCode)
	}
	code := business.TOTPCode(secret, business.TOTPStep(b.Clock.Now()))
	resp, body = form("/unternehmen/code", url.Values{"code": {code}})
	if resp.Request.URL.Path != "/unternehmen" || resp.StatusCode != http.StatusOK || !strings.Contains(body, "Rheinflotte GmbH") {
		t.Fatalf("after the code: %s %d", resp.Request.URL.Path, resp.StatusCode)
	}
	if resp, _ := c.Get(b.BizURL + "/unternehmen/einstellungen"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a clerk at the settings: %d", resp.StatusCode)
	}
	form("/unternehmen/abmelden", nil)
	// The same code again, in its window: refused.
	logIn("ein langer Satz aus Wörtern")
	if resp, body := form("/unternehmen/code", url.Values{"code": {code}}); resp.StatusCode != http.StatusUnauthorized || strings.Contains(body, `id="totp-qr"`) {
		t.Errorf("a used code: %d", resp.StatusCode)
	}
	b.Clock.Add(30 * time.Second)
	next := business.TOTPCode(secret, business.TOTPStep(b.Clock.Now()))
	if resp, _ := form("/unternehmen/code", url.Values{"code": {next}}); resp.Request.URL.Path != "/unternehmen" {
		t.Errorf("the next code: %s", resp.Request.URL.Path)
	}
}

func base32NoPad(s string) ([]byte, error) {
	return base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
}

// TestBusinessWebhookCatchUp: a change whose delivery was never queued
// (central stopped between folding it and queueing it) is queued when the
// portal starts again, with the key it would have had; nothing else twice.
func TestBusinessWebhookCatchUp(t *testing.T) {
	b := newBizEnv(t, manyLimit)
	ctx := context.Background()
	key, _ := b.Central.BusinessKey(ctx)
	_, sealed, _ := business.NewWebhookSecret(key, "rheinflotte")
	b.Biz.SetWebhook(ctx, "rheinflotte", "https://erp.example/hook", sealed)
	b.upload(t, b.Key, "application/json", bulkRows(2))
	sent := b.submittedEvents(siteID)
	n := len(b.l.entries)
	b.l.add(vehicle.TypeReceived, vehicle.Entity(sent[0].ID), &vehicle.ApplicationReceived{ApplicationSubmitted: sent[0]})
	b.mustPost(b.l.batch(uint64(n+1), uint64(len(b.l.entries))))
	before, _ := b.Biz.Deliveries(ctx, "rheinflotte", 10)
	if len(before) != 3 {
		t.Fatalf("%d deliveries", len(before))
	}
	lost := before[0] // the newest: at_site
	if _, err := b.Store.Writer().Exec(`DELETE FROM business_deliveries WHERE id = ?`, lost.ID); err != nil {
		t.Fatal(err)
	}
	restarted := &server.Server{Central: b.Central, Logger: slog.New(slog.NewTextHandler(b.Logs, nil)), Now: b.Clock.Now, Business: b.Biz}
	restarted.Handler()
	after, _ := b.Biz.Deliveries(ctx, "rheinflotte", 10)
	if len(after) != 3 || after[0].Key != lost.Key || after[0].Body != lost.Body {
		t.Errorf("after the restart %+v, lost %+v", after, lost)
	}
}

// TestBusinessSameKeyTwice: a row key twice in one upload submits once;
// the second row names the first's application.
func TestBusinessSameKeyTwice(t *testing.T) {
	b := newBizEnv(t, manyLimit)
	one := strings.TrimSuffix(strings.TrimPrefix(bulkRows(1), "["), "]")
	_, res, raw := b.upload(t, b.Key, "application/json", "["+one+","+one+"]")
	if len(res.Rows) != 2 || res.Rows[0].Status != http.StatusCreated || !res.Rows[1].Replayed || res.Rows[1].ID != res.Rows[0].ID {
		t.Fatalf("%s", raw)
	}
	if n := len(b.submittedEvents(siteID)); n != 1 {
		t.Errorf("%d sent down", n)
	}
}
