package server

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/internal/web"
)

func (s *Server) apiServices(w http.ResponseWriter, r *http.Request) {
	var out []ServiceView
	s.Store.View(func(st *queue.State) { out = serviceViews(st) })
	web.JSON(w, http.StatusOK, out)
}

type issueRequest struct {
	Service string `json:"service"`
}

// apiIssue issues a ticket. A retried request with the same Idempotency-Key
// gets the same ticket (and the header Idempotent-Replayed: true).
func (s *Server) apiIssue(w http.ResponseWriter, r *http.Request) {
	var req issueRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	if req.Service == "" {
		web.Error(w, r, veedel.Errorf(veedel.EINVALID, `field "service" is required: one of the ids from GET /api/v1/services`))
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 200 {
		web.Error(w, r, veedel.Errorf(veedel.EINVALID, "Idempotency-Key longer than 200 characters"))
		return
	}
	if key != "" {
		key = "api-" + key
	}
	t, replayed, err := s.Store.IssueTicket(r.Context(), req.Service, "api", key)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	var v TicketView
	s.Store.View(func(st *queue.State) { v = s.ticketView(st, &t, time.Now()) })
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("Location", "/api/v1/tickets/"+t.Token)
	web.JSON(w, http.StatusCreated, v)
}

func (s *Server) apiTicket(w http.ResponseWriter, r *http.Request) {
	token := chi.URLParam(r, "token")
	var v TicketView
	found := false
	s.Store.View(func(st *queue.State) {
		if t := st.TicketByToken(token); t != nil {
			v, found = s.ticketView(st, t, time.Now()), true
		}
	})
	if !found {
		web.Error(w, r, veedel.Errorf(veedel.ENOTFOUND, "no ticket with this token"))
		return
	}
	web.JSON(w, http.StatusOK, v)
}

type queueView struct {
	Site    string       `json:"site"`
	Day     string       `json:"day"`
	Waiting int          `json:"waiting"`
	Tickets []TicketView `json:"tickets"`
	Called  []TicketView `json:"called"`
}

// apiQueue lists today's waiting tickets in calling order, and those
// being served.
func (s *Server) apiQueue(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	out := queueView{Tickets: []TicketView{}, Called: []TicketView{}}
	s.Store.View(func(st *queue.State) {
		out.Site, out.Day, out.Waiting = st.Site.ID, st.Day, st.WaitingCount()
		for _, t := range st.Waiting() {
			out.Tickets = append(out.Tickets, s.ticketView(st, t, now))
		}
		for _, id := range st.CounterOrder {
			if t := st.Tickets[st.Counters[id].Current]; t != nil && t.Status == queue.StatusCalled {
				out.Called = append(out.Called, s.ticketView(st, t, now))
			}
		}
	})
	web.JSON(w, http.StatusOK, out)
}

func (s *Server) apiCounters(w http.ResponseWriter, r *http.Request) {
	var out []CounterView
	s.Store.View(func(st *queue.State) { out = counterViews(st) })
	web.JSON(w, http.StatusOK, out)
}

// apiCounterAction runs call-next, recall, finish or no-show at a counter
// for staff authenticated with HTTP Basic.
func (s *Server) apiCounterAction(w http.ResponseWriter, r *http.Request) {
	name, password, ok := r.BasicAuth()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="veedel desk", charset="UTF-8"`)
		web.Error(w, r, veedel.Errorf(veedel.EUNAUTHORIZED, "staff credentials required (HTTP Basic)"))
		return
	}
	u, err := s.Store.Authenticate(r.Context(), name, password)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="veedel desk", charset="UTF-8"`)
		web.Error(w, r, err)
		return
	}
	counter, action := chi.URLParam(r, "counter"), chi.URLParam(r, "action")
	decide, ok := counterCommand(action, counter, u.Name)
	if !ok {
		web.Error(w, r, veedel.Errorf(veedel.ENOTFOUND, "unknown action %q: use call-next, recall, finish or no-show", action))
		return
	}
	events, err := s.Store.Execute(r.Context(), decide)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	var v TicketView
	s.Store.View(func(st *queue.State) {
		if t := st.Tickets[ticketOf(events)]; t != nil {
			v = s.ticketView(st, t, time.Now())
		}
	})
	web.JSON(w, http.StatusOK, v)
}
