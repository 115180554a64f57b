package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/internal/payment"
	"github.com/veedel/veedel/sync/changelog"

	"github.com/go-chi/chi/v5"
	"github.com/veedel/veedel/appliance/registration"
	applianceserver "github.com/veedel/veedel/appliance/server"
	"github.com/veedel/veedel/appliance/sqlite"
	veedelcentral "github.com/veedel/veedel/central"
	centralserver "github.com/veedel/veedel/central/server"
	"github.com/veedel/veedel/sync/sitekey"
)

// jsonEndpoint is a route that takes a JSON body, with a body it accepts
// (and commits something for) and one whose field has the wrong type.
type jsonEndpoint struct {
	path      string
	staff     bool   // HTTP Basic as the site lead (or as user)
	user      string // the staff login when not the lead
	valid     string // a body the endpoint accepts
	wrongType string
	// stored reports what the node has stored so far; a refused body must
	// not change it.
	stored func() string
	// setup, if set, prepares the site before the bad bodies and returns
	// the valid body (when it depends on the setup).
	setup func(t *testing.T) string
	// route is the router's pattern when path fills in its parameters
	// (then setup fills path in through the pointer it gets).
	route string
	// target, if set, returns the path to send to (after setup).
	target func() string
}

// badBodies derives, from an endpoint's valid body, the bodies every JSON
// endpoint must refuse with a JSON 4xx: each is the valid request but for
// one flaw, so a lax decoder would store something.
func badBodies(e jsonEndpoint) map[string]struct{ body, contentType string } {
	valid := e.valid
	inner := strings.TrimSuffix(strings.TrimPrefix(valid, "{"), "}")
	firstKV := strings.SplitN(inner, `,"`, 2)[0]
	key := strings.SplitN(firstKV, ":", 2)[0]
	ct := "application/json"
	return map[string]struct{ body, contentType string }{
		"Malformed":         {valid[:len(valid)/2], ct},
		"Empty":             {"", ct},
		"NotAnObject":       {"[" + valid + "]", ct},
		"Oversized":         {"{" + inner + strings.Repeat(" ", 70<<10) + "}", ct},
		"WrongType":         {e.wrongType, ct},
		"DuplicateKey":      {"{" + firstKV + "," + inner + "}", ct},
		"DuplicateKeyCase":  {"{" + strings.ToUpper(key) + ":" + strings.SplitN(firstKV, ":", 2)[1] + "," + inner + "}", ct},
		"UnknownField":      {"{" + inner + `,"admin":true}`, ct},
		"TrailingData":      {valid + valid, ct},
		"BidiOverride":      {strings.Replace(valid, `":"`, `":"x\u202e`, 1), ct},
		"ControlCharacter":  {strings.Replace(valid, `":"`, `":"\u0007`, 1), ct},
		"NotUTF8":           {strings.Replace(valid, `":"`, "\":\"\xff", 1), ct},
		"WrongContentType":  {valid, "text/plain"},
		"DeepNesting":       {strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000), ct},
		"NumberForString":   {strings.Replace(valid, `":"`, `":1,"x":"`, 1), ct},
		"NullByteInKeyName": {"{" + `"serv\u0000ice":"x",` + inner + "}", ct},
	}
}

// TestEveryJSONEndpointRefusesBadBodies sends every JSON endpoint of the
// appliance and of central the bad bodies above: each must get a 4xx with
// a JSON error message, and nothing may be stored. The valid body, sent
// last, must then be accepted and stored: the bad ones were refused for
// their flaw, not for the request around it.
func TestEveryJSONEndpointRefusesBadBodies(t *testing.T) {
	dir := t.TempDir()
	c, central := startCentral(t, dir, "127.0.0.1:0")
	escrow := filepath.Join(dir, "escrow.key")
	if _, err := exam.WriteEscrowKey(escrow); err != nil {
		t.Fatal(err)
	}
	site, appliance := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"),
		Users: []userSpec{{Name: "lead", Password: "geheim-123", Role: sqlite.RoleLead},
			{Name: "aerztin", Password: "geheim-123", Role: sqlite.RoleDoctor}, {Name: "assistenz", Password: "geheim-123", Role: sqlite.RoleAssistant}},
		ExamEscrowPub: escrow + ".pub"})
	basicUser := "lead" // the staff login of the endpoint under test
	sendAs := func(t *testing.T, method, base, path, body, contentType string, staff bool, header ...string) (int, http.Header, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", contentType)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		if staff {
			req.SetBasicAuth(basicUser, "geheim-123")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, b
	}
	send := func(t *testing.T, base, path, body, contentType string, staff bool) (int, http.Header, []byte) {
		t.Helper()
		return sendAs(t, "POST", base, path, body, contentType, staff)
	}
	lastSeq := func() string { return fmt.Sprint(site.Store.LastSeq()) }
	pairedKiosks := func() string {
		devices, err := site.Store.KioskDevices(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(len(devices))
	}

	// A ticket at counter 1, so that a counter action has something to
	// act on; a booking of today to check in.
	if status, _, b := send(t, appliance.URL, "/api/v1/tickets", `{"service":"ausweis"}`, "application/json", false); status != http.StatusCreated {
		t.Fatalf("issue: %d %s", status, b)
	}
	if status, _, b := send(t, appliance.URL, "/api/v1/counters/1/call-next", "", "application/json", true); status != http.StatusOK {
		t.Fatalf("call-next: %d %s", status, b)
	}
	slot := time.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	if status, _, b := send(t, appliance.URL, "/api/v1/bookings", `{"code":"CHECK123","service":"ausweis","slot":"`+slot+`"}`, "application/json", true); status != http.StatusCreated {
		t.Fatalf("booking: %d %s", status, b)
	}

	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	token := newEnrollmentToken(t, filepath.Join(dir, "central.db"), "porz", time.Hour)
	enrollBody := fmt.Sprintf(`{"site":"porz","token":%q,"public_key":%q}`, token, base64.StdEncoding.EncodeToString(pub))
	enrolledKeys := func() string {
		keys, err := c.Central.SiteKeys(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(len(keys))
	}

	// An order for kalk placed at central, sealed to the appliance's box
	// key and taken in by the appliance: the back office's steps act on it.
	key, err := sitekey.Load(filepath.Join(dir, "kalk.key"))
	if err != nil {
		t.Fatal(err)
	}
	box, err := sitekey.BoxKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Central.RecordBoxKey(t.Context(), "kalk", box.PublicKey().Bytes()); err != nil {
		t.Fatal(err)
	}
	orderBody := `{"kind":"meldebescheinigung","site":"kalk","delivery":"pickup","copies":1,` +
		`"person":{"family_name":"Muster","given_names":"Erika","birth_date":"1964-08-12"},"contact":{"email":"erika@example.de"},"consent":true}`
	outboundHead := func() string {
		heads, err := c.store.OutboundHeads(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(heads["kalk"])
	}
	// kalk's log at central, so that central knows its slots: enrolled
	// and uploaded as its uplink would.
	enrollTok, err := enrollmentToken(t.Context(), c.store, "kalk", sitekey.Public(key), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.store.Enroll(t.Context(), "kalk", enrollTok, sitekey.Public(key), time.Now()); err != nil {
		t.Fatal(err)
	}
	siteEntries, err := site.Store.EntriesAfter(t.Context(), 0, 1000, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	batch := changelog.Batch{Version: changelog.SchemaVersion, Site: "kalk", Entries: siteEntries}
	if err := batch.SignFresh(key, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Central.Ingest(t.Context(), &batch); err != nil {
		t.Fatal(err)
	}
	// A free slot of central's share on the next weekday kalk is open.
	var free []string
	for d := 1; d < 8 && len(free) < 2; d++ {
		day := time.Now().AddDate(0, 0, d).Format(time.DateOnly)
		resp, err := http.Get(central.URL + "/api/v1/booking/slots?site=kalk&service=ausweis&date=" + day)
		if err != nil {
			t.Fatal(err)
		}
		var slots []struct {
			Start     time.Time
			Available int
		}
		json.NewDecoder(resp.Body).Decode(&slots)
		resp.Body.Close()
		for _, sl := range slots {
			if sl.Available > 0 && len(free) < 2 {
				free = append(free, sl.Start.Format(time.RFC3339))
			}
		}
	}
	if len(free) < 2 {
		t.Fatal("no two free slots at kalk in a week")
	}
	holdBody := func(email string) string {
		start := free[0]
		if email == "second@example.de" {
			start = free[1]
		}
		return `{"site":"kalk","service":"ausweis","start":"` + start + `","name":"Erika Muster","email":"` + email + `","consent":true}`
	}
	holds := func() string {
		taken, err := c.Central.SlotsTaken(t.Context(), "kalk", "ausweis", time.UnixMilli(0), time.Now().AddDate(1, 0, 0), time.Now())
		if err != nil {
			return err.Error()
		}
		n := 0
		for _, k := range taken {
			n += k
		}
		return fmt.Sprint(n)
	}
	var apptToken string

	// A child registered at the desk for the exam staff's endpoints.
	examChild := `{"family_name":"Muster","given_names":"Lea","birth_date":"2020-11-03","sex":"w","school_district":"Kalk","year":2027}`
	var examID string
	registerExam := func(t *testing.T) string {
		status, _, b := send(t, appliance.URL, "/api/v1/exams", examChild, "application/json", true)
		var created struct{ ID string }
		if status != http.StatusCreated || json.Unmarshal(b, &created) != nil || created.ID == "" {
			t.Fatalf("register a child: %d %s", status, b)
		}
		return created.ID
	}
	var orderCode string
	takeOrder := func(t *testing.T) {
		status, _, b := send(t, central.URL, "/api/v1/orders", orderBody, "application/json", false)
		if status != http.StatusCreated {
			t.Fatalf("place order: %d %s", status, b)
		}
		cursor, err := site.Store.InboxCursor(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		entries, _, err := c.store.Outbound(t.Context(), "kalk", cursor, 1000, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if _, err := site.Store.ApplyInbound(t.Context(), e); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Plates: central grants kalk a block (as to a registration site)
	// and the site takes it through its inbox.
	applyOutbound := func(t *testing.T) {
		cursor, err := site.Store.InboxCursor(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		entries, _, err := c.store.Outbound(t.Context(), "kalk", cursor, 1000, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if _, err := site.Store.ApplyInbound(t.Context(), e); err != nil {
				t.Fatal(err)
			}
		}
	}
	plateReservations := func() string {
		rows, err := c.store.(veedelcentral.PlateStore).PlateReservations(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(len(rows))
	}

	nodes := []struct {
		name      string
		base      string
		handler   http.Handler
		endpoints []jsonEndpoint
		// notJSON are the unsafe API routes that take no JSON body.
		notJSON []string
	}{
		{"appliance", appliance.URL, (&applianceserver.Server{Store: site.Store}).Handler(), []jsonEndpoint{
			{path: "/api/v1/tickets", valid: `{"service":"ausweis"}`, wrongType: `{"service":["ausweis"]}`, stored: lastSeq},
			{path: "/api/v1/bookings", staff: true, valid: `{"code":"ABCD1234","service":"ausweis","slot":"` + slot + `"}`,
				wrongType: `{"code":"ABCD1234","service":"ausweis","slot":1735689600}`, stored: lastSeq},
			{path: "/api/v1/checkins", valid: `{"code":"CHECK123"}`, wrongType: `{"code":12345678}`, stored: lastSeq},
			{path: "/api/v1/counters/1/transfer", staff: true, valid: `{"service":"meldung"}`, wrongType: `{"service":true}`, stored: lastSeq},
			{path: "/api/v1/counters/1/recall", staff: true, wrongType: `{"ticket":1}`, stored: lastSeq, setup: func(t *testing.T) string {
				// Park a ticket at counter 1: recall with its number calls it back.
				if status, _, b := send(t, appliance.URL, "/api/v1/counters/1/call-next", "", "application/json", true); status != http.StatusOK {
					t.Fatalf("call-next: %d %s", status, b)
				}
				status, _, b := send(t, appliance.URL, "/api/v1/counters/1/park", "", "application/json", true)
				var parked struct{ Number string }
				if status != http.StatusOK || json.Unmarshal(b, &parked) != nil || parked.Number == "" {
					t.Fatalf("park: %d %s", status, b)
				}
				return `{"ticket":"` + parked.Number + `"}`
			}},
			{path: "/api/v1/kiosks/pair", wrongType: `{"code":12345678}`, stored: pairedKiosks, setup: func(t *testing.T) string {
				code, _, err := site.Store.CreateKioskPairing(t.Context(), "Kiosk Eingang", "lead")
				if err != nil {
					t.Fatal(err)
				}
				return `{"code":"` + code + `"}`
			}},
			{route: "/api/v1/orders/{code}/{action}", target: func() string { return "/api/v1/orders/" + orderCode + "/reject" }, staff: true, wrongType: `{"reason":["lost"]}`, stored: lastSeq, setup: func(t *testing.T) string {
				takeOrder(t)
				orders, err := registration.List(t.Context(), site.Store.Read(), registration.StatusAtSite, 10)
				if err != nil || len(orders) == 0 {
					t.Fatalf("no order at the site: %v", err)
				}
				orderCode = orders[0].Code
				return `{"reason":"Die Geburtsurkunde fehlt."}`
			}},
			{path: "/api/v1/exams", staff: true, user: "assistenz", valid: examChild, wrongType: `{"family_name":1}`, stored: lastSeq},
			{route: "/api/v1/exams/{id}/measurements", target: func() string { return "/api/v1/exams/" + examID + "/measurements" }, staff: true, user: "assistenz",
				wrongType: `{"height_cm":"118"}`, stored: lastSeq, setup: func(t *testing.T) string {
					examID = registerExam(t)
					return `{"device":"seca","height_cm":118.4,"weight_kg":21.5}`
				}},
			{route: "/api/v1/exams/{id}/schedule", target: func() string { return "/api/v1/exams/" + examID + "/schedule" }, staff: true, user: "assistenz",
				valid: `{"day":"2027-03-01","slot":"09:00"}`, wrongType: `{"day":20270301}`, stored: lastSeq},
			{route: "/api/v1/exams/{id}/sign-off", target: func() string { return "/api/v1/exams/" + examID + "/sign-off" }, staff: true, user: "aerztin",
				valid: `{"recommendation":"schulfaehig","support":[],"referrals":[]}`, wrongType: `{"recommendation":1}`, stored: lastSeq},
			{path: "/api/v1/plates/assign", staff: true, valid: `{"ref":"V-2026-0001"}`, wrongType: `{"ref":1}`, stored: lastSeq, setup: func(t *testing.T) string {
				c.Central.Plates().SetSites([]string{"kalk"})
				if err := c.Central.RefillPlates(t.Context()); err != nil {
					t.Fatal(err)
				}
				applyOutbound(t)
				return ""
			}},
			{route: "/api/v1/vehicle-applications/{id}/{action}", target: func() string { return "/api/v1/vehicle-applications/V8001/request-info" }, staff: true,
				wrongType: `{"reason":["Vollmacht"]}`, stored: lastSeq, setup: func(t *testing.T) string {
					// An i-Kfz application central sent, claimed by the clerk.
					submitVehicleApplication(t, c.Central, "kalk", "V8001")
					applyOutbound(t)
					claimVehicleApplication(t, site, "V8001", basicUser)
					return `{"reason":"Bitte die Vollmacht hochladen."}`
				}},
			{path: "/api/v1/plates/return", staff: true, wrongType: `{"plate":1}`, stored: lastSeq, setup: func(t *testing.T) string {
				status, _, b := send(t, appliance.URL, "/api/v1/plates/assign", `{}`, "application/json", true)
				var a struct{ Plate string }
				if status != http.StatusCreated || json.Unmarshal(b, &a) != nil {
					t.Fatalf("assign: %d %s", status, b)
				}
				return `{"plate":"` + a.Plate + `"}`
			}},
		}, []string{
			"/api/v1/tickets/{token}/cancel",      // no body: the token is in the path
			"/api/v1/counters/{counter}/{action}", // no body but for transfer and recall (above)
		}},
		{"central", central.URL, (&centralserver.Server{Central: c.Central}).Handler(), []jsonEndpoint{
			{path: "/api/v1/orders", valid: orderBody, wrongType: `{"kind":1}`, stored: outboundHead},
			{path: "/api/v1/appointments", valid: holdBody("first@example.de"), wrongType: `{"site":"kalk","start":1}`, stored: holds},
			{route: "/api/v1/appointments/{token}/confirm", target: func() string { return "/api/v1/appointments/" + apptToken + "/confirm" },
				wrongType: `{"code":123456}`, stored: outboundHead, setup: func(t *testing.T) string {
					status, _, b := send(t, central.URL, "/api/v1/appointments", holdBody("second@example.de"), "application/json", false)
					var held struct{ Token string }
					if status != http.StatusCreated || json.Unmarshal(b, &held) != nil {
						t.Fatalf("hold: %d %s", status, b)
					}
					apptToken = held.Token
					return `{"code":"` + c.sentCode(t, "second@example.de") + `"}`
				}},
			// The payment provider's server-to-server notification (no
			// Origin: the cross-origin protection lets it by), for an
			// order placed with online payment; paid, it appends the
			// order to kalk's outbound log.
			{path: "/api/v1/payments/notify", wrongType: `{"reference":1}`, stored: outboundHead, setup: func(t *testing.T) string {
				online := strings.Replace(orderBody, `"delivery":"pickup"`, `"delivery":"pickup","payment":"online"`, 1)
				status, _, b := send(t, central.URL, "/api/v1/orders", online, "application/json", false)
				var p struct {
					Code       string `json:"code"`
					FeeCents   int64  `json:"fee_cents"`
					PaymentURL string `json:"payment_url"`
				}
				if status != http.StatusCreated || json.Unmarshal(b, &p) != nil || !strings.Contains(p.PaymentURL, "/sim/pay/p/") {
					t.Fatalf("order paid online: %d %s", status, b)
				}
				n := payment.Notification{Reference: p.Code, AmountCents: p.FeeCents, Currency: "EUR", Status: payment.StatusPaid,
					TransactionID: "T-jsonapi", Timestamp: time.Now().Unix()}
				payment.Sign(testPaymentSecret, &n)
				body, _ := json.Marshal(n)
				return string(body)
			}},
			{path: "/api/v1/plates/reservations", valid: `{"plate":"K-JS 42","name":"Erika Muster","email":"erika@example.de"}`,
				wrongType: `{"plate":42,"name":"Erika Muster","email":"erika@example.de"}`, stored: plateReservations},
			{path: "/api/v1/sync/enroll", valid: enrollBody, wrongType: `{"site":"porz","token":` + fmt.Sprint(len(token)) + `,"public_key":"AAAA"}`,
				stored: enrolledKeys},
			// An i-Kfz application, sealed and sent down to the
			// registration site (kalk, since the plates row above).
			{path: "/api/v1/vehicle-applications", wrongType: `{"process":1}`, stored: outboundHead, valid: `{"process":"umschreibung",` +
				`"owner":{"kind":"person","family_name":"Schmitz","given_names":"Anna","birth_date":"1984-03-17","street":"Venloer Str. 12","postcode":"50672","city":"Köln"},` +
				`"vehicle":{"fin":"WVWZZZ1JZXW000001","zb1_number":"AB1234567C","zb1_code":"K7QM4XP","zb2_number":"AF7654321","zb2_code":"K7QM4XPA2B3C","current_plate":"K-AB 123"},` +
				`"evb":"A1B2C3D","sepa":{"iban":"DE89370400440532013000","holder":"Anna Schmitz"},"plate":{"mode":"random"}}`},
		}, []string{
			"/api/v1/vehicle-applications/files",              // the file itself is the body (central/server/vehicle_test.go)
			"/api/v1/rollout",                                 // admins' plan, the strict decoder (central/server/admin_rollout_test.go)
			"/api/v1/vehicle-applications/{token}/supplement", // needs a site's request for more; the strict decoder (central/server/vehicle_test.go)
			"/api/v1/sync/batches",                            // CBOR, signed (sync.go)
			"/api/v1/sync/blobs/{sha}/{chunk}",                // a file's chunk, signed (blobs.go, blob_e2e_test.go)
			"/api/v1/exam/cohort",                             // text/csv, the register's file (central/server/exam_test.go)
			"/api/v1/appointments/{token}/cancel",             // no body: the token is in the path
		}},
	}
	for _, node := range nodes {
		t.Run(node.name, func(t *testing.T) {
			// Every unsafe API route is in the table: a new JSON endpoint
			// must join it.
			known := map[string]bool{}
			for _, e := range node.endpoints {
				known[e.path] = true
				known[e.route] = true
			}
			for _, p := range node.notJSON {
				known[p] = true
			}
			chi.Walk(node.handler.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
				route = strings.ReplaceAll(route, "/*/", "/")
				if strings.HasPrefix(route, "/api/") && method != "GET" && method != "HEAD" && method != "OPTIONS" && !known[route] {
					t.Errorf("%s %s takes a body but is not in this test's table", method, route)
				}
				return nil
			})
			for _, e := range node.endpoints {
				basicUser = "lead"
				if e.user != "" {
					basicUser = e.user
				}
				if e.setup != nil {
					if valid := e.setup(t); valid != "" {
						e.valid = valid
					}
				}
				if e.target != nil {
					e.path = e.target()
				}
				for name, bad := range badBodies(e) {
					before := e.stored()
					status, header, b := send(t, node.base, e.path, bad.body, bad.contentType, e.staff)
					var body struct {
						Error string `json:"error"`
					}
					switch {
					case status < 400 || status >= 500:
						t.Errorf("%s %s: status %d, want 4xx: %.200s", e.path, name, status, b)
					case !strings.HasPrefix(header.Get("Content-Type"), "application/json"):
						t.Errorf("%s %s: Content-Type %q, want JSON", e.path, name, header.Get("Content-Type"))
					case json.Unmarshal(b, &body) != nil || body.Error == "":
						t.Errorf("%s %s: no JSON error message: %.200s", e.path, name, b)
					}
					if after := e.stored(); after != before {
						t.Errorf("%s %s: stored something (%s -> %s)", e.path, name, before, after)
					}
				}
				// The valid body from another origin (a page on the LAN
				// or the web posting in a citizen's browser): a JSON 403.
				before := e.stored()
				status, header, b := sendAs(t, "POST", node.base, e.path, e.valid, "application/json", e.staff, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
				var body struct {
					Error string `json:"error"`
				}
				if status != http.StatusForbidden || !strings.HasPrefix(header.Get("Content-Type"), "application/json") || json.Unmarshal(b, &body) != nil || body.Error == "" {
					t.Errorf("%s cross-origin: %d %s %.200s, want a JSON 403", e.path, status, header.Get("Content-Type"), b)
				}
				// OPTIONS says what the route takes, without CORS headers.
				status, header, _ = sendAs(t, "OPTIONS", node.base, e.path, "", "", false, "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
				if status != http.StatusNoContent || !strings.Contains(header.Get("Allow"), "POST") || header.Get("Access-Control-Allow-Origin") != "" {
					t.Errorf("%s OPTIONS: %d Allow %q ACAO %q, want 204 with Allow and no CORS", e.path, status, header.Get("Allow"), header.Get("Access-Control-Allow-Origin"))
				}
				if after := e.stored(); after != before {
					t.Errorf("%s: a cross-origin or OPTIONS request stored something (%s -> %s)", e.path, before, after)
				}
				// The same request with the valid body is accepted.
				before = e.stored()
				if status, _, b := send(t, node.base, e.path, e.valid, "application/json", e.staff); status >= 300 {
					t.Errorf("%s: the valid body got %d: %s", e.path, status, b)
				}
				if e.stored() == before {
					t.Errorf("%s: the valid body stored nothing: the table cannot tell refusal from no-op", e.path)
				}
			}
		})
	}
}
