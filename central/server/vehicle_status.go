package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/ui"
)

// An application's private status page (/kfz/s/{token}, and after
// submitting /kfz/s/{token}/bestaetigung with the link to keep) and the
// police's verification page (/verify/{code}): neither shows personal
// data (central has none), both are no-store and never indexed.

// vehicleView is what page_kfz_status.html shows.
type vehicleView struct {
	vehicle.StatusView
	ProcessLabel string
	StateText    string
	Confirm      bool   // just submitted: the link to keep
	StatusURL    string // the page's absolute address
	Steps        []orderStep
	Page         string
	// Supplement: the answer form while the site asks for more, with
	// its error ("" when fine) and what was typed.
	SupplementError, Note string
	// Answer: the applicant's answer while the site has not decided
	// (nil otherwise); Answered: just sent (/kfz/s/{token}/antwort).
	Answer   *vehicleAnswer
	Answered bool
}

// vehicleAnswer is what the status page confirms of an answer: when,
// whether it is still on its way to the site, a note (its text is sealed
// to the site) and the files' names.
type vehicleAnswer struct {
	At       time.Time
	OnItsWay bool
	Note     bool
	Files    []string
}

// vehicleStatusPage: GET /kfz/s/{token}, /kfz/s/{token}/bestaetigung
// (just submitted) and /kfz/s/{token}/antwort (just answered).
func (s *Server) vehicleStatusPage(w http.ResponseWriter, r *http.Request) {
	s.renderVehicleStatus(w, r, http.StatusOK, "", "")
}

// renderVehicleStatus renders the status page with status, and the
// supplement form's error and note.
func (s *Server) renderVehicleStatus(w http.ResponseWriter, r *http.Request, status int, supplementError, note string) {
	lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
	token := chi.URLParam(r, "token")
	a, ok := s.Central.VehicleApplications().ByToken(token)
	if token == "" || len(token) > maxTokenLen || !ok {
		s.renderNotFound(w, r, lang, ui.Translate(lang, "portal.kfz.notfound"), ui.Translate(lang, "portal.kfz.notfound.text"))
		return
	}
	page := vehiclePage(token)
	v := vehicleView{StatusView: a.View(permitPath(token)), ProcessLabel: ui.Translate(lang, "portal.kfz.process."+a.Process),
		StateText: ui.Translate(lang, "portal.kfz.state."+a.Status), Confirm: strings.HasSuffix(r.URL.Path, "/bestaetigung"),
		StatusURL: s.publicBase(r) + page, Page: page, SupplementError: supplementError, Note: note}
	steps := []string{vehicle.StatusSubmitted, vehicle.StatusAtSite, vehicle.StatusInReview, vehicle.StatusApproved}
	current := a.Status
	switch {
	case a.Answered.IsZero():
	case a.Status == vehicle.StatusSubmitted:
		// Submitted again by the answer: the application stays at the
		// site, only the answer is on its way.
		v.Answer = &vehicleAnswer{At: a.Answered, OnItsWay: true, Note: a.AnswerNote, Files: answerFiles(lang, a.AnswerFiles)}
		v.StateText, current = ui.Translate(lang, "portal.kfz.state.answered"), vehicle.StatusAtSite
	case a.Status == vehicle.StatusAtSite || a.Status == vehicle.StatusInReview:
		v.Answer = &vehicleAnswer{At: a.Answered, Note: a.AnswerNote, Files: answerFiles(lang, a.AnswerFiles)}
	}
	v.Answered = v.Answer != nil && strings.HasSuffix(r.URL.Path, "/antwort")
	if current == vehicle.StatusInfoRequested {
		current = vehicle.StatusInReview
	}
	if current == vehicle.StatusRejected {
		steps[3], current = vehicle.StatusRejected, vehicle.StatusRejected
	}
	done := true
	for _, st := range steps {
		here := st == current
		v.Steps = append(v.Steps, orderStep{Label: ui.Translate(lang, "portal.kfz.step."+st), Done: done, Current: here, Bad: here && st == vehicle.StatusRejected})
		if here {
			done = false
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Robots-Tag", "noindex, nofollow")
	s.Renderer.Render(w, status, "kfz_status", ui.Page{Lang: lang, Title: ui.Translate(lang, "portal.kfz.status.title"), Surface: "portal",
		Path: page, Langs: ui.CitizenLangs, Data: v})
}

// answerFiles names an answer's files, "Datei 1" for one without a name.
func answerFiles(lang string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		if out[i] = n; n == "" {
			out[i] = ui.Translate(lang, "portal.kfz.answer.file", i+1)
		}
	}
	return out
}

// verifyPage: GET /verify/{code}, what the provisional proof's QR code
// opens. An unknown code is a 404 that says the proof is not genuine.
func (s *Server) verifyPage(w http.ResponseWriter, r *http.Request) {
	lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Robots-Tag", "noindex, nofollow")
	v, ok := s.verify(chi.URLParam(r, "code"))
	if !ok {
		s.renderNotFound(w, r, lang, ui.Translate(lang, "portal.kfz.verify.unknown"), ui.Translate(lang, "portal.kfz.verify.unknown.text"))
		return
	}
	s.Renderer.Render(w, http.StatusOK, "kfz_verify", ui.Page{Lang: lang, Title: ui.Translate(lang, "portal.kfz.verify.title"), Surface: "portal",
		Path: r.URL.Path, Langs: ui.CitizenLangs, Data: v})
}

// vehicleSupplementForm: POST /kfz/s/{token}/nachreichen, the answer to a
// request for more (a note and a file) from the status page; back to the
// status page (303), or the page again with the message (400).
func (s *Server) vehicleSupplementForm(w http.ResponseWriter, r *http.Request) {
	lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
	token := chi.URLParam(r, "token")
	r.Body = http.MaxBytesReader(w, r.Body, vehicle.MaxAttachmentSize+64<<10)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		s.renderVehicleStatus(w, r, http.StatusBadRequest, ui.Translate(lang, "portal.kfz.err.toobig"), "")
		return
	}
	defer r.MultipartForm.RemoveAll()
	note := r.MultipartForm.Value["note"]
	text := ""
	if len(note) > 0 {
		text = note[0]
	}
	var files []vehicle.Attachment
	if fhs := r.MultipartForm.File["file"]; len(fhs) > 0 && fhs[0].Size > 0 {
		ref, err := s.storeFormFile(r, fhs[0])
		if err != nil {
			s.renderVehicleStatus(w, r, http.StatusBadRequest, vehicleMessage(lang, veedel.ErrorMessage(err)), text)
			return
		}
		files = append(files, vehicle.Attachment{Kind: vehicle.AttachmentOther, File: ref})
	}
	err := s.Central.SupplementVehicleApplication(r.Context(), token, text, files)
	switch veedel.ErrorCode(err) {
	case "", veedel.ECONFLICT: // sent, or sent already (a repeated post): the confirmation
		http.Redirect(w, r, vehiclePage(token)+"/antwort", http.StatusSeeOther)
	case veedel.ENOTFOUND:
		s.renderNotFound(w, r, lang, ui.Translate(lang, "portal.kfz.notfound"), ui.Translate(lang, "portal.kfz.notfound.text"))
	case veedel.EINVALID:
		msg := veedel.ErrorMessage(err)
		for _, m := range veedel.ErrorFields(err) {
			msg = m
		}
		s.renderVehicleStatus(w, r, http.StatusBadRequest, vehicleMessage(lang, msg), text)
	default:
		s.Logger.Error("vehicle supplement", "err", err)
		s.renderVehicleStatus(w, r, http.StatusServiceUnavailable, ui.Translate(lang, "portal.kfz.err.unavailable"), text)
	}
}
