package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	mathrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central/postgres"
	"github.com/veedel/veedel/sync/changelog"
)

// veedel load central: N simulated sites with busy days against three
// central nodes on one PostgreSQL database, joined with serf. Each site
// is a real appliance (its SQLite file, its uplink with the three nodes'
// addresses), run in this process: a kiosk issues tickets, the site's
// counters call and finish them. Half the sites send to node A, half to
// node B; a citizen's status page for every called ticket is opened on
// node C. Node A is killed with SIGKILL during the load. Prints the
// ingest rate, commit → status page on node C (p50/p99), and checks that
// every site's log is at central exactly once: nothing lost, nothing
// doubled.

func runLoadCentral(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load central", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "PostgreSQL database (postgres://…): the load runs in a new schema of it, dropped at the end")
	sites := fs.Int("sites", 10, "simulated sites, each a real appliance in this process")
	rate := fs.Float64("rate", 2, "tickets a second each site's kiosk issues (a busy day, sped up)")
	duration := fs.Duration("duration", 40*time.Second, "how long the sites issue, call and finish")
	killAfter := fs.Duration("kill-after", 15*time.Second, "when node A is killed with SIGKILL (0: not at all)")
	service := fs.Duration("service", 1500*time.Millisecond, "mean time a counter serves a ticket (uniform from a third to five thirds of it)")
	data := fs.String("data", "./var/loadcentral", "directory for the sites' files and the nodes' logs (emptied first)")
	keep := fs.Bool("keep", false, "keep the database schema afterwards (its name is printed)")
	nodeBin := fs.String("bin", "", "the veedel that runs the three nodes (default: this one)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: veedel load central -db postgres://… [flags]

Starts three central nodes (this veedel) on a new schema of the PostgreSQL
database, joined with serf, and -sites appliances in this process whose
kiosks and counters run a busy day for -duration: half send to node A,
half to node B, and a status page of every called ticket is opened on
node C. Node A is killed with SIGKILL after -kill-after. Prints the
ingest rate, commit → status page p50/p99 and checks that no entry is
lost or doubled at central.

`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !postgres.IsURL(*db) {
		return usageErrorf("load central: -db must be a PostgreSQL URL (postgres://…)")
	}
	if *sites < 2 || *rate <= 0 || *duration <= 0 || *killAfter < 0 || *killAfter >= *duration || *service <= 0 {
		return usageErrorf("load central: -sites at least 2, -rate, -duration and -service positive, -kill-after within -duration")
	}
	bin := *nodeBin
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		bin = exe
	}
	if err := os.RemoveAll(*data); err != nil {
		return err
	}
	if err := os.MkdirAll(*data, 0o750); err != nil {
		return err
	}
	dir, err := filepath.Abs(*data)
	if err != nil {
		return err
	}

	schemaURL, drop, err := loadSchema(ctx, *db)
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintf(stdout, "database: %s (kept)\n", postgres.Redact(schemaURL))
	} else {
		defer drop()
	}
	store, err := postgres.Open(ctx, schemaURL)
	if err != nil {
		return err
	}
	defer store.Close()

	// Three nodes on the database, joined with serf.
	keyBytes := make([]byte, 32)
	rand.Read(keyBytes)
	serfKey := base64.StdEncoding.EncodeToString(keyBytes)
	var nodes []*centralProcess
	defer func() {
		for _, n := range nodes {
			n.kill()
		}
	}()
	for i, name := range []string{"a", "b", "c"} {
		args := []string{"-db", schemaURL, "-serf-bind", "127.0.0.1:0", "-serf-key", serfKey}
		if i > 0 {
			var join []string
			for _, n := range nodes {
				join = append(join, n.Gossip)
			}
			args = append(args, "-join", strings.Join(join, ","))
		}
		n, err := spawnCentral(bin, filepath.Join(dir, "central-"+name+".log"), args...)
		if err != nil {
			return fmt.Errorf("load central: node %s: %w", name, err)
		}
		nodes = append(nodes, n)
	}
	a, b, c := nodes[0], nodes[1], nodes[2]
	fmt.Fprintf(stdout, "veedel load central: nodes A %s, B %s, C %s on %s\n", a.URL, b.URL, c.URL, postgres.Redact(*db))

	// The sites: real appliances, enrolled with tokens made here.
	logFile, err := os.Create(filepath.Join(dir, "sites.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	logger := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelWarn}))
	runCtx, stopSites := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSites()
	var running sync.WaitGroup
	defer running.Wait()
	var sims []*loadSite
	for i := range *sites {
		site := fmt.Sprintf("last-%02d", i+1)
		seed := appliance.Catalog["kalk"]
		seed.Site.ID, seed.Site.Name = site, fmt.Sprintf("Lastsite %02d", i+1)
		seedFile := filepath.Join(dir, site+".json")
		raw, _ := json.Marshal(seed)
		if err := os.WriteFile(seedFile, raw, 0o640); err != nil {
			return err
		}
		now := time.Now()
		token, err := store.CreateEnrollmentToken(ctx, site, now, now.Add(time.Hour))
		if err != nil {
			return err
		}
		first, second := a, b
		if i%2 == 1 {
			first, second = b, a
		}
		n, err := openAppliance(ctx, applianceConfig{Site: site, DB: filepath.Join(dir, site+".db"), Listen: "127.0.0.1:0",
			CentralURL: first.URL + "," + second.URL + "," + c.URL, PortalURL: c.URL, EnrollToken: token, SeedFile: seedFile, Logger: logger})
		if err != nil {
			return fmt.Errorf("load central: site %s: %w", site, err)
		}
		running.Go(func() { n.Run(runCtx) })
		s := &loadSite{node: n, id: site, onA: first == a}
		for _, ctr := range seed.Counters {
			s.counters = append(s.counters, ctr.ID)
		}
		for _, svc := range seed.Services {
			s.services = append(s.services, svc.ID)
		}
		sims = append(sims, s)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	if err := waitFor(ctx, 60*time.Second, "every site enrolled and its seed at central", func() bool {
		for _, s := range sims {
			if s.node.Uplink.Status().Acked == 0 || s.node.Uplink.Status().Acked != s.node.Store.LastSeq() {
				return false
			}
		}
		return true
	}); err != nil {
		return err
	}

	// The busy day.
	l := &centralLoad{client: client, statusNode: c.URL, service: *service}
	before, err := storedEntries(ctx, schemaURL)
	if err != nil {
		return err
	}
	start := time.Now()
	loadCtx, stopLoad := context.WithTimeout(ctx, *duration)
	defer stopLoad()
	var workers sync.WaitGroup
	for _, s := range sims {
		workers.Go(func() { l.kiosk(loadCtx, s, *rate) })
		for _, ctr := range s.counters {
			workers.Go(func() { l.counter(loadCtx, s, ctr) })
		}
	}
	var killedAt time.Time
	var resumed time.Duration
	if *killAfter > 0 {
		select {
		case <-time.After(*killAfter):
		case <-loadCtx.Done():
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		ackedAt := map[*loadSite]uint64{}
		for _, s := range sims {
			if s.onA {
				ackedAt[s] = s.node.Uplink.Status().Acked
			}
		}
		a.kill()
		killedAt = time.Now()
		fmt.Fprintf(stdout, "node A killed with SIGKILL after %s\n", killedAt.Sub(start).Round(time.Millisecond))
		// The sites that sent to A resume against B: how long until each
		// has an entry acked again.
		err := waitFor(ctx, 60*time.Second, "the sites of node A acked again", func() bool {
			for s, at := range ackedAt {
				if s.node.Uplink.Status().Acked <= at {
					return false
				}
			}
			return true
		})
		if err != nil {
			return err
		}
		resumed = time.Since(killedAt)
	}
	workers.Wait()
	took := time.Since(start)
	after, err := storedEntries(ctx, schemaURL)
	if err != nil {
		return err
	}
	l.probes.Wait()

	// Every site's log at central, exactly once.
	if err := waitFor(ctx, 60*time.Second, "every site's log acked", func() bool {
		for _, s := range sims {
			if h := s.node.Uplink.Status(); h.Acked != s.node.Store.LastSeq() {
				return false
			}
		}
		return true
	}); err != nil {
		return err
	}
	var problems []string
	var entries uint64
	for _, s := range sims {
		entries += s.node.Store.LastSeq()
		problems = append(problems, sameLog(ctx, s, store)...)
		for _, n := range []*centralProcess{b, c} {
			if err := waitFor(ctx, 10*time.Second, "", func() bool {
				st, ok := nodeSite(client, n.URL, s.id)
				return ok && st.Acked == s.node.Store.LastSeq()
			}); err != nil {
				st, _ := nodeSite(client, n.URL, s.id)
				problems = append(problems, fmt.Sprintf("%s: node %s's read model acked %d, the site is at %d", s.id, n.URL, st.Acked, s.node.Store.LastSeq()))
			}
		}
	}
	stopSites()
	running.Wait()
	total, err := storedEntries(ctx, schemaURL)
	if err != nil {
		return err
	}

	issued, called := l.issued.Load(), l.called.Load()
	fmt.Fprintf(stdout, "\n%d sites (%d on node A, the rest on B), %.1f tickets/s each, %d counters each, %s:\n", len(sims), (len(sims)+1)/2, *rate, len(sims[0].counters), took.Round(time.Millisecond))
	fmt.Fprintf(stdout, "  tickets issued %d, called %d, finished %d; commands failed %d\n", issued, called, l.finished.Load(), l.failed.Load())
	fmt.Fprintf(stdout, "  ingest: %d entries stored at central, %.1f entries/s\n", after-before, float64(after-before)/took.Seconds())
	lat := l.latencies()
	if len(lat) > 0 {
		fmt.Fprintf(stdout, "  commit at the site (sent to A or B) → status page on node C: p50 %s, p99 %s, max %s (%d calls, %d not seen within 10 s)\n",
			quantile(lat, 0.50), quantile(lat, 0.99), lat[len(lat)-1].Round(time.Millisecond), len(lat), l.missed.Load())
	}
	if !killedAt.IsZero() {
		fmt.Fprintf(stdout, "  node A killed during the load: its sites acked again at node B after %s\n", resumed.Round(time.Millisecond))
	}
	fmt.Fprintf(stdout, "  central has %d entries of the sites' %d: ", total, entries)
	if len(problems) == 0 {
		fmt.Fprintln(stdout, "none lost, none doubled, every read model of B and C up to date")
	} else {
		fmt.Fprintf(stdout, "%d problems\n", len(problems))
		for _, p := range problems {
			fmt.Fprintln(stdout, "   ", p)
		}
	}
	if avg, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Fprintf(stdout, "machine: %d CPUs, load average %s (the nodes, the sites, PostgreSQL and whatever else runs share them)\n", runtime.NumCPU(), strings.Join(strings.Fields(string(avg))[:3], " "))
	}
	if len(problems) > 0 {
		return fmt.Errorf("load central: %d problems", len(problems))
	}
	if l.missed.Load() > 0 {
		return fmt.Errorf("load central: %d calls not on node C's status page within 10 s", l.missed.Load())
	}
	return nil
}

// loadSchema creates a new schema in the database at db and returns a URL
// whose connections use it, and a function that drops it.
func loadSchema(ctx context.Context, db string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		return "", nil, fmt.Errorf("load central: connect to %s: %w", postgres.Redact(db), err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("veedel_load_%d", time.Now().Unix())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("load central: create schema: %w", err)
	}
	u, err := url.Parse(db)
	if err != nil {
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func() {
		ctx := context.Background()
		if conn, err := pgx.Connect(ctx, db); err == nil {
			conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			conn.Close(ctx)
		}
	}
	return u.String(), drop, nil
}

// storedEntries counts the entries central has stored.
func storedEntries(ctx context.Context, db string) (int64, error) {
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var n int64
	err = conn.QueryRow(ctx, `SELECT count(*) FROM site_log`).Scan(&n)
	return n, err
}

// sameLog compares the site's own log with what central stored of it:
// the same entries, seq by seq and hash by hash.
func sameLog(ctx context.Context, s *loadSite, store *postgres.Store) []string {
	var problems []string
	var atCentral []changelog.Entry
	if err := store.Scan(ctx, s.id, 0, func(e changelog.Entry) error { atCentral = append(atCentral, e); return nil }); err != nil {
		return []string{fmt.Sprintf("%s: read central's copy: %v", s.id, err)}
	}
	var own []changelog.Entry
	for after := uint64(0); ; {
		page, err := s.node.Store.EntriesAfter(ctx, after, 1000, 1<<22)
		if err != nil {
			return []string{fmt.Sprintf("%s: read the site's log: %v", s.id, err)}
		}
		if len(page) == 0 {
			break
		}
		own = append(own, page...)
		after = page[len(page)-1].Seq
	}
	if len(atCentral) != len(own) {
		problems = append(problems, fmt.Sprintf("%s: central stores %d entries, the site has %d", s.id, len(atCentral), len(own)))
	}
	for i := range min(len(own), len(atCentral)) {
		if atCentral[i].Seq != own[i].Seq || !bytes.Equal(atCentral[i].Hash, own[i].Hash) {
			problems = append(problems, fmt.Sprintf("%s: central's entry %d (seq %d) is not the site's seq %d", s.id, i, atCentral[i].Seq, own[i].Seq))
			break
		}
	}
	return problems
}

// nodeSiteState is a site as a node's GET /api/v1/sites lists it.
type nodeSiteState struct {
	ID      string `json:"id"`
	Waiting int    `json:"waiting"`
	Acked   uint64 `json:"acked_seq"`
}

// nodeSite asks the central node at base for site's summary.
func nodeSite(client *http.Client, base, site string) (nodeSiteState, bool) {
	resp, err := client.Get(base + "/api/v1/sites")
	if err != nil {
		return nodeSiteState{}, false
	}
	defer resp.Body.Close()
	var sites []nodeSiteState
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&sites) != nil {
		return nodeSiteState{}, false
	}
	for _, s := range sites {
		if s.ID == site {
			return s, true
		}
	}
	return nodeSiteState{}, false
}

// waitFor polls ok every 50 ms until it holds or within has passed.
func waitFor(ctx context.Context, within time.Duration, what string, ok func() bool) error {
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			return fmt.Errorf("load central: not within %s: %s", within, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// loadSite is one simulated site: its appliance and what it offers.
type loadSite struct {
	node     *applianceNode
	id       string
	onA      bool // sends to node A first (else B)
	counters []string
	services []string
}

// centralLoad runs the sites' kiosks and counters and measures commit →
// status page on the status node.
type centralLoad struct {
	client     *http.Client
	statusNode string
	service    time.Duration

	issued, called, finished, failed, missed atomic.Int64
	probes                                   sync.WaitGroup
	mu                                       sync.Mutex
	lat                                      []time.Duration
}

// kiosk issues tickets at rate a second, at random intervals (Poisson).
func (l *centralLoad) kiosk(ctx context.Context, s *loadSite, rate float64) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(mathrand.ExpFloat64() / rate * float64(time.Second))):
		}
		svc := s.services[mathrand.IntN(len(s.services))]
		_, err := s.node.Store.Execute(ctx, func(st *queue.State, at time.Time) ([]queue.Event, error) {
			e, err := st.IssueTicket(at, svc, rand.Text(), "kiosk")
			return []queue.Event{e}, err
		})
		if err != nil {
			if ctx.Err() == nil {
				l.failed.Add(1)
			}
			continue
		}
		l.issued.Add(1)
	}
}

// counter calls the next ticket, serves it and finishes it, again and
// again; each call's status page is opened on the status node.
func (l *centralLoad) counter(ctx context.Context, s *loadSite, counter string) {
	for ctx.Err() == nil {
		var token string
		_, err := s.node.Store.Execute(ctx, func(st *queue.State, at time.Time) ([]queue.Event, error) {
			events, err := openAndCall(st, at, counter, "last")
			for _, e := range events {
				if p, ok := e.Payload.(*queue.TicketCalled); ok {
					token = st.Tickets[p.ID].Token
				}
			}
			return events, err
		})
		committed := time.Now()
		if veedel.ErrorCode(err) == veedel.ECONFLICT {
			sleepCtx(ctx, 200*time.Millisecond) // nobody waiting
			continue
		}
		if err != nil {
			if ctx.Err() == nil {
				l.failed.Add(1)
			}
			continue
		}
		l.called.Add(1)
		if token != "" {
			l.probes.Go(func() { l.probe(token, committed) })
		}
		sleepCtx(ctx, time.Duration((1.0/3+mathrand.Float64()*4/3)*float64(l.service)))
		if _, err := s.node.Store.Execute(context.WithoutCancel(ctx), func(st *queue.State, at time.Time) ([]queue.Event, error) {
			e, err := st.Finish(at, counter)
			return []queue.Event{e}, err
		}); err != nil {
			l.failed.Add(1)
			continue
		}
		l.finished.Add(1)
	}
}

// openAndCall opens the counter for staff if it is closed and calls the
// next ticket there.
func openAndCall(st *queue.State, at time.Time, counter, staff string) ([]queue.Event, error) {
	var events []queue.Event
	if c := st.Counters[counter]; c == nil || !c.Open {
		e, err := st.OpenCounter(at, counter, staff)
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	called, err := st.CallNext(at, counter, staff)
	return append(events, called...), err
}

// probe opens the ticket's status page's event stream on the status node
// (what the page's live.js follows) and records when it first reports the
// ticket past waiting: an upper bound of commit → status page, as it
// includes opening the stream.
func (l *centralLoad) probe(token string, committed time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seen, err := l.firstBeyondWaiting(ctx, l.statusNode+"/t/"+token+"/events")
	if err != nil {
		l.missed.Add(1)
		return
	}
	l.mu.Lock()
	l.lat = append(l.lat, seen.Sub(committed))
	l.mu.Unlock()
}

func (l *centralLoad) firstBeyondWaiting(ctx context.Context, streamURL string) (time.Time, error) {
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, streamURL, nil)
		resp, err := l.client.Do(req)
		if err != nil {
			return time.Time{}, err
		}
		if resp.StatusCode == http.StatusNotFound {
			// Node C has not folded the ticket's issue yet.
			resp.Body.Close()
			sleepCtx(ctx, 20*time.Millisecond)
			continue
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return time.Time{}, fmt.Errorf("GET %s: %s", streamURL, resp.Status)
		}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var st struct{ Status string }
			if json.Unmarshal([]byte(data), &st) == nil && st.Status != "" && st.Status != queue.StatusWaiting {
				resp.Body.Close()
				return time.Now(), nil
			}
		}
		resp.Body.Close()
	}
	return time.Time{}, errors.New("status page: not called in time")
}

// latencies returns the recorded commit → status page times, sorted.
func (l *centralLoad) latencies() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.lat)
	slices.Sort(out)
	return out
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))].Round(time.Millisecond)
}
