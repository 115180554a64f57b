package server_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/sqlite"
)

// clientFrom is a client whose connections come from the loopback address
// local (127.0.0.2 …): another machine on the LAN, as the server sees it.
func (h *harness) clientFrom(t *testing.T, local string) *http.Client {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 10 * time.Second}
	return &http.Client{
		Transport:     &http.Transport{DialContext: dialer.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
}

func (h *harness) issueAs(t *testing.T, client *http.Client, body string, headers ...string) response {
	t.Helper()
	req := h.newRequest(t, http.MethodPost, "/api/v1/tickets", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return h.send(t, client, req)
}

// TestAnonymousIssuingIsLimited: one anonymous client issuing fast gets 429
// (JSON on the API, German on the kiosk, Retry-After on both) after its
// allowance, and nothing is issued then; another client, a paired kiosk
// and staff still issue.
func TestAnonymousIssuingIsLimited(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const burst = 6
	for i := range burst {
		if res := h.issueAs(t, h.anon, `{"service":"ausweis"}`); res.status != http.StatusCreated {
			t.Fatalf("anonymous ticket %d: status %d: %s", i+1, res.status, res)
		}
	}
	before := h.snapshot(t)
	res := h.issueAs(t, h.anon, `{"service":"ausweis"}`)
	if res.status != http.StatusTooManyRequests {
		t.Fatalf("anonymous ticket %d: status %d, want 429: %s", burst+1, res.status, res)
	}
	if got := res.header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
		t.Errorf("429 Content-Type %q, want JSON", got)
	}
	if msg := decode[map[string]string](t, res)["error"]; !strings.Contains(msg, "try again in") {
		t.Errorf("429 error %q does not say when to try again", msg)
	}
	if secs, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || secs < 1 {
		t.Errorf("Retry-After %q, want whole seconds", res.header.Get("Retry-After"))
	}
	// A check-in is issuing too: limited alike (and so is guessing codes).
	if res := h.send(t, h.anon, func() *http.Request {
		req := h.newRequest(t, http.MethodPost, "/api/v1/checkins", strings.NewReader(`{"code":"ABCD1234"}`))
		req.Header.Set("Content-Type", "application/json")
		return req
	}()); res.status != http.StatusTooManyRequests {
		t.Errorf("anonymous check-in past the limit: status %d, want 429", res.status)
	}
	// The unpaired kiosk page at the same address: the German message.
	kiosk := h.browser(t)
	res = h.postForm(t, kiosk, "/kiosk/tickets", "service=ausweis&key=over")
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" {
		t.Errorf("unpaired kiosk past the limit: status %d, Retry-After %q; want 429 with it", res.status, res.header.Get("Retry-After"))
	}
	if !strings.Contains(res.String(), `<p class="error" role="alert">Bitte einen Moment Geduld: An diesem Gerät wurden gerade viele Nummern gezogen.`) ||
		!strings.Contains(res.String(), `id="kiosk-pair-link"`) {
		t.Errorf("kiosk's 429 page lacks the German message or the hint to pair:\n%s", res)
	}
	if after := h.snapshot(t); after != before {
		t.Errorf("refused requests changed the queue: %+v → %+v", before, after)
	}

	// Another client on the LAN has its own allowance.
	if res := h.issueAs(t, h.clientFrom(t, "127.0.0.2"), `{"service":"ausweis"}`); res.status != http.StatusCreated {
		t.Errorf("another client: status %d: %s", res.status, res)
	}
	// The paired kiosk, over the API (bearer) and as a browser (cookie),
	// and staff issue on, from the same address.
	for i := range 2 * burst {
		if res := h.issueAs(t, h.client, `{"service":"meldung"}`); res.status != http.StatusCreated {
			t.Fatalf("paired kiosk's ticket %d: status %d: %s", i+1, res.status, res)
		}
	}
	paired := h.kioskBrowser(t)
	for i := range burst + 1 {
		if res := h.postForm(t, paired, "/kiosk/tickets", "confirm=1&service=ausweis&key=paired-"+strconv.Itoa(i)); res.status != http.StatusSeeOther {
			t.Fatalf("paired kiosk browser's ticket %d: status %d", i+1, res.status)
		}
	}
	req := h.newRequest(t, http.MethodPost, "/api/v1/tickets", strings.NewReader(`{"service":"meldung"}`))
	req.SetBasicAuth("demo", "demo")
	if res := h.send(t, h.anon, req); res.status != http.StatusCreated {
		t.Errorf("staff: status %d: %s", res.status, res)
	}
	// Wrong credentials are not taken for anonymous.
	if res := h.issueAs(t, h.anon, `{"service":"meldung"}`, "Authorization", "Bearer not-a-device"); res.status != http.StatusUnauthorized {
		t.Errorf("unknown device token: status %d, want 401", res.status)
	}
}

// TestIdempotencyKeyIsPerCaller: a retry replays the ticket to whoever
// sent the key first; the same key from someone else is a new ticket and
// does not reveal the first one's token.
func TestIdempotencyKeyIsPerCaller(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	first := h.issueAs(t, h.client, `{"service":"ausweis"}`, "Idempotency-Key", "retry-1")
	again := h.issueAs(t, h.client, `{"service":"ausweis"}`, "Idempotency-Key", "retry-1")
	other := h.issueAs(t, h.anon, `{"service":"ausweis"}`, "Idempotency-Key", "retry-1")
	a, b, c := decode[apiTicket](t, first), decode[apiTicket](t, again), decode[apiTicket](t, other)
	if a.Token == "" || b.Token != a.Token || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("the kiosk's retry: %s then %s, want the same ticket replayed", a.Number, b.Number)
	}
	if c.Token == a.Token || other.header.Get("Idempotent-Replayed") != "" || other.status != http.StatusCreated {
		t.Errorf("another client's request with the same key got the kiosk's ticket")
	}
}

var pairCodeRE = regexp.MustCompile(`id="pair-code">([A-Z0-9]{4}-[A-Z0-9]{4})<`)

// TestKioskPairing: a lead creates a code on the desk; the kiosk's browser
// uses it once and gets an HttpOnly, SameSite=Strict device cookie; the
// kiosk then issues without limit. The code does not work twice. The desk
// lists the kiosk; unpairing it makes its cookie worthless at once.
func TestKioskPairing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	lead := h.lead(t)

	if page := h.get(t, lead, "/desk").String(); !strings.Contains(page, `href="/desk/kiosks"`) {
		t.Errorf("the lead's desk does not link the kiosks")
	}
	res := h.postForm(t, lead, "/desk/kiosks", "name=")
	if res.status != http.StatusBadRequest || !strings.Contains(res.String(), `id="kiosk-name-error"`) || !strings.Contains(res.String(), `aria-invalid="true"`) {
		t.Errorf("empty name: status %d, want 400 with the error next to the field", res.status)
	}
	if msg := res.String()[strings.Index(res.String(), `id="kiosk-name-error"`):]; strings.Contains(msg[:strings.Index(msg, "</p>")], " / ") {
		t.Errorf("the German desk's message is in two languages: %s", msg[:strings.Index(msg, "</p>")])
	}
	res = h.postForm(t, lead, "/desk/kiosks", url.Values{"name": {"Kiosk Eingang"}}.Encode())
	m := pairCodeRE.FindStringSubmatch(res.String())
	if res.status != http.StatusOK || m == nil {
		t.Fatalf("create code: status %d, no code shown:\n%s", res.status, res)
	}
	code := m[1]
	if !strings.Contains(res.String(), h.url+"/kiosk/pair") {
		t.Errorf("the desk does not say where the kiosk pairs (%s/kiosk/pair)", h.url)
	}

	kiosk := h.browser(t)
	if page := h.get(t, kiosk, "/kiosk").String(); !strings.Contains(page, `id="kiosk-unpaired"`) || !strings.Contains(page, `href="/kiosk/pair"`) {
		t.Errorf("an unpaired kiosk has no hint for staff")
	}
	if page := h.get(t, kiosk, "/kiosk/pair?code="+code).String(); !strings.Contains(page, `value="`+code+`"`) {
		t.Errorf("the desk's link does not fill in the code")
	}
	res = h.postForm(t, kiosk, "/kiosk/pair", "code="+strings.ToLower(strings.ReplaceAll(code, "-", "")))
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/kiosk/pair" {
		t.Fatalf("pair: status %d, Location %q: %s", res.status, res.header.Get("Location"), res)
	}
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == "veedel_kiosk" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" || cookie.MaxAge < 300*24*3600 || len(cookie.Value) < 43 {
		t.Fatalf("device cookie %+v: want HttpOnly, SameSite=Strict, Path=/, long-lived, 256 bits", cookie)
	}
	if page := h.get(t, kiosk, "/kiosk/pair").String(); !strings.Contains(page, `id="paired"`) || !strings.Contains(page, "Kiosk Eingang") {
		t.Errorf("the pairing page does not say that the browser is paired")
	}
	if page := h.get(t, kiosk, "/kiosk").String(); strings.Contains(page, `id="kiosk-unpaired"`) {
		t.Errorf("a paired kiosk shows the unpaired hint")
	}
	for i := range 10 {
		if res := h.postForm(t, kiosk, "/kiosk/tickets", "confirm=1&service=ausweis&key=k"+strconv.Itoa(i)); res.status != http.StatusSeeOther {
			t.Fatalf("paired kiosk's ticket %d: status %d", i+1, res.status)
		}
	}

	// Single use.
	res = h.postForm(t, h.browser(t), "/kiosk/pair", "code="+code)
	if res.status != http.StatusBadRequest || !strings.Contains(res.String(), `id="pair-code-error">Dieser Code ist unbekannt, schon benutzt oder abgelaufen.`) {
		t.Errorf("second use of the code: status %d, want 400 with the message next to the field", res.status)
	}

	// The desk lists it; unpairing stops the cookie at once.
	page := h.get(t, lead, "/desk/kiosks").String()
	id := regexp.MustCompile(`<tr id="kiosk-(\d+)">\s*<th scope="row">Kiosk Eingang</th>`).FindStringSubmatch(page)
	if id == nil {
		t.Fatalf("the desk does not list Kiosk Eingang:\n%s", page)
	}
	if res := h.postForm(t, lead, "/desk/kiosks/"+id[1]+"/unpair", ""); res.status != http.StatusSeeOther {
		t.Fatalf("unpair: status %d: %s", res.status, res)
	}
	if page := h.get(t, lead, "/desk/kiosks").String(); strings.Contains(page, `<th scope="row">Kiosk Eingang</th>`) || !strings.Contains(page, `<th scope="row">Test-Kiosk</th>`) {
		t.Errorf("the unpaired kiosk is still listed")
	}
	if res := h.issueAs(t, h.anon, `{"service":"ausweis"}`, "Authorization", "Bearer "+cookie.Value); res.status != http.StatusUnauthorized {
		t.Errorf("the unpaired device's token on the API: status %d, want 401", res.status)
	}
	old := h.browser(t)
	old.Jar.SetCookies(mustURL(t, h.url), []*http.Cookie{{Name: "veedel_kiosk", Value: cookie.Value, Path: "/"}})
	if page := h.get(t, old, "/kiosk").String(); !strings.Contains(page, `id="kiosk-unpaired"`) {
		t.Errorf("the unpaired kiosk does not show the hint again")
	}
	var limited bool
	for i := range 10 {
		res := h.postForm(t, old, "/kiosk/tickets", "confirm=1&service=ausweis&key=after-"+strconv.Itoa(i))
		if res.status == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Errorf("the unpaired kiosk issued ten tickets in a row without limit")
	}
}

// TestKioskPairingRefusals: clerks and strangers cannot create codes or
// unpair; pairing codes cannot be guessed at speed; the API pairs a kiosk
// that is not a browser.
func TestKioskPairingRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if err := h.store.CreateUser(context.Background(), sqlite.User{Name: "clara", DisplayName: "Clara", Role: sqlite.RoleClerk}, "clara"); err != nil {
		t.Fatal(err)
	}
	clerk := h.browser(t)
	h.loginAs(t, clerk, "clara")
	for _, res := range []response{h.get(t, clerk, "/desk/kiosks"), h.postForm(t, clerk, "/desk/kiosks", "name=X"), h.postForm(t, clerk, "/desk/kiosks/1/unpair", "")} {
		wantStatus(t, "clerk", res, http.StatusForbidden)
	}
	if res := h.get(t, h.browser(t), "/desk/kiosks"); res.status != http.StatusSeeOther || res.header.Get("Location") != "/desk/login" {
		t.Errorf("anonymous /desk/kiosks: status %d", res.status)
	}
	if res := h.postForm(t, h.browser(t), "/desk/kiosks/1/unpair", ""); res.status != http.StatusUnauthorized {
		t.Errorf("anonymous unpair: status %d, want 401", res.status)
	}
	if list, _ := h.store.KioskDevices(context.Background()); len(list) != 1 {
		t.Errorf("kiosks after refused unpairs: %+v, want the harness's one", list)
	}

	// Guessing: five wrong codes, then 429, also for the right one.
	code, _, err := h.store.CreateKioskPairing(context.Background(), "Kiosk API", "demo")
	if err != nil {
		t.Fatal(err)
	}
	guesser := h.browser(t)
	for i := range 5 {
		if res := h.postForm(t, guesser, "/kiosk/pair", "code=AAAA-AAA"+strconv.Itoa(i+2)); res.status != http.StatusBadRequest {
			t.Errorf("wrong code %d: status %d, want 400", i+1, res.status)
		}
	}
	if res := h.postForm(t, guesser, "/kiosk/pair", "code="+code); res.status != http.StatusTooManyRequests || !strings.Contains(res.String(), `id="pair-code-error"`) {
		t.Errorf("sixth try at speed: status %d, want 429 next to the field", res.status)
	}

	// A kiosk that is not a browser pairs over the API, from elsewhere.
	api := h.clientFrom(t, "127.0.0.3")
	req := h.newRequest(t, http.MethodPost, "/api/v1/kiosks/pair", strings.NewReader(`{"code":"`+code+`"}`))
	req.Header.Set("Content-Type", "application/json")
	res := h.send(t, api, req)
	if res.status != http.StatusCreated {
		t.Fatalf("API pairing: status %d: %s", res.status, res)
	}
	dev := decode[struct {
		Name  string `json:"name"`
		Token string `json:"device_token"`
	}](t, res)
	if dev.Name != "Kiosk API" || len(dev.Token) < 43 {
		t.Fatalf("API pairing answered %+v", dev)
	}
	for i := range 10 {
		if res := h.issueAs(t, api, `{"service":"ausweis"}`, "Authorization", "Bearer "+dev.Token); res.status != http.StatusCreated {
			t.Fatalf("API kiosk's ticket %d: status %d: %s", i+1, res.status, res)
		}
	}
	req = h.newRequest(t, http.MethodPost, "/api/v1/kiosks/pair", strings.NewReader(`{"code":"`+code+`"}`))
	req.Header.Set("Content-Type", "application/json")
	if res := h.send(t, api, req); res.status != http.StatusUnauthorized {
		t.Errorf("API pairing with a used code: status %d, want 401", res.status)
	}
}
