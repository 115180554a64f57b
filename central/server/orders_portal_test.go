package server_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/registration"
	"github.com/veedel/veedel/sync/sitekey"
)

// orderSite is an env whose site has sent its log and its box key: it
// takes orders.
func orderSite(t *testing.T) (*env, *siteLog) {
	t.Helper()
	e := newEnv(t)
	l := opening(t, e.Clock)
	e.mustPost(l.batch(1, uint64(len(l.entries))))
	box, err := sitekey.BoxKey(siteKey(siteID))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Central.RecordBoxKey(context.Background(), siteID, box.PublicKey().Bytes()); err != nil {
		t.Fatal(err)
	}
	return e, l
}

// goodOrderForm is the form as a citizen fills it for a Meldebescheinigung
// to pick up.
func goodOrderForm() url.Values {
	return url.Values{
		"submission":         {"AAAAAAAAAAAAAAAAAAAAAA"},
		"kind":               {registration.KindMelde},
		"copies":             {"2"},
		"delivery":           {registration.DeliveryPickup},
		"site":               {siteID},
		"person.family_name": {"Kowalczyk-Öztürk"},
		"person.given_names": {"Zofia"},
		"person.birth_date":  {"28.02.1990"},
		"person.birth_place": {"Gdańsk"},
		"contact.email":      {"zofia@example.de"},
		"consent":            {"yes"},
	}
}

// postForm posts the order form without following the redirect.
func (e *env) postForm(path string, form url.Values, header ...string) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.URL+path, strings.NewReader(form.Encode()))
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
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp, b.String()
}

func with(form url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = append([]string(nil), v...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			out.Del(kv[i])
		} else {
			out.Set(kv[i], kv[i+1])
		}
	}
	return out
}

// TestOrderFormPage: the form offers every certificate with its fee and
// what one needs, the site from the directory, and is linked from the
// portal's start page, in all four languages.
func TestOrderFormPage(t *testing.T) {
	e, _ := orderSite(t)
	contains(t, "portal", e.html("/", http.StatusOK), `href="/bestellen"`, "Urkunde bestellen")
	resp, body := e.get("/bestellen")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET /bestellen: %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	contains(t, "form", body, `<html lang="de" dir="ltr">`, `<form method="post" action="/bestellen" class="order-form" novalidate>`,
		`name="submission" value="`, "Meldebescheinigung (einfach)", "10,00 € je Exemplar",
		"Geburtsurkunde", "12,00 €, jedes weitere Exemplar 6,00 €", `<option value="`+siteID+`">`+siteName+`</option>`,
		`<legend><h2>Welche Urkunde brauchen Sie?</h2></legend>`, `<label for="f-person-family_name">Familienname</label>`,
		`id="f-copies" name="copies" type="text" inputmode="numeric" dir="ltr" maxlength="2" value="1"`,
		"90 Tage", "Zahlungspflichtig bestellen")
	if strings.Contains(body, "error-summary") {
		t.Error("a fresh form shows an error summary")
	}
	contains(t, "Turkish form", e.html("/bestellen?lang=tr", http.StatusOK), `<html lang="tr" dir="ltr">`, "Belge sipariş et", "Doğum belgesi")
	contains(t, "Arabic form", e.html("/bestellen?lang=ar", http.StatusOK), `<html lang="ar" dir="rtl">`, "طلب وثيقة", "شهادة الميلاد")
	contains(t, "English form", e.html("/bestellen?lang=en", http.StatusOK), `<html lang="en" dir="ltr">`, "Order a certificate", "€10.00 per copy")
}

// TestOrderFormBadInput: every bad field comes back with the citizen's
// own input, a message beside the field (aria-invalid, aria-describedby)
// and a link in the summary at the top, in the page's language; nothing is
// stored.
func TestOrderFormBadInput(t *testing.T) {
	e, _ := orderSite(t)
	before := len(e.outboundLog(siteID))

	cases := []struct {
		what  string
		form  url.Values
		field string // the id of the input at fault
		msg   string // the German message beside it
	}{
		{"copies 0", with(goodOrderForm(), "copies", "0"), "f-copies", "Bitte geben Sie eine Zahl von 1 bis 10 an."},
		{"copies 100", with(goodOrderForm(), "copies", "100"), "f-copies", "Bitte geben Sie eine Zahl von 1 bis 10 an."},
		{"copies not a number", with(goodOrderForm(), "copies", "zwei"), "f-copies", "Bitte geben Sie eine Zahl von 1 bis 10 an."},
		{"no consent", with(goodOrderForm(), "consent", ""), "f-consent", "Bitte stimmen Sie zu, damit wir Ihre Bestellung bearbeiten dürfen."},
		{"bad e-mail", with(goodOrderForm(), "contact.email", "zofia@@example"), "f-contact-email", "Das ist keine gültige E-Mail-Adresse."},
		{"bad phone", with(goodOrderForm(), "contact.phone", "call me"), "f-contact-phone", "Das ist keine gültige Handynummer."},
		{"no contact", with(goodOrderForm(), "contact.email", ""), "f-contact-email", "Bitte geben Sie eine E-Mail-Adresse oder eine Handynummer an."},
		{"birth in the future", with(goodOrderForm(), "person.birth_date", "28.02.2090"), "f-person-birth_date", "Dieses Datum liegt in der Zukunft."},
		{"birth date garbled", with(goodOrderForm(), "person.birth_date", "31.02.1990"), "f-person-birth_date", "Bitte geben Sie das Datum als Tag.Monat.Jahr an"},
		{"no family name", with(goodOrderForm(), "person.family_name", ""), "f-person-family_name", "Bitte geben Sie den Familiennamen an."},
		{"control character", with(goodOrderForm(), "person.given_names", "Zo\u202efia"), "f-person-given_names", "Diese Angabe enthält ein unsichtbares Steuerzeichen."},
		{"unknown site", with(goodOrderForm(), "site", "atlantis"), "f-site", "Diesen Standort gibt es nicht."},
		{"no site", with(goodOrderForm(), "site", ""), "f-site", "Bitte wählen Sie einen Standort für die Abholung."},
		{"unknown kind", with(goodOrderForm(), "kind", "reisepass"), "f-kind-meldebescheinigung", "Bitte wählen Sie eine Urkunde."},
		{"post needs payment", with(goodOrderForm(), "delivery", "post", "address.street", "Deutz-Mülheimer Str. 1", "address.postcode", "50679", "address.city", "Köln"),
			"f-delivery-pickup", "Versand per Post geht erst mit Online-Bezahlung"},
		{"post without address", with(goodOrderForm(), "delivery", "post"), "f-address-street", "Bitte geben Sie Straße und Hausnummer an."},
		{"bad postcode", with(goodOrderForm(), "delivery", "post", "address.street", "Deutz-Mülheimer Str. 1", "address.postcode", "5067", "address.city", "Köln"),
			"f-address-postcode", "Die Postleitzahl hat fünf Ziffern"},
		{"civil-status without event", with(goodOrderForm(), "kind", registration.KindGeburt), "f-event-date", "Bitte geben Sie das Datum des Ereignisses an"},
		{"civil-status without relation", with(goodOrderForm(), "kind", registration.KindGeburt, "event.date", "28.02.1990", "event.place", "Köln"), "f-relation",
			"Bitte wählen Sie, in welchem Verhältnis Sie zu der Person stehen."},
	}
	for _, c := range cases {
		t.Run(c.what, func(t *testing.T) {
			resp, body := e.postForm("/bestellen", c.form)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", resp.StatusCode)
			}
			text := html.UnescapeString(body)
			contains(t, c.what, text, `id="error-summary" tabindex="-1" autofocus`, `<a href="#`+c.field+`">`, c.msg, "<title>Fehler: Urkunde bestellen")
			// The message sits beside its field and the field points to it
			// (a radio group's message is the fieldset's).
			if !strings.HasPrefix(c.field, "f-kind") && !strings.HasPrefix(c.field, "f-delivery") {
				input := regexp.MustCompile(`<(input|select) id="` + c.field + `"[^>]*>`).FindString(body)
				if !strings.Contains(input, `aria-invalid="true"`) || !strings.Contains(input, c.field+`-error`) {
					t.Errorf("input %s: %s", c.field, input)
				}
				contains(t, c.what, text, `<p class="field-error" id="`+c.field+`-error"><span class="visually-hidden">Fehler: </span>`+c.msg)
			}
			if strings.Contains(text, "Bitte prüfen Sie diese Angabe.") {
				t.Errorf("a field got the general message instead of its own: %s", regexp.MustCompile(`(?s)<div class="error-summary".*?</div>`).FindString(text))
			}
			// Nothing typed is lost.
			for name, want := range map[string]string{"f-person-family_name": "Kowalczyk-Öztürk", "f-person-birth_place": "Gdańsk"} {
				if c.form.Get("person.family_name") == "" && name == "f-person-family_name" {
					continue
				}
				if input := regexp.MustCompile(`<input id="` + name + `"[^>]*>`).FindString(text); !strings.Contains(input, `value="`+want+`"`) {
					t.Errorf("%s lost: %s", name, input)
				}
			}
			if c.form.Get("consent") == "yes" && !strings.Contains(body, `name="consent" value="yes" checked`) {
				t.Error("consent lost")
			}
			if k := c.form.Get("kind"); k == registration.KindMelde && !strings.Contains(body, `value="`+k+`" checked`) {
				t.Error("kind lost")
			}
		})
	}
	if got := len(e.outboundLog(siteID)); got != before {
		t.Fatalf("refused forms appended %d entries", got-before)
	}

	// In the page's language: Turkish and Arabic have their own texts.
	for lang, want := range map[string]string{
		"tr": "Lütfen 1 ile 10 arasında bir sayı girin.",
		"ar": "يُرجى إدخال عدد من 1 إلى 10.",
		"en": "Please enter a number from 1 to 10.",
	} {
		resp, body := e.postForm("/bestellen", with(goodOrderForm(), "copies", "0"), "Cookie", "lang="+lang)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: status %d", lang, resp.StatusCode)
		}
		contains(t, lang+" error", body, `<html lang="`+lang+`"`, want)
	}
}

// TestOrderFormPlaces: a good form places one order (a repeated post of
// the same form too), shows the code, the fee, what to bring and the
// private status link; the status page follows the site's steps and shows
// nothing personal.
func TestOrderFormPlaces(t *testing.T) {
	e, l := orderSite(t)
	before := len(e.outboundLog(siteID))

	resp, _ := e.postForm("/bestellen", goodOrderForm())
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("good form: status %d", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	m := regexp.MustCompile(`^/o/([A-Za-z0-9_-]{22})/bestaetigung$`).FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("Location %q", loc)
	}
	token := m[1]
	// The same form again (a double tap): the same order, not a second.
	again, _ := e.postForm("/bestellen", goodOrderForm())
	if again.StatusCode != http.StatusSeeOther || again.Header.Get("Location") != loc {
		t.Fatalf("repeated post: %d %q, want %q", again.StatusCode, again.Header.Get("Location"), loc)
	}
	entries := e.outboundLog(siteID)
	if got := len(entries) - before; got != 1 {
		t.Fatalf("%d entries appended, want 1", got)
	}
	var p registration.OrderPlaced
	if err := cbor.Unmarshal(entries[len(entries)-1].Payload, &p); err != nil {
		t.Fatal(err)
	}
	if p.Kind != registration.KindMelde || p.Copies != 2 || p.FeeCents != 2000 || p.Lang != "de" {
		t.Fatalf("placed %+v", p)
	}
	resp, body := e.get(loc)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("confirmation: %d %v", resp.StatusCode, resp.Header)
	}
	code := `<span class="group">` + p.Code[:1] + `</span> <span class="group">` + p.Code[1:4] + `</span> <span class="group">` + p.Code[4:7] + `</span> <span class="group">` + p.Code[7:10] + `</span>`
	contains(t, "confirmation", body, "Bestellung eingegangen", code, "<bdi>20,00 €</bdi>", "Zahlbar bei der Abholung",
		siteName, "Ihren Personalausweis oder Reisepass", `href="/o/`+token+`"`, e.URL+"/o/"+token)

	resp, body = e.get("/o/" + token)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("status page: %d %v", resp.StatusCode, resp.Header)
	}
	contains(t, "status page", body, "Stand Ihrer Bestellung", code, "Meldebescheinigung (einfach) · Exemplare: 2",
		`aria-current="step"><span class="dot" aria-hidden="true"></span><span class="label">Eingegangen</span>`,
		"Stand: gerade eben", `data-events="/o/`+token+`/events"`)
	for _, personal := range []string{"Kowalczyk", "Zofia", "zofia@example.de", "1990", "Gdańsk"} {
		if strings.Contains(body, personal) {
			t.Errorf("status page shows %q", personal)
		}
	}

	// The site takes it, works on it and marks it ready; three minutes later.
	l.add(registration.TypeOrderReceived, "order/"+p.Code, &registration.OrderReceived{OrderPlaced: p})
	l.add(registration.TypeOrderClaimed, "order/"+p.Code, &registration.OrderClaimed{Code: p.Code, Staff: "anna"})
	l.add(registration.TypeOrderReady, "order/"+p.Code, &registration.OrderReady{Code: p.Code, Staff: "anna"})
	n := uint64(len(l.entries))
	e.mustPost(l.batch(n-2, n))
	e.Clock.Add(3 * time.Minute)
	body = e.html("/o/"+token, http.StatusOK)
	contains(t, "ready", body, "Ihre Urkunde liegt zur Abholung bereit: <bdi>"+siteName+"</bdi>.", "Stand: vor 3 Minuten",
		`<li class="step done"><span class="dot" aria-hidden="true"></span><span class="label">In Bearbeitung</span><span class="visually-hidden"> (erledigt)</span></li>`,
		`<li class="step current" aria-current="step"><span class="dot" aria-hidden="true"></span><span class="label">Abholbereit</span>`)
	contains(t, "Arabic ready", e.html("/o/"+token+"?lang=ar", http.StatusOK), `dir="rtl"`, "جاهز للاستلام", "آخر تحديث: منذ 3 دقائق")
	contains(t, "Turkish ready", e.html("/o/"+token+"?lang=tr", http.StatusOK), "Teslime hazır", "Durum: 3 dakika önce")

	// Silent for long: stale, and said so.
	e.Clock.Add(20 * time.Minute)
	contains(t, "stale", e.html("/o/"+token+"?lang=de", http.StatusOK), "Der Standort ist gerade nicht verbunden.")

	// Unknown tokens: the citizen's not-found page.
	contains(t, "unknown", e.html("/o/AAAAAAAAAAAAAAAAAAAAAA", http.StatusNotFound), "Bestellung nicht gefunden")
	contains(t, "unknown confirmation", e.html("/o/AAAAAAAAAAAAAAAAAAAAAA/bestaetigung", http.StatusNotFound), "Bestellung nicht gefunden")
}

// TestOrderFormRejected: a rejected order shows the site's reason.
func TestOrderFormRejected(t *testing.T) {
	e, l := orderSite(t)
	resp, _ := e.postForm("/bestellen", with(goodOrderForm(), "submission", ""))
	token := strings.TrimSuffix(strings.TrimPrefix(resp.Header.Get("Location"), "/o/"), "/bestaetigung")
	entries := e.outboundLog(siteID)
	var p registration.OrderPlaced
	if err := cbor.Unmarshal(entries[len(entries)-1].Payload, &p); err != nil {
		t.Fatal(err)
	}
	l.add(registration.TypeOrderReceived, "order/"+p.Code, &registration.OrderReceived{OrderPlaced: p})
	l.add(registration.TypeOrderRejected, "order/"+p.Code, &registration.OrderRejected{Code: p.Code, Staff: "anna", Reason: "Keine Meldung in Köln gefunden"})
	n := uint64(len(l.entries))
	e.mustPost(l.batch(n-1, n))
	contains(t, "rejected", e.html("/o/"+token, http.StatusOK), "Der Standort hat die Bestellung abgelehnt.",
		`<p dir="auto">Keine Meldung in Köln gefunden</p>`,
		`<li class="step current bad" aria-current="step"><span class="dot" aria-hidden="true"></span><span class="label">Abgelehnt</span>`)
}

// TestOrderFormCrossOrigin: a form posted from another site is refused
// and places nothing.
func TestOrderFormCrossOrigin(t *testing.T) {
	e, _ := orderSite(t)
	before := len(e.outboundLog(siteID))
	resp, _ := e.postForm("/bestellen", goodOrderForm(), "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin post: %d", resp.StatusCode)
	}
	if got := len(e.outboundLog(siteID)); got != before {
		t.Fatalf("cross-origin post appended %d entries", got-before)
	}
}

// TestOrderFormSiteWithoutKey: a site that never connected cannot take
// orders: the form says so at the site, keeps the input, stores nothing.
func TestOrderFormSiteWithoutKey(t *testing.T) {
	e := newEnv(t)
	l := opening(t, e.Clock)
	e.mustPost(l.batch(1, uint64(len(l.entries))))
	resp, body := e.postForm("/bestellen", goodOrderForm())
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d", resp.StatusCode)
	}
	contains(t, "unavailable", html.UnescapeString(body), "Dieser Standort nimmt gerade keine Bestellungen an.", `value="Kowalczyk-Öztürk"`)
	if got := len(e.outboundLog(siteID)); got != 0 {
		t.Fatalf("%d entries appended", got)
	}
}

// TestOrderFormCivilStatus: a birth certificate goes to the civil-status
// office whatever site was chosen; the form says so, the confirmation
// names the office for the pickup.
func TestOrderFormCivilStatus(t *testing.T) {
	e, _ := orderSite(t)
	const office = "standesamt"
	other := newSiteLog(t, e.Clock)
	other.site = office
	other.add(queue.TypeSiteDescribed, "site/"+office, &queue.SiteDescribed{ID: office, Name: "Standesamt Köln", TimeZone: "Europe/Berlin"})
	e.enroll(office, siteKey(office))
	e.mustPost(mustBatch(t, e.Clock, office, other.slice(1, 1)))
	box, err := sitekey.BoxKey(siteKey(office))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Central.RecordBoxKey(context.Background(), office, box.PublicKey().Bytes()); err != nil {
		t.Fatal(err)
	}
	e.Central.Workflow(registration.Prefix).(*registration.Central).CivilStatusSite = office

	contains(t, "form", e.html("/bestellen", http.StatusOK), "stellt das Standesamt aus; Sie holen sie dort ab: Standesamt Köln.")
	before := len(e.outboundLog(siteID))
	form := with(goodOrderForm(), "kind", registration.KindGeburt, "event.date", "28.02.1990", "event.place", "Köln",
		"event.register_number", "G 1234/1990", "relation", "self", "purpose", "Eheschließung")
	resp, _ := e.postForm("/bestellen", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := len(e.outboundLog(siteID)); got != before {
		t.Fatalf("the chosen customer centre got %d entries", got-before)
	}
	entries := e.outboundLog(office)
	if entries[len(entries)-1].Type != registration.TypeOrderPlaced {
		t.Fatalf("the office's last entry is %s", entries[len(entries)-1].Type)
	}
	contains(t, "confirmation", e.html(resp.Header.Get("Location"), http.StatusOK), "Geburtsurkunde", "<bdi>18,00 €</bdi>", "Standesamt Köln")
}

// TestOrderEvents: the status page's stream sends the order's status at
// once and again when the site logs a step; nothing personal, and 404
// for an unknown token.
func TestOrderEvents(t *testing.T) {
	e, l := orderSite(t)
	resp, _ := e.postForm("/bestellen", goodOrderForm())
	token := strings.TrimSuffix(strings.TrimPrefix(resp.Header.Get("Location"), "/o/"), "/bestaetigung")
	if r, _ := e.get("/o/nope/events"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown token: %d", r.StatusCode)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.URL+"/o/"+token+"/events", nil)
	stream, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if ct := stream.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	events := make(chan string, 10)
	go func() {
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := stream.Body.Read(buf)
			b.WriteString(string(buf[:n]))
			for {
				s := b.String()
				i := strings.Index(s, "\n\n")
				if i < 0 {
					break
				}
				events <- s[:i]
				b.Reset()
				b.WriteString(s[i+2:])
			}
			if err != nil {
				close(events)
				return
			}
		}
	}()
	next := func() string {
		t.Helper()
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					t.Fatal("stream ended")
				}
				if strings.HasPrefix(ev, "event: ") {
					return ev
				}
			case <-ctx.Done():
				t.Fatal("no event")
			}
		}
	}
	first := next()
	contains(t, "first event", first, "event: order", `"status":"received"`)
	entries := e.outboundLog(siteID)
	var p registration.OrderPlaced
	if err := cbor.Unmarshal(entries[len(entries)-1].Payload, &p); err != nil {
		t.Fatal(err)
	}
	l.add(registration.TypeOrderReceived, "order/"+p.Code, &registration.OrderReceived{OrderPlaced: p})
	n := uint64(len(l.entries))
	e.mustPost(l.batch(n, n))
	second := next()
	contains(t, "after the site took it", second, "event: order", `"status":"at_site"`)
	for _, personal := range []string{"Kowalczyk", "Zofia", "zofia@", p.Code} {
		if strings.Contains(first+second, personal) {
			t.Errorf("stream carries %q", personal)
		}
	}
}

// TestOrderFormParallelRepeats: the same form posted 20 times at once (a
// phone resending on a flaky connection) places exactly one order, and
// every post lands on its confirmation.
func TestOrderFormParallelRepeats(t *testing.T) {
	e, _ := orderSite(t)
	before := len(e.outboundLog(siteID))
	const n = 20
	locs := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := e.postForm("/bestellen", goodOrderForm())
			locs <- fmt.Sprint(resp.StatusCode, " ", resp.Header.Get("Location"))
		}()
	}
	wg.Wait()
	close(locs)
	seen := map[string]int{}
	for l := range locs {
		seen[l]++
	}
	if len(seen) != 1 {
		t.Fatalf("answers: %v, want one confirmation for all", seen)
	}
	for l := range seen {
		if !strings.HasPrefix(l, "303 /o/") {
			t.Fatalf("answer %q", l)
		}
	}
	if got := len(e.outboundLog(siteID)) - before; got != 1 {
		t.Fatalf("%d orders placed, want 1", got)
	}
}
