package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/internal/login"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/workflow"
)

// The school-entry exam's API (appliance/exam) for the exam staff: the
// day list, a child's record, what the stations record and the doctor's
// sign-off. Only a doctor or an assistant sees health data; every read
// and change of a child's record, and every refused attempt, goes into the
// site's audit log, which the lead or admin (the data-protection
// officer's login) exports as CSV without seeing any health data.

// examRoutes adds the routes to the /api/v1 router.
func (s *Server) examRoutes(r chi.Router) {
	r.Get("/exams", s.apiExams)
	r.Post("/exams", s.apiExamRegister)
	r.Get("/exams/audit.csv", s.apiExamAudit)
	r.Get("/exams/{id}", s.apiExam)
	r.Post("/exams/{id}/measurements", s.apiExamRecord)
	r.Post("/exams/{id}/schedule", s.apiExamSchedule)
	r.Post("/exams/{id}/sign-off", s.apiExamSignOff)
}

// MaxExamBody bounds an exam POST.
const MaxExamBody = 32 << 10

// staffUser authenticates a request with HTTP Basic like staff, and
// returns the account with its role.
func (s *Server) staffUser(w http.ResponseWriter, r *http.Request) (sqlite.User, bool) {
	name, password, ok := r.BasicAuth()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="veedel desk", charset="UTF-8"`)
		web.Error(w, r, veedel.Errorf(veedel.EUNAUTHORIZED, "staff credentials required (HTTP Basic)"))
		return sqlite.User{}, false
	}
	u, err := s.Store.Authenticate(r.Context(), login.Attempt{Name: name, Password: password, Client: r.RemoteAddr, Via: login.ViaBasic})
	if th, ok := login.RetryAfter(err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(th.Seconds()))
		web.JSON(w, http.StatusTooManyRequests, map[string]string{"error": veedel.ErrorMessage(err)})
		return sqlite.User{}, false
	} else if err != nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="veedel desk", charset="UTF-8"`)
		web.Error(w, r, err)
		return sqlite.User{}, false
	}
	return u, true
}

// examStaff authenticates exam staff (doctor or assistant); anyone else
// gets 403, and the attempt is audited.
func (s *Server) examStaff(w http.ResponseWriter, r *http.Request) (sqlite.User, bool) {
	u, ok := s.staffUser(w, r)
	if !ok {
		return u, false
	}
	if !sqlite.SeesHealthData(u.Role) {
		s.audit(r.Context(), u, exam.AuditDenied, chi.URLParam(r, "id"), web.Route(r))
		web.Error(w, r, veedel.Errorf(veedel.EFORBIDDEN, "Nur für das Untersuchungsteam (Ärztin/Arzt, Assistenz): Gesundheitsdaten sind für andere Konten nicht sichtbar / exam staff only: health data is not shown to other accounts"))
		return u, false
	}
	return u, true
}

// audit writes a line of the audit log; a failure is logged (the answer
// has been decided) but the request fails when the line is for a read
// that must not happen unaudited (auditRead).
func (s *Server) audit(ctx context.Context, u sqlite.User, action, id, detail string) error {
	err := exam.Audit(context.WithoutCancel(ctx), s.Store.Writer(), s.now(), u.Name, u.Role, action, id, detail)
	if err != nil {
		s.Logger.Error("exam audit failed", "action", action, "err", err)
	}
	return err
}

// openExam opens an exam's record for u and audits the read (action,
// detail): the one way the API and the desk's pages read a child's record.
// The record is returned only once the read is in the audit log; a read
// that cannot be audited fails.
func (s *Server) openExam(ctx context.Context, u sqlite.User, id, action, detail string) (*exam.Record, error) {
	rec, err := exam.Get(ctx, s.Store.Read(), id)
	if err != nil {
		return nil, err
	}
	if err := s.audit(ctx, u, action, id, detail); err != nil {
		return nil, err
	}
	return rec, nil
}

// today is the site's business day now.
func (s *Server) today() string {
	var day string
	now := s.now()
	s.Store.View(func(st *queue.State) { day = st.DayOf(now) })
	return day
}

// examDay is the day list.
type examDay struct {
	Day   string       `json:"day"`
	Exams []exam.Entry `json:"exams"`
}

// apiExams: GET /api/v1/exams?day=YYYY-MM-DD (today when left out).
func (s *Server) apiExams(w http.ResponseWriter, r *http.Request) {
	u, ok := s.examStaff(w, r)
	if !ok {
		return
	}
	day := r.URL.Query().Get("day")
	if day == "" {
		day = s.today()
	} else if _, err := time.Parse(time.DateOnly, day); err != nil {
		web.Error(w, r, &veedel.Error{Code: veedel.EINVALID, Message: "Datum JJJJ-MM-TT / date YYYY-MM-DD", Fields: map[string]string{"day": "YYYY-MM-DD"}})
		return
	}
	list, err := s.examDayList(r.Context(), day)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	if err := s.audit(r.Context(), u, exam.AuditList, "", fmt.Sprintf("day=%s n=%d", day, len(list))); err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	web.JSON(w, http.StatusOK, examDay{Day: day, Exams: list})
}

// examDayList is the day's exams with the queue numbers of the children
// checked in that day (also those without an appointment that day).
func (s *Server) examDayList(ctx context.Context, day string) ([]exam.Entry, error) {
	tickets := map[string]string{}  // by exam id: checked in with the invitation's code
	bookings := map[string]string{} // by booking code: checked in with the online booking's
	loc := time.Local
	s.Store.View(func(st *queue.State) {
		if st.Site.Location != nil {
			loc = st.Site.Location
		}
		for _, t := range st.Tickets {
			switch {
			case t.Day != day:
			case strings.HasPrefix(t.Ref, "exam/"):
				tickets[strings.TrimPrefix(t.Ref, "exam/")] = t.Number
			case t.Booking != "":
				bookings[t.Booking] = t.Number
			}
		}
	})
	also := make([]string, 0, len(tickets))
	for id := range tickets {
		also = append(also, id)
	}
	list, err := exam.Day(ctx, s.Store.Read(), day, loc, also)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i].Ticket = tickets[list[i].ID]
		if n, ok := bookings[list[i].Booking]; ok && list[i].Booking != "" && list[i].Ticket == "" {
			list[i].Ticket = n
		}
	}
	return list, nil
}

// apiExam: GET /api/v1/exams/{id}: the child's whole record.
func (s *Server) apiExam(w http.ResponseWriter, r *http.Request) {
	u, ok := s.examStaff(w, r)
	if !ok {
		return
	}
	rec, err := s.openExam(r.Context(), u, chi.URLParam(r, "id"), exam.AuditRead, "")
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	web.JSON(w, http.StatusOK, rec)
}

// examCommand runs an exam command and answers with the record.
func (s *Server) examCommand(w http.ResponseWriter, r *http.Request, u sqlite.User, id, action, detail string, decide func(c exam.Command, q workflow.Querier) ([]workflow.Event, error)) {
	_, err := s.Store.ExecuteTx(r.Context(), func(st *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
		c := exam.Command{Env: s.Store.Env(), At: at, Day: st.DayOf(at), Staff: u.Name, Role: u.Role}
		return decide(c, q)
	})
	if err != nil {
		if veedel.ErrorCode(err) == veedel.EFORBIDDEN {
			s.audit(r.Context(), u, exam.AuditDenied, id, action)
		}
		web.Error(w, r, err)
		return
	}
	if err := s.audit(r.Context(), u, action, id, detail); err != nil {
		web.Error(w, r, err)
		return
	}
	rec, err := exam.Get(r.Context(), s.Store.Read(), id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	web.JSON(w, http.StatusOK, rec)
}

// apiExamRecord: POST /api/v1/exams/{id}/measurements with any of
// height_cm and weight_kg (together), vision, hearing, sopess,
// vaccinations and findings (the doctor's).
func (s *Server) apiExamRecord(w http.ResponseWriter, r *http.Request) {
	u, ok := s.examStaff(w, r)
	if !ok {
		return
	}
	var in exam.Input
	r.Body = http.MaxBytesReader(w, r.Body, MaxExamBody)
	if err := web.DecodeJSON(r, &in); err != nil {
		web.Error(w, r, err)
		return
	}
	var parts []string
	for _, p := range []struct {
		name string
		ok   bool
	}{{"measurement", in.HeightCM != nil || in.WeightKG != nil}, {"vision", in.Vision != nil}, {"hearing", in.Hearing != nil},
		{"sopess", len(in.SOPESS) > 0}, {"vaccinations", in.Vaccinations != nil}, {"findings", in.Findings != nil}} {
		if p.ok {
			parts = append(parts, p.name)
		}
	}
	id := chi.URLParam(r, "id")
	s.examCommand(w, r, u, id, exam.AuditRecord, strings.Join(parts, ","), func(c exam.Command, q workflow.Querier) ([]workflow.Event, error) {
		return c.Record(r.Context(), q, id, in)
	})
}

// apiExamSchedule: POST /api/v1/exams/{id}/schedule {"day","slot"}.
func (s *Server) apiExamSchedule(w http.ResponseWriter, r *http.Request) {
	u, ok := s.examStaff(w, r)
	if !ok {
		return
	}
	var in struct {
		Day  string `json:"day"`
		Slot string `json:"slot"`
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := web.DecodeJSON(r, &in); err != nil {
		web.Error(w, r, err)
		return
	}
	id := chi.URLParam(r, "id")
	s.examCommand(w, r, u, id, exam.AuditRecord, "schedule", func(c exam.Command, q workflow.Querier) ([]workflow.Event, error) {
		return c.Schedule(r.Context(), q, id, in.Day, in.Slot)
	})
}

// apiExamSignOff: POST /api/v1/exams/{id}/sign-off (doctor only)
// {"recommendation","support":[…],"referrals":[…],"note"}.
func (s *Server) apiExamSignOff(w http.ResponseWriter, r *http.Request) {
	u, ok := s.examStaff(w, r)
	if !ok {
		return
	}
	id := chi.URLParam(r, "id")
	if u.Role != sqlite.RoleDoctor {
		s.audit(r.Context(), u, exam.AuditDenied, id, "sign_off")
		web.Error(w, r, veedel.Errorf(veedel.EFORBIDDEN, "Nur die Ärztin/der Arzt zeichnet ab / only the doctor signs off"))
		return
	}
	var in exam.SignOffInput
	r.Body = http.MaxBytesReader(w, r.Body, MaxExamBody)
	if err := web.DecodeJSON(r, &in); err != nil {
		web.Error(w, r, err)
		return
	}
	s.examCommand(w, r, u, id, exam.AuditSignOff, "", func(c exam.Command, q workflow.Querier) ([]workflow.Event, error) {
		return c.SignOff(r.Context(), q, id, in)
	})
}

// apiExamRegister: POST /api/v1/exams registers a child at the desk (not
// in central's cohort) → 201 {"id"}.
func (s *Server) apiExamRegister(w http.ResponseWriter, r *http.Request) {
	u, ok := s.examStaff(w, r)
	if !ok {
		return
	}
	var in exam.Registration
	r.Body = http.MaxBytesReader(w, r.Body, MaxExamBody)
	if err := web.DecodeJSON(r, &in); err != nil {
		web.Error(w, r, err)
		return
	}
	var id string
	_, err := s.Store.ExecuteTx(r.Context(), func(st *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
		c := exam.Command{Env: s.Store.Env(), At: at, Day: st.DayOf(at), Staff: u.Name, Role: u.Role}
		var evs []workflow.Event
		var err error
		id, evs, err = c.Register(r.Context(), q, in)
		return evs, err
	})
	if err != nil {
		web.Error(w, r, err)
		return
	}
	if err := s.audit(r.Context(), u, exam.AuditRecord, id, "register"); err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, http.StatusCreated, map[string]string{"id": id})
}

// apiExamAudit: GET /api/v1/exams/audit.csv?from=YYYY-MM-DD&to=YYYY-MM-DD
// (both days included; default: the last 30 days) for the lead or admin.
func (s *Server) apiExamAudit(w http.ResponseWriter, r *http.Request) {
	u, ok := s.staffUser(w, r)
	if !ok {
		return
	}
	if u.Role != sqlite.RoleLead && u.Role != sqlite.RoleAdmin {
		s.audit(r.Context(), u, exam.AuditDenied, "", "audit_export")
		web.Error(w, r, veedel.Errorf(veedel.EFORBIDDEN, "Das Protokoll exportiert die Leitung (Datenschutz) / the lead exports the audit log"))
		return
	}
	s.exportAudit(w, r, u)
}

// exportAudit answers the audit log as CSV (from, to: days, both
// included; default the last 30 days).
func (s *Server) exportAudit(w http.ResponseWriter, r *http.Request, u sqlite.User) {
	loc := time.Local
	s.Store.View(func(st *queue.State) {
		if st.Site.Location != nil {
			loc = st.Site.Location
		}
	})
	now := s.now().In(loc)
	from, to := now.AddDate(0, 0, -30), now
	fe := veedel.FieldErrors{}
	for name, dst := range map[string]*time.Time{"from": &from, "to": &to} {
		if v := r.URL.Query().Get(name); v != "" {
			t, err := time.ParseInLocation(time.DateOnly, v, loc)
			if err != nil {
				fe.Add(name, "YYYY-MM-DD")
				continue
			}
			*dst = t
		}
	}
	if err := fe.Err("Datum JJJJ-MM-TT / date YYYY-MM-DD"); err != nil {
		web.Error(w, r, err)
		return
	}
	y, m, d := to.Date()
	end := time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	y, m, d = from.Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, loc)
	if err := s.audit(r.Context(), u, exam.AuditExport, "", start.Format(time.DateOnly)+".."+to.Format(time.DateOnly)); err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="untersuchungen-protokoll.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	if _, err := exam.AuditCSV(r.Context(), s.Store.Read(), start, end, loc, w); err != nil {
		s.Logger.Error("audit export", "err", err)
	}
}
