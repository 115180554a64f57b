package central

import (
	"context"
	"crypto/rand"
	"sync"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
)

// A citizen may leave a mobile number on the ticket's status page for the
// site's SMS ("bitte zu Platz 3"). The number is personal data that only
// the site keeps (until the ticket ends), so central must not write it to
// its disk or logs: not to the outbound log, which is durable and synced.
// Central holds it in memory only, in a hand-over box per site, until the
// site's next signed download poll has carried it down (a
// changelog.SMSHandover in the Download) and a later poll has confirmed its
// ID; then the number is forgotten and only the outcome is remembered, also
// in memory. A hand-over no poll has confirmed within SMSHandoverTTL
// expires (the site is offline) and its number is dropped; so does every
// pending one when central restarts. The status page says which.
//
// The box is bounded per site and in total, so a flood of sign-ups cannot
// exhaust central's memory; a ticket has at most one hand-over pending
// (signing up again replaces it).

// Hand-over bounds.
const (
	SMSHandoverTTL       = 15 * time.Minute
	smsPendingPerSite    = 200
	smsPendingTotal      = 5000
	smsOutcomeTTL        = 24 * time.Hour // a ticket lives one day
	smsOutcomesMax       = 50000
	smsSweepEvery        = time.Second
	smsLangMaxLen        = 8
	smsOfferedPollsValid = 2 * time.Minute // how long a poll's "no sms" stands
)

// States of a ticket's SMS sign-up, as central knows it.
const (
	SMSNone      = ""          // none known (none made, or central restarted)
	SMSPending   = "pending"   // waiting for the site to take it
	SMSConfirmed = "confirmed" // the site recorded it
	SMSRefused   = "refused"   // the site refused it: the ticket no longer waits
	SMSExpired   = "expired"   // the site did not take it in time: number dropped
)

// SMSSignup is what central knows of a ticket's SMS sign-up: never the
// number.
type SMSSignup struct {
	ID    string    // the hand-over's random ID
	State string    // SMSPending, SMSConfirmed, SMSRefused, SMSExpired or SMSNone
	At    time.Time // when the state began
}

// smsBox is Central's hand-over box; the zero value is ready.
type smsBox struct {
	mu        sync.Mutex
	pending   map[string]*smsPending // by hand-over ID
	perSite   map[string]int         // pending hand-overs per site
	byTicket  map[string]string      // site+"/"+ticket ID -> pending hand-over ID
	outcomes  map[string]SMSSignup   // site+"/"+ticket ID -> the latest sign-up's state
	noSMS     map[string]time.Time   // sites whose latest poll did not ask for hand-overs
	expired   map[string]smsExpired  // by hand-over ID: expired ones a late poll may still confirm
	lastSweep time.Time
}

// smsExpired is what central keeps of an expired hand-over, without the
// number, until its outcome is forgotten: the site may have applied it
// and confirm it late (its WAN dropped for longer than SMSHandoverTTL).
type smsExpired struct {
	site, ticket string
	at           time.Time
}

type smsPending struct {
	h       changelog.SMSHandover
	site    string
	created time.Time
	done    chan struct{} // closed when the hand-over leaves the box
}

// SignUpSMS hands a mobile number (E.164, normalised by the caller) for
// the ticket behind token to its site, and returns the sign-up (pending).
// The ticket must be waiting in central's picture (ENOTFOUND, ECONFLICT);
// a full box is EUNAVAILABLE. The site's waiting download poll is woken,
// so an online site has the number within a round trip.
func (c *Central) SignUpSMS(ctx context.Context, token, phone, lang string) (SMSSignup, error) {
	// The site's check (changelog.SMSHandover.Validate): what central
	// boxes, every site's downlink accepts.
	h := changelog.SMSHandover{ID: rand.Text(), Phone: phone, Lang: lang}
	if !changelog.ValidPhone(phone) || len(lang) > smsLangMaxLen {
		return SMSSignup{}, veedel.Errorf(veedel.EINVALID, "Ungültige Nummer / invalid number")
	}
	st, id, ok := c.ticket(token)
	if !ok {
		return SMSSignup{}, veedel.Errorf(veedel.ENOTFOUND, "Ticket nicht gefunden / ticket not found")
	}
	if st.Status != queue.StatusWaiting {
		return SMSSignup{}, veedel.Errorf(veedel.ECONFLICT, "%s wartet nicht mehr / %s is no longer waiting", st.Number, st.Number)
	}
	if !c.SMSOffered(st.Site) {
		return SMSSignup{}, veedel.Errorf(veedel.EUNAVAILABLE, "Der Standort nimmt keine SMS-Anmeldungen von hier an / the site does not take sms sign-ups from here")
	}
	if h.Ticket = id; h.Validate() != nil {
		return SMSSignup{}, veedel.Errorf(veedel.EINVALID, "Ungültige Nummer / invalid number")
	}
	b := &c.sms
	now := c.now()
	b.mu.Lock()
	b.sweep(now)
	key := st.Site + "/" + id
	// Check the bounds before changing anything, counting the slot a
	// sign-up again frees: a refused sign-up leaves the earlier one (and
	// its outcome) as it was.
	old, replaces := b.byTicket[key]
	freed := 0
	if replaces {
		freed = 1
	}
	if b.perSite[st.Site]-freed >= smsPendingPerSite || len(b.pending)-freed >= smsPendingTotal {
		b.mu.Unlock()
		return SMSSignup{}, veedel.Errorf(veedel.EUNAVAILABLE, "Zu viele SMS-Anmeldungen gerade / too many sms sign-ups right now")
	}
	if replaces {
		b.remove(old) // signing up again replaces the pending number
	}
	if b.pending == nil {
		b.pending, b.perSite, b.byTicket = map[string]*smsPending{}, map[string]int{}, map[string]string{}
	}
	p := &smsPending{h: h, site: st.Site, created: now, done: make(chan struct{})}
	b.pending[p.h.ID] = p
	b.perSite[p.site]++
	b.byTicket[key] = p.h.ID
	su := SMSSignup{ID: p.h.ID, State: SMSPending, At: now}
	b.setOutcome(key, su)
	b.mu.Unlock()
	c.outboundGrew(st.Site) // wake the site's waiting poll
	return su, nil
}

// WaitSMS waits until the hand-over id leaves the box (the site confirmed
// or refused it, or it expired) or at most d, and returns the ticket's
// sign-up for token.
func (c *Central) WaitSMS(ctx context.Context, token, id string, d time.Duration) SMSSignup {
	c.sms.mu.Lock()
	p := c.sms.pending[id]
	c.sms.mu.Unlock()
	if p != nil {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-p.done:
		case <-t.C:
		case <-ctx.Done():
		}
	}
	return c.TicketSMS(token)
}

// TicketSMS returns what central knows of the SMS sign-up of the ticket
// behind token.
func (c *Central) TicketSMS(token string) SMSSignup {
	st, id, ok := c.ticket(token)
	if !ok {
		return SMSSignup{}
	}
	b := &c.sms
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sweep(c.now())
	return b.outcomes[st.Site+"/"+id]
}

// SMSOffered reports whether central can hand SMS sign-ups to site: false
// when the site's latest download poll (within the last two minutes) did
// not ask for them, i.e. the site runs a version without the hand-over.
func (c *Central) SMSOffered(site string) bool {
	c.sms.mu.Lock()
	defer c.sms.mu.Unlock()
	at, ok := c.sms.noSMS[site]
	return !ok || c.now().Sub(at) > smsOfferedPollsValid
}

// SMSHandovers returns the hand-overs waiting for site, for its download
// poll: all that no poll has confirmed yet (an unconfirmed one is offered
// again; the site applies each ID once).
func (c *Central) SMSHandovers(site string) []changelog.SMSHandover {
	b := &c.sms
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sweep(c.now())
	if b.perSite[site] == 0 {
		return nil
	}
	var out []changelog.SMSHandover
	for _, p := range b.pending {
		if p.site == site && len(out) < changelog.MaxSMSHandovers {
			out = append(out, p.h)
		}
	}
	return out
}

// ConfirmSMS takes what a signed download poll of site says about the
// hand-overs: whether it asks for them at all (capable), and the IDs it
// recorded (ok) or refused. A hand-over that expired before the poll came
// still gets its outcome (the site has the number after all). IDs of other
// sites or unknown IDs (replaced, or before a restart) are ignored.
func (c *Central) ConfirmSMS(site string, capable bool, ok, refused []string) {
	if len(ok)+len(refused) > 0 {
		// The ticket's page follows the site's event stream: wake it, so
		// "wird übermittelt" turns into the outcome without a reload.
		defer c.notify(site)
	}
	b := &c.sms
	now := c.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if capable {
		delete(b.noSMS, site)
	} else {
		if b.noSMS == nil {
			b.noSMS = map[string]time.Time{}
		}
		b.noSMS[site] = now
	}
	for _, ids := range []struct {
		ids   []string
		state string
	}{{ok, SMSConfirmed}, {refused, SMSRefused}} {
		for _, id := range ids.ids {
			if p := b.pending[id]; p != nil && p.site == site {
				b.remove(id)
				b.setOutcome(site+"/"+p.h.Ticket, SMSSignup{ID: id, State: ids.state, At: now})
				continue
			}
			// Confirmed after it expired: the site has the number after
			// all. Unless the citizen signed up again meanwhile (that
			// sign-up's outcome stands), the sign-up is what the site says.
			x, ok := b.expired[id]
			if !ok || x.site != site {
				continue
			}
			delete(b.expired, id)
			key := site + "/" + x.ticket
			if o, ok := b.outcomes[key]; ok && o.ID == id {
				b.setOutcome(key, SMSSignup{ID: id, State: ids.state, At: now})
			}
		}
	}
}

// remove takes a pending hand-over out of the box and wakes its waiters;
// it requires b.mu.
func (b *smsBox) remove(id string) {
	p := b.pending[id]
	if p == nil {
		return
	}
	delete(b.pending, id)
	if b.perSite[p.site]--; b.perSite[p.site] <= 0 {
		delete(b.perSite, p.site)
	}
	key := p.site + "/" + p.h.Ticket
	if b.byTicket[key] == id {
		delete(b.byTicket, key)
	}
	p.h.Phone = ""
	close(p.done)
}

// setOutcome records a ticket's sign-up state, evicting old states beyond
// the bound; it requires b.mu.
func (b *smsBox) setOutcome(key string, su SMSSignup) {
	if b.outcomes == nil {
		b.outcomes = map[string]SMSSignup{}
	}
	if _, ok := b.outcomes[key]; !ok && len(b.outcomes) >= smsOutcomesMax {
		oldest := ""
		for k, o := range b.outcomes {
			if oldest == "" || o.At.Before(b.outcomes[oldest].At) {
				oldest = k
			}
		}
		delete(b.outcomes, oldest)
	}
	b.outcomes[key] = su
}

// keepExpired remembers an expired hand-over's ID (never its number) for
// a late confirmation, evicting the oldest beyond the bound; it requires
// b.mu.
func (b *smsBox) keepExpired(id string, x smsExpired) {
	if b.expired == nil {
		b.expired = map[string]smsExpired{}
	}
	if len(b.expired) >= smsOutcomesMax {
		oldest := ""
		for k, o := range b.expired {
			if oldest == "" || o.at.Before(b.expired[oldest].at) {
				oldest = k
			}
		}
		delete(b.expired, oldest)
	}
	b.expired[id] = x
}

// sweep expires hand-overs older than SMSHandoverTTL (dropping their
// numbers, keeping their IDs for a late confirmation) and forgets outcomes
// and expired IDs older than a day; at most once a second.
// It requires b.mu.
func (b *smsBox) sweep(now time.Time) {
	if now.Sub(b.lastSweep) < smsSweepEvery && !now.Before(b.lastSweep) {
		return
	}
	b.lastSweep = now
	for id, p := range b.pending {
		if now.Sub(p.created) >= SMSHandoverTTL {
			b.remove(id)
			b.setOutcome(p.site+"/"+p.h.Ticket, SMSSignup{ID: id, State: SMSExpired, At: now})
			b.keepExpired(id, smsExpired{site: p.site, ticket: p.h.Ticket, at: now})
		}
	}
	for k, o := range b.outcomes {
		if now.Sub(o.At) > smsOutcomeTTL {
			delete(b.outcomes, k)
		}
	}
	for id, x := range b.expired {
		if now.Sub(x.at) > smsOutcomeTTL {
			delete(b.expired, id)
		}
	}
}
