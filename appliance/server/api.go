package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/internal/login"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/ui"
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
// from the same caller gets the same ticket (and the header
// Idempotent-Replayed: true). Paired kiosks and staff issue without limit,
// anonymous clients within issueLimit (429 with Retry-After past it).
func (s *Server) apiIssue(w http.ResponseWriter, r *http.Request) {
	c, ok := s.apiCaller(w, r)
	if !ok {
		return
	}
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
	if ok, wait := s.admitIssue(c); !ok {
		tooManyAPI(w, wait)
		return
	}
	if key != "" {
		// Scoped by caller: someone else's key (a guessable "retry-1")
		// must not replay, and so reveal, their ticket.
		scope := c.scope()
		key = "api-" + strconv.Itoa(len(scope)) + ":" + scope + "-" + key
	}
	t, replayed, err := s.Store.IssueTicketClass(r.Context(), req.Service, req.Class, "api", key)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	var v issueResponse
	lang := ui.Chosen(r, ui.CitizenLangs...) // a kiosk's browser: its cookie
	if req.Print {
		printed, reason := s.printFirst(r.Context(), t, lang)
		v.Printed = &printed
		if !printed {
			v.PrintError = reason
		}
	}
	s.Store.View(func(st *queue.State) { v.TicketView = s.holderView(st, &t, s.current(), lang) })
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
			v, found = s.holderView(st, t, s.current(), ui.Chosen(r, ui.CitizenLangs...)), true
		}
	})
	if !found {
		web.Error(w, r, veedel.Errorf(veedel.ENOTFOUND, "no ticket with this token"))
		return
	}
	web.JSON(w, http.StatusOK, v)
}

type queueView[T any] struct {
	Site    string `json:"site"`
	Day     string `json:"day"`
	Waiting int    `json:"waiting"`
	Tickets []T    `json:"tickets"`
	Called  []T    `json:"called"`
}

// apiQueue lists today's waiting tickets in order of arrival (each with its
// position under the calling rules), and those being served. Without a
// login it shows what the call display shows: numbers, services, places
// and counters (QueueTicket); staff with HTTP Basic get the whole
// TicketView. Neither carries a ticket's token.
func (s *Server) apiQueue(w http.ResponseWriter, r *http.Request) {
	staff := false
	if _, _, ok := r.BasicAuth(); ok {
		if _, ok := s.staff(w, r); !ok {
			return
		}
		staff = true
	}
	now := s.current()
	out := queueView[TicketView]{Tickets: []TicketView{}, Called: []TicketView{}}
	s.Store.View(func(st *queue.State) {
		out.Site, out.Day, out.Waiting = st.Site.ID, st.Day, st.WaitingCount()
		out.Tickets = make([]TicketView, 0, out.Waiting)
		for _, t := range st.Waiting() {
			out.Tickets = append(out.Tickets, s.ticketView(st, t, now))
		}
		for _, id := range st.CounterOrder {
			if t := st.Tickets[st.Counters[id].Current]; t != nil && t.Status == queue.StatusCalled {
				out.Called = append(out.Called, s.ticketView(st, t, now))
			}
		}
	})
	w.Header().Set("Cache-Control", "no-store")
	if staff {
		web.JSON(w, http.StatusOK, out)
		return
	}
	web.JSON(w, http.StatusOK, queueView[QueueTicket]{Site: out.Site, Day: out.Day, Waiting: out.Waiting,
		Tickets: queueTickets(out.Tickets), Called: queueTickets(out.Called)})
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
	u, err := s.Store.Authenticate(r.Context(), login.Attempt{Name: name, Password: password, Client: r.RemoteAddr, Via: login.ViaBasic})
	if th, ok := login.RetryAfter(err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(th.Seconds()))
		web.JSON(w, http.StatusTooManyRequests, map[string]string{"error": veedel.ErrorMessage(err)})
		return "", false
	} else if err != nil {
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
			v = s.ticketView(st, t, s.current())
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
	s.Store.View(func(st *queue.State) {
		v = s.holderView(st, st.Tickets[ticketOf(events)], s.current(), ui.Chosen(r, ui.CitizenLangs...))
	})
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
// checked in before. Anonymous callers are limited as for issuing, which
// also bounds guessing booking codes.
func (s *Server) apiCheckIn(w http.ResponseWriter, r *http.Request) {
	c, ok := s.apiCaller(w, r)
	if !ok {
		return
	}
	var req checkInRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	if ok, wait := s.admitIssue(c); !ok {
		tooManyAPI(w, wait)
		return
	}
	t, replayed, err := s.Store.CheckIn(r.Context(), req.Code, "api")
	if err != nil {
		web.Error(w, r, err)
		return
	}
	var v TicketView
	s.Store.View(func(st *queue.State) { v = s.holderView(st, &t, s.current(), ui.Chosen(r, ui.CitizenLangs...)) })
	w.Header().Set("Location", "/api/v1/tickets/"+t.Token)
	status := http.StatusCreated
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
		status = http.StatusOK
	}
	web.JSON(w, status, v)
}
