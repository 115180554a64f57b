// Package server is central's HTTP surface: the citizen portal (live
// waiting times per site, a ticket's status behind its QR code), the JSON
// API beside it, the Server-Sent Event streams that keep both live, and the
// sync endpoint where appliances upload their change-log batches.
//
// Handlers are methods on Server; routes are in this file, one file per
// concern beside it (portal.go, ticket.go, api.go, opendata.go, sync.go).
package server

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/internal/ratelimit"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/business"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/ui"
)

// refreshEvery is how often a live stream is re-sent even without new
// entries: staleness and freshness change with time alone, and heartbeats
// move a site's last contact without waking subscribers.
const refreshEvery = 30 * time.Second

// Server serves central's HTTP surfaces. Set the fields, then call Handler.
type Server struct {
	Central  *central.Central
	Renderer *ui.Renderer
	Logger   *slog.Logger
	Now      func() time.Time // nil = time.Now
	// Authorize checks that a download request comes from the site it
	// names (outbound.go). nil means AuthorizeSite (siteauth.go), which
	// checks the site's ed25519 signature: secure unless a test says not.
	Authorize func(r *http.Request, site string) error
	// PublicURL is the portal's public base URL ("https://wartezeiten.example"),
	// used for the absolute links in the open-data feeds. "" = the scheme and
	// host of each request (opendata.go).
	PublicURL string
	// Notify sends citizens their confirmation codes (appointments.go);
	// nil: online booking answers 503.
	Notify appointment.Notifier
	// Payments is the payment provider for orders paid online
	// (payments.go); nil: online payment is not offered.
	Payments *Payments
	// Cluster is the serf cluster of central nodes this node is part of
	// (cluster.go); nil: this node alone.
	Cluster ClusterStatus
	// Releases is the directory of release bundles (*.bundle) the update
	// channel hands out (update.go); "": none.
	Releases string

	// BookLimit bounds holds per client (zero: the package's BookLimit).
	BookLimit ratelimit.Limit

	bookLimiter *ratelimit.Limiter // holds per client (appointments.go)

	// FileLimit and PlateLimit bound the files a client uploads for
	// vehicle applications and the plates it reserves (zero: the
	// package's FileLimit, PlateLimit; vehicle.go).
	FileLimit, PlateLimit     ratelimit.Limit
	limitersOnce              sync.Once
	fileLimiter, plateLimiter *ratelimit.Limiter

	examCodes examCodes // wrong invitation codes per client (exam_parents.go)

	// Business is the business portal's store (business*.go); nil: no
	// portal. Webhooks is its sender, kicked when a delivery is queued
	// (nil: the sender's poll finds it). BusinessLimit bounds each
	// company's API requests (zero: the package's BusinessLimit).
	Business      *business.Store
	Webhooks      *business.Sender
	BusinessLimit ratelimit.Limit
	// WebhookAllowPrivate lets company admins save webhook endpoints on
	// loopback and private networks and over http:// (central's
	// -webhook-allow-private; the Sender's AllowPrivate goes with it).
	// WebhookResolver resolves a saved endpoint's name for that check
	// (nil: net.DefaultResolver).
	WebhookAllowPrivate bool
	WebhookResolver     business.Resolver
	biz                 businessState
}

// Handler returns the routes, built on web.Router. It panics if a page
// template is missing: that is a build error, found at start-up.
func (s *Server) Handler() http.Handler {
	if s.Authorize == nil {
		s.Authorize = s.AuthorizeSite
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.bookLimiter == nil {
		l := s.BookLimit
		if l.Burst == 0 {
			l = BookLimit
		}
		s.bookLimiter = ratelimit.New(l)
	}
	if s.Renderer == nil {
		r, err := ui.NewRenderer()
		if err != nil {
			panic(err)
		}
		s.Renderer = r
	}
	for _, page := range []string{"portal", "status", "notfound", "order_form", "order_placed", "order_status", "exam_parents"} {
		if !s.Renderer.Has(page) {
			panic("server: template page_" + page + ".html missing")
		}
	}

	r := web.Router(s.Logger)
	r.NotFound(s.notFound)
	r.MethodNotAllowed(s.methodNotAllowed)

	r.Get("/healthz", s.healthz)
	r.Handle("/static/*", http.StripPrefix("/static", ui.Static()))
	r.Get("/brand.css", s.Renderer.ServeBrandCSS)
	r.Get("/brand/logo", s.Renderer.ServeBrandLogo)

	r.Get("/", s.portal)
	// Citizens' phones share carrier NAT addresses: a wide per-client
	// bound on event streams here, the LAN's narrow one at appliances.
	public := r.With(web.StreamLimit(web.PublicStreamsPerClient))
	public.Get("/events", s.portalEvents)
	r.Get("/t/{token}", s.ticketPage)
	public.Get("/t/{token}/events", s.ticketEvents)
	r.Post("/t/{token}/cancel", s.cancelTicket)
	r.Post("/t/{token}/sms", s.signUpSMS)
	r.Get(bookingPath, s.bookingForm)
	r.Post(bookingPath, s.holdBooking)
	r.Get("/b/{token}", s.bookingStatusPage)
	public.Get("/b/{token}/events", s.bookingEvents)
	r.Post("/b/{token}/confirm", s.confirmBooking)
	r.Get("/b/{token}/cancel", s.bookingCancelPage)
	r.Post("/b/{token}/cancel", s.cancelBooking)
	r.Get(orderFormPath, s.orderForm)
	r.Post(orderFormPath, s.placeOrderForm)
	r.Get(examBookingPath, s.examParents)
	r.Post(examBookingPath, s.examParentsPost)
	r.Get("/o/{token}", s.orderStatusPage)
	r.Get("/o/{token}/bestaetigung", s.orderPlacedPage)
	r.Get("/o/{token}/bezahlen", s.payAgain)
	public.Get("/o/{token}/events", s.orderEvents)

	for path, h := range map[string]http.HandlerFunc{
		"/open-data/waiting-od.json":    s.openDataOD,
		"/open-data/wartezeiten.json":   s.openDataWartezeiten,
		"/open-data/waiting-times.json": s.openDataWaitingTimes,
	} {
		r.Get(path, h)
		r.Head(path, h)
		r.Options(path, s.openDataPreflight)
	}

	r.Get("/api/v1/sites", s.apiSites)
	r.Get("/api/v1/tickets/{token}", s.apiTicket)
	r.Get("/api/v1/booking/slots", s.apiSlots)
	r.Post("/api/v1/appointments", s.apiHoldAppointment)
	r.Get("/api/v1/appointments/{token}", s.apiAppointment)
	r.Get("/api/v1/appointments/{token}/ics", s.apiAppointmentICS)
	r.Post("/api/v1/appointments/{token}/confirm", s.apiConfirmAppointment)
	r.Post("/api/v1/appointments/{token}/cancel", s.apiCancelAppointment)
	r.Post("/api/v1/orders", s.apiPlaceOrder)
	r.Get("/api/v1/plates/{plate}", s.apiPlate)
	r.Post("/api/v1/plates/reservations", s.apiReservePlate)
	r.Get("/api/v1/orders/{token}", s.apiOrder)
	// The payment provider's server-to-server notification: no Origin or
	// Sec-Fetch-Site header, so the cross-origin protection lets it by;
	// its HMAC signature is what authenticates it.
	r.Post("/api/v1/payments/notify", s.apiPaymentNotify)
	r.Post("/api/v1/sync/batches", s.postBatch)
	r.Post("/api/v1/sync/enroll", s.postEnroll)
	r.With(s.requireAdminAPI).Get("/api/v1/sync/rejections", s.apiRejections)
	// A long poll waits up to MaxOutboundWait: longer than the server's
	// write timeout.
	r.With(web.WriteTimeout(MaxOutboundWait+30*time.Second)).Get("/api/v1/sync/outbound", s.getOutbound)
	r.Get("/api/v1/sync/log", s.getSiteLog)     // a replacement appliance restores its site (sitelog.go)
	r.Route("/api/v1/sync/blobs", s.blobRoutes) // files, chunk by chunk (blobs.go)
	r.With(s.requireAdminAPI).Get("/api/v1/sync/status", s.apiSyncStatus)
	r.With(s.requireAdminAPI).Get("/api/v1/devices", s.apiDevices)
	r.Get("/api/v1/sync/update", s.getUpdate)
	// 8 MiB over a site's slow line may take minutes; a cut range is
	// resumed where it broke.
	r.With(web.WriteTimeout(10*time.Minute)).Get("/api/v1/sync/update/bundle", s.getUpdateBundle)
	r.With(s.requireAdminAPI).Get("/api/v1/rollout", s.apiRollout)
	r.With(s.requireAdminAPI).Put("/api/v1/rollout", s.apiSetRollout)
	r.With(s.requireAdminAPI).Post("/api/v1/exam/cohort", s.apiImportCohort)
	r.With(s.requireAdminAPI).Get("/api/v1/exam/statistics", s.apiExamStatistics)
	r.With(s.requireAdminAPI).Get("/api/v1/cluster", s.apiCluster)
	r.Route("/admin", s.adminRoutes)
	s.vehicleRoutes(r) // i-Kfz applications, /verify (vehicle.go)
	if s.Business != nil {
		s.businessRoutes(r) // the business portal (business.go)
	}
	return r
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// healthz answers load balancers and the fleet view.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	web.JSON(w, http.StatusOK, struct {
		Role    string `json:"role"`
		Version string `json:"version"`
		Sites   int    `json:"sites"`
	}{"central", veedel.Version, len(s.Central.Sites())})
}

// notFound answers unknown routes: JSON under /api/, a page elsewhere.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) {
		web.Error(w, r, veedel.Errorf(veedel.ENOTFOUND, "Unbekannte Adresse / unknown path"))
		return
	}
	lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
	s.renderNotFound(w, r, lang, ui.Translate(lang, "notfound"), ui.Translate(lang, "notfound.text"))
}

func (s *Server) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) {
		web.JSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "Methode nicht erlaubt / method not allowed"})
		return
	}
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}

func isAPI(r *http.Request) bool {
	return r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/")
}

// notFoundData is what page_notfound.html shows.
type notFoundData struct {
	Heading string
	Text    string
	Back    string // a link back to the ticket's status page, or ""
}

func (s *Server) renderNotFound(w http.ResponseWriter, r *http.Request, lang, heading, text string) {
	s.renderMessage(w, r, http.StatusNotFound, lang, notFoundData{Heading: heading, Text: text})
}

// renderMessage renders a citizen's message page (page_notfound.html)
// with status. Its language menu links to d.Back when set: the request's
// own path may accept only POST (a cancellation, an SMS sign-up).
func (s *Server) renderMessage(w http.ResponseWriter, r *http.Request, status int, lang string, d notFoundData) {
	w.Header().Set("Cache-Control", "no-store")
	path := r.URL.Path
	if d.Back != "" {
		path = d.Back
	}
	s.Renderer.Render(w, status, "notfound", ui.Page{
		Lang: lang, Title: d.Heading, Surface: "portal", Path: path, Langs: ui.CitizenLangs, Data: d,
	})
}

// stream runs a Server-Sent Events stream woken by new entries of site (""
// for any site) and every refreshEvery.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, site string, render func() (string, []byte)) {
	// An http.Server WriteTimeout would cut the stream; lift it for this
	// response where the server allows it.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	sub, cancel := s.Central.Subscribe(site)
	defer cancel()
	wake := make(chan struct{}, 1)
	ctx := r.Context()
	go func() {
		tick := time.NewTicker(refreshEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-sub:
			case <-tick.C:
			}
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	}()
	web.SSE(w, r, wake, render)
}
