package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/central/server"
	"github.com/veedel/veedel/internal/ratelimit"
)

// noRedirect is a client that shows a redirect instead of following it.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// page GETs a booking page from central's own server (b.api).
func (b *bookingSite) page(path string, wantStatus int, header ...string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.api+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		b.t.Fatalf("GET %s: status %d, want %d\n%s", path, resp.StatusCode, wantStatus, body)
	}
	return resp, string(body)
}

// submit posts a form as the browser does (same origin).
func (b *bookingSite) submit(path string, form url.Values, wantStatus int, header ...string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.api+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		b.t.Fatalf("POST %s: status %d, want %d\n%s", path, resp.StatusCode, wantStatus, body)
	}
	return resp, string(body)
}

// holds counts the places held or booked online at the site (the tests
// that use it confirm nothing).
func (b *bookingSite) holds() int {
	taken, err := b.Central.SlotsTaken(context.Background(), siteID, "ausweis", time.UnixMilli(0), b.Clock.Now().AddDate(1, 0, 0), b.Clock.Now())
	if err != nil {
		b.t.Fatal(err)
	}
	n := 0
	for _, k := range taken {
		n += k
	}
	return n
}

// bookingForm is step 4's valid form for the slot at start.
func bookingForm(start time.Time, email string) url.Values {
	return url.Values{"service": {"ausweis"}, "site": {siteID}, "start": {start.UTC().Format(time.RFC3339)},
		"name": {"Jan Nowak"}, "email": {email}, "phone": {""}, "consent": {"yes"}}
}

var slotValue = regexp.MustCompile(`name="start" id="slot-(\d{4})" value="([^"]+)"`)

// TestBookingPagesJourney walks the four steps, the code page and the
// booking's page over HTTP, as a browser without JavaScript does.
func TestBookingPagesJourney(t *testing.T) {
	b := newBookingSite(t)

	_, step1 := b.page("/termin", http.StatusOK)
	contains(t, "step 1", step1, `<html lang="de" dir="ltr">`, "Wofür brauchen Sie einen Termin?",
		`href="/termin?service=ausweis"`, "Personalausweis", "dauert etwa <bdi>10</bdi> Min.", "Bitte mitbringen",
		`aria-current="step"`)

	_, step2 := b.page("/termin?service=ausweis", http.StatusOK)
	contains(t, "step 2", step2, "Wo möchten Sie hin?", siteName, "Ohne Termin jetzt",
		`href="/termin?service=ausweis&amp;site=`+siteID+`"`, `href="/termin">Anliegen</a>`)

	// Step 3 without a day chooses the first day with a free slot: today
	// (Wednesday 10:00; an hour's lead, so from 11:00).
	_, step3 := b.page("/termin?service=ausweis&site="+siteID, http.StatusOK)
	contains(t, "step 3", step3, "An welchem Tag?", "Mittwoch, 04.03.", `aria-current="date"`, "Freie Uhrzeiten am",
		`id="slot-1100"`, "Samstag, 07.03.", "keine freien Termine")
	if strings.Contains(step3, `id="slot-1050"`) {
		t.Error("a slot within the hour's lead time is offered")
	}
	_, thursday := b.page("/termin?service=ausweis&site="+siteID+"&date=2026-03-05", http.StatusOK)
	m := slotValue.FindAllStringSubmatch(thursday, -1)
	if len(m) != 24 || m[0][1] != "0800" {
		t.Fatalf("Thursday: %d slots from %v, want 24 from 08:00", len(m), m)
	}
	start, _ := time.Parse(time.RFC3339, m[3][2]) // 08:30

	_, step4 := b.page("/termin?service=ausweis&site="+siteID+"&start="+url.QueryEscape(m[3][2]), http.StatusOK)
	contains(t, "step 4", step4, "<bdi>Donnerstag</bdi>, <bdi>05.03.2026</bdi>, <bdi>08:30</bdi> Uhr", `autocomplete="name"`, `type="email"`,
		`name="start" value="`+m[3][2]+`"`, "Datenschutz", `<legend><h2>Ihre Angaben</h2></legend>`)

	resp, _ := b.submit("/termin", bookingForm(start, "jan.nowak@example.de"), http.StatusSeeOther)
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/b/") || strings.Contains(loc, "nowak") {
		t.Fatalf("after the hold: Location %q", loc)
	}
	resp, held := b.page(loc, http.StatusOK)
	contains(t, "code page", held, "Wir haben Ihnen einen Code geschickt", "<bdi>j…@example.de</bdi>",
		`inputmode="numeric"`, `autocomplete="one-time-code"`, `action="`+loc+`/confirm"`)
	notContains(t, "code page", held, "jan.nowak", "Nowak")
	headers(t, "code page", resp, "Cache-Control", "no-store", "Referrer-Policy", "no-referrer")
	if b.holds() != 1 {
		t.Fatalf("%d holds, want 1", b.holds())
	}

	// A wrong code: the attempts left beside the field.
	_, wrong := b.submit(loc+"/confirm", url.Values{"code": {"000000"}}, http.StatusBadRequest)
	if b.codes.code("jan.nowak@example.de") == "000000" {
		t.Skip("the random code was 000000")
	}
	contains(t, "wrong code", wrong, `id="f-code-error"`, "Sie haben noch 4 Versuche", `aria-invalid="true"`,
		`href="#f-code"`, `id="error-summary"`, "autofocus")
	_, malformed := b.submit(loc+"/confirm", url.Values{"code": {"12ab"}}, http.StatusBadRequest)
	contains(t, "malformed code (no attempt spent)", malformed, "Der Code hat 6 Ziffern")

	resp, _ = b.submit(loc+"/confirm", url.Values{"code": {b.codes.code("jan.nowak@example.de")}}, http.StatusSeeOther)
	if resp.Header.Get("Location") != loc {
		t.Fatalf("after confirming: Location %q, want %q", resp.Header.Get("Location"), loc)
	}
	// The confirmation went to the mailbox: the code and the private link.
	b.codes.mu.Lock()
	mail := b.codes.sent["jan.nowak@example.de"]
	b.codes.mu.Unlock()
	contains(t, "confirmation e-mail", mail, "Ihr Termin ist gebucht.", "Buchungscode: T", "Donnerstag, 05.03.2026, 08:30 Uhr", b.api+loc)
	resp, booked := b.page(loc, http.StatusOK)
	headers(t, "booking page", resp, "Cache-Control", "no-store", "Referrer-Policy", "no-referrer")
	// The code from the e-mail (on the page the same letters could also
	// turn up inside the QR image's base64).
	inMail := regexp.MustCompile(`Buchungscode: (T[A-Z0-9]{9})`).FindStringSubmatch(mail)
	if inMail == nil {
		t.Fatalf("no booking code in the e-mail:\n%s", mail)
	}
	code := inMail[1]
	contains(t, "booking page", booked, "Ihr Termin ist gebucht", "Bestätigt",
		`<span>`+code[:1]+`</span> <span>`+code[1:4]+`</span> <span>`+code[4:7]+`</span> <span>`+code[7:]+`</span>`,
		`src="data:image/png;base64,`, "<bdi>Donnerstag</bdi>, <bdi>05.03.2026</bdi>, <bdi>08:30</bdi> Uhr", siteName, "Bitte mitbringen",
		`href="/api/v1/appointments/`+strings.TrimPrefix(loc, "/b/")+`/ics"`, "In den Kalender", `href="`+loc+`/cancel"`)
	notContains(t, "booking page", booked, "Nowak", "example.de")

	// The page's stream reports the status, and names no person.
	ev := firstEvent(t, b.api+loc+"/events")
	contains(t, "status stream", ev, "event: booking", `"status":"confirmed"`)
	notContains(t, "status stream", ev, "Nowak", "example.de", code)

	// The site takes the booking over: the page says so.
	b.download()
	b.upload()
	_, atSite := b.page(loc, http.StatusOK)
	contains(t, "at the site", atSite, "Beim Standort angekommen", "Der Standort hat Ihren Termin.")

	_, ask := b.page(loc+"/cancel", http.StatusOK)
	contains(t, "cancel step", ask, "Termin absagen?", `action="`+loc+`/cancel"`, "Nein, Termin behalten")
	resp, _ = b.submit(loc+"/cancel", nil, http.StatusSeeOther)
	_, cancelled := b.page(resp.Header.Get("Location"), http.StatusOK)
	contains(t, "cancelled", cancelled, "Ihr Termin ist abgesagt", `href="/termin"`)
	b.download()
	if got := b.slots("2026-03-05")[3].Available; got != 1 {
		t.Errorf("the cancelled slot shows %d free, want 1", got)
	}
}

// TestBookingStepsRefuseBadChoices: a choice that does not fit shows its
// own step with the message beside the list, in the page's language.
func TestBookingStepsRefuseBadChoices(t *testing.T) {
	b := newBookingSite(t)
	base := "/termin?service=ausweis&site=" + siteID
	for _, tt := range []struct {
		what, path string
		status     int
		want       []string
	}{
		{"unknown service", "/termin?service=nope", http.StatusBadRequest, []string{`id="services-error"`, "Dieses Anliegen kennen wir nicht", `href="#services"`, `aria-describedby="services-error"`}},
		{"unknown service, Turkish", "/termin?service=nope&lang=tr", http.StatusBadRequest, []string{`<html lang="tr"`, "Bu işlemi tanımıyoruz"}},
		{"unknown site", "/termin?service=ausweis&site=nowhere", http.StatusBadRequest, []string{`id="sites-error"`, "An diesem Standort gibt es"}},
		{"past day", base + "&date=2026-03-03", http.StatusBadRequest, []string{`id="days-error"`, "Dieser Tag liegt in der Vergangenheit", `href="#days"`}},
		{"past day, Arabic", base + "&date=2026-03-03&lang=ar", http.StatusBadRequest, []string{`<html lang="ar" dir="rtl">`, "هذا اليوم في الماضي"}},
		{"malformed day", base + "&date=5.3.2026", http.StatusBadRequest, []string{"Dieses Datum verstehen wir nicht"}},
		{"day too far", base + "&date=2026-04-30", http.StatusBadRequest, []string{"Termine gibt es für die nächsten 14 Tage"}},
		{"malformed start", base + "&start=morgen", http.StatusBadRequest, []string{`id="slots-error"`, "Diese Uhrzeit verstehen wir nicht"}},
		{"past start", base + "&start=" + url.QueryEscape("2026-03-04T08:00:00+01:00"), http.StatusBadRequest, []string{"Dieser Tag liegt in der Vergangenheit"}},
		{"start off the plan", base + "&start=" + url.QueryEscape("2026-03-05T08:03:00+01:00"), http.StatusConflict, []string{"Dieser Termin ist nicht mehr frei"}},
	} {
		_, body := b.page(tt.path, tt.status)
		contains(t, tt.what, body, tt.want...)
		contains(t, tt.what, body, `id="error-summary"`, "autofocus")
	}
	if b.holds() != 0 {
		t.Fatalf("%d holds after bad choices", b.holds())
	}
}

// TestBookingFormRefusesBadFields: each bad field gets its message beside
// it, linked from the summary, in the page's language; nothing is held,
// and what was typed stays.
func TestBookingFormRefusesBadFields(t *testing.T) {
	b := newBookingSite(t)
	start := b.slots("2026-03-05")[2].Start
	for _, tt := range []struct {
		what   string
		edit   func(url.Values)
		header []string
		field  string
		want   []string
	}{
		{"no name", func(f url.Values) { f.Set("name", " ") }, nil, "f-name", []string{"Bitte geben Sie Ihren Vor- und Nachnamen ein."}},
		{"name too long", func(f url.Values) { f.Set("name", strings.Repeat("a", 81)) }, nil, "f-name", []string{"höchstens 80 Zeichen"}},
		{"name with a bidi override", func(f url.Values) { f.Set("name", "Jan \u202eNowak") }, nil, "f-name", []string{"ein Zeichen, das wir nicht annehmen"}},
		{"no e-mail", func(f url.Values) { f.Set("email", "") }, nil, "f-email", []string{"Bitte geben Sie Ihre E-Mail-Adresse ein"}},
		{"malformed e-mail", func(f url.Values) { f.Set("email", "jan@@example") }, nil, "f-email", []string{"eine E-Mail-Adresse wie name@example.de", `value="jan@@example"`}},
		{"malformed e-mail, English", func(f url.Values) { f.Set("email", "jan.example.de") }, []string{"Cookie", "lang=en"}, "f-email", []string{"Please enter an e-mail address like"}},
		{"malformed phone", func(f url.Values) { f.Set("phone", "call me") }, nil, "f-phone", []string{"eine Mobilnummer wie 0171 1234567"}},
		{"no consent", func(f url.Values) { f.Del("consent") }, nil, "f-consent", []string{"Bitte stimmen Sie zu", `value="Jan Nowak"`}},
		{"no consent, Turkish", func(f url.Values) { f.Del("consent") }, []string{"Accept-Language", "tr-TR,tr"}, "f-consent", []string{`<html lang="tr"`, "Lütfen bilgilerinizin randevu için işlenmesini onaylayın."}},
		{"no consent, Arabic", func(f url.Values) { f.Del("consent") }, []string{"Cookie", "lang=ar"}, "f-consent", []string{`<html lang="ar" dir="rtl">`, "يُرجى الموافقة على معالجة بياناتك لأجل الموعد."}},
	} {
		f := bookingForm(start, "jan@example.de")
		tt.edit(f)
		_, body := b.submit("/termin", f, http.StatusBadRequest, tt.header...)
		contains(t, tt.what, body, tt.want...)
		contains(t, tt.what, body, `id="error-summary"`, "autofocus", `href="#`+tt.field+`"`, `id="`+tt.field+`-error"`)
		field := regexp.MustCompile(`<input id="` + tt.field + `"[^>]*>`).FindString(body)
		if !strings.Contains(field, `aria-invalid="true"`) || !strings.Contains(field, tt.field+"-error") {
			t.Errorf("%s: the field is not marked and described: %s", tt.what, field)
		}
		if n := b.holds(); n != 0 {
			t.Fatalf("%s: %d holds", tt.what, n)
		}
	}
	// A past slot posted: step 3 again, nothing held.
	f := bookingForm(start.AddDate(0, 0, -2), "jan@example.de")
	_, body := b.submit("/termin", f, http.StatusBadRequest)
	contains(t, "past slot posted", body, "Dieser Tag liegt in der Vergangenheit")
	if n := b.holds(); n != 0 {
		t.Fatalf("past slot: %d holds", n)
	}
	// A post from another site is refused before anything is read.
	req, _ := http.NewRequest(http.MethodPost, b.api+"/termin", strings.NewReader(bookingForm(start, "x@example.de").Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || b.holds() != 0 {
		t.Fatalf("cross-site post: %d, %d holds", resp.StatusCode, b.holds())
	}
}

// TestBookingHoldEnds: a hold not confirmed in time, or confirmed wrongly
// too often, explains itself and links back to the slot choice; a slot
// taken meanwhile sends the citizen back to choose another.
func TestBookingHoldEnds(t *testing.T) {
	b := newBookingSite(t)
	start := b.slots("2026-03-05")[4].Start
	resp, _ := b.submit("/termin", bookingForm(start, "a@example.de"), http.StatusSeeOther)
	first := resp.Header.Get("Location")

	// The slot's one online place is held: another citizen's post is 409.
	_, taken := b.submit("/termin", bookingForm(start, "b@example.de"), http.StatusConflict)
	contains(t, "slot taken", taken, "Dieser Termin ist nicht mehr frei")

	b.Clock.Add(appointment.DefaultHoldFor + time.Second)
	_, expired := b.page(first, http.StatusOK)
	contains(t, "expired hold", expired, "Die Reservierung ist abgelaufen",
		`href="/termin?date=2026-03-05&amp;service=ausweis&amp;site=`+siteID+`#slots"`)
	b.submit(first+"/confirm", url.Values{"code": {b.codes.code("a@example.de")}}, http.StatusConflict)

	resp, _ = b.submit("/termin", bookingForm(start, "b@example.de"), http.StatusSeeOther)
	second := resp.Header.Get("Location")
	for range appointment.DefaultConfirmAttempts - 1 {
		b.submit(second+"/confirm", url.Values{"code": {"999999"}}, http.StatusBadRequest)
	}
	if b.codes.code("b@example.de") == "999999" {
		t.Skip("the random code was 999999")
	}
	_, last := b.submit(second+"/confirm", url.Values{"code": {"999999"}}, http.StatusConflict)
	contains(t, "too many wrong codes", last, "Zu viele falsche Codes", "Die Reservierung ist abgelaufen", `id="again"`)
	if b.holds() != 0 {
		t.Fatalf("%d holds after they ended", b.holds())
	}
	b.page("/b/unknown-token", http.StatusNotFound)

	// A hold can be released from its code page, with the same question.
	resp, _ = b.submit("/termin", bookingForm(start, "c@example.de"), http.StatusSeeOther)
	third := resp.Header.Get("Location")
	_, held := b.page(third, http.StatusOK)
	contains(t, "code page", held, `href="`+third+`/cancel"`, "Reservierung aufheben")
	_, ask := b.page(third+"/cancel", http.StatusOK)
	contains(t, "release step", ask, "Termin absagen?", `id="cancel-submit"`)
	b.submit(third+"/cancel", nil, http.StatusSeeOther)
	if b.holds() != 0 || b.slots("2026-03-05")[4].Available != 1 {
		t.Fatalf("after releasing: %d holds, %d free", b.holds(), b.slots("2026-03-05")[4].Available)
	}
}

// The portal's start page links to the booking, and beside each site that
// sells appointments online to the booking there.
func TestPortalLinksToBooking(t *testing.T) {
	b := newBookingSite(t)
	_, body := b.page("/", http.StatusOK)
	contains(t, "portal", body, `href="/termin"`, "Termin buchen", `href="/termin?site=`+siteID+`"`)
	_, step1 := b.page("/termin?site="+siteID, http.StatusOK)
	contains(t, "step 1 from a site", step1, `href="/termin?service=ausweis&amp;site=`+siteID+`"`)
	_, step3 := b.page("/termin?service=ausweis&site="+siteID, http.StatusOK)
	contains(t, "step 3 after it", step3, "An welchem Tag?")
}

func notContains(t *testing.T, what, body string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(body, u) {
			t.Errorf("%s: contains %q", what, u)
		}
	}
}

func headers(t *testing.T, what string, resp *http.Response, kv ...string) {
	t.Helper()
	for i := 0; i+1 < len(kv); i += 2 {
		if got := resp.Header.Get(kv[i]); got != kv[i+1] {
			t.Errorf("%s: %s = %q, want %q", what, kv[i], got, kv[i+1])
		}
	}
}

// TestBookingFormSellerRefusals: the seller's own refusals show on step 4
// in the page's language and hold nothing: no way to send codes (503),
// too many holds from one connection (429), the contact's limit of
// appointments for the service (409, beside the e-mail field).
func TestBookingFormSellerRefusals(t *testing.T) {
	b := newBookingSite(t)
	slots := b.slots("2026-03-05")

	// Without a mail relay central sends no codes.
	noMail := httptest.NewServer((&server.Server{Central: b.Central, Now: b.Clock.Now}).Handler())
	t.Cleanup(noMail.Close)
	api := b.api
	b.api = noMail.URL
	_, body := b.submit("/termin", bookingForm(slots[0].Start, "a@example.de"), http.StatusServiceUnavailable)
	contains(t, "no relay", body, "Die Terminbuchung ist gerade nicht möglich", `id="error-summary"`)
	_, body = b.submit("/termin", bookingForm(slots[0].Start, "a@example.de"), http.StatusServiceUnavailable, "Cookie", "lang=tr")
	contains(t, "no relay, Turkish", body, "Şu anda randevu alınamıyor")
	b.api = api
	if b.holds() != 0 {
		t.Fatalf("%d holds without a relay", b.holds())
	}

	// Two appointments per contact and service, then the e-mail field says so.
	for i := range 2 {
		b.submit("/termin", bookingForm(slots[i].Start, "same@example.de"), http.StatusSeeOther)
	}
	_, body = b.submit("/termin", bookingForm(slots[2].Start, "same@example.de"), http.StatusConflict)
	contains(t, "limit per contact", body, `id="f-email-error"`, "schon 2 Termine", `href="#f-email"`)
	if b.holds() != 2 {
		t.Fatalf("%d holds, want 2", b.holds())
	}

	// One connection, two holds at most here: the third is 429.
	tight := httptest.NewServer((&server.Server{Central: b.Central, Notify: b.codes, Now: b.Clock.Now, BookLimit: ratelimit.Limit{Burst: 1, Every: time.Hour}}).Handler())
	t.Cleanup(tight.Close)
	b.api = tight.URL
	b.submit("/termin", bookingForm(slots[5].Start, "one@example.de"), http.StatusSeeOther)
	resp, body := b.submit("/termin", bookingForm(slots[6].Start, "two@example.de"), http.StatusTooManyRequests)
	contains(t, "rate limit", body, "Von diesem Anschluss kamen zu viele Buchungen")
	if resp.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	if b.holds() != 3 {
		t.Fatalf("%d holds, want 3", b.holds())
	}
}

// TestBookingDoubleSubmitHoldsOnce: the same form posted twice at once (a
// double tap) holds one slot, sends one code, and both posts land on the
// same code page.
func TestBookingDoubleSubmitHoldsOnce(t *testing.T) {
	b := newBookingSite(t)
	start := b.slots("2026-03-05")[7].Start
	_, step4 := b.page("/termin?service=ausweis&site="+siteID+"&start="+url.QueryEscape(start.UTC().Format(time.RFC3339)), http.StatusOK)
	key := regexp.MustCompile(`name="submission" value="([^"]+)"`).FindStringSubmatch(step4)
	if key == nil {
		t.Fatal("step 4 has no submission key")
	}
	f := bookingForm(start, "tap@example.de")
	f.Set("submission", key[1])
	var wg sync.WaitGroup
	locs := make([]string, 4)
	for i := range locs {
		wg.Go(func() {
			resp, _ := b.submit("/termin", f, http.StatusSeeOther)
			locs[i] = resp.Header.Get("Location")
		})
	}
	wg.Wait()
	for _, l := range locs[1:] {
		if l != locs[0] {
			t.Fatalf("the same form went to %v", locs)
		}
	}
	if b.holds() != 1 {
		t.Fatalf("%d holds for one form posted 4 times", b.holds())
	}
}

// TestBookingMove: a booking moves by booking another time from its page;
// the old one is cancelled only once the new one is confirmed, and its
// place is free again.
func TestBookingMove(t *testing.T) {
	b := newBookingSite(t)
	slots := b.slots("2026-03-05")
	book := func(form url.Values, email string) string {
		resp, _ := b.submit("/termin", form, http.StatusSeeOther)
		loc := resp.Header.Get("Location")
		resp, _ = b.submit(loc+"/confirm", url.Values{"code": {b.codes.code(email)}}, http.StatusSeeOther)
		return resp.Header.Get("Location")
	}
	first := book(bookingForm(slots[1].Start, "m@example.de"), "m@example.de")
	oldToken := strings.TrimPrefix(first, "/b/")
	_, page := b.page(first, http.StatusOK)
	moveHref := "/termin?move=" + oldToken + "&service=ausweis&site=" + siteID
	contains(t, "booking page", page, `href="`+strings.ReplaceAll(moveHref, "&", "&amp;")+`"`, "Termin verschieben")

	_, step3 := b.page(moveHref, http.StatusOK)
	contains(t, "move, step 3", step3, `id="move-note"`, "Sie verschieben Ihren Termin am", `<input type="hidden" name="move" value="`+oldToken+`">`,
		`&amp;move=`+oldToken+`#slots`)
	f := bookingForm(slots[9].Start, "m@example.de")
	f.Set("move", oldToken)
	resp, _ := b.submit("/termin", f, http.StatusSeeOther)
	held := resp.Header.Get("Location")
	// Held, not yet confirmed: the old booking stands.
	if _, out := b.call(http.MethodGet, "/api/v1/appointments/"+oldToken, ""); out["status"] != appointment.StatusConfirmed {
		t.Fatalf("old booking while the new one is held: %v", out)
	}
	resp, _ = b.submit(held+"/confirm", url.Values{"code": {b.codes.code("m@example.de")}}, http.StatusSeeOther)
	if got := resp.Header.Get("Location"); got != held+"?moved=1" {
		t.Fatalf("after confirming the move: Location %q", got)
	}
	_, moved := b.page(held+"?moved=1", http.StatusOK)
	contains(t, "moved", moved, "Ihr Termin ist verschoben. Den bisherigen Termin haben wir abgesagt.")
	if _, out := b.call(http.MethodGet, "/api/v1/appointments/"+oldToken, ""); out["status"] != appointment.StatusCancelled {
		t.Fatalf("old booking after the move: %v", out)
	}
	if got := b.slots("2026-03-05")[1].Available; got != 1 {
		t.Fatalf("the old slot shows %d free, want 1", got)
	}
	// A cancelled booking cannot move: the page says so.
	_, gone := b.page("/termin?move="+oldToken+"&service=ausweis", http.StatusOK)
	contains(t, "moving a cancelled booking", gone, "Diesen Termin können wir nicht verschieben")
	notContains(t, "moving a cancelled booking", gone, `name="move"`)
}

// textingCodes is codes at a central that also sends SMS (-sms-gateway):
// it can reach a mobile number.
type textingCodes struct{ *codes }

func (textingCodes) CanReach(c appointment.Contact) error {
	if c.Email == "" && c.Phone == "" {
		return veedel.Errorf(veedel.EINVALID, "no contact")
	}
	return nil
}

// TestBookingByMobileNumberAlone: where central sends SMS, the form takes
// a mobile number instead of an e-mail address ("a mobile number and/or
// e-mail"), says so at both fields, and the code goes to the phone;
// neither still gets one clear error at the e-mail field.
func TestBookingByMobileNumberAlone(t *testing.T) {
	b := newBookingSite(t)
	ts := httptest.NewServer((&server.Server{Central: b.Central, Notify: textingCodes{b.codes}, Now: b.Clock.Now,
		BookLimit: ratelimit.Limit{Burst: 100, Every: time.Millisecond}}).Handler())
	t.Cleanup(ts.Close)
	b.api = ts.URL
	slots := b.slots("2026-03-05")

	f := bookingForm(slots[2].Start, "")
	_, body := b.submit("/termin", f, http.StatusBadRequest)
	contains(t, "no contact at all", body, "E-Mail-Adresse oder eine Mobilnummer", `id="f-email-error"`, "oder Mobilnummer", "Ohne E-Mail-Adresse kommt der Code per SMS")
	if b.holds() != 0 {
		t.Fatalf("%d holds after a refused form", b.holds())
	}

	f.Set("phone", "0171 1234567")
	b.submit("/termin", f, http.StatusSeeOther)
	if b.holds() != 1 {
		t.Fatalf("%d holds, want 1", b.holds())
	}
	if body, n := b.codes.last("0171 1234567"); n != 1 || body == "" {
		t.Errorf("the code went %d times to the phone: %q", n, body)
	}
}
