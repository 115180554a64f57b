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
	placed, err := s.orders().Place(r.Context(), s.Central, req, s.Central.Now())
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
		if err := s.Notify.Notify(r.Context(), appointment.Contact{Name: name, Email: req.Contact.Email}, req.Lang,
			"Bestellung "+placed.Code+" eingegangen / order received", body); err != nil {
			s.Logger.Warn("order confirmation not queued", "err", err) // the order stands; the status link was shown
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	web.JSON(w, http.StatusCreated, map[string]any{
		"code": placed.Code, "token": placed.Token, "site": placed.Site, "status": placed.Status,
		"fee_cents": placed.FeeCents, "status_url": "/api/v1/orders/" + placed.Token,
	})
}

// OrderStatus is an order as its citizen's status page and API show it.
type OrderStatus struct {
	Code      string    `json:"code"`
	Site      string    `json:"site"`
	Kind      string    `json:"kind"`
	Delivery  string    `json:"delivery"`
	Copies    int       `json:"copies"`
	FeeCents  int       `json:"fee_cents"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	PlacedAt  time.Time `json:"placed_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// LastSync is the owning site's last contact; Stale says the status
	// may be older than what the site knows.
	LastSync time.Time `json:"last_sync,omitzero"`
	Stale    bool      `json:"stale"`
}

// apiOrder: GET /api/v1/orders/{token}.
func (s *Server) apiOrder(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	o, ok := s.orders().ByToken(chi.URLParam(r, "token"))
	if !ok {
		web.Error(w, r, veedel.Errorf(veedel.ENOTFOUND, "Bestellung nicht gefunden / order not found"))
		return
	}
	st := OrderStatus{Code: o.Code, Site: o.Site, Kind: o.Kind, Delivery: o.Delivery, Copies: o.Copies, FeeCents: o.FeeCents,
		Status: o.Status, Reason: o.Reason, PlacedAt: o.PlacedAt, UpdatedAt: o.UpdatedAt}
	if last, ok := s.Central.LastContact(o.Site); ok {
		st.LastSync = last
		st.Stale = s.Central.Now().Sub(last) > central.StaleAfter
	} else {
		st.Stale = true
	}
	web.JSON(w, http.StatusOK, st)
}
