package server

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/ui"
	"github.com/veedel/veedel/workflow"
)

// The exam staff's pages at the desk: the day list, a child's record with
// the stations' forms (the assistant's), and the doctor's sign-off. Only a
// doctor or an assistant opens them; everyone else gets 403 and the
// attempt is audited, like every read and change (exams.go).

// deskExamRoutes adds the pages to the desk's (logged-in) router.
func (s *Server) deskExamRoutes(r chi.Router) {
	r.Get("/desk/exams", s.deskExams)
	r.Get("/desk/exams/audit.csv", s.deskExamAudit)
	r.Get("/desk/exams/schools.csv", s.deskExamSchools)
	r.Get("/desk/exams/{id}", s.deskExam)
	r.Post("/desk/exams/{id}/record", s.deskExamRecord)
	r.Get("/desk/exams/{id}/sign-off", s.deskExamSignOffForm)
	r.Post("/desk/exams/{id}/sign-off", s.deskExamSignOff)
	r.Get("/desk/exams/{id}/report.pdf", s.deskExamReport)
	r.Get("/desk/exams/{id}/school.pdf", s.deskExamSchool)
}

// deskExamStaff lets exam staff through; others get a 403 page.
func (s *Server) deskExamStaff(w http.ResponseWriter, r *http.Request) (sqlite.User, bool) {
	u := session(r).User
	if !sqlite.SeesHealthData(u.Role) {
		s.audit(r.Context(), u, exam.AuditDenied, chi.URLParam(r, "id"), web.Route(r))
		s.renderError(w, r, veedel.Errorf(veedel.EFORBIDDEN, "Nur für das Untersuchungsteam (Ärztin/Arzt, Assistenz): Gesundheitsdaten sind für andere Konten nicht sichtbar / exam staff only: health data is not shown to other accounts"))
		return u, false
	}
	return u, true
}

type examsPage struct {
	SiteName string
	Day      string
	Exams    []exam.Entry
	Doctor   bool
}

// deskExams: GET /desk/exams?day=.
func (s *Server) deskExams(w http.ResponseWriter, r *http.Request) {
	u, ok := s.deskExamStaff(w, r)
	if !ok {
		return
	}
	lang := ui.Lang(w, r)
	day := r.URL.Query().Get("day")
	if day == "" {
		day = s.today()
	} else if _, err := time.Parse(time.DateOnly, day); err != nil {
		s.renderError(w, r, veedel.Errorf(veedel.EINVALID, "Datum JJJJ-MM-TT / date YYYY-MM-DD"))
		return
	}
	list, err := s.examDayList(r.Context(), day)
	if err == nil {
		err = s.audit(r.Context(), u, exam.AuditList, "", fmt.Sprintf("day=%s n=%d", day, len(list)))
	}
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	p := examsPage{Day: day, Exams: list, Doctor: u.Role == sqlite.RoleDoctor}
	s.Store.View(func(st *queue.State) { p.SiteName = st.Site.Name })
	w.Header().Set("Cache-Control", "no-store")
	s.Renderer.Render(w, http.StatusOK, "desk_exams", ui.Page{Lang: lang, Title: ui.Translate(lang, "exams.title") + " · " + p.SiteName,
		Surface: "desk", Path: r.URL.Path, Data: p})
}

// examPage is a child's record with its forms.
type examPage struct {
	SiteName string
	Rec      *exam.Record
	Doctor   bool
	// Form holds the values of a refused form as sent (by input name),
	// Fields its faults (by input name).
	Form, Fields map[string]string
	Section      string // the refused form's section
	// Recorded are the record's values by input name.
	Recorded map[string]string
	// Scale: the site has a scale, the measurement form offers it.
	Scale bool

	Domains      []string
	SOPESS       map[string]exam.SOPESSDomain
	Vaccines     []string
	Frequencies  []int
	Areas        []string
	Sides        []string
	Recommends   []string
	SupportNeeds []string
	AgeMonths    int
	// Booked is the time of the parents' online booking (zero for
	// none), in the site's time zone.
	Booked time.Time
	loc    *time.Location // the site's
}

// formField is one input as the page shows it.
type formField struct {
	Name, Value, Error string
	Checked            bool
}

// F is the input name: the refused form's value (else the record's) and
// its fault.
func (p examPage) F(name string) formField {
	f := formField{Name: name, Value: p.Recorded[name], Error: p.Fields[name]}
	if v, ok := p.Form[name]; ok {
		f.Value = v
	}
	f.Checked = f.Value != ""
	return f
}

// recordedValues are a record's values by the forms' input names.
func recordedValues(r *exam.Record) map[string]string {
	v := map[string]string{}
	num := func(name string, f *float64) {
		if f != nil {
			v[name] = strconv.FormatFloat(*f, 'f', -1, 64)
		}
	}
	if m := r.Measurement; m != nil {
		num("height_cm", &m.HeightCM)
		num("weight_kg", &m.WeightKG)
	}
	if e := r.Vision; e != nil {
		num("vision_right_without", e.Right.Without)
		num("vision_right_with", e.Right.With)
		num("vision_left_without", e.Left.Without)
		num("vision_left_with", e.Left.With)
		if e.Glasses {
			v["vision_glasses"] = "1"
		}
	}
	if h := r.Hearing; h != nil {
		for hz, db := range h.Right {
			v[fmt.Sprintf("hearing_right_%d", hz)] = strconv.Itoa(db)
		}
		for hz, db := range h.Left {
			v[fmt.Sprintf("hearing_left_%d", hz)] = strconv.Itoa(db)
		}
		if h.Aid {
			v["hearing_aid"] = "1"
		}
	}
	for d, sc := range r.SOPESS {
		for i, n := range sc.Items {
			v[fmt.Sprintf("sopess_%s_%d", d, i)] = strconv.Itoa(n)
		}
	}
	if c := r.Vaccination; c != nil {
		for a, n := range c.Doses {
			v["vaccinations_doses_"+a] = strconv.Itoa(n)
		}
		if c.Shown {
			v["impfpass_shown"] = "1"
		}
		if c.MeaslesImmunity {
			v["measles_immunity"] = "1"
		}
	}
	for _, n := range r.Findings {
		v["finding_"+n.Area] = n.Text
	}
	if so := r.SignOff; so != nil {
		v["recommendation"] = so.Recommendation
		v["referrals"] = strings.Join(so.Referrals, "\n")
		v["note"] = so.Note
	}
	return v
}

// sopessItem is one item input of a domain, N counting from 1.
type sopessItem struct {
	Name string
	N    int
}

// ItemNames are a SOPESS domain's item inputs.
func (p examPage) ItemNames(domain string) []sopessItem {
	out := make([]sopessItem, p.SOPESS[domain].Items)
	for i := range out {
		out[i] = sopessItem{Name: fmt.Sprintf("sopess_%s_%d", domain, i), N: i + 1}
	}
	return out
}

// Result is a SOPESS domain's recorded score, if any.
func (p examPage) Result(domain string) *exam.DomainScore {
	if s, ok := p.Rec.SOPESS[domain]; ok {
		return &s
	}
	return nil
}

// SubmittedAt is when the parents sent the questionnaire (Unix
// milliseconds) in the site's time zone; the page writes it in its
// language (ui.Page.DateTime).
func (p examPage) SubmittedAt(ms int64) time.Time {
	return time.UnixMilli(ms).In(p.loc)
}

// Supports reports whether the signed-off record names a support need.
func (p examPage) Supports(need string) bool {
	return p.Rec.SignOff != nil && slices.Contains(p.Rec.SignOff.Support, need)
}

// examPageOf opens the record for u (openExam: the read audited as
// action, detail) and makes its page.
func (s *Server) examPageOf(r *http.Request, u sqlite.User, id, action, detail string) (examPage, error) {
	rec, err := s.openExam(r.Context(), u, id, action, detail)
	if err != nil {
		return examPage{}, err
	}
	p := examPage{Rec: rec, Doctor: u.Role == sqlite.RoleDoctor, Domains: exam.Domains, SOPESS: exam.SOPESSDomains(), Vaccines: exam.Vaccines,
		Frequencies: exam.HearingFrequencies, Areas: exam.Areas, Sides: []string{"right", "left"}, Recommends: exam.Recommendations, SupportNeeds: exam.SupportNeeds}
	p.AgeMonths, _ = exam.AgeMonths(rec.Person.BirthDate, s.today())
	p.Recorded = recordedValues(rec)
	p.Scale = s.Scale != nil
	p.loc = time.Local
	s.Store.View(func(st *queue.State) {
		p.SiteName = st.Site.Name
		if st.Site.Location != nil {
			p.loc = st.Site.Location
		}
	})
	if rec.Child != "" {
		a, err := appointment.ForRecord(r.Context(), s.Store.Read(), rec.Child)
		if err != nil {
			return examPage{}, err
		}
		if a != nil {
			p.Booked = a.Start.In(p.loc)
		}
	}
	return p, nil
}

// deskExam: GET /desk/exams/{id}.
func (s *Server) deskExam(w http.ResponseWriter, r *http.Request) {
	u, ok := s.deskExamStaff(w, r)
	if !ok {
		return
	}
	lang := ui.Lang(w, r)
	id := chi.URLParam(r, "id")
	p, err := s.examPageOf(r, u, id, exam.AuditRead, "")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	flash := ""
	if done := r.URL.Query().Get("done"); done != "" && slices.Contains(examSections, done) {
		flash = ui.Translate(lang, "exams.saved")
	}
	if r.URL.Query().Get("scale") == "1" {
		// "Von der Waage übernehmen": the scale's stable reading fills
		// the form, unsaved; the assistant looks at it and saves.
		rd, err := s.readScale(r.Context())
		if err != nil {
			p.Section, p.Fields = "measurement", map[string]string{"weight_kg": veedel.ErrorMessage(err)}
			s.renderExam(w, r, http.StatusOK, "desk_exam", p, "", veedel.ErrorMessage(err))
			return
		}
		p.Form = map[string]string{"weight_kg": strconv.FormatFloat(rd.WeightKG, 'f', -1, 64), "device": "seca"}
		if rd.HeightCM != nil {
			p.Form["height_cm"] = strconv.FormatFloat(*rd.HeightCM, 'f', -1, 64)
		}
		flash = ui.Translate(lang, "exams.scale.taken")
	}
	s.renderExam(w, r, http.StatusOK, "desk_exam", p, flash, "")
}

func (s *Server) renderExam(w http.ResponseWriter, r *http.Request, status int, page string, p examPage, flash, errMsg string) {
	lang := ui.Lang(w, r)
	w.Header().Set("Cache-Control", "no-store")
	title := ui.Translate(lang, "exams.record.title", p.Rec.Person.GivenNames+" "+p.Rec.Person.FamilyName)
	if page == "desk_exam_signoff" {
		title = ui.Translate(lang, "exams.signoff.title", p.Rec.Person.GivenNames+" "+p.Rec.Person.FamilyName)
	}
	s.Renderer.Render(w, status, page, ui.Page{Lang: lang, Title: title + " · " + p.SiteName,
		Surface: "desk", Path: r.URL.Path, Flash: flash, Error: errMsg, Data: p})
}

// examSections are the stations' forms.
var examSections = []string{"measurement", "vision", "hearing", "sopess", "vaccinations", "findings", "signoff"}

// number parses a form's decimal (comma or point); nil when empty.
func number(fe veedel.FieldErrors, form url.Values, name string) *float64 {
	v := strings.TrimSpace(form.Get(name))
	if v == "" {
		return nil
	}
	f, err := strconv.ParseFloat(strings.Replace(v, ",", ".", 1), 64)
	if err != nil {
		fe.Add(name, "Bitte eine Zahl / a number please")
		return nil
	}
	return &f
}

func integer(fe veedel.FieldErrors, form url.Values, name string) (int, bool) {
	v := strings.TrimSpace(form.Get(name))
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		fe.Add(name, "Bitte eine ganze Zahl / a whole number please")
		return 0, false
	}
	return n, true
}

// inputOf turns a station's form into exam.Input; fe collects what does
// not parse, by input name.
func inputOf(section string, form url.Values, fe veedel.FieldErrors) exam.Input {
	var in exam.Input
	switch section {
	case "measurement":
		in.HeightCM, in.WeightKG = number(fe, form, "height_cm"), number(fe, form, "weight_kg")
		if in.HeightCM == nil {
			fe.Add("height_cm", "Pflichtangabe / required")
		}
		if in.WeightKG == nil {
			fe.Add("weight_kg", "Pflichtangabe / required")
		}
		if form.Get("device") == "seca" {
			in.Device = "seca"
		}
	case "vision":
		in.Vision = &exam.VisionInput{Glasses: form.Get("vision_glasses") != ""}
		in.Vision.Right.Without = number(fe, form, "vision_right_without")
		in.Vision.Right.With = number(fe, form, "vision_right_with")
		in.Vision.Left.Without = number(fe, form, "vision_left_without")
		in.Vision.Left.With = number(fe, form, "vision_left_with")
	case "hearing":
		in.Hearing = &exam.HearingInput{Right: map[string]int{}, Left: map[string]int{}, HearingAid: form.Get("hearing_aid") != ""}
		for _, side := range []string{"right", "left"} {
			ear := in.Hearing.Right
			if side == "left" {
				ear = in.Hearing.Left
			}
			for _, hz := range exam.HearingFrequencies {
				if n, ok := integer(fe, form, fmt.Sprintf("hearing_%s_%d", side, hz)); ok {
					ear[strconv.Itoa(hz)] = n
				}
			}
		}
	case "sopess":
		in.SOPESS = map[string][]int{}
		for _, d := range exam.Domains {
			spec := exam.SOPESSDomains()[d]
			items, given := make([]int, spec.Items), 0
			for i := range items {
				if n, ok := integer(fe, form, fmt.Sprintf("sopess_%s_%d", d, i)); ok {
					items[i], given = n, given+1
				}
			}
			switch {
			case given == spec.Items:
				in.SOPESS[d] = items
			case given > 0:
				fe.Add("sopess_"+d, "Bitte alle Aufgaben des Bereichs / all items of the domain please")
			}
		}
		if len(in.SOPESS) == 0 && len(fe) == 0 {
			fe.Add("sopess", "Bitte mindestens einen Bereich / at least one domain please")
		}
	case "vaccinations":
		in.Vaccinations = &exam.VaccinationInput{Shown: form.Get("impfpass_shown") != "", MeaslesImmunity: form.Get("measles_immunity") != "", Doses: map[string]int{}}
		for _, a := range exam.Vaccines {
			if n, ok := integer(fe, form, "vaccinations_doses_"+a); ok {
				in.Vaccinations.Doses[a] = n
			}
		}
	case "findings":
		notes := []exam.Note{}
		for _, area := range exam.Areas {
			if t := strings.TrimSpace(form.Get("finding_" + area)); t != "" {
				notes = append(notes, exam.Note{Area: area, Text: t})
			}
		}
		in.Findings = &notes
	}
	return in
}

// fieldName maps a command's JSON path to the form's input name.
func fieldName(path string, in exam.Input) string {
	name := strings.ReplaceAll(path, ".", "_")
	if strings.HasPrefix(name, "findings_") {
		parts := strings.Split(path, ".")
		if len(parts) >= 2 && in.Findings != nil {
			if i, err := strconv.Atoi(parts[1]); err == nil && i < len(*in.Findings) {
				return "finding_" + (*in.Findings)[i].Area
			}
		}
	}
	return name
}

// deskExamRecord: POST /desk/exams/{id}/record with section and the
// station's inputs.
func (s *Server) deskExamRecord(w http.ResponseWriter, r *http.Request) {
	u, ok := s.deskExamStaff(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxExamBody)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	id, section := chi.URLParam(r, "id"), r.PostForm.Get("section")
	if !slices.Contains(examSections[:6], section) {
		s.renderError(w, r, veedel.Errorf(veedel.EINVALID, "Unbekannter Abschnitt / unknown section"))
		return
	}
	fe := veedel.FieldErrors{}
	in := inputOf(section, r.PostForm, fe)
	var err error
	if len(fe) > 0 {
		err = fe.Err("Bitte die markierten Angaben prüfen / please check the marked fields")
	} else {
		_, err = s.Store.ExecuteTx(r.Context(), func(st *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
			c := exam.Command{Env: s.Store.Env(), At: at, Day: st.DayOf(at), Staff: u.Name, Role: u.Role}
			return c.Record(r.Context(), q, id, in)
		})
	}
	if err != nil {
		s.examFormError(w, r, u, id, section, "desk_exam", err, in)
		return
	}
	s.audit(r.Context(), u, exam.AuditRecord, id, section)
	http.Redirect(w, r, "/desk/exams/"+url.PathEscape(id)+"?done="+section+"#"+section, http.StatusSeeOther)
}

// examFormError shows the page again with the refused form and its faults.
func (s *Server) examFormError(w http.ResponseWriter, r *http.Request, u sqlite.User, id, section, page string, err error, in exam.Input) {
	if veedel.ErrorCode(err) == veedel.EFORBIDDEN {
		s.audit(r.Context(), u, exam.AuditDenied, id, section)
	}
	if veedel.ErrorCode(err) != veedel.EINVALID {
		s.renderError(w, r, err)
		return
	}
	p, perr := s.examPageOf(r, u, id, exam.AuditRead, "refused "+section)
	if perr != nil {
		s.renderError(w, r, perr)
		return
	}
	lang := ui.Lang(w, r)
	p.Section, p.Form, p.Fields = section, map[string]string{}, map[string]string{}
	for k, v := range r.PostForm {
		p.Form[k] = v[0]
	}
	for path, msg := range veedel.ErrorFields(err) {
		p.Fields[fieldName(path, in)] = sentence(ui.InLang(lang, msg))
	}
	s.renderExam(w, r, web.Status(err), page, p, "", sentence(ui.InLang(lang, veedel.ErrorMessage(err))))
}

// deskExamSignOffForm: GET /desk/exams/{id}/sign-off (the doctor's page).
func (s *Server) deskExamSignOffForm(w http.ResponseWriter, r *http.Request) {
	u, ok := s.deskExamStaff(w, r)
	if !ok {
		return
	}
	id := chi.URLParam(r, "id")
	if u.Role != sqlite.RoleDoctor {
		s.audit(r.Context(), u, exam.AuditDenied, id, "sign_off")
		s.renderError(w, r, veedel.Errorf(veedel.EFORBIDDEN, "Nur die Ärztin/der Arzt zeichnet ab / only the doctor signs off"))
		return
	}
	p, err := s.examPageOf(r, u, id, exam.AuditRead, "sign_off")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.renderExam(w, r, http.StatusOK, "desk_exam_signoff", p, "", "")
}

// deskExamSignOff: POST /desk/exams/{id}/sign-off.
func (s *Server) deskExamSignOff(w http.ResponseWriter, r *http.Request) {
	u, ok := s.deskExamStaff(w, r)
	if !ok {
		return
	}
	id := chi.URLParam(r, "id")
	if u.Role != sqlite.RoleDoctor {
		s.audit(r.Context(), u, exam.AuditDenied, id, "sign_off")
		s.renderError(w, r, veedel.Errorf(veedel.EFORBIDDEN, "Nur die Ärztin/der Arzt zeichnet ab / only the doctor signs off"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxExamBody)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	in := exam.SignOffInput{Recommendation: r.PostForm.Get("recommendation"), Support: r.PostForm["support"], Note: r.PostForm.Get("note")}
	for _, line := range strings.Split(r.PostForm.Get("referrals"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			in.Referrals = append(in.Referrals, line)
		}
	}
	_, err := s.Store.ExecuteTx(r.Context(), func(st *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
		c := exam.Command{Env: s.Store.Env(), At: at, Day: st.DayOf(at), Staff: u.Name, Role: u.Role}
		return c.SignOff(r.Context(), q, id, in)
	})
	if err != nil {
		if veedel.ErrorCode(err) == veedel.ECONFLICT {
			p, perr := s.examPageOf(r, u, id, exam.AuditRead, "refused sign_off")
			if perr != nil {
				s.renderError(w, r, perr)
				return
			}
			lang := ui.Lang(w, r)
			s.renderExam(w, r, http.StatusConflict, "desk_exam_signoff", p, "", sentence(ui.InLang(lang, veedel.ErrorMessage(err))))
			return
		}
		s.examFormError(w, r, u, id, "signoff", "desk_exam_signoff", err, exam.Input{})
		return
	}
	s.audit(r.Context(), u, exam.AuditSignOff, id, "")
	http.Redirect(w, r, "/desk/exams/"+url.PathEscape(id)+"?done=signoff", http.StatusSeeOther)
}

// deskExamAudit: GET /desk/exams/audit.csv for the lead or admin (the
// data-protection officer's export), as the API's.
func (s *Server) deskExamAudit(w http.ResponseWriter, r *http.Request) {
	u := session(r).User
	if !mayConfigure(u) {
		s.audit(r.Context(), u, exam.AuditDenied, "", "audit_export")
		s.renderError(w, r, veedel.Errorf(veedel.EFORBIDDEN, "Das Protokoll exportiert die Leitung (Datenschutz) / the lead exports the audit log"))
		return
	}
	s.exportAudit(w, r, u)
}
