package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	veedel "github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/plates"
	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/server"
	"github.com/veedel/veedel/sync/blob"
	"github.com/veedel/veedel/sync/changelog"
)

// vehicleSite is an env whose site is the registration site: it has sent
// its log and its box key, and gets the plates.
func vehicleSite(t *testing.T) (*env, *siteLog) {
	t.Helper()
	e, l := orderSite(t)
	e.Central.Plates().SetSites([]string{siteID})
	return e, l
}

func transferBody(iban, plate string) string {
	return `{"process":"umschreibung",
 "owner":{"kind":"person","family_name":"Schmitz","given_names":"Anna","birth_date":"1984-03-17","street":"Venloer Str. 12","postcode":"50672","city":"Köln"},
 "vehicle":{"fin":"WVWZZZ1JZXW000001","zb1_number":"AB1234567C","zb1_code":"K7QM4XP","zb2_number":"AF7654321","zb2_code":"K7QM4XPA2B3C","current_plate":"K-AB 123"},
 "evb":"A1B2C3D","sepa":{"iban":"` + iban + `","holder":"Anna Schmitz"},"plate":` + plate + `}`
}

// submittedEvents returns the applications in the site's outbound log.
func (e *env) submittedEvents(site string) []vehicle.ApplicationSubmitted {
	var out []vehicle.ApplicationSubmitted
	for _, en := range e.outboundLog(site) {
		if en.Type != vehicle.TypeSubmitted {
			continue
		}
		var p vehicle.ApplicationSubmitted
		if err := changelog.Unmarshal(en.Payload, &p); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// TestVehicleApplicationAPI: a bad application is refused field by field
// and sends nothing; a good one goes into the registration site's
// outbound log with everything personal sealed to the site; its status
// follows the site's log up to approval, and /verify then shows the
// plate, FIN and valid-until, nothing personal.
func TestVehicleApplicationAPI(t *testing.T) {
	e, l := vehicleSite(t)

	status, out := e.postJSON("/api/v1/vehicle-applications", transferBody("DE89 3704 0044 0532 0130 01", `{"mode":"keep"}`))
	fields, _ := out["fields"].(map[string]any)
	if status != http.StatusBadRequest || fields["sepa.iban"] == nil || len(fields) != 1 {
		t.Fatalf("wrong check digit: %d %v", status, out)
	}
	if got := e.submittedEvents(siteID); len(got) != 0 {
		t.Fatalf("a refused application was sent: %v", got)
	}

	status, out = e.postJSON("/api/v1/vehicle-applications", transferBody("DE89 3704 0044 0532 0130 00", `{"mode":"keep"}`))
	if status != http.StatusCreated || out["status"] != "submitted" || out["token"] == nil {
		t.Fatalf("good application: %d %v", status, out)
	}
	token, id := out["token"].(string), out["id"].(string)
	if out["status_url"] != "/api/v1/vehicle-applications/"+token {
		t.Errorf("status_url %v", out["status_url"])
	}
	sent := e.submittedEvents(siteID)
	if len(sent) != 1 || sent[0].ID != id || sent[0].Process != vehicle.ProcessTransfer || sent[0].PlateMode != vehicle.PlateKeep {
		t.Fatalf("sent %+v", sent)
	}
	for _, en := range e.outboundLog(siteID) {
		for _, personal := range []string{"Schmitz", "DE89", "K7QM4XP", "Venloer"} {
			if bytes.Contains(en.Payload, []byte(personal)) {
				t.Errorf("outbound entry %s carries %q in clear", en.Type, personal)
			}
		}
	}
	plain, err := changelog.Open(siteBox(siteID), vehicle.SealInfo(siteID, id), sent[0].Sealed)
	if err != nil {
		t.Fatal(err)
	}
	var app vehicle.Application
	if err := cbor.Unmarshal(plain, &app); err != nil {
		t.Fatal(err)
	}
	if app.SEPA == nil || app.SEPA.IBAN != "DE89370400440532013000" || app.Owner.FamilyName != "Schmitz" || app.Plate.Plate != "K-AB 123" {
		t.Errorf("sealed application %+v", app)
	}

	var view vehicle.StatusView
	if code := e.getJSON("/api/v1/vehicle-applications/"+token, &view); code != http.StatusOK || view.Status != vehicle.StatusSubmitted || view.ID != id {
		t.Fatalf("status %d %+v", code, view)
	}
	if code := e.getJSON("/api/v1/vehicle-applications/x"+token, &map[string]any{}); code != http.StatusNotFound {
		t.Errorf("unknown token: %d", code)
	}

	n := len(l.entries)
	l.add(vehicle.TypeReceived, vehicle.Entity(id), &vehicle.ApplicationReceived{ApplicationSubmitted: sent[0]})
	l.add(vehicle.TypeClaimed, vehicle.Entity(id), &vehicle.ApplicationClaimed{ID: id, Staff: "demo"})
	e.mustPost(l.batch(uint64(n+1), uint64(len(l.entries))))
	e.getJSON("/api/v1/vehicle-applications/"+token, &view)
	if view.Status != vehicle.StatusInReview {
		t.Errorf("after claim: %+v", view)
	}
	n = len(l.entries)
	permit := blob.Ref{SHA256: strings.Repeat("cd", 32), Size: 2048, Type: "application/pdf"}
	l.add(vehicle.TypeApproved, vehicle.Entity(id), &vehicle.ApplicationApproved{ID: id, Staff: "demo", Plate: "K-AB 123", FIN: "WVWZZZ1JZXW000001",
		Code: "QRCODE7", ValidUntil: "2026-12-16", Permit: permit})
	e.mustPost(l.batch(uint64(n+1), uint64(len(l.entries))))
	e.getJSON("/api/v1/vehicle-applications/"+token, &view)
	if view.Status != vehicle.StatusApproved || view.Plate != "K-AB 123" || !strings.HasSuffix(view.PermitURL, "/kfz/s/"+token+"/genehmigung.pdf") {
		t.Errorf("approved: %+v", view)
	}
	var v map[string]any
	if code := e.getJSON("/api/v1/verify/QRCODE7", &v); code != http.StatusOK || v["plate"] != "K-AB 123" || v["fin"] != "WVWZZZ1JZXW000001" ||
		v["valid_until"] != "2026-12-16" || v["valid"] != true || len(v) != 4 {
		t.Errorf("verify: %d %v", code, v)
	}
	resp, body := e.get("/verify/QRCODE7")
	wantStatus(t, "verify page", resp, http.StatusOK)
	contains(t, "verify page", body, "K-AB 123", "WVWZZZ1JZXW000001", "Gültig")
	resp, body = e.get("/verify/NOPE")
	wantStatus(t, "unknown code", resp, http.StatusNotFound)
	contains(t, "unknown code", body, "Nachweis unbekannt")
	resp, body = e.get("/kfz/s/" + token)
	wantStatus(t, "status page", resp, http.StatusOK)
	contains(t, "status page", body, "Zugelassen", "K-AB 123", "genehmigung.pdf")
	if strings.Contains(body, "Schmitz") {
		t.Error("status page shows the owner's name")
	}
}

// TestVehicleWishPlate: a Wunschkennzeichen needs the live reservation of
// that plate; the site gets the reservation's hash, as
// plates.reservation_sent names it, never the token.
func TestVehicleWishPlate(t *testing.T) {
	e, _ := vehicleSite(t)
	status, out := e.postJSON("/api/v1/plates/reservations", `{"plate":"K-VW 2027","name":"Anna Schmitz","email":"anna@example.de"}`)
	if status != http.StatusCreated {
		t.Fatalf("reservation: %d %v", status, out)
	}
	token := out["token"].(string)
	for _, c := range []struct{ plate, resv string }{{"K-VW 2027", "wrong"}, {"K-VW 2028", token}} {
		status, out = e.postJSON("/api/v1/vehicle-applications", transferBody("DE89370400440532013000", fmt.Sprintf(`{"mode":"wish","plate":%q,"reservation":%q}`, c.plate, c.resv)))
		if f, _ := out["fields"].(map[string]any); status != http.StatusBadRequest || f["plate.reservation"] == nil {
			t.Errorf("%+v: %d %v", c, status, out)
		}
	}
	status, out = e.postJSON("/api/v1/vehicle-applications", transferBody("DE89370400440532013000", `{"mode":"wish","plate":"k vw 2027","reservation":"`+token+`"}`))
	if status != http.StatusCreated {
		t.Fatalf("wish with its reservation: %d %v", status, out)
	}
	sent := e.submittedEvents(siteID)
	if len(sent) != 1 || sent[0].Reservation != hex.EncodeToString(plates.TokenHash(token)) {
		t.Fatalf("sent %+v", sent)
	}
	plain, err := changelog.Open(siteBox(siteID), vehicle.SealInfo(siteID, sent[0].ID), sent[0].Sealed)
	if err != nil || bytes.Contains(plain, []byte(token)) {
		t.Errorf("the sealed application carries the reservation token (%v)", err)
	}
}

// TestPlateReservationLimit: one client reserves PlateLimit plates, then
// gets 429 with Retry-After; refused reservations do not count.
func TestPlateReservationLimit(t *testing.T) {
	e, _ := vehicleSite(t)
	reserve := func(plate string) int {
		status, _ := e.postJSON("/api/v1/plates/reservations", `{"plate":"`+plate+`","name":"Anna","email":"anna@example.de"}`)
		return status
	}
	if got := reserve("K-AB 1"); got != http.StatusCreated {
		t.Fatalf("first: %d", got)
	}
	for range 3 {
		if got := reserve("K-AB 1"); got != http.StatusConflict {
			t.Fatalf("taken: %d", got)
		}
	}
	for i := 2; i <= int(server.PlateLimit.Burst); i++ {
		if got := reserve(fmt.Sprintf("K-AB %d", i)); got != http.StatusCreated {
			t.Fatalf("reservation %d: %d", i, got)
		}
	}
	resp, err := http.Post(e.URL+"/api/v1/plates/reservations", "application/json", strings.NewReader(`{"plate":"K-AC 1","name":"Anna","email":"anna@example.de"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("over the limit: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	e.Clock.Add(server.PlateLimit.Every)
	if got := reserve("K-AC 1"); got != http.StatusCreated {
		t.Errorf("after the refill: %d", got)
	}
}

// postMultipart posts a multipart form without following the redirect.
func (e *env) postMultipart(path string, form url.Values, files map[string][]byte) (*http.Response, string) {
	e.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, vs := range form {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	for k, data := range files {
		fw, _ := w.CreateFormFile(k, k+".pdf")
		fw.Write(data)
	}
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, e.URL+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp, b.String()
}

func goodTransferForm() url.Values {
	return url.Values{
		"submission": {"BBBBBBBBBBBBBBBBBBBBBB"}, "owner.kind": {"person"},
		"owner.family_name": {"Kowalczyk-Öztürk"}, "owner.given_names": {"Zofia"}, "owner.birth_date": {"28.02.1990"},
		"owner.street": {"Venloer Str. 12"}, "owner.postcode": {"50672"}, "owner.city": {"Köln"},
		"vehicle.fin": {"WVWZZZ1JZXW000001"}, "vehicle.current_plate": {"K-AB 123"},
		"vehicle.zb1_number": {"AB1234567C"}, "vehicle.zb1_code": {"K7QM4XP"}, "vehicle.zb2_number": {"AF7654321"}, "vehicle.zb2_code": {"K7QM4XPA2B3C"},
		"evb": {"A1B2C3D"}, "sepa.iban": {"DE89 3704 0044 0532 0130 00"}, "sepa.holder": {"Zofia Kowalczyk"}, "plate.mode": {"keep"},
	}
}

// TestVehiclePortalForm: the form shows each error beside its field in
// the page's language and keeps what was typed; a good post goes to the
// confirmation with the status link, once however often it is posted.
func TestVehiclePortalForm(t *testing.T) {
	e, _ := vehicleSite(t)
	resp, body := e.get("/kfz")
	wantStatus(t, "choose", resp, http.StatusOK)
	contains(t, "choose", body, `href="/kfz/umschreibung"`, "Außerbetriebsetzung")
	resp, _ = e.get("/kfz/abmeldung")
	wantStatus(t, "unknown process", resp, http.StatusNotFound)

	bad := goodTransferForm()
	bad.Set("sepa.iban", "DE89 3704 0044 0532 0130 01")
	bad.Set("vehicle.fin", "WVWZZZ1JZXW0000O1")
	resp, body = e.postMultipart("/kfz/umschreibung", bad, nil)
	wantStatus(t, "bad form", resp, http.StatusBadRequest)
	contains(t, "bad form", body, `id="f-sepa-iban-error"`, "Prüfziffer stimmt nicht", `href="#f-vehicle-fin"`, `value="Kowalczyk-Öztürk"`,
		`aria-invalid="true" aria-describedby="f-vehicle-fin-hint f-vehicle-fin-error"`)
	if strings.Contains(body, "check digits") {
		t.Error("the German page shows the English message")
	}
	_, body = e.postMultipart("/kfz/umschreibung?lang=en", bad, nil)
	contains(t, "bad form in English", body, "check digits do not match")
	if got := e.submittedEvents(siteID); len(got) != 0 {
		t.Fatalf("a refused form was sent: %v", got)
	}

	good := goodTransferForm()
	resp, _ = e.postMultipart("/kfz/umschreibung", good, nil)
	wantStatus(t, "good form", resp, http.StatusSeeOther)
	to := resp.Header.Get("Location")
	if !strings.HasPrefix(to, "/kfz/s/") || !strings.HasSuffix(to, "/bestaetigung") {
		t.Fatalf("redirect to %q", to)
	}
	again, _ := e.postMultipart("/kfz/umschreibung", good, nil)
	if again.Header.Get("Location") != to || len(e.submittedEvents(siteID)) != 1 {
		t.Errorf("the same form twice: %q, %d sent", again.Header.Get("Location"), len(e.submittedEvents(siteID)))
	}
	resp, body = e.get(to)
	wantStatus(t, "confirmation", resp, http.StatusOK)
	contains(t, "confirmation", body, "Antrag gestellt", "Umschreibung", strings.TrimSuffix(to, "/bestaetigung"))

	// A file of another type is refused beside its input; a good one is
	// kept across a failed post (its hash in the form), and goes with
	// the application, in clear for the site to fetch.
	good.Set("submission", "CCCCCCCCCCCCCCCCCCCCCC")
	resp, body = e.postMultipart("/kfz/umschreibung", good, map[string][]byte{"file.vollmacht": []byte("\x89PNG\r\n\x1a\n....")})
	wantStatus(t, "a PNG", resp, http.StatusBadRequest)
	contains(t, "a PNG", body, `id="f-file-vollmacht-error"`, "Nur PDF oder JPEG")
	pdf := []byte("%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n")
	good.Set("evb", "")
	resp, body = e.postMultipart("/kfz/umschreibung", good, map[string][]byte{"file.vollmacht": pdf})
	wantStatus(t, "a PDF, no eVB", resp, http.StatusBadRequest)
	contains(t, "a PDF, no eVB", body, `id="f-evb-error"`, `name="kept.vollmacht" value="`, "Erhalten: file.vollmacht.pdf")
	kept := body[strings.Index(body, `name="kept.vollmacht" value="`)+len(`name="kept.vollmacht" value="`):]
	kept = kept[:64]
	good.Set("evb", "A1B2C3D")
	good.Set("kept.vollmacht", kept)
	good.Set("kept.vollmacht.name", "vollmacht.pdf")
	resp, _ = e.postMultipart("/kfz/umschreibung", good, nil)
	wantStatus(t, "kept file", resp, http.StatusSeeOther)
	sent := e.submittedEvents(siteID)
	last := sent[len(sent)-1]
	if len(last.Attachments) != 1 || last.Attachments[0].Kind != vehicle.AttachmentAuthority || last.Attachments[0].File.SHA256 != kept ||
		last.Attachments[0].File.Type != "application/pdf" || last.Attachments[0].File.Size != int64(len(pdf)) {
		t.Fatalf("attachments sent: %+v", last.Attachments)
	}
	if _, err := e.Central.BlobForSite(siteID, kept); err != nil {
		t.Errorf("the site may not fetch its application's file: %v", err)
	}
}

// TestVehicleFilesAPI: files go up on their own (PDF or JPEG, bounded);
// an application names them by hash, and only files central has.
func TestVehicleFilesAPI(t *testing.T) {
	e, l := vehicleSite(t)
	upload := func(body []byte) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, e.URL+"/api/v1/vehicle-applications/files", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/pdf")
		req.Header.Set("Content-Disposition", `attachment; filename="vollmacht.pdf"`)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if status, out := upload([]byte("GIF89a......")); status != http.StatusBadRequest || out["fields"] == nil {
		t.Errorf("a GIF: %d %v", status, out)
	}
	if status, out := upload(append([]byte("%PDF-1.4\n"), make([]byte, vehicle.MaxAttachmentSize)...)); status != http.StatusBadRequest {
		t.Errorf("over 10 MB: %d %v", status, out)
	}
	pdf := []byte("%PDF-1.4\n% Vollmacht\n%%EOF\n")
	status, ref := upload(pdf)
	if status != http.StatusCreated || ref["type"] != "application/pdf" || ref["name"] != "vollmacht.pdf" {
		t.Fatalf("a PDF: %d %v", status, ref)
	}
	withFile := func(sha string) string {
		return strings.Replace(transferBody("DE89370400440532013000", `{"mode":"random"}`), `"evb"`,
			`"attachments":[{"kind":"vollmacht","file":{"sha256":"`+sha+`","size":99,"type":"image/jpeg"}}],"evb"`, 1)
	}
	status, out := e.postJSON("/api/v1/vehicle-applications", withFile(strings.Repeat("ab", 32)))
	if f, _ := out["fields"].(map[string]any); status != http.StatusBadRequest || f["attachments.0.file"] == nil {
		t.Errorf("a file central lacks: %d %v", status, out)
	}
	status, out = e.postJSON("/api/v1/vehicle-applications", withFile(ref["sha256"].(string)))
	if status != http.StatusCreated {
		t.Fatalf("with the file: %d %v", status, out)
	}
	sent := e.submittedEvents(siteID)
	if f := sent[0].Attachments[0].File; f.Type != "application/pdf" || f.Size != int64(len(pdf)) {
		t.Errorf("the attachment as sent: %+v (central's own type and size, not the applicant's)", f)
	}

	// The permit: a pending page until the site's PDF reached central,
	// then the PDF.
	token, id := out["token"].(string), out["id"].(string)
	permitPDF := []byte("%PDF-1.4\n% vorlaeufiger Nachweis\n%%EOF\n")
	sum := sha256.Sum256(permitPDF)
	n := len(l.entries)
	l.add(vehicle.TypeReceived, vehicle.Entity(id), &vehicle.ApplicationReceived{ApplicationSubmitted: sent[0]})
	l.add(vehicle.TypeApproved, vehicle.Entity(id), &vehicle.ApplicationApproved{ID: id, Plate: "K-Q 17", FIN: "WVWZZZ1JZXW000001", Code: "C0DE",
		ValidUntil: "2026-12-16", Permit: blob.Ref{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(permitPDF)), Type: "application/pdf"}})
	e.mustPost(l.batch(uint64(n+1), uint64(len(l.entries))))
	resp, body := e.get("/kfz/s/" + token + "/genehmigung.pdf")
	wantStatus(t, "permit not yet here", resp, http.StatusServiceUnavailable)
	contains(t, "permit not yet here", body, "Nachweis noch unterwegs")
	if _, err := e.Central.Blobs().Put(context.Background(), bytes.NewReader(permitPDF), "permit.pdf", 1<<20); err != nil {
		t.Fatal(err)
	}
	resp, body = e.get("/kfz/s/" + token + "/genehmigung.pdf")
	wantStatus(t, "permit", resp, http.StatusOK)
	if body != string(permitPDF) || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Errorf("permit served as %q: %q", resp.Header.Get("Content-Type"), body)
	}
	resp, _ = e.get("/kfz/s/x" + token + "/genehmigung.pdf")
	wantStatus(t, "another token's permit", resp, http.StatusNotFound)
}

// TestSubmitVehicleApplicationGo: the business portal's way in: the
// company's name travels with the application, and the status hook
// reports every change with it.
func TestSubmitVehicleApplicationGo(t *testing.T) {
	e, l := vehicleSite(t)
	var changes []vehicle.StatusChange
	e.Central.OnVehicleStatusChange(func(c vehicle.StatusChange) { changes = append(changes, c) })
	var app vehicle.Application
	if err := json.Unmarshal([]byte(transferBody("DE89370400440532013000", `{"mode":"random"}`)), &app); err != nil {
		t.Fatal(err)
	}
	sub, err := e.Central.SubmitVehicleApplication(context.Background(), app, "rheinflotte")
	if err != nil {
		t.Fatal(err)
	}
	sent := e.submittedEvents(siteID)
	if len(sent) != 1 || sent[0].Company != "rheinflotte" {
		t.Fatalf("sent %+v", sent)
	}
	n := len(l.entries)
	l.add(vehicle.TypeReceived, vehicle.Entity(sub.ID), &vehicle.ApplicationReceived{ApplicationSubmitted: sent[0]})
	l.add(vehicle.TypeRejected, vehicle.Entity(sub.ID), &vehicle.ApplicationRejected{ID: sub.ID, Staff: "demo", Reason: "Steuerrückstand"})
	e.mustPost(l.batch(uint64(n+1), uint64(len(l.entries))))
	var got []string
	for _, c := range changes {
		if c.ID != sub.ID || c.Company != "rheinflotte" {
			t.Errorf("change %+v", c)
		}
		got = append(got, c.Status+":"+c.Reason)
	}
	if strings.Join(got, ",") != "submitted:,at_site:,rejected:Steuerrückstand" {
		t.Errorf("changes %v", got)
	}
}

// TestVehicleSupplement: while the site asks for more, the applicant's
// answer goes down sealed (API and status page); otherwise it is refused.
func TestVehicleSupplement(t *testing.T) {
	e, l := vehicleSite(t)
	_, out := e.postJSON("/api/v1/vehicle-applications", transferBody("DE89370400440532013000", `{"mode":"random"}`))
	token, id := out["token"].(string), out["id"].(string)
	path := "/api/v1/vehicle-applications/" + token + "/supplement"
	if status, out := e.postJSON(path, `{"note":"Vollmacht anbei"}`); status != http.StatusConflict {
		t.Errorf("nothing asked: %d %v", status, out)
	}
	ask := func(reason string) {
		n := len(l.entries)
		if n == 0 || l.entries[n-1].Type != vehicle.TypeInfoRequested {
			sent := e.submittedEvents(siteID)
			l.add(vehicle.TypeReceived, vehicle.Entity(id), &vehicle.ApplicationReceived{ApplicationSubmitted: sent[0]})
		}
		l.add(vehicle.TypeInfoRequested, vehicle.Entity(id), &vehicle.InfoRequested{ID: id, Staff: "demo", Reason: reason})
		e.mustPost(l.batch(uint64(n+1), uint64(len(l.entries))))
	}
	ask("Bitte die Vollmacht nachreichen")
	if status, out := e.postJSON(path, `{"note":""}`); status != http.StatusBadRequest || out["fields"] == nil {
		t.Errorf("empty answer: %d %v", status, out)
	}
	status, out := e.postJSON(path, `{"note":"Vollmacht kommt per Post"}`)
	if status != http.StatusOK || out["status"] != vehicle.StatusSubmitted {
		t.Fatalf("answer: %d %v", status, out)
	}
	var notes []string
	for _, en := range e.outboundLog(siteID) {
		if en.Type != vehicle.TypeSupplemented {
			continue
		}
		var p vehicle.ApplicationSupplemented
		if err := changelog.Unmarshal(en.Payload, &p); err != nil {
			t.Fatal(err)
		}
		plain, err := changelog.Open(siteBox(siteID), vehicle.SealInfo(siteID, id), p.Sealed)
		var note string
		if err != nil || cbor.Unmarshal(plain, &note) != nil || p.ID != id {
			t.Fatalf("supplement %+v: %v", p, err)
		}
		notes = append(notes, note)
	}
	if len(notes) != 1 || notes[0] != "Vollmacht kommt per Post" {
		t.Errorf("notes sent %q", notes)
	}

	// The status page's form, with a file.
	ask("Bitte den Nachweis hochladen")
	_, body := e.get("/kfz/s/" + token)
	contains(t, "asked", body, "Bitte den Nachweis hochladen", `action="/kfz/s/`+token+`/nachreichen"`)
	resp, body := e.postMultipart("/kfz/s/"+token+"/nachreichen", url.Values{"note": {" "}}, nil)
	wantStatus(t, "empty answer form", resp, http.StatusBadRequest)
	contains(t, "empty answer form", body, `id="f-note-error"`)
	resp, _ = e.postMultipart("/kfz/s/"+token+"/nachreichen", url.Values{"note": {"anbei"}}, map[string][]byte{"file": []byte("%PDF-1.4\n%%EOF\n")})
	wantStatus(t, "answer form", resp, http.StatusSeeOther)
	var view vehicle.StatusView
	if e.getJSON("/api/v1/vehicle-applications/"+token, &view); view.Status != vehicle.StatusSubmitted {
		t.Errorf("after the answer: %+v", view)
	}
	last := e.outboundLog(siteID)
	var p vehicle.ApplicationSupplemented
	if en := last[len(last)-1]; en.Type != vehicle.TypeSupplemented || changelog.Unmarshal(en.Payload, &p) != nil || len(p.Attachments) != 1 {
		t.Fatalf("last outbound %s %+v", en.Type, p)
	}
	if _, err := e.Central.BlobForSite(siteID, p.Attachments[0].File.SHA256); err != nil {
		t.Errorf("the site may not fetch the answer's file: %v", err)
	}
}

// TestVehicleSupplementConfirmation: the answer to a request for more
// goes (POST, 303, no personal data in the address) to a confirmation
// that says when it came and that it goes to the site, with its files'
// names and no note text; the state says the answer is on its way (not
// "Eingegangen"), and once the site has it, that the site has it.
func TestVehicleSupplementConfirmation(t *testing.T) {
	e, l := vehicleSite(t)
	_, out := e.postJSON("/api/v1/vehicle-applications", transferBody("DE89370400440532013000", `{"mode":"random"}`))
	token, id := out["token"].(string), out["id"].(string)
	sent := e.submittedEvents(siteID)
	l.add(vehicle.TypeReceived, vehicle.Entity(id), &vehicle.ApplicationReceived{ApplicationSubmitted: sent[0]})
	l.add(vehicle.TypeInfoRequested, vehicle.Entity(id), &vehicle.InfoRequested{ID: id, Staff: "demo", Reason: "Bitte den Kaufvertrag hochladen"})
	e.mustPost(l.batch(1, uint64(len(l.entries))))

	resp, _ := e.postMultipart("/kfz/s/"+token+"/nachreichen", url.Values{"note": {"Kaufvertrag von Frau Öztürk anbei"}},
		map[string][]byte{"file": []byte("%PDF-1.4\n%%EOF\n")})
	wantStatus(t, "answer", resp, http.StatusSeeOther)
	to := resp.Header.Get("Location")
	if to != "/kfz/s/"+token+"/antwort" {
		t.Fatalf("redirect to %q", to)
	}
	resp, body := e.get(to)
	wantStatus(t, "confirmation", resp, http.StatusOK)
	at := e.Clock.Now().In(berlin)
	contains(t, "confirmation", body, "Antwort gesendet", `id="kfz-answer"`,
		"Ihre Antwort ist am "+at.Format("02.01.2006")+" um "+at.Format("15:04")+" Uhr eingegangen und geht an die Zulassungsstelle.",
		"file.pdf", "verschlüsselt", "Ihre Antwort ist unterwegs zur Zulassungsstelle", `aria-current="step"><span class="dot" aria-hidden="true"></span><span class="label">Bei der Zulassungsstelle`)
	if strings.Contains(body, "Frau Öztürk") || strings.Contains(body, `id="kfz-supplement"`) {
		t.Error("the confirmation shows the note's text or the form again")
	}
	if strings.Contains(body, ">Eingegangen: unterwegs") {
		t.Error("the state went back to Eingegangen")
	}
	// A repeated post lands on the same confirmation.
	resp, _ = e.postMultipart("/kfz/s/"+token+"/nachreichen", url.Values{"note": {"Kaufvertrag von Frau Öztürk anbei"}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != to {
		t.Errorf("repeated answer: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	// The site takes the answer over: the plain status page says so.
	n := len(l.entries)
	l.add(vehicle.TypeReceived, vehicle.Entity(id), &vehicle.ApplicationReceived{ApplicationSubmitted: sent[0]})
	e.mustPost(l.batch(uint64(n+1), uint64(len(l.entries))))
	_, body = e.get("/kfz/s/" + token)
	contains(t, "at the site", body, "Ihre Antwort vom "+at.Format("02.01.2006")+", "+at.Format("15:04")+" Uhr liegt der Zulassungsstelle vor.", "file.pdf",
		"Bei der Zulassungsstelle: wartet auf Bearbeitung")
	if strings.Contains(body, "Antwort gesendet") {
		t.Error("the plain status page shows the just-sent heading")
	}
}

// TestVehicleFormOwnerKind: each owner radio names the fieldset it shows
// (kfz.js hides and disables the other), a note stands for a browser
// without JavaScript, and the script comes from /static (the CSP allows
// no inline script).
func TestVehicleFormOwnerKind(t *testing.T) {
	e, _ := vehicleSite(t)
	resp, body := e.get("/kfz/umschreibung")
	wantStatus(t, "form", resp, http.StatusOK)
	contains(t, "form", body, `id="f-owner-kind-person" value="person" aria-controls="person-group"`,
		`id="f-owner-kind-company" value="company" aria-controls="company-group"`, `id="owner-kind-note"`,
		`<fieldset class="subgroup" id="person-group">`, `<fieldset class="subgroup" id="company-group">`, `<script src="/static/kfz.js" defer></script>`)
	resp, js := e.get("/static/kfz.js")
	wantStatus(t, "kfz.js", resp, http.StatusOK)
	contains(t, "kfz.js", js, "aria-controls", ".disabled")
}

// TestVehicleUploadsNotSubmittedErased: an upload no application took (a
// form left half-filled) is erased once central.KeepUploads has passed
// after its day, every byte; one a submitted application took stays; the
// applicant who comes back later is asked for the file again, and
// uploading the same bytes again works.
func TestVehicleUploadsNotSubmittedErased(t *testing.T) {
	ctx := context.Background()
	e, _ := vehicleSite(t)
	left, _ := blobPDF(t, blob.ChunkSize+70)
	used, _ := blobPDF(t, 900)
	leftRef, err := e.Central.PutVehicleFile(ctx, bytes.NewReader(left), "vollmacht.pdf")
	if err != nil {
		t.Fatal(err)
	}
	usedRef, err := e.Central.PutVehicleFile(ctx, bytes.NewReader(used), "vollmacht.pdf")
	if err != nil {
		t.Fatal(err)
	}
	application := func(ref blob.Ref) vehicle.Application {
		var app vehicle.Application
		if err := json.Unmarshal([]byte(transferBody("DE89370400440532013000", `{"mode":"random"}`)), &app); err != nil {
			t.Fatal(err)
		}
		app.Attachments = []vehicle.Attachment{{Kind: "vollmacht", File: blob.Ref{SHA256: ref.SHA256}}}
		return app
	}
	if _, err := e.Central.SubmitVehicleApplication(ctx, application(usedRef), ""); err != nil {
		t.Fatal(err)
	}

	// Within a day nothing goes.
	e.Clock.Add(central.KeepUploads - time.Hour)
	if got, err := e.Central.EraseVehicleFiles(ctx); err != nil || got != 0 {
		t.Fatalf("erasure within a day: %d, %v", got, err)
	}
	e.Clock.Add(central.KeepUploads + 2*time.Hour) // the upload's day ended more than a day ago
	if got, err := e.Central.EraseVehicleFiles(ctx); err != nil || got != 1 {
		t.Fatalf("erasure after two days: %d files, %v; want 1", got, err)
	}
	if _, _, err := e.Central.Blobs().Open(ctx, leftRef.SHA256); !errors.Is(err, blob.ErrErased) {
		t.Fatalf("the upload nobody took: %v, want erased", err)
	}
	if _, _, err := e.Central.Blobs().Open(ctx, usedRef.SHA256); err != nil {
		t.Fatalf("the submitted application's file: %v", err)
	}
	for _, q := range []string{`VACUUM`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
		if _, err := e.Store.Writer().ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{e.DB, e.DB + "-wal"} {
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, left[100:164]) {
			t.Fatalf("bytes of the erased upload are left in %s", p)
		}
	}

	// The applicant comes back: the file is asked for again, by its field.
	_, err = e.Central.SubmitVehicleApplication(ctx, application(leftRef), "")
	var verr *veedel.Error
	if !errors.As(err, &verr) || verr.Code != veedel.EINVALID || verr.Fields["attachments.0.file"] == "" {
		t.Fatalf("submitting with the erased upload: %v, want a field error on attachments.0.file", err)
	}
	again, err := e.Central.PutVehicleFile(ctx, bytes.NewReader(left), "vollmacht.pdf")
	if err != nil || again.SHA256 != leftRef.SHA256 {
		t.Fatalf("the same bytes uploaded again: %+v, %v", again, err)
	}
	if _, err := e.Central.SubmitVehicleApplication(ctx, application(again), ""); err != nil {
		t.Fatalf("submitting with the file uploaded again: %v", err)
	}
}

// TestVehicleFilesErased: central holds an application's upload from its
// submission; KeepDetails after the site rejected it (its log, synced
// over HTTP), the erasure lets it go, every byte, and the site asking for
// it then gets 410; a file another open application holds stays.
func TestVehicleFilesErased(t *testing.T) {
	ctx := context.Background()
	e, l := vehicleSite(t)
	own, _ := blobPDF(t, blob.ChunkSize+50)
	shared, _ := blobPDF(t, 700)
	ownRef, err := e.Central.PutVehicleFile(ctx, bytes.NewReader(own), "vollmacht.pdf")
	if err != nil {
		t.Fatal(err)
	}
	sharedRef, err := e.Central.PutVehicleFile(ctx, bytes.NewReader(shared), "firma.pdf")
	if err != nil {
		t.Fatal(err)
	}
	submit := func(files ...blob.Ref) vehicle.Submitted {
		var app vehicle.Application
		if err := json.Unmarshal([]byte(transferBody("DE89370400440532013000", `{"mode":"random"}`)), &app); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			app.Attachments = append(app.Attachments, vehicle.Attachment{Kind: "vollmacht", File: blob.Ref{SHA256: f.SHA256}})
		}
		sub, err := e.Central.SubmitVehicleApplication(ctx, app, "")
		if err != nil {
			t.Fatal(err)
		}
		return sub
	}
	rejected, open := submit(ownRef, sharedRef), submit(sharedRef)
	sent := e.submittedEvents(siteID)
	n := len(l.entries)
	for _, p := range sent {
		l.add(vehicle.TypeReceived, vehicle.Entity(p.ID), &vehicle.ApplicationReceived{ApplicationSubmitted: p})
	}
	l.add(vehicle.TypeRejected, vehicle.Entity(rejected.ID), &vehicle.ApplicationRejected{ID: rejected.ID, Staff: "demo", Reason: "Steuerrückstand"})
	e.mustPost(l.batch(uint64(n+1), uint64(len(l.entries))))

	if got, err := e.Central.EraseVehicleFiles(ctx); err != nil || got != 0 {
		t.Fatalf("erasure within the keeping time: %d, %v", got, err)
	}
	e.Clock.Add(vehicle.KeepDetails + time.Hour)
	if got, err := e.Central.EraseVehicleFiles(ctx); err != nil || got != 1 {
		t.Fatalf("erasure after the keeping time: %d files, %v; want 1", got, err)
	}
	if _, _, err := e.Central.Blobs().Open(ctx, ownRef.SHA256); !errors.Is(err, blob.ErrErased) {
		t.Fatalf("the rejected application's own file: %v", err)
	}
	if _, _, err := e.Central.Blobs().Open(ctx, sharedRef.SHA256); err != nil {
		t.Fatalf("the file %s still holds: %v", open.ID, err)
	}
	if status, _, body := e.blob(blobCall{method: http.MethodGet, path: chunkPath(ownRef.SHA256, 0, "")}); status != http.StatusGone {
		t.Fatalf("the site asks for the erased file: %d %s, want 410", status, body)
	}
	// No byte of it is left in central's SQLite file (after VACUUM; the
	// release zeroed the freed pages already).
	for _, q := range []string{`VACUUM`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
		if _, err := e.Store.Writer().ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{e.DB, e.DB + "-wal"} {
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, own[100:164]) {
			t.Fatalf("bytes of the erased file are left in %s", p)
		}
	}
}

// TestVehicleSettingsReachCentral: the site's four-eyes setting comes up
// in its log over HTTP; central folds it (who and when) and shows it on
// the admin's page of the site, and a read model restored from its
// snapshot has it.
func TestVehicleSettingsReachCentral(t *testing.T) {
	e, l := vehicleSite(t)
	e.createAdmin("anna", central.RoleAdmin, "geheim123")
	a := e.newAdmin()
	a.login("anna", "geheim123")
	if _, body := a.get("/admin/sites/" + siteID); strings.Contains(body, `id="foureyes-changed"`) && !strings.Contains(body, "Nie geändert") {
		t.Fatalf("a setting shown before the site set one")
	}
	n := len(l.entries)
	l.add(vehicle.TypeSettingsChanged, vehicle.SettingsEntity, &vehicle.SettingsChanged{FourEyes: true, Staff: "leitung"})
	e.mustPost(l.batch(uint64(n+1), uint64(len(l.entries))))
	st, ok := e.Central.VehicleApplications().Settings(siteID)
	if !ok || !st.FourEyes || st.By != "leitung" || st.At.IsZero() {
		t.Fatalf("central's settings of %s: %+v, %v", siteID, st, ok)
	}
	resp, body := a.get("/admin/sites/" + siteID)
	wantStatus(t, "the site's page", resp, http.StatusOK)
	contains(t, "the site's page", body, `id="foureyes-state"`, "Eingeschaltet", "Zuletzt geändert von leitung")

	version, frozen := e.Central.VehicleApplications().Snapshot()
	data, _ := json.Marshal(frozen)
	restored := vehicle.NewCentral()
	if err := restored.Restore(version, data); err != nil {
		t.Fatal(err)
	}
	if got, ok := restored.Settings(siteID); !ok || got != st {
		t.Fatalf("restored settings %+v, %v; want %+v", got, ok, st)
	}
}
