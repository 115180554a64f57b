package server

import (
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/plates"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/ratelimit"
	"github.com/veedel/veedel/internal/web"
)

// Wunschkennzeichen (central/plates.go): look a plate up, reserve it.

// MaxPlateBody bounds a reservation's body.
const MaxPlateBody = 4 << 10

// apiPlate: GET /api/v1/plates/{plate} (URL-encoded, e.g. K-AB%20123) →
// {"plate":"K-AB 123","available":bool,"fee_cents":1280}; 400 saying why
// for a malformed plate.
func (s *Server) apiPlate(w http.ResponseWriter, r *http.Request) {
	raw := chi.URLParam(r, "plate")
	plate, err := url.PathUnescape(raw)
	if err != nil {
		web.Error(w, r, &veedel.Error{Code: veedel.EINVALID, Message: "Kennzeichen falsch kodiert / plate wrongly URL-encoded",
			Fields: map[string]string{"plate": "URL-kodiert angeben, z. B. K-AB%20123 / URL-encode it, e.g. K-AB%20123"}})
		return
	}
	st, err := s.Central.PlateStatus(r.Context(), plate)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	web.JSON(w, http.StatusOK, map[string]any{"plate": st.Plate, "available": st.State == plates.StateFree, "fee_cents": plates.FeeCents})
}

// apiReservePlate: POST /api/v1/plates/reservations {"plate","name","email"}
// → 201 {"plate","token","expires_at","fee_cents","site"}; 409 when taken.
// A client may reserve PlateLimit plates (successful reservations count).
func (s *Server) apiReservePlate(w http.ResponseWriter, r *http.Request) {
	_, limiter := s.limiters()
	client := ratelimit.ClientKey(r)
	if ok, wait := limiter.Peek(client, s.Central.Now()); !ok {
		tooMany(w, wait, "Zu viele Reservierungen von diesem Anschluss: bitte später erneut / too many reservations from this connection: please try later")
		return
	}
	var req central.PlateRequest
	r.Body = http.MaxBytesReader(w, r.Body, MaxPlateBody)
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	res, err := s.Central.ReservePlate(r.Context(), req)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	limiter.Allow(client, s.Central.Now())
	w.Header().Set("Cache-Control", "no-store")
	web.JSON(w, http.StatusCreated, res)
}
