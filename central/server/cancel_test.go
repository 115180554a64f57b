package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
)

// postCancel posts the status page's cancel form (without following the
// redirect) and returns the status, Location and body.
func (e *env) postCancel(token string, header ...string) (int, string, string) {
	e.t.Helper()
	path, query, _ := strings.Cut(token, "?")
	req, err := http.NewRequest(http.MethodPost, e.URL+"/t/"+path+"/cancel?"+query, strings.NewReader(""))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body strings.Builder
	if _, err := io.Copy(&body, resp.Body); err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Location"), body.String()
}

// outbound returns the whole outbound log of site.
func (e *env) outbound(site string) []changelog.Entry {
	e.t.Helper()
	entries, _, err := e.Store.Outbound(context.Background(), site, 0, 1000, 1<<20)
	if err != nil {
		e.t.Fatal(err)
	}
	return entries
}

// cancelRequests returns the cancellation requests in site's outbound log.
func (e *env) cancelRequests(site string) []changelog.Entry {
	var out []changelog.Entry
	for _, en := range e.outbound(site) {
		if en.Type == queue.TypeCancelRequested {
			out = append(out, en)
		}
	}
	return out
}

const cancelForm = `<details class="cancel" data-show="cancel"`

func TestCancelButtonOnlyWhileWaitingOrParked(t *testing.T) {
	e := newEnv(t)
	l := opening(t, e.Clock)
	e.mustPost(l.batch(1, 5))
	contains(t, "waiting ticket", e.html("/t/"+tokenB, http.StatusOK),
		cancelForm+`>`, `<form method="post" action="/t/`+tokenB+`/cancel">`, "Ticket stornieren", "Ja, Ticket stornieren",
		`data-show="cancel_requested" hidden>`)
	contains(t, "waiting ticket in Arabic", e.html("/t/"+tokenB+"?lang=ar", http.StatusOK), "إلغاء رقم الانتظار")

	call(l)
	e.mustPost(l.batch(6, 7))
	contains(t, "called ticket", e.html("/t/"+tokenA, http.StatusOK), cancelForm+` hidden>`)

	l.add(queue.TypeTicketParked, "ticket/2026-03-04/A001", &queue.TicketParked{ID: "2026-03-04/A001", Counter: "p3"})
	e.mustPost(l.batch(8, 8))
	contains(t, "parked ticket", e.html("/t/"+tokenA, http.StatusOK), cancelForm+`>`, `data-field="state">Zurückgestellt<`)
}

func TestCancelRequestGoesToTheSite(t *testing.T) {
	e := newEnv(t)
	l := opening(t, e.Clock)
	e.mustPost(l.batch(1, 5))
	before := len(e.outbound(siteID))

	status, loc, _ := e.postCancel(tokenB)
	if status != http.StatusSeeOther || loc != "/t/"+tokenB {
		t.Fatalf("POST cancel = %d to %q, want 303 to the status page", status, loc)
	}
	reqs := e.cancelRequests(siteID)
	if len(reqs) != 1 || len(e.outbound(siteID)) != before+1 {
		t.Fatalf("outbound: %d cancellation requests, %d entries (before %d); want exactly one appended", len(reqs), len(e.outbound(siteID)), before)
	}
	r := reqs[0]
	p, err := changelog.DecodePayload(&r, queue.NewPayload)
	if err != nil {
		t.Fatal(err)
	}
	if r.Site != siteID || r.Entity != "ticket/2026-03-04/A002" || p.(*queue.CancelRequested).ID != "2026-03-04/A002" {
		t.Errorf("request = site %q entity %q payload %+v", r.Site, r.Entity, p)
	}
	if !e.ticket(tokenB).CancelRequested {
		t.Error("API: cancel_requested not set")
	}
	contains(t, "requested", e.html("/t/"+tokenB, http.StatusOK), `data-show="cancel_requested">Stornierung angefragt`, cancelForm+` hidden>`)

	// Pressed twice: nothing more.
	if status, _, _ := e.postCancel(tokenB); status != http.StatusSeeOther {
		t.Errorf("second POST = %d, want 303", status)
	}
	if got := len(e.outbound(siteID)); got != before+1 {
		t.Errorf("after the second POST: %d entries, want %d", got, before+1)
	}

	// The site takes the request in (its downlink polls past it) and its
	// decision arrives.
	if _, err := e.Central.Outbound(context.Background(), siteID, r.Seq, 0); err != nil {
		t.Fatal(err)
	}
	l.add(queue.TypeTicketCancelled, "ticket/2026-03-04/A002", &queue.TicketCancelled{ID: "2026-03-04/A002"})
	e.mustPost(l.batch(6, 6))
	if got := e.ticket(tokenB); got.Status != queue.StatusCancelled || got.CancelRequested {
		t.Errorf("after the decision: %+v", got)
	}
	contains(t, "cancelled", e.html("/t/"+tokenB, http.StatusOK), `data-field="state">Storniert<`, `data-show="cancelled">Ihr Ticket ist storniert`, cancelForm+` hidden>`)

	// Ended: 409, nothing appended.
	status, _, body := e.postCancel(tokenB)
	if status != http.StatusConflict {
		t.Errorf("POST cancel of a cancelled ticket = %d, want 409", status)
	}
	contains(t, "409 page", body, "Stornieren nicht möglich", "bereits beendet", `href="/t/`+tokenB+`"`)
	if got := len(e.outbound(siteID)); got != before+1 {
		t.Errorf("after the 409: %d entries, want %d", got, before+1)
	}
}

func TestCancelRefusedOrBad(t *testing.T) {
	e := newEnv(t)
	l := opening(t, e.Clock)
	e.mustPost(l.batch(1, 5))
	call(l)
	e.mustPost(l.batch(6, 7))
	before := len(e.outbound(siteID))

	status, _, body := e.postCancel(tokenA)
	if status != http.StatusConflict {
		t.Errorf("POST cancel of a called ticket = %d, want 409", status)
	}
	contains(t, "called 409", body, "bereits aufgerufen")
	status, _, body = e.postCancel(tokenA + "?lang=en") // the token, then the query
	if status != http.StatusConflict {
		t.Errorf("POST cancel in English = %d, want 409", status)
	}
	contains(t, "called 409 in English", body, "already been called")

	for _, token := range []string{"unknown-token-abcdefghijkl", strings.Repeat("x", 200)} {
		if status, _, _ := e.postCancel(token); status != http.StatusNotFound {
			t.Errorf("POST cancel of %.20s… = %d, want 404", token, status)
		}
	}
	// A forged cross-site post is refused by the router.
	if status, _, _ := e.postCancel(tokenB, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"); status != http.StatusForbidden {
		t.Errorf("cross-site POST = %d, want 403", status)
	}
	// GET does not cancel.
	if resp, _ := e.get("/t/" + tokenB + "/cancel"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET cancel = %d, want 405", resp.StatusCode)
	}
	if got := len(e.outbound(siteID)); got != before {
		t.Errorf("outbound grew to %d from %d on refused requests", got, before)
	}
	if e.ticket(tokenB).CancelRequested {
		t.Error("B marked as cancel requested")
	}
}
