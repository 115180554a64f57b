package central

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/blob"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/workflow"
)

// Snapshots of the read models: central folds every site's log and
// outbound log into memory (the queue's state per site, the workflows'
// models), and without snapshots it folds them from the first entry at
// every start, in time proportional to history. A snapshot freezes every
// read model at one cut, with the position of each site's log and
// outbound log it covers, in the store (SnapshotStore) in one
// transaction; a start restores it and folds only the entries after those
// positions. New returns only after that tail is folded, so a node never
// serves a read model older than what it acknowledged.
//
// The queue's state is frozen with the appliance's own codec
// (queue.Snapshot, as JSON, appliance/sqlite's snapshots), the workflows'
// with theirs (workflow.Snapshotter), the files the logs reference
// (blobs.go) here. A snapshot of another version, a
// damaged one, one ahead of the store's logs, or one without a model
// this build has, is ignored with a log line: the logs are folded from
// the start instead, and the next snapshot replaces it.

// snapshotVersion changes whenever snapshotData's shape does (the queue's
// and the workflows' versions travel inside it).
const snapshotVersion = 1

// Snapshot defaults (RunSnapshots).
const (
	// SnapshotCheckEvery is how often RunSnapshots looks at how much was
	// folded since the last snapshot.
	SnapshotCheckEvery = time.Minute
	// SnapshotAfterEntries: a snapshot is taken once this many entries
	// were folded since the last one…
	SnapshotAfterEntries = 50_000
	// SnapshotMaxAge: …or once the last is this old and anything was
	// folded since.
	SnapshotMaxAge = time.Hour
)

// snapshotData is what StoredSnapshot.Data holds.
type snapshotData struct {
	Sites     []snapshotSite     `json:"sites"`
	Workflows []snapshotWorkflow `json:"workflows"`
	// Blobs are the files the logs reference (blobs.go).
	Blobs snapshotBlobs `json:"blobs"`
}

// snapshotBlobs is blobRefs frozen: site → sha256 → ref.
type snapshotBlobs struct {
	Up   map[string]map[string]blob.Ref `json:"up,omitempty"`
	Down map[string]map[string]blob.Ref `json:"down,omitempty"`
}

// freeze copies the references.
func (b *blobRefs) freeze() snapshotBlobs {
	b.mu.Lock()
	defer b.mu.Unlock()
	clone := func(m map[string]map[string]blob.Ref) map[string]map[string]blob.Ref {
		out := make(map[string]map[string]blob.Ref, len(m))
		for site, refs := range m {
			out[site] = maps.Clone(refs)
		}
		return out
	}
	return snapshotBlobs{Up: clone(b.up), Down: clone(b.down)}
}

// thaw replaces the references with frozen ones.
func (b *blobRefs) thaw(f snapshotBlobs) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.up, b.down = f.Up, f.Down
}

type snapshotSite struct {
	Site        string          `json:"site"`
	LastHLC     changelog.HLC   `json:"last_hlc"`
	LastEventAt int64           `json:"last_event_at,omitempty"` // Unix ms
	Queue       json.RawMessage `json:"queue"`                   // queue.Snapshot
}

type snapshotWorkflow struct {
	Prefix  string          `json:"prefix"`
	Version int             `json:"version"`
	Data    json.RawMessage `json:"data"` // the frozen model (workflow.Snapshotter)
}

// Snapshot freezes every read model at one cut: while it copies them no
// entry of any site's log or outbound log is folded (the folds wait, for
// about as long as copying today's state takes); it encodes the copies
// after. It returns the snapshot as the store keeps it; false when a
// workflow's model cannot be frozen (not a workflow.Snapshotter).
func (c *Central) Snapshot() (StoredSnapshot, bool, error) {
	snappers := make([]workflow.Snapshotter, len(c.workflows))
	for i, wf := range c.workflows {
		s, ok := wf.(workflow.Snapshotter)
		if !ok {
			return StoredSnapshot{}, false, nil
		}
		snappers[i] = s
	}
	snap := StoredSnapshot{Version: snapshotVersion, TakenAt: c.now()}
	var sites []snapshotSite
	var queues []queue.Snapshot
	frozen := make([]any, len(snappers))
	versions := make([]int, len(snappers))
	var blobs snapshotBlobs
	c.atCut(func(models []*siteModel, outbound map[string]uint64) {
		at := map[string]int{}
		for _, m := range models {
			at[m.cursor.Site] = len(snap.Positions)
			snap.Positions = append(snap.Positions, SnapshotPosition{Site: m.cursor.Site, Log: m.cursor.Acked})
			sites = append(sites, snapshotSite{Site: m.cursor.Site, LastHLC: m.cursor.LastHLC, LastEventAt: workflow.Millis(m.lastEventAt)})
			queues = append(queues, m.state.Snapshot()) // a copy (queue.Snapshot)
		}
		for site, head := range outbound {
			i, ok := at[site]
			if !ok {
				i = len(snap.Positions)
				snap.Positions = append(snap.Positions, SnapshotPosition{Site: site})
			}
			snap.Positions[i].Outbound = head
		}
		for i, s := range snappers {
			versions[i], frozen[i] = s.Snapshot()
		}
		blobs = c.blobs.freeze()
	})
	data := snapshotData{Sites: sites, Blobs: blobs}
	for i := range sites {
		q, err := json.Marshal(queues[i])
		if err != nil {
			return StoredSnapshot{}, false, fmt.Errorf("central: snapshot of %s: %w", sites[i].Site, err)
		}
		data.Sites[i].Queue = q
	}
	for i, f := range frozen {
		b, err := json.Marshal(f)
		if err != nil {
			return StoredSnapshot{}, false, fmt.Errorf("central: snapshot of %s: %w", c.workflows[i].Prefix(), err)
		}
		data.Workflows = append(data.Workflows, snapshotWorkflow{Prefix: c.workflows[i].Prefix(), Version: versions[i], Data: b})
	}
	slices.SortFunc(snap.Positions, func(a, b SnapshotPosition) int { return cmp.Compare(a.Site, b.Site) })
	var err error
	if snap.Data, err = json.Marshal(data); err != nil {
		return StoredSnapshot{}, false, fmt.Errorf("central: encode snapshot: %w", err)
	}
	return snap, true, nil
}

// atCut runs fn with every site's model that holds a stored entry
// (ordered by site) and how far each outbound log is folded, while no
// fold runs: CatchUpOutbound's lock, then the models' locks in the order
// of their site, then c.mu for reading, so that no new model is made
// meanwhile. (c.mu is taken last, and never waited for while a model's
// lock is wanted: a reader of a model may take c.mu under its lock.) A
// model made between the listing and the locking starts the cut again.
func (c *Central) atCut(fn func(models []*siteModel, outbound map[string]uint64)) {
	c.out.foldMu.Lock()
	defer c.out.foldMu.Unlock()
	for {
		models := c.siteModels()
		slices.SortFunc(models, func(a, b *siteModel) int { return cmp.Compare(a.cursor.Site, b.cursor.Site) })
		for _, m := range models {
			m.mu.Lock()
		}
		c.mu.RLock()
		if len(c.sites) != len(models) { // models are never removed
			c.mu.RUnlock()
			for _, m := range models {
				m.mu.Unlock()
			}
			continue
		}
		defer func() {
			c.mu.RUnlock()
			for _, m := range models {
				m.mu.Unlock()
			}
		}()
		logged := slices.DeleteFunc(slices.Clone(models), func(m *siteModel) bool { return m.cursor.Acked == 0 })
		c.out.mu.Lock()
		outbound := make(map[string]uint64, len(c.out.heads))
		for site, head := range c.out.heads {
			if head > 0 {
				outbound[site] = head
			}
		}
		c.out.mu.Unlock()
		fn(logged, outbound)
		return
	}
}

// SaveSnapshot takes a snapshot of the read models and stores it,
// replacing the last. It reports whether it stored one: not when the
// store keeps no snapshots or a workflow's model cannot be frozen.
func (c *Central) SaveSnapshot(ctx context.Context) (bool, error) {
	ss, ok := c.store.(SnapshotStore)
	if !ok {
		return false, nil
	}
	snap, ok, err := c.Snapshot()
	if err != nil || !ok {
		return false, err
	}
	if err := ss.SaveSnapshot(ctx, snap); err != nil {
		return false, err
	}
	return true, nil
}

// foldedTotal is how many entries of all logs and outbound logs the read
// models have folded: the difference to a snapshot's is what a start
// would fold after it.
func (c *Central) foldedTotal() uint64 {
	var n uint64
	for _, m := range c.siteModels() {
		m.mu.Lock()
		n += m.cursor.Acked
		m.mu.Unlock()
	}
	c.out.mu.Lock()
	for _, h := range c.out.heads {
		n += h
	}
	c.out.mu.Unlock()
	return n
}

// RunSnapshots saves a snapshot of the read models whenever afterEntries
// entries were folded since the last one, or maxAge has passed and any
// were, looking every checkEvery (0s: the Snapshot* defaults), until ctx
// ends, and then once more if anything was folded since the last. In a
// cluster one node runs it (the store's Lead).
func (c *Central) RunSnapshots(ctx context.Context, checkEvery time.Duration, afterEntries int, maxAge time.Duration) {
	checkEvery = cmp.Or(checkEvery, SnapshotCheckEvery)
	afterEntries = cmp.Or(afterEntries, SnapshotAfterEntries)
	maxAge = cmp.Or(maxAge, SnapshotMaxAge)
	last, lastAt := c.foldedTotal(), c.now()
	if ss, ok := c.store.(SnapshotStore); ok {
		// Started from a snapshot (or none): count from it.
		if snap, ok, err := ss.LoadSnapshot(ctx); err == nil && ok {
			var covered uint64
			for _, p := range snap.Positions {
				covered += p.Log + p.Outbound
			}
			last, lastAt = min(last, covered), snap.TakenAt
		} else if err == nil {
			last = 0
		}
	}
	save := func(ctx context.Context) {
		total := c.foldedTotal()
		start := time.Now()
		saved, err := c.SaveSnapshot(ctx)
		switch {
		case err != nil:
			c.log.Error("snapshot of the read models", "err", err)
		case saved:
			last, lastAt = total, c.now()
			c.log.Info("snapshot of the read models saved", "entries", total, "took", time.Since(start).Round(time.Millisecond))
		}
	}
	t := time.NewTicker(checkEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if c.foldedTotal() > last {
				sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
				save(sctx)
				cancel()
			}
			return
		case <-t.C:
		}
		if n := c.foldedTotal() - last; n >= uint64(afterEntries) || (n > 0 && c.now().Sub(lastAt) >= maxAge) {
			save(ctx)
		}
	}
}

// loadSites builds the read models of every site with a stored log:
// from the stored snapshot when there is a usable one, then folding what
// came after it (everything, without one).
func (c *Central) loadSites(ctx context.Context, cursors []SiteCursor) error {
	from := c.restoreSnapshot(ctx, cursors)
	for _, cur := range cursors {
		m := from[cur.Site]
		if m == nil {
			m = &siteModel{state: centralState(cur.Site), cursor: SiteCursor{Site: cur.Site}}
		}
		// The cursor is the store's, the position what the model folded:
		// another node may store entries while this one scans.
		m.cursor.LastContact = cur.LastContact
		err := c.store.Scan(ctx, cur.Site, m.cursor.Acked, func(e changelog.Entry) error {
			if e.Seq != m.cursor.Acked+1 {
				return fmt.Errorf("entry %d after %d", e.Seq, m.cursor.Acked)
			}
			if err := c.fold(m, e); err != nil {
				return err
			}
			m.cursor.Acked, m.cursor.LastHLC = e.Seq, e.HLC
			return nil
		})
		if err != nil {
			return fmt.Errorf("central: load %s: %w", cur.Site, err)
		}
		c.sites[cur.Site] = m
	}
	return nil
}

// restoreSnapshot restores the stored snapshot, if there is a usable one,
// into the workflows' models, the outbound positions and the returned
// site models. Without one (or with one it cannot use, logged) it returns
// nil and leaves the models empty.
func (c *Central) restoreSnapshot(ctx context.Context, cursors []SiteCursor) map[string]*siteModel {
	ss, ok := c.store.(SnapshotStore)
	if !ok {
		return nil
	}
	snap, ok, err := ss.LoadSnapshot(ctx)
	if err == nil && !ok {
		return nil
	}
	var models map[string]*siteModel
	var cancels map[string]uint64
	if err == nil {
		models, cancels, err = c.thaw(ctx, snap, cursors)
	}
	if err != nil {
		c.log.Warn("snapshot of the read models not used: folding every log from the start", "err", err)
		if werr := c.resetWorkflows(ctx); werr != nil {
			c.log.Error("reset the workflows' read models", "err", werr)
		}
		c.blobs.thaw(snapshotBlobs{})
		c.out.mu.Lock()
		c.out.heads = nil
		c.out.mu.Unlock()
		return nil
	}
	c.out.mu.Lock()
	if c.out.cancels == nil {
		c.out.cancels = map[string]uint64{}
	}
	for k, seq := range cancels {
		c.out.cancels[k] = seq
	}
	c.out.mu.Unlock()
	c.log.Info("read models restored from their snapshot", "taken", snap.TakenAt, "sites", len(models))
	return models
}

// thaw restores snap (see restoreSnapshot) and returns the site models
// and the pending cancellation requests the snapshot's part of the
// outbound logs holds. An error leaves the workflows' models and the
// outbound positions half-restored.
func (c *Central) thaw(ctx context.Context, snap StoredSnapshot, cursors []SiteCursor) (map[string]*siteModel, map[string]uint64, error) {
	if snap.Version != snapshotVersion {
		return nil, nil, fmt.Errorf("snapshot version %d, this build reads %d", snap.Version, snapshotVersion)
	}
	var data snapshotData
	if err := json.Unmarshal(snap.Data, &data); err != nil {
		return nil, nil, fmt.Errorf("decode snapshot: %w", err)
	}
	stored := map[string]uint64{}
	for _, cur := range cursors {
		stored[cur.Site] = cur.Acked
	}
	heads, err := c.store.OutboundHeads(ctx)
	if err != nil {
		return nil, nil, err
	}
	logAt := map[string]uint64{}
	outAt := map[string]uint64{}
	for _, p := range snap.Positions {
		if p.Log > stored[p.Site] || p.Outbound > heads[p.Site] {
			return nil, nil, fmt.Errorf("snapshot of %s at log %d, outbound %d is ahead of the store's %d, %d", p.Site, p.Log, p.Outbound, stored[p.Site], heads[p.Site])
		}
		logAt[p.Site], outAt[p.Site] = p.Log, p.Outbound
	}
	models := make(map[string]*siteModel, len(data.Sites))
	for _, s := range data.Sites {
		var qs queue.Snapshot
		if err := json.Unmarshal(s.Queue, &qs); err != nil {
			return nil, nil, fmt.Errorf("decode snapshot of %s: %w", s.Site, err)
		}
		st, err := queue.Restore(qs)
		if err != nil {
			return nil, nil, fmt.Errorf("snapshot of %s: %w", s.Site, err)
		}
		st.AtCentral = true
		if st.Site.ID == "" {
			st.Site.ID = s.Site
		}
		models[s.Site] = &siteModel{state: st, lastEventAt: workflow.AtMillis(s.LastEventAt),
			cursor: SiteCursor{Site: s.Site, Acked: logAt[s.Site], LastHLC: s.LastHLC}}
	}
	for site, at := range logAt {
		if at > 0 && models[site] == nil {
			return nil, nil, fmt.Errorf("snapshot covers %s's log up to %d but holds no model of it", site, at)
		}
	}
	byPrefix := map[string]snapshotWorkflow{}
	for _, w := range data.Workflows {
		byPrefix[w.Prefix] = w
	}
	for _, wf := range c.workflows {
		w, ok := byPrefix[wf.Prefix()]
		if !ok {
			return nil, nil, fmt.Errorf("snapshot holds no model of %s", wf.Prefix())
		}
		s, ok := wf.(workflow.Snapshotter)
		if !ok {
			return nil, nil, fmt.Errorf("the model of %s cannot be restored", wf.Prefix())
		}
		if err := s.Restore(w.Version, w.Data); err != nil {
			return nil, nil, err
		}
	}
	// The cancellation requests of the snapshot's part of the outbound
	// logs that are recent enough to be pending, as foldSent takes them.
	cancels := map[string]uint64{}
	recent, err := c.store.OutboundOfType(ctx, queue.TypeCancelRequested, c.now().Add(-cancelRequestAge))
	if err != nil {
		return nil, nil, err
	}
	for _, e := range recent {
		if e.Seq <= outAt[e.Site] && e.At().After(c.now().Add(-cancelRequestAge)) {
			cancels[e.Site+"/"+trimTicket(e.Entity)] = e.Seq
		}
	}
	c.blobs.thaw(data.Blobs)
	c.out.mu.Lock()
	c.out.heads = outAt
	c.out.mu.Unlock()
	return models, cancels, nil
}
