package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/plates"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/sync/blob"
	"github.com/veedel/veedel/workflow"
)

// The registration site's back office for i-Kfz applications
// (appliance/vehicle): the steps as commands through the change-log, the
// approval with its plate and its provisional proof of registration, and
// the JSON API. The desk's pages are desk_vehicle.go, the PDF
// vehicle_pdf.go. Every logged-in staff member may work on applications,
// as on certificate orders.

// vehicleStep takes an application through a step other than approval.
func (s *Server) vehicleStep(ctx context.Context, st vehicle.Step) error {
	_, err := s.Store.ExecuteTx(ctx, func(_ *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
		e, err := vehicle.Decide(ctx, q, at, st)
		if err != nil {
			return nil, err
		}
		return []queue.Event{e}, nil
	})
	return err
}

// errPermitMoved is an approval whose plate changed between the permit's
// rendering and the command (another approval took it): render again.
var errPermitMoved = errors.New("the plate changed since the permit was rendered")

// approveVehicle approves an application for staff. The permit PDF must
// be in the site's file store before the command that references it
// (sync/blob), but its plate is only decided in the command: so the
// decision is first taken on the read pool without committing, the PDF
// rendered for it and stored, and the command decides again under the
// store's lock and, when it comes to the same plate, FIN, code and day,
// offers the stored PDF up to central in its transaction. Should another
// approval have taken the plate in between, it goes round again (the PDF
// left over references nothing and is never sent).
func (s *Server) approveVehicle(ctx context.Context, id, staff string) (*vehicle.ApplicationApproved, error) {
	code, err := permitCode()
	if err != nil {
		return nil, err
	}
	head := s.sender()
	for range 5 {
		now := s.current()
		validUntil := s.siteDay(now).AddDate(0, 0, vehicle.PermitDays).Format(time.DateOnly)
		// The dry run: decided on the read pool, nothing written.
		var pdfBytes []byte
		var planned vehicle.ApplicationApproved
		_, _, err := vehicle.Approve(ctx, s.Store.Read(), now, s.approval(ctx, s.Store.Read(), now, id, staff, code, validUntil,
			func(p *vehicle.ApplicationApproved) (blob.Ref, error) {
				b, err := s.permitPDF(p, now, head)
				pdfBytes, planned = b, *p
				return blob.Ref{}, err
			}))
		if err != nil {
			return nil, err
		}
		stored, err := s.Store.Blobs().Put(ctx, bytes.NewReader(pdfBytes), vehicle.PermitName(id), int64(len(pdfBytes)))
		if err != nil {
			return nil, err
		}
		var out *vehicle.ApplicationApproved
		_, err = s.Store.ExecuteTx(ctx, func(_ *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
			events, p, err := vehicle.Approve(ctx, q, at, s.approval(ctx, q, at, id, staff, code, validUntil,
				func(p *vehicle.ApplicationApproved) (blob.Ref, error) {
					// The stored permit shows what it was rendered for.
					if p.Plate != planned.Plate || p.FIN != planned.FIN || p.Code != planned.Code || p.ValidUntil != planned.ValidUntil {
						return blob.Ref{}, errPermitMoved
					}
					return stored, blob.Offer(ctx, q, stored)
				}))
			out = p
			return events, err
		})
		if errors.Is(err, errPermitMoved) {
			continue
		}
		return out, err
	}
	return nil, veedel.Errorf(veedel.ECONFLICT, "Zu viele gleichzeitige Genehmigungen: bitte noch einmal / too many approvals at once: please try again")
}

// approval is the approval of id by staff as of at, its plate through
// appliance/plates in q.
func (s *Server) approval(ctx context.Context, q workflow.Querier, at time.Time, id, staff, code, validUntil string,
	permit func(*vehicle.ApplicationApproved) (blob.Ref, error)) vehicle.Approval {
	return vehicle.Approval{ID: id, Staff: staff, Code: code, ValidUntil: validUntil, Permit: permit,
		Plate: func(reservation []byte, ref string) ([]workflow.Event, string, error) {
			events, a, err := plates.Assign(ctx, q, at, plates.AssignRequest{TokenHash: reservation, Ref: ref})
			if err != nil {
				return nil, "", err
			}
			return events, a.Plate, nil
		}}
}

// permitAlphabet is the verification code's: no 0/O, 1/I/L to confuse.
const permitAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// permitCode returns a random verification code (12 characters, about 59
// bits): what the QR code and central's /verify/{code} carry.
func permitCode() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = permitAlphabet[int(b[i])%len(permitAlphabet)]
	}
	return string(b), nil
}

// siteDay is the site's calendar day of t, at midnight.
func (s *Server) siteDay(t time.Time) time.Time {
	loc := time.Local
	s.Store.View(func(st *queue.State) {
		if st.Site.Location != nil {
			loc = st.Site.Location
		}
	})
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// vehicleAction runs one of the back office's actions on id.
func (s *Server) vehicleAction(ctx context.Context, id, action, staff string, req vehicleActionRequest) error {
	if action == vehicle.ActionApprove {
		_, err := s.approveVehicle(ctx, id, staff)
		return err
	}
	st := vehicle.Step{ID: id, Action: action, Staff: staff, Reason: req.Reason, Check: req.Check}
	if req.OK != nil {
		st.OK = *req.OK
	} else if action == vehicle.ActionCheck {
		return &veedel.Error{Code: veedel.EINVALID, Message: "Ergebnis der Prüfung fehlt / the check's result is missing", Fields: map[string]string{"ok": "true / false"}}
	}
	return s.vehicleStep(ctx, st)
}

// vehicleActionRequest is the optional body of an action.
type vehicleActionRequest struct {
	Reason string `json:"reason,omitempty"` // reject, request-info
	Check  string `json:"check,omitempty"`  // check
	OK     *bool  `json:"ok,omitempty"`     // check
}

// MaxVehicleList bounds one listing.
const MaxVehicleList = 500

// vehicleRoutes adds the API under /api/v1.
func (s *Server) vehicleRoutes(r interface {
	Get(string, http.HandlerFunc)
	Post(string, http.HandlerFunc)
}) {
	r.Get("/vehicle-applications", s.apiVehicleApplications)
	r.Post("/vehicle-applications/{id}/{action}", s.apiVehicleAction)
}

// apiVehicleApplications: GET /api/v1/vehicle-applications?status=…&process=…&limit=…
// (staff, HTTP Basic) → the applications, oldest first, without personal
// data.
func (s *Server) apiVehicleApplications(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.staff(w, r); !ok {
		return
	}
	q := r.URL.Query()
	f := vehicle.Filter{Status: q.Get("status"), Process: q.Get("process"), Limit: MaxVehicleList}
	switch {
	case !vehicle.ValidFilterStatus(f.Status):
		web.Error(w, r, &veedel.Error{Code: veedel.EINVALID, Message: "Unbekannter Status / unknown status",
			Fields: map[string]string{"status": "open, to_post, at_site, in_review, info_requested, approved, rejected"}})
		return
	case !vehicle.ValidProcess(f.Process):
		web.Error(w, r, &veedel.Error{Code: veedel.EINVALID, Message: "Unbekanntes Verfahren / unknown process",
			Fields: map[string]string{"process": "neuzulassung, umschreibung, wiederzulassung, ausserbetriebsetzung, adressaenderung"}})
		return
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxVehicleList {
			web.Error(w, r, &veedel.Error{Code: veedel.EINVALID, Message: "limit: 1–500", Fields: map[string]string{"limit": "1–500"}})
			return
		}
		f.Limit = n
	}
	apps, err := vehicle.Find(r.Context(), s.Store.Read(), f)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	web.JSON(w, http.StatusOK, apps)
}

// vehicleActions are the actions the API and the desk take.
var vehicleActions = []string{vehicle.ActionClaim, vehicle.ActionCheck, vehicle.ActionRequestInfo, vehicle.ActionReject, vehicle.ActionApprove, vehicle.ActionPost}

// apiVehicleAction: POST /api/v1/vehicle-applications/{id}/{claim|check|approve|reject|request-info|posted}
// with {"reason"} (reject, request-info) or {"check","ok"} (check) → 200
// with the application; 404 unknown, 409 a step its state does not
// allow, 400 a missing reason, 503 no plates left.
func (s *Server) apiVehicleAction(w http.ResponseWriter, r *http.Request) {
	staff, ok := s.staff(w, r)
	if !ok {
		return
	}
	var req vehicleActionRequest
	if r.ContentLength != 0 {
		r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
		if err := web.DecodeJSON(r, &req); err != nil {
			web.Error(w, r, err)
			return
		}
	}
	id, action := chi.URLParam(r, "id"), chi.URLParam(r, "action")
	if !slices.Contains(vehicleActions, action) {
		web.Error(w, r, veedel.Errorf(veedel.ENOTFOUND, "Unbekannter Schritt %q: claim, check, approve, reject, request-info, posted / unknown action", action))
		return
	}
	if err := s.vehicleAction(r.Context(), id, action, staff, req); err != nil {
		web.Error(w, r, err)
		return
	}
	a, err := vehicle.Get(r.Context(), s.Store.Read(), id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	web.JSON(w, http.StatusOK, a)
}
