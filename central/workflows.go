package central

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/workflow"
	"github.com/veedel/veedel/workflows"
)

// Central folds the workflows beside the queue (package workflows) into
// their own read models: what central sent down (Sent, from the outbound
// logs) and what the owning site logged (FromSite, from the site logs).
// The read models live in memory and are rebuilt from the logs at start,
// like the queue's.

// centralPayloads decodes the queue's types and those of the workflows.
func centralPayloads(wfs []workflow.Central) func(string) (any, bool) {
	return func(t string) (any, bool) {
		if p, ok := queue.NewPayload(t); ok {
			return p, true
		}
		for _, wf := range wfs {
			if strings.HasPrefix(t, wf.Prefix()) {
				return wf.NewPayload(t)
			}
		}
		return nil, false
	}
}

// resetWorkflows makes the workflows' read models new and empty, each
// keyed with central's secret of it when it takes one.
func (c *Central) resetWorkflows(ctx context.Context) error {
	wfs := workflows.Central()
	for _, wf := range wfs {
		if k, ok := wf.(interface{ UseKey([]byte) }); ok {
			key, err := c.store.Secret(ctx, wf.Prefix()+"key", 32, c.now())
			if err != nil {
				return fmt.Errorf("central: key of %s: %w", wf.Prefix(), err)
			}
			k.UseKey(key)
		}
	}
	c.workflows, c.payloads = wfs, centralPayloads(wfs)
	return nil
}

// workflowOf returns the workflow whose type eventType is, or nil.
func (c *Central) workflowOf(eventType string) workflow.Central {
	for _, wf := range c.workflows {
		if strings.HasPrefix(eventType, wf.Prefix()) {
			return wf
		}
	}
	return nil
}

// Workflow returns the read model of the workflow with prefix, or nil.
func (c *Central) Workflow(prefix string) workflow.Central {
	for _, wf := range c.workflows {
		if wf.Prefix() == prefix {
			return wf
		}
	}
	return nil
}

// loadSent folds the workflows' entries and the recent cancellation
// requests of every outbound log.
func (c *Central) loadSent(ctx context.Context) error {
	heads, err := c.store.OutboundHeads(ctx)
	if err != nil {
		return err
	}
	for site := range heads {
		if err := c.CatchUpOutbound(ctx, site); err != nil {
			return err
		}
	}
	return nil
}

// SiteKnown reports whether site is in the directory or has sent its log.
func (c *Central) SiteKnown(site string) bool {
	if _, ok := c.directorySite(site); ok {
		return true
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.sites[site]
	return ok
}

// RecordBoxKey keeps the box key a site's signed poll carried, so that
// central can seal personal data to the site while it is offline.
func (c *Central) RecordBoxKey(ctx context.Context, site string, key []byte) error {
	if len(key) != changelog.BoxKeySize {
		return veedel.Errorf(veedel.EINVALID, "box key of %d bytes", len(key))
	}
	c.boxMu.Lock()
	same := string(c.boxes[site]) == string(key)
	c.boxMu.Unlock()
	if same {
		return nil
	}
	if err := c.store.RecordBoxKey(ctx, site, key, c.now()); err != nil {
		return err
	}
	c.boxMu.Lock()
	c.boxes[site] = append([]byte(nil), key...)
	c.boxMu.Unlock()
	return nil
}

// BoxKey returns the site's box key as last recorded; EUNAVAILABLE when
// the site has not polled with one yet.
func (c *Central) BoxKey(ctx context.Context, site string) ([]byte, error) {
	c.boxMu.Lock()
	key := c.boxes[site]
	c.boxMu.Unlock()
	if key != nil {
		return key, nil
	}
	key, err := c.store.BoxKey(ctx, site)
	if err != nil {
		return nil, err
	}
	if key == nil {
		return nil, veedel.Errorf(veedel.EUNAVAILABLE, "Dieser Standort nimmt noch keine Online-Aufträge an (noch keine Verbindung) / this site takes no online work yet (it has not connected)")
	}
	c.boxMu.Lock()
	c.boxes[site] = key
	c.boxMu.Unlock()
	return key, nil
}

// Location is the city's time zone: the directory's sites all share it
// (Europe/Berlin by default).
func (c *Central) Location() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return time.UTC
	}
	return loc
}

// LastContact returns the site's last fresh contact, false for a site
// that never sent its log.
func (c *Central) LastContact(site string) (time.Time, bool) {
	c.mu.RLock()
	m := c.sites[site]
	c.mu.RUnlock()
	if m == nil {
		return time.Time{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cursor.LastContact, !m.cursor.LastContact.IsZero()
}

// SlotPlan is the plan of service's slots at site on day (queue.State.Slots
// of central's fold of the site's log).
func (c *Central) SlotPlan(site, service, day string) ([]queue.Slot, error) {
	var out []queue.Slot
	var err error
	if !c.ViewSite(site, func(st *queue.State, _ SiteCursor) { out, err = st.Slots(service, day) }) {
		return nil, veedel.Errorf(veedel.ENOTFOUND, "Standort %q ist nicht bekannt / site %q is not known", site, site)
	}
	return out, err
}

// DayOf is site's business day of t (YYYY-MM-DD), in the city's time
// zone for a site central has no log of.
func (c *Central) DayOf(site string, t time.Time) string {
	day := t.In(c.Location()).Format(time.DateOnly)
	c.ViewSite(site, func(st *queue.State, _ SiteCursor) { day = st.DayOf(t) })
	return day
}
