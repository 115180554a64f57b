package central

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
)

// Several central nodes may run on one PostgreSQL database (package
// central/cluster joins them). Any node takes any request, so each node's
// read models must follow what the others commit:
//
//   - after a commit a node tells the others (Peers): "site X advanced to
//     seq N", "outbound appended for site X", "SMS hand-over for site X";
//     a node told so catches up from the store at once (CatchUpSite,
//     CatchUpOutbound, SMSChanged) and wakes its event streams and long
//     polls;
//   - the telling is best effort (gossip may lose a message, a node may
//     have been partitioned or restarted), so every node also compares the
//     store's per-site high-water marks with its own now and then
//     (CatchUp) and catches up on what it missed;
//   - a node never folds a batch into a model that lacks what another node
//     acknowledged before: Ingest catches the model up to the store's
//     position first, so an ack is never ahead of the read model that
//     answers the site's citizens.
//
// With one node (no Peers) nothing of this runs but the same catch-up
// code, which then finds nothing new.

// Peers tells the other central nodes what this one committed. The
// calls must not block (they queue or drop).
type Peers interface {
	// SiteAdvanced: site's log is stored up to acked.
	SiteAdvanced(site string, acked uint64)
	// OutboundAppended: site's outbound log grew.
	OutboundAppended(site string)
	// SMSHandover: a hand-over of site was stored or settled.
	SMSHandover(site string)
}

// peersBox holds the Peers, set once the cluster is up.
type peersBox struct{ p atomic.Pointer[Peers] }

// SetPeers installs the other nodes' messenger (nil: none).
func (c *Central) SetPeers(p Peers) {
	if p == nil {
		c.peerBox.p.Store(nil)
		return
	}
	c.peerBox.p.Store(&p)
}

func (c *Central) peers() Peers {
	if p := c.peerBox.p.Load(); p != nil {
		return *p
	}
	return nil
}

// errStopScan ends a Scan early.
var errStopScan = errors.New("stop scan")

// catchUpModel folds what the store has of m's site after m's cursor, up
// to and including upTo (0: all), into m. It requires m.mu and returns
// how many entries it folded.
func (c *Central) catchUpModel(ctx context.Context, m *siteModel, upTo uint64) (int, error) {
	n := 0
	err := c.store.Scan(ctx, m.cursor.Site, m.cursor.Acked, func(e changelog.Entry) error {
		if upTo > 0 && e.Seq > upTo {
			return errStopScan
		}
		if e.Seq != m.cursor.Acked+1 {
			return fmt.Errorf("central: catch up %s: entry %d after %d", m.cursor.Site, e.Seq, m.cursor.Acked)
		}
		if err := c.fold(m, e); err != nil {
			c.log.Error("fold entry", "site", e.Site, "seq", e.Seq, "err", err)
		}
		m.cursor.Acked, m.cursor.LastHLC = e.Seq, e.HLC
		n++
		return nil
	})
	if errors.Is(err, errStopScan) {
		err = nil
	}
	return n, err
}

// CatchUpSite folds what another node stored of site's log into this
// node's read model and wakes the site's event streams; contact is the
// site's last contact as that node recorded it (zero: unknown). It
// returns how many entries it folded.
func (c *Central) CatchUpSite(ctx context.Context, site string, contact time.Time) (int, error) {
	m := c.model(site)
	m.mu.Lock()
	n, err := c.catchUpModel(ctx, m, 0)
	if contact.After(m.cursor.LastContact) {
		m.cursor.LastContact = contact
	}
	m.mu.Unlock()
	if n > 0 {
		if _, ok := c.directorySite(site); !ok {
			c.learnSite(ctx, site)
		}
		c.notify(site)
	}
	return n, err
}

// CatchUp compares the store's position of every site's log and outbound
// log with this node's and catches up on what another node committed and
// this one was not told (or not yet). It returns the sites caught up.
func (c *Central) CatchUp(ctx context.Context) ([]string, error) {
	cursors, err := c.store.Sites(ctx)
	if err != nil {
		return nil, err
	}
	var caught []string
	for _, cur := range cursors {
		m := c.model(cur.Site)
		m.mu.Lock()
		behind := cur.Acked > m.cursor.Acked
		if cur.LastContact.After(m.cursor.LastContact) {
			m.cursor.LastContact = cur.LastContact
		}
		m.mu.Unlock()
		if !behind {
			continue
		}
		if _, err := c.CatchUpSite(ctx, cur.Site, cur.LastContact); err != nil {
			return caught, err
		}
		caught = append(caught, cur.Site)
	}
	heads, err := c.store.OutboundHeads(ctx)
	if err != nil {
		return caught, err
	}
	for site, head := range heads {
		c.out.mu.Lock()
		behind := head > c.out.heads[site]
		c.out.mu.Unlock()
		if behind {
			if err := c.CatchUpOutbound(ctx, site); err != nil {
				return caught, err
			}
		}
	}
	if err := c.reloadDirectory(ctx); err != nil {
		return caught, err
	}
	return caught, nil
}

// Lag is how far this node's read model of a site is behind the store.
type Lag struct {
	Site     string
	Stored   uint64 // the store's acked seq
	Folded   uint64 // this node's
	Outbound uint64 // outbound entries stored and not yet folded here
}

// Lags returns, for every site, how far this node's read models are
// behind the store, from one look at the store.
func (c *Central) Lags(ctx context.Context) ([]Lag, error) {
	cursors, err := c.store.Sites(ctx)
	if err != nil {
		return nil, err
	}
	heads, err := c.store.OutboundHeads(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Lag, 0, len(cursors))
	for _, cur := range cursors {
		l := Lag{Site: cur.Site, Stored: cur.Acked}
		c.ViewSite(cur.Site, func(_ *queue.State, mine SiteCursor) { l.Folded = mine.Acked })
		c.out.mu.Lock()
		if h, mine := heads[cur.Site], c.out.heads[cur.Site]; h > mine {
			l.Outbound = h - mine
		}
		c.out.mu.Unlock()
		out = append(out, l)
	}
	return out, nil
}

// CatchUpOutbound folds the entries of site's outbound log this node has
// not folded yet (another node's, or its own just appended) into the
// workflows' read models and the pending cancellations, and wakes the
// site's download polls here.
func (c *Central) CatchUpOutbound(ctx context.Context, site string) error {
	c.out.foldMu.Lock()
	defer c.out.foldMu.Unlock()
	c.out.mu.Lock()
	after := c.out.heads[site]
	c.out.mu.Unlock()
	grew := false
	defer func() {
		if grew {
			c.outboundGrew(site)
		}
	}()
	for {
		entries, _, err := c.store.Outbound(ctx, site, after, DefaultDownloadEntries, DownloadBytes)
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			return nil
		}
		for _, e := range entries {
			c.foldSent(site, e)
			after = e.Seq
		}
		grew = true
		c.out.mu.Lock()
		if c.out.clock != nil {
			// Another node's entries: this node's outbound clock goes on
			// after them, so that a site's outbound log keeps rising.
			c.out.clock.Observe(entries[len(entries)-1].HLC)
		}
		if c.out.heads == nil {
			c.out.heads = map[string]uint64{}
		}
		c.out.heads[site] = after
		c.out.mu.Unlock()
	}
}

// foldSent folds one entry of site's outbound log: a workflow's into its
// read model, a cancellation request into the pending ones. It requires
// c.out.foldMu.
func (c *Central) foldSent(site string, e changelog.Entry) {
	if e.Type == queue.TypeCancelRequested {
		c.out.mu.Lock()
		if c.out.cancels == nil {
			c.out.cancels = map[string]uint64{}
		}
		if e.At().After(c.now().Add(-cancelRequestAge)) {
			c.out.cancels[site+"/"+trimTicket(e.Entity)] = e.Seq
		}
		c.out.mu.Unlock()
		return
	}
	wf := c.workflowOf(e.Type)
	if wf == nil {
		return
	}
	p, err := changelog.DecodePayload(&e, c.payloads)
	if err != nil {
		c.log.Error("fold sent entry", "site", site, "seq", e.Seq, "err", err)
		return
	}
	c.blobs.saw(false, site, p)
	wf.Sent(site, queue.Event{Type: e.Type, Entity: e.Entity, At: e.At(), Payload: p})
}

// outboundAppended catches this node up on what it just appended to the
// sites' outbound logs and tells the other nodes.
func (c *Central) outboundAppended(ctx context.Context, sites ...string) {
	p := c.peers()
	for _, s := range sites {
		if err := c.CatchUpOutbound(ctx, s); err != nil {
			// The periodic catch-up (CatchUp) tries again.
			c.log.Error("fold outbound entries", "site", s, "err", err)
			c.outboundGrew(s)
		}
		if p != nil {
			p.OutboundAppended(s)
		}
	}
}

// FollowStore catches up from the store every interval until ctx ends:
// for a node on a database that other nodes write to without a cluster to
// tell it (package cluster runs its own catch-up, also on member changes).
func (c *Central) FollowStore(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if sites, err := c.CatchUp(ctx); err != nil && ctx.Err() == nil {
			c.log.Error("catch up from the database", "err", err)
		} else if len(sites) > 0 {
			c.log.Debug("caught up from the database", "sites", sites)
		}
	}
}
