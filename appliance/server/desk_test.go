package server_test

import (
	"net/http"
	"strings"
	"testing"
)

const sessionCookie = "veedel_session"

// login logs browser in as demo and returns the session cookie.
func (h *harness) login(t *testing.T, browser *http.Client) *http.Cookie {
	t.Helper()
	req := h.newRequest(t, http.MethodPost, "/desk/login", strings.NewReader("user=demo&password=demo"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got, want := res.StatusCode, http.StatusSeeOther; got != want {
		t.Fatalf("login: status = %d, want %d", got, want)
	}
	if got, want := res.Header.Get("Location"), "/desk"; got != want {
		t.Errorf("login: Location = %q, want %q", got, want)
	}
	for _, c := range res.Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	t.Fatalf("login set no %s cookie", sessionCookie)
	return nil
}

func TestDeskLogin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	browser := h.browser(t)

	res := h.get(t, browser, "/desk")
	if got, want := res.status, http.StatusSeeOther; got != want {
		t.Fatalf("desk without session: status = %d, want %d", got, want)
	}
	if got, want := res.header.Get("Location"), "/desk/login"; got != want {
		t.Errorf("desk without session: Location = %q, want %q", got, want)
	}

	res = h.get(t, browser, "/desk/login")
	if got, want := res.status, http.StatusOK; got != want {
		t.Fatalf("login form: status = %d, want %d", got, want)
	}
	if !strings.Contains(res.String(), `name="password" type="password"`) {
		t.Errorf("login form has no password field")
	}

	res = h.postForm(t, browser, "/desk/login", "user=demo&password=wrong")
	if got, want := res.status, http.StatusUnauthorized; got != want {
		t.Errorf("wrong password: status = %d, want %d", got, want)
	}
	if !strings.Contains(res.String(), "wrong user name or password") {
		t.Errorf("wrong password: page does not say why:\n%s", res)
	}
	if !strings.Contains(res.String(), `value="demo"`) {
		t.Errorf("wrong password: the user name is not kept in the form")
	}
	if len(browser.Jar.Cookies(mustURL(t, h.url+"/desk"))) != 0 {
		t.Errorf("wrong password set a cookie")
	}

	c := h.login(t, browser)
	if !c.HttpOnly {
		t.Errorf("session cookie is not HttpOnly")
	}
	if got, want := c.SameSite, http.SameSiteStrictMode; got != want {
		t.Errorf("session cookie SameSite = %v, want %v (Strict)", got, want)
	}
	if got, want := c.Path, "/desk"; got != want {
		t.Errorf("session cookie Path = %q, want %q", got, want)
	}
	if len(c.Value) < 32 {
		t.Errorf("session cookie value has %d characters, want >= 32", len(c.Value))
	}

	// Logged in without a counter: the counter choice.
	res = h.get(t, browser, "/desk")
	if got, want := res.status, http.StatusOK; got != want {
		t.Fatalf("desk: status = %d, want %d", got, want)
	}
	if !strings.Contains(res.String(), `<option value="1">Platz 1</option>`) {
		t.Errorf("desk without a counter does not offer Platz 1:\n%s", res)
	}
}

func TestDeskFlow(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	browser := h.browser(t)
	session := h.login(t, browser)

	res := h.postForm(t, browser, "/desk/counter", "counter=1")
	if got, want := res.status, http.StatusSeeOther; got != want {
		t.Fatalf("choose counter: status = %d, want %d: %s", got, want, res)
	}
	if got, want := res.header.Get("Location"), "/desk"; got != want {
		t.Errorf("choose counter: Location = %q, want %q", got, want)
	}
	res = h.get(t, browser, "/desk")
	if got, want := res.status, http.StatusOK; got != want {
		t.Fatalf("desk: status = %d, want %d", got, want)
	}
	if !strings.Contains(res.String(), `<strong id="counter-name">Platz 1</strong>`) {
		t.Errorf("desk does not show Platz 1:\n%s", res)
	}
	if !strings.Contains(res.String(), "Demo") {
		t.Errorf("desk does not show the clerk's name")
	}
	// Choosing the counter opened it.
	if !strings.Contains(h.get(t, nil, "/api/v1/counters").String(), `"open":true`) {
		t.Errorf("choosing counter 1 did not open it")
	}
	// Choosing it again is harmless.
	if got, want := h.postForm(t, browser, "/desk/counter", "counter=1").status, http.StatusSeeOther; got != want {
		t.Errorf("choose the same counter again: status = %d, want %d", got, want)
	}

	a1 := h.issue(t, "ausweis")
	h.issue(t, "meldung")

	res = h.postForm(t, browser, "/desk/call-next", "")
	if got, want := res.status, http.StatusSeeOther; got != want {
		t.Fatalf("call-next: status = %d, want %d: %s", got, want, res)
	}
	if got, want := res.header.Get("Location"), "/desk"; got != want {
		t.Errorf("call-next: Location = %q, want %q", got, want)
	}
	res = h.get(t, browser, "/desk")
	if !strings.Contains(res.String(), `id="current-number">A001<`) {
		t.Errorf("desk does not show the called A001:\n%s", res)
	}
	if got, want := h.ticketStatus(t, a1.Token), "called"; got != want {
		t.Errorf("A001 status = %q, want %q", got, want)
	}

	before := h.snapshot(t)
	res = h.postForm(t, browser, "/desk/call-next", "")
	if got, want := res.status, http.StatusConflict; got != want {
		t.Errorf("call-next while serving: status = %d, want %d", got, want)
	}
	if !strings.Contains(res.String(), "still serving A001") {
		t.Errorf("call-next while serving: page does not say why:\n%s", res)
	}
	if !strings.Contains(res.String(), `id="current-number">A001<`) {
		t.Errorf("call-next while serving: the desk no longer shows A001")
	}
	if got, want := h.snapshot(t), before; got != want {
		t.Errorf("refused call-next changed state: %+v, want %+v", got, want)
	}

	res = h.postForm(t, browser, "/desk/recall", "")
	if got, want := res.status, http.StatusSeeOther; got != want {
		t.Errorf("recall: status = %d, want %d: %s", got, want, res)
	}

	res = h.postForm(t, browser, "/desk/finish", "")
	if got, want := res.status, http.StatusSeeOther; got != want {
		t.Fatalf("finish: status = %d, want %d: %s", got, want, res)
	}
	if got, want := h.ticketStatus(t, a1.Token), "done"; got != want {
		t.Errorf("A001 status after finish = %q, want %q", got, want)
	}
	res = h.get(t, browser, "/desk")
	if !strings.Contains(res.String(), `id="current-number">–<`) {
		t.Errorf("desk still shows a called ticket after finish:\n%s", res)
	}

	res = h.postForm(t, browser, "/desk/dance", "")
	if got, want := res.status, http.StatusNotFound; got != want {
		t.Errorf("unknown desk action: status = %d, want %d", got, want)
	}

	// Log out: the cookie goes, and the old value no longer works.
	res = h.postForm(t, browser, "/desk/logout", "")
	if got, want := res.status, http.StatusSeeOther; got != want {
		t.Fatalf("logout: status = %d, want %d", got, want)
	}
	if got, want := res.header.Get("Location"), "/desk/login"; got != want {
		t.Errorf("logout: Location = %q, want %q", got, want)
	}
	if got, want := h.get(t, browser, "/desk").header.Get("Location"), "/desk/login"; got != want {
		t.Errorf("desk after logout: Location = %q, want %q", got, want)
	}
	req := h.newRequest(t, http.MethodGet, "/desk", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: session.Value})
	res = h.send(t, nil, req)
	if got, want := res.status, http.StatusSeeOther; got != want {
		t.Errorf("old cookie after logout: status = %d, want %d (to the login)", got, want)
	}
	before = h.snapshot(t)
	req = h.newRequest(t, http.MethodPost, "/desk/call-next", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: session.Value})
	res = h.send(t, nil, req)
	if got, want := res.status, http.StatusUnauthorized; got != want {
		t.Errorf("call-next with the old cookie: status = %d, want %d", got, want)
	}
	if got, want := h.snapshot(t), before; got != want {
		t.Errorf("call-next with the old cookie changed state: %+v, want %+v", got, want)
	}
}

// TestDeskNoShow runs the no-show path and "nobody waiting" on the desk.
func TestDeskNoShow(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	browser := h.browser(t)
	h.login(t, browser)
	h.postForm(t, browser, "/desk/counter", "counter=3")

	res := h.postForm(t, browser, "/desk/call-next", "")
	if got, want := res.status, http.StatusConflict; got != want {
		t.Errorf("call-next with nobody waiting: status = %d, want %d", got, want)
	}
	if !strings.Contains(res.String(), "nobody is waiting") {
		t.Errorf("call-next with nobody waiting: page does not say why:\n%s", res)
	}

	b1 := h.issue(t, "meldung")
	if got, want := h.postForm(t, browser, "/desk/call-next", "").status, http.StatusSeeOther; got != want {
		t.Fatalf("call-next: status = %d, want %d", got, want)
	}
	// The desk asks first: nothing is recorded until the clerk confirms,
	// and the confirmation names the ticket.
	res = h.postForm(t, browser, "/desk/no-show", "")
	if got, want := res.status, http.StatusOK; got != want {
		t.Fatalf("no-show without confirmation: status = %d, want %d", got, want)
	}
	if !strings.Contains(res.String(), `name="confirm" value="`+b1.ID+`"`) || !strings.Contains(res.String(), "als nicht erschienen markieren?") {
		t.Errorf("no-show without confirmation: no question naming B001:\n%s", res)
	}
	if got, want := h.ticketStatus(t, b1.Token), "called"; got != want {
		t.Errorf("B001 status after the question = %q, want %q", got, want)
	}
	res = h.postForm(t, browser, "/desk/no-show", "confirm=another-ticket")
	if got, want := res.status, http.StatusConflict; got != want {
		t.Errorf("no-show confirmed for another ticket: status = %d, want %d", got, want)
	}
	if !strings.Contains(res.String(), "no longer called here") {
		t.Errorf("no-show confirmed for another ticket: page does not say why:\n%s", res)
	}
	if got, want := h.postForm(t, browser, "/desk/no-show", "confirm="+b1.ID).status, http.StatusSeeOther; got != want {
		t.Fatalf("no-show: status = %d, want %d", got, want)
	}
	if got, want := h.ticketStatus(t, b1.Token), "no_show"; got != want {
		t.Errorf("B001 status = %q, want %q", got, want)
	}
}

// TestDeskCrossOrigin checks that a cross-site POST with a valid session is
// refused and changes nothing.
func TestDeskCrossOrigin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	browser := h.browser(t)
	h.login(t, browser)
	h.postForm(t, browser, "/desk/counter", "counter=1")
	a1 := h.issue(t, "ausweis")

	before := h.snapshot(t)
	req := h.newRequest(t, http.MethodPost, "/desk/call-next", strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res := h.send(t, browser, req)
	if got, want := res.status, http.StatusForbidden; got != want {
		t.Errorf("cross-site call-next: status = %d, want %d", got, want)
	}
	if got, want := h.snapshot(t), before; got != want {
		t.Errorf("cross-site call-next changed state: %+v, want %+v", got, want)
	}
	if got, want := h.ticketStatus(t, a1.Token), "waiting"; got != want {
		t.Errorf("A001 status = %q, want %q", got, want)
	}

	// A cross-origin Origin header is refused too.
	req = h.newRequest(t, http.MethodPost, "/desk/call-next", nil)
	req.Header.Set("Origin", "https://evil.example")
	if got, want := h.send(t, browser, req).status, http.StatusForbidden; got != want {
		t.Errorf("call-next from another origin: status = %d, want %d", got, want)
	}

	// The same request from the desk itself goes through.
	req = h.newRequest(t, http.MethodPost, "/desk/call-next", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if got, want := h.send(t, browser, req).status, http.StatusSeeOther; got != want {
		t.Errorf("same-origin call-next: status = %d, want %d", got, want)
	}
	if got, want := h.ticketStatus(t, a1.Token), "called"; got != want {
		t.Errorf("A001 status after same-origin call-next = %q, want %q", got, want)
	}
}
