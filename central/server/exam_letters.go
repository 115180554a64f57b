package server

import (
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/pdf"
	"github.com/veedel/veedel/ui"
)

// The invitation letters of an import, for mail merge: one PDF, made in
// the request from the rows just uploaded and never stored. Each child
// gets a DIN 5008 letter in German and, when the register gives the
// parents' language and the letters exist in it, a second page in that
// language. The first page reports the import (what was refused, by row).

// examBookingPath is the parents' page the letter names: the code, the
// questionnaire, the way on to the booking (exam_parents.go).
const examBookingPath = "/schuleingang"

// letterLangs are the languages a second page is printed in (Arabic
// shaped and set right to left by internal/pdf, as selectable text).
var letterLangs = []string{"en", "tr", "ar"}

// invitationLetters builds the letters' PDF.
func (s *Server) invitationLetters(r *http.Request, res central.CohortResult, invites []central.Invitation) ([]byte, error) {
	now := s.now().In(cologne)
	url := s.publicBase(r) + examBookingPath
	schoolYear := fmt.Sprintf("%d/%02d", res.Year, (res.Year+1)%100)
	doc := pdf.Letters{Lang: "de", Title: "Einladungen zur Schuleingangsuntersuchung " + schoolYear, Date: now}
	doc.Pages = append(doc.Pages, importReport(res, now))
	for _, in := range invites {
		doc.Pages = append(doc.Pages, invitationLetter("de", in, url, schoolYear, now))
		for _, l := range letterLangs {
			if in.Lang == l {
				doc.Pages = append(doc.Pages, invitationLetter(l, in, url, schoolYear, now))
			}
		}
	}
	return pdf.Bytes(doc)
}

// importReport is the cover page: the figures and the refused rows.
func importReport(res central.CohortResult, now time.Time) pdf.Letter {
	t := func(key string, args ...any) string { return ui.Translate("de", key, args...) }
	body := []string{t("cohort.report.figures", res.Imported, res.Updated, res.Unchanged, len(res.Rejected))}
	for _, rj := range res.Rejected {
		body = append(body, t("cohort.report.row", rj.Row, rj.Error))
	}
	if len(res.Rejected) == 0 {
		body = append(body, t("cohort.report.none"))
	}
	return pdf.Letter{
		Letterhead: []string{t("invite.city"), t("invite.office")},
		Info:       []pdf.Fact{{Label: t("invite.date"), Value: now.Format("02.01.2006")}},
		Subject:    t("cohort.report.subject", res.Year, (res.Year+1)%100),
		Body:       body,
		Closing:    []string{t("cohort.report.destroy")},
	}
}

// invitationLetter is one child's letter in lang.
func invitationLetter(lang string, in central.Invitation, url, schoolYear string, now time.Time) pdf.Letter {
	t := func(key string, args ...any) string { return ui.Translate(lang, key, args...) }
	child := strings.TrimSpace(in.GivenNames + " " + in.FamilyName)
	birth, _ := time.Parse(time.DateOnly, in.BirthDate)
	place := in.Site.Name
	if in.Site.Address != "" {
		place += ", " + in.Site.Address
	}
	return pdf.Letter{
		Lang:       lang,
		Letterhead: []string{t("invite.city"), t("invite.office"), in.Site.Name},
		ReturnLine: pdf.Join(" · ", t("invite.city"), t("invite.office"), in.Site.Address),
		Recipient:  []string{in.ParentName, in.Street, in.Postcode + " " + in.City},
		Info: []pdf.Fact{
			{Label: t("invite.code"), Value: in.Code},
			{Label: t("invite.year"), Value: schoolYear},
			{Label: t("invite.date"), Value: now.Format("02.01.2006")},
		},
		Subject: t("invite.subject", child),
		Body: []string{
			t("invite.greeting", in.ParentName),
			t("invite.body", child, birth.Format("02.01.2006"), schoolYear),
			t("invite.book", url, in.Code),
			t("invite.bring"),
		},
		Facts: []pdf.Fact{
			{Label: t("invite.code"), Value: in.Code},
			{Label: t("invite.online"), Value: url},
			{Label: t("invite.place"), Value: place},
		},
		Closing: []string{t("invite.closing"), t("invite.signed")},
		Footer:  []string{t("invite.footer", in.Code)},
	}
}

// serveLetters sends the letters' PDF as an attachment.
func serveLetters(w http.ResponseWriter, year int, doc []byte) {
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fmt.Sprintf("einladungen-schuleingang-%d.pdf", year)}))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(doc)
}
