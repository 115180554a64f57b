package server

import (
	"slices"
	"strings"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/ui"
)

// TicketView is a ticket as the API and the pages show it. Token and
// StatusURL (which carries the token) are set only for whoever took the
// ticket or holds its token already (holderView): with the token anyone
// can cancel the ticket or sign it up for SMS, so no listing, staff view
// or stream ever carries it.
type TicketView struct {
	ID                   string `json:"id"`
	Number               string `json:"number"`
	Token                string `json:"token,omitempty"`
	Service              string `json:"service"`
	ServiceName          string `json:"service_name"`
	ServiceNameEN        string `json:"service_name_en"`
	Status               string `json:"status"`
	Position             int    `json:"position"`
	EstimatedWaitMinutes int    `json:"estimated_wait_minutes"`
	// EstimatedWaitP90Minutes: nine in ten are called within this.
	EstimatedWaitP90Minutes int       `json:"estimated_wait_p90_minutes"`
	Counter                 string    `json:"counter,omitempty"`
	CounterName             string    `json:"counter_name,omitempty"`
	IssuedAt                time.Time `json:"issued_at"`
	CalledAt                time.Time `json:"called_at,omitzero"`
	StartedAt               time.Time `json:"started_at,omitzero"`
	// Class is "" (walk-in), "appointment" or "accessibility"; an
	// appointment has its Slot. Target is the counter a transfer sent it to.
	Class  string    `json:"class,omitempty"`
	Slot   time.Time `json:"slot,omitzero"`
	Target string    `json:"target_counter,omitempty"`
	// Ref is the record the ticket was issued for ("order/U…": a pickup).
	Ref string `json:"ref,omitempty"`
	// Order is the certificate order a pickup ticket is for (from Ref),
	// for the clerk's link to it.
	Order         string `json:"-"`
	StatusURL     string `json:"status_url,omitempty"`
	WaitedMinutes int    `json:"-"`
}

// QueueTicket is a ticket in the public listing of the queue: what the
// waiting room sees anyway (number, service, place in line, counter).
// Nothing in it lets anyone act on the ticket.
type QueueTicket struct {
	Number                  string `json:"number"`
	Service                 string `json:"service"`
	ServiceName             string `json:"service_name"`
	ServiceNameEN           string `json:"service_name_en"`
	Status                  string `json:"status"`
	Position                int    `json:"position"`
	EstimatedWaitMinutes    int    `json:"estimated_wait_minutes"`
	EstimatedWaitP90Minutes int    `json:"estimated_wait_p90_minutes"`
	Counter                 string `json:"counter,omitempty"`
	CounterName             string `json:"counter_name,omitempty"`
}

func queueTickets(vs []TicketView) []QueueTicket {
	out := make([]QueueTicket, len(vs))
	for i, v := range vs {
		out[i] = QueueTicket{Number: v.Number, Service: v.Service, ServiceName: v.ServiceName, ServiceNameEN: v.ServiceNameEN,
			Status: v.Status, Position: v.Position, EstimatedWaitMinutes: v.EstimatedWaitMinutes,
			EstimatedWaitP90Minutes: v.EstimatedWaitP90Minutes, Counter: v.Counter, CounterName: v.CounterName}
	}
	return out
}

// ServiceView is a service with its current figures.
type ServiceView struct {
	ID                      string `json:"id"`
	Name                    string `json:"name"`
	NameEN                  string `json:"name_en"`
	Prefix                  string `json:"prefix"`
	ExpectedMinutes         int    `json:"expected_minutes"`
	Waiting                 int    `json:"waiting"`
	EstimatedWaitMinutes    int    `json:"estimated_wait_minutes"`
	EstimatedWaitP90Minutes int    `json:"estimated_wait_p90_minutes"`
}

// CounterView is a counter as the API shows it.
type CounterView struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Services []string `json:"services"`
	Open     bool     `json:"open"`
	Current  string   `json:"current,omitempty"` // number being served
}

// holderView is ticketView with the ticket's token and the address of its
// status page, for whoever took the ticket (the issuing request's answer,
// the kiosk's ticket page and print) or asks by its token; lang is the
// language the citizen chose (see statusURL). Requires the store's lock.
func (s *Server) holderView(st *queue.State, t *queue.Ticket, at time.Time, lang string) TicketView {
	v := s.ticketView(st, t, at)
	v.Token, v.StatusURL = t.Token, s.statusURL(t.Token, lang)
	return v
}

// statusURL is the address of a ticket's status page at central (the QR
// code on screen and paper). It carries lang, the language the citizen
// chose at the kiosk, so that the page opens in it on their phone; not
// German, the kiosk's default (nor "", unknown): the phone's own language
// then decides (central's ui.LangOrBrowser), German failing that.
func (s *Server) statusURL(token, lang string) string {
	u := s.PortalURL + "/t/" + token
	if lang != "de" && slices.Contains(ui.CitizenLangs, lang) {
		u += "?lang=" + lang
	}
	return u
}

// ticketView is a ticket without its token, as staff see it. Requires the
// store's lock (call inside Store.View).
func (s *Server) ticketView(st *queue.State, t *queue.Ticket, at time.Time) TicketView {
	v := TicketView{ID: t.ID, Number: t.Number, Service: t.Service, Status: t.Status,
		Counter: t.Counter, IssuedAt: t.IssuedAt, CalledAt: t.CalledAt,
		StartedAt: t.StartedAt, Class: t.Class, Slot: t.Slot, Target: t.Target, Ref: t.Ref}
	if code, ok := strings.CutPrefix(t.Ref, "order/"); ok {
		v.Order = code
	}
	if svc := st.Services[t.Service]; svc != nil {
		v.ServiceName, v.ServiceNameEN = svc.Name, svc.NameEN
	}
	if c := st.Counters[t.Counter]; c != nil {
		v.CounterName = c.Name
	}
	est := st.EstimateTicket(t.ID)
	v.Position, v.EstimatedWaitMinutes, v.EstimatedWaitP90Minutes = est.Position, est.Minutes, est.P90
	if t.Status == queue.StatusWaiting {
		v.WaitedMinutes = int(at.Sub(t.IssuedAt).Minutes())
	}
	return v
}

func serviceViews(st *queue.State) []ServiceView {
	waiting := map[string]int{}
	for _, t := range st.Waiting() {
		waiting[t.Service]++
	}
	out := make([]ServiceView, 0, len(st.ServiceOrder))
	for _, id := range st.ServiceOrder {
		svc := st.Services[id]
		est := st.EstimateNew(id)
		out = append(out, ServiceView{ID: svc.ID, Name: svc.Name, NameEN: svc.NameEN, Prefix: st.TicketPrefix(id),
			ExpectedMinutes: svc.ExpectedMinutes, Waiting: waiting[id], EstimatedWaitMinutes: est.Minutes, EstimatedWaitP90Minutes: est.P90})
	}
	return out
}

func counterViews(st *queue.State) []CounterView {
	out := make([]CounterView, 0, len(st.CounterOrder))
	for _, id := range st.CounterOrder {
		c := st.Counters[id]
		v := CounterView{ID: c.ID, Name: c.Name, Services: c.Services, Open: c.Open}
		if t := st.Tickets[c.Current]; t != nil && t.Status == queue.StatusCalled {
			v.Current = t.Number
		}
		out = append(out, v)
	}
	return out
}
