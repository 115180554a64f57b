package server

import (
	"net/http"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/ui"
)

// Overload at the kiosk: a service whose wait would probably (P90) run
// past today's closing time gets a note on its button, and taking its
// ticket asks first ("kiosk_confirm": take it anyway, book an appointment
// on the portal, or go back). Nothing is issued before the citizen
// confirms, and nothing is ever refused. Outside the opening hours the
// kiosk says that the site is closed and when it opens again.
//
// Outside the walk-in hours (open for appointments only) the kiosk says
// "Heute nur mit Termin: bitte Buchungscode eingeben", puts the booking
// code check-in first and shows the walk-in services as secondary buttons
// below. Taking a walk-in ticket then still works at once, without a
// question: staff may serve walk-ins anyway, and a kiosk that behaves
// differently by weekday would surprise citizens and tests alike.

// kioskHours is what the kiosk says about the opening hours.
type kioskHours struct {
	Known  bool
	Closed bool
	// AppointmentsOnly: open, but outside the site's walk-in hours.
	AppointmentsOnly bool
	// CloseClock is today's closing time ("15:00") while open.
	CloseClock string
	// Next says when the site opens next: "today", "tomorrow", "later"
	// (on NextDate) or "" when unknown; NextClock is the time ("07:30").
	Next      string
	NextClock string
	NextDate  string
}

func kioskHoursOf(h queue.Hours, now time.Time, loc *time.Location) kioskHours {
	k := kioskHours{Known: h.Known, Closed: h.Known && !h.Open}
	if h.Open {
		k.CloseClock = h.ClosesAt.In(loc).Format("15:04")
	}
	if !h.NextOpen.IsZero() {
		next := h.NextOpen.In(loc)
		k.NextClock, k.NextDate = next.Format("15:04"), next.Format("02.01.")
		k.Next = ui.NextDay(h.NextOpen, now, loc)
	}
	return k
}

// kioskLate returns, per service, whether its ticket would probably not be
// called before closing, and the opening hours at now. Call inside
// Store.View.
func kioskLate(st *queue.State, now time.Time) (map[string]bool, kioskHours) {
	late := map[string]bool{}
	var h queue.Hours
	for _, id := range st.ServiceOrder {
		var runs bool
		runs, h = st.RunsPastClosing(id, now)
		late[id] = runs
	}
	if len(st.ServiceOrder) == 0 {
		h = st.HoursAt(now)
	}
	k := kioskHoursOf(h, now, st.Site.Location)
	k.AppointmentsOnly = st.AppointmentsOnly(now)
	return late, k
}

type kioskConfirmPage struct {
	SiteName string
	Service  ServiceView
	Key      string
	Hours    kioskHours
	// BookURL is where appointments are booked: the citizen portal.
	BookURL string
}

// kioskConfirm renders the confirmation step instead of issuing when the
// citizen has not confirmed yet and the site is closed by its opening
// hours (issue 14: a ticket taken after hours is not called before the
// site opens), or the service's wait would probably run past closing. It
// reports whether it did.
func (s *Server) kioskConfirm(w http.ResponseWriter, r *http.Request, service, key string) bool {
	if r.PostForm.Get("confirm") == "1" {
		return false
	}
	var p kioskConfirmPage
	var ask bool
	s.Store.View(func(st *queue.State) {
		if st.Services[service] == nil {
			return
		}
		now := s.now()
		late, h := st.RunsPastClosing(service, now)
		ask = late || (h.Known && !h.Open)
		if !ask {
			return
		}
		p.SiteName, p.Hours = st.Site.Name, kioskHoursOf(h, now, st.Site.Location)
		for _, v := range serviceViews(st) {
			if v.ID == service {
				p.Service = v
			}
		}
	})
	if !ask {
		return false
	}
	p.Key, p.BookURL = key, s.PortalURL+"/"
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "kiosk_confirm", "kiosk", p.SiteName, p)
	return true
}

// now is the server's clock (Server.Now, or the wall clock).
func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return s.current()
}
