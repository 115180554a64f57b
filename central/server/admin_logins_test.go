package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/login"
)

// These tests count bcrypt runs with login.BcryptRuns, a process-wide
// counter: they must not run in parallel with other tests (no t.Parallel;
// Go holds parallel tests back until sequential ones are done).

// fromAddr is a transport whose connections come from the loopback
// address ip (127.0.0.x): a distinct client as the server sees it.
func fromAddr(ip string) *http.Transport {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &http.Transport{DialContext: d.DialContext}
}

// adminFrom is a browser-like admin client at address ip.
func (e *env) adminFrom(ip string) *admin {
	jar, _ := cookiejar.New(nil)
	return &admin{e: e, client: &http.Client{Jar: jar, Transport: fromAddr(ip),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// basic calls the admin API with HTTP Basic.
func (a *admin) basic(user, password string) (*http.Response, string) {
	a.e.t.Helper()
	return a.do(http.MethodGet, "/api/v1/sync/status", nil, "Authorization", "Basic "+basicAuth(user, password))
}

func basicAuth(user, password string) string {
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(user, password)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

// wantThrottled checks a 429 with Retry-After that ran no bcrypt.
func wantThrottled(t *testing.T, what string, try func() (*http.Response, string), retryAfter, text string) {
	t.Helper()
	runs := login.BcryptRuns()
	resp, body := try()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("%s: %s, want 429: %s", what, resp.Status, body)
	}
	if got := resp.Header.Get("Retry-After"); got != retryAfter {
		t.Errorf("%s: Retry-After %q, want %q", what, got, retryAfter)
	}
	if !strings.Contains(body, text) {
		t.Errorf("%s: body lacks %q:\n%s", what, text, body)
	}
	if n := login.BcryptRuns() - runs; n != 0 {
		t.Errorf("%s: %d bcrypt runs for a throttled attempt, want 0", what, n)
	}
}

// After five wrong passwords from one machine, its next attempt (even
// with the right password, on the form or over Basic) is refused before
// bcrypt with 429 and Retry-After; another machine is not affected; after
// the lock the right password works. Every failure is logged without the
// address or password, and listed for admins at /admin/logins.
func TestAdminLoginThrottle(t *testing.T) {
	e := newEnv(t)
	e.createAdmin("anna", central.RoleAdmin, "geheim123")
	e.createAdmin("tom", central.RoleTechnician, "technik123")
	attacker := e.adminFrom("127.0.0.2")
	for i := range login.DefaultPolicy.ClientFree {
		resp, _ := attacker.post("/admin/login", url.Values{"user": {"anna"}, "password": {fmt.Sprintf("rate-%d", i)}})
		wantStatus(t, "wrong password", resp, http.StatusUnauthorized)
	}
	wantThrottled(t, "form after five failures", func() (*http.Response, string) {
		return attacker.post("/admin/login", url.Values{"user": {"anna"}, "password": {"geheim123"}})
	}, "30", "Zu viele Fehlversuche. Bitte in 30 Sekunden erneut versuchen.")
	wantThrottled(t, "Basic from the same machine", func() (*http.Response, string) { return attacker.basic("anna", "geheim123") },
		"30", "Zu viele Fehlversuche")

	// Another machine logs in meanwhile.
	e.adminFrom("127.0.0.3").login("tom", "technik123")

	e.Clock.Add(30 * time.Second)
	attacker.login("anna", "geheim123")

	// Logged: name and reason, never the password or the address.
	logs := e.Logs.String()
	if !strings.Contains(logs, "login refused") || !strings.Contains(logs, "name=anna reason=password via=form") ||
		!strings.Contains(logs, "reason=locked_client") {
		t.Errorf("failures not logged:\n%s", logs)
	}
	if strings.Contains(logs, "127.0.0.2") || strings.Contains(logs, "rate-") {
		t.Errorf("the log holds an address or a password:\n%s", logs)
	}

	// Listed for admins (the admin role), refused to technicians.
	resp, page := attacker.get("/admin/logins")
	wantStatus(t, "logins page", resp, http.StatusOK)
	for _, want := range []string{"Fehlgeschlagene Anmeldungen", "<td>anna</td>", "<code>127.0.0.2</code>", "Falsches Passwort", "Gerät gesperrt bis", "Anmeldeformular"} {
		if !strings.Contains(page, want) {
			t.Errorf("logins page lacks %q", want)
		}
	}
	if strings.Contains(page, "rate-") {
		t.Error("the page shows a password")
	}
	tom := e.adminFrom("127.0.0.3")
	tom.login("tom", "technik123")
	resp, _ = tom.get("/admin/logins")
	wantStatus(t, "logins page for a technician", resp, http.StatusForbidden)
}

// The admin API's HTTP Basic: an attack on an admin's name from many
// addresses locks the account for unknown clients only, and only for
// minutes; the admin's own machine (known from an earlier login) goes on
// working. Basic failures are recorded too.
func TestAdminBasicThrottleSparesKnownClient(t *testing.T) {
	e := newEnv(t)
	e.createAdmin("anna", central.RoleAdmin, "geheim123")
	own := e.adminFrom("127.0.0.4")
	resp, body := own.basic("anna", "geheim123")
	wantStatus(t, "Basic from her machine: "+body, resp, http.StatusOK)

	p := login.DefaultPolicy
	for i := range p.AccountFree {
		resp, body := e.adminFrom(fmt.Sprintf("127.0.1.%d", i+1)).basic("anna", "rate")
		wantStatus(t, "wrong password: "+body, resp, http.StatusUnauthorized)
		if resp.Header.Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
	}
	stranger := e.adminFrom("127.0.0.30")
	wantThrottled(t, "Basic from an unknown machine", func() (*http.Response, string) { return stranger.basic("anna", "geheim123") },
		"30", `"error"`)
	resp, body = own.basic("anna", "geheim123")
	wantStatus(t, "her own machine during the attack: "+body, resp, http.StatusOK)

	e.Clock.Add(p.FirstDelay)
	resp, body = stranger.basic("anna", "geheim123")
	wantStatus(t, "unknown machine after the lock: "+body, resp, http.StatusOK)

	failures, err := e.Central.LoginFailures(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var basic, locks int
	for _, f := range failures {
		if f.Via == login.ViaBasic && f.Reason == login.ReasonPassword && f.Name == "anna" {
			basic++
		}
		if f.Reason == login.ReasonLockedAccount {
			locks++
		}
	}
	if basic != p.AccountFree || locks != 1 {
		data, _ := json.Marshal(failures)
		t.Errorf("recorded %d Basic failures and %d account locks, want %d and 1: %s", basic, locks, p.AccountFree, data)
	}
}

// The finding of issue 9 at central: 200 wrong passwords, form and Basic
// alternating; five reach bcrypt, the rest get 429, so does the right one.
func TestAdminTwoHundredGuesses(t *testing.T) {
	e := newEnv(t)
	e.createAdmin("anna", central.RoleAdmin, "geheim123")
	attacker := e.adminFrom("127.0.0.2")
	runs := login.BcryptRuns()
	statuses := map[int]int{}
	for i := range 200 {
		var resp *http.Response
		if i%2 == 0 {
			resp, _ = attacker.post("/admin/login", url.Values{"user": {"anna"}, "password": {fmt.Sprintf("rate-%d", i)}})
		} else {
			resp, _ = attacker.basic("anna", fmt.Sprintf("rate-%d", i))
		}
		statuses[resp.StatusCode]++
	}
	if n := login.BcryptRuns() - runs; n != uint64(login.DefaultPolicy.ClientFree) {
		t.Errorf("%d bcrypt runs for 200 guesses, want %d", n, login.DefaultPolicy.ClientFree)
	}
	if statuses[http.StatusUnauthorized] != login.DefaultPolicy.ClientFree || statuses[http.StatusTooManyRequests] != 200-login.DefaultPolicy.ClientFree {
		t.Errorf("statuses %v", statuses)
	}
	resp, _ := attacker.post("/admin/login", url.Values{"user": {"anna"}, "password": {"geheim123"}})
	wantStatus(t, "right password right after the guesses", resp, http.StatusTooManyRequests)
}
