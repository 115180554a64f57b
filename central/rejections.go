package central

import (
	"context"
	"sync"
	"time"

	"github.com/veedel/veedel/internal/login"
)

// Rejections: every sync request central refuses (a malformed, unsigned,
// wrongly signed, stale or replayed batch or poll, a bad enrollment) is
// counted, so that admins see who knocks and why. A flood from one source
// must not hide the one rejection that matters (a site whose key was
// revoked), nor fill the disk or the log:
//
//   - Rejections are aggregated per source (the remote host; an IPv6
//     address by its /64, which one client usually has whole), kind (the
//     route) and status: a count, first and last seen, and the newest one's
//     details (claimed site and key, reason, address) as a sample. A source
//     has a handful of aggregates at most (three routes, three statuses),
//     however much it sends; the store keeps maxRejectionRows of them and
//     drops those seen longest ago.
//   - A rejection signed with a key of its site (a stale or replayed
//     request, the site's revoked key: SignedBySite) is counted under the
//     site (source "site:" and its ID) rather than the sender: nobody
//     without the site's key or a request it signed can cause one, they
//     are few (sites × routes × statuses), the store never drops them for
//     junk and lists them first. A flood from any number of addresses
//     cannot hide them.
//   - Writes are rate-limited per aggregate: the first rejection is stored
//     at once, later ones are counted in memory and stored at most once per
//     rejectWriteEvery (and before Rejections reads).
//   - Logging is throttled per aggregate: the first rejection is logged,
//     then at most one line per rejectLogEvery, saying how many were not
//     logged since. Log lines carry no remote address (personal data of
//     whoever sent it); the record has it, for admins.

const (
	rejectWriteEvery = time.Second
	rejectLogEvery   = time.Minute
	// maxRejectKeys bounds the aggregates counted in memory; beyond it the
	// pending counts are stored and the memory starts over.
	maxRejectKeys = 10000
	// maxRecordedText bounds what a rejection record keeps of strings a
	// client chose (the claimed site), so that junk cannot bloat the table.
	maxRecordedText = 200
)

// SiteSource prefixes the source of rejections SignedBySite; no remote
// address starts with it.
const SiteSource = "site:"

type rejectKey struct {
	source, kind string
	status       int
}

// rejectAgg is one aggregate's state in memory.
type rejectAgg struct {
	pending    Rejection // counted, not yet stored (Count 0: nothing pending)
	lastWrite  time.Time
	lastLog    time.Time
	suppressed int // rejections not logged since lastLog
}

// rejects is Central's rejection counter; the zero value is ready.
type rejects struct {
	mu   sync.Mutex
	aggs map[rejectKey]*rejectAgg
}

// RecordRejection counts a refused sync request (r.At defaults to now,
// r.Count to 1; r.RemoteAddr is the peer's address) and logs it, both
// throttled per source, kind and status (see above). It never fails the
// request: a failure to store is logged.
func (c *Central) RecordRejection(ctx context.Context, r Rejection) {
	now := c.now()
	if r.At.IsZero() {
		r.At = now
	}
	if r.Count == 0 {
		r.Count = 1
	}
	r.FirstAt = r.At
	r.Site, r.Reason, r.RemoteAddr, r.Kind = clip(r.Site), clip(r.Reason), clip(r.RemoteAddr), clip(r.Kind)
	r.Source = RejectionSource(r.RemoteAddr)
	if r.SignedBySite {
		r.Source = SiteSource + r.Site
	}
	k := rejectKey{r.Source, r.Kind, r.Status}

	b := &c.rejects
	b.mu.Lock()
	if len(b.aggs) >= maxRejectKeys {
		// Store what is pending and start over, so that memory stays
		// bounded however many sources there are.
		flush := b.takeAll()
		b.aggs = nil
		b.mu.Unlock()
		c.storeRejections(ctx, flush)
		b.mu.Lock()
	}
	if b.aggs == nil {
		b.aggs = map[rejectKey]*rejectAgg{}
	}
	a := b.aggs[k]
	if a == nil {
		a = &rejectAgg{}
		b.aggs[k] = a
	}
	a.pending = merge(a.pending, r)
	logIt, suppressed := false, 0
	if a.lastLog.IsZero() || now.Sub(a.lastLog) >= rejectLogEvery || now.Before(a.lastLog) {
		logIt, suppressed = true, a.suppressed
		a.lastLog, a.suppressed = now, 0
	} else {
		a.suppressed++
	}
	var write Rejection
	if a.lastWrite.IsZero() || now.Sub(a.lastWrite) >= rejectWriteEvery || now.Before(a.lastWrite) {
		write, a.pending, a.lastWrite = a.pending, Rejection{}, now
	}
	b.mu.Unlock()

	if logIt {
		c.log.Warn("sync request rejected", "kind", r.Kind, "site", r.Site, "key_id", r.KeyID, "status", r.Status, "entries", r.Entries, "reason", r.Reason,
			"similar_not_logged", suppressed)
	}
	if write.Count > 0 {
		c.storeRejections(ctx, []Rejection{write})
	}
}

// merge adds r to the aggregate a: counts add up, the first and last seen
// widen, the newest rejection is the sample.
func merge(a, r Rejection) Rejection {
	if a.Count == 0 {
		return r
	}
	count, first := a.Count+r.Count, min(a.FirstAt.UnixMilli(), r.FirstAt.UnixMilli())
	if !r.At.Before(a.At) {
		a = r
	}
	a.Count, a.FirstAt = count, time.UnixMilli(first)
	return a
}

// takeAll returns the pending aggregates and clears them; it requires b.mu.
func (b *rejects) takeAll() []Rejection {
	var out []Rejection
	for _, a := range b.aggs {
		if a.pending.Count > 0 {
			out = append(out, a.pending)
			a.pending = Rejection{}
		}
	}
	return out
}

func (c *Central) storeRejections(ctx context.Context, rs []Rejection) {
	if len(rs) == 0 {
		return
	}
	// The request may be gone already; the record should still be written.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for _, r := range rs {
		if err := c.store.RecordRejection(ctx, r); err != nil {
			c.log.Error("record rejection", "kind", r.Kind, "count", r.Count, "err", err)
			return
		}
	}
}

// Rejections returns the limit aggregates of rejected sync requests seen
// last, newest first, for the admin page; counts still pending in memory
// are stored first.
func (c *Central) Rejections(ctx context.Context, limit int) ([]Rejection, error) {
	c.rejects.mu.Lock()
	pending := c.rejects.takeAll()
	c.rejects.mu.Unlock()
	c.storeRejections(ctx, pending)
	return c.store.Rejections(ctx, limit)
}

// RejectionSource is the source a rejection is counted under: the client
// key the login throttle uses too (the host of a remote address, an IPv6
// address as its /64, a client usually has a whole /64 to pick from).
func RejectionSource(remoteAddr string) string { return login.ClientOf(remoteAddr) }

func clip(s string) string {
	if len(s) <= maxRecordedText {
		return s
	}
	// Cut at a rune boundary.
	cut := maxRecordedText
	for cut > 0 && s[cut]&0xc0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
