package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/central/business"
	"github.com/veedel/veedel/internal/login"
	"github.com/veedel/veedel/internal/ratelimit"
	"github.com/veedel/veedel/internal/web"
)

// The business portal (Unternehmen): companies' machine clients at
//
//	POST /api/v1/business/vehicle-applications       a JSON array of rows
//	     (business.Row) or text/csv (business.CSVColumns), at most 500
//	     → 207 business.Results, a result per row
//	GET  /api/v1/business/vehicle-applications       the company's newest
//	GET  /api/v1/business/vehicle-applications/{id}  one of them
//
// with "Authorization: Bearer <API key>", each company limited to
// BusinessLimit requests; its people at /unternehmen (business_portal.go).

// BusinessLimit bounds a company's API requests: 20 at once, then one
// every 3 seconds (a bulk upload of 500 rows is one request).
var BusinessLimit = ratelimit.Limit{Burst: 20, Every: 3 * time.Second}

// businessState is what the portal's handlers share, made on first use.
type businessState struct {
	once    sync.Once
	limiter *ratelimit.Limiter
	logins  *login.Guard // passwords and TOTP codes, throttled as the admins'
	checker login.Checker
	keyOnce sync.Once
	key     []byte
	keyErr  error
}

func (s *Server) businessRoutes(r chi.Router) {
	s.biz.once.Do(func() {
		l := s.BusinessLimit
		if l.Burst == 0 {
			l = BusinessLimit
		}
		s.biz.limiter = ratelimit.New(l)
		s.biz.logins = login.NewGuard(login.DefaultPolicy, s.Central.LoginJournal(), s.now, s.Logger)
	})
	// Every status change of a company's application queues its webhook
	// delivery (keyed, so the replay at start-up queues nothing twice).
	s.Central.OnVehicleStatusChange(func(c vehicle.StatusChange) {
		if c.Company == "" {
			return
		}
		queued, err := s.Business.EnqueueChange(context.Background(), c, s.now())
		if err != nil {
			s.Logger.Error("webhook: queue", "company", c.Company, "application", c.ID, "err", err)
		}
		if queued && s.Webhooks != nil {
			s.Webhooks.Kick()
		}
	})
	// What was folded before this hook existed (a crash between a
	// change's commit and its delivery's) is queued now.
	model := s.Central.VehicleApplications()
	if n, err := s.Business.CatchUp(context.Background(), func(id string) (vehicle.StatusChange, bool) {
		a, ok := model.ByID(id)
		return vehicle.StatusChange{ID: a.ID, Status: a.Status, Plate: a.Plate, Reason: a.Reason, At: a.Updated.UnixMilli()}, ok
	}, s.now()); err != nil {
		s.Logger.Error("webhook: catch up", "err", err)
	} else if n > 0 {
		s.Logger.Info("webhook: deliveries queued at start", "queued", n)
	}
	r.Route("/api/v1/business", func(r chi.Router) {
		r.Use(s.requireAPIKey)
		r.Post("/vehicle-applications", s.apiBusinessSubmit)
		r.Get("/vehicle-applications", s.apiBusinessList)
		r.Get("/vehicle-applications/{id}", s.apiBusinessApplication)
	})
	s.businessPortalRoutes(r)
}

// businessKey is central's key for the portal's sealed secrets.
func (s *Server) businessKey(ctx context.Context) ([]byte, error) {
	s.biz.keyOnce.Do(func() { s.biz.key, s.biz.keyErr = s.Central.BusinessKey(ctx) })
	return s.biz.key, s.biz.keyErr
}

type companyCtxKey struct{}

// requireAPIKey lets requests with a company's valid API key through,
// within the company's rate limit.
func (s *Server) requireAPIKey(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || key == "" || len(key) > 200 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="veedel business"`)
			web.Error(w, r, veedel.Errorf(veedel.EUNAUTHORIZED, "API-Schlüssel fehlt: Authorization: Bearer <Schlüssel> / API key missing: Authorization: Bearer <key>"))
			return
		}
		company, err := s.Business.Authenticate(r.Context(), strings.TrimSpace(key))
		if err != nil {
			if veedel.ErrorCode(err) == veedel.EUNAUTHORIZED {
				w.Header().Set("WWW-Authenticate", `Bearer realm="veedel business", error="invalid_token"`)
			}
			web.Error(w, r, err)
			return
		}
		if ok, wait := s.biz.limiter.Allow(company, s.now()); !ok {
			tooMany(w, wait, "Zu viele Anfragen dieser Firma: bitte später erneut / too many requests from this company: please try later")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), companyCtxKey{}, company)))
	})
}

func companyOf(r *http.Request) string {
	c, _ := r.Context().Value(companyCtxKey{}).(string)
	return c
}

// bulkSubmit parses an upload and submits its rows for company.
func (s *Server) bulkSubmit(w http.ResponseWriter, r *http.Request, company, contentType string) (business.Results, error) {
	body := http.MaxBytesReader(w, r.Body, business.MaxBody)
	rows, err := business.Parse(contentType, body)
	if isTooBig(err) || errors.Is(err, business.ErrTooMany) {
		return business.Results{}, errTooLarge
	}
	if err != nil {
		return business.Results{}, err
	}
	return s.Business.SubmitAll(r.Context(), s.Central, company, rows, s.now), nil
}

var errTooLarge = veedel.Errorf(veedel.EINVALID, "Zu groß: höchstens %d Anträge und 4 MB je Anfrage, bitte aufteilen / too large: at most %d applications and 4 MB per request, please split the upload", business.MaxRows, business.MaxRows)

// apiBusinessSubmit: POST /api/v1/business/vehicle-applications.
func (s *Server) apiBusinessSubmit(w http.ResponseWriter, r *http.Request) {
	res, err := s.bulkSubmit(w, r, companyOf(r), r.Header.Get("Content-Type"))
	if errors.Is(err, errTooLarge) {
		web.JSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": veedel.ErrorMessage(err)})
		return
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, http.StatusMultiStatus, res)
}

// BusinessApplication is one of a company's applications in the API.
type BusinessApplication struct {
	RowKey    string    `json:"row_key,omitempty"`
	Submitted time.Time `json:"submitted"`
	vehicle.StatusView
}

// companyApplications returns a company's newest applications with their
// statuses, those of status only when status is not "".
func (s *Server) companyApplications(ctx context.Context, company, status string, limit int) ([]BusinessApplication, error) {
	subs, err := s.Business.Applications(ctx, company, limit)
	if err != nil {
		return nil, err
	}
	model := s.Central.VehicleApplications()
	var out []BusinessApplication
	for _, sub := range subs {
		a, ok := model.ByID(sub.AppID)
		if !ok {
			a = vehicle.CentralApplication{ID: sub.AppID, Status: vehicle.StatusSubmitted}
		}
		if status != "" && a.Status != status {
			continue
		}
		out = append(out, BusinessApplication{RowKey: sub.RowKey, Submitted: sub.Created, StatusView: a.View("")})
	}
	return out, nil
}

// apiBusinessList: GET /api/v1/business/vehicle-applications[?status=].
func (s *Server) apiBusinessList(w http.ResponseWriter, r *http.Request) {
	list, err := s.companyApplications(r.Context(), companyOf(r), r.URL.Query().Get("status"), 1000)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, map[string]any{"applications": list})
}

// apiBusinessApplication: GET /api/v1/business/vehicle-applications/{id}.
func (s *Server) apiBusinessApplication(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	ok, err := s.Business.OwnsApplication(r.Context(), companyOf(r), id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	a, found := s.Central.VehicleApplications().ByID(id)
	if !ok {
		web.Error(w, r, veedel.Errorf(veedel.ENOTFOUND, "Antrag unbekannt / unknown application"))
		return
	}
	if !found {
		a = vehicle.CentralApplication{ID: id, Status: vehicle.StatusSubmitted}
	}
	web.JSON(w, http.StatusOK, a.View(""))
}
