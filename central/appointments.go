package central

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/workflow"
)

// Online appointments' holds and bookings live in the store (appliance/
// appointment store.go): central is the appointment workflow's Host, and
// the store's changes append their events to the site's outbound log in
// the same transaction.

// AppointmentStore keeps central's online appointments (SQLite migration
// 0015, PostgreSQL migration 0004).
type AppointmentStore interface {
	// HoldSlot, AppointmentByToken, SlotsTaken, RecordBookings and
	// BookingFor are appointment.Store's.
	HoldSlot(ctx context.Context, r appointment.Record, capacity, perContact int, now time.Time) error
	AppointmentByToken(ctx context.Context, tokenHash []byte) (appointment.Record, error)
	SlotsTaken(ctx context.Context, site, service string, from, to, now time.Time) (map[int64]int, error)
	RecordBookings(ctx context.Context, records []appointment.Record) error
	BookingFor(ctx context.Context, forRef string, now time.Time) (appointment.Record, error)
	// ExpireHolds marks the holds expired by now as expired and deletes
	// their personal data and code hashes; it returns how many.
	ExpireHolds(ctx context.Context, now time.Time) (int, error)
	// UpdateAppointment is appointment.Store's ChangeAppointment on the
	// outbound log's terms: decide's events are appended to the record's
	// site's outbound log, stamped by clock, at at.
	UpdateAppointment(ctx context.Context, tokenHash []byte, at time.Time, clock func() changelog.HLC,
		decide func(appointment.Record) (*appointment.Record, []Outgoing, error)) (appointment.Record, error)
}

var _ appointment.Host = (*Central)(nil)

// HoldSlot is the store's.
func (c *Central) HoldSlot(ctx context.Context, r appointment.Record, capacity, perContact int, now time.Time) error {
	return c.store.HoldSlot(ctx, r, capacity, perContact, now)
}

// AppointmentByToken is the store's.
func (c *Central) AppointmentByToken(ctx context.Context, tokenHash []byte) (appointment.Record, error) {
	return c.store.AppointmentByToken(ctx, tokenHash)
}

// SlotsTaken is the store's.
func (c *Central) SlotsTaken(ctx context.Context, site, service string, from, to, now time.Time) (map[int64]int, error) {
	return c.store.SlotsTaken(ctx, site, service, from, to, now)
}

// BookingFor is the store's.
func (c *Central) BookingFor(ctx context.Context, forRef string, now time.Time) (appointment.Record, error) {
	return c.store.BookingFor(ctx, forRef, now)
}

// RecordBookings is the store's.
func (c *Central) RecordBookings(ctx context.Context, records []appointment.Record) error {
	return c.store.RecordBookings(ctx, records)
}

// ChangeAppointment changes an appointment and sends decide's events to
// its site in one transaction; after the commit the site's download
// wakes and the citizen's open pages follow.
func (c *Central) ChangeAppointment(ctx context.Context, tokenHash []byte, decide func(appointment.Record) (*appointment.Record, []workflow.Event, error)) (appointment.Record, error) {
	clock, err := c.outboundClock(ctx)
	if err != nil {
		return appointment.Record{}, err
	}
	var sent []workflow.Event
	rec, err := c.store.UpdateAppointment(ctx, tokenHash, c.now(), clock, func(r appointment.Record) (*appointment.Record, []Outgoing, error) {
		next, events, err := decide(r)
		sent = events
		out := make([]Outgoing, len(events))
		for i, e := range events {
			out[i] = Outgoing{Type: e.Type, Entity: e.Entity, Payload: e.Payload}
		}
		return next, out, err
	})
	if err == nil && len(sent) > 0 {
		for _, e := range sent {
			if wf := c.workflowOf(e.Type); wf != nil {
				wf.Sent(rec.Site, e)
			}
		}
		c.outboundGrew(rec.Site)
	}
	if rec.Site != "" {
		c.notify(rec.Site)
	}
	return rec, err
}

// backfillAppointments hands the store the bookings the outbound logs
// hold from before it kept them.
func (c *Central) backfillAppointments(ctx context.Context) error {
	wf, ok := c.Workflow(appointment.Prefix).(*appointment.Central)
	if !ok {
		return nil
	}
	return wf.Backfill(ctx, c.store)
}

// ExpireHolds ends the holds that ran out, deleting their personal data;
// central calls it every minute (the counts never need it: an expired
// hold takes no place).
func (c *Central) ExpireHolds(ctx context.Context) (int, error) {
	return c.store.ExpireHolds(ctx, c.now())
}

// centralState is central's fold of a site's log.
func centralState(site string) *queue.State {
	st := queue.NewState(site)
	st.AtCentral = true
	return st
}

// sellLocks remembers the online share versions this node acknowledged,
// so that it does not send the same acknowledgement after every batch.
// The selling itself is serialised per site by a lock of the database
// (SellLock): a booking is checked against the share central sells by and
// is in the outbound log before the acknowledgement of a smaller share,
// or is checked against that smaller share, whichever nodes confirm and
// acknowledge. Another node that has not seen an acknowledgement sends it
// once more, which changes nothing at the site.
type sellLocks struct {
	mu    sync.Mutex
	acked map[string]uint64 // site+"\n"+service -> version acknowledged by this process
}

// SellLock locks site's selling on every central node until the returned
// func is called.
func (c *Central) SellLock(ctx context.Context, site string) (func(), error) {
	return c.store.Lock(ctx, lockSell+site)
}

// ackShares acknowledges the site's online share settings central has
// not acknowledged yet: from now on it sells by them. An acknowledgement
// lost (central stopped before appending it) is sent after the site's
// next batch; one sent twice changes nothing at the site.
func (c *Central) ackShares(ctx context.Context, site string) {
	var todo map[string]uint64
	c.ViewSite(site, func(st *queue.State, _ SiteCursor) { todo = st.SharesToAck() })
	if len(todo) == 0 {
		return
	}
	unlock, err := c.SellLock(ctx, site)
	if err != nil {
		// Acknowledged after the site's next batch.
		c.log.Error("acknowledge online share: lock", "site", site, "err", err)
		return
	}
	defer unlock()
	c.sell.mu.Lock()
	var events []queue.Event
	for _, service := range slices.Sorted(maps.Keys(todo)) {
		if v := todo[service]; c.sell.acked[site+"\n"+service] < v {
			events = append(events, queue.Event{Type: queue.TypeOnlineShareAcked, Entity: "service/" + service, At: c.now(),
				Payload: &queue.OnlineShareAcked{Service: service, Version: v}})
		}
	}
	c.sell.mu.Unlock()
	if len(events) == 0 {
		return
	}
	if err := c.SendToSite(ctx, site, events...); err != nil {
		c.log.Error("acknowledge online share", "site", site, "err", err)
		return
	}
	c.sell.mu.Lock()
	defer c.sell.mu.Unlock()
	if c.sell.acked == nil {
		c.sell.acked = map[string]uint64{}
	}
	for _, e := range events {
		p := e.Payload.(*queue.OnlineShareAcked)
		c.sell.acked[site+"\n"+p.Service] = p.Version
	}
}
