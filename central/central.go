// Package central aggregates every site: it takes in the sites' change-log
// batches through a LogStore, folds each site's log with the same queue
// reducer the site uses into an in-memory read model, and answers the
// portal's questions (waiting times, ticket status) from it.
package central

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/internal/login"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/workflow"
)

// StaleAfter is how long after its last contact a site's figures stop being
// shown as live.
const StaleAfter = 10 * time.Minute

// LogStore keeps every site's change-log durably. Implementations: sqlite
// (default) and, later, PostgreSQL.
type LogStore interface {
	// Append stores the batch's entries that continue the site's chain and
	// returns those newly stored and the acked seq after commit. A refused
	// entry stops the batch with an ECONFLICT error; what came before it is
	// still stored and acked. contact: the batch was fresh and verified,
	// so receivedAt becomes the site's last contact; otherwise the last
	// contact stays as it was.
	Append(ctx context.Context, b *changelog.Batch, receivedAt time.Time, contact bool) (accepted []changelog.Entry, acked uint64, err error)
	// Sites returns every site's sync position.
	Sites(ctx context.Context) ([]SiteCursor, error)
	// Scan calls fn with each stored entry of a site after seq, in order.
	Scan(ctx context.Context, site string, after uint64, fn func(changelog.Entry) error) error
	// TrustStore holds the sites' keys, enrollment tokens and rejections
	// (trust.go).
	TrustStore
	// OutboundStore keeps the outbound log per site (outbound.go).
	OutboundStore
	// SiteStore keeps the site directory (sites.go).
	SiteStore
	// AdminStore keeps the admin users and their sessions (admin.go).
	AdminStore
	// AppointmentStore keeps the online appointments (appointments.go).
	AppointmentStore
	// PaymentStore keeps the orders waiting for their payment (payments.go).
	PaymentStore
	// ExamStore keeps the school-entry cohort and the district→site
	// table (cohort.go).
	ExamStore
	// SMSStore keeps the SMS hand-overs, sealed (smshandover.go).
	SMSStore
	// LockStore locks across central's nodes (locks.go).
	LockStore
	// SubmissionStore keeps the portal's forms posted once (submissions.go).
	SubmissionStore
	// RolloutStore keeps the rollout plan and the sites' update reports
	// (rollout.go).
	RolloutStore
}

// SiteCursor is how far a site's log has arrived at central.
type SiteCursor struct {
	Site        string
	Acked       uint64
	LastHLC     changelog.HLC
	LastContact time.Time
}

// Central is the aggregation node's core. It is safe for concurrent use.
type Central struct {
	store LogStore
	now   func() time.Time
	log   *slog.Logger

	mu    sync.RWMutex
	sites map[string]*siteModel
	// directory is the store's site directory (sites.go), guarded by mu.
	directory map[string]Site
	// vehicleRoutes are the postcode routes of i-Kfz applications
	// (vehicle_routing.go), guarded by mu.
	vehicleRoutes []VehicleRoute

	subMu sync.Mutex
	subs  map[chan struct{}]string // channel -> site ("" = all)

	out     outbound // the download side of sync (outbound.go)
	sms     smsBox   // SMS sign-ups on their way to sites, memory only (smshandover.go)
	rejects rejects  // refused sync requests, counted and throttled (rejections.go)

	logins *login.Guard // throttles admin logins (admin.go)

	// workflows are the read models of the workflows beside the queue
	// (package workflows), payloads the decoder of every type they and
	// the queue know.
	workflows []workflow.Central
	payloads  func(string) (any, bool)

	boxMu sync.Mutex
	boxes map[string][]byte // the sites' box keys as last recorded

	sell    sellLocks // online share acknowledgements vs bookings (appointments.go)
	peerBox peersBox  // the other central nodes, if any (peers.go)
	blobs   blobRefs  // the files the logs reference (blobs.go)
}

// Now is central's clock, which sync answers tell the sites (their Date
// header), so that they sign with it (changelog.CentralClock).
func (c *Central) Now() time.Time { return c.now() }

// siteModel is central's picture of one site: the fold of its log.
type siteModel struct {
	mu          sync.Mutex // serialises ingest for the site and guards state
	state       *queue.State
	cursor      SiteCursor
	lastEventAt time.Time
}

// New loads every site's log from store into the read models.
func New(ctx context.Context, store LogStore, now func() time.Time, logger *slog.Logger) (*Central, error) {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.Default()
	}
	c := &Central{store: store, now: now, log: logger, sites: map[string]*siteModel{}, subs: map[chan struct{}]string{},
		boxes: map[string][]byte{}}
	c.logins = login.NewGuard(login.DefaultPolicy, store, now, logger)
	if err := c.resetWorkflows(ctx); err != nil {
		return nil, err
	}
	cursors, err := store.Sites(ctx)
	if err != nil {
		return nil, err
	}
	// From the snapshot of the read models, if there is one, and what
	// came after it (snapshot.go).
	if err := c.loadSites(ctx, cursors); err != nil {
		return nil, err
	}
	if err := c.loadSent(ctx); err != nil {
		return nil, fmt.Errorf("central: load what was sent to the sites: %w", err)
	}
	if err := c.backfillAppointments(ctx); err != nil {
		return nil, fmt.Errorf("central: %w", err)
	}
	if err := c.loadPayments(ctx); err != nil {
		return nil, fmt.Errorf("central: load the orders awaiting payment: %w", err)
	}
	if err := c.reloadDirectory(ctx); err != nil {
		return nil, fmt.Errorf("central: load the site directory: %w", err)
	}
	if err := c.recordLoggedSites(ctx); err != nil {
		return nil, fmt.Errorf("central: record logged sites: %w", err)
	}
	return c, nil
}

// fold folds one entry of m's site log into the read models: the queue's
// and, for a workflow's type, the workflow's. It requires m.mu (or m not
// yet shared).
func (c *Central) fold(m *siteModel, e changelog.Entry) error {
	p, err := changelog.DecodePayload(&e, c.payloads)
	if err != nil {
		// A type this central does not know yet (a newer site): keep the
		// entry in the log, skip it in the read model.
		if _, known := c.payloads(e.Type); known {
			return err
		}
		return nil
	}
	ev := queue.Event{Type: e.Type, Entity: e.Entity, At: e.At(), Payload: p}
	// Every event goes through the queue's fold, as at the site (it
	// ignores what is not the queue's, and counts it), and a workflow's
	// also into the workflow's model.
	m.state.Apply(ev)
	if wf := c.workflowOf(e.Type); wf != nil {
		c.blobs.saw(true, e.Site, p)
		wf.FromSite(e.Site, ev)
	}
	m.lastEventAt = e.At()
	return nil
}

func (c *Central) model(site string) *siteModel {
	c.mu.RLock()
	m := c.sites[site]
	c.mu.RUnlock()
	if m != nil {
		return m
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if m = c.sites[site]; m == nil {
		m = &siteModel{state: centralState(site), cursor: SiteCursor{Site: site}}
		c.sites[site] = m
	}
	return m
}

// Ingest stores a site's batch and folds what was new into the read model.
// The returned Ack is valid even with an error: it says where to resume.
// A batch not signed by its site's active key, or one with a nonce that is
// stale or replayed (authenticate), is refused before anything is stored,
// with an EUNAUTHORIZED or EFORBIDDEN error and an Ack without position.
//
// Only a fresh batch (with a nonce, within the window, first use) is the
// site's contact: it moves the last contact and with it the portal's
// staleness. A batch without a nonce comes from an appliance built before
// nonces: its entries are stored as always (resending is safe: they are
// known by seq and hash), but it does not count as contact, since it may
// be a captured batch replayed to make a silent site look live; an empty
// one (a heartbeat) changes nothing at all.
func (c *Central) Ingest(ctx context.Context, b *changelog.Batch) (changelog.Ack, error) {
	fresh, err := c.authenticate(ctx, b)
	if err != nil {
		return changelog.Ack{Site: b.Site}, err
	}
	m := c.model(b.Site)
	now := c.now()
	if len(b.Entries) == 0 && !fresh {
		m.mu.Lock()
		acked := m.cursor.Acked
		m.mu.Unlock()
		return changelog.Ack{Site: b.Site, Acked: acked}, nil
	}
	m.mu.Lock()
	accepted, acked, err := c.store.Append(ctx, b, now, fresh)
	if err != nil && veedel.ErrorCode(err) != veedel.ECONFLICT {
		m.mu.Unlock()
		return changelog.Ack{Site: b.Site, Acked: m.cursor.Acked}, err
	}
	// Another central node may have stored entries of this site that this
	// node has not folded yet (peers.go): fold them first, so that the
	// model never lacks what is acked.
	upTo := acked
	if len(accepted) > 0 {
		upTo = accepted[0].Seq - 1
	}
	if upTo > m.cursor.Acked {
		if _, cerr := c.catchUpModel(ctx, m, upTo); cerr != nil || m.cursor.Acked != upTo {
			// Stored, but not in this node's model: the site sends again
			// from the model's position (known entries are skipped), and
			// the catch-up runs again then.
			at := m.cursor.Acked
			m.mu.Unlock()
			c.log.Error("catch up before fold", "site", b.Site, "upto", upTo, "err", cerr)
			return changelog.Ack{Site: b.Site, Acked: at}, fmt.Errorf("central: catch up %s: %w", b.Site, errors.Join(cerr, errors.New("not caught up")))
		}
	}
	for _, e := range accepted {
		if ferr := c.fold(m, e); ferr != nil {
			c.log.Error("fold entry", "site", b.Site, "seq", e.Seq, "err", ferr)
		}
	}
	m.cursor.Acked = acked
	if n := len(accepted); n > 0 {
		m.cursor.LastHLC = accepted[n-1].HLC
	}
	if fresh {
		m.cursor.LastContact = now
	}
	m.mu.Unlock()
	if _, ok := c.directorySite(b.Site); !ok && len(accepted) > 0 {
		c.learnSite(ctx, b.Site)
	}
	if len(accepted) > 0 {
		c.notify(b.Site)
		if p := c.peers(); p != nil {
			p.SiteAdvanced(b.Site, acked)
		}
	}
	c.sawBatch(ctx, b, acked)
	if len(accepted) > 0 {
		c.ackShares(ctx, b.Site)
	}
	return changelog.Ack{Site: b.Site, Acked: acked}, err
}

// SiteSummary is a site as the portal lists it.
type SiteSummary struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Kind, Page and Address are the directory's (sites.go).
	Kind    SiteKind `json:"kind"`
	Page    string   `json:"page,omitempty"`
	Address string   `json:"address,omitempty"`
	Open    bool     `json:"open"`
	// AppointmentsOnly: open, but outside the site's walk-in hours (only
	// a site with walk-in hours is ever appointments only).
	AppointmentsOnly     bool      `json:"appointments_only"`
	Waiting              int       `json:"waiting"`
	EstimatedWaitMinutes int       `json:"estimated_wait_minutes"`
	LastSync             time.Time `json:"last_sync"`
	Stale                bool      `json:"stale"`
	AckedSeq             uint64    `json:"acked_seq"`
}

// siteModels returns the sites' read models; each is read under its own
// lock, so c.mu is held only for the copy.
func (c *Central) siteModels() []*siteModel {
	c.mu.RLock()
	defer c.mu.RUnlock()
	models := make([]*siteModel, 0, len(c.sites))
	for _, m := range c.sites {
		models = append(models, m)
	}
	return models
}

// Sites lists every site of the directory that has sent its log, ordered
// by name: named, typed and linked as the directory says.
func (c *Central) Sites() []SiteSummary {
	models := c.siteModels()
	now := c.now()
	out := make([]SiteSummary, 0, len(models))
	for _, m := range models {
		m.mu.Lock()
		if m.cursor.Acked == 0 {
			// Contact without a single stored entry (a refused first
			// batch): not a site anyone should see on the portal.
			m.mu.Unlock()
			continue
		}
		sum := SiteSummary{
			ID: m.state.Site.ID, Name: m.state.Site.Name, Kind: KindCustomerCentre, Open: m.state.IsOpen(now),
			AppointmentsOnly: m.state.AppointmentsOnly(now),
			Waiting:          m.state.WaitingCount(), EstimatedWaitMinutes: m.state.SiteWaitMinutes(),
			LastSync: m.cursor.LastContact, Stale: now.Sub(m.cursor.LastContact) > StaleAfter,
			AckedSeq: m.cursor.Acked,
		}
		m.mu.Unlock()
		if sum.ID == "" {
			sum.ID = m.cursor.Site
		}
		if d, ok := c.directorySite(sum.ID); ok {
			sum.Name, sum.Kind, sum.Page, sum.Address = d.Name, d.Kind, d.Page, d.Address
		}
		out = append(out, sum)
	}
	slices.SortFunc(out, func(a, b SiteSummary) int {
		if a.Name < b.Name {
			return -1
		} else if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out
}

// TicketStatus is what the portal shows for a ticket token.
type TicketStatus struct {
	Number               string `json:"number"`
	Site                 string `json:"site"`
	SiteName             string `json:"site_name"`
	Service              string `json:"service"`
	ServiceName          string `json:"service_name"`
	ServiceNameEN        string `json:"service_name_en"`
	Status               string `json:"status"`
	Position             int    `json:"position"`
	EstimatedWaitMinutes int    `json:"estimated_wait_minutes"`
	// EstimatedWaitP90Minutes: nine in ten citizens in this position are
	// called within this many minutes.
	EstimatedWaitP90Minutes int       `json:"estimated_wait_p90_minutes"`
	Counter                 string    `json:"counter,omitempty"`
	CounterName             string    `json:"counter_name,omitempty"`
	IssuedAt                time.Time `json:"issued_at"`
	CalledAt                time.Time `json:"called_at,omitzero"`
	LastSync                time.Time `json:"last_sync"`
	Stale                   bool      `json:"stale"`
	// CancelRequested: the citizen asked to cancel the ticket and its site
	// has not decided yet (cancel.go).
	CancelRequested bool `json:"cancel_requested,omitempty"`
}

// Ticket finds a ticket by its token in any site's read model.
func (c *Central) Ticket(token string) (TicketStatus, bool) {
	st, _, ok := c.ticket(token)
	return st, ok
}

// ticket is Ticket, also returning the ticket's ID.
func (c *Central) ticket(token string) (TicketStatus, string, bool) {
	models := c.siteModels()
	now := c.now()
	for _, m := range models {
		m.mu.Lock()
		t := m.state.TicketByToken(token)
		if t == nil {
			m.mu.Unlock()
			continue
		}
		st := TicketStatus{Number: t.Number, Site: m.state.Site.ID, SiteName: m.state.Site.Name,
			Service: t.Service, Status: t.Status, IssuedAt: t.IssuedAt, CalledAt: t.CalledAt,
			LastSync: m.cursor.LastContact, Stale: now.Sub(m.cursor.LastContact) > StaleAfter}
		if svc := m.state.Services[t.Service]; svc != nil {
			st.ServiceName, st.ServiceNameEN = svc.Name, svc.NameEN
		}
		if ctr := m.state.Counters[t.Counter]; ctr != nil {
			st.Counter, st.CounterName = ctr.ID, ctr.Name
		}
		est := m.state.EstimateTicket(t.ID)
		st.Position, st.EstimatedWaitMinutes, st.EstimatedWaitP90Minutes = est.Position, est.Minutes, est.P90
		id := t.ID
		m.mu.Unlock()
		st.SiteName = c.siteName(st.Site, st.SiteName)
		if st.Status == queue.StatusWaiting || st.Status == queue.StatusParked {
			st.CancelRequested = c.cancelPending(st.Site, id)
		}
		return st, id, true
	}
	return TicketStatus{}, "", false
}

// ViewSite runs fn with a site's read model under its lock; false if the
// site is unknown.
func (c *Central) ViewSite(site string, fn func(*queue.State, SiteCursor)) bool {
	c.mu.RLock()
	m := c.sites[site]
	c.mu.RUnlock()
	if m == nil {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	fn(m.state, m.cursor)
	return true
}

// Subscribe returns a channel woken (coalesced) whenever new entries of site
// arrive ("" for any site), and a function to end the subscription.
func (c *Central) Subscribe(site string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	c.subMu.Lock()
	c.subs[ch] = site
	c.subMu.Unlock()
	return ch, func() {
		c.subMu.Lock()
		delete(c.subs, ch)
		c.subMu.Unlock()
	}
}

func (c *Central) notify(site string) {
	c.subMu.Lock()
	defer c.subMu.Unlock()
	for ch, s := range c.subs {
		if s != "" && s != site {
			continue
		}
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
