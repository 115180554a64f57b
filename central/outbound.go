package central

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
)

// Central sends work and reference data down to the sites through an
// outbound log per site: gap-free by seq, hash-chained, durable before it
// is offered. A site's downlink long-polls for the entries after its
// cursor; appending wakes the waiting polls of the sites concerned.
//
// City-wide reference data (the service catalogue) goes to every site that
// has joined; a site joins when central first stores its log, and then
// gets all of the city's current reference data first, so a site set up
// later starts from the same catalogue as the others.

// OutboundStore keeps the outbound logs. Every LogStore is one.
type OutboundStore interface {
	// AppendOutbound appends events to the outbound log of site in one
	// transaction and returns the sites appended to. With site "" the
	// events are city-wide reference data: each is recorded as its
	// entity's current reference and appended to every joined site; sites
	// with a stored log that have not joined yet join in the same
	// transaction. clock stamps each new entry.
	AppendOutbound(ctx context.Context, site string, events []Outgoing, at time.Time, clock func() changelog.HLC) ([]string, error)
	// JoinSite lets site receive the city-wide reference data. The first
	// time, it appends all of it to the site's outbound log and reports true.
	JoinSite(ctx context.Context, site string, at time.Time, clock func() changelog.HLC) (bool, error)
	// RejoinSite appends the current reference data to a joined site's
	// log again (the city's in join order, then the newest entry of each
	// entity of SiteReferenceTypes in the site's log), at most once per
	// request: after is the site's cursor when it asked, and a request at
	// or below the last replayed one's cursor is the same request (done,
	// nothing appended). A replay within minInterval of the last is not
	// done. It reports whether the request is done and the entries
	// appended.
	RejoinSite(ctx context.Context, site string, after uint64, at time.Time, minInterval time.Duration, clock func() changelog.HLC) (bool, int, error)
	// Outbound returns up to limit entries (and about maxBytes) of site's
	// outbound log after seq, and the log's head.
	Outbound(ctx context.Context, site string, after uint64, limit, maxBytes int) ([]changelog.Entry, uint64, error)
	// OutboundHeads returns the head of every site's outbound log.
	OutboundHeads(ctx context.Context) (map[string]uint64, error)
	// CityReference returns the current city-wide reference events of a
	// type, payloads encoded, oldest first.
	CityReference(ctx context.Context, eventType string) ([]Outgoing, error)
	// LastOutboundHLC is the highest timestamp in any outbound log, so that
	// central's clock continues after it when restarted.
	LastOutboundHLC(ctx context.Context) (changelog.HLC, error)
	// OutboundOfType returns the entries of eventType appended to any
	// site's outbound log at or after since (Site, Seq, Type, Entity and
	// HLC; no payload), oldest first.
	OutboundOfType(ctx context.Context, eventType string, since time.Time) ([]changelog.Entry, error)
}

// Outgoing is one event central sends down. Payload is a payload of the
// event type (as queue.NewPayload makes them) or its CBOR encoding.
type Outgoing struct {
	Type    string
	Entity  string
	Payload any
}

// SiteReferenceTypes are the types of reference data central sends to one
// site (its opening hours): a rejoin replays the newest entry of each of
// their entities from the site's own outbound log, after the city's
// reference data. Commands (queue.cancel_requested) are not reference
// data and are never replayed.
var SiteReferenceTypes = []string{queue.TypeSiteDescribed}

// RejoinInterval is the least time between two replays of the reference
// data to one site.
const RejoinInterval = time.Minute

// Download bounds.
const (
	DefaultDownloadEntries = 500
	DownloadBytes          = 1 << 20
)

// outbound is Central's state for the download side; the zero value is
// ready (maps are made on first use).
type outbound struct {
	mu       sync.Mutex
	clock    *changelog.Clock
	changed  map[string]chan struct{} // closed when the site's log grows
	polls    map[string]poll          // the latest downlink poll per site
	reported map[string]uint64        // the site's last seq, as its uplink reported it
	joined   map[string]bool          // sites known to have joined, this process
	heads    map[string]uint64        // how far each outbound log is folded here (peers.go)
	foldMu   sync.Mutex               // serialises CatchUpOutbound

	cancelMu sync.Mutex        // serialises RequestCancel (cancel.go)
	cancels  map[string]uint64 // site+"/"+ticket ID -> outbound seq of the pending request
}

// poll is what a downlink poll told central.
type poll struct {
	after uint64
	at    time.Time
}

// outboundClock returns central's clock for outbound entries, continuing
// after the newest stored one.
func (c *Central) outboundClock(ctx context.Context) (func() changelog.HLC, error) {
	c.out.mu.Lock()
	defer c.out.mu.Unlock()
	if c.out.clock == nil {
		last, err := c.store.LastOutboundHLC(ctx)
		if err != nil {
			return nil, err
		}
		c.out.clock = changelog.NewClock(c.now, last)
	}
	return c.out.clock.Now, nil
}

// SendToSite appends events to one site's outbound log; the site applies
// them as its own events when its downlink next polls.
func (c *Central) SendToSite(ctx context.Context, site string, events ...queue.Event) error {
	if site == "" {
		return veedel.Errorf(veedel.EINVALID, "no site given")
	}
	_, err := c.send(ctx, site, events)
	return err
}

// SendToAll appends city-wide reference data to the outbound log of every
// site and returns the sites it went to.
func (c *Central) SendToAll(ctx context.Context, events ...queue.Event) ([]string, error) {
	return c.send(ctx, "", events)
}

func (c *Central) send(ctx context.Context, site string, events []queue.Event) ([]string, error) {
	clock, err := c.outboundClock(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Outgoing, len(events))
	for i, e := range events {
		out[i] = Outgoing{Type: e.Type, Entity: e.Entity, Payload: e.Payload}
	}
	sites, err := c.store.AppendOutbound(ctx, site, out, c.now(), clock)
	if err != nil {
		return nil, fmt.Errorf("central: send %d events: %w", len(events), err)
	}
	if site == "" {
		c.out.mu.Lock()
		if c.out.joined == nil {
			c.out.joined = map[string]bool{}
		}
		for _, s := range sites {
			c.out.joined[s] = true
		}
		c.out.mu.Unlock()
	}
	// The workflows' read models fold what was sent from the store, here
	// and on the other central nodes (peers.go).
	c.outboundAppended(ctx, sites...)
	return sites, nil
}

// OutboundChanged returns a channel that is closed when site's outbound
// log next grows. Take it before reading the log, then wait on it.
func (c *Central) OutboundChanged(site string) <-chan struct{} {
	c.out.mu.Lock()
	defer c.out.mu.Unlock()
	if c.out.changed == nil {
		c.out.changed = map[string]chan struct{}{}
	}
	ch := c.out.changed[site]
	if ch == nil {
		ch = make(chan struct{})
		c.out.changed[site] = ch
	}
	return ch
}

func (c *Central) outboundGrew(sites ...string) {
	c.out.mu.Lock()
	defer c.out.mu.Unlock()
	for _, s := range sites {
		if ch := c.out.changed[s]; ch != nil {
			close(ch)
			delete(c.out.changed, s)
		}
	}
}

// Outbound answers a site's downlink poll: the entries of its outbound log
// after its cursor, at most limit. The poll is recorded as the site's
// download position. A cursor beyond the log's head is refused with
// ECONFLICT: central's outbound log is older than what the site applied.
func (c *Central) Outbound(ctx context.Context, site string, after uint64, limit int) (changelog.Download, error) {
	d := changelog.Download{Version: changelog.SchemaVersion, Site: site}
	if limit <= 0 || limit > changelog.MaxBatchEntries {
		limit = DefaultDownloadEntries
	}
	c.out.mu.Lock()
	if c.out.polls == nil {
		c.out.polls = map[string]poll{}
	}
	c.out.polls[site] = poll{after: after, at: c.now()}
	joined := c.out.joined[site]
	c.out.mu.Unlock()
	if !joined && c.hasLog(site) {
		// A site whose log central stores but that has not joined in this
		// process (central restarted, or an earlier join failed).
		c.joinSite(ctx, site)
	}
	entries, head, err := c.store.Outbound(ctx, site, after, limit, DownloadBytes)
	if err != nil {
		return d, err
	}
	d.Entries, d.Head = entries, head
	if after > head {
		return d, veedel.Errorf(veedel.ECONFLICT, "the site applied outbound entries up to %d, but central's outbound log ends at %d: central was restored from an older backup; see docs/SYNC.md", after, head)
	}
	return d, nil
}

// hasLog reports whether central stores at least one entry of site's log.
func (c *Central) hasLog(site string) bool {
	stored := false
	c.ViewSite(site, func(_ *queue.State, cur SiteCursor) { stored = cur.Acked > 0 })
	return stored
}

// joinSite lets a site receive the city-wide reference data. Failures are
// logged: the next poll or batch tries again.
func (c *Central) joinSite(ctx context.Context, site string) {
	clock, err := c.outboundClock(ctx)
	if err == nil {
		var joined bool
		if joined, err = c.store.JoinSite(ctx, site, c.now(), clock); err == nil {
			c.out.mu.Lock()
			if c.out.joined == nil {
				c.out.joined = map[string]bool{}
			}
			c.out.joined[site] = true
			c.out.mu.Unlock()
			if joined {
				c.log.Info("site joined the city-wide reference data", "site", site)
				c.outboundAppended(ctx, site)
			}
			return
		}
	}
	c.log.Error("join site to the reference data", "site", site, "err", err)
}

// Rejoin answers a site that asks for the current reference data again
// (its build now knows a type its inbox skipped, docs/SYNC.md): it appends
// the reference data to the site's outbound log, at most once per request
// and once a minute per site (see OutboundStore.RejoinSite). after is the
// site's download cursor. It reports whether the request is done: the
// replay lies in the site's log after after.
func (c *Central) Rejoin(ctx context.Context, site string, after uint64) (bool, error) {
	clock, err := c.outboundClock(ctx)
	if err != nil {
		return false, err
	}
	done, appended, err := c.store.RejoinSite(ctx, site, after, c.now(), RejoinInterval, clock)
	if err != nil {
		return false, fmt.Errorf("central: rejoin %s: %w", site, err)
	}
	if appended > 0 {
		c.log.Info("reference data replayed to a site", "site", site, "after", after, "entries", appended)
		c.outboundAppended(ctx, site)
	}
	return done, nil
}

// sawBatch notes what a site's batch tells beyond its entries (its last
// committed seq) and lets a site whose log central now stores join the
// city-wide reference data.
func (c *Central) sawBatch(ctx context.Context, b *changelog.Batch, acked uint64) {
	c.out.mu.Lock()
	if b.Last > 0 {
		if c.out.reported == nil {
			c.out.reported = map[string]uint64{}
		}
		c.out.reported[b.Site] = b.Last
	}
	joined := c.out.joined[b.Site]
	c.out.mu.Unlock()
	if !joined && acked > 0 {
		c.joinSite(ctx, b.Site)
	}
}
