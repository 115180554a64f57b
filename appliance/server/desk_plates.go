package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/plates"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/ui"
	"github.com/veedel/veedel/workflow"
)

// The registration desk's plates page (/desk/plates): the site's blocks,
// a form to assign the next plate (or a reserved one by its token) and one
// to give a cancelled registration's plate back to central.

func (s *Server) deskPlateRoutes(r interface {
	Get(string, http.HandlerFunc)
	Post(string, http.HandlerFunc)
}) {
	r.Get("/desk/plates", s.deskPlates)
	r.Post("/desk/plates/assign", s.deskPlateAssign)
	r.Post("/desk/plates/return", s.deskPlateReturn)
}

// hasPlates reports whether the site has plate blocks or reservations
// (the desk's link); false when the count fails.
func (s *Server) hasPlates(ctx context.Context) bool {
	o, err := plates.Summary(ctx, s.Store.Read())
	return err == nil && (len(o.Blocks) > 0 || o.Reservations > 0 || o.Assigned > 0)
}

type platesPage struct {
	SiteName string
	plates.Overview
	// NewPlate is the plate just assigned; Reserved: from a reservation.
	NewPlate string
	Reserved bool
	Returned string
	// Token, Ref, Plate are what was typed into a refused form, with the
	// fault shown at the field it names.
	Token, Ref, Plate string
	Error, ErrorField string
}

func (s *Server) renderPlates(w http.ResponseWriter, r *http.Request, status int, p platesPage) {
	lang := ui.Lang(w, r)
	o, err := plates.Summary(r.Context(), s.Store.Read())
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	p.Overview = o
	s.Store.View(func(st *queue.State) { p.SiteName = st.Site.Name })
	w.Header().Set("Cache-Control", "no-store")
	s.Renderer.Render(w, status, "desk_plates", ui.Page{Lang: lang, Title: ui.Translate(lang, "plates.title") + " · " + p.SiteName,
		Surface: "desk", Path: r.URL.Path, Data: p})
}

// deskPlates: GET /desk/plates.
func (s *Server) deskPlates(w http.ResponseWriter, r *http.Request) {
	s.renderPlates(w, r, http.StatusOK, platesPage{})
}

// formError turns a refused command into the page's error at its field.
func formError(w http.ResponseWriter, r *http.Request, err error, field string) (int, string, string) {
	var e *veedel.Error
	if errors.As(err, &e) {
		for f := range e.Fields {
			field = f
		}
	}
	return web.Status(err), ui.InLang(ui.Lang(w, r), veedel.ErrorMessage(err)), field
}

// deskPlateAssign: POST /desk/plates/assign (reservation_token, ref).
func (s *Server) deskPlateAssign(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	req := plates.AssignRequest{Token: r.PostForm.Get("reservation_token"), Ref: r.PostForm.Get("ref")}
	a, err := s.AssignPlate(r.Context(), req)
	if err != nil {
		if veedel.ErrorCode(err) == veedel.EINTERNAL {
			s.renderError(w, r, err)
			return
		}
		p := platesPage{Token: req.Token, Ref: req.Ref}
		field := "ref"
		if req.Token != "" {
			field = "reservation_token"
		}
		status, msg, field := formError(w, r, err, field)
		p.Error, p.ErrorField = msg, field
		s.renderPlates(w, r, status, p)
		return
	}
	s.renderPlates(w, r, http.StatusOK, platesPage{NewPlate: a.Plate, Reserved: a.TokenHash != nil})
}

// deskPlateReturn: POST /desk/plates/return (plate).
func (s *Server) deskPlateReturn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	plate := r.PostForm.Get("plate")
	var returned string
	_, err := s.Store.ExecuteTx(r.Context(), func(_ *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
		events, err := plates.Return(r.Context(), q, at, plate)
		if len(events) > 0 {
			returned = events[0].Payload.(*plates.Returned).Plate
		}
		return events, err
	})
	if err != nil {
		if veedel.ErrorCode(err) == veedel.EINTERNAL {
			s.renderError(w, r, err)
			return
		}
		status, msg, _ := formError(w, r, err, "plate")
		s.renderPlates(w, r, status, platesPage{Plate: plate, Error: msg, ErrorField: "plate"})
		return
	}
	s.renderPlates(w, r, http.StatusOK, platesPage{Returned: returned})
}
