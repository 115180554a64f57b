// Package server is the appliance's HTTP face on the site's LAN: the kiosk
// where citizens take tickets, the desk where clerks call them, the call
// display in the waiting room, and the JSON API for integrators.
package server

import (
	"github.com/veedel/veedel/sync/blob"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/clock"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/hardware"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/sync/downlink"
	"github.com/veedel/veedel/sync/uplink"
	"github.com/veedel/veedel/ui"
)

// Server holds what the handlers need.
type Server struct {
	Store    *sqlite.Store
	Renderer *ui.Renderer
	Logger   *slog.Logger
	// PortalURL is central's public base URL; ticket QR codes link there.
	PortalURL string
	// SiteAddress is the site's postal address ("Kalker Hauptstraße
	// 247–273, 51103 Köln"), the sender of the letters it prints
	// (desk_orders_pdf.go); empty: the site's name alone.
	SiteAddress string
	// SyncStatus reports the uplink's health (nil when sync is off).
	SyncStatus func() uplink.Status
	// DownlinkStatus reports the downlink's health (nil when sync is off).
	DownlinkStatus func() downlink.Status
	// BlobStatus reports the file transfer's health (nil when sync is off).
	BlobStatus func() blob.Status
	// Announce is the call display's spoken text, with {number} and
	// {counter}; empty: the text "display.announce" ("Nummer {number},
	// bitte zu {counter}.").
	Announce string
	// Now is the wall clock for the kiosk's opening-hours notes and the
	// limits of anonymous clients (kiosk_limit.go); nil: time.Now. Tests
	// set it.
	Now func() time.Time
	// KioskIdle is how long a kiosk page (in another language than
	// German, or showing a ticket) waits for a touch before it returns to
	// the German start page for the next citizen (0: DefaultKioskIdle).
	KioskIdle time.Duration
	// Printer is the kiosk's ticket printer (nil: none; the kiosk offers
	// the browser's print view). PrintTimeout bounds one ticket (0:
	// DefaultPrintTimeout); AfterPrint, if set, hears every print's
	// outcome (the device monitor: print.go).
	Printer      hardware.Printer
	PrintTimeout time.Duration
	AfterPrint   func(error)
	// Scale is the school-health site's scale (nil: none), read for the
	// exam staff (scale.go). ScaleTimeout bounds one reading (0:
	// DefaultScaleTimeout); AfterReading, if set, hears every reading's
	// outcome that matters to the device monitor (nil, or a device fault).
	Scale        ScaleReader
	ScaleTimeout time.Duration
	AfterReading func(error)

	// Anonymous issuing and pairing attempts, limited per client
	// (kiosk_limit.go); made by Handler.
	issueLimiter, pairLimiter *limiter
	// Clock is the site's checked clock (nil: the wall clock, unchecked):
	// every page goes by its time (Now, when set, only the kiosk's hours),
	// the desk warns and the kiosk refuses by it (clock.go).
	Clock *clock.Clock
}

// Handler returns the appliance's routes.
func (s *Server) Handler() http.Handler {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	s.issueLimiter, s.pairLimiter = newLimiter(issueLimit), newLimiter(pairLimit)
	r := web.Router(s.Logger)
	r.NotFound(s.notFound)
	r.Get("/healthz", s.health)
	r.Handle("/static/*", http.StripPrefix("/static/", ui.Static()))
	r.Get("/brand.css", s.Renderer.ServeBrandCSS)
	r.Get("/brand/logo", s.Renderer.ServeBrandLogo)
	r.Get("/", s.home)

	r.Get("/kiosk", s.kiosk)
	r.Post("/kiosk/tickets", s.kioskIssue)
	r.Post("/kiosk/checkin", s.kioskCheckIn)
	r.Get("/kiosk/tickets/{token}", s.kioskTicket)
	r.Get("/kiosk/tickets/{token}/print", s.kioskPrint)
	r.Get("/kiosk/tickets/{token}/qr.png", s.kioskQR)
	r.Post("/kiosk/tickets/{token}/sms", s.kioskSMS)
	r.Get("/kiosk/pair", s.kioskPairForm)
	r.Post("/kiosk/pair", s.kioskPair)

	r.Get("/desk/login", s.loginForm)
	r.Post("/desk/login", s.login)
	r.Group(func(r chi.Router) {
		r.Use(s.requireSession)
		r.Get("/desk", s.desk)
		r.Get("/desk/stats", s.deskStats)
		r.Get("/desk/stats.csv", s.deskStatsCSV)
		r.Post("/desk/counter", s.deskChooseCounter)
		r.Post("/desk/logout", s.logout)
		r.Get("/desk/devices", s.deskDevices)
		r.Get("/desk/scale/reading", s.deskScaleReading) // the exam staff's (scale.go)
		r.Post("/desk/tickets/{id}/reprint", s.deskReprint)
		r.Get("/desk/orders", s.deskOrders)
		s.deskPlateRoutes(r)
		r.Get("/desk/orders/{code}", s.deskOrder)
		r.Get("/desk/orders/{code}/letter.pdf", s.deskOrderLetter)
		r.Get("/desk/orders/{code}/slip.pdf", s.deskOrderSlip)
		r.Post("/desk/orders/{code}/{action}", s.deskOrderStep)
		s.deskExamRoutes(r)
		r.Post("/desk/{action}", s.deskAction)
		// The site lead's setup: counters and the services they serve.
		r.Group(func(r chi.Router) {
			r.Use(s.requireLead)
			r.Get("/desk/setup", s.setup)
			r.Get("/desk/logins", s.deskLogins)
			r.Post("/desk/setup/counters", s.setupAdd)
			r.Post("/desk/setup/counters/{counter}", s.setupSave)
			r.Post("/desk/setup/counters/{counter}/plan", s.setupPlan)
			r.Post("/desk/setup/online", s.setupOnline)
			r.Get("/desk/kiosks", s.deskKiosks)
			r.Post("/desk/kiosks", s.deskKioskCreate)
			r.Post("/desk/kiosks/{id}/unpair", s.deskKioskUnpair)
		})
	})

	r.Get("/display", s.display)
	r.Get("/display/events", s.displayEvents)

	r.Route("/api/v1", func(r chi.Router) {
		r.Get("/scale/reading", s.apiScaleReading) // the exam staff's (scale.go)
		r.Get("/services", s.apiServices)
		r.Post("/tickets", s.apiIssue)
		r.Get("/tickets/{token}", s.apiTicket)
		r.Post("/tickets/{token}/cancel", s.apiCancel)
		r.Post("/bookings", s.apiCreateBooking)
		r.Post("/checkins", s.apiCheckIn)
		r.Post("/kiosks/pair", s.apiPair)
		r.Get("/queue", s.apiQueue)
		r.Get("/counters", s.apiCounters)
		r.Post("/counters/{counter}/{action}", s.apiCounterAction)
		r.Get("/orders", s.apiOrders)
		r.Post("/orders/{code}/{action}", s.apiOrderAction)
		s.examRoutes(r)
		s.plateRoutes(r)
	})
	return r
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	out := map[string]any{"role": "appliance", "site": s.Store.Site(), "version": veedel.Version, "last_seq": s.Store.LastSeq()}
	if s.SyncStatus != nil {
		out["sync"] = s.SyncStatus()
	}
	if s.DownlinkStatus != nil {
		out["download"] = s.DownlinkStatus()
	}
	if s.BlobStatus != nil {
		out["files"] = s.BlobStatus()
	}
	if st, ok := s.clockStatus(); ok {
		out["clock"] = st
	}
	web.JSON(w, http.StatusOK, out)
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	var name string
	s.Store.View(func(st *queue.State) { name = st.Site.Name })
	s.render(w, r, http.StatusOK, "home", "portal", name, nil)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		web.Error(w, r, veedel.Errorf(veedel.ENOTFOUND, "no such API endpoint: %s %s", r.Method, r.URL.Path))
		return
	}
	s.renderError(w, r, veedel.Errorf(veedel.ENOTFOUND, "%s", ui.Translate(ui.Lang(w, r), "notfound.text")))
}

// render renders a page in the request's language.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page, surface, title string, data any) {
	offered := langsOf(surface)
	lang := ui.Lang(w, r, offered...)
	p := ui.Page{Lang: lang, Title: title, Surface: surface, Path: r.URL.Path, Langs: offered, Data: data}
	if surface == "kiosk" {
		p.IdleSeconds = s.kioskIdleSeconds()
	}
	s.Renderer.Render(w, status, page, p)
}

// DefaultKioskIdle is how long a kiosk page waits for a touch before it
// returns to the German start page for the next citizen.
const DefaultKioskIdle = 60 * time.Second

// kioskIdleSeconds is KioskIdle (DefaultKioskIdle when unset) in whole
// seconds, at least one, for the kiosk pages' data-idle (kiosk.js).
func (s *Server) kioskIdleSeconds() int {
	d := s.KioskIdle
	if d <= 0 {
		d = DefaultKioskIdle
	}
	return max(int(d/time.Second), 1)
}

// langsOf is the languages a surface offers: the kiosk and its printed
// ticket speak to citizens in four; desk and display are German/English.
func langsOf(surface string) []string {
	if surface == "kiosk" || surface == "print" {
		return ui.CitizenLangs
	}
	return ui.StaffLangs
}

// renderError shows an error page with the mapped status; internal errors
// are logged and shown without detail.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	status := web.Status(err)
	if status >= 500 {
		s.Logger.Error("request failed", "route", web.Route(r), "err", err)
	}
	back := "/"
	for _, surface := range []string{"/kiosk", "/desk", "/display"} {
		if strings.HasPrefix(r.URL.Path, surface) {
			back = surface
		}
	}
	offered := langsOf(strings.TrimPrefix(back, "/"))
	lang := ui.Lang(w, r, offered...)
	s.Renderer.Render(w, status, "error", ui.Page{Lang: lang, Title: ui.Translate(lang, "error.title"), Surface: "portal", Path: r.URL.Path, Langs: offered,
		Data: errorPage{Message: veedel.ErrorMessage(err), Back: back}})
}

type errorPage struct {
	Message string
	Back    string // where "back" leads: the surface the citizen or clerk came from
}

// ticketOf returns the ticket a desk command acted on, if any.
func ticketOf(events []queue.Event) string {
	for i := len(events) - 1; i >= 0; i-- {
		switch p := events[i].Payload.(type) {
		case *queue.TicketCalled:
			return p.ID
		case *queue.TicketRecalled:
			return p.ID
		case *queue.TicketFinished:
			return p.ID
		case *queue.TicketNoShow:
			return p.ID
		case *queue.TicketStarted:
			return p.ID
		case *queue.TicketParked:
			return p.ID
		case *queue.TicketCalledBack:
			return p.ID
		case *queue.TicketTransferred:
			return p.ID
		case *queue.TicketCancelled:
			return p.ID
		}
	}
	return ""
}
