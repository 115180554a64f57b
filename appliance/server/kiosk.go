package server

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/skip2/go-qrcode"
	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
)

type kioskPage struct {
	SiteName string
	Services []ServiceView
	// Key is a fresh idempotency key per rendering: a double tap sends the
	// same key twice and gets one ticket.
	Key string
}

func (s *Server) kiosk(w http.ResponseWriter, r *http.Request) {
	var p kioskPage
	s.Store.View(func(st *queue.State) {
		p.SiteName, p.Services = st.Site.Name, serviceViews(st)
	})
	p.Key = "kiosk-" + sqlite.RandomToken()
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "kiosk", "kiosk", p.SiteName, p)
}

func (s *Server) kioskIssue(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	key := r.PostForm.Get("key")
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
	http.Redirect(w, r, "/kiosk/tickets/"+t.Token, http.StatusSeeOther)
}

type ticketPage struct {
	SiteName string
	Ticket   TicketView
	Ahead    int
	QR       string
	Print    bool
}

func (s *Server) ticketPage(r *http.Request) (ticketPage, bool) {
	var p ticketPage
	found := false
	token := chi.URLParam(r, "token")
	s.Store.View(func(st *queue.State) {
		if t := st.TicketByToken(token); t != nil {
			found = true
			p.SiteName, p.Ticket = st.Site.Name, s.ticketView(st, t, time.Now())
			p.Ahead = max(p.Ticket.Position-1, 0)
		}
	})
	p.QR = "/kiosk/tickets/" + token + "/qr.png"
	return p, found
}

func (s *Server) kioskTicket(w http.ResponseWriter, r *http.Request) {
	p, ok := s.ticketPage(r)
	if !ok {
		s.renderError(w, r, veedel.Errorf(veedel.ENOTFOUND, "Ticket nicht gefunden / ticket not found"))
		return
	}
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
