package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/ui"
)

// The admin page of the school-entry exams (/admin/exam): the cohort's
// import (the register's CSV, with the invitation letters as one PDF on
// request), the district→site table, and the cohort's size per site and
// district. The statistics are admin_exam_stats.go. Importing and
// assigning districts takes the admin role; technicians see the page.

type examPageData struct {
	Frame     adminFrame
	Year      int
	YearLabel string // "2027/28"
	Years     []int
	Districts []central.ExamDistrict
	Sites     []central.Site
	Default   string // the default site's name, "" when there is none
	Summary   []central.CohortSummary
	Total     int
	Result    *central.CohortResult
	District  string // the district form's value after an error
	// Kept are the children moved to another site whose old site kept
	// them, examined there already.
	Kept []exam.KeptChild
}

func (s *Server) examPage(w http.ResponseWriter, r *http.Request, status int, year int, res *central.CohortResult, errMsg, flash, district string) {
	ctx := r.Context()
	d := examPageData{Frame: s.frame(r, "exam"), Year: year, YearLabel: yearLabel(year), Years: s.Central.ExamYears(), Result: res, District: district}
	var err error
	if d.Districts, err = s.Central.ExamDistricts(ctx); err == nil {
		if d.Sites, err = s.Central.SchoolHealthSites(ctx); err == nil {
			d.Summary, err = s.Central.CohortSummaries(ctx, year)
		}
	}
	if err != nil {
		s.renderAdminError(w, r, err)
		return
	}
	if len(d.Sites) == 1 {
		d.Default = d.Sites[0].Name
	}
	d.Kept = s.Central.ExamKept(year)
	for _, c := range d.Summary {
		d.Total += c.Children
	}
	s.renderAdminAt(w, r, "/admin/exam", status, "admin_exam", "admin.exam.title", errMsg, flash, d)
}

func (s *Server) adminExam(w http.ResponseWriter, r *http.Request) {
	year, err := s.schoolYear(r)
	if err != nil {
		s.renderAdminError(w, r, err)
		return
	}
	s.examPage(w, r, http.StatusOK, year, nil, "", "", "")
}

// adminExamCohort takes the import form (multipart: year, letters, file).
// The file is read into memory, never onto disk: it holds the register's
// personal data.
func (s *Server) adminExamCohort(w http.ResponseWriter, r *http.Request) {
	lang := ui.Lang(w, r)
	year := central.SchoolYear(s.now().In(cologne))
	fail := func(status int, msg string) { s.examPage(w, r, status, year, nil, msg, "", "") }
	r.Body = http.MaxBytesReader(w, r.Body, maxCohortBytes+64<<10)
	mr, err := r.MultipartReader()
	if err != nil {
		fail(http.StatusBadRequest, ui.Translate(lang, "cohort.import.unreadable"))
		return
	}
	var file []byte
	letters, gotFile, yearText := false, false, ""
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fail(http.StatusBadRequest, ui.Translate(lang, "cohort.import.unreadable"))
			return
		}
		switch part.FormName() {
		case "file":
			gotFile = part.FileName() != ""
			file, err = io.ReadAll(part)
		case "year":
			var b []byte
			b, err = io.ReadAll(io.LimitReader(part, 16))
			yearText = string(b)
		case "letters":
			letters = true
		}
		if err != nil {
			fail(http.StatusBadRequest, ui.Translate(lang, "cohort.import.toolarge"))
			return
		}
	}
	if yearText != "" {
		y, err := central.ParseSchoolYear(yearText)
		if err != nil {
			fail(http.StatusBadRequest, veedel.ErrorMessage(err))
			return
		}
		year = y
	}
	if !gotFile || len(file) == 0 {
		fail(http.StatusBadRequest, ui.Translate(lang, "cohort.import.nofile"))
		return
	}
	res, invites, err := s.importCohort(w, r, bytes.NewReader(file), year)
	clear(file)
	if err != nil {
		if veedel.ErrorCode(err) == veedel.EINTERNAL {
			s.renderAdminError(w, r, err)
			return
		}
		fail(http.StatusBadRequest, veedel.ErrorMessage(err))
		return
	}
	if letters && len(invites) > 0 {
		doc, err := s.invitationLetters(r, res, invites)
		if err == nil {
			serveLetters(w, year, doc)
			return
		}
		s.examPage(w, r, http.StatusOK, year, &res, veedel.ErrorMessage(err), "", "")
		return
	}
	s.examPage(w, r, http.StatusOK, year, &res, "", ui.Translate(lang, "cohort.import.done"), "")
}

// adminExamDistrict assigns a district to a site, or with no site takes
// it out of the table (POST-redirect-GET).
func (s *Server) adminExamDistrict(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	year := central.SchoolYear(s.now().In(cologne))
	if err := r.ParseForm(); err != nil {
		s.examPage(w, r, http.StatusBadRequest, year, nil, "Formular unlesbar / unreadable form", "", "")
		return
	}
	district, site := r.PostForm.Get("district"), r.PostForm.Get("site")
	if err := s.Central.SetExamDistrict(r.Context(), district, site); err != nil {
		msg := veedel.ErrorMessage(err)
		for _, m := range veedel.ErrorFields(err) {
			msg = m
		}
		if veedel.ErrorCode(err) == veedel.EINTERNAL {
			s.renderAdminError(w, r, err)
			return
		}
		s.examPage(w, r, http.StatusBadRequest, year, nil, msg, "", district)
		return
	}
	http.Redirect(w, r, "/admin/exam?year="+strconv.Itoa(year)+"#districts", http.StatusSeeOther)
}

// yearLabel names a school year: "2027/28".
func yearLabel(year int) string { return fmt.Sprintf("%d/%02d", year, (year+1)%100) }
