package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/ui"
)

// Booking the school-entry exam: the exam's service (exam.CheckInService)
// is booked like any other (the appointment booking, /termin), but only
// with the invitation's booking code, which ties the booking to the child
// (appointment.Request.For: the child's pseudonym). The site then shows
// the booked time on the child's line of the day list, and booking again
// with the same code moves the booking. The code never goes into a URL:
// /schuleingang hands it to the booking's last step in a cookie of the
// booking's path, and the form posts it in its body.

const (
	// examCodeCookie carries the code from /schuleingang to /termin.
	examCodeCookie = "veedel_exam_code"
	examCodeMaxAge = time.Hour
)

// setExamCodeCookie keeps the code for the booking's last step.
func setExamCodeCookie(w http.ResponseWriter, r *http.Request, code string) {
	http.SetCookie(w, &http.Cookie{Name: examCodeCookie, Value: exam.NormalizeCode(code), Path: bookingPath, MaxAge: int(examCodeMaxAge / time.Second),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// examCodeOf is the code /schuleingang left for the booking ("" for none).
func examCodeOf(r *http.Request) string {
	c, err := r.Cookie(examCodeCookie)
	if err != nil {
		return ""
	}
	return exam.NormalizeCode(c.Value)
}

// examBooking checks the invitation code of a booking of the exam's
// service at site and returns the child it is for. The error is for the
// code's field, in German and English; wrong codes count against the
// client as at /schuleingang.
func (s *Server) examBooking(ctx context.Context, client, site, code string) (string, error) {
	lim := s.examCodes.limiter()
	if ok, _ := lim.Peek(client, s.Central.Now()); !ok {
		return "", veedel.Errorf(veedel.ECONFLICT, "Zu viele falsche Codes: bitte in einer Minute erneut / too many wrong codes: please try again in a minute")
	}
	if strings.TrimSpace(code) == "" {
		return "", &veedel.Error{Code: veedel.EINVALID, Message: "Bitte den Buchungscode aus dem Einladungsschreiben angeben / please give the booking code from the invitation letter",
			Fields: map[string]string{"exam_code": "Pflichtangabe / required"}}
	}
	child, err := s.Central.Invitation(ctx, code)
	if veedel.ErrorCode(err) == veedel.ENOTFOUND {
		lim.Allow(client, s.Central.Now())
		return "", &veedel.Error{Code: veedel.EINVALID, Message: veedel.ErrorMessage(err), Fields: map[string]string{"exam_code": "unknown"}}
	} else if err != nil {
		return "", err
	}
	if child.Site != site {
		return "", &veedel.Error{Code: veedel.EINVALID, Message: "Die Untersuchung dieses Kindes findet an einem anderen Standort statt / this child's exam takes place at another site",
			Fields: map[string]string{"exam_code": "site:" + child.Site}}
	}
	return child.Child, nil
}

// examCodeError is the booking form's message for examBooking's error.
func (s *Server) examCodeError(ctx context.Context, lang string, err error) string {
	field := veedel.ErrorFields(err)["exam_code"]
	switch {
	case field == "unknown":
		return ui.Translate(lang, "portal.exam.code.unknown")
	case strings.HasPrefix(field, "site:"):
		name := strings.TrimPrefix(field, "site:")
		if site, err := s.Central.DirectorySite(ctx, name); err == nil {
			name = site.Name
		}
		return ui.Translate(lang, "portal.book.err.examcode.site", name)
	case field != "":
		return ui.Translate(lang, "portal.book.err.examcode")
	case veedel.ErrorCode(err) == veedel.ECONFLICT:
		return ui.Translate(lang, "portal.exam.throttled")
	}
	return ui.Translate(lang, "portal.book.err.unavailable")
}

// isExamService reports whether service is booked with an invitation code.
func isExamService(service string) bool { return service == exam.CheckInService }
