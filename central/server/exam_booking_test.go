package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance"
	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/server"
	"github.com/veedel/veedel/internal/ratelimit"
	"github.com/veedel/veedel/sync/changelog"
)

// newExamBookingSite is the school-health site (its real store, with the
// health office's escrow key) connected to central, whose portal sends
// codes to b.codes; the cohort is imported and assigned to the site.
func newExamBookingSite(t *testing.T) *bookingSite {
	e := newEnv(t)
	e.enroll(examSite, siteKey(examSite))
	box := e.examSetup(true)
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "site.db"), examSite, sqlite.Options{Now: e.Clock.Now, BoxKey: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Execute(context.Background(), func(_ *queue.State, at time.Time) ([]queue.Event, error) {
		return appliance.Catalog[examSite].Events(at), nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := exam.WriteEscrowKey(filepath.Join(dir, "escrow.key")); err != nil {
		t.Fatal(err)
	}
	pub, _ := exam.ReadEscrowPublic(filepath.Join(dir, "escrow.key.pub"))
	if err := exam.UseEscrow(context.Background(), st.Writer(), pub); err != nil {
		t.Fatal(err)
	}
	c := &codes{sent: map[string]string{}}
	ts := httptest.NewServer((&server.Server{Central: e.Central, Notify: c, Now: e.Clock.Now, BookLimit: ratelimit.Limit{Burst: 1000, Every: time.Millisecond}}).Handler())
	t.Cleanup(ts.Close)
	b := &bookingSite{env: e, id: examSite, store: st, codes: c, api: ts.URL}
	b.upload()
	if code, _, body := e.postCohort("amt", "geheim1", "?year=2027", "text/csv", cohortFile); code != http.StatusOK {
		t.Fatalf("cohort: %d %s", code, body)
	}
	b.download()
	return b
}

// examSlots are the free slots of the exam's service on day.
func (b *bookingSite) examSlots(day string) []appointment.SlotView {
	b.t.Helper()
	resp, err := http.Get(b.api + "/api/v1/booking/slots?site=" + examSite + "&service=" + exam.CheckInService + "&date=" + day)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []appointment.SlotView
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&out) != nil || len(out) < 3 {
		b.t.Fatalf("exam slots on %s: %d %+v", day, resp.StatusCode, out)
	}
	return out
}

// bookExam books the exam at slot through the portal's last step with the
// invitation code, confirms it with the code sent and returns the
// booking's token.
func (b *bookingSite) bookExam(code string, slot time.Time, email string) string {
	b.t.Helper()
	form := url.Values{"service": {exam.CheckInService}, "site": {examSite}, "start": {slot.UTC().Format(time.RFC3339)},
		"name": {"Ayşe Yıldırım"}, "email": {email}, "consent": {"yes"}, "exam_code": {code}}
	resp, _ := b.submit("/termin", form, http.StatusSeeOther)
	token := strings.TrimPrefix(resp.Header.Get("Location"), "/b/")
	st, out := b.call("POST", "/api/v1/appointments/"+token+"/confirm", fmt.Sprintf(`{"code":%q}`, b.codes.code(email)))
	if st != http.StatusOK {
		b.t.Fatalf("confirm: %d %v", st, out)
	}
	return token
}

// Parents book the exam with the invitation's code: the portal's last
// step asks for it (the code comes from /schuleingang in a cookie of the
// booking's path, never in an address), refuses a wrong one or one of
// another site's child, and the booking goes to the site tied to the
// child: the day list has the child at the booked time. Booking again
// with the same code moves the booking. The JSON API asks for the code
// too.
func TestExamBookingWithInvitationCode(t *testing.T) {
	b := newExamBookingSite(t)
	ctx := context.Background()
	key, _ := b.Store.Secret(ctx, "exam.cohort", 32, start)
	child := central.ChildPseudonym(key, "Yıldırım-Schäfer", "Elif Sude", "2021-03-14")
	code := central.InvitationCode(key, child, 2027)

	// /schuleingang leaves the code for the booking, in a cookie of its path.
	resp, page := b.submit("/schuleingang", url.Values{"code": {code}}, http.StatusOK)
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "veedel_exam_code" {
			cookie = c
		}
	}
	if cookie == nil || cookie.Path != "/termin" || !cookie.HttpOnly || cookie.Value != exam.NormalizeCode(code) {
		t.Fatalf("code cookie = %+v", cookie)
	}
	book := `href="/termin?service=schuleingang&amp;site=gesundheitsamt"`
	if !strings.Contains(page, book) || strings.Contains(page, "code="+code) {
		t.Fatal("the questionnaire page does not lead on to the exam's booking")
	}
	day := "2026-03-05"
	slots := b.examSlots(day)
	step4 := "/termin?service=schuleingang&site=gesundheitsamt&start=" + url.QueryEscape(slots[1].Start.UTC().Format(time.RFC3339))
	_, page = b.page(step4, http.StatusOK, "Cookie", "veedel_exam_code="+cookie.Value)
	if !strings.Contains(page, `id="f-exam-code"`) || !strings.Contains(page, `value="`+cookie.Value+`"`) {
		t.Fatal("step 4 without the code field or its value")
	}
	if _, page := b.page("/termin?service=schuleingang&site=gesundheitsamt&start="+url.QueryEscape(slots[1].Start.UTC().Format(time.RFC3339)), http.StatusOK); !strings.Contains(page, `id="f-exam-code" name="exam_code" type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" dir="ltr" maxlength="32" value=""`) {
		t.Fatal("step 4 without the cookie is not empty")
	}

	// Refused: no code, a wrong one; nothing held.
	form := url.Values{"service": {exam.CheckInService}, "site": {examSite}, "start": {slots[1].Start.UTC().Format(time.RFC3339)},
		"name": {"Ayşe Yıldırım"}, "email": {"ayse@example.de"}, "consent": {"yes"}}
	if _, page := b.submit("/termin", form, http.StatusBadRequest); !strings.Contains(page, "Bitte den Buchungscode aus dem Einladungsschreiben angeben.") ||
		!strings.Contains(page, `href="#f-exam-code"`) {
		t.Fatal("without the code: no message at the field")
	}
	form.Set("exam_code", "EZZZZZZZZZ")
	if _, page := b.submit("/termin", form, http.StatusBadRequest); !strings.Contains(page, "Diesen Buchungscode gibt es nicht") {
		t.Fatal("a wrong code is not said so")
	}
	if taken, _ := b.Central.SlotsTaken(ctx, examSite, exam.CheckInService, slots[0].Start, slots[len(slots)-1].Start.Add(time.Minute), b.Clock.Now()); len(taken) != 0 {
		t.Fatalf("refused bookings hold places: %v", taken)
	}
	// The JSON API asks for the code as well.
	body := fmt.Sprintf(`{"site":%q,"service":"schuleingang","start":%q,"name":"A","email":"a@example.de","consent":true}`, examSite, slots[2].Start.Format(time.RFC3339))
	if st, out := b.call("POST", "/api/v1/appointments", body); st != http.StatusBadRequest {
		t.Fatalf("API booking without the code: %d %v", st, out)
	}

	first := b.bookExam(code, slots[1].Start, "ayse@example.de")
	out := b.outboundLog(examSite)
	last := out[len(out)-1]
	var booked appointment.Booked
	if err := changelog.Unmarshal(last.Payload, &booked); err != nil || last.Type != appointment.TypeBooked || booked.For != child {
		t.Fatalf("sent %s for %q, want a booking for the child %s (%v)", last.Type, booked.For, child, err)
	}
	b.download()
	loc, _ := time.LoadLocation("Europe/Berlin")
	list, err := exam.Day(ctx, b.store.Read(), day, loc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].FamilyName != "Yıldırım-Schäfer" || list[0].Slot != slots[1].Start.In(loc).Format("15:04") || list[0].Booking != booked.Code {
		t.Fatalf("the site's day list: %+v", list)
	}

	// Booked again with the same code: the first booking is moved.
	b.bookExam(code, slots[2].Start, "ayse@example.de")
	if a, ok := b.apptByToken(first); !ok || a != appointment.StatusCancelled {
		t.Fatalf("the first booking after booking again: %s", a)
	}
	b.download()
	list, _ = exam.Day(ctx, b.store.Read(), day, loc, nil)
	if len(list) != 1 || list[0].Slot != slots[2].Start.In(loc).Format("15:04") {
		t.Fatalf("the day list after the move: %+v", list)
	}
}

// apptByToken is the status of the booking of token.
func (b *bookingSite) apptByToken(token string) (string, bool) {
	b.t.Helper()
	st, out := b.call("GET", "/api/v1/appointments/"+token, "")
	if st != http.StatusOK {
		return "", false
	}
	s, _ := out["status"].(string)
	return s, true
}
