package server_test

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/veedel/veedel/central/business"
	"github.com/veedel/veedel/central/server"
	"github.com/veedel/veedel/internal/login"
)

// fakeDNS is a name server on loopback that answers every A query with
// its current address (and AAAA with nothing): a name that resolves to
// what the test says, changed between two lookups as a rebinding
// attacker's server would.
type fakeDNS struct {
	mu   sync.Mutex
	addr netip.Addr
	conn net.PacketConn
}

func startFakeDNS(t *testing.T, addr string) *fakeDNS {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &fakeDNS{addr: netip.MustParseAddr(addr), conn: conn}
	t.Cleanup(func() { conn.Close() })
	go d.serve()
	return d
}

func (d *fakeDNS) set(addr string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.addr = netip.MustParseAddr(addr)
}

func (d *fakeDNS) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := d.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		q := buf[:n]
		if n < 12 || binary.BigEndian.Uint16(q[4:]) != 1 {
			continue
		}
		// The question: labels up to the root, then type and class.
		end := 12
		for end < n && q[end] != 0 {
			end += int(q[end]) + 1
		}
		end += 5
		if end > n {
			continue
		}
		qtype := binary.BigEndian.Uint16(q[end-4:])
		d.mu.Lock()
		a := d.addr.As4()
		d.mu.Unlock()
		resp := append([]byte{}, q[:end]...)
		binary.BigEndian.PutUint16(resp[2:], 0x8180) // a response, recursion available, no error
		binary.BigEndian.PutUint16(resp[8:], 0)      // no authority
		binary.BigEndian.PutUint16(resp[10:], 0)     // no additional records
		if qtype == 1 {                              // A
			binary.BigEndian.PutUint16(resp[6:], 1)
			resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4)
			resp = append(resp, a[:]...)
		} else {
			binary.BigEndian.PutUint16(resp[6:], 0)
		}
		d.conn.WriteTo(resp, from)
	}
}

// resolver is a resolver that asks only d.
func (d *fakeDNS) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var dialer net.Dialer
		return dialer.DialContext(ctx, "udp", d.conn.LocalAddr().String())
	}}
}

// TestBusinessWebhookRebinding: an endpoint whose name resolved to a
// public address when it was saved and resolves to 127.0.0.1 at delivery
// (DNS rebinding) is not connected to while private addresses are not
// allowed: the attempt fails with the reason in the delivery log and the
// receiver on loopback gets nothing.
func TestBusinessWebhookRebinding(t *testing.T) {
	b := newBizEnv(t, manyLimit)
	ctx := context.Background()
	var hits atomic.Int32
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer hook.Close()
	_, port, _ := net.SplitHostPort(hook.Listener.Addr().String())
	endpoint := "https://hooks.rheinflotte.example:" + port + "/veedel"

	dns := startFakeDNS(t, "93.184.216.34")
	if err := business.CheckEndpoint(ctx, endpoint, false, dns.resolver()); err != nil {
		t.Fatalf("saved while public: %v", err)
	}
	dns.set("127.0.0.1")
	if err := business.CheckEndpoint(ctx, endpoint, false, dns.resolver()); err == nil {
		t.Fatal("saved while it resolves to 127.0.0.1")
	}
	key, _ := b.Central.BusinessKey(ctx)
	_, sealed, _ := business.NewWebhookSecret(key, "rheinflotte")
	if err := b.Biz.SetWebhook(ctx, "rheinflotte", endpoint, sealed); err != nil {
		t.Fatal(err)
	}
	sender := &business.Sender{Store: b.Biz, Key: key, Now: b.Clock.Now, Resolver: dns.resolver(),
		Logger: slog.New(slog.NewTextHandler(b.Logs, nil))}
	if _, res, raw := b.upload(t, b.Key, "application/json", bulkRows(1)); res.Submitted != 1 {
		t.Fatal(raw)
	}
	if sent, err := sender.Step(ctx); err != nil || !sent {
		t.Fatalf("step: %v %v", sent, err)
	}
	ds, _ := b.Biz.Deliveries(ctx, "rheinflotte", 10)
	if len(ds) != 1 || ds[0].Status != "pending" || ds[0].Attempts != 1 ||
		!strings.Contains(ds[0].LastError, "not on the public internet: 127.0.0.1") {
		t.Errorf("delivery %+v", ds)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the receiver on loopback got %d requests", n)
	}
	if strings.Contains(b.Logs.String(), "hooks.rheinflotte.example") {
		t.Error("the endpoint's address is in the log")
	}
}

// TestBusinessWebhookRedirectNotFollowed: an endpoint that answers with a
// redirect is not followed; the 3xx is the attempt's recorded answer.
func TestBusinessWebhookRedirectNotFollowed(t *testing.T) {
	b := newBizEnv(t, manyLimit)
	ctx := context.Background()
	var elsewhere atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer target.Close()
	hook := httptest.NewServer(http.RedirectHandler(target.URL+"/latest/meta-data/", http.StatusTemporaryRedirect))
	defer hook.Close()
	key, _ := b.Central.BusinessKey(ctx)
	_, sealed, _ := business.NewWebhookSecret(key, "rheinflotte")
	if err := b.Biz.SetWebhook(ctx, "rheinflotte", hook.URL, sealed); err != nil {
		t.Fatal(err)
	}
	sender := &business.Sender{Store: b.Biz, Key: key, Now: b.Clock.Now, AllowPrivate: true, Logger: slog.New(slog.NewTextHandler(b.Logs, nil))}
	b.upload(t, b.Key, "application/json", bulkRows(1))
	if sent, err := sender.Step(ctx); err != nil || !sent {
		t.Fatalf("step: %v %v", sent, err)
	}
	ds, _ := b.Biz.Deliveries(ctx, "rheinflotte", 10)
	if len(ds) != 1 || ds[0].Status != "pending" || ds[0].LastStatus != http.StatusTemporaryRedirect || !strings.Contains(ds[0].LastError, "redirect not followed") {
		t.Errorf("delivery %+v", ds)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the redirect's target got %d requests", n)
	}
}

// TestBusinessWebhookFormRefusesPrivate: a company admin saving an
// endpoint on a private address, over http:// or on a name that resolves
// to one gets the form back with the message next to the field and
// nothing saved; a public https:// endpoint is saved (its secret shown
// once). With -webhook-allow-private the loopback endpoint is saved.
func TestBusinessWebhookFormRefusesPrivate(t *testing.T) {
	b := newBizEnv(t, manyLimit)
	ctx := context.Background()
	dns := startFakeDNS(t, "10.0.0.7")
	strict := &server.Server{Central: b.Central, Logger: slog.New(slog.NewTextHandler(b.Logs, nil)), Now: b.Clock.Now, Business: b.Biz,
		BusinessLimit: manyLimit, WebhookResolver: dns.resolver()}
	ts := httptest.NewServer(strict.Handler())
	defer ts.Close()
	hash, _ := login.HashPassword("ein langer Satz aus Wörtern")
	if err := b.Biz.PutUser(ctx, "rheinflotte", "chefin", business.RoleAdmin, hash, b.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	c := companyAdminClient(t, b, ts.URL, "chefin", "ein langer Satz aus Wörtern")
	save := func(base, endpoint string) (int, string) {
		resp, err := c.PostForm(base+"/unternehmen/webhook", url.Values{"webhook_url": {endpoint}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, endpoint := range []string{"https://169.254.169.254/latest/meta-data/", "https://[::ffff:127.0.0.1]/", "https://2130706433/",
		"http://erp.rheinflotte.example/veedel", "https://intern.rheinflotte.example/veedel"} {
		status, body := save(ts.URL, endpoint)
		if status != http.StatusBadRequest && status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d", endpoint, status)
		}
		if !strings.Contains(body, `id="webhook_url-error"`) || !strings.Contains(body, `aria-invalid="true"`) {
			t.Errorf("%s: no message at the field: %.300s", endpoint, body)
		}
		if co, _ := b.Biz.Company(ctx, "rheinflotte"); co.WebhookURL != "" {
			t.Fatalf("%s saved", endpoint)
		}
	}
	dns.set("93.184.216.34")
	if status, body := save(ts.URL, "https://erp.rheinflotte.example/veedel"); status != http.StatusOK || !strings.Contains(body, "whsec_") {
		t.Errorf("a public endpoint: %d", status)
	}
	// b's own server runs with -webhook-allow-private; the session is
	// the same database's.
	if status, _ := save(b.BizURL, "http://127.0.0.1:9/veedel"); status != http.StatusOK && status != http.StatusSeeOther {
		t.Errorf("loopback with -webhook-allow-private: %d", status)
	}
	if co, _ := b.Biz.Company(ctx, "rheinflotte"); co.WebhookURL != "http://127.0.0.1:9/veedel" {
		t.Errorf("saved %q", co.WebhookURL)
	}
}

// companyAdminClient logs a company's user in at base (password, then the
// TOTP enrolment's first code) and returns the client with the session;
// its cookie jar holds it for base and b's own server (both on 127.0.0.1).
func companyAdminClient(t *testing.T, b *bizEnv, base, user, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(base+"/unternehmen/anmelden", url.Values{"company": {"rheinflotte"}, "user": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`id="totp-secret" dir="ltr">([A-Z2-7 ]+)<`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no TOTP enrolment after the password: %s", resp.Request.URL.Path)
	}
	secret, err := base32NoPad(strings.ReplaceAll(string(m[1]), " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	resp, err = c.PostForm(base+"/unternehmen/code", url.Values{"code": {business.TOTPCode(secret, business.TOTPStep(b.Clock.Now()))}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/unternehmen" {
		t.Fatalf("after the code: %s %d", resp.Request.URL.Path, resp.StatusCode)
	}
	return c
}
