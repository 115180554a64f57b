package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/ui"
)

// maxTokenLen bounds the token looked up; real tokens are far shorter.
const maxTokenLen = 128

// ticketData is what page_status.html shows.
type ticketData struct {
	central.TicketStatus
	ServiceLabel string // the service in the page's language
	StatusLabel  string
	CounterLabel string // "Platz 3": the counter named in "status.called"
	WaitValue    string // "12", or "Gleich" when next
	WaitUnit     bool   // WaitValue is in minutes
	ShowP90      bool   // the P90 bound is worth showing
	// Shut: the site is closed by its opening hours; the page says when it
	// opens (Opens) instead of a wait in minutes (issue 14).
	Shut         bool
	Opens        string
	Next         bool   // waiting and next in line
	Ahead        int    // people before the citizen ("Vor Ihnen"), as kiosk and paper say
	Updated      string // "Stand 10:42"
	Events       string
	Page         string            // the page's own address, for live.js to go back to
	CancelAction string            // where the cancel form posts
	CanCancel    bool              // waiting or parked, and no cancellation requested yet
	SMS          smsView           // the SMS sign-up (smsportal.go)
	Texts        map[string]string // for live.js
}

// ticket finds the ticket behind the request's token. The token never
// goes to a log: the access log records the route pattern only.
func (s *Server) ticket(r *http.Request) (central.TicketStatus, bool) {
	token := chi.URLParam(r, "token")
	if token == "" || len(token) > maxTokenLen {
		return central.TicketStatus{}, false
	}
	return s.Central.Ticket(token)
}

// ticketPage renders a ticket's status for its QR code.
func (s *Server) ticketPage(w http.ResponseWriter, r *http.Request) {
	lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
	w.Header().Set("X-Robots-Tag", "noindex, nofollow")
	t, ok := s.ticket(r)
	if !ok {
		s.ticketNotFound(w, r, lang)
		return
	}
	sms := s.smsView(r, t, r.URL.EscapedPath())
	s.renderTicket(w, r, http.StatusOK, lang, t, r.URL.EscapedPath(), sms)
}

// ticketNotFound renders the citizen's page for a token that names no
// ticket (any longer).
func (s *Server) ticketNotFound(w http.ResponseWriter, r *http.Request, lang string) {
	s.renderNotFound(w, r, lang, ui.Translate(lang, "status.notfound.title"), ui.Translate(lang, "status.notfound"))
}

// renderTicket renders the status page of t, whose page is at base.
func (s *Server) renderTicket(w http.ResponseWriter, r *http.Request, status int, lang string, t central.TicketStatus, base string, sms smsView) {
	d := ticketData{
		TicketStatus: t,
		ServiceLabel: ui.ServiceName(lang, t.Service, t.ServiceName, t.ServiceNameEN),
		StatusLabel:  ui.Translate(lang, "status.state."+t.Status),
		CounterLabel: counterLabel(t),
		WaitValue:    waitValue(lang, t.EstimatedWaitMinutes),
		WaitUnit:     t.EstimatedWaitMinutes > 0,
		ShowP90:      showP90(t.EstimatedWaitMinutes, t.EstimatedWaitP90Minutes),
		Next:         t.Status == queue.StatusWaiting && t.Position == 1,
		Ahead:        max(t.Position-1, 0),
		Updated:      freshness(lang, t.LastSync, s.now()),
		Events:       base + "/events",
		Page:         base,
		CancelAction: base + "/cancel",
		SMS:          sms,
		CanCancel:    (t.Status == queue.StatusWaiting || t.Status == queue.StatusParked) && !t.CancelRequested,
		Texts: liveTexts(lang, "portal.updated", "portal.never", "status.soon", "status.p90",
			"status.state.waiting", "status.state.called", "status.state.done", "status.state.no_show", "status.state.expired",
			"status.state.parked", "status.state.cancelled"),
	}
	d.Shut, d.Opens = s.siteShut(lang, t.Site)
	w.Header().Set("Cache-Control", "no-store")
	s.Renderer.Render(w, status, "status", ui.Page{
		Lang: lang, Title: ui.Translate(lang, "status.title") + " " + t.Number, Surface: "portal", Path: base, Langs: ui.CitizenLangs, Data: d,
	})
}

// ticketEvents streams event "ticket" with the JSON of the ticket's
// TicketStatus whenever its site's log grows; event "gone" when the ticket
// has been forgotten.
func (s *Server) ticketEvents(w http.ResponseWriter, r *http.Request) {
	t, ok := s.ticket(r)
	if !ok {
		s.apiNotFound(w, r)
		return
	}
	token := chi.URLParam(r, "token")
	s.stream(w, r, t.Site, func() (string, []byte) {
		t, ok := s.Central.Ticket(token)
		if !ok {
			return "gone", []byte("{}")
		}
		closed, _ := s.siteShut("de", t.Site)
		data, _ := json.Marshal(liveTicket{TicketStatus: t, SMS: s.Central.TicketSMS(token).State, Shut: closed})
		return "ticket", data
	})
}

// liveTicket is a ticket's status as its page's event stream sends it:
// with the state of its SMS sign-up ("pending", "confirmed", …; never the
// number), so the page can say when the site confirmed it.
type liveTicket struct {
	central.TicketStatus
	SMS string `json:"sms,omitempty"`
	// Shut: the site is closed by its opening hours now; the page, which
	// then shows when it opens instead of minutes, renders anew when this
	// changes.
	Shut bool `json:"shut,omitempty"`
}

// siteShut is shut (portal.go) for the site of a ticket.
func (s *Server) siteShut(lang, site string) (closed bool, opens string) {
	now := s.now()
	s.Central.ViewSite(site, func(st *queue.State, _ central.SiteCursor) {
		closed, opens = shut(lang, st, now)
	})
	return closed, opens
}

// cancelTicket asks the ticket's site to cancel it (central.RequestCancel:
// the site decides) and sends the citizen back to the status page, which
// shows the request until the site's decision arrives. Unknown token: 404;
// a ticket no longer waiting or parked: 409 with its status. The router's
// cross-origin protection refuses forged posts.
func (s *Server) cancelTicket(w http.ResponseWriter, r *http.Request) {
	lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
	w.Header().Set("X-Robots-Tag", "noindex, nofollow")
	token := chi.URLParam(r, "token")
	if token == "" || len(token) > maxTokenLen {
		s.ticketNotFound(w, r, lang)
		return
	}
	back := strings.TrimSuffix(r.URL.EscapedPath(), "/cancel")
	t, err := s.Central.RequestCancel(r.Context(), token)
	switch veedel.ErrorCode(err) {
	case "":
		http.Redirect(w, r, back, http.StatusSeeOther)
	case veedel.ENOTFOUND:
		s.ticketNotFound(w, r, lang)
	case veedel.ECONFLICT:
		text := ui.Translate(lang, "status.cancel.ended")
		if t.Status == queue.StatusCalled {
			text = ui.Translate(lang, "status.cancel.called")
		}
		s.renderMessage(w, r, http.StatusConflict, lang, notFoundData{Heading: ui.Translate(lang, "status.cancel.impossible"), Text: text, Back: back})
	default:
		s.Logger.Error("cancel request", "err", err)
		s.renderMessage(w, r, http.StatusInternalServerError, lang, notFoundData{Heading: ui.Translate(lang, "error.title"), Text: ui.Translate(lang, "status.cancel.failed"), Back: back})
	}
}

func counterLabel(t central.TicketStatus) string {
	if t.CounterName != "" {
		return t.CounterName
	}
	return t.Counter
}

func waitValue(lang string, minutes int) string {
	if minutes <= 0 {
		return ui.Translate(lang, "status.soon")
	}
	return strconv.Itoa(minutes)
}

// showP90 says whether the upper bound adds anything: not while the wait
// is "shortly", and not when it equals the estimate.
func showP90(minutes, p90 int) bool { return minutes > 0 && p90 > minutes }
