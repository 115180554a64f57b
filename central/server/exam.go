package server

import (
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/ui"
)

// The school-entry exams at central (issue 12): the health office's
// import of the year's cohort and the yearly statistics, as JSON for API
// clients; the admin pages are admin_exam.go, the invitation letters
// exam_letters.go.

// maxCohortBytes bounds a register file: 50,000 rows of about 160 bytes.
const maxCohortBytes = 8 << 20

// schoolYear reads ?year=, or the next school year (central.SchoolYear).
func (s *Server) schoolYear(r *http.Request) (int, error) {
	if y := r.URL.Query().Get("year"); y != "" {
		return central.ParseSchoolYear(y)
	}
	return central.SchoolYear(s.now().In(cologne)), nil
}

// apiImportCohort takes the register's CSV (POST /api/v1/exam/cohort,
// admins who edit) and answers what it imported, updated and refused.
func (s *Server) apiImportCohort(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !currentAdmin(r).CanEdit() {
		web.Error(w, r, veedel.Errorf(veedel.EFORBIDDEN, "%s", ui.Translate("de", "admin.forbidden")+" / "+ui.Translate("en", "admin.forbidden")))
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || (mt != "text/csv" && mt != "application/csv") {
		web.JSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "Bitte als text/csv senden (UTF-8, „;“-getrennt) / please send text/csv (UTF-8, separated by „;“)"})
		return
	}
	year, err := s.schoolYear(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	res, _, err := s.importCohort(w, r, r.Body, year)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, res)
}

// importCohort reads and imports a register file of at most
// maxCohortBytes.
func (s *Server) importCohort(w http.ResponseWriter, r *http.Request, body io.Reader, year int) (central.CohortResult, []central.Invitation, error) {
	rows, rejected, err := central.ReadCohortCSV(http.MaxBytesReader(w, io.NopCloser(body), maxCohortBytes))
	if err != nil {
		if _, big := errors.AsType[*http.MaxBytesError](err); big {
			err = veedel.Errorf(veedel.EINVALID, "Die Datei ist größer als %d MiB: bitte teilen / the file is larger than %d MiB: please split it", maxCohortBytes>>20, maxCohortBytes>>20)
		}
		return central.CohortResult{}, nil, err
	}
	return s.Central.ImportCohort(r.Context(), year, rows, rejected)
}

// apiExamStatistics answers a school year's tables (GET
// /api/v1/exam/statistics?year=, admins), small cells suppressed.
func (s *Server) apiExamStatistics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.URL.Query().Get("year") == "" {
		web.Error(w, r, veedel.Errorf(veedel.EINVALID, "Bitte das Schuljahr angeben: ?year=2027 für 2027/28 / please give the school year: ?year=2027 for 2027/28"))
		return
	}
	year, err := s.schoolYear(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, s.Central.ExamReport(year))
}
