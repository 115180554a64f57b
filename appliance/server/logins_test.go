package server_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/internal/login"
)

// These tests count bcrypt runs with login.BcryptRuns, a process-wide
// counter: they must not run in parallel with other tests (no t.Parallel;
// Go holds parallel tests back until sequential ones are done).

// loginClock is the store's settable clock: the login throttle's time.
type loginClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *loginClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *loginClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// clientFrom is a browser (cookies, no redirects) whose connections come
// from the loopback address ip: a distinct machine as the server sees it.
func clientFrom(t *testing.T, ip string) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &http.Client{Jar: jar, Transport: &http.Transport{DialContext: d.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (h *harness) deskLogin(t *testing.T, client *http.Client, user, password string) response {
	t.Helper()
	return h.postForm(t, client, "/desk/login", "user="+user+"&password="+password)
}

// basicCall calls a counter action with HTTP Basic from client.
func (h *harness) basicCall(t *testing.T, client *http.Client, user, password string) response {
	t.Helper()
	req := h.newRequest(t, http.MethodPost, "/api/v1/counters/1/call-next", nil)
	req.SetBasicAuth(user, password)
	return h.send(t, client, req)
}

func wantThrottledResponse(t *testing.T, what string, try func() response, retryAfter, text string) {
	t.Helper()
	runs := login.BcryptRuns()
	res := try()
	if res.status != http.StatusTooManyRequests {
		t.Fatalf("%s: %d, want 429: %s", what, res.status, res)
	}
	if got := res.header.Get("Retry-After"); got != retryAfter {
		t.Errorf("%s: Retry-After %q, want %q", what, got, retryAfter)
	}
	if !strings.Contains(res.String(), text) {
		t.Errorf("%s: body lacks %q:\n%s", what, text, res)
	}
	if n := login.BcryptRuns() - runs; n != 0 {
		t.Errorf("%s: %d bcrypt runs for a throttled attempt, want 0", what, n)
	}
}

func newLoginHarness(t *testing.T) (*harness, *loginClock) {
	clk := &loginClock{t: openMorning()}
	h := newHarnessOpts(t, sqlite.Options{NoShowGrace: -1, Now: clk.Now})
	if err := h.store.CreateUser(context.Background(), sqlite.User{Name: "anna", DisplayName: "Anna", Role: sqlite.RoleClerk}, "geheim123"); err != nil {
		t.Fatal(err)
	}
	return h, clk
}

// The desk form: after five wrong passwords from one machine its next
// attempt is refused before bcrypt (429, Retry-After, the German message
// beside the form), on the API's Basic auth too; another machine logs in
// meanwhile; after the lock the right password works. Failures are
// logged without address or password and listed for the site lead.
func TestDeskLoginThrottle(t *testing.T) {
	h, clk := newLoginHarness(t)
	attacker := clientFrom(t, "127.0.0.2")
	for i := range login.DefaultPolicy.ClientFree {
		if res := h.deskLogin(t, attacker, "anna", fmt.Sprintf("rate-%d", i)); res.status != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", res.status)
		}
	}
	wantThrottledResponse(t, "form after five failures", func() response { return h.deskLogin(t, attacker, "anna", "geheim123") },
		"30", "Zu viele Fehlversuche. Bitte in 30 Sekunden erneut versuchen.")
	wantThrottledResponse(t, "Basic from the same machine", func() response { return h.basicCall(t, attacker, "anna", "geheim123") },
		"30", `"error":"Zu viele Fehlversuche`)

	lead := clientFrom(t, "127.0.0.3")
	if res := h.deskLogin(t, lead, "demo", "demo"); res.status != http.StatusSeeOther {
		t.Fatalf("another machine during the lock: %d %s", res.status, res)
	}

	clk.Add(30 * time.Second)
	if res := h.deskLogin(t, attacker, "anna", "geheim123"); res.status != http.StatusSeeOther {
		t.Fatalf("right password after the lock: %d %s", res.status, res)
	}

	logs := h.logs.String()
	if !strings.Contains(logs, "name=anna reason=password via=form") || !strings.Contains(logs, "reason=locked_client") {
		t.Errorf("failures not logged:\n%s", logs)
	}
	if strings.Contains(logs, "127.0.0.2") || strings.Contains(logs, "rate-") {
		t.Errorf("the log holds an address or a password:\n%s", logs)
	}

	page := h.get(t, lead, "/desk/logins")
	if page.status != http.StatusOK {
		t.Fatalf("logins page for the lead: %d", page.status)
	}
	for _, want := range []string{"Fehlgeschlagene Anmeldungen", "<td>anna</td>", "<code>127.0.0.2</code>", "Falsches Passwort", "Gerät gesperrt bis"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("logins page lacks %q", want)
		}
	}
	if !strings.Contains(h.get(t, lead, "/desk/setup").String(), `href="/desk/logins"`) {
		t.Error("the setup page does not link the failed logins")
	}
	if !strings.Contains(h.get(t, lead, "/desk").String(), `id="logins-link"`) {
		t.Error("the lead's first desk page does not link the failed logins")
	}
	if res := h.get(t, attacker, "/desk/logins"); res.status != http.StatusForbidden {
		t.Errorf("logins page for a clerk: %d, want 403", res.status)
	}
}

// The site API's Basic auth: someone on the LAN tries Anna's name from
// many addresses. Her own machine (she logged in there before) goes on
// working; a machine she never used waits for the account lock, which is
// short; all failures are recorded with "basic".
func TestAPIBasicThrottleSparesKnownClient(t *testing.T) {
	h, clk := newLoginHarness(t)
	own := clientFrom(t, "127.0.0.4")
	if res := h.deskLogin(t, own, "anna", "geheim123"); res.status != http.StatusSeeOther {
		t.Fatalf("login at her machine: %d", res.status)
	}
	p := login.DefaultPolicy
	for i := range p.AccountFree {
		if res := h.basicCall(t, clientFrom(t, fmt.Sprintf("127.0.1.%d", i+1)), "anna", "rate"); res.status != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d %s", res.status, res)
		}
	}
	stranger := clientFrom(t, "127.0.0.30")
	wantThrottledResponse(t, "Basic from an unknown machine", func() response { return h.basicCall(t, stranger, "anna", "geheim123") },
		"30", `"error"`)
	if res := h.basicCall(t, own, "anna", "geheim123"); res.status == http.StatusUnauthorized || res.status == http.StatusTooManyRequests {
		t.Fatalf("her own machine during the attack: %d %s", res.status, res)
	}
	if res := h.deskLogin(t, clientFrom(t, "127.0.0.4"), "anna", "geheim123"); res.status != http.StatusSeeOther {
		t.Fatalf("desk form at her own machine during the attack: %d %s", res.status, res)
	}
	clk.Add(p.FirstDelay)
	if res := h.basicCall(t, stranger, "anna", "geheim123"); res.status == http.StatusUnauthorized || res.status == http.StatusTooManyRequests {
		t.Fatalf("unknown machine after the lock: %d %s", res.status, res)
	}

	failures, err := h.store.LoginFailures(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var basic, locks int
	for _, f := range failures {
		if f.Via == login.ViaBasic && f.Reason == login.ReasonPassword && f.Name == "anna" {
			basic++
		}
		if f.Reason == login.ReasonLockedAccount && f.Name == "anna" {
			locks++
		}
	}
	if basic != p.AccountFree || locks != 1 {
		t.Errorf("recorded %d Basic failures and %d account locks, want %d and 1: %+v", basic, locks, p.AccountFree, failures)
	}
}

// The finding of issue 9: 200 wrong passwords in a row, each answered,
// and the right one worked at once after. Now five reach bcrypt, the
// rest are refused with 429, and so is the right password right after.
func TestTwoHundredGuesses(t *testing.T) {
	h, _ := newLoginHarness(t)
	attacker := clientFrom(t, "127.0.0.2")
	runs := login.BcryptRuns()
	statuses := map[int]int{}
	for i := range 200 {
		var res response
		if i%2 == 0 {
			res = h.deskLogin(t, attacker, "anna", fmt.Sprintf("rate-%d", i))
		} else {
			res = h.basicCall(t, attacker, "anna", fmt.Sprintf("rate-%d", i))
		}
		statuses[res.status]++
	}
	if n := login.BcryptRuns() - runs; n != uint64(login.DefaultPolicy.ClientFree) {
		t.Errorf("%d bcrypt runs for 200 guesses, want %d", n, login.DefaultPolicy.ClientFree)
	}
	if statuses[http.StatusUnauthorized] != login.DefaultPolicy.ClientFree || statuses[http.StatusTooManyRequests] != 200-login.DefaultPolicy.ClientFree {
		t.Errorf("statuses %v", statuses)
	}
	if res := h.deskLogin(t, attacker, "anna", "geheim123"); res.status != http.StatusTooManyRequests {
		t.Errorf("right password right after the guesses: %d, want 429", res.status)
	}
}
