package server

import (
	"context"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/skip2/go-qrcode"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/ui"
)

// A booking's private page behind its token (/b/{token}, like a ticket's
// /t/{token}): while the slot is held it asks for the code sent by e-mail
// (saying where it went, masked) and posts it to /b/{token}/confirm; once
// confirmed it shows the booking code large and as a QR code for the
// kiosk, when and where, what to bring, the calendar file and a
// cancellation with a confirmation step. It names no person: the token is
// the only key, and the page is neither cached nor sent on as a referrer.

// bookingStatusData is what page_booking_status.html shows.
type bookingStatusData struct {
	LangBase    string
	Status      string // appointment.Status*
	StatusLabel string
	Code        string
	CodeGroups  []string // the code in groups for reading: "T", "ABC", "DEF", "GHJ"
	QR          template.URL
	Service     string
	Minutes     int
	Bring       string
	SiteName    string
	Address     string
	When        string
	WhenHTML    template.HTML
	Page        string // /b/{token}
	Events      string // the status stream, while it can still change
	ICS         string
	CancelPage  string
	Again       string // the slot choice of this service and site

	// While held: the code form.
	Hold          appointment.HoldInfo
	HoldMinutes   int // minutes left, rounded up
	ConfirmAction string
	CodeValue     string
	CodeError     string
	Problems      []bookingProblem
	Failure       string

	// The cancellation's confirmation step.
	CancelAsk    bool
	CancelAction string
	Notice       string // why the page shows instead of what was asked
	Moved        string // the booking replaced another, now cancelled
	MovePage     string // where to book another time for this booking
}

// Has reports whether the page shows an error summary.
func (d bookingStatusData) Has() bool { return len(d.Problems) > 0 || d.Failure != "" }

// bookingToken is the request's token, "" when it cannot be one.
func bookingToken(r *http.Request) string {
	t := chi.URLParam(r, "token")
	if len(t) > maxTokenLen {
		return ""
	}
	return t
}

// bookingStatusPage serves GET /b/{token}.
func (s *Server) bookingStatusPage(w http.ResponseWriter, r *http.Request) {
	lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
	s.showBooking(w, r, lang, http.StatusOK, func(d *bookingStatusData) {
		if r.URL.Query().Get("moved") == "1" && d.Code != "" {
			d.Moved = ui.Translate(lang, "portal.book.moved")
		}
	})
}

// bookingCancelPage serves GET /b/{token}/cancel: the confirmation step.
func (s *Server) bookingCancelPage(w http.ResponseWriter, r *http.Request) {
	lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
	s.showBooking(w, r, lang, http.StatusOK, func(d *bookingStatusData) {
		d.CancelAsk = d.Status == appointment.StatusConfirmed || d.Status == appointment.StatusAtSite || d.Status == appointment.StatusHeld
	})
}

// showBooking renders the booking of the request's token with status,
// after edit; the unknown token's page otherwise.
func (s *Server) showBooking(w http.ResponseWriter, r *http.Request, lang string, status int, edit func(*bookingStatusData)) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Robots-Tag", "noindex, nofollow")
	token := bookingToken(r)
	a, ok := s.apptByToken(r.Context(), token)
	if !ok {
		s.renderNotFound(w, r, lang, ui.Translate(lang, "portal.book.notfound.title"), ui.Translate(lang, "portal.book.notfound"))
		return
	}
	d := s.bookingStatus(r.Context(), lang, token, a)
	edit(&d)
	title := ui.Translate(lang, "portal.book.status.title")
	switch {
	case d.Status == appointment.StatusHeld:
		title = ui.Translate(lang, "portal.book.code.title")
	case d.CancelAsk:
		title = ui.Translate(lang, "portal.book.cancel.title")
	}
	if d.Has() {
		title = ui.Translate(lang, "portal.book.errors.title") + ": " + title
	}
	s.Renderer.Render(w, status, "booking_status", ui.Page{
		Lang: lang, Title: title, Surface: "portal", Path: d.Page, Langs: ui.CitizenLangs, Data: d,
	})
}

// bookingStatus gathers what the page shows of a.
func (s *Server) bookingStatus(ctx context.Context, lang, token string, a appointment.Appt) bookingStatusData {
	page := "/b/" + url.PathEscape(token)
	d := bookingStatusData{
		LangBase: page + "?", Status: a.Status, StatusLabel: ui.Translate(lang, "portal.book.state."+a.Status),
		Page: page, ICS: "/api/v1/appointments/" + url.PathEscape(token) + "/ics",
		CancelPage: page + "/cancel", CancelAction: page + "/cancel", ConfirmAction: page + "/confirm",
		SiteName: a.Site, Bring: bring(lang, a.Service), Service: a.Service,
	}
	loc := s.siteLocation(a.Site)
	d.When, d.WhenHTML = whenLabel(lang, a.Start, loc), whenHTML(lang, a.Start, loc)
	d.Again = bookingQuery("service", a.Service, "site", a.Site, "date", a.Start.In(loc).Format(time.DateOnly)) + "#slots"
	s.Central.ViewSite(a.Site, func(st *queue.State, _ central.SiteCursor) {
		if st.Site.Name != "" {
			d.SiteName = st.Site.Name
		}
		if svc := st.Services[a.Service]; svc != nil {
			d.Service = ui.ServiceName(lang, a.Service, svc.Name, svc.NameEN)
			d.Minutes = svc.ExpectedMinutes
		}
	})
	for _, sum := range s.Central.Sites() {
		if sum.ID == a.Site {
			d.SiteName, d.Address = sum.Name, sum.Address
		}
	}
	switch a.Status {
	case appointment.StatusHeld:
		if h, ok := s.appointments().HoldOf(ctx, s.Central, token, s.now()); ok {
			d.Hold = h
			d.HoldMinutes = int((h.Expires.Sub(s.now()) + time.Minute - 1) / time.Minute)
		}
	case appointment.StatusConfirmed, appointment.StatusAtSite:
		d.Events = page + "/events"
		d.MovePage = bookingQuery("service", a.Service, "site", a.Site, "move", token)
		d.Code, d.CodeGroups = a.Code, codeGroups(a.Code)
		if png, err := qrcode.Encode(a.Code, qrcode.Medium, 320); err == nil {
			d.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
		}
	}
	return d
}

// bookingEvents streams event "booking" with {"status"} whenever the
// booking's site's log grows (the site took it over) and every
// refreshEvery; "gone" when the token names nothing (any longer).
func (s *Server) bookingEvents(w http.ResponseWriter, r *http.Request) {
	token := bookingToken(r)
	a, ok := s.apptByToken(r.Context(), token)
	if !ok {
		s.apiNotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.stream(w, r, a.Site, func() (string, []byte) {
		a, ok := s.apptByToken(r.Context(), token)
		if !ok {
			return "gone", []byte("{}")
		}
		return "booking", []byte(`{"status":"` + a.Status + `"}`)
	})
}

// codeGroups splits a booking code for reading aloud and typing: its
// letter "T", then groups of three ("T", "ABC", "DEF", "GHJ").
func codeGroups(code string) []string {
	if len(code) < 4 {
		return []string{code}
	}
	out := []string{code[:1]}
	for rest := code[1:]; rest != ""; {
		n := min(3, len(rest))
		out = append(out, rest[:n])
		rest = rest[n:]
	}
	return out
}

// confirmBooking serves POST /b/{token}/confirm {code}: a right code makes
// the hold a booking (303 to its page); a wrong one shows the attempts
// left beside the field; an ended hold explains and links back to the
// slot choice.
func (s *Server) confirmBooking(w http.ResponseWriter, r *http.Request) {
	lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
	token := bookingToken(r)
	r.Body = http.MaxBytesReader(w, r.Body, 1<<10)
	if err := r.ParseForm(); err != nil {
		s.showBooking(w, r, lang, http.StatusBadRequest, func(d *bookingStatusData) {
			d.Failure = ui.Translate(lang, "portal.book.err.form")
		})
		return
	}
	typed := strings.TrimSpace(r.PostForm.Get("code"))
	code := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, typed)
	fieldError := func(status int, msg string) {
		s.showBooking(w, r, lang, status, func(d *bookingStatusData) {
			if d.Status != appointment.StatusHeld {
				return
			}
			d.CodeValue, d.CodeError = typed, msg
			d.Problems = []bookingProblem{{Href: "#f-code", Message: msg}}
		})
	}
	switch {
	case code == "":
		fieldError(http.StatusBadRequest, ui.Translate(lang, "portal.book.err.code"))
		return
	case len(code) != 6 || strings.Trim(code, "0123456789") != "":
		fieldError(http.StatusBadRequest, ui.Translate(lang, "portal.book.err.code.format"))
		return
	}
	a, conf, err := s.appointments().Confirm(r.Context(), s.Central, token, code, s.now())
	if err != nil && a.Code != "" {
		// Confirmed, but the booking it moves could not be cancelled.
		s.Logger.Error("booking: cancel the moved booking", "code", veedel.ErrorCode(err), "err", veedel.ErrorMessage(err))
		err = nil
	}
	switch veedel.ErrorCode(err) {
	case "":
		if conf.Contact != nil {
			s.mailBooking(r, lang, *conf.Contact, token, a)
		}
		next := "/b/" + url.PathEscape(token)
		if conf.Moved {
			next += "?moved=1"
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	case veedel.EINVALID:
		left := 0
		if h, ok := s.appointments().HoldOf(r.Context(), s.Central, token, s.now()); ok {
			left = h.AttemptsLeft
		}
		fieldError(http.StatusBadRequest, ui.Translate(lang, "portal.book.err.code.wrong", left))
	case veedel.ENOTFOUND:
		s.showBooking(w, r, lang, http.StatusNotFound, func(*bookingStatusData) {})
	case veedel.ECONFLICT:
		// Too many wrong codes, or the hold ran out: the page explains.
		s.showBooking(w, r, lang, http.StatusConflict, func(d *bookingStatusData) {
			if d.Status == appointment.StatusExpired {
				d.Notice = ui.Translate(lang, "portal.book.expired.now")
			}
		})
	default:
		s.Logger.Error("booking: confirm", "code", veedel.ErrorCode(err), "err", veedel.ErrorMessage(err))
		s.showBooking(w, r, lang, http.StatusServiceUnavailable, func(d *bookingStatusData) {
			d.Failure = ui.Translate(lang, "portal.book.err.unavailable")
		})
	}
}

// mailBooking sends the citizen the booking: its code, when and where,
// and the private link to see, add to a calendar or cancel it, which is
// the only way back to it. A failure is logged (without the address) and
// changes nothing: the booking stands, and its page shows it.
func (s *Server) mailBooking(r *http.Request, lang string, to appointment.Contact, token string, a appointment.Appt) {
	if s.Notify == nil {
		return
	}
	d := s.bookingStatus(r.Context(), lang, token, a)
	where := d.SiteName
	if d.Address != "" {
		where += ", " + d.Address
	}
	body := ui.Translate(lang, "portal.book.mail.body", a.Code, d.When, where, d.Bring, s.publicBase(r)+d.Page)
	if err := s.Notify.Notify(r.Context(), to, lang, ui.Translate(lang, "portal.book.mail.subject", d.When), body); err != nil {
		s.Logger.Error("booking: confirmation mail", "site", a.Site, "code", veedel.ErrorCode(err))
	}
}

// cancelBooking serves POST /b/{token}/cancel: the booking is off (its
// place free again on both sides) and its page says so.
func (s *Server) cancelBooking(w http.ResponseWriter, r *http.Request) {
	lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
	token := bookingToken(r)
	_, err := s.appointments().Cancel(r.Context(), s.Central, token, s.now())
	switch veedel.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/b/"+url.PathEscape(token), http.StatusSeeOther)
	case veedel.ENOTFOUND:
		s.showBooking(w, r, lang, http.StatusNotFound, func(*bookingStatusData) {})
	default:
		if veedel.ErrorCode(err) != veedel.ECONFLICT {
			s.Logger.Error("booking: cancel", "code", veedel.ErrorCode(err), "err", veedel.ErrorMessage(err))
		}
		s.showBooking(w, r, lang, http.StatusConflict, func(d *bookingStatusData) {
			d.Failure = ui.Translate(lang, "portal.book.err.cancel")
		})
	}
}
