package server

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/skip2/go-qrcode"
	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/ui"
)

type kioskPage struct {
	SiteName string
	Services []ServiceView
	// Key is a fresh idempotency key per rendering: a double tap sends the
	// same key twice and gets one ticket.
	Key string
	// Late marks the services whose wait would probably run past closing;
	// Hours says whether the site is open (kiosk_overload.go).
	Late  map[string]bool
	Hours kioskHours
	// Code is the booking code typed before a failed check-in, and
	// CodeError why it failed: shown at the field, not atop the page.
	Code      string
	CodeError string
	// Paired: this browser is a kiosk paired at the desk (pairing.go);
	// if not, the page has a note for staff on how to pair it.
	Paired bool
	// ClockRefused: the site's clock is wrong, no ticket can be issued
	// (clock.go).
	ClockRefused bool
}

func (s *Server) kiosk(w http.ResponseWriter, r *http.Request) {
	s.renderKiosk(w, r, http.StatusOK, "", "")
}

// renderKiosk renders the kiosk; after a failed appointment check-in with
// the message (in the kiosk's language) and the code typed.
func (s *Server) renderKiosk(w http.ResponseWriter, r *http.Request, status int, errMsg, code string) {
	s.renderKioskPage(w, r, status, errMsg, code, "")
}

// renderCheckinError renders the kiosk after a failed check-in: msg stands
// at the booking code field (marked invalid and focused), with the code
// typed.
func (s *Server) renderCheckinError(w http.ResponseWriter, r *http.Request, status int, msg, code string) {
	s.renderKioskPage(w, r, status, "", code, msg)
}

func (s *Server) renderKioskPage(w http.ResponseWriter, r *http.Request, status int, errMsg, code, codeErr string) {
	var p kioskPage
	s.Store.View(func(st *queue.State) {
		p.SiteName, p.Services = st.Site.Name, serviceViews(st)
		p.Late, p.Hours = kioskLate(st, s.now())
	})
	p.Key = "kiosk-" + sqlite.RandomToken()
	p.Code, p.CodeError = code, codeErr
	if c := s.kioskCaller(w, r); c.kiosk != nil {
		p.Paired = true
		setKioskCookie(w, r, deviceToken(r)) // renewed: the cookie lasts while the kiosk is used
	}
	p.ClockRefused = s.clockRefused()
	w.Header().Set("Cache-Control", "no-store")
	offered := langsOf("kiosk")
	lang := ui.Lang(w, r, offered...)
	s.Renderer.Render(w, status, "kiosk", ui.Page{Lang: lang, Title: p.SiteName, Surface: "kiosk", Path: "/kiosk",
		Langs: offered, Error: errMsg, Data: p, IdleSeconds: s.kioskIdleSeconds()})
}

func (s *Server) kioskIssue(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	key := r.PostForm.Get("key")
	if s.kioskClockRefused(w, r) {
		return
	}
	if err := checkIdempotencyKey(key); err != nil {
		s.renderError(w, r, err)
		return
	}
	if s.kioskConfirm(w, r, r.PostForm.Get("service"), key) {
		return // asked first: the wait probably runs past closing
	}
	if ok, wait := s.admitIssue(s.kioskCaller(w, r)); !ok {
		s.tooManyKiosk(w, r, wait)
		return
	}
	if key != "" {
		// Kiosk keys have their own namespace, apart from the API's "api-"
		// keys: a posted key must never replay (and reveal) an API ticket.
		key = "kiosk:" + key
	}
	t, _, err := s.Store.IssueTicket(r.Context(), r.PostForm.Get("service"), "kiosk", key)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.kioskPrintTicket(w, r, t)
	http.Redirect(w, r, "/kiosk/tickets/"+t.Token, http.StatusSeeOther)
}

// kioskPrintTicket prints a ticket the kiosk just issued (or found again
// for a double tap: then it is not printed twice), before the ticket page
// is shown, so that the page can say whether it printed (print.go).
func (s *Server) kioskPrintTicket(w http.ResponseWriter, r *http.Request, t queue.Ticket) {
	if s.Printer != nil {
		s.printFirst(r.Context(), t, ui.Lang(w, r, ui.CitizenLangs...))
	}
}

type ticketPage struct {
	SiteName string
	Ticket   TicketView
	Ahead    int
	QR       string
	Print    bool
	SMS      smsForm // the SMS sign-up (sms.go)
	// Paper is whether the kiosk's printer printed the ticket (print.go).
	Paper printView
	// Hours: while the site is closed the page says when it opens
	// instead of a wait in minutes (kiosk_overload.go).
	Hours kioskHours
}

func (s *Server) ticketPage(r *http.Request) (ticketPage, bool) {
	var p ticketPage
	found := false
	token := chi.URLParam(r, "token")
	s.Store.View(func(st *queue.State) {
		if t := st.TicketByToken(token); t != nil {
			found = true
			p.SiteName, p.Ticket = st.Site.Name, s.holderView(st, t, s.current(), ui.Chosen(r, ui.CitizenLangs...))
			p.Ahead = max(p.Ticket.Position-1, 0)
			now := s.now()
			p.Hours = kioskHoursOf(st.HoursAt(now), now, st.Site.Location)
		}
	})
	p.QR = "/kiosk/tickets/" + token + "/qr.png"
	if found {
		p.Paper = s.printState(r, p.Ticket.ID)
	}
	return p, found
}

func (s *Server) kioskTicket(w http.ResponseWriter, r *http.Request) {
	p, ok := s.ticketPage(r)
	if !ok {
		s.renderError(w, r, veedel.Errorf(veedel.ENOTFOUND, "Ticket nicht gefunden / ticket not found"))
		return
	}
	p.SMS = s.smsForm(r, p.Ticket)
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "ticket", "kiosk", p.SiteName, p)
}

func (s *Server) kioskPrint(w http.ResponseWriter, r *http.Request) {
	p, ok := s.ticketPage(r)
	if !ok {
		s.renderError(w, r, veedel.Errorf(veedel.ENOTFOUND, "Ticket nicht gefunden / ticket not found"))
		return
	}
	p.Print = true
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "ticket_print", "print", p.SiteName, p)
}

// kioskQR renders the QR code that links to the ticket's status page.
func (s *Server) kioskQR(w http.ResponseWriter, r *http.Request) {
	p, ok := s.ticketPage(r)
	if !ok {
		http.NotFound(w, r)
		return
	}
	png, err := qrcode.Encode(p.Ticket.StatusURL, qrcode.Medium, 320)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=86400")
	w.Write(png)
}

// kioskCheckIn checks an appointment in by its booking code (typed, or
// filled in by a QR scanner acting as a keyboard) and shows its ticket. A
// wrong or unknown code issues nothing: the kiosk shows why, in the
// citizen's language. Checking in twice shows the same ticket.
func (s *Server) kioskCheckIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	code := strings.TrimSpace(r.PostForm.Get("code"))
	if s.kioskClockRefused(w, r) {
		return
	}
	lang := ui.Lang(w, r, ui.CitizenLangs...)
	if queue.NormalizeBookingCode(code) == "" {
		s.renderCheckinError(w, r, http.StatusBadRequest, ui.Translate(lang, "kiosk.checkin.empty"), code)
		return
	}
	if ok, wait := s.admitIssue(s.kioskCaller(w, r)); !ok {
		s.tooManyKiosk(w, r, wait)
		return
	}
	t, _, err := s.Store.CheckIn(r.Context(), code, "kiosk")
	if err != nil {
		var msg string
		switch veedel.ErrorCode(err) {
		case veedel.ENOTFOUND:
			msg = ui.Translate(lang, "kiosk.checkin.unknown")
		case veedel.ECONFLICT:
			s.Store.View(func(st *queue.State) {
				b := st.BookingByCode(code)
				if b == nil {
					return
				}
				slot := b.Slot.In(st.Site.Location)
				if st.DayOf(b.Slot) != st.DayOf(s.current()) {
					msg = ui.Translate(lang, "kiosk.checkin.wrongday", slot.Format("02.01.2006 15:04"))
				} else {
					msg = ui.Translate(lang, "kiosk.checkin.late", slot.Format("15:04"))
				}
			})
		}
		if msg == "" {
			s.renderError(w, r, err)
			return
		}
		s.renderCheckinError(w, r, web.Status(err), msg, code)
		return
	}
	s.kioskPrintTicket(w, r, t)
	http.Redirect(w, r, "/kiosk/tickets/"+t.Token, http.StatusSeeOther)
}
