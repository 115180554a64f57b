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
	// Class is "" (walk-in) or "accessibility".
	Class string `json:"class,omitempty"`
	// Print asks the site's ticket printer to print the ticket (a kiosk
	// that is not a browser). A retry with the same Idempotency-Key never
	// prints it twice.
	Print bool `json:"print,omitempty"`
}

// issueResponse is the issued ticket and, when printing was asked for,
// whether it printed and, if not, why (a short reason, no personal data).
type issueResponse struct {
	TicketView
	Printed    *bool  `json:"printed,omitempty"`
	PrintError string `json:"print_error,omitempty"`
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
	if err := checkIdempotencyKey(key); err != nil {
		web.Error(w, r, err)
		return
	}
	if key != "" {
		key = "api-" + key
	}
	t, replayed, err := s.Store.IssueTicketClass(r.Context(), req.Service, req.Class, "api", key)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	var v issueResponse
	if req.Print {
		printed, reason := s.printFirst(r.Context(), t, "de")
		v.Printed = &printed
		if !printed {
			v.PrintError = reason
		}
	}
	s.Store.View(func(st *queue.State) { v.TicketView = s.ticketView(st, &t, time.Now()) })
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

// apiQueue lists today's waiting tickets in order of arrival (each with its
// position under the calling rules), and those
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

// staff authenticates a request with HTTP Basic, answering 401 itself.
func (s *Server) staff(w http.ResponseWriter, r *http.Request) (string, bool) {
	name, password, ok := r.BasicAuth()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="veedel desk", charset="UTF-8"`)
		web.Error(w, r, veedel.Errorf(veedel.EUNAUTHORIZED, "staff credentials required (HTTP Basic)"))
		return "", false
	}
	u, err := s.Store.Authenticate(r.Context(), name, password)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="veedel desk", charset="UTF-8"`)
		web.Error(w, r, err)
		return "", false
	}
	return u.Name, true
}

// apiCounterAction runs a counter action (call-next, recall, start,
// finish, no-show, park, transfer) for staff authenticated with HTTP Basic.
// transfer takes {"service": "…"} or {"counter": "…"}; recall with
// {"ticket": "…"} calls back a ticket the counter parked. 200 with the
// ticket, 409 when the queue does not allow it, 400 for a bad body.
func (s *Server) apiCounterAction(w http.ResponseWriter, r *http.Request) {
	staff, ok := s.staff(w, r)
	if !ok {
		return
	}
	counter, action := chi.URLParam(r, "counter"), chi.URLParam(r, "action")
	var args actionArgs
	switch {
	case action == "transfer":
		if err := web.DecodeJSON(r, &args); err != nil {
			web.Error(w, r, err)
			return
		}
		if (args.Service == "") == (args.Counter == "") || args.Ticket != "" {
			web.Error(w, r, veedel.Errorf(veedel.EINVALID, `transfer takes {"service": "<id>"} or {"counter": "<id>"}`))
			return
		}
	case action == "recall" && r.ContentLength != 0:
		if err := web.DecodeJSON(r, &args); err != nil {
			web.Error(w, r, err)
			return
		}
		if args.Service != "" || args.Counter != "" {
			web.Error(w, r, veedel.Errorf(veedel.EINVALID, `recall takes no body, or {"ticket": "<id or number>"} to call back a parked ticket`))
			return
		}
	}
	decide, ok := counterCommand(action, counter, staff, args)
	if !ok {
		web.Error(w, r, veedel.Errorf(veedel.ENOTFOUND, "unknown action %q: use %s", action, counterActions))
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

// apiCancel cancels a waiting ticket for the citizen holding its token
// (the status page's button).
func (s *Server) apiCancel(w http.ResponseWriter, r *http.Request) {
	token := chi.URLParam(r, "token")
	events, err := s.Store.Execute(r.Context(), func(st *queue.State, at time.Time) ([]queue.Event, error) {
		e, err := st.Cancel(at, token)
		return []queue.Event{e}, err
	})
	if err != nil {
		web.Error(w, r, err)
		return
	}
	var v TicketView
	s.Store.View(func(st *queue.State) { v = s.ticketView(st, st.Tickets[ticketOf(events)], time.Now()) })
	web.JSON(w, http.StatusOK, v)
}

type bookingRequest struct {
	Code    string    `json:"code"`
	Service string    `json:"service"`
	Slot    time.Time `json:"slot"`
}

// BookingView is an appointment as the API shows it.
type BookingView struct {
	Code    string    `json:"code"`
	Service string    `json:"service"`
	Slot    time.Time `json:"slot"`
}

// apiCreateBooking records an appointment (staff, HTTP Basic): until
// central sends bookings down, the desk or an admin enters them.
func (s *Server) apiCreateBooking(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.staff(w, r); !ok {
		return
	}
	var req bookingRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	if _, err := s.Store.Execute(r.Context(), func(st *queue.State, at time.Time) ([]queue.Event, error) {
		e, err := st.CreateBooking(at, req.Code, req.Service, req.Slot)
		return []queue.Event{e}, err
	}); err != nil {
		web.Error(w, r, err)
		return
	}
	var v BookingView
	s.Store.View(func(st *queue.State) {
		b := st.BookingByCode(req.Code)
		v = BookingView{Code: b.Code, Service: b.Service, Slot: b.Slot}
	})
	web.JSON(w, http.StatusCreated, v)
}

type checkInRequest struct {
	Code string `json:"code"`
}

// apiCheckIn checks an appointment in by its booking code and returns its
// ticket: 201 for a new one, 200 (Idempotent-Replayed: true) when the code
// checked in before.
func (s *Server) apiCheckIn(w http.ResponseWriter, r *http.Request) {
	var req checkInRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	t, replayed, err := s.Store.CheckIn(r.Context(), req.Code, "api")
	if err != nil {
		web.Error(w, r, err)
		return
	}
	var v TicketView
	s.Store.View(func(st *queue.State) { v = s.ticketView(st, &t, time.Now()) })
	w.Header().Set("Location", "/api/v1/tickets/"+t.Token)
	status := http.StatusCreated
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
		status = http.StatusOK
	}
	web.JSON(w, status, v)
}
