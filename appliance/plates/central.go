package plates

import (
	"encoding/hex"
	"sort"
	"sync"
	"time"

	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/workflow"
)

// Central's side: the read model of the namespace, folded from the
// outbound logs (blocks and reservations central handed out) and the
// sites' logs (assignments, plates given back). It also cuts the next
// block. Reservations waiting in central's store (not yet handed to a
// site) are central's (central/plates.go).

// Defaults.
const (
	DefaultBlockSize  = 200
	DefaultLowWater   = 50
	DefaultReserveFor = 90 * 24 * time.Hour
	// FeeCents is what a Wunschkennzeichen costs in Cologne: 10,20 € for
	// its allocation (GebOSt, Gebührennummer 221.04) and 2,60 € for the
	// online reservation, paid at the registration.
	FeeCents = 1280
)

// Plate states as central's read model names them.
const (
	StateFree     = "free"
	StateBlocked  = "blocked" // a combination Cologne does not issue
	StateBlock    = "block"   // in a site's block, not yet assigned
	StateReserved = "reserved"
	StateAssigned = "assigned"
)

// Status is one plate as central knows it.
type Status struct {
	Plate string `json:"plate"`
	State string `json:"state"`
	Site  string `json:"site,omitempty"`
	Block int64  `json:"block,omitempty"`
}

type granted struct {
	site string
	Block
}

type siteCount struct {
	granted, used int // plates granted in blocks, assigned from them
}

// Central is the namespace's read model; safe for concurrent use.
type Central struct {
	// Blocked are the letter combinations not issued (nil:
	// vehicle.DefaultBlocked). Set before use.
	Blocked []string
	// BlockSize, LowWater and ReserveFor: 0 means the default.
	BlockSize  int
	LowWater   int
	ReserveFor time.Duration

	mu     sync.Mutex
	sites  []string             // SetSites
	blocks map[string][]granted // by letters
	seen   map[int64]bool       // block IDs folded
	nextID int64
	// cursor: the next block starts at letter combination combo, digit
	// digit; everything before it was cut into blocks once.
	combo, digit int
	// reserved: reservations handed to a site, by token hash (hex).
	reserved map[string]resv
	byPlate  map[string]string // plate -> token hash (hex) of its reservation
	// consumed: token hashes assigned or given back (a site's log may be
	// folded before central's outbound log).
	consumed map[string]bool
	// assigned: plate -> site -> block.
	assigned map[string]map[string]int64
	// released: plates given back from a block (plate -> block).
	released map[string]int64
	perSite  map[string]*siteCount
	// ended: token hashes (hex) of reservations that ended, for the
	// store to forget.
	ended []string
}

type resv struct {
	plate, site string
	expires     time.Time
}

// NewCentral returns an empty model.
func NewCentral() *Central {
	return &Central{blocks: map[string][]granted{}, seen: map[int64]bool{}, byPlate: map[string]string{}, reserved: map[string]resv{}, consumed: map[string]bool{},
		assigned: map[string]map[string]int64{}, released: map[string]int64{}, perSite: map[string]*siteCount{}, digit: 1}
}

// Prefix is the workflow's prefix.
func (c *Central) Prefix() string { return Prefix }

// NewPayload is the workflow's NewPayload.
func (c *Central) NewPayload(t string) (any, bool) { return NewPayload(t) }

func (c *Central) site(s string) *siteCount {
	n := c.perSite[s]
	if n == nil {
		n = &siteCount{}
		c.perSite[s] = n
	}
	return n
}

// Sent folds what central handed a site.
func (c *Central) Sent(site string, e workflow.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch p := e.Payload.(type) {
	case *BlockGranted:
		if c.seen[p.ID] {
			return // folded already
		}
		c.seen[p.ID] = true
		c.blocks[p.Letters] = append(c.blocks[p.Letters], granted{site: site, Block: p.Block})
		c.nextID = max(c.nextID, p.ID+1)
		c.site(site).granted += p.Size()
		// The cursor moves past the block.
		combo := comboIndex(p.Letters)
		if combo > c.combo || (combo == c.combo && p.Last+1 > c.digit) {
			c.combo, c.digit = combo, p.Last+1
			if c.digit > 9999 {
				c.combo, c.digit = c.combo+1, 1
			}
		}
	case *ReservationSent:
		k := hex.EncodeToString(p.TokenHash)
		if c.consumed[k] {
			return
		}
		c.reserved[k] = resv{plate: p.Plate, site: site, expires: time.UnixMilli(p.Expires)}
		c.byPlate[p.Plate] = k
	}
}

// FromSite folds the site's assignments and returns.
func (c *Central) FromSite(site string, e workflow.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch p := e.Payload.(type) {
	case *Assigned:
		if c.assigned[p.Plate] == nil {
			c.assigned[p.Plate] = map[string]int64{}
		}
		c.assigned[p.Plate][site] = p.Block
		if p.Block > 0 {
			c.site(site).used++
			delete(c.released, p.Plate)
		}
		if p.TokenHash != nil {
			k := hex.EncodeToString(p.TokenHash)
			c.consume(k, p.Plate)
		}
	case *Returned:
		if p.TokenHash != nil {
			k := hex.EncodeToString(p.TokenHash)
			c.consume(k, p.Plate)
			return
		}
		if m := c.assigned[p.Plate]; m != nil {
			delete(m, site)
			if len(m) == 0 {
				delete(c.assigned, p.Plate)
			}
		}
		if p.Block > 0 {
			c.released[p.Plate] = p.Block
		}
	}
}

// consume ends a reservation (assigned or given back); requires c.mu.
func (c *Central) consume(k, plate string) {
	c.consumed[k] = true
	delete(c.reserved, k)
	if c.byPlate[plate] == k {
		delete(c.byPlate, plate)
	}
	c.ended = append(c.ended, k)
}

// Status tells what becomes of plate (canonical). Reservations waiting in
// central's store are not the model's: the caller checks them.
func (c *Central) Status(plate string) Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status(plate)
}

func (c *Central) status(plate string) Status {
	letters, digits, ok := Split(plate)
	if !ok {
		return Status{Plate: plate, State: StateBlocked}
	}
	for _, b := range c.blockedList() {
		if b == letters {
			return Status{Plate: plate, State: StateBlocked}
		}
	}
	for s, block := range c.assigned[plate] {
		return Status{Plate: plate, State: StateAssigned, Site: s, Block: block}
	}
	if r, ok := c.reserved[c.byPlate[plate]]; ok {
		return Status{Plate: plate, State: StateReserved, Site: r.site}
	}
	for _, g := range c.blocks[letters] {
		if g.Holds(letters, digits) && c.released[plate] != g.ID {
			return Status{Plate: plate, State: StateBlock, Site: g.site, Block: g.ID}
		}
	}
	return Status{Plate: plate, State: StateFree}
}

// SetSites names the sites that get blocks (nil: the directory's
// vehicle-registration sites, central decides).
func (c *Central) SetSites(sites []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sites = sites
}

// SiteList is what SetSites set.
func (c *Central) SiteList() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sites
}

// BlockedList is the combinations not issued.
func (c *Central) BlockedList() []string { return c.blockedList() }

// BlockSizeOr is the block size, the default when unset.
func (c *Central) BlockSizeOr() int {
	if c.BlockSize > 0 {
		return c.BlockSize
	}
	return DefaultBlockSize
}

// LowWaterMark is how few plates a site may have left before central
// grants the next block.
func (c *Central) LowWaterMark() int {
	if c.LowWater > 0 {
		return c.LowWater
	}
	return DefaultLowWater
}

// ReserveTime is how long a reservation lives.
func (c *Central) ReserveTime() time.Duration {
	if c.ReserveFor > 0 {
		return c.ReserveFor
	}
	return DefaultReserveFor
}

// Consumed reports whether the reservation with this token hash was
// assigned or given back.
func (c *Central) Consumed(tokenHash []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.consumed[hex.EncodeToString(tokenHash)]
}

func (c *Central) blockedList() []string {
	if c.Blocked == nil {
		return vehicle.DefaultBlocked
	}
	return c.Blocked
}

// Left is how many plates of site's blocks are not assigned as far as
// central knows (from the site's log).
func (c *Central) Left(site string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.perSite[site]
	if n == nil {
		return 0
	}
	return n.granted - n.used
}

// NextBlock cuts the next block of size plates for the caller to send:
// from the cursor on, leaving out the plates taken (reserved at a site,
// assigned, or for which taken says so: central's stored reservations),
// and the combinations not issued. The model moves on once the block is
// sent (Sent); the caller serialises cutting and sending. false: the
// namespace is used up.
func (c *Central) NextBlock(size int, taken func(plate string) bool) (Block, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	combo, digit := c.combo, c.digit
	for combo < len(combos) {
		letters := combos[combo]
		if c.isBlocked(letters) || digit > 9999 {
			combo, digit = combo+1, 1
			continue
		}
		b := Block{ID: max(c.nextID, 1), Letters: letters, First: digit, Last: min(9999, digit+size-1)}
		for d := b.First; d <= b.Last; d++ {
			p := Name(letters, d)
			if st := c.status(p); st.State != StateFree || (taken != nil && taken(p)) {
				b.Except = append(b.Except, d)
			}
		}
		if b.Size() > 0 {
			return b, true
		}
		digit = b.Last + 1
		c.combo, c.digit = combo, digit // skip a range wholly taken
	}
	return Block{}, false
}

func (c *Central) isBlocked(letters string) bool {
	for _, b := range c.blockedList() {
		if b == letters {
			return true
		}
	}
	return false
}

// Ended returns (and forgets) the token hashes (hex) of the reservations
// that ended since the last call: central's store forgets the holders'
// names then.
func (c *Central) Ended() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.ended
	c.ended = nil
	return out
}

// GrantedSites lists the sites that got blocks, sorted.
func (c *Central) GrantedSites() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for s := range c.perSite {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Reserved reports whether a reservation with this token hash is held by
// a site.
func (c *Central) Reserved(tokenHash []byte) (site string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.reserved[hex.EncodeToString(tokenHash)]
	return r.site, ok
}

// combos are the letter combinations in the order blocks are cut: A … Z,
// then AA … ZZ.
var combos = func() []string {
	var out []string
	for a := 'A'; a <= 'Z'; a++ {
		out = append(out, string(a))
	}
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			out = append(out, string(a)+string(b))
		}
	}
	return out
}()

func comboIndex(letters string) int {
	for i, s := range combos {
		if s == letters {
			return i
		}
	}
	return -1
}
