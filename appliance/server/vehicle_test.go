package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/veedel/veedel/appliance/plates"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/sync/blob"
	"github.com/veedel/veedel/sync/changelog"
)

// sendDown appends an entry to central's outbound log to the site and
// delivers it as the downlink does.
func (h *ordersHarness) sendDown(t *testing.T, typ, entity string, p any) {
	t.Helper()
	var prev *changelog.Entry
	if n := len(h.out); n > 0 {
		prev = &h.out[n-1]
	}
	h.hlc += 1 << 16
	e, err := changelog.NewEntry("kalk", prev, h.hlc, typ, entity, p)
	if err != nil {
		t.Fatal(err)
	}
	h.out = append(h.out, e)
	if got, err := h.store.ApplyInbound(context.Background(), e); err != nil || got != sqlite.InboxApplied {
		t.Fatalf("deliver %s %s: %q, %v", typ, entity, got, err)
	}
}

// submitVehicle seals an application to the site and sends it down; the
// file attached is put into the site's store when here is true (as if the
// transfer had brought it).
func (h *ordersHarness) submitVehicle(t *testing.T, id, process, mode string, file []byte, here bool) {
	t.Helper()
	app := vehicle.Application{Process: process,
		Owner: vehicle.Owner{Kind: "person", FamilyName: "Łukowski", GivenNames: "Jörg", BirthDate: "1990-05-01",
			Street: "Venloer Straße 12", Postcode: "50672", City: "Köln", Email: "joerg@example.de"},
		Vehicle: vehicle.VehicleData{FIN: "WVWZZZ1JZXW000001", ZB1: "AB1234567", ZB2: "CD7654321", Plate: "K-XY 42"},
		EVB:     "A1B2C3D", SEPA: &vehicle.SEPA{IBAN: "DE89370400440532013000", Holder: "Jörg Łukowski"},
		Plate: vehicle.PlateChoice{Mode: mode}}
	plain, _ := cbor.Marshal(app)
	sealed, err := changelog.Seal(h.box, vehicle.SealInfo("kalk", id), plain)
	if err != nil {
		t.Fatal(err)
	}
	tok := sha256.Sum256([]byte("token-" + id))
	p := &vehicle.ApplicationSubmitted{ID: id, Process: process, Sealed: sealed, Submitted: time.Now().UnixMilli(), TokenHash: tok[:], PlateMode: mode}
	if file != nil {
		sum := sha256.Sum256(file)
		ref := blob.Ref{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(file)), Type: "application/pdf", Name: "vollmacht.pdf"}
		if here {
			if _, err := h.store.Blobs().Put(context.Background(), strings.NewReader(string(file)), "vollmacht.pdf", 1<<20); err != nil {
				t.Fatal(err)
			}
		}
		p.Attachments = []vehicle.Attachment{{Kind: "vollmacht", File: ref}}
	}
	h.sendDown(t, vehicle.TypeSubmitted, "vehicle/"+id, p)
}

func (h *ordersHarness) grantPlates(t *testing.T, id int64, letters string, first, last int) {
	t.Helper()
	h.sendDown(t, plates.TypeBlockGranted, "plateblock/x", &plates.BlockGranted{Block: plates.Block{ID: id, Letters: letters, First: first, Last: last}})
}

// vehicleAPI posts an action as user (password "demo") with body.
func (h *ordersHarness) vehicleAPI(t *testing.T, user, id, action, body string) response {
	t.Helper()
	req := h.newRequest(t, http.MethodPost, "/api/v1/vehicle-applications/"+id+"/"+action, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(user, "demo")
	return h.send(t, nil, req)
}

func (h *ordersHarness) addStaff(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := h.store.CreateUser(context.Background(), sqlite.User{Name: n, DisplayName: n, Role: sqlite.RoleClerk}, "demo"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestVehicleAPI: the back office's API lists the site's applications and
// takes them through claim, checks and decision, with a clear 4xx for
// every step it refuses; approval assigns a plate from the site's block
// and, with the block used up, says so with 503.
func TestVehicleAPI(t *testing.T) {
	h := newOrdersHarness(t)
	h.addStaff(t, "anna")
	h.grantPlates(t, 1, "AB", 100, 100)
	h.submitVehicle(t, "V1001", vehicle.ProcessNew, vehicle.PlateRandom, nil, false)
	h.submitVehicle(t, "V1002", vehicle.ProcessNew, vehicle.PlateRandom, nil, false)

	list := func(query string) (int, []map[string]any) {
		req := h.newRequest(t, http.MethodGet, "/api/v1/vehicle-applications"+query, nil)
		req.SetBasicAuth("demo", "demo")
		res := h.send(t, nil, req)
		var out []map[string]any
		json.Unmarshal(res.body, &out)
		return res.status, out
	}
	if status, apps := list(""); status != 200 || len(apps) != 2 || apps[0]["id"] != "V1001" || apps[0]["status"] != vehicle.StatusAtSite {
		t.Fatalf("list: %d %v", status, apps)
	}
	if status, apps := list("?status=approved"); status != 200 || len(apps) != 0 {
		t.Fatalf("approved: %d %v", status, apps)
	}
	req := h.newRequest(t, http.MethodGet, "/api/v1/vehicle-applications?status=done", nil)
	req.SetBasicAuth("demo", "demo")
	if res := h.send(t, nil, req); res.status != 400 || !strings.Contains(res.String(), `"status"`) {
		t.Fatalf("bad status filter: %d %s", res.status, res)
	}
	if res := h.get(t, h.anon, "/api/v1/vehicle-applications"); res.status != 401 {
		t.Fatalf("without login: %d", res.status)
	}
	// The list never carries personal data.
	req = h.newRequest(t, http.MethodGet, "/api/v1/vehicle-applications", nil)
	req.SetBasicAuth("demo", "demo")
	if res := h.send(t, nil, req); strings.Contains(res.String(), "Łukowski") || strings.Contains(res.String(), "joerg@") {
		t.Fatalf("personal data in the list: %s", res)
	}

	steps := []struct {
		user, id, action, body string
		status                 int
		want                   string // in the body
	}{
		{"demo", "V9999", "claim", "", 404, "nicht bekannt"},
		{"demo", "V1001", "approve", "", 409, "erst übernehmen"},
		{"demo", "V1001", "shred", "", 404, "Unbekannter Schritt"},
		{"demo", "V1001", "claim", "", 200, `"status":"in_review"`},
		{"demo", "V1001", "claim", "", 409, "schon"},
		{"anna", "V1001", "check", `{"check":"gebuehren","ok":true}`, 409, "demo"},
		{"demo", "V1001", "check", `{"check":"gebuehren"}`, 400, "ok"},
		{"demo", "V1001", "check", `{"check":"horoskop","ok":true}`, 400, "check"},
		{"demo", "V1001", "reject", `{}`, 400, "reason"},
		{"demo", "V1001", "reject", `{"reason":"x","extra":1}`, 400, ""},
		{"demo", "V1001", "approve", "", 409, "Prüfungen fehlen"},
		{"demo", "V1001", "check", `{"check":"gebuehren","ok":true}`, 200, ""},
		{"demo", "V1001", "check", `{"check":"kfz_steuer","ok":true}`, 200, ""},
		{"demo", "V1001", "check", `{"check":"evb","ok":true}`, 200, ""},
		{"demo", "V1001", "check", `{"check":"zentrales_register","ok":true}`, 200, ""},
		{"demo", "V1001", "approve", "", 200, `"plate":"K-AB 100"`},
		{"demo", "V1001", "reject", `{"reason":"zu spät"}`, 409, "entschieden"},
		{"demo", "V1002", "claim", "", 200, ""},
		{"demo", "V1002", "request-info", `{"reason":"Bitte die Vollmacht hochladen."}`, 200, `"status":"info_requested"`},
	}
	for i, st := range steps {
		res := h.vehicleAPI(t, st.user, st.id, st.action, st.body)
		if res.status != st.status || !strings.Contains(res.String(), st.want) {
			t.Fatalf("step %d %s %s: %d %s; want %d with %q", i, st.id, st.action, res.status, res, st.status, st.want)
		}
		if res.status >= 400 && !strings.Contains(res.String(), `"error"`) {
			t.Fatalf("step %d: error without a message: %s", i, res)
		}
	}

	// The block is used up: 503 with why, and the application stays.
	h.submitVehicle(t, "V1003", vehicle.ProcessNew, vehicle.PlateRandom, nil, false)
	h.vehicleAPI(t, "demo", "V1003", "claim", "")
	for _, c := range vehicle.RequiredChecks(vehicle.ProcessNew) {
		h.vehicleAPI(t, "demo", "V1003", "check", `{"check":"`+c+`","ok":true}`)
	}
	if res := h.vehicleAPI(t, "demo", "V1003", "approve", ""); res.status != 503 || !strings.Contains(res.String(), "Keine freien Kennzeichen") {
		t.Fatalf("no plates left: %d %s", res.status, res)
	}
	if status, apps := list("?status=in_review"); status != 200 || len(apps) != 1 || apps[0]["id"] != "V1003" {
		t.Fatalf("after the refusal: %d %v", status, apps)
	}
}

var verifyURL = regexp.MustCompile(`^` + regexp.QuoteMeta(portal) + `/verify/[2-9A-HJ-NP-Z]{12}$`)

// TestVehiclePermit: approval at the desk produces the provisional proof
// as a PDF in the site's file store, offered up to central in the same
// transaction; its QR code reads back to central's verification URL of
// the decision's code, and it holds nothing personal. Attachments are
// shown once their files are at the site.
func TestVehiclePermit(t *testing.T) {
	ctx := context.Background()
	h := newOrdersHarness(t)
	h.grantPlates(t, 1, "AB", 100, 199)
	file := []byte("%PDF-1.4\n% a power of attorney\n%%EOF\n")
	h.submitVehicle(t, "V2001", vehicle.ProcessTransfer, vehicle.PlateRandom, file, true)
	h.submitVehicle(t, "V2002", vehicle.ProcessTransfer, vehicle.PlateRandom, []byte("%PDF-1.4\nnot here yet\n"), false)
	b := h.browser(t)
	h.login(t, b)

	page := h.get(t, b, "/desk/vehicle/V2001")
	if page.status != 200 || !strings.Contains(page.String(), "Łukowski") || !strings.Contains(page.String(), "vollmacht.pdf") {
		t.Fatalf("detail: %d", page.status)
	}
	// The IBAN as on paper, in groups of four, for the clerk to read back.
	if !strings.Contains(page.String(), "DE89 3704 0044 0532 0130 00") {
		t.Errorf("the detail page does not show the IBAN in groups of four")
	}
	sum := sha256.Sum256(file)
	if res := h.get(t, b, "/desk/vehicle/V2001/files/"+hex.EncodeToString(sum[:])); res.status != 200 || string(res.body) != string(file) ||
		res.header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("attachment: %d %q", res.status, res.header.Get("Content-Type"))
	}
	if page := h.get(t, b, "/desk/vehicle/V2002"); !strings.Contains(page.String(), "noch von der Zentrale übertragen") {
		t.Fatalf("a file on its way is not marked so:\n%s", page)
	}

	for _, step := range []string{"claim", "check", "check", "check", "check", "approve"} {
		form := ""
		if step == "check" {
			form = "ok=1&check=" + map[int]string{0: "gebuehren", 1: "kfz_steuer", 2: "evb", 3: "zentrales_register"}[len(h.checksOf(t, "V2001"))]
		}
		res := h.postForm(t, b, "/desk/vehicle/V2001/"+step, form)
		if res.status != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", step, res.status, res)
		}
	}
	a, err := vehicle.Get(ctx, h.store.Read(), "V2001")
	if err != nil || a.Status != vehicle.StatusApproved || a.Permit == nil {
		t.Fatalf("approved: %+v %v", a, err)
	}
	var offered int
	h.store.Read().QueryRowContext(ctx, `SELECT count(*) FROM blob_transfers WHERE sha256 = ? AND direction = 'up'`, a.Permit.SHA256).Scan(&offered)
	if offered != 1 {
		t.Fatalf("the permit is not offered up to central")
	}
	res := h.get(t, b, "/desk/vehicle/V2001/files/"+a.Permit.SHA256)
	if res.status != 200 || res.header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("permit: %d", res.status)
	}
	sum = sha256.Sum256(res.body)
	if hex.EncodeToString(sum[:]) != a.Permit.SHA256 || int64(len(res.body)) != a.Permit.Size {
		t.Fatalf("the permit's bytes do not match its Ref")
	}
	path := filepath.Join(t.TempDir(), "permit.pdf")
	if err := os.WriteFile(path, res.body, 0o600); err != nil {
		t.Fatal(err)
	}
	qr := pdfQR(t, path)
	if qr != portal+"/verify/"+a.Code || !verifyURL.MatchString(qr) {
		t.Fatalf("QR code reads %q, want %s/verify/%s", qr, portal, a.Code)
	}
	text := pdfText(t, path)
	for _, want := range []string{"Vorläufiger Zulassungsnachweis", a.Plate, "WVWZZZ1JZXW000001", a.Code} {
		if !strings.Contains(text, want) {
			t.Errorf("permit lacks %q:\n%s", want, text)
		}
	}
	for _, secret := range []string{"Łukowski", "Venloer", "joerg@"} {
		if strings.Contains(text, secret) {
			t.Errorf("permit holds %q", secret)
		}
	}
	valid, _ := time.Parse(time.DateOnly, a.ValidUntil)
	if days := time.Until(valid).Hours() / 24; days < 9 || days > 10.1 {
		t.Errorf("valid until %s: %.1f days from now, want 10", a.ValidUntil, days)
	}

	// The mailing list: the envelope's address, then posted.
	list := h.get(t, b, "/desk/vehicle/post")
	if !strings.Contains(list.String(), "Venloer Straße 12") || !strings.Contains(list.String(), a.Plate) {
		t.Fatalf("mailing list:\n%s", list)
	}
	if res := h.postForm(t, b, "/desk/vehicle/V2001/posted", ""); res.status != http.StatusSeeOther {
		t.Fatalf("posted: %d", res.status)
	}
	if list := h.get(t, b, "/desk/vehicle/post"); strings.Contains(list.String(), "Venloer") {
		t.Fatalf("still on the mailing list")
	}
	var posted int
	h.store.Read().QueryRowContext(ctx, `SELECT count(*) FROM changelog WHERE type = ?`, vehicle.TypeSentByPost).Scan(&posted)
	if posted != 1 {
		t.Fatalf("%d documents_posted events", posted)
	}
}

func (h *ordersHarness) checksOf(t *testing.T, id string) map[string]vehicle.CheckResult {
	t.Helper()
	c, err := vehicle.Checks(context.Background(), h.store.Read(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestVehicleDeskFourEyes: the lead turns four eyes on at the desk; the
// clerk who claimed and checked is told a second person must approve, and
// a second clerk approves; a reason left out is marked at its field.
func TestVehicleDeskFourEyes(t *testing.T) {
	h := newOrdersHarness(t)
	h.addStaff(t, "anna")
	h.grantPlates(t, 1, "AB", 100, 199)
	h.submitVehicle(t, "V3001", vehicle.ProcessDeregister, "", nil, false)
	lead := h.browser(t)
	h.login(t, lead)
	anna := h.browser(t)
	if res := h.postForm(t, anna, "/desk/login", "user=anna&password=demo"); res.status != http.StatusSeeOther {
		t.Fatalf("login anna: %d", res.status)
	}
	if res := h.postForm(t, anna, "/desk/vehicle/settings", "four_eyes=1"); res.status != http.StatusForbidden {
		t.Fatalf("a clerk changes the setting: %d", res.status)
	}
	// A cross-site form with the lead's session: refused, nothing logged.
	req := h.newRequest(t, http.MethodPost, "/desk/vehicle/settings", strings.NewReader("four_eyes=1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if res := h.send(t, lead, req); res.status != http.StatusForbidden {
		t.Fatalf("a cross-site change: %d", res.status)
	}
	if on, _ := vehicle.FourEyes(context.Background(), h.store.Read()); on {
		t.Fatal("the refused requests turned four eyes on")
	}
	if res := h.postForm(t, lead, "/desk/vehicle/settings", "four_eyes=1"); res.status != http.StatusSeeOther {
		t.Fatalf("setting: %d", res.status)
	}
	// In the change-log, with who changed it; the page says so.
	var staff []byte
	if err := h.store.Read().QueryRowContext(context.Background(), `SELECT payload FROM changelog WHERE type = ?`, vehicle.TypeSettingsChanged).Scan(&staff); err != nil || !bytes.Contains(staff, []byte("demo")) {
		t.Fatalf("the change is not logged with its author: %v", err)
	}
	if page := h.get(t, lead, "/desk/vehicle"); !strings.Contains(page.String(), `id="foureyes-changed"`) || !strings.Contains(page.String(), "Zuletzt geändert von demo") {
		t.Fatalf("the page does not say who changed the setting")
	}
	h.postForm(t, anna, "/desk/vehicle/V3001/claim", "")
	res := h.postForm(t, anna, "/desk/vehicle/V3001/reject", "reason=+")
	if res.status != 400 || !strings.Contains(res.String(), `id="reason-error"`) || !strings.Contains(res.String(), `aria-invalid="true"`) {
		t.Fatalf("empty reason: %d", res.status)
	}
	for _, c := range vehicle.RequiredChecks(vehicle.ProcessDeregister) {
		h.postForm(t, anna, "/desk/vehicle/V3001/check", "ok=1&check="+c)
	}
	page := h.get(t, anna, "/desk/vehicle/V3001")
	if !strings.Contains(page.String(), `id="second-needed"`) || strings.Contains(page.String(), `id="approve"`) {
		t.Fatalf("the claimant is offered to approve alone")
	}
	if res := h.postForm(t, anna, "/desk/vehicle/V3001/approve", ""); res.status != 409 || !strings.Contains(res.String(), "Vier-Augen") {
		t.Fatalf("approve alone: %d", res.status)
	}
	if page := h.get(t, lead, "/desk/vehicle/V3001"); !strings.Contains(page.String(), `id="approve"`) {
		t.Fatalf("the second person is not offered to approve")
	}
	if res := h.postForm(t, lead, "/desk/vehicle/V3001/approve", ""); res.status != http.StatusSeeOther {
		t.Fatalf("second approves: %d %s", res.status, res)
	}
	a, _ := vehicle.Get(context.Background(), h.store.Read(), "V3001")
	if a.Status != vehicle.StatusApproved || a.Staff != "anna" || a.Second != "demo" || a.Plate != "" {
		t.Fatalf("approved: %+v", a)
	}
}

// TestVehicleApprovalsAtOnce: approvals that race for the next plate of
// the block each get their own plate and a permit that shows it (the
// permit is rendered before the command: one that lost its plate goes
// round again).
func TestVehicleApprovalsAtOnce(t *testing.T) {
	ctx := context.Background()
	h := newOrdersHarness(t)
	h.grantPlates(t, 1, "AB", 100, 199)
	const n = 4
	for i := range n {
		id := "V400" + string(rune('1'+i))
		h.submitVehicle(t, id, vehicle.ProcessNew, vehicle.PlateRandom, nil, false)
		h.vehicleAPI(t, "demo", id, "claim", "")
		for _, c := range vehicle.RequiredChecks(vehicle.ProcessNew) {
			h.vehicleAPI(t, "demo", id, "check", `{"check":"`+c+`","ok":true}`)
		}
	}
	results := make(chan response, n)
	for i := range n {
		go func() {
			req := h.newRequest(t, http.MethodPost, "/api/v1/vehicle-applications/V400"+string(rune('1'+i))+"/approve", nil)
			req.SetBasicAuth("demo", "demo")
			res, err := h.client.Do(req)
			if err != nil {
				results <- response{status: 0, body: []byte(err.Error())}
				return
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			results <- response{status: res.StatusCode, body: b}
		}()
	}
	for range n {
		if res := <-results; res.status != 200 {
			t.Fatalf("approve: %d %s", res.status, res)
		}
	}
	seen := map[string]bool{}
	for i := range n {
		a, err := vehicle.Get(ctx, h.store.Read(), "V400"+string(rune('1'+i)))
		if err != nil || a.Plate == "" || seen[a.Plate] {
			t.Fatalf("%s: plate %q (seen: %v), %v", a.ID, a.Plate, seen, err)
		}
		seen[a.Plate] = true
		rc, _, err := h.store.Blobs().Open(ctx, a.Permit.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		path := filepath.Join(t.TempDir(), "permit.pdf")
		os.WriteFile(path, b, 0o600)
		if text := pdfText(t, path); !strings.Contains(text, a.Plate) {
			t.Fatalf("%s's permit does not show its plate %s:\n%s", a.ID, a.Plate, text)
		}
	}
}
