package server

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/ratelimit"
	"github.com/veedel/veedel/ui"
)

// The parents' page of the school-entry exam (/schuleingang, the address
// on the invitation letter): the booking code, then the parents'
// questionnaire, which goes to the child's site sealed at once (central
// keeps nothing of it), then the way on to the booking of the slot at
// that site (the appointment booking, /termin). The code travels in the
// form's body, never in a URL; wrong codes are throttled per client.

// examCodeLimit bounds wrong codes per client: ten, then one a minute.
var examCodeLimit = ratelimit.Limit{Burst: 10, Every: time.Minute}

const maxParentsForm = 16 << 10

type examCodes struct {
	once sync.Once
	l    *ratelimit.Limiter
}

func (c *examCodes) limiter() *ratelimit.Limiter {
	c.once.Do(func() { c.l = ratelimit.New(examCodeLimit) })
	return c.l
}

// parentsData is what page_exam_parents.html shows.
type parentsData struct {
	Step     string // "code", "questions", "done"
	Code     string
	Site     central.Site
	Year     string
	Booking  string // the booking page of the site
	Errors   map[string]string
	Failure  string
	A        exam.ParentsAnswers
	Checkups []parentsChoice
	Support  []parentsChoice
	Terms    []parentsChoice
}

type parentsChoice struct {
	Value, Label string
	Checked      bool
}

// Err returns the message of a field, "" when fine.
func (d parentsData) Err(field string) string { return d.Errors[field] }

func (s *Server) renderParents(w http.ResponseWriter, r *http.Request, status int, lang string, d parentsData) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Robots-Tag", "noindex, nofollow")
	title := ui.Translate(lang, "portal.exam.title")
	if len(d.Errors) > 0 || d.Failure != "" {
		title = ui.Translate(lang, "portal.order.errors.prefix") + ": " + title
	}
	s.Renderer.Render(w, status, "exam_parents", ui.Page{Lang: lang, Title: title, Surface: "portal", Path: examBookingPath,
		Langs: ui.CitizenLangs, Data: d})
}

func (s *Server) parentsForm(lang string, d parentsData) parentsData {
	for _, u := range exam.ParentsCheckups {
		d.Checkups = append(d.Checkups, parentsChoice{Value: u, Label: u, Checked: slices.Contains(d.A.Checkups, u)})
	}
	for _, t := range exam.ParentsTherapies {
		d.Support = append(d.Support, parentsChoice{Value: t, Label: ui.Translate(lang, "portal.exam.support."+t), Checked: slices.Contains(d.A.Support, t)})
	}
	for _, t := range exam.ParentsBirthTerms {
		d.Terms = append(d.Terms, parentsChoice{Value: t, Label: ui.Translate(lang, "portal.exam.birth."+t), Checked: d.A.BirthTerm == t})
	}
	return d
}

// examParents: GET /schuleingang, the code form.
func (s *Server) examParents(w http.ResponseWriter, r *http.Request) {
	lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
	s.renderParents(w, r, http.StatusOK, lang, parentsData{Step: "code"})
}

// examParentsPost: POST /schuleingang. With only the code it shows the
// questionnaire; with the answers it sends them.
func (s *Server) examParentsPost(w http.ResponseWriter, r *http.Request) {
	lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
	r.Body = http.MaxBytesReader(w, r.Body, maxParentsForm)
	if err := r.ParseForm(); err != nil {
		s.renderParents(w, r, http.StatusBadRequest, lang, parentsData{Step: "code", Failure: ui.Translate(lang, "portal.order.failed")})
		return
	}
	client := ratelimit.ClientKey(r)
	lim := s.examCodes.limiter()
	if ok, _ := lim.Peek(client, s.Central.Now()); !ok {
		s.renderParents(w, r, http.StatusTooManyRequests, lang, parentsData{Step: "code", Failure: ui.Translate(lang, "portal.exam.throttled")})
		return
	}
	code := r.PostForm.Get("code")
	child, err := s.Central.Invitation(r.Context(), code)
	if veedel.ErrorCode(err) == veedel.ENOTFOUND {
		lim.Allow(client, s.Central.Now())
		s.renderParents(w, r, http.StatusNotFound, lang, parentsData{Step: "code", Code: code,
			Errors: map[string]string{"code": ui.Translate(lang, "portal.exam.code.unknown")}})
		return
	} else if err != nil {
		s.Logger.Error("exam invitation", "err", err)
		s.renderParents(w, r, http.StatusInternalServerError, lang, parentsData{Step: "code", Failure: ui.Translate(lang, "portal.order.failed")})
		return
	}
	site, err := s.Central.DirectorySite(r.Context(), child.Site)
	if err != nil {
		site = central.Site{ID: child.Site, Name: child.Site}
	}
	d := parentsData{Code: strings.ToUpper(strings.TrimSpace(code)), Site: site, Year: yearLabel(child.Year),
		Booking: bookingQuery("service", exam.CheckInService, "site", child.Site)}
	// The booking's last step takes the code from a cookie of its path,
	// never from the address: parents who answered before may go straight
	// on to book or move the slot.
	setExamCodeCookie(w, r, code)
	if r.PostForm.Get("step") != "questions" {
		d.Step = "questions"
		s.renderParents(w, r, http.StatusOK, lang, s.parentsForm(lang, d))
		return
	}
	years, _ := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("kita_years")))
	d.A = exam.ParentsAnswers{BirthTerm: r.PostForm.Get("birth_term"), BirthNotes: r.PostForm.Get("birth_notes"),
		Illnesses: r.PostForm.Get("illnesses"), Checkups: r.PostForm["checkups"], Kita: r.PostForm.Get("kita") == "ja",
		KitaYears: years, Languages: r.PostForm.Get("languages"), Support: r.PostForm["support"],
		SupportNotes: r.PostForm.Get("support_notes"), Consent: r.PostForm.Get("consent") == "ja"}
	if _, err := s.Central.SubmitQuestionnaire(r.Context(), code, lang, d.A); err != nil {
		d.Step = "questions"
		status := http.StatusBadRequest
		if fields := veedel.ErrorFields(err); fields != nil {
			d.Errors = map[string]string{}
			for f := range fields {
				d.Errors[f] = ui.Translate(lang, "portal.exam.error."+f)
			}
		} else {
			status = http.StatusServiceUnavailable
			if veedel.ErrorCode(err) == veedel.EINTERNAL {
				s.Logger.Error("exam questionnaire", "err", err)
				status = http.StatusInternalServerError
			}
			d.Failure = ui.Translate(lang, "portal.exam.unavailable")
		}
		s.renderParents(w, r, status, lang, s.parentsForm(lang, d))
		return
	}
	s.renderParents(w, r, http.StatusOK, lang, parentsData{Step: "done", Site: site, Year: d.Year, Booking: d.Booking})
}
