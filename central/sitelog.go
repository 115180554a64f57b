package central

import (
	"context"
	"errors"

	"github.com/veedel/veedel/sync/changelog"
)

// PageScanner is implemented by log stores that read a page of a site's
// log without running over the rest of it (a LIMIT). Stores that do not
// are scanned with Scan, stopped after the page.
type PageScanner interface {
	// ScanPage calls fn with each stored entry of site after seq after, in
	// order, at most limit of them.
	ScanPage(ctx context.Context, site string, after uint64, limit int, fn func(changelog.Entry) error) error
}

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
	// The head is the database's, not this node's read model: a node of a
	// cluster may not have folded the newest entries yet, and a restore
	// that ended short of them would fork the site's log.
	cursors, err := c.store.Sites(ctx)
	if err != nil {
		return nil, 0, err
	}
	var head uint64
	for _, cur := range cursors {
		if cur.Site == site {
			head = cur.Acked
		}
	}
	if after >= head {
		return nil, head, nil
	}
	var out []changelog.Entry
	size := 0
	scan := func(fn func(changelog.Entry) error) error { return c.store.Scan(ctx, site, after, fn) }
	if ps, ok := c.store.(PageScanner); ok {
		scan = func(fn func(changelog.Entry) error) error { return ps.ScanPage(ctx, site, after, limit, fn) }
	}
	err = scan(func(e changelog.Entry) error {
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
