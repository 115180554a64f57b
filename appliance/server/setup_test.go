package server_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
)

type apiCounter struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Services []string `json:"services"`
	Open     bool     `json:"open"`
}

func (h *harness) apiCounters(t *testing.T) map[string]apiCounter {
	t.Helper()
	res := h.get(t, nil, "/api/v1/counters")
	if res.status != http.StatusOK {
		t.Fatalf("GET /api/v1/counters: status %d: %s", res.status, res)
	}
	out := map[string]apiCounter{}
	for _, c := range decode[[]apiCounter](t, res) {
		out[c.ID] = c
	}
	return out
}

// lead returns a browser logged in as demo, the harness's site lead.
func (h *harness) lead(t *testing.T) *http.Client {
	t.Helper()
	b := h.browser(t)
	h.login(t, b)
	return b
}

func TestSetupRenameAndServices(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.lead(t)

	// The desk links the setup for a lead.
	if page := h.get(t, b, "/desk").String(); !strings.Contains(page, `href="/desk/setup"`) {
		t.Errorf("desk has no link to /desk/setup for a lead")
	}
	res := h.get(t, b, "/desk/setup")
	wantStatus(t, "GET /desk/setup", res, http.StatusOK)
	page := res.String()
	for _, want := range []string{`<html lang="de"`, "Plätze einrichten", `action="/desk/setup/counters/2"`, "<fieldset", "<legend>Anliegen, die Platz 2 bedient</legend>",
		`<label for="name-2">`, `name="service" value="meldung" checked`, `value="5"`, "Platz 5"} {
		if !strings.Contains(page, want) {
			t.Errorf("setup page lacks %q", want)
		}
	}
	if en := h.get(t, b, "/desk/setup?lang=en").String(); !strings.Contains(en, "Counter setup") || !strings.Contains(en, "Registering an address") {
		t.Errorf("English setup page lacks its texts")
	}

	before := h.store.LastSeq()
	res = h.postForm(t, b, "/desk/setup/counters/2", url.Values{"name": {" Anmeldung & Abholung "}, "service": {"abholung", "meldung"}}.Encode())
	wantStatus(t, "save counter 2", res, http.StatusSeeOther)
	if got, want := res.header.Get("Location"), "/desk/setup?saved=2"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if got, want := h.store.LastSeq(), before+1; got != want {
		t.Errorf("LastSeq = %d, want %d (one CounterDefined)", got, want)
	}
	h.store.View(func(st *queue.State) {
		c := st.Counters["2"]
		if c.Name != "Anmeldung & Abholung" || !slices.Equal(c.Services, []string{"meldung", "abholung"}) {
			t.Errorf("state: counter 2 = %+v", *c)
		}
	})
	if c := h.apiCounters(t)["2"]; c.Name != "Anmeldung & Abholung" || !slices.Equal(c.Services, []string{"meldung", "abholung"}) {
		t.Errorf("API: counter 2 = %+v", c)
	}
	if page := h.get(t, b, "/desk/setup?saved=2&lang=de").String(); !strings.Contains(page, `<p class="flash" role="status">Anmeldung &amp; Abholung gespeichert.</p>`) {
		t.Errorf("no confirmation after saving: %s", page)
	}

	// Saving the same again commits nothing and says so.
	before = h.store.LastSeq()
	res = h.postForm(t, b, "/desk/setup/counters/2", "name=Anmeldung+%26+Abholung&service=meldung&service=abholung")
	wantStatus(t, "save unchanged", res, http.StatusSeeOther)
	if got, want := res.header.Get("Location"), "/desk/setup?unchanged=2"; got != want || h.store.LastSeq() != before {
		t.Errorf("unchanged save: Location = %q (want %q), LastSeq %d → %d", got, want, before, h.store.LastSeq())
	}
}

func TestSetupAddCounter(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.lead(t)
	before := h.store.LastSeq()
	res := h.postForm(t, b, "/desk/setup/counters", "id=5&name=Platz+5&service=ausweis&service=bescheinigung")
	wantStatus(t, "add counter", res, http.StatusSeeOther)
	if got, want := res.header.Get("Location"), "/desk/setup?added=5"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if got, want := h.store.LastSeq(), before+1; got != want {
		t.Errorf("LastSeq = %d, want %d", got, want)
	}
	counters := h.apiCounters(t)
	if c, ok := counters["5"]; !ok || c.Name != "Platz 5" || !slices.Equal(c.Services, []string{"ausweis", "bescheinigung"}) || c.Open {
		t.Errorf("API: counter 5 = %+v (present %v), want closed Platz 5 serving ausweis, bescheinigung", c, ok)
	}
	if len(counters) != 5 {
		t.Errorf("API lists %d counters, want 5", len(counters))
	}
	// A double submit adds it once.
	res = h.postForm(t, b, "/desk/setup/counters", "id=5&name=Platz+5&service=ausweis&service=bescheinigung")
	wantStatus(t, "add counter again", res, http.StatusSeeOther)
	if got, want := h.store.LastSeq(), before+1; got != want {
		t.Errorf("double submit: LastSeq = %d, want %d", got, want)
	}
	page := h.get(t, b, "/desk/setup?added=5").String()
	for _, want := range []string{"Platz 5 hinzugefügt.", `action="/desk/setup/counters/5"`, `name="id" value="6"`, `value="Platz 6"`} {
		if !strings.Contains(page, want) {
			t.Errorf("setup page after adding lacks %q", want)
		}
	}
	// The new counter can be staffed and called from.
	h.issue(t, "bescheinigung")
	wantStatus(t, "call at the new counter", h.counterAction(t, "5", "call-next"), http.StatusOK)
}

func TestSetupClerkForbidden(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if err := h.store.CreateUser(context.Background(), sqlite.User{Name: "clara", DisplayName: "Clara", Role: sqlite.RoleClerk}, "clara"); err != nil {
		t.Fatal(err)
	}
	b := h.browser(t)
	h.loginAs(t, b, "clara")
	if page := h.get(t, b, "/desk").String(); strings.Contains(page, "/desk/setup") {
		t.Errorf("a clerk's desk links the setup")
	}
	before := h.store.LastSeq()
	for _, res := range []response{
		h.get(t, b, "/desk/setup"),
		h.postForm(t, b, "/desk/setup/counters/1", "name=Meins&service=ausweis"),
		h.postForm(t, b, "/desk/setup/counters", "id=5&name=Platz+5&service=ausweis"),
	} {
		wantStatus(t, "clerk", res, http.StatusForbidden)
		if !strings.Contains(res.String(), "Standortleitung vorbehalten") || !strings.Contains(res.String(), `href="/desk"`) {
			t.Errorf("403 page does not explain or lead back: %s", res)
		}
	}
	if got := h.store.LastSeq(); got != before {
		t.Errorf("a clerk's request committed: LastSeq %d → %d", before, got)
	}
	// Not logged in: to the login form, as elsewhere on the desk.
	if res := h.get(t, h.browser(t), "/desk/setup"); res.status != http.StatusSeeOther || res.header.Get("Location") != "/desk/login" {
		t.Errorf("anonymous: status %d, Location %q", res.status, res.header.Get("Location"))
	}
}

func TestSetupBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.lead(t)
	for _, tc := range []struct {
		name, path, form string
		status           int
		want             []string // in the page
	}{
		{"EmptyName", "/desk/setup/counters/1", "name=+++&service=ausweis", http.StatusBadRequest, []string{"Der Name des Platzes fehlt"}},
		{"LongName", "/desk/setup/counters/1", "name=" + strings.Repeat("x", 41) + "&service=ausweis", http.StatusBadRequest,
			[]string{"höchstens 40 Zeichen", `value="` + strings.Repeat("x", 41) + `"`, `aria-invalid="true"`}},
		{"NoService", "/desk/setup/counters/1", "name=Neuer+Name", http.StatusBadRequest, []string{"mindestens ein Anliegen", `value="Neuer Name"`}},
		{"UnknownService", "/desk/setup/counters/1", "name=Platz+1&service=ausweis&service=hundesteuer", http.StatusBadRequest, []string{"Unbekanntes Anliegen"}},
		{"DuplicateName", "/desk/setup/counters/1", "name=Platz+2&service=ausweis", http.StatusConflict, []string{"Namen müssen eindeutig sein"}},
		{"AddNoService", "/desk/setup/counters", "id=5&name=Platz+5", http.StatusBadRequest, []string{"mindestens ein Anliegen", `id="counter-new-error"`}},
		{"AddWrongNumber", "/desk/setup/counters", "id=7&name=Platz+7&service=ausweis", http.StatusBadRequest, []string{"Nummer 5"}},
		{"AddNoNumber", "/desk/setup/counters", "name=Platz+7&service=ausweis", http.StatusBadRequest, []string{"Platznummer"}},
		{"UnknownCounter", "/desk/setup/counters/9", "name=Platz+9&service=ausweis", http.StatusNotFound, []string{"Unbekannter Platz"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := h.store.LastSeq()
			res := h.postForm(t, b, tc.path, tc.form)
			wantStatus(t, tc.name, res, tc.status)
			for _, want := range tc.want {
				if !strings.Contains(res.String(), want) {
					t.Errorf("page lacks %q", want)
				}
			}
			if got := h.store.LastSeq(); got != before {
				t.Errorf("refused input committed: LastSeq %d → %d", before, got)
			}
		})
	}
	// The state is as seeded.
	if c := h.apiCounters(t)["1"]; c.Name != "Platz 1" || !slices.Equal(c.Services, []string{"ausweis", "meldung"}) {
		t.Errorf("counter 1 = %+v, want as seeded", c)
	}
	// Cross-origin posts are refused by the router.
	req := h.newRequest(t, http.MethodPost, "/desk/setup/counters/1", strings.NewReader("name=Evil&service=ausweis"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if res := h.send(t, b, req); res.status != http.StatusForbidden {
		t.Errorf("cross-site post: status %d, want 403", res.status)
	}
}

func TestSetupServingTicket(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.lead(t)
	tk := h.issue(t, "ausweis")
	wantStatus(t, "call", h.counterAction(t, "1", "call-next"), http.StatusOK)

	// Dropping the service of the ticket being served: conflict, nothing committed.
	before := h.store.LastSeq()
	res := h.postForm(t, b, "/desk/setup/counters/1", "name=Platz+1&service=meldung")
	wantStatus(t, "drop served service", res, http.StatusConflict)
	if page := res.String(); !strings.Contains(page, "bedient gerade "+tk.Number) || !strings.Contains(page, "erst nach dem Abschließen") {
		t.Errorf("conflict page does not explain: %s", page)
	}
	if got := h.store.LastSeq(); got != before {
		t.Errorf("conflict committed: LastSeq %d → %d", before, got)
	}
	// The setup shows what the counter is serving.
	if page := h.get(t, b, "/desk/setup").String(); !strings.Contains(page, "bedient gerade "+tk.Number) {
		t.Errorf("setup does not show the ticket being served")
	}
	// Renaming while serving is fine.
	res = h.postForm(t, b, "/desk/setup/counters/1", "name=Platz+1+am+Fenster&service=ausweis&service=meldung")
	wantStatus(t, "rename while serving", res, http.StatusSeeOther)
	if c := h.apiCounters(t)["1"]; c.Name != "Platz 1 am Fenster" {
		t.Errorf("counter 1 = %+v after rename", c)
	}
	// Once finished, the service can go.
	wantStatus(t, "finish", h.counterAction(t, "1", "finish"), http.StatusOK)
	res = h.postForm(t, b, "/desk/setup/counters/1", "name=Platz+1+am+Fenster&service=meldung")
	wantStatus(t, "drop service after finishing", res, http.StatusSeeOther)
	if c := h.apiCounters(t)["1"]; !slices.Equal(c.Services, []string{"meldung"}) {
		t.Errorf("counter 1 = %+v, want serving meldung only", c)
	}
}

// The lead plans when a counter is usually staffed, per weekday; the wait
// estimate counts on it (queue.PlanStaffing).
func TestSetupPlan(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.lead(t)
	page := h.get(t, b, "/desk/setup").String()
	for _, want := range []string{`action="/desk/setup/counters/2/plan"`, `<legend>Geplante Besetzung von Platz 2</legend>`,
		`<label for="plan-2-1">Montag</label>`, `name="plan-1"`, `aria-describedby="plan-2-hint"`} {
		if !strings.Contains(page, want) {
			t.Errorf("setup page lacks %q", want)
		}
	}
	before := h.store.LastSeq()
	res := h.postForm(t, b, "/desk/setup/counters/2/plan", url.Values{"plan-1": {"7:30-10:00, 10:30-15:00"}, "plan-3": {"8–12"}}.Encode())
	wantStatus(t, "save plan", res, http.StatusSeeOther)
	if got, want := res.header.Get("Location"), "/desk/setup?planned=2"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if got, want := h.store.LastSeq(), before+2; got != want {
		t.Errorf("LastSeq = %d, want %d (Monday and Wednesday planned)", got, want)
	}
	h.store.View(func(st *queue.State) {
		if got, want := queue.FormatPlan(st.PlannedStaffing("2", time.Monday)), "07:30–10:00, 10:30–15:00"; got != want {
			t.Errorf("Monday's plan = %q, want %q", got, want)
		}
		if got, want := queue.FormatPlan(st.PlannedStaffing("2", time.Wednesday)), "08:00–12:00"; got != want {
			t.Errorf("Wednesday's plan = %q, want %q", got, want)
		}
	})
	page = h.get(t, b, "/desk/setup?planned=2").String()
	for _, want := range []string{"Geplante Besetzung von Platz 2 gespeichert.", `value="07:30–10:00, 10:30–15:00"`} {
		if !strings.Contains(page, want) {
			t.Errorf("setup page after planning lacks %q", want)
		}
	}

	// The same plan again commits nothing.
	before = h.store.LastSeq()
	res = h.postForm(t, b, "/desk/setup/counters/2/plan", url.Values{"plan-1": {"07:30–10:00, 10:30–15:00"}}.Encode())
	wantStatus(t, "save same plan", res, http.StatusSeeOther)
	if got, want := res.header.Get("Location"), "/desk/setup?unchanged=2"; got != want || h.store.LastSeq() != before {
		t.Errorf("unchanged plan: Location = %q (want %q), LastSeq %d → %d", got, want, before, h.store.LastSeq())
	}

	// A plan that makes no sense is refused with a message naming the day,
	// the form shows what was typed, and nothing is committed.
	for _, bad := range []string{"8:00-25:00", "15:00-8:00", "acht bis drei", "8:00-12:00, 11:00-15:00"} {
		res = h.postForm(t, b, "/desk/setup/counters/2/plan", url.Values{"plan-1": {bad}}.Encode())
		wantStatus(t, "bad plan "+bad, res, http.StatusBadRequest)
		if body := res.String(); !strings.Contains(body, "Montag:") || !strings.Contains(body, `aria-invalid="true"`) {
			t.Errorf("refused plan %q: page lacks the day's message or the marked field", bad)
		}
		if h.store.LastSeq() != before {
			t.Errorf("refused plan %q committed something", bad)
		}
	}
	res = h.postForm(t, b, "/desk/setup/counters/9/plan", url.Values{"plan-1": {"8-12"}}.Encode())
	wantStatus(t, "plan of an unknown counter", res, http.StatusNotFound)
	res = h.postForm(t, b, "/desk/setup/counters/2/plan", "name=x")
	wantStatus(t, "plan without days", res, http.StatusBadRequest)
}

// TestSetupOnlineShare: the lead sets how many places of each slot central
// may sell online; the setting is an event of the site's log, shown as
// waiting for central's acknowledgement; bad input is refused at its
// field, in the page's language, and nothing is committed.
func TestSetupOnlineShare(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.lead(t)
	var service string
	h.store.View(func(st *queue.State) { service = st.ServiceOrder[0] })
	page := h.get(t, b, "/desk/setup").String()
	for _, want := range []string{`action="/desk/setup/online"`, `name="online-` + service + `"`, "Online-Plätze je Termin"} {
		if !strings.Contains(page, want) {
			t.Errorf("setup page lacks %q", want)
		}
	}
	for _, bad := range []string{"-1", "100", "zwei"} {
		before := h.store.LastSeq()
		res := h.postForm(t, b, "/desk/setup/online", url.Values{"online-" + service: {bad}}.Encode())
		wantStatus(t, "bad share "+bad, res, http.StatusBadRequest)
		if body := res.String(); !strings.Contains(body, "Zahl von 0 bis 99") || !strings.Contains(body, `aria-invalid="true"`) || !strings.Contains(body, `value="`+bad+`"`) {
			t.Errorf("refused share %q: page lacks the message, the marked field or the value typed", bad)
		}
		if h.store.LastSeq() != before {
			t.Errorf("refused share %q committed something", bad)
		}
	}
	before := h.store.LastSeq()
	res := h.postForm(t, b, "/desk/setup/online", url.Values{"online-" + service: {"0"}}.Encode())
	wantStatus(t, "save share", res, http.StatusSeeOther)
	if h.store.LastSeq() != before+1 {
		t.Errorf("LastSeq = %d, want %d", h.store.LastSeq(), before+1)
	}
	h.store.View(func(st *queue.State) {
		if places, acked := st.OnlineSetting(service); places != 0 || acked {
			t.Errorf("setting = %d, acknowledged %v; want 0, not yet", places, acked)
		}
	})
	page = h.get(t, b, "/desk/setup?online=1").String()
	for _, want := range []string{"Online-Plätze gespeichert.", `id="online-` + service + `-pending"`, "Wartet auf die Bestätigung der Zentrale."} {
		if !strings.Contains(page, want) {
			t.Errorf("setup page after saving lacks %q", want)
		}
	}
	// The same again commits nothing.
	before = h.store.LastSeq()
	wantStatus(t, "same share", h.postForm(t, b, "/desk/setup/online", url.Values{"online-" + service: {"0"}}.Encode()), http.StatusSeeOther)
	if h.store.LastSeq() != before {
		t.Error("the same share committed again")
	}
}
