package server

import (
	"net/http"
	"time"

	"github.com/veedel/veedel/appliance/clock"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/ui"
)

// The site's clock on the desk and the kiosk (appliance/clock): a banner
// on every desk page when the clock is corrected from central's or wrong,
// a section on the devices page, and a kiosk that says it cannot issue
// tickets while the clock is wrong, instead of tickets of the wrong day.

// clockView is the clock as the desk shows it, in the page's language.
type clockView struct {
	// State is the clock's state (clock.State); Alert: commands are
	// refused; Warn: the banner is shown.
	State       string
	Alert, Warn bool
	// Lines are the banner's sentences: what is wrong, then what to do.
	Lines []string
	// Wall is the device's clock, Now the time used; Offset the measured
	// offset in words (empty: not measured), MeasuredAt when.
	Wall, Now, MeasuredAt time.Time
	Offset                string
}

// current is the time the desk, the API and printed tickets go by: the
// checked clock's (Clock), else the wall clock's.
func (s *Server) current() time.Time {
	if s.Clock != nil {
		return s.Clock.Now()
	}
	return time.Now()
}

// clockStatus is the clock's state (ok false: no clock is checked here).
func (s *Server) clockStatus() (clock.Status, bool) {
	if s.Clock == nil {
		return clock.Status{}, false
	}
	return s.Clock.Status(s.Store.LastEntryAt()), true
}

// clockRefused reports whether the clock is wrong: commands are refused.
func (s *Server) clockRefused() bool {
	st, ok := s.clockStatus()
	return ok && st.State == clock.Wrong
}

// clockViewOf says the clock's state in lang; nil without a checked clock.
func (s *Server) clockViewOf(lang string) *clockView {
	st, ok := s.clockStatus()
	if !ok {
		return nil
	}
	v := &clockView{State: string(st.State), Alert: st.State == clock.Wrong, Warn: st.Warn(), Wall: st.Wall, Now: st.Now, MeasuredAt: st.MeasuredAt}
	if st.Measured {
		v.Offset = ui.ClockOffset(lang, st.Offset)
	}
	var loc *time.Location
	s.Store.View(func(st *queue.State) { loc = st.Site.Location })
	stamp := func(t time.Time) string { return t.In(loc).Format("02.01.2006 15:04") }
	switch {
	case st.State == clock.Wrong && st.Behind > clock.Tolerance:
		v.Lines = []string{ui.Translate(lang, "clock.wrong", stamp(st.Wall), stamp(st.Last)), ui.Translate(lang, "clock.wrong.todo")}
	case st.State == clock.Wrong:
		v.Lines = []string{ui.Translate(lang, "clock.wrong.reset", stamp(st.Wall)), ui.Translate(lang, "clock.wrong.todo")}
	case st.State == clock.Corrected:
		key := "clock.ahead"
		if st.Offset < 0 {
			key = "clock.behind"
		}
		v.Lines = []string{ui.Translate(lang, key, ui.ClockOffset(lang, st.Offset), st.MeasuredAt.In(loc).Format("15:04")), ui.Translate(lang, "clock.corrected.todo")}
	}
	if st.Behind > clock.Tolerance && st.State != clock.Wrong {
		v.Lines = append(v.Lines, ui.Translate(lang, "clock.logahead", ui.ClockOffset(lang, st.Behind)))
	}
	return v
}

// kioskClockRefused shows the kiosk's notice instead of issuing a ticket
// while the clock is wrong, and reports whether it did.
func (s *Server) kioskClockRefused(w http.ResponseWriter, r *http.Request) bool {
	if !s.clockRefused() {
		return false
	}
	s.renderKiosk(w, r, http.StatusServiceUnavailable, "", "")
	return true
}
