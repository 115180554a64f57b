package server

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/internal/ratelimit"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/sync/blob"
	"github.com/veedel/veedel/ui"
)

// i-Kfz applications (central/vehicle.go) in the JSON API:
//
//	POST /api/v1/vehicle-applications/files   the file's bytes as the body
//	     (Content-Type application/pdf or image/jpeg; the name, optional,
//	     in Content-Disposition) → 201 {"sha256","size","type","name"}
//	POST /api/v1/vehicle-applications         the application, its
//	     attachments naming uploaded files by their Ref → 201 Submitted
//	GET  /api/v1/vehicle-applications/{token} → StatusView
//	GET  /api/v1/verify/{code}                → {"plate","fin","valid_until","valid"}
//
// Files go up on their own so that the application stays small JSON and
// a torn upload is repeated alone; central stores them by content.

// MaxVehicleApplicationBody bounds an application's JSON.
const MaxVehicleApplicationBody = 16 << 10

// FileLimit bounds the files a client uploads, PlateLimit the plates it
// reserves (successful ones count).
var (
	FileLimit  = ratelimit.Limit{Burst: 20, Every: 3 * time.Minute}
	PlateLimit = ratelimit.Limit{Burst: 5, Every: 2 * time.Hour}
)

func (s *Server) vehicleRoutes(r chi.Router) {
	r.Post("/api/v1/vehicle-applications/files", s.apiVehicleFile)
	r.Post("/api/v1/vehicle-applications", s.apiSubmitVehicle)
	r.Get("/api/v1/vehicle-applications/{token}", s.apiVehicleStatus)
	r.Post("/api/v1/vehicle-applications/{token}/supplement", s.apiSupplementVehicle)
	r.Get("/api/v1/verify/{code}", s.apiVerify)
	r.Get(vehiclePortalPath, s.vehicleChoose)
	r.Get(vehiclePortalPath+"/{process}", s.vehicleForm)
	r.Post(vehiclePortalPath+"/{process}", s.vehicleFormPost)
	r.Get("/kfz/s/{token}", s.vehicleStatusPage)
	r.Get("/kfz/s/{token}/bestaetigung", s.vehicleStatusPage)
	r.Get("/kfz/s/{token}/antwort", s.vehicleStatusPage)
	r.Get("/kfz/s/{token}/genehmigung.pdf", s.vehiclePermit)
	r.Post("/kfz/s/{token}/nachreichen", s.vehicleSupplementForm)
	r.Get("/verify/{code}", s.verifyPage)
}

// limiters returns the server's limiters, made on first use.
func (s *Server) limiters() (files, plates *ratelimit.Limiter) {
	s.limitersOnce.Do(func() {
		f, p := s.FileLimit, s.PlateLimit
		if f.Burst == 0 {
			f = FileLimit
		}
		if p.Burst == 0 {
			p = PlateLimit
		}
		s.fileLimiter, s.plateLimiter = ratelimit.New(f), ratelimit.New(p)
	})
	return s.fileLimiter, s.plateLimiter
}

// tooMany answers 429 with when to try again.
func tooMany(w http.ResponseWriter, wait time.Duration, msg string) {
	w.Header().Set("Retry-After", strconv.Itoa(ratelimit.RetryAfter(wait)))
	web.JSON(w, http.StatusTooManyRequests, map[string]string{"error": msg})
}

// apiVehicleFile: POST /api/v1/vehicle-applications/files.
func (s *Server) apiVehicleFile(w http.ResponseWriter, r *http.Request) {
	files, _ := s.limiters()
	client := ratelimit.ClientKey(r)
	if ok, wait := files.Allow(client, s.Central.Now()); !ok {
		tooMany(w, wait, "Zu viele Dateien von diesem Anschluss: bitte später erneut / too many files from this connection: please try later")
		return
	}
	name := ""
	if _, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition")); err == nil {
		name = params["filename"]
	}
	ref, err := s.putVehicleFile(w, r, r.Body, name)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, http.StatusCreated, ref)
}

// putVehicleFile stores an upload, bounded a little above the limit so
// that the store says what is too big.
func (s *Server) putVehicleFile(w http.ResponseWriter, r *http.Request, body io.Reader, name string) (blob.Ref, error) {
	body = http.MaxBytesReader(w, io.NopCloser(body), vehicle.MaxAttachmentSize+1)
	got, err := s.Central.PutVehicleFile(r.Context(), body, name)
	if err != nil {
		if veedel.ErrorCode(err) == veedel.EINVALID || isTooBig(err) {
			return blob.Ref{}, &veedel.Error{Code: veedel.EINVALID, Message: "Nur PDF oder JPEG, höchstens 10 MB / PDF or JPEG only, at most 10 MB",
				Fields: map[string]string{"file": "Nur PDF oder JPEG, höchstens 10 MB / PDF or JPEG only, at most 10 MB"}}
		}
		return blob.Ref{}, err
	}
	return got, nil
}

func isTooBig(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// apiSubmitVehicle: POST /api/v1/vehicle-applications.
func (s *Server) apiSubmitVehicle(w http.ResponseWriter, r *http.Request) {
	var app vehicle.Application
	r.Body = http.MaxBytesReader(w, r.Body, MaxVehicleApplicationBody)
	if err := web.DecodeJSON(r, &app); err != nil {
		web.Error(w, r, err)
		return
	}
	sub, err := s.Central.SubmitVehicleApplication(r.Context(), app, "")
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	web.JSON(w, http.StatusCreated, sub)
}

// apiVehicleStatus: GET /api/v1/vehicle-applications/{token}.
func (s *Server) apiVehicleStatus(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	token := chi.URLParam(r, "token")
	a, ok := s.Central.VehicleApplications().ByToken(token)
	if !ok {
		web.Error(w, r, veedel.Errorf(veedel.ENOTFOUND, "Antrag nicht gefunden / application not found"))
		return
	}
	web.JSON(w, http.StatusOK, a.View(s.publicBase(r)+permitPath(token)))
}

func permitPath(token string) string { return "/kfz/s/" + token + "/genehmigung.pdf" }

// vehicleSupplement is the body of POST …/{token}/supplement.
type vehicleSupplement struct {
	Note        string               `json:"note"`
	Attachments []vehicle.Attachment `json:"attachments,omitempty"`
}

// apiSupplementVehicle: POST /api/v1/vehicle-applications/{token}/supplement
// {"note","attachments"?} answers a request for more → 200 StatusView
// (submitted again); 409 when nothing is asked.
func (s *Server) apiSupplementVehicle(w http.ResponseWriter, r *http.Request) {
	var req vehicleSupplement
	r.Body = http.MaxBytesReader(w, r.Body, MaxVehicleApplicationBody)
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	token := chi.URLParam(r, "token")
	if err := s.Central.SupplementVehicleApplication(r.Context(), token, req.Note, req.Attachments); err != nil {
		web.Error(w, r, err)
		return
	}
	s.apiVehicleStatus(w, r)
}

// VerifyView is what /verify shows: nothing personal.
type VerifyView struct {
	vehicle.Verification
	Valid bool `json:"valid"`
}

func (s *Server) verify(code string) (VerifyView, bool) {
	v, ok := s.Central.VehicleApplications().Verify(code)
	if !ok {
		return VerifyView{}, false
	}
	return VerifyView{Verification: v, Valid: v.Valid(s.Central.Now(), s.Central.Location())}, true
}

// apiVerify: GET /api/v1/verify/{code}.
func (s *Server) apiVerify(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	v, ok := s.verify(chi.URLParam(r, "code"))
	if !ok {
		web.Error(w, r, veedel.Errorf(veedel.ENOTFOUND, "Unbekannter Prüfcode: dieser Nachweis ist nicht von uns / unknown code: this proof is not ours"))
		return
	}
	web.JSON(w, http.StatusOK, v)
}

// vehiclePermit serves the provisional proof of an approved application
// once its PDF reached central.
func (s *Server) vehiclePermit(w http.ResponseWriter, r *http.Request) {
	a, ok := s.Central.VehicleApplications().ByToken(chi.URLParam(r, "token"))
	if !ok || a.Status != vehicle.StatusApproved || a.Permit.SHA256 == "" {
		s.notFound(w, r)
		return
	}
	rc, ref, err := s.Central.OpenVehicleFile(r.Context(), a.Permit)
	if veedel.ErrorCode(err) == veedel.ENOTFOUND {
		w.Header().Set("Retry-After", "60")
		lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
		s.renderMessage(w, r, http.StatusServiceUnavailable, lang, notFoundData{Heading: ui.Translate(lang, "portal.kfz.permit.pending"), Text: ui.Translate(lang, "portal.kfz.permit.pending.text"),
			Back: "/kfz/s/" + chi.URLParam(r, "token")})
		return
	} else if err != nil {
		web.Error(w, r, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Length", strconv.FormatInt(ref.Size, 10))
	w.Header().Set("Content-Disposition", `inline; filename="vorlaeufiger-zulassungsnachweis.pdf"`)
	io.Copy(w, rc)
}
