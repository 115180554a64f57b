package server_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"golang.org/x/text/unicode/norm"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

const examSite = "gesundheitsamt"

// examSetup adds the school-health site to the directory, an admin who
// edits ("amt") and a technician ("technik"); with connected, the site
// has polled with its box key.
func (e *env) examSetup(connected bool) *ecdh.PrivateKey {
	e.t.Helper()
	ctx := context.Background()
	// The directory's seed has the site (central/siteseed.go); a test's
	// name and address either way.
	gsa := central.Site{ID: examSite, Name: "Gesundheitsamt Neumarkt", Kind: central.KindSchoolHealth, Address: "Neumarkt 15–21, 50667 Köln"}
	err := e.Central.AddSite(ctx, gsa)
	if veedel.ErrorCode(err) == veedel.ECONFLICT {
		err = e.Central.UpdateSite(ctx, gsa)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	e.createAdmin("amt", central.RoleAdmin, "geheim1")
	e.createAdmin("technik", central.RoleTechnician, "geheim2")
	box := siteBox(examSite)
	if connected {
		e.connectExamSite()
	}
	return box
}

func (e *env) connectExamSite() {
	e.t.Helper()
	if err := e.Central.RecordBoxKey(context.Background(), examSite, siteBox(examSite).PublicKey().Bytes()); err != nil {
		e.t.Fatal(err)
	}
}

// postCohort sends a register file to the API as user.
func (e *env) postCohort(user, password, query, contentType, body string) (int, central.CohortResult, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/api/v1/exam/cohort"+query, strings.NewReader(body))
	req.SetBasicAuth(user, password)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var res central.CohortResult
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(data, &res); err != nil {
			e.t.Fatalf("cohort answer %q: %v", data, err)
		}
	}
	return resp.StatusCode, res, string(data)
}

const cohortHeader = "family_name;given_names;birth_date;sex;street;postcode;city;parent_name;parent_phone;parent_email;school_district;language\r\n"

// cohortFile is a register file for school year 2027 (children born
// 1 Oct 2020 to 30 Sep 2021, or a year earlier when deferred).
var cohortFile = "\uFEFF" + cohortHeader +
	"Yıldırım-Schäfer;Elif Sude;2021-03-14;w;Venloer Straße 12;50825;Köln;Ayşe Yıldırım;0151 23456789;ayse@example.de;Ehrenfeld;tr\r\n" + // 2
	"Schmidt;Paul;05.08.2021;m;Kalker Hauptstraße 1;51103;Köln;Anna Schmidt;0221 123456;;Kalk;\r\n" + // 3
	"Meier;;2021-01-01;m;Deutz-Mülheimer Str. 3;50679;Köln;Jan Meier;;;Deutz;\r\n" + // 4: no given name
	"Becker;Mia;31.02.2021;w;Ringstr. 4;50996;Köln;Lea Becker;;;Rodenkirchen;\r\n" + // 5: no such day
	"Wagner;Noah;2021-02-02;x;Hauptstr. 5;51143;Köln;Tim Wagner;;;Porz;\r\n" + // 6: sex
	"Hoffmann;Emma;2021-04-04;w;Hauptstr. 6;51143;Köln;Eva Hoffmann;;eva@@example;Porz;\r\n" + // 7: e-mail
	"Koch;Ben;01.10.2021;m;Hauptstr. 7;51143;Köln;Max Koch;;;Porz;\r\n" + // 8: turns six after 30 Sept 2027
	"YILDIRIM-SCHÄFER;Elif  Sude;14.03.2021;w;Venloer Straße 12;50825;Köln;Ayşe Yıldırım;;;Ehrenfeld;tr\r\n" + // 9: row 2 again
	"Richter;Lina;2021-05-05;w;Hauptstr. 9;5114;Köln;Ute Richter;;;Porz;\r\n" + // 10: postcode
	"Nowak;Lena;30.09.2021;d;Frankfurter Str. 10;51065;Köln;Piotr Nowak;+48 601 234 567;piotr@example.pl;Mülheim;\r\n" + // 11: turns six on 30 Sept
	";;;;;;;;;;;\r\n" + // 12: empty, skipped
	"Fischer;Tom;2019-10-01;m;Hauptstr. 13;51143;Köln;Ina Fischer;0170 1234567;;Porz;en\r\n" // 13: deferred a year

func rejectedRows(res central.CohortResult) []int {
	var rows []int
	for _, r := range res.Rejected {
		rows = append(rows, r.Row)
	}
	return rows
}

// The register's file: rows refused one by one with their row numbers
// and a reason, the good ones (ISO and German dates, byte-order mark,
// the age cutoff on the day) imported once; a re-import changes nothing,
// a changed address updates the child (sent again, sealed), never a
// second child; and a site not yet connected refuses its rows.
func TestCohortImport(t *testing.T) {
	e := newEnv(t)
	box := e.examSetup(false)

	status, res, body := e.postCohort("amt", "geheim1", "?year=2027", "text/csv; charset=utf-8", cohortFile)
	if status != http.StatusOK || res.Imported != 0 || len(res.Rejected) != 11 {
		t.Fatalf("before the site connected: %d %s", status, body)
	}
	for _, r := range res.Rejected {
		if slices.Contains([]int{2, 3, 11, 13}, r.Row) && !strings.Contains(r.Error, "not yet connected") {
			t.Errorf("row %d before the site connected: %q", r.Row, r.Error)
		}
	}
	if n := len(e.outboundLog(examSite)); n != 0 {
		t.Fatalf("%d entries sent before the site connected", n)
	}

	e.connectExamSite()
	status, res, body = e.postCohort("amt", "geheim1", "?year=2027", "text/csv", cohortFile)
	if status != http.StatusOK || res.Imported != 4 || res.Updated != 0 || res.Year != 2027 {
		t.Fatalf("import: %d %s", status, body)
	}
	if got, want := rejectedRows(res), []int{4, 5, 6, 7, 8, 9, 10}; !slices.Equal(got, want) {
		t.Fatalf("rejected rows %v, want %v: %s", got, want, body)
	}
	for row, want := range map[int]string{4: "given names missing", 5: "birth date invalid", 6: "sex invalid", 7: "e-mail address invalid",
		8: "turns six after 30 Sept 2027", 9: "same child as in row 2", 10: "postcode invalid"} {
		i := slices.IndexFunc(res.Rejected, func(r central.RejectedRow) bool { return r.Row == row })
		if !strings.Contains(res.Rejected[i].Error, want) {
			t.Errorf("row %d: %q, want it to say %q", row, res.Rejected[i].Error, want)
		}
	}
	sent := e.outboundLog(examSite)
	if len(sent) != 4 {
		t.Fatalf("%d entries sent, want 4", len(sent))
	}
	var first exam.ChildAssigned
	if err := changelog.Unmarshal(sent[0].Payload, &first); err != nil || sent[0].Type != exam.TypeChildAssigned {
		t.Fatal(sent[0].Type, err)
	}
	child := openChild(t, box, first)
	if child.FamilyName != "Yıldırım-Schäfer" || child.BirthDate != "2021-03-14" || child.ParentPhone != "+4915123456789" || first.Lang != "tr" ||
		first.Year != 2027 || first.District != "Ehrenfeld" || len(first.CodeHash) != 32 {
		t.Errorf("first child = %+v / %+v", first, child)
	}

	// The same file again: nothing new, nothing sent.
	_, res, body = e.postCohort("amt", "geheim1", "?year=2027", "text/csv", cohortFile)
	if res.Imported != 0 || res.Updated != 0 || res.Unchanged != 4 || len(e.outboundLog(examSite)) != 4 {
		t.Fatalf("re-import: %s", body)
	}
	// Paul moved: updated, sent again with the new address.
	moved := strings.Replace(cohortFile, "Kalker Hauptstraße 1;51103", "Vietorstr. 2;51103", 1)
	_, res, body = e.postCohort("amt", "geheim1", "?year=2027", "text/csv", moved)
	if res.Imported != 0 || res.Updated != 1 || res.Unchanged != 3 {
		t.Fatalf("re-import with a new address: %s", body)
	}
	sent = e.outboundLog(examSite)
	var last exam.ChildAssigned
	if err := changelog.Unmarshal(sent[len(sent)-1].Payload, &last); err != nil {
		t.Fatal(err)
	}
	if c := openChild(t, box, last); len(sent) != 5 || c.Street != "Vietorstr. 2" || c.BirthDate != "2021-08-05" {
		t.Errorf("update sent: %d entries, %+v", len(sent), c)
	}
	kids, err := e.Central.Cohort(context.Background(), 2027)
	if err != nil || len(kids) != 4 {
		t.Fatalf("cohort = %d children, %v; want 4", len(kids), err)
	}

	// The default school year at the test's clock (March 2026) is 2026:
	// only Tom (deferred for 2027) is of its cohort.
	_, res, _ = e.postCohort("amt", "geheim1", "", "text/csv", cohortFile)
	if res.Year != 2026 || res.Imported != 1 || !strings.Contains(res.Rejected[0].Error, "2026") {
		t.Errorf("default year: %+v", res)
	}
}

func openChild(t *testing.T, box *ecdh.PrivateKey, p exam.ChildAssigned) exam.Child {
	t.Helper()
	plain, err := changelog.Open(box, exam.SealInfo(examSite, p.Child), p.Sealed)
	if err != nil {
		t.Fatalf("open %s: %v", p.Child, err)
	}
	var c exam.Child
	if err := changelog.Unmarshal(plain, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// Bad requests: a clear 4xx, nothing imported.
func TestCohortImport_Refused(t *testing.T) {
	e := newEnv(t)
	e.examSetup(true)
	for _, c := range []struct {
		name, user, password, query, contentType, body string
		status                                         int
		says                                           string
	}{
		{"technician", "technik", "geheim2", "?year=2027", "text/csv", cohortFile, http.StatusForbidden, ""},
		{"wrong password", "amt", "falsch", "?year=2027", "text/csv", cohortFile, http.StatusUnauthorized, ""},
		{"JSON", "amt", "geheim1", "?year=2027", "application/json", `{"rows":[]}`, http.StatusUnsupportedMediaType, "text/csv"},
		{"bad year", "amt", "geheim1", "?year=27", "text/csv", cohortFile, http.StatusBadRequest, "school year"},
		{"comma separated", "amt", "geheim1", "?year=2027", "text/csv", strings.ReplaceAll(cohortFile, ";", ","), http.StatusBadRequest, "does not match"},
		{"Latin-1", "amt", "geheim1", "?year=2027", "text/csv", cohortHeader + "M\xfcller;Jan;2021-01-01;m;A 1;50667;K\xf6ln;X;;;Kalk;\r\n", http.StatusBadRequest, "not UTF-8"},
		{"empty", "amt", "geheim1", "?year=2027", "text/csv", "", http.StatusBadRequest, "empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, _, body := e.postCohort(c.user, c.password, c.query, c.contentType, c.body)
			if status != c.status || !strings.Contains(body, c.says) || !strings.Contains(body, `"error"`) {
				t.Errorf("%d %s; want %d saying %q", status, body, c.status, c.says)
			}
		})
	}
	if n := len(e.outboundLog(examSite)); n != 0 {
		t.Errorf("%d entries sent by refused requests", n)
	}
	// Without the language column the fixed header is accepted.
	noLang := strings.ReplaceAll(strings.ReplaceAll(cohortFile, ";language\r\n", "\r\n"), ";tr\r\n", "\r\n")
	noLang = regexp.MustCompile(`;(en)?\r\n`).ReplaceAllString(noLang, "\r\n")
	status, res, body := e.postCohort("amt", "geheim1", "?year=2027", "text/csv", noLang)
	if status != http.StatusOK || res.Imported != 4 {
		t.Errorf("without the language column: %d %s", status, body)
	}
}

// personal returns the child's data to search for, in the encodings it
// could be stored in.
func personal(values ...string) [][]byte {
	var out [][]byte
	for _, v := range values {
		out = append(out, []byte(v), []byte(strings.ToLower(v)), []byte(strings.ToUpper(v)))
		u := utf16.Encode([]rune(v))
		le := make([]byte, 0, 2*len(u))
		for _, r := range u {
			le = append(le, byte(r), byte(r>>8))
		}
		out = append(out, le)
	}
	return out
}

// Nothing of a child's personal data is at rest at central after the
// import, nor in its logs or answers: the SQLite file and its WAL hold
// neither name nor birth date nor address, in UTF-8 or UTF-16, in any
// case; and the statistics from the site count the child.
func TestCohortNothingPersonalAtRest(t *testing.T) {
	e := newEnv(t)
	e.examSetup(true)
	file := "\uFEFF" + cohortHeader + "Quastenberg-Ütünç;Philippa Zoë;17.11.2020;w;Zülpicher Wall 77;50674;Köln;Rosalind Quastenberg;0157 99887766;rosalind@example.org;Sülz;tr\r\n"
	var answers []string
	status, res, body := e.postCohort("amt", "geheim1", "?year=2027", "text/csv", file)
	answers = append(answers, body)
	if status != http.StatusOK || res.Imported != 1 {
		t.Fatalf("import: %d %s", status, body)
	}
	// The exam at the site ends with its statistics record.
	l := newSiteLog(t, e.Clock)
	l.add(exam.TypeStatistics, "exam/x1", &exam.Statistics{Exam: "x1", Year: 2027, District: "Sülz", AgeMonths: 75, Sex: exam.SexFemale,
		BMIClass: exam.BMINormal, Vision: exam.FindingNormal, Hearing: exam.FindingNormal, Recommendation: exam.RecommendReady})
	e.mustPost(l.batch(1, 1))
	a := e.newAdmin()
	a.login("amt", "geheim1")
	for _, p := range []string{"/admin/exam?year=2027", "/admin/exam/statistics?year=2027", "/admin/exam/statistics.csv?year=2027", "/api/v1/sites"} {
		_, b := a.get(p)
		answers = append(answers, b)
	}
	var rep exam.StatsReport
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/api/v1/exam/statistics?year=2027", nil)
	req.SetBasicAuth("amt", "geheim1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	answers = append(answers, string(data))
	if err := json.Unmarshal(data, &rep); err != nil || rep.Children.Suppressed != true {
		t.Errorf("statistics: %s", data) // one child: counted, and shown as a small cell
	}
	if got := e.Central.ExamReport(2027); len(got.Districts) != 1 || got.Districts[0] != "Sülz" {
		t.Errorf("the child is not counted: %+v", got)
	}

	// Central's files after a checkpoint-free run: the database and WAL.
	var files [][]byte
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(e.DB + suffix)
		if err == nil {
			files = append(files, b)
		}
	}
	if len(files) < 2 {
		t.Fatalf("only %d of central's files found", len(files))
	}
	secrets := personal("Quastenberg", "Philippa", "Ütünç", "2020-11-17", "17.11.2020", "Zülpicher Wall", "Rosalind", "99887766", "rosalind@example.org")
	for _, s := range secrets {
		for i, f := range files {
			if bytes.Contains(f, s) {
				t.Errorf("central's file %d holds %q", i, s)
			}
		}
		if bytes.Contains([]byte(e.Logs.String()), s) {
			t.Errorf("central's log holds %q", s)
		}
		for i, a := range answers {
			if strings.Contains(a, string(s)) {
				t.Errorf("answer %d holds %q", i, s)
			}
		}
	}
}

// The letters: one PDF from the admin form, a cover page with the refused
// rows, then per child a German letter with its booking code and the
// portal's address, and a Turkish one for Turkish-speaking parents.
func TestCohortLetters(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext not installed")
	}
	e := newEnv(t)
	e.examSetup(true)
	a := e.newAdmin()
	a.login("amt", "geheim1")
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("year", "2027")
	mw.WriteField("letters", "1")
	fw, _ := mw.CreateFormFile("file", "register.csv")
	io.WriteString(fw, cohortFile)
	mw.Close()
	hreq, _ := http.NewRequest(http.MethodPost, e.URL+"/admin/exam/cohort", &buf)
	hreq.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := a.client.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(data)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("letters: %d %s %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	path := filepath.Join(t.TempDir(), "letters.pdf")
	os.WriteFile(path, []byte(body), 0o600)
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	pages := strings.Split(text, "\f")
	key, err := e.Store.Secret(context.Background(), "exam.cohort", 32, start)
	if err != nil {
		t.Fatal(err)
	}
	code := central.InvitationCode(key, central.ChildPseudonym(key, "Yıldırım-Schäfer", "Elif Sude", "2021-03-14"), 2027)
	if !regexp.MustCompile(`^E[A-HJKMNP-Z2-9]{9}$`).MatchString(code) {
		t.Errorf("booking code %q", code)
	}
	// Cover, Elif (de, tr), Paul, Lena, Tom (de, en).
	if len(pages) < 7 {
		t.Fatalf("%d pages: %s", len(pages), text)
	}
	contains(t, "cover page", pages[0], "Importbericht Schuljahr 2027/28", "4 Kinder neu", "Zeile 5:", "Zeile 9: Dasselbe Kind wie in Zeile 2")
	contains(t, "German letter", pages[1], "Einladung zur Schuleingangsuntersuchung von Elif Sude", "Yıldırım-Schäfer", "Ayşe Yıldırım",
		"Venloer Straße 12", "50825 Köln", "14.03.2021", "2027/28", code, e.URL+"/schuleingang", "Gesundheitsamt Neumarkt", "Impfpass")
	contains(t, "Turkish letter", pages[2], "okula başlama muayenesine davet", code, "Ayşe Yıldırım")
	contains(t, "English letter", pages[6], "Invitation to the school-entry examination of Tom Fischer")
	if strings.Contains(pages[3], "okula") {
		t.Errorf("Paul's parents get a Turkish page")
	}
	// The code as the parents type it finds the child (the start of the
	// booking); a mistyped one finds none.
	typed := strings.ToLower(code[:4]) + " " + code[4:7] + "-" + code[7:]
	if kid, err := e.Central.Invitation(context.Background(), typed); err != nil || kid.Site != examSite || kid.Year != 2027 || kid.District != "Ehrenfeld" {
		t.Errorf("Invitation(%q) = %+v, %v", typed, kid, err)
	}
	for _, bad := range []string{code[:9] + "0", "E23456789A", "", "x"} {
		if _, err := e.Central.Invitation(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "no such booking code") {
			t.Errorf("Invitation(%q): %v", bad, err)
		}
	}
	// The letters are not kept: central holds only the code's hash.
	kids, _ := e.Central.Cohort(context.Background(), 2027)
	for _, k := range kids {
		if bytes.Contains(k.CodeHash, []byte(code)) {
			t.Errorf("the code is stored in clear")
		}
	}
	db, _ := os.ReadFile(e.DB + "-wal")
	if bytes.Contains(db, []byte(code)) {
		t.Errorf("the booking code is in central's WAL")
	}
}

// The admin page: the import form for admins only, the districts' sites
// (default, assignment, removal; only school-health sites), the cohort by
// site and district.
func TestAdminExamPage(t *testing.T) {
	e := newEnv(t)
	e.examSetup(true)
	tech := e.newAdmin()
	tech.login("technik", "geheim2")
	_, page := tech.get("/admin/exam?year=2027")
	if strings.Contains(page, `id="import-form"`) || strings.Contains(page, `id="district-form"`) {
		t.Errorf("a technician sees the forms")
	}
	resp, _ := tech.post("/admin/exam/districts", map[string][]string{"district": {"Kalk"}, "site": {examSite}})
	wantStatus(t, "technician assigns", resp, http.StatusForbidden)

	a := e.newAdmin()
	a.login("amt", "geheim1")
	_, page = a.get("/admin/exam?year=2027")
	contains(t, "page", page, `id="import-form"`, `enctype="multipart/form-data"`, "Gesundheitsamt Neumarkt", "2027/28")
	resp, page = a.post("/admin/exam/districts", map[string][]string{"district": {"Kalk"}, "site": {siteID}})
	wantStatus(t, "assign to a customer centre", resp, http.StatusBadRequest)
	contains(t, "refused", page, "Standort")
	resp, _ = a.post("/admin/exam/districts", map[string][]string{"district": {"Kalk"}, "site": {examSite}})
	wantStatus(t, "assign", resp, http.StatusSeeOther)
	_, page = a.get("/admin/exam?year=2027")
	contains(t, "table", page, `id="district-table"`, "Kalk")
	resp, _ = a.post("/admin/exam/districts", map[string][]string{"district": {"kalk"}, "site": {""}})
	wantStatus(t, "remove", resp, http.StatusSeeOther)
	if d, _ := e.Central.ExamDistricts(context.Background()); len(d) != 0 {
		t.Errorf("districts after removing = %+v", d)
	}
	e.postCohort("amt", "geheim1", "?year=2027", "text/csv", cohortFile)
	_, page = a.get("/admin/exam?year=2027")
	contains(t, "cohort", page, `id="cohort"`, "Ehrenfeld", "Mülheim")
}

// statsRecord is one signed-off exam.
func statsRecord(id, district, bmi string, shown bool, vaccines ...string) *exam.Statistics {
	v := map[string]bool{}
	for _, a := range vaccines {
		v[a] = true
	}
	return &exam.Statistics{Exam: id, Year: 2027, District: district, AgeMonths: 70, Sex: exam.SexMale, BMIClass: bmi,
		Vision: exam.FindingNormal, Hearing: exam.FindingNormal, ImpfpassShown: shown, Vaccines: v, MeaslesProof: v[exam.VaccineMeasles],
		Recommendation: exam.RecommendReady}
}

// The statistics API on a cohort built for cells of 1 to 4: every such
// count is null and marked, no row or column of any table has exactly one
// hidden count (so none can be worked out from the totals), the complements
// are hidden too; a record signed off again replaces its first count.
func TestExamStatisticsAPI(t *testing.T) {
	e := newEnv(t)
	e.examSetup(true)
	l := newSiteLog(t, e.Clock)
	n := 0
	add := func(count int, district, bmi string, shown bool, vaccines ...string) {
		for range count {
			n++
			id := fmt.Sprintf("x%03d", n)
			l.add(exam.TypeStatistics, "exam/"+id, statsRecord(id, district, bmi, shown, vaccines...))
		}
	}
	all := exam.Vaccines
	add(10, "Kalk", exam.BMINormal, true, all...)
	add(2, "Kalk", exam.BMIOverweight, true, all...)
	add(6, "Porz", exam.BMINormal, true, all...)
	add(1, "Porz", exam.BMIObese, false)
	add(3, "Sülz", exam.BMINormal, true, exam.VaccineMeasles) // a district of 3
	// x001 signed off again: now underweight (replaces, not added).
	again := statsRecord("x001", "Kalk", exam.BMIUnderweight, true, all...)
	l.add(exam.TypeStatistics, "exam/x001", again)
	e.mustPost(l.batch(1, uint64(len(l.entries))))

	get := func(user, pw, q string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/api/v1/exam/statistics"+q, nil)
		if user != "" {
			req.SetBasicAuth(user, pw)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if s, _ := get("", "", "?year=2027"); s != http.StatusUnauthorized {
		t.Errorf("without login: %d", s)
	}
	if s, b := get("amt", "geheim1", ""); s != http.StatusBadRequest || !strings.Contains(b, "year") {
		t.Errorf("without year: %d %s", s, b)
	}
	status, body := get("technik", "geheim2", "?year=2027")
	var rep exam.StatsReport
	if status != http.StatusOK || json.Unmarshal([]byte(body), &rep) != nil {
		t.Fatalf("statistics: %d %s", status, body)
	}
	if v, ok := rep.Children.Value(); !ok || v != 22 || rep.SmallCell != 5 || !slices.Equal(rep.Districts, []string{"Kalk", "Porz", "Sülz"}) {
		t.Fatalf("children %v, districts %v", rep.Children.N, rep.Districts)
	}
	if compact := strings.Join(strings.Fields(body), ""); !strings.Contains(compact, `"n":null`) || !strings.Contains(compact, `"suppressed":true`) {
		t.Errorf("no null-and-marked cell in %s", body[:300])
	}
	checkSuppressed(t, rep)

	bmi, _ := rep.Table(exam.StatsTableBMI)
	cell := func(row exam.StatsRow, col string) exam.StatsCell { return row.Cells[slices.Index(bmi.Columns, col)] }
	kalk, porz, suelz := bmi.Rows[0], bmi.Rows[1], bmi.Rows[2]
	if v, ok := kalk.Total.Value(); !ok || v != 12 {
		t.Errorf("Kalk's total %v", kalk.Total.N)
	}
	for name, c := range map[string]exam.StatsCell{
		"Kalk underweight (1)": cell(kalk, exam.BMIUnderweight), "Kalk overweight (2)": cell(kalk, exam.BMIOverweight),
		"Porz obese (1)":              cell(porz, exam.BMIObese),
		"Porz normal (6, complement)": cell(porz, exam.BMINormal), "Sülz total (3)": suelz.Total, "Sülz normal (3)": cell(suelz, exam.BMINormal),
	} {
		if !c.Suppressed || c.N != nil {
			t.Errorf("%s shown: %v", name, c.N)
		}
	}
	if v, ok := cell(kalk, exam.BMIObese).Value(); !ok || v != 0 {
		t.Errorf("a zero is hidden")
	}
	// Sülz's total of 3 is hidden in every table, and another district's
	// with it, or the city's total would give it away.
	if !porz.Total.Suppressed {
		t.Errorf("Porz's total shown beside Sülz's hidden one: %v", porz.Total.N)
	}
	for _, tab := range rep.Tables {
		if tab.Base == exam.StatsBaseChildren && (!tab.Rows[2].Total.Suppressed || tab.Rows[1].Total.Suppressed != porz.Total.Suppressed) {
			t.Errorf("table %s: the districts' totals are hidden differently", tab.ID)
		}
	}
	// The page and the CSV show the same, with "." for hidden counts.
	a := e.newAdmin()
	a.login("technik", "geheim2")
	_, page := a.get("/admin/exam/statistics?year=2027")
	contains(t, "page", page, `<svg`, `role="img"`, `<title id="chart-bmi-title">`, `<desc id="chart-bmi-desc">`, `id="chart-bmi-table"`,
		`id="t-bmi"`, `data-suppressed="true"`, "Impfquoten")
	resp, csvText := a.get("/admin/exam/statistics.csv?year=2027")
	if !strings.HasPrefix(csvText, "\uFEFFSchuljahr;Tabelle;Schulbezirk;Kategorie;Kinder\r\n") || !strings.Contains(resp.Header.Get("Content-Disposition"), "schuleingangsuntersuchung-2027.csv") {
		t.Errorf("CSV starts %q", csvText[:min(80, len(csvText))])
	}
	if !strings.Contains(csvText, "2027/28;Gewicht (BMI-Klassen);Kalk;Übergewicht;.\r\n") || !strings.Contains(csvText, "2027/28;Gewicht (BMI-Klassen);Kalk;Adipositas;0\r\n") {
		t.Errorf("CSV lacks Kalk's BMI lines")
	}
	if status, body := get("amt", "geheim1", "?year=2031"); status != http.StatusOK || !strings.Contains(strings.Join(strings.Fields(body), ""), `"districts":[]`) {
		t.Errorf("a year without records: %d %.200s", status, body)
	}
	// Central restarted: the same tables, folded again from the logs.
	again2, err := central.New(context.Background(), e.Store, e.Clock.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := json.Marshal(e.Central.ExamReport(2027))
	after, _ := json.Marshal(again2.ExamReport(2027))
	if !bytes.Equal(before, after) {
		t.Errorf("after a restart the tables differ:\n%s\n%s", before, after)
	}
}

// checkSuppressed checks the rules on every table: no count of 1 to 4 is
// shown, and no row (with its total) nor column (with the city's) nor the
// districts' totals (with the city's) has exactly one hidden count.
func checkSuppressed(t *testing.T, rep exam.StatsReport) {
	t.Helper()
	one := func(cells []exam.StatsCell) bool {
		n := 0
		for _, c := range cells {
			if c.Suppressed {
				n++
			}
		}
		return n == 1
	}
	for _, tab := range rep.Tables {
		rows := append(slices.Clone(tab.Rows), tab.Total)
		var totals []exam.StatsCell
		for _, r := range rows {
			for _, c := range append(slices.Clone(r.Cells), r.Total) {
				if v, ok := c.Value(); ok && v > 0 && v < exam.SmallCell {
					t.Errorf("table %s, %q: a count of %d shown", tab.ID, r.District, v)
				}
				if c.Suppressed != (c.N == nil) {
					t.Errorf("table %s: a cell hidden without null", tab.ID)
				}
			}
			if one(append(slices.Clone(r.Cells), r.Total)) {
				t.Errorf("table %s, row %q: one hidden count, worked out from the total", tab.ID, r.District)
			}
			totals = append(totals, r.Total)
		}
		if one(totals) {
			t.Errorf("table %s: one district's total hidden", tab.ID)
		}
		for i := range tab.Columns {
			var col []exam.StatsCell
			for _, r := range rows {
				col = append(col, r.Cells[i])
			}
			if one(col) {
				t.Errorf("table %s, column %s: one hidden count", tab.ID, tab.Columns[i])
			}
		}
	}
}

// postParents posts the parents' form and returns status and body.
func (e *env) postParents(path string, form url.Values) (int, string) {
	e.t.Helper()
	resp, body := e.postForm(path, form)
	return resp.StatusCode, body
}

// The parents' page: the invitation's code (as typed) opens the
// questionnaire of the child's site; the answers are checked, then sealed
// to the site at once and sent down, and nothing of them stays at central;
// the page leads on to the booking at that site. Wrong codes are
// throttled.
func TestParentsQuestionnaire(t *testing.T) {
	e := newEnv(t)
	box := e.examSetup(true)
	e.postCohort("amt", "geheim1", "?year=2027", "text/csv", cohortFile)
	key, _ := e.Store.Secret(context.Background(), "exam.cohort", 32, start)
	child := central.ChildPseudonym(key, "Yıldırım-Schäfer", "Elif Sude", "2021-03-14")
	code := central.InvitationCode(key, child, 2027)

	_, page := e.get("/schuleingang")
	contains(t, "code form", page, `id="f-code"`, "Buchungscode")
	status, page := e.postParents("/schuleingang", url.Values{"code": {"EAAAAAAAAA"}})
	if status != http.StatusNotFound || !strings.Contains(page, "Diesen Buchungscode gibt es nicht") {
		t.Fatalf("wrong code: %d", status)
	}
	status, page = e.postParents("/schuleingang", url.Values{"code": {strings.ToLower(code[:5]) + " " + code[5:]}})
	if status != http.StatusOK {
		t.Fatalf("code: %d %s", status, page)
	}
	contains(t, "questionnaire", page, "Gesundheitsamt Neumarkt", "2027/28", `name="birth_term"`, `value="U7a"`, `id="f-consent"`)
	sent := len(e.outboundLog(examSite))

	answers := url.Values{"code": {code}, "step": {"questions"}, "birth_term": {exam.ParentsBirthPremature},
		"birth_notes": {"Kaiserschnitt in der 35. Woche"}, "illnesses": {"Verdacht auf Zöliakie-Qx7"}, "checkups": {"U1", "U2", "U7a"},
		"kita": {"ja"}, "kita_years": {"3"}, "languages": {"Türkisch, Deutsch"}, "support": {"logopaedie"}}
	status, page = e.postParents("/schuleingang", answers)
	if status != http.StatusBadRequest || !strings.Contains(page, "Ohne Ihre Einwilligung") || !strings.Contains(page, "Verdacht auf Zöliakie-Qx7") {
		t.Fatalf("without consent: %d", status)
	}
	bad := url.Values{}
	for k, v := range answers {
		bad[k] = v
	}
	bad.Set("consent", "ja")
	bad.Set("kita_years", "12")
	bad["checkups"] = []string{"U99"}
	if status, page = e.postParents("/schuleingang?lang=en", bad); status != http.StatusBadRequest || !strings.Contains(page, "0 to 7 years") || !strings.Contains(page, "check-ups offered") {
		t.Fatalf("bad answers: %d", status)
	}
	if n := len(e.outboundLog(examSite)); n != sent {
		t.Fatalf("refused answers were sent (%d entries, %d before)", n, sent)
	}

	answers.Set("consent", "ja")
	status, page = e.postParents("/schuleingang", answers)
	if status != http.StatusOK {
		t.Fatalf("answers: %d %s", status, page)
	}
	contains(t, "done", page, `id="exam-done"`, `href="/termin?service=schuleingang&amp;site=gesundheitsamt"`)
	out := e.outboundLog(examSite)
	if len(out) != sent+1 || out[len(out)-1].Type != exam.TypeParentsQuestionnaire || out[len(out)-1].Entity != "exam.child/"+child {
		t.Fatalf("sent: %d entries, last %s", len(out), out[len(out)-1].Type)
	}
	var q exam.ParentsQuestionnaire
	if err := changelog.Unmarshal(out[len(out)-1].Payload, &q); err != nil {
		t.Fatal(err)
	}
	plain, err := changelog.Open(box, exam.QuestionnaireInfo(examSite, child), q.Sealed)
	if err != nil {
		t.Fatal(err)
	}
	var a exam.ParentsAnswers
	if err := changelog.Unmarshal(plain, &a); err != nil || a.Illnesses != "Verdacht auf Zöliakie-Qx7" || !a.Kita || a.KitaYears != 3 ||
		!slices.Equal(a.Checkups, []string{"U1", "U2", "U7a"}) || !a.Consent || q.Year != 2027 {
		t.Errorf("answers at the site = %+v, %v", a, err)
	}
	for _, suffix := range []string{"", "-wal"} {
		f, _ := os.ReadFile(e.DB + suffix)
		for _, s := range personal("Zöliakie-Qx7", "Kaiserschnitt") {
			if bytes.Contains(f, s) {
				t.Errorf("central's file%s holds %q", suffix, s)
			}
		}
	}
	if strings.Contains(e.Logs.String(), "Zöliakie") || strings.Contains(e.Logs.String(), code) {
		t.Errorf("central's log holds the answers or the code")
	}

	// Wrong codes: ten, then the client waits.
	last := 0
	for range 11 {
		last, _ = e.postParents("/schuleingang", url.Values{"code": {"EZZZZZZZZZ"}})
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("the 11th wrong code: %d, want 429", last)
	}
}

// A child whose parents read Arabic gets a second page in Arabic: shaped
// (joined letters, not the isolated ones), right to left, and text that
// pdftotext reads back (the presentation forms fold to the letters).
func TestCohortLettersArabic(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext not installed")
	}
	e := newEnv(t)
	e.examSetup(true)
	a := e.newAdmin()
	a.login("amt", "geheim1")
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("year", "2027")
	mw.WriteField("letters", "1")
	fw, _ := mw.CreateFormFile("file", "register.csv")
	io.WriteString(fw, cohortHeader+"Haddad;Karim;2021-01-30;m;Deutz-Mülheimer Straße 40;51063;Köln;Lina Haddad;;;Mülheim;ar\r\n")
	mw.Close()
	hreq, _ := http.NewRequest(http.MethodPost, e.URL+"/admin/exam/cohort", &buf)
	hreq.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := a.client.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("letters: %d %.300s", resp.StatusCode, data)
	}
	path := filepath.Join(t.TempDir(), "letters.pdf")
	os.WriteFile(path, data, 0o600)
	if dir := os.Getenv("VEEDEL_SCREENSHOTS"); dir != "" {
		os.WriteFile(filepath.Join(dir, "invitation-ar.pdf"), data, 0o644)
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	pages := strings.Split(string(out), "\f")
	if len(pages) < 3 {
		t.Fatalf("%d pages, want the cover, German and Arabic", len(pages))
	}
	if !strings.ContainsFunc(pages[2], func(r rune) bool { return r >= 0xFE70 && r <= 0xFEFF }) {
		t.Errorf("the Arabic page is not shaped:\n%s", pages[2])
	}
	arabic := strings.Map(func(r rune) rune {
		if r >= 0x202a && r <= 0x202e || r == 0x200e || r == 0x200f {
			return -1
		}
		return r
	}, norm.NFKC.String(pages[2]))
	key, _ := e.Store.Secret(context.Background(), "exam.cohort", 32, start)
	code := central.InvitationCode(key, central.ChildPseudonym(key, "Haddad", "Karim", "2021-01-30"), 2027)
	contains(t, "Arabic letter", arabic, "مدينة كولونيا", "دفتر التطعيم", code, "Lina Haddad", "51063 Köln")
}
