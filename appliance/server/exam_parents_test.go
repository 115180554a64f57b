package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/appliance/sqlite"
)

var parentsChild = exam.Child{FamilyName: "Wendelbrecht", GivenNames: "Ilvy", BirthDate: "2020-10-02", Sex: exam.SexFemale,
	Street: "Hinter Hof 3", Postcode: "50667", City: "Köln", ParentName: "Ruth Wendelbrecht", SchoolDistrict: "Innenstadt"}

// The parents' answers, sealed from central to the site, are on the exam
// staff's record and sign-off pages (each read audited), and nowhere for
// a clerk.
func TestExamParentsAnswersOnRecord(t *testing.T) {
	e := newExamSite(t)
	if got := e.assign(t, "kind-w", parentsChild, "EWENDEL123"); got != sqlite.InboxApplied {
		t.Fatalf("assign: %s", got)
	}
	submitted := time.Date(2027, 1, 12, 18, 30, 0, 0, time.UTC)
	a := exam.ParentsAnswers{BirthTerm: exam.ParentsBirthPremature, BirthNotes: "34. Woche, Kaiserschnitt", Illnesses: "Pollenallergie-Wx9\nAsthma-Spray bei Bedarf",
		Checkups: []string{"U1", "U2", "U7a"}, Kita: true, KitaYears: 3, Languages: "Deutsch, Polnisch", Support: []string{"logopaedie"}, Consent: true}
	if got := e.questionnaire(t, "kind-w", a, submitted); got != sqlite.InboxApplied {
		t.Fatalf("questionnaire: %s", got)
	}
	recs, err := exam.Records(t.Context(), e.store.Read())
	if err != nil || len(recs) != 1 {
		t.Fatalf("records: %d %v", len(recs), err)
	}
	var id string
	for k := range recs {
		id = k
	}
	base := e.url + "/desk/exams/" + id

	asst := e.browserAs(t, "assistenz")
	code, page, _ := fetch(t, asst, "GET", base, nil)
	if code != 200 {
		t.Fatalf("record page: %d", code)
	}
	parents := between(page, `id="parents"`, "</section>")
	for _, want := range []string{"Frühgeburt", "34. Woche, Kaiserschnitt", "Pollenallergie-Wx9", "U1, U2, U7a", "seit 3 Jahren", "Deutsch, Polnisch",
		"Logopädie", "erteilt"} {
		if !strings.Contains(parents, want) {
			t.Errorf("parents' section lacks %q:\n%s", want, parents)
		}
	}
	// When the parents sent it, as the page's language writes a date.
	if got := between(page, `id="parents-submitted"`, "</p>"); !strings.Contains(got, "12.01.2027") {
		t.Errorf("German date of the questionnaire: %s", got)
	}
	_, pageEN, _ := fetch(t, asst, "GET", base+"?lang=en", nil)
	if got := between(pageEN, `id="parents-submitted"`, "</p>"); !strings.Contains(got, "12 Jan 2027, ") || strings.Contains(got, "12.01.") {
		t.Errorf("English date of the questionnaire: %s", got)
	}
	doc := e.browserAs(t, "aerztin")
	if _, page, _ := fetch(t, doc, "GET", base+"/sign-off?lang=en", nil); !strings.Contains(page, "Pollenallergie-Wx9") || !strings.Contains(between(page, `id="parents-submitted"`, "</p>"), "12 Jan 2027, ") {
		t.Error("the sign-off page does not show the parents' answers, with the English date")
	}
	clerk := e.browserAs(t, "clerk")
	if code, page, _ := fetch(t, clerk, "GET", base, nil); code != http.StatusForbidden || strings.Contains(page, "Pollenallergie") {
		t.Fatalf("clerk opens the record: %d", code)
	}
	code, body := e.do(t, "clerk", "GET", "/api/v1/exams/"+id, nil)
	if code != http.StatusForbidden || strings.Contains(string(body), "Pollenallergie") {
		t.Fatalf("clerk reads the record by API: %d", code)
	}
	lead := e.browserAs(t, "demo")
	_, csv, _ := fetch(t, lead, "GET", e.url+"/desk/exams/audit.csv", nil)
	for _, want := range []string{"assistenz;assistant;read;" + id, "aerztin;doctor;read;" + id + ";sign_off", "clerk;clerk;denied;" + id} {
		if !strings.Contains(csv, want) {
			t.Errorf("audit lacks %q:\n%s", want, csv)
		}
	}
	if strings.Contains(csv, "Pollenallergie") || strings.Contains(csv, "Wendelbrecht") {
		t.Error("the audit log holds health or personal data")
	}
}

// Without the escrow key, what central sends for the exams waits and the
// desk says so; the key configured, the child arrives.
func TestExamParkedOnDesk(t *testing.T) {
	e := newExamSiteWithoutEscrow(t)
	if got := e.assign(t, "kind-x", parentsChild, "EPARKDESK1"); got != sqlite.InboxParked {
		t.Fatalf("assign without escrow: %s", got)
	}
	lead := e.browserAs(t, "demo")
	_, page, _ := fetch(t, lead, "GET", e.url+"/desk", nil)
	alert := between(page, `id="parked-alert"`, "</div>")
	if !strings.Contains(alert, "1 Eintrag der Zentrale wartet") || !strings.Contains(alert, "Treuhandschlüssel") {
		t.Fatalf("desk's parked alert = %q", alert)
	}
	e.useEscrow(t)
	if n, err := e.store.RetryParked(t.Context()); err != nil || n != 1 {
		t.Fatalf("retry: %d %v", n, err)
	}
	if _, page, _ := fetch(t, lead, "GET", e.url+"/desk", nil); strings.Contains(page, `id="parked-alert"`) {
		t.Fatal("the alert stays once the entry is taken")
	}
}

// Parents who read Arabic get the report in German and then in Arabic:
// shaped, right to left, and text pdftotext reads back.
func TestExamReportArabic(t *testing.T) {
	e := newExamSite(t)
	e.assignLang(t, "kind-ar", parentsChild, "EARABIC12", "ar")
	recs, _ := exam.Records(t.Context(), e.store.Read())
	var id string
	for k := range recs {
		id = k
	}
	if code, body := e.do(t, "assistenz", "POST", "/api/v1/exams/"+id+"/measurements", map[string]any{"height_cm": 117.5, "weight_kg": 21.0}); code != 200 {
		t.Fatalf("measurements: %d %s", code, body)
	}
	if code, body := e.do(t, "aerztin", "POST", "/api/v1/exams/"+id+"/sign-off", map[string]any{"recommendation": "schulfaehig"}); code != 200 {
		t.Fatalf("sign-off: %d %s", code, body)
	}
	doc := e.browserAs(t, "aerztin")
	code, report, _ := fetch(t, doc, "GET", e.url+"/desk/exams/"+id+"/report.pdf", nil)
	if code != 200 || !strings.HasPrefix(report, "%PDF") {
		t.Fatalf("report: %d", code)
	}
	file := savePDF(t, []byte(report))
	if dir := os.Getenv("VEEDEL_SCREENSHOTS"); dir != "" {
		os.WriteFile(filepath.Join(dir, "exam-report-ar.pdf"), []byte(report), 0o644)
	}
	pages := strings.Split(pdfText(t, file), "\f")
	if len(pages) < 2 || !strings.Contains(pages[0], "Ergebnis der Schuleingangsuntersuchung") {
		t.Fatalf("report pages: %d\n%s", len(pages), pages[0])
	}
	if !strings.ContainsFunc(pages[1], func(r rune) bool { return r >= 0xFE70 && r <= 0xFEFF }) {
		t.Errorf("the Arabic page is not shaped:\n%s", pages[1])
	}
	arabic := strings.Map(func(r rune) rune {
		if r >= 0x202a && r <= 0x202e || r == 0x200e || r == 0x200f {
			return -1
		}
		return r
	}, norm.NFKC.String(pages[1]))
	for _, want := range []string{"نتيجة فحص دخول المدرسة", "جاهز للمدرسة", "وزن طبيعي", "Ilvy Wendelbrecht"} {
		if !strings.Contains(arabic, want) {
			t.Errorf("the Arabic report lacks %q:\n%s", want, pages[1])
		}
	}
}
