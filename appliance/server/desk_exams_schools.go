package server

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/ui"
)

// deskExamSchools: GET /desk/exams/schools.csv?year=&district=, the list
// for the school office: every signed-off child of the school year (and
// district) with the recommendation and the support needs, as the
// school's notice has them, and nothing else. Exam staff make it (others
// get 403, audited); the list itself is audited with its size. CSV as
// the other exports: UTF-8 with BOM, ";", CRLF, German.
func (s *Server) deskExamSchools(w http.ResponseWriter, r *http.Request) {
	u, ok := s.deskExamStaff(w, r)
	if !ok {
		return
	}
	year := 0
	if v := r.URL.Query().Get("year"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2000 || n > 2100 {
			s.renderError(w, r, &veedel.Error{Code: veedel.EINVALID, Message: "Schuljahr als Jahreszahl, z. B. 2027 / school year as a year, e.g. 2027", Fields: map[string]string{"year": "2027"}})
			return
		}
		year = n
	}
	district := strings.TrimSpace(r.URL.Query().Get("district"))
	list, err := exam.SchoolList(r.Context(), s.Store.Read(), year, district)
	if err == nil {
		err = s.audit(r.Context(), u, exam.AuditSchoolList, "", fmt.Sprintf("year=%d district=%s n=%d", year, district, len(list)))
	}
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	t := func(key string, args ...any) string { return ui.Translate(letterLang, key, args...) }
	name := "schulliste"
	if year != 0 {
		name += "-" + strconv.Itoa(year)
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("\ufeff"))
	cw := csv.NewWriter(w)
	cw.Comma, cw.UseCRLF = ';', true
	cw.Write([]string{t("exams.district"), t("exams.schools.family"), t("exams.schools.given"), t("exams.birth"), t("exams.recommendation"), t("exams.support"), t("exams.schools.date")})
	for _, l := range list {
		support := ""
		if len(l.Support) > 0 {
			support = supportList(t, l.Support)
		}
		cw.Write([]string{l.District, l.FamilyName, l.GivenNames, dayDE(l.BirthDate), t("exams.recommend." + l.Recommendation), support, dayDE(l.Date)})
	}
	cw.Flush()
}
