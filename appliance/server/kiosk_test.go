package server_test

import (
	"bytes"
	"image/png"
	"net/http"
	"strings"
	"testing"
)

func TestKioskPage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	res := h.get(t, nil, "/kiosk")
	if got, want := res.status, http.StatusOK; got != want {
		t.Fatalf("status = %d, want %d", got, want)
	}
	if got, want := res.header.Get("Content-Type"), "text/html"; !strings.HasPrefix(got, want) {
		t.Errorf("Content-Type = %q, want %s", got, want)
	}
	page := res.String()
	if got, want := strings.Count(page, `<button type="submit" class="service-button"`), 4; got != want {
		t.Errorf("service buttons = %d, want %d", got, want)
	}
	for _, id := range []string{"ausweis", "meldung", "bescheinigung", "abholung"} {
		if !strings.Contains(page, `name="service" value="`+id+`"`) {
			t.Errorf("no button for %s", id)
		}
	}
	if !strings.Contains(page, "Personalausweis und Reisepass") {
		t.Errorf("page does not name the ausweis service")
	}
	// Every rendering gets a fresh idempotency key.
	if key := between(page, `name="key" value="`, `"`); key == "" || strings.Contains(h.get(t, nil, "/kiosk").String(), key) {
		t.Errorf("kiosk key %q is empty or repeats on the next rendering", key)
	}
}

func TestKioskTakeTicket(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	res := h.postForm(t, nil, "/kiosk/tickets", "service=ausweis&key=k1")
	if got, want := res.status, http.StatusSeeOther; got != want {
		t.Fatalf("status = %d, want %d: %s", got, want, res)
	}
	loc := res.header.Get("Location")
	token, ok := strings.CutPrefix(loc, "/kiosk/tickets/")
	if !ok || len(token) < 22 || strings.Contains(token, "/") {
		t.Fatalf("Location = %q, want /kiosk/tickets/<token>", loc)
	}

	// A double tap sends the same key again: same ticket.
	res = h.postForm(t, nil, "/kiosk/tickets", "service=ausweis&key=k1")
	if got, want := res.status, http.StatusSeeOther; got != want {
		t.Fatalf("second tap: status = %d, want %d", got, want)
	}
	if got, want := res.header.Get("Location"), loc; got != want {
		t.Errorf("second tap: Location = %q, want %q", got, want)
	}
	if got, want := h.queue(t).Waiting, 1; got != want {
		t.Errorf("waiting after a double tap = %d, want %d", got, want)
	}

	res = h.get(t, nil, loc)
	if got, want := res.status, http.StatusOK; got != want {
		t.Fatalf("ticket page: status = %d, want %d", got, want)
	}
	page := res.String()
	if !strings.Contains(page, `id="ticket-number" dir="ltr"><bdi>A001</bdi><`) {
		t.Errorf("ticket page does not show A001:\n%s", page)
	}
	qr := loc + "/qr.png"
	if !strings.Contains(page, `<img class="qr" src="`+qr+`"`) {
		t.Errorf("ticket page has no <img> of %s:\n%s", qr, page)
	}
	if got, want := res.header.Get("Cache-Control"), "no-store"; got != want {
		t.Errorf("ticket page Cache-Control = %q, want %q", got, want)
	}

	res = h.get(t, nil, qr)
	if got, want := res.status, http.StatusOK; got != want {
		t.Fatalf("qr: status = %d, want %d", got, want)
	}
	if got, want := res.header.Get("Content-Type"), "image/png"; got != want {
		t.Errorf("qr Content-Type = %q, want %q", got, want)
	}
	img, err := png.Decode(bytes.NewReader(res.body))
	if err != nil {
		t.Fatalf("qr is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dx() != b.Dy() {
		t.Errorf("qr is %v, want a square of at least 100 px", b)
	}

	res = h.get(t, nil, loc+"/print")
	if got, want := res.status, http.StatusOK; got != want {
		t.Fatalf("print: status = %d, want %d", got, want)
	}
	if !strings.Contains(res.String(), `class="receipt-number" dir="ltr"><bdi>A001</bdi><`) {
		t.Errorf("print page does not show A001")
	}

	// Another key, another ticket.
	res = h.postForm(t, nil, "/kiosk/tickets", "service=ausweis&key=k2")
	if got := res.header.Get("Location"); got == loc || !strings.HasPrefix(got, "/kiosk/tickets/") {
		t.Errorf("new key: Location = %q, want a new ticket", got)
	}
	if got, want := h.queue(t).Waiting, 2; got != want {
		t.Errorf("waiting = %d, want %d", got, want)
	}
}

// TestKioskKeyDoesNotReplayAPITickets checks that a kiosk cannot use an API
// client's Idempotency-Key to reach that client's ticket page (and token).
func TestKioskKeyDoesNotReplayAPITickets(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	api := decode[apiTicket](t, h.postJSON(t, "/api/v1/tickets", `{"service":"ausweis"}`, "Idempotency-Key", "order-7"))
	res := h.postForm(t, nil, "/kiosk/tickets", "service=ausweis&key=api-order-7")
	if got := res.header.Get("Location"); strings.Contains(got, api.Token) {
		t.Errorf("kiosk key api-order-7 led to the API ticket: Location = %q", got)
	}
}

func TestKioskErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	before := h.snapshot(t)

	res := h.postForm(t, nil, "/kiosk/tickets", "service=zulassung&key=k1")
	if got, want := res.status, http.StatusBadRequest; got != want {
		t.Errorf("unknown service: status = %d, want %d", got, want)
	}
	if got, want := res.header.Get("Content-Type"), "text/html"; !strings.HasPrefix(got, want) {
		t.Errorf("unknown service: Content-Type = %q, want %s", got, want)
	}
	if !strings.Contains(res.String(), "unknown service") {
		t.Errorf("unknown service: page does not say why:\n%s", res)
	}

	res = h.get(t, nil, "/kiosk/tickets/xyz")
	if got, want := res.status, http.StatusNotFound; got != want {
		t.Errorf("unknown ticket page: status = %d, want %d", got, want)
	}
	if !strings.Contains(res.String(), "ticket not found") {
		t.Errorf("unknown ticket page does not say why")
	}
	if got, want := h.get(t, nil, "/kiosk/tickets/xyz/qr.png").status, http.StatusNotFound; got != want {
		t.Errorf("unknown ticket QR: status = %d, want %d", got, want)
	}

	if got, want := h.snapshot(t), before; got != want {
		t.Errorf("state changed: %+v, want %+v", got, want)
	}
}

func TestHomeAndNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	res := h.get(t, nil, "/")
	if got, want := res.status, http.StatusOK; got != want {
		t.Fatalf("home: status = %d, want %d", got, want)
	}
	for _, link := range []string{`href="/kiosk"`, `href="/desk"`, `href="/display"`} {
		if !strings.Contains(res.String(), link) {
			t.Errorf("home has no %s", link)
		}
	}
	if !strings.Contains(res.String(), "Kundenzentrum Kalk") {
		t.Errorf("home does not name the site")
	}

	res = h.get(t, nil, "/nowhere")
	if got, want := res.status, http.StatusNotFound; got != want {
		t.Errorf("unknown page: status = %d, want %d", got, want)
	}
	if got, want := res.header.Get("Content-Type"), "text/html"; !strings.HasPrefix(got, want) {
		t.Errorf("unknown page: Content-Type = %q, want %s", got, want)
	}

	res = h.get(t, nil, "/static/app.css")
	if got, want := res.status, http.StatusOK; got != want {
		t.Errorf("static css: status = %d, want %d", got, want)
	}
	if got, want := res.header.Get("X-Content-Type-Options"), "nosniff"; got != want {
		t.Errorf("X-Content-Type-Options = %q, want %q", got, want)
	}
}

// between returns the text after the first start up to end.
func between(s, start, end string) string {
	_, after, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, end)
	return v
}
