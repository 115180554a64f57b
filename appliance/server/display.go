package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/ui"
)

// displayState is what the call display shows; the page renders it once and
// the SSE stream sends it again after every change.
type displayState struct {
	SiteName string        `json:"site_name"`
	Calls    []displayCall `json:"calls"`
	Waits    []ServiceView `json:"waits"`
	Waiting  int           `json:"waiting"`
	// Closed: the site is closed by its opening hours, and when it opens
	// ("Jetzt geschlossen. Wieder geöffnet morgen ab 07:30."), in the
	// display's language; shown instead of the waits in minutes (issue 14).
	Closed string `json:"closed,omitempty"`
}

type displayCall struct {
	Key         string `json:"key"` // changes with every call and recall: number and time, nothing else of the ticket
	Number      string `json:"number"`
	CounterName string `json:"counter_name"`
	At          string `json:"at"`
	Recall      bool   `json:"recall"`
	// Announce is what the display speaks (German voice): "Nummer A null
	// vier zwei, bitte zu Platz 3."
	Announce string `json:"announce"`
}

func (s *Server) displayState(lang string) displayState {
	var d displayState
	s.Store.View(func(st *queue.State) {
		d.SiteName, d.Waits, d.Waiting = st.Site.Name, serviceViews(st), st.WaitingCount()
		now := s.now()
		if h := st.HoursAt(now); h.Known && !h.Open {
			d.Closed = strings.TrimSpace(ui.Translate(lang, "kiosk.closed") + " " + ui.Opens(lang, h.NextOpen, now, st.Site.Location))
		}
		for _, c := range st.RecentCalls() {
			name := c.Counter
			if ctr := st.Counters[c.Counter]; ctr != nil {
				name = ctr.Name
			}
			d.Calls = append(d.Calls, displayCall{Key: c.Number + "@" + c.At.Format(time.RFC3339Nano), Number: c.Number,
				CounterName: name, At: c.At.In(st.Site.Location).Format("15:04"), Recall: c.Recall,
				Announce: ui.Announcement(s.Announce, c.Number, name)})
		}
	})
	if d.Calls == nil {
		d.Calls = []displayCall{}
	}
	return d
}

func (s *Server) display(w http.ResponseWriter, r *http.Request) {
	d := s.displayState(ui.Lang(w, r, langsOf("display")...))
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "display", "display", d.SiteName, d)
}

func (s *Server) displayEvents(w http.ResponseWriter, r *http.Request) {
	lang := ui.Lang(w, r, langsOf("display")...)
	wake, cancel := s.Store.Subscribe()
	defer cancel()
	web.SSE(w, r, wake, func() (string, []byte) {
		data, _ := json.Marshal(s.displayState(lang))
		return "display", data
	})
}
