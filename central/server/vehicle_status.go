package server

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

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
}

// vehicleStatusPage: GET /kfz/s/{token} and /kfz/s/{token}/bestaetigung.
func (s *Server) vehicleStatusPage(w http.ResponseWriter, r *http.Request) {
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
		StatusURL: s.publicBase(r) + page, Page: page}
	steps := []string{vehicle.StatusSubmitted, vehicle.StatusAtSite, vehicle.StatusInReview, vehicle.StatusApproved}
	current := a.Status
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
	s.Renderer.Render(w, http.StatusOK, "kfz_status", ui.Page{Lang: lang, Title: ui.Translate(lang, "portal.kfz.status.title"), Surface: "portal",
		Path: r.URL.Path, Langs: ui.CitizenLangs, Data: v})
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
