package server

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/registration"
	"github.com/veedel/veedel/internal/web"
)

// The back office's API for certificate orders (appliance/registration):
// staff list the orders this site owns and take them through their steps.

// MaxOrderList bounds one listing.
const MaxOrderList = 500

// apiOrders: GET /api/v1/orders?status=….
func (s *Server) apiOrders(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.staff(w, r); !ok {
		return
	}
	status := r.URL.Query().Get("status")
	if !registration.ValidStatus(status) {
		web.Error(w, r, &veedel.Error{Code: veedel.EINVALID, Message: "Unbekannter Status / unknown status",
			Fields: map[string]string{"status": "open, at_site, in_progress, ready, dispatched, collected, rejected"}})
		return
	}
	limit := MaxOrderList
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxOrderList {
			web.Error(w, r, &veedel.Error{Code: veedel.EINVALID, Message: "limit: 1–500", Fields: map[string]string{"limit": "1–500"}})
			return
		}
		limit = n
	}
	orders, err := registration.List(r.Context(), s.Store.Read(), status, limit)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	web.JSON(w, http.StatusOK, orders)
}

// orderActionRequest is the optional body of an order action.
type orderActionRequest struct {
	Reason string `json:"reason,omitempty"`
}

// apiOrderAction: POST /api/v1/orders/{code}/{claim|ready|dispatch|reject|collect}.
func (s *Server) apiOrderAction(w http.ResponseWriter, r *http.Request) {
	staff, ok := s.staff(w, r)
	if !ok {
		return
	}
	var req orderActionRequest
	if r.ContentLength != 0 {
		r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
		if err := web.DecodeJSON(r, &req); err != nil {
			web.Error(w, r, err)
			return
		}
	}
	code, action := chi.URLParam(r, "code"), chi.URLParam(r, "action")
	if err := s.orderStep(r.Context(), code, action, staff, req.Reason); err != nil {
		web.Error(w, r, err)
		return
	}
	o, err := registration.Get(r.Context(), s.Store.Read(), code)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, o)
}
