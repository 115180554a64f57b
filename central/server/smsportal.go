package server

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/notify"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/ui"
)

// smsConfirmWait is how long the sign-up's POST waits for the site to
// confirm before it sends the citizen back to the status page: an online
// site confirms within a round trip, so the page usually says "set up".
const smsConfirmWait = 2 * time.Second

// smsView is the status page's SMS sign-up. The page shows the number
// only back to the citizen who just typed it (after an error), never
// from central's memory.
type smsView struct {
	Show    bool   // the ticket waits: offer the sign-up
	State   string // central.SMSPending, SMSConfirmed, …
	Notice  string // text key: what became of an earlier sign-up
	Error   string // text key: why the number was not taken
	Phone   string // what the citizen typed, after an error
	Consent bool   // the citizen ticked the consent, after an error
	Field   string // the field Error is about: "phone", "consent" or ""
	Action  string // where the form posts
	Refresh string // the page again, while the site has not confirmed
	// Live is the sign-up's state as the ticket's event stream reports
	// it: an error page shows the form (State "") while an earlier
	// sign-up stands, and live.js must not take that for a change.
	Live string
}

func (s *Server) smsView(r *http.Request, t central.TicketStatus, base string) smsView {
	v := smsView{Action: base + "/sms", Refresh: base + "#sms"}
	v.Show = t.Status == queue.StatusWaiting && s.Central.SMSOffered(t.Site)
	su := s.Central.TicketSMS(chi.URLParam(r, "token"))
	v.State, v.Live = su.State, su.State
	switch su.State {
	case central.SMSExpired:
		v.Notice = "status.sms.unreachable"
	case central.SMSRefused:
		v.Notice = "status.sms.refused"
	case central.SMSNone:
		// The page after a sign-up names its hand-over: central no longer
		// knowing it means central restarted before the site confirmed.
		if id := r.URL.Query().Get("sms"); changelog.ValidHandoverID(id) {
			v.Notice = "status.sms.lost"
		}
	}
	return v
}

// signUpSMS takes a mobile number for the ticket's SMS, with consent, and
// hands it to the ticket's site (central.SignUpSMS: sealed to the site). A refused
// number or missing consent shows the status page again with the reason
// (400) and keeps nothing; a ticket no longer waiting is 409, a full
// hand-over box 503. Success waits briefly for the site's confirmation and
// goes back to the status page (303). The number is neither logged nor put
// in a URL; the router's cross-origin protection refuses forged posts.
func (s *Server) signUpSMS(w http.ResponseWriter, r *http.Request) {
	lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
	w.Header().Set("X-Robots-Tag", "noindex, nofollow")
	w.Header().Set("Cache-Control", "no-store")
	t, ok := s.ticket(r)
	if !ok {
		s.ticketNotFound(w, r, lang)
		return
	}
	token := chi.URLParam(r, "token")
	base := "/t/" + url.PathEscape(token)
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.renderMessage(w, r, http.StatusBadRequest, lang, notFoundData{Heading: ui.Translate(lang, "error.title"), Text: ui.Translate(lang, "status.sms.unavailable"), Back: base})
		return
	}
	v := s.smsView(r, t, base)
	v.Notice = ""
	if t.Status != queue.StatusWaiting {
		v.Error = "status.sms.closed"
		s.renderTicket(w, r, http.StatusConflict, lang, t, base, v)
		return
	}
	typed := r.PostForm.Get("phone")
	number, err := notify.NormalizeMobile(typed)
	switch {
	case errors.Is(err, notify.ErrLandline):
		v.Error, v.Field = "ticket.sms.landline", "phone"
	case err != nil:
		v.Error, v.Field = "ticket.sms.invalid", "phone"
	case r.PostForm.Get("consent") != "yes":
		v.Error, v.Field = "ticket.sms.noconsent", "consent"
	}
	if v.Error != "" {
		v.Show, v.State, v.Phone = true, central.SMSNone, strings.TrimSpace(typed)
		v.Consent = r.PostForm.Get("consent") == "yes"
		s.renderTicket(w, r, http.StatusBadRequest, lang, t, base, v)
		return
	}
	su, err := s.Central.SignUpSMS(r.Context(), token, number, lang)
	switch veedel.ErrorCode(err) {
	case "":
	case veedel.ENOTFOUND:
		s.ticketNotFound(w, r, lang)
		return
	case veedel.ECONFLICT:
		v.Error = "status.sms.closed"
		s.renderTicket(w, r, http.StatusConflict, lang, t, base, v)
		return
	case veedel.EUNAVAILABLE:
		v.Show, v.State, v.Error = true, central.SMSNone, "status.sms.unavailable"
		s.renderTicket(w, r, http.StatusServiceUnavailable, lang, t, base, v)
		return
	default:
		// err never holds the number: SignUpSMS's messages are fixed.
		s.Logger.Error("sms sign-up", "site", t.Site, "err", err)
		v.Show, v.State, v.Error = true, central.SMSNone, "status.sms.unavailable"
		s.renderTicket(w, r, http.StatusInternalServerError, lang, t, base, v)
		return
	}
	s.Central.WaitSMS(r.Context(), token, su.ID, smsConfirmWait)
	http.Redirect(w, r, base+"?sms="+su.ID+"#sms", http.StatusSeeOther)
}
