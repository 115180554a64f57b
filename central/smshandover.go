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
// the site keeps (until the ticket ends), so central never writes it in
// clear to its disk or logs, nor to the outbound log, which is durable and
// synced. At sign-up central seals the number to the site's box key (the
// X25519 key of the site's last signed poll, changelog.SealSMS), which
// central cannot open, and keeps the sealed hand-over in the store
// (SMSStore), so that the citizen's request and the site's poll may reach
// different central nodes. The site's next signed download poll carries it
// down (a changelog.SMSHandover in the Download) and a later poll confirms
// its ID; then the sealed number is erased and only the outcome is
// remembered (a day). A hand-over no poll has confirmed within
// SMSHandoverTTL expires (the site is offline) and its sealed number is
// erased too. The status page says which. A site without a recorded box
// key (it never polled with one) takes no sign-ups.
//
// The store bounds the pending hand-overs per site and in total, so a
// flood of sign-ups cannot fill it; a ticket has at most one hand-over
// pending (signing up again replaces it).

// Hand-over bounds.
const (
	SMSHandoverTTL       = 15 * time.Minute
	smsPendingPerSite    = 200
	smsPendingTotal      = 5000
	smsOutcomeTTL        = 24 * time.Hour // a ticket lives one day
	smsSweepEvery        = time.Minute
	smsLangMaxLen        = 8
	smsOfferedPollsValid = 2 * time.Minute // how long a poll's "no sms" stands
	smsStoreTimeout      = 5 * time.Second
)

// States of a ticket's SMS sign-up, as central knows it.
const (
	SMSNone      = ""          // none known (none made, or forgotten)
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

// SMSRecord is a stored hand-over: its number only sealed to the site's
// box key (Sealed, nil once it left the pending state).
type SMSRecord struct {
	ID, Site, Ticket, Lang string
	BoxKey                 []byte // the box key Sealed is sealed to
	Sealed                 []byte
	State                  string
	CreatedAt, At          time.Time
}

// SMSStore keeps the SMS hand-overs. Every LogStore is one.
type SMSStore interface {
	// PutSMSHandover stores r (pending), replacing the pending hand-over
	// of the same ticket, unless the site has perSite or all sites have
	// total hand-overs pending that were created at or after liveSince
	// (not counting the one replaced): then EUNAVAILABLE.
	PutSMSHandover(ctx context.Context, r SMSRecord, liveSince time.Time, perSite, total int) error
	// PendingSMSHandovers returns up to limit of site's pending hand-overs
	// created at or after liveSince and sealed to boxKey, oldest first.
	PendingSMSHandovers(ctx context.Context, site string, boxKey []byte, liveSince time.Time, limit int) ([]SMSRecord, error)
	// SettleSMSHandovers sets the state of site's hand-overs ids that are
	// pending or expired to state (confirmed or refused) at at, erasing
	// their sealed numbers; other sites' and unknown IDs are ignored. It
	// returns how many changed.
	SettleSMSHandovers(ctx context.Context, site string, ids []string, state string, at time.Time) (int, error)
	// LatestSMSHandover returns the ticket's latest hand-over (the one
	// signed up last), false when it has none.
	LatestSMSHandover(ctx context.Context, site, ticket string) (SMSRecord, bool, error)
	// SweepSMSHandovers marks the pending hand-overs created before
	// expireBefore expired at at, erasing their sealed numbers, and
	// deletes those whose state began before forgetBefore. It returns how
	// many expired.
	SweepSMSHandovers(ctx context.Context, expireBefore, forgetBefore, at time.Time) (int, error)
}

// smsBox is what a central node remembers of the hand-overs beside the
// store: which sites' latest poll here did not ask for them. The zero
// value is ready.
type smsBox struct {
	mu        sync.Mutex
	noSMS     map[string]time.Time // sites whose latest poll did not ask for hand-overs
	lastSweep time.Time
}

// SignUpSMS hands a mobile number (E.164, normalised by the caller) for
// the ticket behind token to its site, and returns the sign-up (pending).
// The ticket must be waiting in central's picture (ENOTFOUND, ECONFLICT);
// a full box, or a site without a box key, is EUNAVAILABLE. The number is
// sealed to the site's box key before it is stored. The site's waiting
// download poll is woken, on every central node, so an online site has
// the number within a round trip.
func (c *Central) SignUpSMS(ctx context.Context, token, phone, lang string) (SMSSignup, error) {
	// The site's check (changelog.SMSHandover.Validate): what central
	// stores, every site's downlink accepts.
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
	unavailable := veedel.Errorf(veedel.EUNAVAILABLE, "Der Standort nimmt keine SMS-Anmeldungen von hier an / the site does not take sms sign-ups from here")
	if !c.SMSOffered(st.Site) {
		return SMSSignup{}, unavailable
	}
	if h.Ticket = id; h.Validate() != nil {
		return SMSSignup{}, veedel.Errorf(veedel.EINVALID, "Ungültige Nummer / invalid number")
	}
	// The store's key, not this node's cache: another node may have
	// recorded a newer one.
	boxKey, err := c.store.BoxKey(ctx, st.Site)
	if err != nil {
		return SMSSignup{}, err
	}
	if boxKey == nil {
		return SMSSignup{}, unavailable
	}
	sealed, err := changelog.SealSMS(h, st.Site, boxKey)
	if err != nil {
		return SMSSignup{}, unavailable
	}
	now := c.now()
	r := SMSRecord{ID: h.ID, Site: st.Site, Ticket: id, Lang: lang, BoxKey: boxKey, Sealed: sealed.Sealed,
		State: SMSPending, CreatedAt: now, At: now}
	if err := c.store.PutSMSHandover(ctx, r, now.Add(-SMSHandoverTTL), smsPendingPerSite, smsPendingTotal); err != nil {
		if veedel.ErrorCode(err) == veedel.EUNAVAILABLE {
			return SMSSignup{}, veedel.Errorf(veedel.EUNAVAILABLE, "Zu viele SMS-Anmeldungen gerade / too many sms sign-ups right now")
		}
		return SMSSignup{}, err
	}
	c.smsChanged(st.Site)
	return SMSSignup{ID: h.ID, State: SMSPending, At: now}, nil
}

// smsChanged wakes what waits on site's hand-overs here (its download
// polls, its ticket pages) and tells the other central nodes.
func (c *Central) smsChanged(site string) {
	c.outboundGrew(site)
	c.notify(site)
	if p := c.peers(); p != nil {
		p.SMSHandover(site)
	}
}

// SMSChanged is smsChanged for a hand-over another central node stored or
// settled: it wakes this node's polls and pages of site.
func (c *Central) SMSChanged(site string) {
	c.outboundGrew(site)
	c.notify(site)
}

// WaitSMS waits until the hand-over id leaves the pending state (the site
// confirmed or refused it, or it expired) or at most d, and returns the
// ticket's sign-up for token.
func (c *Central) WaitSMS(ctx context.Context, token, id string, d time.Duration) SMSSignup {
	st, _, ok := c.ticket(token)
	if !ok {
		return SMSSignup{}
	}
	// Subscribed before reading, so that a change between the read and
	// the wait is not missed.
	woken, end := c.Subscribe(st.Site)
	defer end()
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		su := c.TicketSMS(token)
		if su.ID != id || su.State != SMSPending {
			return su
		}
		select {
		case <-woken:
		case <-t.C:
			return su
		case <-ctx.Done():
			return su
		}
	}
}

// TicketSMS returns what central knows of the SMS sign-up of the ticket
// behind token.
func (c *Central) TicketSMS(token string) SMSSignup {
	st, id, ok := c.ticket(token)
	if !ok {
		return SMSSignup{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), smsStoreTimeout)
	defer cancel()
	c.sweepSMS(ctx, c.now())
	r, ok, err := c.store.LatestSMSHandover(ctx, st.Site, id)
	if err != nil {
		c.log.Error("read sms hand-over", "site", st.Site, "err", err)
		return SMSSignup{}
	}
	if !ok {
		return SMSSignup{}
	}
	now := c.now()
	if now.Sub(r.At) > smsOutcomeTTL {
		return SMSSignup{}
	}
	if r.State == SMSPending && now.Sub(r.CreatedAt) >= SMSHandoverTTL {
		// Expired, whether or not a sweep has marked it yet.
		return SMSSignup{ID: r.ID, State: SMSExpired, At: r.CreatedAt.Add(SMSHandoverTTL)}
	}
	return SMSSignup{ID: r.ID, State: r.State, At: r.At}
}

// SMSOffered reports whether central can hand SMS sign-ups to site: false
// when the site's latest download poll here (within the last two minutes)
// did not ask for them, i.e. the site runs a version without the
// hand-over.
func (c *Central) SMSOffered(site string) bool {
	c.sms.mu.Lock()
	defer c.sms.mu.Unlock()
	at, ok := c.sms.noSMS[site]
	return !ok || c.now().Sub(at) > smsOfferedPollsValid
}

// SMSHandovers returns the hand-overs waiting for site that are sealed to
// boxKey, for its download poll: all that no poll has confirmed yet (an
// unconfirmed one is offered again; the site applies each ID once). Those
// sealed to an earlier box key of the site are not offered (central
// cannot seal them anew) and expire.
func (c *Central) SMSHandovers(ctx context.Context, site string, boxKey []byte) ([]changelog.SMSHandover, error) {
	now := c.now()
	c.sweepSMS(ctx, now)
	rs, err := c.store.PendingSMSHandovers(ctx, site, boxKey, now.Add(-SMSHandoverTTL), changelog.MaxSMSHandovers)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	out := make([]changelog.SMSHandover, len(rs))
	for i, r := range rs {
		out[i] = changelog.SMSHandover{ID: r.ID, Ticket: r.Ticket, Lang: r.Lang, Sealed: r.Sealed}
	}
	return out, nil
}

// sweepSMS erases the sealed numbers of expired hand-overs and forgets
// old outcomes, at most once a minute per node (reads treat an old
// pending hand-over as expired before the sweep marks it).
func (c *Central) sweepSMS(ctx context.Context, now time.Time) {
	c.sms.mu.Lock()
	due := now.Sub(c.sms.lastSweep) >= smsSweepEvery || now.Before(c.sms.lastSweep)
	if due {
		c.sms.lastSweep = now
	}
	c.sms.mu.Unlock()
	if !due {
		return
	}
	if _, err := c.store.SweepSMSHandovers(ctx, now.Add(-SMSHandoverTTL), now.Add(-smsOutcomeTTL), now); err != nil {
		c.log.Error("sweep sms hand-overs", "err", err)
	}
}

// ConfirmSMS takes what a signed download poll of site says about the
// hand-overs: whether it asks for them at all (capable), and the IDs it
// recorded (ok) or refused. A hand-over that expired before the poll came
// still gets its outcome (the site has the number after all), unless the
// citizen signed up again meanwhile (the later sign-up is the ticket's
// outcome). IDs of other sites or unknown IDs are ignored.
func (c *Central) ConfirmSMS(site string, capable bool, ok, refused []string) {
	now := c.now()
	c.sms.mu.Lock()
	if capable {
		delete(c.sms.noSMS, site)
	} else {
		if c.sms.noSMS == nil {
			c.sms.noSMS = map[string]time.Time{}
		}
		c.sms.noSMS[site] = now
	}
	c.sms.mu.Unlock()
	if len(ok)+len(refused) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), smsStoreTimeout)
	defer cancel()
	c.sweepSMS(ctx, now)
	changed := 0
	for _, ids := range []struct {
		ids   []string
		state string
	}{{ok, SMSConfirmed}, {refused, SMSRefused}} {
		if len(ids.ids) == 0 {
			continue
		}
		n, err := c.store.SettleSMSHandovers(ctx, site, ids.ids, ids.state, now)
		if err != nil {
			// The site offers the IDs again with its next poll.
			c.log.Error("settle sms hand-overs", "site", site, "err", err)
		}
		changed += n
	}
	if changed > 0 {
		// The ticket's page follows the site's event stream: wake it, so
		// "wird übermittelt" turns into the outcome without a reload.
		c.smsChanged(site)
	}
}
