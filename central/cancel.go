package central

import (
	"context"
	"strings"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
)

// A citizen cancels a ticket on its status page at central. Central does
// not decide: the site owns its tickets and may be serving this one right
// now. Central sends the request down (queue.CancelRequested in the site's
// outbound log); the site decides (queue.State.AcceptCancel: cancelled
// while waiting or parked today, refused once called or ended) and records
// the decision; a cancellation travels up like any site event. Until the
// site has taken the request in, the status page shows it as requested.

// cancelRequestAge bounds the requests loaded at start: a ticket lives one
// day, so an older request has been decided or is moot.
const cancelRequestAge = 36 * time.Hour

// RequestCancel asks the site of the ticket behind token to cancel it and
// returns the ticket's status with CancelRequested set. ENOTFOUND for an
// unknown token; ECONFLICT (with the status) when central's picture shows
// the ticket neither waiting nor parked. A request still on its way is not
// sent again, so pressing twice appends one entry.
func (c *Central) RequestCancel(ctx context.Context, token string) (TicketStatus, error) {
	c.out.cancelMu.Lock()
	defer c.out.cancelMu.Unlock()
	st, id, ok := c.ticket(token)
	if !ok {
		return st, veedel.Errorf(veedel.ENOTFOUND, "Ticket nicht gefunden / ticket not found")
	}
	if st.Status != queue.StatusWaiting && st.Status != queue.StatusParked {
		return st, veedel.Errorf(veedel.ECONFLICT, "%s kann nicht storniert werden (%s) / %s cannot be cancelled (%s)", st.Number, st.Status, st.Number, st.Status)
	}
	if st.CancelRequested {
		return st, nil
	}
	ev := queue.Event{Type: queue.TypeCancelRequested, Entity: "ticket/" + id, Payload: &queue.CancelRequested{ID: id}}
	if err := c.SendToSite(ctx, st.Site, ev); err != nil {
		return st, err
	}
	heads, err := c.store.OutboundHeads(ctx)
	if err != nil {
		return st, err
	}
	c.out.mu.Lock()
	if c.out.cancels == nil {
		c.out.cancels = map[string]uint64{}
	}
	// The head after the append is at or after the request's seq: the
	// request counts as pending until the site has polled past it.
	c.out.cancels[st.Site+"/"+id] = heads[st.Site]
	c.out.mu.Unlock()
	st.CancelRequested = true
	return st, nil
}

// cancelPending reports whether a cancellation of the ticket was sent to
// site and the site has not yet taken it in (its downlink has not polled
// past it; after a restart, until its first poll). A decided request is
// forgotten.
func (c *Central) cancelPending(site, id string) bool {
	c.out.mu.Lock()
	defer c.out.mu.Unlock()
	key := site + "/" + id
	seq, ok := c.out.cancels[key]
	if !ok {
		return false
	}
	if p, polled := c.out.polls[site]; polled && p.after >= seq {
		delete(c.out.cancels, key)
		return false
	}
	return true
}

// trimTicket is a ticket's ID from its entity ("ticket/ID").
func trimTicket(entity string) string { return strings.TrimPrefix(entity, "ticket/") }
