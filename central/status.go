package central

import (
	"cmp"
	"context"
	"slices"
	"time"
)

// SiteSync is one site's sync position in both directions, for the admin
// page and GET /api/v1/sync/status. Figures central cannot know yet (the
// site has not reported since central started) are nil.
type SiteSync struct {
	Site string `json:"site"`
	Name string `json:"name"`

	// Upload: how far the site's log has arrived.
	AckedSeq uint64 `json:"acked_seq"`
	// SiteSeq is the site's newest committed seq as its last batch said.
	SiteSeq *uint64 `json:"site_seq"`
	// LagEvents is SiteSeq minus AckedSeq: entries committed at the site
	// that central does not have yet.
	LagEvents   *uint64   `json:"lag_events"`
	LastContact time.Time `json:"last_contact,omitzero"`
	// ContactAgeSeconds is how long ago the last batch or heartbeat came.
	ContactAgeSeconds *int64 `json:"contact_age_seconds"`
	// LastEntryAt is the site's time of the newest entry central has;
	// LagSeconds is central's now minus that (it grows while a site is
	// idle too: read it together with LagEvents).
	LastEntryAt time.Time `json:"last_entry_at,omitzero"`
	LagSeconds  *int64    `json:"lag_seconds"`
	Stale       bool      `json:"stale"`

	// Download: central's outbound log for the site and how far the site
	// has applied it (its cursor, as its downlink's latest poll said).
	OutboundHead    uint64    `json:"outbound_head"`
	OutboundCursor  *uint64   `json:"outbound_cursor"`
	OutboundPending *uint64   `json:"outbound_pending"`
	LastPoll        time.Time `json:"last_poll,omitzero"`
}

// SyncStatus returns every site's sync position, ordered by name. It lists
// the sites central stores a log of and those it has outbound entries for.
func (c *Central) SyncStatus(ctx context.Context) ([]SiteSync, error) {
	heads, err := c.store.OutboundHeads(ctx)
	if err != nil {
		return nil, err
	}
	now := c.now()
	c.out.mu.Lock()
	polls := make(map[string]poll, len(c.out.polls))
	for k, v := range c.out.polls {
		polls[k] = v
	}
	reported := make(map[string]uint64, len(c.out.reported))
	for k, v := range c.out.reported {
		reported[k] = v
	}
	c.out.mu.Unlock()

	seen := map[string]bool{}
	var out []SiteSync
	for _, m := range c.knownModels() {
		m.mu.Lock()
		s := SiteSync{Site: m.cursor.Site, Name: m.state.Site.Name, AckedSeq: m.cursor.Acked, LastContact: m.cursor.LastContact}
		if m.cursor.LastHLC != 0 {
			s.LastEntryAt = m.cursor.LastHLC.Time()
		}
		m.mu.Unlock()
		if last, ok := reported[s.Site]; ok {
			lag := uint64(0)
			if last > s.AckedSeq {
				lag = last - s.AckedSeq
			}
			s.SiteSeq, s.LagEvents = &last, &lag
		}
		if !s.LastContact.IsZero() {
			s.ContactAgeSeconds = seconds(now.Sub(s.LastContact))
			s.Stale = now.Sub(s.LastContact) > StaleAfter
		}
		if !s.LastEntryAt.IsZero() {
			s.LagSeconds = seconds(now.Sub(s.LastEntryAt))
		}
		seen[s.Site] = true
		out = append(out, s)
	}
	for site := range heads {
		if !seen[site] {
			out = append(out, SiteSync{Site: site, Name: site})
		}
	}
	for i := range out {
		s := &out[i]
		s.OutboundHead = heads[s.Site]
		if p, ok := polls[s.Site]; ok {
			cursor := p.after
			pending := uint64(0)
			if s.OutboundHead > cursor {
				pending = s.OutboundHead - cursor
			}
			s.OutboundCursor, s.OutboundPending, s.LastPoll = &cursor, &pending, p.at
		}
	}
	sortSites(out)
	return out, nil
}

func seconds(d time.Duration) *int64 {
	s := int64(d / time.Second)
	return &s
}

func sortSites(s []SiteSync) {
	slices.SortFunc(s, func(a, b SiteSync) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Site, b.Site)) })
}
