package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/internal/ratelimit"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/ui"
)

// Online appointments (appliance/appointment): the free slots of central's
// share, a hold confirmed with a code sent to the citizen, the booking's
// private status, calendar file and cancellation.

// BookLimit bounds holds per client: five at once, then one every two
// minutes (refused bodies and taken slots do not count). A family books a few; a script that sweeps slots does not get
// far, and each hold still needs a code sent to a real phone or mailbox.
var BookLimit = ratelimit.Limit{Burst: 5, Every: 2 * time.Minute}

// MaxAppointmentBody bounds a booking's JSON.
const MaxAppointmentBody = 4 << 10

func (s *Server) appointments() *appointment.Central {
	return s.Central.Workflow(appointment.Prefix).(*appointment.Central)
}

// apiSlots: GET /api/v1/booking/slots?site=&service=&date=YYYY-MM-DD.
func (s *Server) apiSlots(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := veedel.FieldErrors{}
	for _, k := range []string{"site", "service", "date"} {
		if q.Get(k) == "" {
			f.Add(k, "Pflichtangabe / required")
		}
	}
	if err := f.Err("site, service und date angeben / give site, service and date"); err != nil {
		web.Error(w, r, err)
		return
	}
	slots, err := s.appointments().Slots(r.Context(), s.Central, q.Get("site"), q.Get("service"), q.Get("date"), s.Central.Now())
	if err != nil {
		if veedel.ErrorCode(err) == veedel.EINVALID {
			field := "service"
			if strings.Contains(veedel.ErrorMessage(err), "Datum") {
				field = "date"
			}
			err = &veedel.Error{Code: veedel.EINVALID, Message: veedel.ErrorMessage(err), Fields: map[string]string{field: veedel.ErrorMessage(err)}}
		}
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	web.JSON(w, http.StatusOK, slots)
}

// apiHoldAppointment: POST /api/v1/appointments.
func (s *Server) apiHoldAppointment(w http.ResponseWriter, r *http.Request) {
	// Only holds made count: a citizen correcting the form is not a bot.
	client := ratelimit.ClientKey(r)
	if ok, wait := s.bookLimiter.Peek(client, s.Central.Now()); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(ratelimit.RetryAfter(wait)))
		web.JSON(w, http.StatusTooManyRequests, map[string]string{"error": "Zu viele Buchungen von diesem Anschluss: bitte später erneut / too many bookings from this connection: please try later"})
		return
	}
	var in struct {
		appointment.Request
		// ExamCode is the invitation's booking code, required for the
		// school-entry exam's service (exam_booking.go).
		ExamCode string `json:"exam_code,omitempty"`
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxAppointmentBody)
	if err := web.DecodeJSON(r, &in); err != nil {
		web.Error(w, r, err)
		return
	}
	req := in.Request
	if isExamService(req.Service) {
		forRef, err := s.examBooking(r.Context(), client, req.Site, in.ExamCode)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		req.For = forRef
	}
	held, err := s.appointments().Hold(r.Context(), s.Central, s.Notify, req, s.Central.Now())
	if err != nil {
		web.Error(w, r, err)
		return
	}
	s.bookLimiter.Allow(client, s.Central.Now())
	w.Header().Set("Cache-Control", "no-store")
	web.JSON(w, http.StatusCreated, map[string]any{
		"code": held.Code, "token": held.Token, "site": held.Site, "service": held.Service, "start": held.Start,
		"status": held.Status, "expires": held.Expires,
		"status_url": "/api/v1/appointments/" + held.Token, "ics_url": "/api/v1/appointments/" + held.Token + "/ics",
	})
}

type confirmRequest struct {
	Code string `json:"code"`
}

// apiConfirmAppointment: POST /api/v1/appointments/{token}/confirm {"code"}.
func (s *Server) apiConfirmAppointment(w http.ResponseWriter, r *http.Request) {
	var req confirmRequest
	r.Body = http.MaxBytesReader(w, r.Body, 1<<10)
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	token := chi.URLParam(r, "token")
	a, conf, err := s.appointments().Confirm(r.Context(), s.Central, token, req.Code, s.Central.Now())
	if err != nil && a.Code == "" {
		web.Error(w, r, err)
		return
	}
	if err != nil {
		// Confirmed, but the booking it moves could not be cancelled.
		s.Logger.Error("booking: cancel the moved booking", "code", veedel.ErrorCode(err), "err", veedel.ErrorMessage(err))
	}
	if conf.Contact != nil {
		// The same message as the portal's form sends: once, by the call
		// that confirmed.
		s.mailBooking(r, citizenLang(conf.Lang), *conf.Contact, token, a)
	}
	s.writeAppointment(w, a)
}

// apiCancelAppointment: POST /api/v1/appointments/{token}/cancel.
func (s *Server) apiCancelAppointment(w http.ResponseWriter, r *http.Request) {
	a, err := s.appointments().Cancel(r.Context(), s.Central, chi.URLParam(r, "token"), s.Central.Now())
	if err != nil {
		web.Error(w, r, err)
		return
	}
	s.writeAppointment(w, a)
}

// apiAppointment: GET /api/v1/appointments/{token}.
func (s *Server) apiAppointment(w http.ResponseWriter, r *http.Request) {
	a, ok := s.apptByToken(r.Context(), chi.URLParam(r, "token"))
	if !ok {
		w.Header().Set("Cache-Control", "no-store")
		web.Error(w, r, veedel.Errorf(veedel.ENOTFOUND, "Termin nicht gefunden / appointment not found"))
		return
	}
	s.writeAppointment(w, a)
}

// citizenLang is lang when the portal speaks it, German otherwise.
func citizenLang(lang string) string {
	if slices.Contains(ui.CitizenLangs, lang) {
		return lang
	}
	return "de"
}

// apptByToken returns the appointment of a citizen's token; false when
// there is none (a store failure is logged and answers the same).
func (s *Server) apptByToken(ctx context.Context, token string) (appointment.Appt, bool) {
	if token == "" || len(token) > maxTokenLen {
		return appointment.Appt{}, false
	}
	a, err := s.appointments().ByToken(ctx, s.Central, token, s.now())
	if err != nil {
		if veedel.ErrorCode(err) != veedel.ENOTFOUND {
			s.Logger.Error("booking: read", "code", veedel.ErrorCode(err), "err", veedel.ErrorMessage(err))
		}
		return appointment.Appt{}, false
	}
	return a, true
}

func (s *Server) writeAppointment(w http.ResponseWriter, a appointment.Appt) {
	w.Header().Set("Cache-Control", "no-store")
	web.JSON(w, http.StatusOK, a)
}

// apiAppointmentICS: GET /api/v1/appointments/{token}/ics, the booking as
// a calendar file (RFC 5545): time, place, code; no name or contact.
func (s *Server) apiAppointmentICS(w http.ResponseWriter, r *http.Request) {
	a, ok := s.apptByToken(r.Context(), chi.URLParam(r, "token"))
	if !ok || (a.Status != appointment.StatusConfirmed && a.Status != appointment.StatusAtSite) {
		web.Error(w, r, veedel.Errorf(veedel.ENOTFOUND, "Kein bestätigter Termin / no confirmed appointment"))
		return
	}
	name, address := a.Site, ""
	if site, err := s.Central.DirectorySite(r.Context(), a.Site); err == nil {
		name, address = site.Name, site.Address
	}
	var length time.Duration
	if plan, err := s.Central.SlotPlan(a.Site, a.Service, s.Central.DayOf(a.Site, a.Start)); err == nil {
		for _, sl := range plan {
			if sl.Start.Equal(a.Start) {
				length = sl.Length
			}
		}
	}
	if length == 0 {
		length = 15 * time.Minute
	}
	stamp := func(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
	esc := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`)
	lines := []string{
		"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Veedel//Termine//DE", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
		"BEGIN:VEVENT",
		"UID:" + a.Code + "@veedel",
		"DTSTAMP:" + stamp(s.Central.Now()),
		"DTSTART:" + stamp(a.Start),
		"DTEND:" + stamp(a.Start.Add(length)),
		"SUMMARY:" + esc.Replace(fmt.Sprintf("Termin %s (%s)", name, a.Code)),
		"LOCATION:" + esc.Replace(address),
		"DESCRIPTION:" + esc.Replace("Buchungscode "+a.Code+": am Kiosk eingeben oder den QR-Code zeigen."),
		"END:VEVENT", "END:VCALENDAR",
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="termin-`+a.Code+`.ics"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte(strings.Join(lines, "\r\n") + "\r\n"))
}
