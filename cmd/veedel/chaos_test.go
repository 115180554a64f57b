package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/appliance/registration"

	"github.com/veedel/veedel/appliance"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/faultproxy"
	"github.com/veedel/veedel/internal/ratelimit"
	"github.com/veedel/veedel/sync/retry"
)

// The fault-injection suite. Each schedule, drawn from a seed, runs central
// and one or two appliances with kiosk and clerk traffic, the appliances
// reaching central through a faulty network:
//
//	appliance ─▶ faultproxy.Handler (duplicate, reorder, delay)
//	          ─▶ faultproxy.Proxy (drop, delay, cut mid-body, corrupt, lose or corrupt the reply)
//	          ─▶ central
//
// while an operator restarts central (also in the middle of a batch, with
// the transaction open), takes it down for a while, restarts appliances,
// skews an appliance's clock by an hour either way, fills central's disk,
// cuts the WAN, and writes at central what goes down to the sites (opening
// hours, a catalogue service). Then everything heals, the suite waits until
// every site is quiet and acknowledged both ways, and checkInvariants must
// find nothing; nor may checkDownload (every outbound entry in the site's
// inbox exactly once, the site showing central's last word).
//
//	go test -run TestChaos -count=1 ./cmd/veedel                  # 3 random seeds
//	CHAOS_SEEDS=30 go test -run TestChaos -count=1 ./cmd/veedel   # or -chaos.seeds=30
//	CHAOS_SEED=1234 go test -run TestChaos -count=1 -v ./cmd/veedel
//
// The seed fixes the schedule: sites, batch sizes, fault rates, the
// operator's steps and their order, which connection or request meets
// which fault, the traffic's choices. Goroutine timing still varies, so a
// failure may need a few runs of its seed to show again.

var (
	flagChaosSeeds = flag.Int("chaos.seeds", 0, "number of random chaos schedules (default: env CHAOS_SEEDS, else 3; 1 with -short)")
	flagChaosSeed  = flag.Uint64("chaos.seed", 0, "run only the chaos schedule of this seed (also env CHAOS_SEED)")
)

func chaosSeeds(t *testing.T) []uint64 {
	t.Helper()
	one := *flagChaosSeed
	if v := os.Getenv("CHAOS_SEED"); v != "" && one == 0 {
		var err error
		if one, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("CHAOS_SEED=%q: %v", v, err)
		}
	}
	if one != 0 {
		return []uint64{one}
	}
	n := 3
	if testing.Short() {
		n = 1
	}
	if v := os.Getenv("CHAOS_SEEDS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatalf("CHAOS_SEEDS=%q: %v", v, err)
		}
	}
	if *flagChaosSeeds > 0 {
		n = *flagChaosSeeds
	}
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = rand.Uint64N(1 << 53) // fits a float64, so -chaos.seed takes it back as printed
	}
	return seeds
}

func TestChaos(t *testing.T) {
	seeds := chaosSeeds(t)
	t.Logf("%d chaos schedules: %v", len(seeds), seeds)
	for _, seed := range seeds {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			defer func() {
				if t.Failed() {
					t.Logf("chaos seed %d failed; reproduce with:\n\tCHAOS_SEED=%d go test -run 'TestChaos$' -count=1 -v ./cmd/veedel   (add -race if it failed under the race detector)", seed, seed)
				}
			}()
			runChaos(t, seed)
		})
	}
}

// skewClock is an appliance's wall clock, off by a settable amount.
type skewClock struct{ offset atomic.Int64 }

func (c *skewClock) Now() time.Time         { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *skewClock) Set(skew time.Duration) { c.offset.Store(int64(skew)) }

// chaosRun is one schedule in progress.
type chaosRun struct {
	t    *testing.T
	seed uint64
	r    *rand.Rand // the operator's choices
	dir  string

	centralAddr string
	tcp         *faultproxy.Proxy
	handler     *faultproxy.Handler
	handlerURL  string
	tcpFaults   faultproxy.Schedule
	httpFaults  faultproxy.Schedule

	central    *centralNode // nil while down
	centralRun runningNode
	sites      []*chaosSite

	problemsMu sync.Mutex
	problems   []string
}

type chaosSite struct {
	cfg   applianceConfig
	clock *skewClock
	node  *applianceNode
	run   runningNode
	url   string // fixed across restarts

	// What central last sent the site (0: nothing yet).
	sentClose, sentMinutes int
	// Orders and appointments placed at central for the site, by code.
	orders, bookings []string
	orderTokens      []string // the citizens' status tokens, as orders

	mu     sync.Mutex
	plates chaosPlates       // the desk's plates (plates_chaos_test.go)
	issued map[string]bool   // tokens answered with 201
	keys   map[string]string // Idempotency-Key -> token
	counts struct{ ok, failed, conflicts int }
}

func (c *chaosRun) logf(format string, args ...any) {
	c.t.Helper()
	c.t.Logf(format, args...)
}

func (c *chaosRun) problem(format string, args ...any) {
	c.problemsMu.Lock()
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
	c.problemsMu.Unlock()
}

func runChaos(t *testing.T, seed uint64) {
	c := &chaosRun{t: t, seed: seed, r: rand.New(rand.NewPCG(seed, 0)), dir: t.TempDir(), centralAddr: freeAddr(t)}
	r := c.r

	// The network: fault rates differ per schedule.
	tcpRates := faultproxy.Rates{
		faultproxy.Drop:         r.Float64() * 0.10,
		faultproxy.Delay:        r.Float64() * 0.15,
		faultproxy.Cut:          r.Float64() * 0.10,
		faultproxy.Corrupt:      r.Float64() * 0.06,
		faultproxy.LoseReply:    r.Float64() * 0.10,
		faultproxy.CorruptReply: r.Float64() * 0.04,
	}
	httpRates := faultproxy.Rates{
		faultproxy.Duplicate: r.Float64() * 0.15,
		faultproxy.Reorder:   r.Float64() * 0.10,
		faultproxy.Delay:     r.Float64() * 0.05,
	}
	c.tcpFaults = faultproxy.Random(seed^0x7c9, tcpRates, 300*time.Millisecond)
	c.httpFaults = faultproxy.Random(seed^0x4717, httpRates, 800*time.Millisecond)
	var err error
	if c.tcp, err = faultproxy.Listen(c.centralAddr, c.tcpFaults); err != nil {
		t.Fatal(err)
	}
	if c.handler, err = faultproxy.NewHandler(c.tcp.URL(), c.httpFaults); err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(c.handler)
	c.handlerURL = front.URL
	// Registered first, so it runs after the nodes have stopped.
	t.Cleanup(func() {
		front.CloseClientConnections()
		front.Close()
		c.handler.Close()
		c.tcp.Close()
	})
	c.logf("seed %d: tcp faults %s; http faults %s", seed, rateString(tcpRates), rateString(httpRates))

	// The sites.
	names := []string{"kalk", "porz"}
	r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	_ = r.IntN(2) // was: one or two sites; now always both, the two registration sites of the plates
	for _, site := range names {
		s := &chaosSite{clock: &skewClock{}, issued: map[string]bool{}, keys: map[string]string{}}
		listen := freeAddr(t)
		s.url = "http://" + listen
		s.cfg = applianceConfig{Site: site, DB: filepath.Join(c.dir, site+".db"), Listen: listen,
			CentralURL: c.handlerURL, PortalURL: c.handlerURL,
			Users:     []userSpec{{Name: "clerk", Password: "clerk-pass", Role: sqlite.RoleClerk}},
			Heartbeat: time.Duration(200+r.IntN(800)) * time.Millisecond, BatchEntries: 1 + r.IntN(150),
			RefusedBackoff: 200 * time.Millisecond, Now: s.clock.Now}
		c.sites = append(c.sites, s)
		c.logf("site %s: batches of at most %d entries, heartbeat %v", site, s.cfg.BatchEntries, s.cfg.Heartbeat)
	}

	// The operator's script: every schedule has each kind of trouble once,
	// plus a few more drawn at random, in random order.
	steps := []string{"restart-central-mid-batch", "restart-appliance", "skew", "disk-full", "central-writes"}
	extra := []string{"restart-central", "restart-central-mid-batch", "central-down", "restart-appliance", "skew", "disk-full", "partition", "calm", "central-writes"}
	for range 2 + r.IntN(4) {
		steps = append(steps, extra[r.IntN(len(extra))])
	}
	r.Shuffle(len(steps), func(i, j int) { steps[i], steps[j] = steps[j], steps[i] })
	lateCentral := r.IntN(2) == 0

	if !lateCentral {
		c.startCentral()
	}
	for _, s := range c.sites {
		c.startSite(s)
	}
	ctx, stopTraffic := context.WithCancel(context.Background())
	var traffic sync.WaitGroup
	for i, s := range c.sites {
		traffic.Add(2)
		go func() { defer traffic.Done(); c.kiosk(ctx, s, rand.New(rand.NewPCG(seed, uint64(2*i+1)))) }()
		go func() { defer traffic.Done(); c.clerk(ctx, s, rand.New(rand.NewPCG(seed, uint64(2*i+2)))) }()
		traffic.Add(1)
		go func() { defer traffic.Done(); c.plateDesk(ctx, s, rand.New(rand.NewPCG(seed, uint64(100+i)))) }()
	}
	traffic.Add(1)
	go func() { defer traffic.Done(); c.reservePlates(ctx, rand.New(rand.NewPCG(seed, 99))) }()
	defer func() { stopTraffic(); traffic.Wait() }()

	if lateCentral {
		c.pause(300, 1200)
		c.logf("central starts late: the sites have been offline")
		c.startCentral()
	}
	for i, step := range steps {
		c.pause(100, 500)
		c.logf("step %d: %s", i+1, step)
		c.step(step)
	}
	c.pause(200, 600)

	// Heal, let the traffic stop, and wait for quiescence.
	stopTraffic()
	traffic.Wait()
	c.waitStill()
	c.tcp.SetSchedule(nil)
	c.handler.SetSchedule(nil)
	if c.central == nil {
		c.startCentral()
	}
	c.central.store.SetFault(nil)
	c.logf("healed; traffic: %s", c.trafficSummary())
	c.waitQuiet(90 * time.Second)
	c.logf("network: tcp %v; http %v", c.tcp.Stats(), c.handler.Stats())

	c.check("after healing")
	c.checkDownload()
	c.checkWorkflows()
	// Central folds every log again on start: the result must be the same.
	c.restartCentral(0)
	c.check("after central's restart")
	c.problemsMu.Lock()
	defer c.problemsMu.Unlock()
	for _, p := range c.problems {
		t.Errorf("traffic: %s", p)
	}
}

func rateString(rates faultproxy.Rates) string {
	var parts []string
	for k, v := range rates {
		parts = append(parts, fmt.Sprintf("%s %.1f%%", k, v*100))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// pause sleeps a random time between lo and hi milliseconds.
func (c *chaosRun) pause(lo, hi int) {
	time.Sleep(time.Duration(lo+c.r.IntN(hi-lo+1)) * time.Millisecond)
}

func (c *chaosRun) startCentral() {
	var sites []string
	for _, s := range c.sites {
		sites = append(sites, s.cfg.Site)
	}
	c.central, c.centralRun = startCentral(c.t, c.dir, c.centralAddr, func(cfg *centralConfig) {
		// Both sites act as registration sites, with small blocks so that
		// refills happen under the faults.
		cfg.Plates = plateConfig{Sites: sites, BlockSize: 25, LowWater: 10, Every: 100 * time.Millisecond}
		// One client reserves for every citizen here: not the limit a
		// citizen's connection gets.
		cfg.PlateLimit = ratelimit.Limit{Burst: 1 << 20, Every: time.Millisecond}
	})
}

func (c *chaosRun) stopCentral() {
	if c.central != nil {
		c.centralRun.stop()
		c.central = nil
	}
}

func (c *chaosRun) restartCentral(downMillis int) {
	c.stopCentral()
	time.Sleep(time.Duration(downMillis) * time.Millisecond)
	c.startCentral()
}

func (c *chaosRun) startSite(s *chaosSite) {
	s.node, s.run = startAppliance(c.t, s.cfg)
}

func (c *chaosRun) step(step string) {
	r := c.r
	switch step {
	case "restart-central":
		c.restartCentral(r.IntN(300))
	case "central-down":
		c.stopCentral()
		c.pause(500, 2000)
		c.startCentral()
	case "restart-central-mid-batch":
		if c.central == nil {
			c.startCentral()
			c.pause(100, 300)
		}
		// Hold the next batch with its transaction open until central
		// stops: the stop cancels the request and rolls the batch back.
		entered := make(chan struct{})
		var once sync.Once
		c.central.store.SetFault(func(ctx context.Context, stage string) error {
			once.Do(func() { close(entered) })
			<-ctx.Done()
			return ctx.Err()
		})
		select {
		case <-entered:
			c.logf("  a batch is in the middle of its transaction: stopping central")
		case <-time.After(3 * time.Second):
			c.logf("  no batch within 3 s: stopping central anyway")
		}
		c.restartCentral(r.IntN(300))
	case "restart-appliance":
		s := c.sites[r.IntN(len(c.sites))]
		c.logf("  site %s", s.cfg.Site)
		s.run.stop()
		c.pause(0, 400)
		c.startSite(s)
	case "skew":
		s := c.sites[r.IntN(len(c.sites))]
		skew := []time.Duration{time.Hour, -time.Hour, time.Hour + 7*time.Minute, -time.Hour + 3*time.Second, 0}[r.IntN(5)]
		c.logf("  site %s: clock %+v", s.cfg.Site, skew)
		s.clock.Set(skew)
	case "disk-full":
		if c.central == nil {
			c.startCentral()
		}
		store := c.central.store
		store.SetFault(func(context.Context, string) error {
			return fmt.Errorf("database or disk is full: %w", syscall.ENOSPC)
		})
		c.pause(300, 2000)
		store.SetFault(nil)
	case "partition":
		c.tcp.SetSchedule(faultproxy.Always(faultproxy.Fault{Kind: faultproxy.Drop}))
		c.tcp.CloseConns()
		c.pause(300, 1500)
		c.tcp.SetSchedule(c.tcpFaults)
	case "central-writes":
		if c.central == nil {
			c.startCentral()
		}
		for range 2 + r.IntN(5) {
			c.pause(10, 100)
			c.centralWrite()
		}
	case "calm":
		c.tcp.SetSchedule(nil)
		c.handler.SetSchedule(nil)
		c.pause(200, 800)
		c.tcp.SetSchedule(c.tcpFaults)
		c.handler.SetSchedule(c.httpFaults)
	default:
		c.t.Fatalf("unknown step %q", step)
	}
}

// waitStill waits until no site has committed anything for 300 ms: a
// request the traffic gave up on (a client timeout) may still commit.
func (c *chaosRun) waitStill() {
	last := make([]uint64, len(c.sites))
	still := time.Now()
	eventually(c.t, 30*time.Second, "the sites stop committing", func() (bool, string) {
		for i, s := range c.sites {
			if seq := s.node.Store.LastSeq(); seq != last[i] {
				last[i], still = seq, time.Now()
			}
		}
		return time.Since(still) > 300*time.Millisecond, describe("last seqs %v", last)
	})
}

// waitQuiet waits until every site's log is acknowledged and in central's
// read model, and every site has applied central's outbound log.
func (c *chaosRun) waitQuiet(timeout time.Duration) {
	start := time.Now()
	var reported time.Duration
	eventually(c.t, timeout, "every site acknowledged", func() (bool, string) {
		var state []string
		quiet := true
		for _, s := range c.sites {
			last := s.node.Store.LastSeq()
			var acked uint64
			c.central.Central.ViewSite(s.cfg.Site, func(_ *queue.State, cur central.SiteCursor) { acked = cur.Acked })
			up := s.node.Uplink.Status()
			_, head, err := c.central.store.Outbound(context.Background(), s.cfg.Site, 0, 1, 1)
			down := s.node.Downlink.Status()
			if acked != last || up.Acked != last || err != nil || down.Cursor != head {
				quiet = false
			}
			state = append(state, fmt.Sprintf("%s: last %d, central %d, uplink %d (%s); outbound head %d, downlink %d (%s)",
				s.cfg.Site, last, acked, up.Acked, up.LastError, head, down.Cursor, down.LastError))
		}
		if waited := time.Since(start); !quiet && waited-reported > 2*time.Second {
			reported = waited
			c.logf("  still settling after %v: %s", waited.Round(time.Second), strings.Join(state, "; "))
		}
		return quiet, strings.Join(state, "; ")
	})
	c.logf("quiet after %v", time.Since(start).Round(time.Millisecond))
}

func (c *chaosRun) check(when string) {
	var sites []siteUnderTest
	for _, s := range c.sites {
		s.mu.Lock()
		tokens := make([]string, 0, len(s.issued))
		for token := range s.issued {
			tokens = append(tokens, token)
		}
		s.mu.Unlock()
		s.mu.Lock()
		told := slices.Clone(s.plates.told)
		s.mu.Unlock()
		sites = append(sites, siteUnderTest{Site: s.cfg.Site, Store: s.node.Store, Issued: tokens, Plates: told})
	}
	problems := checkInvariants(context.Background(), c.central, sites)
	for _, p := range problems {
		c.t.Errorf("invariant %s: %s", when, p)
	}
	if len(problems) == 0 {
		var sizes []string
		for _, s := range c.sites {
			sizes = append(sizes, fmt.Sprintf("%s %d entries", s.cfg.Site, s.node.Store.LastSeq()))
		}
		c.logf("invariants hold %s (%s)", when, strings.Join(sizes, ", "))
	}
}

// centralWrite sends one site new opening hours, or every site a new
// expected duration of the catalogue service "chaos". A write central
// refuses (it may not know the site yet) is skipped.
func (c *chaosRun) centralWrite() {
	ctx := context.Background()
	r := c.r
	switch r.IntN(5) {
	case 0:
		c.placeOrder(c.sites[r.IntN(len(c.sites))])
		return
	case 1:
		c.bookAppointment(c.sites[r.IntN(len(c.sites))])
		return
	}
	if r.IntN(3) > 0 {
		s := c.sites[r.IntN(len(c.sites))]
		closing := 12*60 + 1 + r.IntN(8*60)
		if closing == s.sentClose {
			closing++
		}
		err := c.central.Central.SetOpeningHours(ctx, s.cfg.Site, []queue.OpeningHours{{Weekday: time.Wednesday, Open: 7 * 60, Close: closing}})
		c.logf("  central: hours of %s close at %d: %v", s.cfg.Site, closing, err)
		if err == nil {
			s.sentClose = closing
		}
		return
	}
	minutes := 1 + r.IntN(queue.MaxExpectedMinutes)
	sites, err := c.central.Central.DefineService(ctx, queue.ServiceDefined{ID: "chaos", Name: "Chaos", Prefix: "X", ExpectedMinutes: minutes})
	c.logf("  central: service chaos takes %d minutes, sent to %v: %v", minutes, sites, err)
	for _, s := range c.sites {
		if slices.Contains(sites, s.cfg.Site) {
			s.sentMinutes = minutes
		}
	}
}

// placeOrder places a certificate order for s at central, as a citizen
// does; refused while central has no box key of the site yet.
func (c *chaosRun) placeOrder(s *chaosSite) {
	orders := c.central.Central.Workflow(registration.Prefix).(*registration.Central)
	p, err := orders.Place(context.Background(), c.central.Central, registration.OrderRequest{
		Kind: registration.KindMelde, Site: s.cfg.Site, Delivery: registration.DeliveryPickup, Copies: 1 + c.r.IntN(3),
		Person:  registration.Person{FamilyName: "Chaos", GivenNames: "Carla", BirthDate: "1980-01-01"},
		Contact: registration.Contact{Email: "carla@example.de"}, Consent: true}, time.Now())
	c.logf("  central: order for %s: %s %v", s.cfg.Site, p.Code, err)
	if err == nil {
		s.orders = append(s.orders, p.Code)
		s.orderTokens = append(s.orderTokens, p.Token)
	}
}

// bookAppointment sells s's next free online place of a service and
// confirms it, as a citizen with the code from the e-mail does.
func (c *chaosRun) bookAppointment(s *chaosSite) {
	ctx := context.Background()
	cc := c.central.Central
	appts := cc.Workflow(appointment.Prefix).(*appointment.Central)
	box := &codeBox{codes: map[string]string{}}
	now := time.Now()
	for d := 1; d < 30; d++ {
		slots, err := appts.Slots(ctx, cc, s.cfg.Site, "ausweis", cc.DayOf(s.cfg.Site, now.AddDate(0, 0, d)), now)
		if err != nil {
			c.logf("  central: no slots for %s: %v", s.cfg.Site, err)
			return
		}
		for _, sl := range slots {
			if sl.Available == 0 {
				continue
			}
			email := fmt.Sprintf("chaos%d@example.de", c.r.Uint64())
			h, err := appts.Hold(ctx, cc, box, appointment.Request{Site: s.cfg.Site, Service: "ausweis", Start: sl.Start, Name: "Chaos", Email: email, Consent: true}, now)
			if err == nil {
				_, _, err = appts.Confirm(ctx, cc, h.Token, box.code(email), now)
			}
			c.logf("  central: appointment at %s %s: %s %v", s.cfg.Site, sl.Start.Format(time.DateTime), h.Code, err)
			if err == nil {
				s.bookings = append(s.bookings, h.Code)
			}
			return
		}
	}
}

// checkWorkflows: every order and appointment central placed for a site is
// at the site exactly once and central's status of it says so, and no
// slot at the site holds more bookings than it has places.
func (c *chaosRun) checkWorkflows() {
	ctx := context.Background()
	orders := c.central.Central.Workflow(registration.Prefix).(*registration.Central)
	for _, s := range c.sites {
		site := s.cfg.Site
		all, err := registration.List(ctx, s.node.Store.Read(), "", 100_000)
		if err != nil {
			c.t.Errorf("orders at %s: %v", site, err)
			continue
		}
		count := map[string]int{}
		for _, o := range all {
			count[o.Code]++
		}
		for _, code := range s.orders {
			if count[code] != 1 {
				c.t.Errorf("order %s is at %s %d times, want once", code, site, count[code])
			}
		}
		if len(all) != len(s.orders) {
			c.t.Errorf("%s has %d orders, central placed %d", site, len(all), len(s.orders))
		}
		for i, tok := range s.orderTokens {
			if o, ok := orders.ByToken(tok); !ok || o.Status != registration.StatusAtSite {
				c.t.Errorf("central's status of order %s: %+v (%v), want %s", s.orders[i], o, ok, registration.StatusAtSite)
			}
		}
		s.node.Store.View(func(st *queue.State) {
			for _, code := range s.bookings {
				if b := st.BookingByCode(code); b == nil || !b.Online {
					c.t.Errorf("appointment %s is not at %s as an online booking: %+v", code, site, b)
				}
			}
			for _, b := range st.Bookings() {
				sl, ok := st.SlotOf(b.Service, b.Slot)
				if ok && st.Booked(b.Service, sl, true)+st.Booked(b.Service, sl, false) > sl.Capacity {
					c.t.Errorf("%s: slot %v holds more bookings than its %d places", site, sl.Start, sl.Capacity)
				}
			}
		})
		c.logf("workflows at %s: %d orders, %d appointments, each once", site, len(s.orders), len(s.bookings))
	}
}

// checkDownload: each site's inbox holds central's outbound log for it,
// 1..head without gaps, nothing refused, and the site shows the last
// opening hours and service duration central sent it.
func (c *chaosRun) checkDownload() {
	ctx := context.Background()
	for _, s := range c.sites {
		site := s.cfg.Site
		out, head, err := c.central.store.Outbound(ctx, site, 0, 100_000, 64<<20)
		if err != nil {
			c.t.Errorf("download %s: central's outbound log: %v", site, err)
			continue
		}
		inbox, err := s.node.Store.InboxEntries(ctx, 0, 100_000)
		if err != nil {
			c.t.Errorf("download %s: inbox: %v", site, err)
			continue
		}
		if uint64(len(inbox)) != head || uint64(len(out)) != head {
			c.t.Errorf("download %s: central's outbound head %d (%d entries), the site's inbox has %d", site, head, len(out), len(inbox))
		}
		for i, e := range inbox {
			switch {
			case e.Seq != uint64(i)+1:
				c.t.Errorf("download %s: inbox entry %d where %d belongs", site, e.Seq, i+1)
			case i < len(out) && (out[i].Type != e.Type || out[i].Entity != e.Entity):
				c.t.Errorf("download %s: inbox entry %d is %s %s, central sent %s %s", site, e.Seq, e.Type, e.Entity, out[i].Type, out[i].Entity)
			case e.Outcome == sqlite.InboxRefused:
				c.t.Errorf("download %s: inbox entry %d (%s) refused: %s", site, e.Seq, e.Type, e.Detail)
			}
		}
		s.node.Store.View(func(st *queue.State) {
			if s.sentClose != 0 && (len(st.Site.Hours) != 1 || st.Site.Hours[0].Close != s.sentClose) {
				c.t.Errorf("download %s: the site's hours are %v, central last sent closing at %d", site, st.Site.Hours, s.sentClose)
			}
			if svc := st.Services["chaos"]; s.sentMinutes != 0 && (svc == nil || svc.ExpectedMinutes != s.sentMinutes) {
				c.t.Errorf("download %s: service chaos is %+v at the site, central last sent %d minutes", site, svc, s.sentMinutes)
			}
		})
		c.logf("download to %s complete: %d outbound entries applied", site, head)
	}
}

func (c *chaosRun) trafficSummary() string {
	var out []string
	for _, s := range c.sites {
		s.mu.Lock()
		out = append(out, fmt.Sprintf("%s: %d tickets, %d requests ok, %d failed, %d conflicts; %s", s.cfg.Site, len(s.issued), s.counts.ok, s.counts.failed, s.counts.conflicts, s.plates.summary()))
		s.mu.Unlock()
	}
	return strings.Join(out, "; ")
}

var chaosClient = &http.Client{Timeout: 5 * time.Second}

// request posts body as JSON and returns the status, or 0 when the request
// failed (the appliance restarting). Stopping the traffic does not cancel
// a request under way: its answer says its commit is done (or failed), so
// that nothing commits after the traffic has stopped.
func request(url string, body any, header map[string]string) (int, http.Header, []byte) {
	data, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(string(data)))
	if err != nil {
		return 0, nil, nil
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := chaosClient.Do(req)
	if err != nil {
		return 0, nil, nil
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out
}

// kiosk issues tickets through the API, a third of them with an
// Idempotency-Key; a request without an answer is retried with its key,
// and keys that worked are sometimes sent again: the answer must be the
// same ticket.
func (c *chaosRun) kiosk(ctx context.Context, s *chaosSite, r *rand.Rand) {
	services := []string{"ausweis", "meldung", "bescheinigung", "abholung"}
	type attempt struct{ key, service string }
	var again *attempt
	var done []attempt
	for retry.Sleep(ctx, time.Duration(5+r.IntN(25))*time.Millisecond) {
		a := attempt{service: services[r.IntN(len(services))]}
		switch {
		case again != nil:
			a, again = *again, nil
		case len(done) > 0 && r.IntN(10) == 0:
			a = done[r.IntN(len(done))]
		case r.IntN(3) == 0:
			a.key = fmt.Sprintf("%s-%x", s.cfg.Site, r.Uint64())
		}
		header := kioskHeader(s.url) // the site's paired kiosk: no anonymous limit
		if a.key != "" {
			header["Idempotency-Key"] = a.key
		}
		status, _, body := request(s.url+"/api/v1/tickets", map[string]string{"service": a.service}, header)
		s.mu.Lock()
		switch {
		case status == http.StatusCreated:
			s.counts.ok++
			var tk struct{ Token string }
			if err := json.Unmarshal(body, &tk); err != nil || tk.Token == "" {
				c.problem("%s: 201 without a token: %s", s.cfg.Site, body)
				break
			}
			s.issued[tk.Token] = true
			if a.key != "" {
				if old, ok := s.keys[a.key]; ok && old != tk.Token {
					c.problem("%s: Idempotency-Key %s gave ticket %s… and then %s…", s.cfg.Site, a.key, old[:6], tk.Token[:6])
				}
				if _, ok := s.keys[a.key]; !ok {
					s.keys[a.key] = tk.Token
					done = append(done, a)
				}
			}
		case status == http.StatusConflict:
			s.counts.conflicts++ // a key of a ticket of an earlier day (skewed clock)
		default:
			s.counts.failed++
			if a.key != "" {
				again = &a
			}
		}
		s.mu.Unlock()
	}
}

// clerk works the counters through the API: call the next ticket, recall,
// finish or mark a no-show. Most refusals ("nobody waiting") are expected.
func (c *chaosRun) clerk(ctx context.Context, s *chaosSite, r *rand.Rand) {
	counters := len(appliance.Catalog[s.cfg.Site].Counters)
	auth := "Basic " + basicAuth("clerk", "clerk-pass")
	for retry.Sleep(ctx, time.Duration(5+r.IntN(25))*time.Millisecond) {
		action := "call-next"
		switch x := r.IntN(20); {
		case x < 7:
			action = "finish"
		case x < 9:
			action = "recall"
		case x < 11:
			action = "no-show"
		}
		url := fmt.Sprintf("%s/api/v1/counters/%d/%s", s.url, 1+r.IntN(counters), action)
		status, _, body := request(url, nil, map[string]string{"Authorization": auth})
		if status == http.StatusUnauthorized {
			c.problem("%s: clerk refused: %s", s.cfg.Site, body)
			return
		}
	}
}

func basicAuth(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}
