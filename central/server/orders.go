package server

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/veedel/veedel/appliance/appointment"

	"github.com/go-chi/chi/v5"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/registration"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/web"
)

// Certificate orders from home (appliance/registration): placed here,
// worked on at the owning site, followed by the citizen with the private
// token the order returned.

// MaxOrderBody bounds an order's JSON.
const MaxOrderBody = 16 << 10

func (s *Server) orders() *registration.Central {
	return s.Central.Workflow(registration.Prefix).(*registration.Central)
}

// apiPlaceOrder: POST /api/v1/orders.
func (s *Server) apiPlaceOrder(w http.ResponseWriter, r *http.Request) {
	var req registration.OrderRequest
	r.Body = http.MaxBytesReader(w, r.Body, MaxOrderBody)
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	placed, err := s.orders().Place(r.Context(), s.orderHost(), req, s.Central.Now())
	if err != nil {
		web.Error(w, r, err)
		return
	}
	// The confirmation goes out while central still holds the contact in
	// this request; from now on only the owning site has it.
	if s.Notify != nil && req.Contact.Email != "" {
		name := strings.TrimSpace(req.Person.GivenNames + " " + req.Person.FamilyName)
		body := fmt.Sprintf("Ihre Bestellung %s ist eingegangen. Gebühr: %d,%02d €.\nStatus: %s/o/%s\n\nYour order %s has been received.",
			placed.Code, placed.FeeCents/100, placed.FeeCents%100, s.publicBase(r), placed.Token, placed.Code)
		if placed.Status == registration.StatusAwaitingPayment {
			body += "\n\nBezahlung ausstehend: ohne Zahlung binnen 30 Minuten verfällt die Bestellung. / Payment pending: unpaid, the order lapses after 30 minutes."
		}
		if err := s.Notify.Notify(r.Context(), appointment.Contact{Name: name, Email: req.Contact.Email}, req.Lang,
			"Bestellung "+placed.Code+" eingegangen / order received", body); err != nil {
			s.Logger.Warn("order confirmation not queued", "err", err) // the order stands; the status link was shown
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	out := map[string]any{
		"code": placed.Code, "token": placed.Token, "site": placed.Site, "status": placed.Status,
		"fee_cents": placed.FeeCents, "status_url": "/api/v1/orders/" + placed.Token,
	}
	if placed.Status == registration.StatusAwaitingPayment {
		// Where to send the citizen: the provider's page, or, if the
		// provider cannot be reached now, central's link that tries again.
		to, err := s.startPayment(r.Context(), r, placed.Code, placed.Token, placed.FeeCents)
		if err != nil {
			s.Logger.Warn("payment not started", "err", err)
			to = s.publicBase(r) + payAgainPath(placed.Token)
		}
		out["payment_url"] = to
	}
	web.JSON(w, http.StatusCreated, out)
}

// OrderStatus is an order as its citizen's status page and API show it.
type OrderStatus struct {
	// The order as central knows it: status only, nothing personal
	// (payment says how it is paid).
	registration.CentralOrder
	// LastSync is the owning site's last contact; Stale says the status
	// may be older than what the site knows.
	LastSync time.Time `json:"last_sync,omitzero"`
	Stale    bool      `json:"stale"`
	// PaymentURL starts a new attempt at the payment provider while the
	// order awaits its payment.
	PaymentURL string `json:"payment_url,omitempty"`
}

// apiOrder: GET /api/v1/orders/{token}.
func (s *Server) apiOrder(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	o, ok := s.orders().ByToken(chi.URLParam(r, "token"))
	if !ok {
		web.Error(w, r, veedel.Errorf(veedel.ENOTFOUND, "Bestellung nicht gefunden / order not found"))
		return
	}
	st := OrderStatus{CentralOrder: o}
	if o.Status == registration.StatusAwaitingPayment {
		st.PaymentURL = s.publicBase(r) + payAgainPath(chi.URLParam(r, "token"))
	}
	if last, ok := s.Central.LastContact(o.Site); ok {
		st.LastSync = last
		st.Stale = s.Central.Now().Sub(last) > central.StaleAfter
	} else {
		st.Stale = true
	}
	web.JSON(w, http.StatusOK, st)
}
