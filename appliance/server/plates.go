package server

import (
	"context"
	"net/http"
	"time"

	"github.com/veedel/veedel/appliance/plates"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/workflow"
)

// The registration desk's plates (appliance/plates): staff assign the next
// plate of the site's blocks to a walk-in registration, or the plate a
// citizen reserved, and give one back when a registration is cancelled.

// plateRoutes adds the plates API under /api/v1.
func (s *Server) plateRoutes(r interface {
	Get(string, http.HandlerFunc)
	Post(string, http.HandlerFunc)
}) {
	r.Get("/plates", s.apiPlates)
	r.Post("/plates/assign", s.apiAssignPlate)
	r.Post("/plates/return", s.apiReturnPlate)
}

// apiPlates: GET /api/v1/plates → the site's blocks and counts.
func (s *Server) apiPlates(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.staff(w, r); !ok {
		return
	}
	o, err := plates.Summary(r.Context(), s.Store.Read())
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	web.JSON(w, http.StatusOK, o)
}

// AssignPlate assigns a plate (plates.Assign) through the change-log.
func (s *Server) AssignPlate(ctx context.Context, req plates.AssignRequest) (plates.Assigned, error) {
	var out *plates.Assigned
	_, err := s.Store.ExecuteTx(ctx, func(_ *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
		events, a, err := plates.Assign(ctx, q, at, req)
		out = a
		return events, err
	})
	if err != nil {
		return plates.Assigned{}, err
	}
	return *out, nil
}

// apiAssignPlate: POST /api/v1/plates/assign {"reservation_token"?, "ref"?}
// → 201 {"plate","reserved","left"}; 503 when the site's blocks are used
// up, 404/409 for a reservation unknown here, assigned or expired.
func (s *Server) apiAssignPlate(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.staff(w, r); !ok {
		return
	}
	var req plates.AssignRequest
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	a, err := s.AssignPlate(r.Context(), req)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	web.JSON(w, http.StatusCreated, map[string]any{"plate": a.Plate, "reserved": a.TokenHash != nil, "left": a.Left})
}

// apiReturnPlate: POST /api/v1/plates/return {"plate"} → 200: the
// registration was cancelled; the plate goes back to central.
func (s *Server) apiReturnPlate(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.staff(w, r); !ok {
		return
	}
	var req struct {
		Plate string `json:"plate"`
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	var plate string
	_, err := s.Store.ExecuteTx(r.Context(), func(_ *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
		events, err := plates.Return(r.Context(), q, at, req.Plate)
		if len(events) > 0 {
			plate = events[0].Payload.(*plates.Returned).Plate
		}
		return events, err
	})
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, map[string]any{"plate": plate, "returned": true})
}
