package server

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/internal/pdf"
	"github.com/veedel/veedel/ui"
)

// The documents of a signed-off exam (internal/pdf letters, German): the
// parents' report with every result, and the school's notice with only the
// recommendation and the support needs (§ 54 SchulG NRW). Exam staff print
// them; each print is audited.

// signedOff opens the signed-off record the request names for a document
// (openExam: the print audited as what, "parents" or "school").
func (s *Server) signedOff(w http.ResponseWriter, r *http.Request, what string) (sqlite.User, *exam.Record, bool) {
	u, ok := s.deskExamStaff(w, r)
	if !ok {
		return u, nil, false
	}
	rec, err := s.openExam(r.Context(), u, chi.URLParam(r, "id"), exam.AuditReport, what)
	if err == nil && rec.SignOff == nil || err == nil && rec.Status != exam.StatusSignedOff {
		err = veedel.Errorf(veedel.ECONFLICT, "Erst nach der Abzeichnung / only once signed off")
	}
	if err != nil {
		s.renderError(w, r, err)
		return u, nil, false
	}
	return u, rec, true
}

func finding(t func(string, ...any) string, f string) string { return t("exams.finding." + f) }

// reportLangs are the parents' languages the parents' report is printed
// in too, after the German page (Arabic shaped by internal/pdf).
var reportLangs = []string{"en", "tr", "ar"}

// deskExamReport: GET /desk/exams/{id}/report.pdf, the parents' report:
// in German, and again in the parents' language when it is one of
// reportLangs.
func (s *Server) deskExamReport(w http.ResponseWriter, r *http.Request) {
	_, rec, ok := s.signedOff(w, r, "parents")
	if !ok {
		return
	}
	now := s.current()
	de := s.parentsReport(rec, letterLang, now)
	doc := pdf.Letters{Lang: letterLang, Title: de.Title, Date: now, Pages: []pdf.Letter{de}}
	if slices.Contains(reportLangs, rec.Lang) {
		doc.Pages = append(doc.Pages, s.parentsReport(rec, rec.Lang, now))
	}
	s.servePDF(w, r, doc, "untersuchung-"+rec.ID[:8]+".pdf")
}

// parentsReport is the parents' report of a signed-off record in lang.
func (s *Server) parentsReport(rec *exam.Record, lang string, now time.Time) pdf.Letter {
	t := func(key string, args ...any) string { return ui.Translate(lang, key, args...) }
	child := pdf.Join(" ", rec.Person.GivenNames, rec.Person.FamilyName)
	recipient := []string{t("exams.pdf.to.parents", child)}
	if rec.Person.ParentName != "" {
		recipient = []string{rec.Person.ParentName}
	}
	if rec.Person.Street != "" {
		recipient = append(recipient, rec.Person.Street, pdf.Join(" ", rec.Person.Postcode, rec.Person.City))
	}
	facts := []pdf.Fact{{Label: t("exams.pdf.child"), Value: fmt.Sprintf("%s, %s", child, dayDE(rec.Person.BirthDate))}}
	if m := rec.Measurement; m != nil {
		class := t("exams.bmi.none")
		if m.BMIClass != "" {
			class = t("exams.bmi." + m.BMIClass)
		}
		facts = append(facts, pdf.Fact{Label: t("exams.section.measurement"),
			Value: fmt.Sprintf("%s cm, %s kg; BMI %s: %s", decimalDE(m.HeightCM), decimalDE(m.WeightKG), decimalDE(m.BMI), class)})
	}
	vision, hearing := exam.FindingNotTested, exam.FindingNotTested
	if rec.Vision != nil {
		vision = rec.Vision.Finding
	}
	if rec.Hearing != nil {
		hearing = rec.Hearing.Finding
	}
	facts = append(facts, pdf.Fact{Label: t("exams.section.vision"), Value: finding(t, vision)}, pdf.Fact{Label: t("exams.section.hearing"), Value: finding(t, hearing)})
	var dev []string
	for _, d := range exam.Domains {
		f := exam.FindingNotTested
		if sc, ok := rec.SOPESS[d]; ok {
			f = sc.Finding
		}
		dev = append(dev, t("exams.sopess."+d)+": "+finding(t, f))
	}
	facts = append(facts, pdf.Fact{Label: t("exams.section.sopess"), Value: strings.Join(dev, "; ")})
	vacc := t("exams.pdf.impfpass.none")
	if v := rec.Vaccination; v != nil && v.Shown {
		var missing []string
		for _, a := range exam.Vaccines {
			if !v.Complete[a] {
				missing = append(missing, t("exams.vaccine."+a))
			}
		}
		vacc = t("exams.pdf.vaccines.complete")
		if len(missing) > 0 {
			vacc = t("exams.pdf.vaccines.missing", strings.Join(missing, ", "))
		}
	}
	measles := t("exams.measles.no")
	if rec.Vaccination != nil && rec.Vaccination.MeaslesProof {
		measles = t("exams.measles.yes")
	}
	facts = append(facts, pdf.Fact{Label: t("exams.section.vaccinations"), Value: vacc + " " + measles})
	for _, n := range rec.Findings {
		facts = append(facts, pdf.Fact{Label: t("exams.area." + n.Area), Value: n.Text})
	}
	so := rec.SignOff
	facts = append(facts, pdf.Fact{Label: t("exams.recommendation"), Value: t("exams.recommend." + so.Recommendation)})
	if len(so.Support) > 0 {
		facts = append(facts, pdf.Fact{Label: t("exams.support"), Value: supportList(t, so.Support)})
	}
	if len(so.Referrals) > 0 {
		facts = append(facts, pdf.Fact{Label: t("exams.referrals"), Value: strings.Join(so.Referrals, "; ")})
	}
	body := []string{t("exams.pdf.report.greeting"), t("exams.pdf.report.body", child, dayDE(so.Date))}
	if so.Note != "" {
		body = append(body, so.Note)
	}
	head := s.sender()
	return pdf.Letter{
		Lang: lang, Title: t("exams.pdf.report.title", child), Letterhead: head, ReturnLine: pdf.Join(" · ", head...),
		Recipient: recipient,
		Info:      []pdf.Fact{{Label: t("exams.pdf.date"), Value: s.siteDate(now)}, {Label: t("exams.pdf.doctor"), Value: so.Staff}},
		Subject:   t("exams.pdf.report.subject", child),
		Body:      body,
		Facts:     facts,
		Closing:   []string{t("exams.pdf.closing"), t("exams.pdf.signed", so.Staff)},
		Footer:    []string{t("exams.pdf.report.footer"), pdf.Join(" · ", head...)},
		Date:      now,
	}
}

// deskExamSchool: GET /desk/exams/{id}/school.pdf, the school's notice.
func (s *Server) deskExamSchool(w http.ResponseWriter, r *http.Request) {
	_, rec, ok := s.signedOff(w, r, "school")
	if !ok {
		return
	}
	t := func(key string, args ...any) string { return ui.Translate(letterLang, key, args...) }
	child := pdf.Join(" ", rec.Person.GivenNames, rec.Person.FamilyName)
	so := rec.SignOff
	support := t("exams.pdf.school.nosupport")
	if len(so.Support) > 0 {
		support = supportList(t, so.Support)
	}
	head := s.sender()
	now := s.current()
	doc := pdf.Letter{
		Lang: letterLang, Title: t("exams.pdf.school.title", child), Letterhead: head, ReturnLine: pdf.Join(" · ", head...),
		Recipient: []string{t("exams.pdf.school.to"), pdf.Join(" ", t("exams.district"), rec.District)},
		Info:      []pdf.Fact{{Label: t("exams.pdf.date"), Value: s.siteDate(now)}, {Label: t("exams.pdf.year"), Value: fmt.Sprintf("%d/%02d", rec.Year, (rec.Year+1)%100)}},
		Subject:   t("exams.pdf.school.subject", child),
		Body:      []string{t("exams.pdf.school.body")},
		Facts: []pdf.Fact{
			{Label: t("exams.pdf.child"), Value: fmt.Sprintf("%s, %s", child, dayDE(rec.Person.BirthDate))},
			{Label: t("exams.recommendation"), Value: t("exams.recommend." + so.Recommendation)},
			{Label: t("exams.support"), Value: support},
		},
		Closing: []string{t("exams.pdf.closing"), t("exams.pdf.signed", so.Staff)},
		Footer:  []string{t("exams.pdf.school.footer"), pdf.Join(" · ", head...)},
		Date:    now,
	}
	s.servePDF(w, r, doc, "schulmitteilung-"+rec.ID[:8]+".pdf")
}

func supportList(t func(string, ...any) string, needs []string) string {
	out := make([]string, len(needs))
	for i, n := range needs {
		out[i] = t("exams.support." + n)
	}
	return strings.Join(out, ", ")
}

// dayDE is YYYY-MM-DD as printed (DD.MM.YYYY).
func dayDE(day string) string {
	if len(day) == 10 {
		return day[8:10] + "." + day[5:7] + "." + day[:4]
	}
	return day
}

// decimalDE prints a measurement with a decimal comma.
func decimalDE(v float64) string {
	return strings.Replace(strconv.FormatFloat(v, 'f', 1, 64), ".", ",", 1)
}
