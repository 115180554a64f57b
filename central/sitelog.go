package central

import (
	"context"
	"errors"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
)

// errPageFull stops a scan once a page of the site's log is full.
var errPageFull = errors.New("page full")

// SiteLog returns up to limit entries of site's own change-log after seq
// after, as central stores them (bytes, hashes and all), stopping before
// maxBytes of payload (at least one entry when there is one), and
// central's head for the site (the highest seq it stores). It is what a
// replacement appliance restores the site from (docs/SYNC.md, "Restoring
// a site"). Central does not open anything: the exam workflow's payloads
// stay the ciphertext the site sent.
func (c *Central) SiteLog(ctx context.Context, site string, after uint64, limit, maxBytes int) ([]changelog.Entry, uint64, error) {
	var head uint64
	if !c.ViewSite(site, func(_ *queue.State, cur SiteCursor) { head = cur.Acked }) || after >= head {
		return nil, head, nil
	}
	var out []changelog.Entry
	size := 0
	err := c.store.Scan(ctx, site, after, func(e changelog.Entry) error {
		if e.Seq > head {
			return errPageFull // stored after the head was read: the next page has it
		}
		size += len(e.Payload) + len(e.Entity) + len(e.Type) + 80
		if len(out) > 0 && (len(out) >= limit || size > maxBytes) {
			return errPageFull
		}
		out = append(out, e)
		return nil
	})
	if err != nil && !errors.Is(err, errPageFull) {
		return nil, head, err
	}
	return out, head, nil
}
