package plates

import (
	"cmp"
	"maps"
	"slices"

	"github.com/veedel/veedel/workflow"
)

// centralSnapshotVersion changes whenever centralSnapshot's shape does.
const centralSnapshotVersion = 1

// centralSnapshot is the namespace as folded: every field of Central but
// its settings (Blocked, BlockSize, LowWater, ReserveFor, SetSites), which
// the caller sets at every start.
type centralSnapshot struct {
	Blocks   map[string][]snapshotBlock  `json:"blocks"`
	Seen     []int64                     `json:"seen"`
	NextID   int64                       `json:"next_id"`
	Combo    int                         `json:"combo"`
	Digit    int                         `json:"digit"`
	Reserved map[string]snapshotResv     `json:"reserved"`
	ByPlate  map[string]string           `json:"by_plate"`
	Consumed []string                    `json:"consumed"`
	Assigned map[string]map[string]int64 `json:"assigned"`
	Released map[string]int64            `json:"released"`
	PerSite  map[string][2]int           `json:"per_site"` // granted, used
	Ended    []string                    `json:"ended"`
}

type snapshotBlock struct {
	Site  string `json:"site"`
	Block Block  `json:"block"`
}

type snapshotResv struct {
	Plate   string `json:"plate"`
	Site    string `json:"site"`
	Expires int64  `json:"expires"`
}

var _ workflow.Snapshotter = (*Central)(nil)

// Snapshot freezes the namespace's read model: a copy, with its lists
// sorted once the model is unlocked (the map keys are sorted by the
// encoding).
func (c *Central) Snapshot() (int, any) {
	c.mu.Lock()
	snap := centralSnapshot{Blocks: make(map[string][]snapshotBlock, len(c.blocks)), NextID: c.nextID, Combo: c.combo, Digit: c.digit,
		Reserved: make(map[string]snapshotResv, len(c.reserved)), ByPlate: maps.Clone(c.byPlate),
		Assigned: make(map[string]map[string]int64, len(c.assigned)), Released: maps.Clone(c.released),
		PerSite: make(map[string][2]int, len(c.perSite)), Ended: slices.Clone(c.ended),
		Seen: make([]int64, 0, len(c.seen)), Consumed: make([]string, 0, len(c.consumed))}
	for letters, gs := range c.blocks {
		for _, g := range gs {
			b := g.Block
			b.Except = slices.Clone(b.Except)
			snap.Blocks[letters] = append(snap.Blocks[letters], snapshotBlock{Site: g.site, Block: b})
		}
	}
	for id := range c.seen {
		snap.Seen = append(snap.Seen, id)
	}
	for k, r := range c.reserved {
		snap.Reserved[k] = snapshotResv{Plate: r.plate, Site: r.site, Expires: workflow.Millis(r.expires)}
	}
	for k := range c.consumed {
		snap.Consumed = append(snap.Consumed, k)
	}
	for p, m := range c.assigned {
		snap.Assigned[p] = maps.Clone(m)
	}
	for s, n := range c.perSite {
		snap.PerSite[s] = [2]int{n.granted, n.used}
	}
	c.mu.Unlock()
	for _, bs := range snap.Blocks {
		// In the order of their ID: the fold's order depends on which
		// site's outbound log is folded first, and blocks never overlap.
		slices.SortFunc(bs, func(a, b snapshotBlock) int { return cmp.Compare(a.Block.ID, b.Block.ID) })
	}
	slices.Sort(snap.Seen)
	slices.Sort(snap.Consumed)
	slices.Sort(snap.Ended) // a set to forget, in the order the fold met them
	return centralSnapshotVersion, snap
}

// Restore thaws a Snapshot into the (empty) model.
func (c *Central) Restore(version int, data []byte) error {
	var snap centralSnapshot
	if err := workflow.DecodeSnapshot("plates", version, centralSnapshotVersion, data, &snap); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for letters, bs := range snap.Blocks {
		for _, b := range bs {
			c.blocks[letters] = append(c.blocks[letters], granted{site: b.Site, Block: b.Block})
		}
	}
	for _, id := range snap.Seen {
		c.seen[id] = true
	}
	c.nextID, c.combo, c.digit = snap.NextID, snap.Combo, snap.Digit
	for k, r := range snap.Reserved {
		c.reserved[k] = resv{plate: r.Plate, site: r.Site, expires: workflow.AtMillis(r.Expires)}
	}
	for _, k := range snap.Consumed {
		c.consumed[k] = true
	}
	for p, k := range snap.ByPlate {
		c.byPlate[p] = k
	}
	for p, m := range snap.Assigned {
		c.assigned[p] = m
	}
	for p, b := range snap.Released {
		c.released[p] = b
	}
	for s, n := range snap.PerSite {
		c.perSite[s] = &siteCount{granted: n[0], used: n[1]}
	}
	c.ended = snap.Ended
	return nil
}
