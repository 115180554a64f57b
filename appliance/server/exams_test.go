package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance"
	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/server"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/sitekey"
	"github.com/veedel/veedel/ui"
)

type examSite struct {
	store *sqlite.Store
	url   string
	dir   string
	box   []byte            // the site's box public key (central seals to it)
	out   []changelog.Entry // central's outbound log for the site (send)
}

func newExamSite(t *testing.T, opts ...func(*server.Server)) *examSite {
	t.Helper()
	e := newExamSiteWithoutEscrow(t, opts...)
	e.useEscrow(t)
	return e
}

// useEscrow makes the health office's escrow key and configures it.
func (e *examSite) useEscrow(t *testing.T) {
	t.Helper()
	if _, err := exam.WriteEscrowKey(filepath.Join(e.dir, "escrow.key")); err != nil {
		t.Fatal(err)
	}
	pub, _ := exam.ReadEscrowPublic(filepath.Join(e.dir, "escrow.key.pub"))
	if err := exam.UseEscrow(context.Background(), e.store.Writer(), pub); err != nil {
		t.Fatal(err)
	}
}

// send appends an entry of central's to the site's outbound log and
// applies it; it returns the inbox's outcome.
func (e *examSite) send(t *testing.T, eventType, entity string, p any) string {
	t.Helper()
	var prev *changelog.Entry
	if n := len(e.out); n > 0 {
		prev = &e.out[n-1]
	}
	entry, err := changelog.NewEntry("gesundheitsamt", prev, changelog.HLC(time.Now().UnixMilli())<<16+changelog.HLC(len(e.out)), eventType, entity, p)
	if err != nil {
		t.Fatal(err)
	}
	e.out = append(e.out, entry)
	outcome, err := e.store.ApplyInbound(context.Background(), entry)
	if err != nil {
		t.Fatal(err)
	}
	return outcome
}

// assign sends central's assignment of c (child id, booking code).
func (e *examSite) assign(t *testing.T, id string, c exam.Child, code string) string {
	t.Helper()
	return e.assignLang(t, id, c, code, "")
}

// assignLang is assign for parents who read lang.
func (e *examSite) assignLang(t *testing.T, id string, c exam.Child, code, lang string) string {
	t.Helper()
	plain, _ := changelog.Marshal(c)
	sealed, err := changelog.Seal(e.box, exam.SealInfo("gesundheitsamt", id), plain)
	if err != nil {
		t.Fatal(err)
	}
	return e.send(t, exam.TypeChildAssigned, "exam.child/"+id, &exam.ChildAssigned{Child: id, Year: 2027, District: c.SchoolDistrict,
		Sealed: sealed, CodeHash: exam.HashCode(code), Lang: lang})
}

// questionnaire sends the parents' answers for child id.
func (e *examSite) questionnaire(t *testing.T, id string, a exam.ParentsAnswers, submitted time.Time) string {
	t.Helper()
	plain, _ := changelog.Marshal(&a)
	sealed, err := changelog.Seal(e.box, exam.QuestionnaireInfo("gesundheitsamt", id), plain)
	if err != nil {
		t.Fatal(err)
	}
	return e.send(t, exam.TypeParentsQuestionnaire, "exam.child/"+id, &exam.ParentsQuestionnaire{Child: id, Year: 2027, Sealed: sealed,
		Submitted: submitted.UnixMilli()})
}

func newExamSiteWithoutEscrow(t *testing.T, opts ...func(*server.Server)) *examSite {
	t.Helper()
	ctx := context.Background()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	box, _ := sitekey.BoxKey(key)
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "gesundheitsamt.db"), "gesundheitsamt", sqlite.Options{BoxKey: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Execute(ctx, func(_ *queue.State, at time.Time) ([]queue.Event, error) {
		return appliance.Catalog["gesundheitsamt"].Events(at), nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []sqlite.User{{Name: "demo", Role: sqlite.RoleLead}, {Name: "clerk", Role: sqlite.RoleClerk},
		{Name: "aerztin", Role: sqlite.RoleDoctor}, {Name: "assistenz", Role: sqlite.RoleAssistant}} {
		u.DisplayName = u.Name
		if err := store.CreateUser(ctx, u, "demo"); err != nil {
			t.Fatal(err)
		}
	}
	renderer, err := ui.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	sv := &server.Server{Store: store, Renderer: renderer, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o(sv)
	}
	srv := httptest.NewServer(sv.Handler())
	t.Cleanup(srv.Close)
	return &examSite{store: store, url: srv.URL, dir: dir, box: box.PublicKey().Bytes()}
}

func (e *examSite) do(t *testing.T, user, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.url+path, rd)
	req.SetBasicAuth(user, "demo")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, out
}

// TestExamAPI records a whole exam through the API: the exam staff see and
// record, only the doctor signs off, a clerk and the lead see no health
// data, and everything is audited.
func TestExamAPI(t *testing.T) {
	e := newExamSite(t)
	ctx := context.Background()
	code, body := e.do(t, "assistenz", "GET", "/api/v1/exams", nil)
	if code != 200 {
		t.Fatalf("day list: %d %s", code, body)
	}
	var day struct {
		Day   string       `json:"day"`
		Exams []exam.Entry `json:"exams"`
	}
	json.Unmarshal(body, &day)
	reg := map[string]any{"family_name": "Quaxelbrink", "given_names": "Philippa", "birth_date": "2020-11-03", "sex": "w",
		"street": "Zwirnereigasse 17", "postcode": "50667", "city": "Köln", "school_district": "Innenstadt", "year": 2027, "code": "QX7PL29KD", "day": day.Day, "slot": "09:30"}
	code, body = e.do(t, "assistenz", "POST", "/api/v1/exams", reg)
	if code != 201 {
		t.Fatalf("register: %d %s", code, body)
	}
	var created struct{ ID string }
	json.Unmarshal(body, &created)
	id := created.ID

	// Neither a clerk nor the lead sees health data or names.
	for _, user := range []string{"clerk", "demo"} {
		for _, req := range []struct{ method, path string }{{"GET", "/api/v1/exams"}, {"GET", "/api/v1/exams/" + id},
			{"POST", "/api/v1/exams/" + id + "/measurements"}, {"POST", "/api/v1/exams/" + id + "/sign-off"}} {
			code, body := e.do(t, user, req.method, req.path, map[string]any{"height_cm": 118, "weight_kg": 22})
			if code != http.StatusForbidden || bytes.Contains(body, []byte("Quaxelbrink")) || !bytes.Contains(body, []byte("Untersuchungsteam")) {
				t.Fatalf("%s %s %s: %d %s", user, req.method, req.path, code, body)
			}
		}
	}

	// Check-in with the invitation code puts the child on the day list with its number.
	tk, _, err := e.store.CheckIn(ctx, "QX7-PL2-9KD", "desk")
	if err != nil {
		t.Fatal(err)
	}
	code, body = e.do(t, "assistenz", "GET", "/api/v1/exams?day="+day.Day, nil)
	json.Unmarshal(body, &day)
	if code != 200 || len(day.Exams) != 1 || day.Exams[0].Ticket != tk.Number || day.Exams[0].FamilyName != "Quaxelbrink" {
		t.Fatalf("day list: %d %s", code, body)
	}

	code, body = e.do(t, "assistenz", "POST", "/api/v1/exams/"+id+"/measurements", map[string]any{"height_cm": 118.4, "weight_kg": 4})
	if code != 400 || !strings.Contains(string(body), "weight_kg") {
		t.Fatalf("bad weight: %d %s", code, body)
	}
	code, body = e.do(t, "assistenz", "POST", "/api/v1/exams/"+id+"/measurements", map[string]any{"height_cm": 118.4, "weight_kg": 21.5, "device": "seca"})
	if code != 200 || !strings.Contains(string(body), `"bmi_class":"normalgewicht"`) {
		t.Fatalf("measurements: %d %s", code, body)
	}
	code, body = e.do(t, "assistenz", "POST", "/api/v1/exams/"+id+"/measurements", map[string]any{
		"vision":       map[string]any{"right": map[string]any{"without": 1.0}, "left": map[string]any{"without": 0.8}},
		"hearing":      map[string]any{"right": map[string]int{"500": 10, "1000": 10, "2000": 15, "4000": 10}, "left": map[string]int{"500": 10, "1000": 10, "2000": 10, "4000": 10}},
		"sopess":       map[string][]int{"sprache": {1, 1, 1, 1, 1, 1, 1, 0, 0, 1}},
		"vaccinations": map[string]any{"impfpass_shown": true, "doses": map[string]int{"masern": 2, "tetanus": 3}},
	})
	if code != 200 || !strings.Contains(string(body), `"measles_proof":true`) {
		t.Fatalf("stations: %d %s", code, body)
	}
	signOff := map[string]any{"recommendation": "schulfaehig", "support": []string{}, "referrals": []string{}}
	code, body = e.do(t, "assistenz", "POST", "/api/v1/exams/"+id+"/sign-off", signOff)
	if code != http.StatusForbidden || !strings.Contains(string(body), "Nur die Ärztin") {
		t.Fatalf("assistant signs off: %d %s", code, body)
	}
	code, body = e.do(t, "aerztin", "POST", "/api/v1/exams/"+id+"/sign-off", map[string]any{"recommendation": "bald"})
	if code != 400 || !strings.Contains(string(body), "recommendation") {
		t.Fatalf("bad recommendation: %d %s", code, body)
	}
	code, body = e.do(t, "aerztin", "POST", "/api/v1/exams/"+id+"/sign-off", signOff)
	if code != 200 || !strings.Contains(string(body), `"status":"signed_off"`) {
		t.Fatalf("sign-off: %d %s", code, body)
	}

	// The audit log: the lead exports it; it names who did what, no health data.
	code, _ = e.do(t, "clerk", "GET", "/api/v1/exams/audit.csv", nil)
	if code != http.StatusForbidden {
		t.Fatalf("clerk exports the audit log: %d", code)
	}
	code, body = e.do(t, "demo", "GET", "/api/v1/exams/audit.csv?from="+day.Day+"&to="+day.Day, nil)
	csv := string(body)
	for _, want := range []string{"aerztin;doctor;sign_off;" + id, "assistenz;assistant;read;" + id, "clerk;clerk;denied", "assistenz;assistant;denied;" + id, "measurement"} {
		if !strings.Contains(csv, want) && !strings.Contains(csv, strings.ReplaceAll(want, "read", "record")) {
			t.Errorf("audit log lacks %q:\n%s", want, csv)
		}
	}
	if code != 200 || strings.Contains(csv, "Quaxelbrink") || strings.Contains(csv, "21.5") {
		t.Fatalf("audit export: %d %s", code, csv)
	}
	// Nothing personal in the change-log the uplink sends.
	entries, _ := e.store.EntriesAfter(ctx, 0, 10000, 1<<24)
	for _, en := range entries {
		if bytes.Contains(en.Payload, []byte("Quaxelbrink")) || bytes.Contains(en.Payload, []byte("2020-11-03")) || bytes.Contains(en.Payload, []byte("Zwirnerei")) {
			t.Fatalf("%s carries personal data", en.Type)
		}
	}
}

// browserAs logs user in at the desk with a cookie jar.
func (e *examSite) browserAs(t *testing.T, user string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 30 * time.Second}
	res, err := c.PostForm(e.url+"/desk/login", url.Values{"user": {user}, "password": {"demo"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %d", user, res.StatusCode)
	}
	return c
}

func fetch(t *testing.T, c *http.Client, method, u string, form url.Values) (int, string, string) {
	t.Helper()
	var res *http.Response
	var err error
	if method == "POST" {
		res, err = c.PostForm(u, form)
	} else {
		res, err = c.Get(u)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header.Get("Location")
}

// TestExamPages: the assistant's station forms and the doctor's sign-off
// at the desk; an assistant cannot open the sign-off, a clerk sees no
// health data, form faults are shown at their inputs.
func TestExamPages(t *testing.T) {
	e := newExamSite(t)
	_, body := e.do(t, "assistenz", "GET", "/api/v1/exams", nil)
	var day struct{ Day string }
	json.Unmarshal(body, &day)
	code, body := e.do(t, "assistenz", "POST", "/api/v1/exams", map[string]any{"family_name": "Quaxelbrink", "given_names": "Philippa", "birth_date": "2020-11-03",
		"sex": "w", "school_district": "Innenstadt", "year": 2027, "day": day.Day, "slot": "09:30"})
	if code != 201 {
		t.Fatalf("register: %d %s", code, body)
	}
	var created struct{ ID string }
	json.Unmarshal(body, &created)
	base := e.url + "/desk/exams/" + created.ID

	clerk := e.browserAs(t, "clerk")
	for _, u := range []string{e.url + "/desk/exams", base, base + "/sign-off"} {
		if code, page, _ := fetch(t, clerk, "GET", u, nil); code != http.StatusForbidden || strings.Contains(page, "Quaxelbrink") {
			t.Fatalf("clerk GET %s: %d", u, code)
		}
	}
	if code, page, _ := fetch(t, clerk, "GET", e.url+"/desk", nil); code != 200 || strings.Contains(page, "/desk/exams") {
		t.Fatalf("clerk's desk links the exams: %d", code)
	}

	asst := e.browserAs(t, "assistenz")
	if code, page, _ := fetch(t, asst, "GET", e.url+"/desk/exams", nil); code != 200 || !strings.Contains(page, "Quaxelbrink, Philippa") {
		t.Fatalf("day list: %d %s", code, page)
	}
	code, page, _ := fetch(t, asst, "POST", base+"/record", url.Values{"section": {"measurement"}, "height_cm": {"118,4"}, "weight_kg": {"200"}})
	if code != 400 || !strings.Contains(page, `id="weight_kg" name="weight_kg" value="200" aria-invalid="true"`) {
		t.Fatalf("bad weight: %d %s", code, page)
	}
	code, _, loc := fetch(t, asst, "POST", base+"/record", url.Values{"section": {"measurement"}, "height_cm": {"118,4"}, "weight_kg": {"21,5"}})
	if code != http.StatusSeeOther {
		t.Fatalf("measurement: %d", code)
	}
	if _, page, _ := fetch(t, asst, "GET", e.url+loc, nil); !strings.Contains(page, "Normalgewicht") || !strings.Contains(page, "Gespeichert") {
		t.Fatalf("after measurement: %s", page)
	}
	code, _, _ = fetch(t, asst, "POST", base+"/record", url.Values{"section": {"vision"}, "vision_right_without": {"1,0"}, "vision_left_without": {"0,5"}})
	if code != http.StatusSeeOther {
		t.Fatalf("vision: %d", code)
	}
	if code, page, _ := fetch(t, asst, "GET", base+"/sign-off", nil); code != http.StatusForbidden || strings.Contains(page, "signoff-form") {
		t.Fatalf("assistant opens the sign-off: %d", code)
	}
	if code, _, _ := fetch(t, asst, "POST", base+"/sign-off", url.Values{"recommendation": {"schulfaehig"}}); code != http.StatusForbidden {
		t.Fatalf("assistant signs off: %d", code)
	}

	doc := e.browserAs(t, "aerztin")
	if code, page, _ := fetch(t, doc, "GET", base+"/sign-off", nil); code != 200 || !strings.Contains(page, "auffällig") {
		t.Fatalf("sign-off page: %d %s", code, page)
	}
	code, page, _ = fetch(t, doc, "POST", base+"/sign-off", url.Values{"recommendation": {"schulfaehig_mit_foerderung"}})
	if code != 400 || !strings.Contains(page, `id="support-error"`) {
		t.Fatalf("support missing: %d %s", code, page)
	}
	code, _, loc = fetch(t, doc, "POST", base+"/sign-off", url.Values{"recommendation": {"schulfaehig_mit_foerderung"}, "support": {"sehen"}, "referrals": {"Augenarzt\n"}})
	if code != http.StatusSeeOther {
		t.Fatalf("sign-off: %d", code)
	}
	if _, page, _ := fetch(t, doc, "GET", e.url+loc, nil); !strings.Contains(page, "abgezeichnet") || !strings.Contains(page, "schulfähig mit Förderung, Sehen") {
		t.Fatalf("after sign-off: %s", page)
	}
	// The documents: the parents' report with the results, the school's
	// notice with the recommendation and support only.
	code, report, _ := fetch(t, doc, "GET", base+"/report.pdf", nil)
	if code != 200 || !strings.HasPrefix(report, "%PDF") {
		t.Fatalf("report: %d", code)
	}
	if os.Getenv("VEEDEL_SCREENSHOTS") != "" {
		os.WriteFile(filepath.Join(os.Getenv("VEEDEL_SCREENSHOTS"), "exam-report.pdf"), []byte(report), 0o644)
	}
	text := pdfText(t, savePDF(t, []byte(report)))
	for _, want := range []string{"Philippa Quaxelbrink", "Normalgewicht", "Sehen", "auffällig", "schulfähig mit Förderung", "Augenarzt", "An die Eltern von Philippa"} {
		if !strings.Contains(text, want) {
			t.Errorf("parents' report lacks %q:\n%s", want, text)
		}
	}
	_, school, _ := fetch(t, asst, "GET", base+"/school.pdf", nil)
	text = pdfText(t, savePDF(t, []byte(school)))
	if !strings.Contains(text, "schulfähig mit Förderung") || !strings.Contains(text, "Sehen") || strings.Contains(text, "auffällig") ||
		strings.Contains(text, "Normalgewicht") || strings.Contains(text, "Augenarzt") {
		t.Errorf("school notice says more than recommendation and support:\n%s", text)
	}
	if code, _, _ := fetch(t, clerk, "GET", base+"/report.pdf", nil); code != http.StatusForbidden {
		t.Fatalf("clerk prints the report: %d", code)
	}
	// The list for the school office: the signed-off children of the
	// year with recommendation and support, nothing of the findings.
	code, list, _ := fetch(t, doc, "GET", e.url+"/desk/exams/schools.csv?year=2027", nil)
	lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(list, "\ufeff")), "\r\n")
	if code != 200 || len(lines) != 2 || !strings.HasPrefix(lines[0], "Schulbezirk;Name;Vorname;Geburtsdatum;Empfehlung;Förderbedarf;") ||
		!strings.HasPrefix(lines[1], "Innenstadt;Quaxelbrink;Philippa;03.11.2020;schulfähig mit Förderung;Sehen;") ||
		strings.Contains(list, "Augenarzt") || strings.Contains(list, "Normalgewicht") || strings.Contains(list, "auffällig") {
		t.Fatalf("school list: %d %q", code, list)
	}
	if code, list, _ := fetch(t, doc, "GET", e.url+"/desk/exams/schools.csv?year=2026", nil); code != 200 || strings.Contains(list, "Quaxelbrink") {
		t.Errorf("another year's list: %d %q", code, list)
	}
	if code, _, _ := fetch(t, doc, "GET", e.url+"/desk/exams/schools.csv?year=zwei", nil); code != http.StatusBadRequest {
		t.Errorf("a year that is not one: %d", code)
	}
	if code, list, _ := fetch(t, clerk, "GET", e.url+"/desk/exams/schools.csv", nil); code != http.StatusForbidden || strings.Contains(list, "Quaxelbrink") {
		t.Errorf("clerk gets the school list: %d", code)
	}

	lead := e.browserAs(t, "demo")
	if code, page, _ := fetch(t, lead, "GET", e.url+"/desk", nil); code != 200 || !strings.Contains(page, "/desk/exams/audit.csv") || strings.Contains(page, `id="exams-link"`) {
		t.Fatalf("lead's desk: %d", code)
	}
	if code, csv, _ := fetch(t, lead, "GET", e.url+"/desk/exams/audit.csv", nil); code != 200 || !strings.Contains(csv, "aerztin;doctor;sign_off;"+created.ID) ||
		!strings.Contains(csv, "assistenz;assistant;report;"+created.ID+";school") ||
		!strings.Contains(csv, "assistenz;assistant;denied;"+created.ID) || !strings.Contains(csv, "aerztin;doctor;school_list;;year=2027") ||
		strings.Contains(csv, "Quaxelbrink") {
		t.Fatalf("audit export: %d %s", code, csv)
	}
}
