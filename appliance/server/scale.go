package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/devices"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/hardware/seca"
	"github.com/veedel/veedel/internal/login"
	"github.com/veedel/veedel/internal/web"
)

// ScaleReader takes a stable reading from the exam's scale (*seca.Scale).
type ScaleReader interface {
	Read(ctx context.Context) (seca.Reading, error)
}

// DefaultScaleTimeout bounds one reading: the scale's own settling time
// (seca.DefaultSettleTimeout) and a little more for the answers.
const DefaultScaleTimeout = seca.DefaultSettleTimeout + 5*time.Second

// scaleReading is the JSON of GET /api/v1/scale/reading.
type scaleReading struct {
	WeightKG float64 `json:"weight_kg"`
	// HeightCM is null when the device has no height rod.
	HeightCM *float64  `json:"height_cm"`
	At       time.Time `json:"at"`
}

// apiScaleReading answers GET /api/v1/scale/reading for the exam staff
// (doctor, assistant: the roles that see health data) with HTTP Basic,
// like the rest of the staff API; deskScaleReading is the same for a desk
// login (GET /desk/scale/reading, the exam pages' fetch). It asks the
// scale for a stable reading and returns it, 409 when the child did not
// stand still (or nobody stands on the scale), 503 when the scale is at
// fault or none is configured; other roles get 403. The reading is not
// logged and not stored here: the exam workflow records it with the
// child's measurements.
func (s *Server) apiScaleReading(w http.ResponseWriter, r *http.Request) {
	u, ok := s.scaleStaff(w, r)
	if !ok {
		return
	}
	s.scaleReading(w, r, u)
}

func (s *Server) deskScaleReading(w http.ResponseWriter, r *http.Request) {
	s.scaleReading(w, r, session(r).User)
}

func (s *Server) scaleReading(w http.ResponseWriter, r *http.Request, u sqlite.User) {
	if !sqlite.SeesHealthData(u.Role) {
		web.Error(w, r, veedel.Errorf(veedel.EFORBIDDEN, "Die Waage ist dem Untersuchungsteam vorbehalten (Ärztin/Arzt, Assistenz) / the scale is for the exam staff only (doctor, assistant)"))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	out, err := s.readScale(r.Context())
	if r.Context().Err() != nil {
		// The client went away: whatever the scale said is nobody's answer.
		w.WriteHeader(499)
		return
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, out)
}

// readScale asks the scale for a stable reading (the JSON endpoints and
// the station form's "from the scale" button): a coded error says why
// there is none (scaleError).
func (s *Server) readScale(ctx context.Context) (scaleReading, error) {
	if s.Scale == nil {
		return scaleReading{}, veedel.Errorf(veedel.EUNAVAILABLE, "An diesem Standort ist keine Waage eingerichtet / no scale is configured at this site")
	}
	timeout := s.ScaleTimeout
	if timeout <= 0 {
		timeout = DefaultScaleTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rd, err := s.Scale.Read(ctx)
	if s.AfterReading != nil {
		if err == nil {
			s.AfterReading(nil)
		} else if seca.Fault(err) {
			s.AfterReading(err)
		}
	}
	if err != nil {
		return scaleReading{}, scaleError(err)
	}
	out := scaleReading{WeightKG: rd.WeightKG, At: rd.At.UTC()}
	if rd.HeightCM > 0 {
		h := rd.HeightCM
		out.HeightCM = &h
	}
	return out, nil
}

// scaleError says why there is no reading, in the desk's two languages.
func scaleError(err error) error {
	switch {
	case errors.Is(err, seca.ErrUnstable):
		return veedel.Errorf(veedel.ECONFLICT, "Keine stabile Messung: bitte ruhig stehen lassen und erneut messen / no stable reading: have the child stand still and measure again")
	case errors.Is(err, seca.ErrEmpty):
		return veedel.Errorf(veedel.ECONFLICT, "Niemand steht auf der Waage / nobody is on the scale")
	case errors.Is(err, seca.ErrNoHeight):
		return veedel.Errorf(veedel.ECONFLICT, "Keine Größe gemessen: den Kopfschieber auf den Kopf senken und erneut messen / no height measured: lower the head-piece and measure again")
	}
	return veedel.Errorf(veedel.EUNAVAILABLE, "Waage gestört, bitte Kabel und Strom prüfen / scale fault, please check its cable and power: %s", devices.Reason(err))
}

// scaleStaff authenticates a request with HTTP Basic, answering 401
// itself.
func (s *Server) scaleStaff(w http.ResponseWriter, r *http.Request) (sqlite.User, bool) {
	name, password, ok := r.BasicAuth()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="veedel desk", charset="UTF-8"`)
		web.Error(w, r, veedel.Errorf(veedel.EUNAUTHORIZED, "staff credentials required (HTTP Basic)"))
		return sqlite.User{}, false
	}
	u, err := s.Store.Authenticate(r.Context(), login.Attempt{Name: name, Password: password, Client: r.RemoteAddr, Via: login.ViaBasic})
	if th, ok := login.RetryAfter(err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(th.Seconds()))
		web.JSON(w, http.StatusTooManyRequests, map[string]string{"error": veedel.ErrorMessage(err)})
		return sqlite.User{}, false
	} else if err != nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="veedel desk", charset="UTF-8"`)
		web.Error(w, r, err)
		return sqlite.User{}, false
	}
	return u, true
}
