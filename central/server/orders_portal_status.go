package server

import (
	"encoding/json"
	"html/template"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/veedel/veedel/appliance/registration"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/ui"
)

// An order's confirmation (/o/{token}/bestaetigung) and its private status
// page (/o/{token}), both behind the token Place returned: neither shows
// personal data (central has none), both are no-store and never indexed.

// orderView is an order as its confirmation and status page show it.
type orderView struct {
	Code      []string // grouped for reading aloud
	CodePlain string
	Kind      string
	KindLabel string
	Civil     bool
	Copies    int
	Fee       string
	Pickup    bool
	SiteName  string
	Status    string
	StateText template.HTML // the site's name isolated (<bdi>) inside Arabic text
	Reason    string
	Steps     []orderStep
	Changed   string // "Letzte Änderung: 06.12.2026 10:42"
	Fresh     string // "Stand: vor 3 Minuten": the site's last contact
	Stale     bool
	Page      string // the status page
	Events    string
	StatusURL string // the status page's absolute address, to keep
	FeePay    string // how the fee is paid
	PayAgain  string // "Erneut bezahlen": while the payment is awaited
}

// orderStep is one step of the status list.
type orderStep struct {
	Label   string
	Done    bool
	Current bool
	Bad     bool // rejected
}

// orderByToken finds the order behind the request's token. The token
// never goes to a log: the access log records the route pattern only.
func (s *Server) orderByToken(r *http.Request) (registration.CentralOrder, bool) {
	token := chi.URLParam(r, "token")
	if token == "" || len(token) > maxTokenLen {
		return registration.CentralOrder{}, false
	}
	return s.orders().ByToken(token)
}

func (s *Server) orderView(r *http.Request, lang string, o registration.CentralOrder) orderView {
	now := s.now()
	page := orderPage(chi.URLParam(r, "token"))
	v := orderView{
		Code: groupCode(o.Code), CodePlain: o.Code, Kind: o.Kind, KindLabel: ui.Translate(lang, "portal.order.kind."+o.Kind),
		Civil: registration.CivilStatus(o.Kind), Copies: o.Copies, Fee: money(lang, o.FeeCents),
		Pickup: o.Delivery != registration.DeliveryPost, SiteName: s.siteName(o.Site), Status: o.Status, Reason: o.Reason,
		Page: page, Events: page + "/events", StatusURL: s.publicBase(r) + page,
	}
	v.StateText = ui.Isolated(lang, "portal.order.state."+o.Status)
	if o.Status == registration.StatusReady {
		v.StateText = ui.Isolated(lang, "portal.order.state.ready", v.SiteName)
	}
	v.Steps = orderSteps(lang, o.Status, v.Pickup)
	v.FeePay = ui.Translate(lang, "portal.order.fee.pay")
	if o.Payment == registration.PaymentOnline {
		v.FeePay = ui.Translate(lang, "portal.order.fee.pay.online")
		v.Steps = append(paymentSteps(lang, o.Status), v.Steps...)
	}
	if o.Status == registration.StatusAwaitingPayment {
		v.PayAgain = payAgainPath(chi.URLParam(r, "token"))
	}
	if !o.UpdatedAt.IsZero() {
		v.Changed = ui.Translate(lang, "portal.order.changed", o.UpdatedAt.In(berlin).Format("02.01.2006 15:04"))
	}
	last, ok := s.Central.LastContact(o.Site)
	v.Fresh = orderFreshness(lang, last, ok, now)
	v.Stale = !ok || now.Sub(last) > central.StaleAfter
	return v
}

// orderSteps lists the steps of an order in its delivery, the current one
// marked: received → at the site → in progress → ready → collected for
// pickup, … → dispatched by post; a rejected order ends with "rejected".
func orderSteps(lang, status string, pickup bool) []orderStep {
	seq := []string{registration.StatusReceived, registration.StatusAtSite, registration.StatusInProgress}
	if pickup {
		seq = append(seq, registration.StatusReady, registration.StatusCollected)
	} else {
		seq = append(seq, registration.StatusDispatched)
	}
	if status == registration.StatusRejected {
		seq = []string{registration.StatusReceived, registration.StatusAtSite, registration.StatusRejected}
	}
	if status == registration.StatusPaymentFailed {
		return nil // paymentSteps says all there is
	}
	at := -1
	for i, st := range seq {
		if st == status {
			at = i
		}
	}
	out := make([]orderStep, len(seq))
	for i, st := range seq {
		out[i] = orderStep{Label: ui.Translate(lang, "portal.order.step."+st), Done: i < at || (i == at && i == len(seq)-1 && status != registration.StatusRejected),
			Current: i == at, Bad: st == registration.StatusRejected}
	}
	return out
}

// paymentSteps is the first step of an order paid online: the payment,
// current while awaited, done once the order went on, bad when failed.
func paymentSteps(lang, status string) []orderStep {
	switch status {
	case registration.StatusAwaitingPayment:
		return []orderStep{{Label: ui.Translate(lang, "portal.order.step.awaiting_payment"), Current: true}}
	case registration.StatusPaymentFailed:
		return []orderStep{{Label: ui.Translate(lang, "portal.order.step.payment_failed"), Current: true, Bad: true}}
	}
	return []orderStep{{Label: ui.Translate(lang, "portal.order.step.paid"), Done: true}}
}

// orderFreshness says how fresh the status is: the owning site's last
// contact, "Stand: vor 3 Minuten" within the hour, the clock time after.
func orderFreshness(lang string, last time.Time, ok bool, now time.Time) string {
	if !ok || last.IsZero() {
		return ui.Translate(lang, "portal.order.fresh.never")
	}
	m := int(now.Sub(last).Minutes())
	switch {
	case m < 1:
		return ui.Translate(lang, "portal.order.fresh.now")
	case m >= 60:
		l, n := last.In(berlin), now.In(berlin)
		layout := "15:04"
		if l.Format(time.DateOnly) != n.Format(time.DateOnly) {
			layout = "02.01. 15:04"
		}
		return ui.Translate(lang, "portal.order.fresh.at", l.Format(layout))
	}
	return ui.Translate(lang, "portal.order.fresh.ago", m) // plural forms: ui/locales
}

// siteName is a site's name from the directory or its log, else its ID.
func (s *Server) siteName(id string) string {
	for _, site := range s.Central.Sites() {
		if site.ID == id {
			return site.Name
		}
	}
	return id
}

func (s *Server) orderHeaders(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Robots-Tag", "noindex, nofollow")
}

func (s *Server) orderNotFound(w http.ResponseWriter, r *http.Request, lang string) {
	s.renderNotFound(w, r, lang, ui.Translate(lang, "portal.order.notfound.title"), ui.Translate(lang, "portal.order.notfound"))
}

// orderPlacedPage: GET /o/{token}/bestaetigung, where the form goes after
// placing: the code, the fee, what to bring and the private status link.
func (s *Server) orderPlacedPage(w http.ResponseWriter, r *http.Request) {
	lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
	s.orderHeaders(w)
	o, ok := s.orderByToken(r)
	if !ok {
		s.orderNotFound(w, r, lang)
		return
	}
	v := s.orderView(r, lang, o)
	s.Renderer.Render(w, http.StatusOK, "order_placed", ui.Page{
		Lang: lang, Title: ui.Translate(lang, "portal.order.placed.title"), Surface: "portal", Path: v.Page + "/bestaetigung", Langs: ui.CitizenLangs, Data: v,
	})
}

// orderStatusPage: GET /o/{token}, the order's private status page.
func (s *Server) orderStatusPage(w http.ResponseWriter, r *http.Request) {
	lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
	s.orderHeaders(w)
	o, ok := s.orderByToken(r)
	if !ok {
		s.orderNotFound(w, r, lang)
		return
	}
	v := s.orderView(r, lang, o)
	s.Renderer.Render(w, http.StatusOK, "order_status", ui.Page{
		Lang: lang, Title: ui.Translate(lang, "portal.order.status.title"), Surface: "portal", Path: v.Page, Langs: ui.CitizenLangs, Data: v,
	})
}

// liveOrder is what the status page's event stream sends: enough for the
// page to know that it changed (it then fetches itself anew, in its
// language), nothing personal.
type liveOrder struct {
	Status    string    `json:"status"`
	UpdatedAt time.Time `json:"updated_at"`
	LastSync  time.Time `json:"last_sync,omitzero"`
	Stale     bool      `json:"stale"`
	Minutes   int       `json:"minutes"` // since the site's last contact
}

// orderEvents: GET /o/{token}/events streams event "order" whenever the
// owning site's log grows, and every refreshEvery (freshness changes
// with time alone).
func (s *Server) orderEvents(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orderByToken(r)
	if !ok {
		s.apiNotFound(w, r)
		return
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	token := chi.URLParam(r, "token")
	s.stream(w, r, o.Site, func() (string, []byte) {
		o, ok := s.orders().ByToken(token)
		if !ok {
			return "gone", []byte("{}")
		}
		now := s.now()
		l := liveOrder{Status: o.Status, UpdatedAt: o.UpdatedAt, Stale: true}
		if last, ok := s.Central.LastContact(o.Site); ok {
			l.LastSync, l.Stale, l.Minutes = last, now.Sub(last) > central.StaleAfter, int(now.Sub(last).Minutes())
		}
		data, _ := json.Marshal(l)
		return "order", data
	})
}
