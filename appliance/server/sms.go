package server

import (
	"errors"
	"net/http"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/notify"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/ui"
)

// smsForm is the ticket page's SMS sign-up. The page never shows the
// number back, not even masked: the kiosk is shared.
type smsForm struct {
	Show     bool   // the ticket is waiting or called: offer the sign-up
	SignedUp bool   // a number is recorded for this ticket
	Error    string // text key of the last attempt's error
	Field    string // the field the error is about: "phone" or "consent"
	Consent  bool   // the last attempt gave consent: keep it ticked
	Action   string
}

func (s *Server) smsForm(r *http.Request, t TicketView) smsForm {
	f := smsForm{Show: t.Status == queue.StatusWaiting || t.Status == queue.StatusCalled,
		Action: "/kiosk/tickets/" + t.Token + "/sms"}
	if f.Show {
		signed, err := s.Store.SMSSignedUp(r.Context(), t.ID)
		if err != nil {
			s.Logger.Error("read sms sign-up", "route", "kiosk ticket", "err", err)
		}
		f.SignedUp = signed
	}
	return f
}

// kioskSMS records a mobile number for the ticket's SMS, with consent.
// A refused number or missing consent shows the ticket page again with
// the reason (400) and stores nothing; success goes back to the ticket
// page (303). The number is neither logged nor put in a URL.
func (s *Server) kioskSMS(w http.ResponseWriter, r *http.Request) {
	p, ok := s.ticketPage(r)
	if !ok {
		s.renderError(w, r, veedel.Errorf(veedel.ENOTFOUND, "Ticket nicht gefunden / ticket not found"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	p.SMS = s.smsForm(r, p.Ticket)
	if !p.SMS.Show {
		s.renderError(w, r, veedel.Errorf(veedel.ECONFLICT, "Dieses Ticket ist nicht mehr aktiv / this ticket is no longer active"))
		return
	}
	number, err := notify.NormalizeMobile(r.PostForm.Get("phone"))
	p.SMS.Consent = r.PostForm.Get("consent") == "yes"
	switch {
	case errors.Is(err, notify.ErrLandline):
		p.SMS.Error, p.SMS.Field = "ticket.sms.landline", "phone"
	case err != nil:
		p.SMS.Error, p.SMS.Field = "ticket.sms.invalid", "phone"
	case !p.SMS.Consent:
		p.SMS.Error, p.SMS.Field = "ticket.sms.noconsent", "consent"
	}
	w.Header().Set("Cache-Control", "no-store")
	if p.SMS.Error != "" {
		s.render(w, r, http.StatusBadRequest, "ticket", "kiosk", p.SiteName, p)
		return
	}
	lang := ui.Lang(w, r, ui.CitizenLangs...)
	if err := s.Store.SignUpSMS(r.Context(), p.Ticket.ID, number, lang); err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, "/kiosk/tickets/"+p.Ticket.Token+"#sms", http.StatusSeeOther)
}
