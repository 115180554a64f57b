package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing/fstest"
	"text/tabwriter"
	"time"

	"github.com/veedel/veedel/internal/sqlitedb"
)

// veedel load: a bounded load generator against a running site. It fills
// the queue to -waiting tickets, measures the raw single-row commit rate
// of SQLite (synchronous=FULL) in the site's data directory, then runs one
// kiosk alone and after it -kiosks kiosks, -counters counters calling and
// finishing and -readers readers of the queue together, and prints
// throughput and p50/p99 per operation for both.

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "central" {
		return runLoadCentral(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	site := fs.String("url", "http://127.0.0.1:8081", "the site to load (the demo's Kalk by default)")
	user := fs.String("user", "demo", "staff login the load issues and calls with (HTTP Basic)")
	password := fs.String("password", "demo", "its password")
	data := fs.String("data", "./var/demo", "directory the site's SQLite file is in: the raw commit rate is measured there, on the same disk")
	kiosks := fs.Int("kiosks", 16, "concurrent kiosks issuing tickets")
	counters := fs.Int("counters", 4, "concurrent counters calling and finishing (at most the site's counters)")
	readers := fs.Int("readers", 4, "concurrent readers: of tickets' status, every tenth request the whole queue")
	duration := fs.Duration("duration", 15*time.Second, "how long the concurrent phase runs")
	single := fs.Duration("single", 5*time.Second, "how long one kiosk issues alone first (the baseline)")
	waiting := fs.Int("waiting", 1000, "tickets waiting before the load starts (issued first, not timed)")
	readEvery := fs.Duration("read-every", 50*time.Millisecond, "each reader's pace: one request per this long, as a display or status page polls (0: as fast as it can)")
	steady := fs.Bool("steady", true, "keep the queue about -waiting long: while it is longer, after each ticket a kiosk's citizen gives up an earlier one of that kiosk (cancel)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: veedel load [flags]

Loads a running site (make run, or make load, which starts its own demo):
fills its queue to -waiting tickets, measures SQLite's raw single-row
commit rate (synchronous=FULL) in -data, the physical limit of one
durable commit after the other, then runs one kiosk alone for -single and
then -kiosks kiosks, -counters counters and -readers readers together for
-duration. Prints throughput and p50/p99 per operation and how the
concurrent run compares with the single kiosk.

`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *kiosks < 1 || *counters < 0 || *readers < 0 || *duration <= 0 || *single <= 0 || *waiting < 0 {
		return usageErrorf("load: -kiosks must be at least 1, -counters, -readers and -waiting not negative, -duration and -single positive")
	}
	l := &loader{base: strings.TrimSuffix(*site, "/"), user: *user, password: *password,
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *kiosks + *counters + *readers + 8}}}
	if err := l.setup(ctx, *counters); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "veedel load: %s, services %s, counters %s\n", l.base, strings.Join(l.services, " "), strings.Join(l.counters, " "))

	// The queue first: what a busy morning has waiting.
	n, err := l.fill(ctx, *waiting)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "queue: %d waiting (%d issued to fill it)\n", l.waitingNow(ctx), n)

	raw, err := rawCommitRate(ctx, *data, 2*time.Second)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "raw SQLite commits (one row each, synchronous=FULL, in %s): %.0f/s\n\n", *data, raw)

	l.steady, l.readEvery, l.target = *steady, *readEvery, int64(*waiting)
	l.queued.Store(int64(l.waitingNow(ctx)))
	alone := l.run(ctx, *single, 1, 0, 0)
	fmt.Fprintf(stdout, "one kiosk alone, %s:\n", *single)
	alone.print(stdout)
	together := l.run(ctx, *duration, *kiosks, min(*counters, len(l.counters)), *readers)
	fmt.Fprintf(stdout, "\n%d kiosks, %d counters, %d readers, %s:\n", *kiosks, min(*counters, len(l.counters)), *readers, *duration)
	together.print(stdout)
	fmt.Fprintf(stdout, "queue: %d waiting at the end\n\n", l.waitingNow(ctx))

	a, t := alone.ops["issue"], together.ops["issue"]
	errs := 0
	for _, o := range together.ops {
		errs += o.errors
	}
	for _, o := range alone.ops {
		errs += o.errors
	}
	fmt.Fprintf(stdout, "issue throughput: %.1f/s together vs %.1f/s alone: %.2f× (bigger is better)\n", t.rate(together.took), a.rate(alone.took), t.rate(together.took)/a.rate(alone.took))
	fmt.Fprintf(stdout, "all commands together: %.1f/s, %.1f %% of the raw commit rate %.0f/s\n", together.commands(), 100*together.commands()/raw, raw)
	fmt.Fprintf(stdout, "issue p99 together ÷ p50 alone: %.1f× (smaller is better)\n", float64(t.quantile(0.99))/float64(a.quantile(0.50)))
	fmt.Fprintf(stdout, "errors: %d\n", errs)
	if avg, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Fprintf(stdout, "machine: %d CPUs, load average %s (what else runs shares them)\n", runtime.NumCPU(), strings.Join(strings.Fields(string(avg))[:3], " "))
	}
	if errs > 0 {
		for _, o := range together.ops {
			if o.firstErr != "" {
				fmt.Fprintf(stdout, "  %s: %s\n", o.name, o.firstErr)
			}
		}
		return fmt.Errorf("load: %d requests failed", errs)
	}
	return nil
}

// loader talks to one site.
type loader struct {
	base, user, password string
	client               *http.Client
	device               string // the paired kiosk's token the kiosks issue with
	steady               bool   // kiosks cancel earlier tickets (-steady)
	readEvery            time.Duration
	target               int64        // -waiting
	queued               atomic.Int64 // waiting tickets, as far as this load changed them
	services             []string     // services some counter serves
	counters             []string
	seq                  atomic.Int64 // idempotency keys
	tokens               struct {
		sync.Mutex
		list []string
	}
}

// call sends a request and decodes a JSON answer into out (may be nil).
// It returns the status code.
func (l *loader) call(ctx context.Context, method, path string, body any, out any, staff bool) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, l.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch {
	case staff:
		req.SetBasicAuth(l.user, l.password)
	case l.device != "" && method == http.MethodPost:
		req.Header.Set("Authorization", "Bearer "+l.device)
	}
	if method == http.MethodPost && path == "/api/v1/tickets" {
		req.Header.Set("Idempotency-Key", "load-"+strconv.FormatInt(time.Now().UnixNano(), 36)+"-"+strconv.FormatInt(l.seq.Add(1), 10))
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		json.Unmarshal(b, &e)
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, e.Error)
	}
	if out != nil {
		return resp.StatusCode, json.Unmarshal(b, out)
	}
	return resp.StatusCode, nil
}

// setup learns the site's counters and the services they serve.
func (l *loader) setup(ctx context.Context, counters int) error {
	var cs []struct {
		ID       string   `json:"id"`
		Services []string `json:"services"`
	}
	if _, err := l.call(ctx, http.MethodGet, "/api/v1/counters", nil, &cs, false); err != nil {
		return fmt.Errorf("load: %s does not answer as a Veedel site (start it with make run): %w", l.base, err)
	}
	served := map[string]bool{}
	for _, c := range cs {
		if len(c.Services) == 0 {
			continue
		}
		l.counters = append(l.counters, c.ID)
		for _, s := range c.Services {
			if !served[s] {
				served[s] = true
				l.services = append(l.services, s)
			}
		}
	}
	if len(l.services) == 0 {
		return fmt.Errorf("load: %s has no counter serving any service", l.base)
	}
	// Check the login once, so that a wrong password is one clear error.
	if _, err := l.call(ctx, http.MethodGet, "/api/v1/queue", nil, nil, true); err != nil {
		return fmt.Errorf("load: staff login %q: %w", l.user, err)
	}
	if counters > 0 && len(l.counters) > counters {
		l.counters = l.counters[:counters]
	}
	return l.pair(ctx)
}

// pair pairs the load's kiosk as staff would (desk login, Desk → Kiosks,
// then the kiosk API's pairing): the kiosks issue with its device token,
// as a kiosk without a browser does. (Staff's HTTP Basic would not do:
// the login throttle counts parallel attempts of one client.)
func (l *loader) pair(ctx context.Context) error {
	jar, _ := cookiejar.New(nil)
	desk := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	post := func(path string, form url.Values) (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.base+path, strings.NewReader(form.Encode()))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := desk.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("POST %s: %d", path, resp.StatusCode)
		}
		return string(b), err
	}
	if _, err := post("/desk/login", url.Values{"user": {l.user}, "password": {l.password}}); err != nil {
		return fmt.Errorf("load: desk login %q: %w", l.user, err)
	}
	page, err := post("/desk/kiosks", url.Values{"name": {"Lastgenerator"}})
	if err != nil {
		return fmt.Errorf("load: pairing code (the login must be a site lead's): %w", err)
	}
	m := regexp.MustCompile(`id="pair-code">([^<]+)<`).FindStringSubmatch(page)
	if m == nil {
		return fmt.Errorf("load: no pairing code on /desk/kiosks (the login must be a site lead's)")
	}
	var paired struct {
		Token string `json:"device_token"`
	}
	if _, err := l.call(ctx, http.MethodPost, "/api/v1/kiosks/pair", map[string]string{"code": strings.TrimSpace(m[1])}, &paired, false); err != nil {
		return fmt.Errorf("load: pairing the kiosk: %w", err)
	}
	l.device = paired.Token
	return nil
}

func (l *loader) waitingNow(ctx context.Context) int {
	var q struct {
		Waiting int `json:"waiting"`
	}
	l.call(ctx, http.MethodGet, "/api/v1/queue", nil, &q, false)
	return q.Waiting
}

// issue issues one ticket and remembers its token for the readers.
func (l *loader) issue(ctx context.Context, service string) (string, error) {
	var t struct {
		Token string `json:"token"`
	}
	if _, err := l.call(ctx, http.MethodPost, "/api/v1/tickets", map[string]string{"service": service}, &t, false); err != nil {
		return "", err
	}
	l.tokens.Lock()
	if len(l.tokens.list) < 4096 {
		l.tokens.list = append(l.tokens.list, t.Token)
	} else {
		l.tokens.list[rand.IntN(len(l.tokens.list))] = t.Token
	}
	l.tokens.Unlock()
	return t.Token, nil
}

// fill issues tickets until want wait, eight at a time.
func (l *loader) fill(ctx context.Context, want int) (int, error) {
	missing := want - l.waitingNow(ctx)
	if missing <= 0 {
		return 0, nil
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range 8 {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(missing); i = next.Add(1) {
				if _, err := l.issue(ctx, l.services[int(i)%len(l.services)]); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return 0, fmt.Errorf("load: filling the queue: %w", first)
	}
	return missing, nil
}

// opStats are one operation's latencies.
type opStats struct {
	name     string
	mu       sync.Mutex
	took     []time.Duration
	errors   int
	firstErr string
}

func (o *opStats) add(d time.Duration, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		o.errors++
		if o.firstErr == "" {
			o.firstErr = err.Error()
		}
		return
	}
	o.took = append(o.took, d)
}

func (o *opStats) rate(over time.Duration) float64 { return float64(len(o.took)) / over.Seconds() }

// quantile of the successful requests' latencies (nearest rank).
func (o *opStats) quantile(q float64) time.Duration {
	if len(o.took) == 0 {
		return 0
	}
	s := slices.Clone(o.took)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// loadRun is one phase's result.
type loadRun struct {
	took time.Duration
	ops  map[string]*opStats
}

// operations in the order they are printed.
var loadOps = []string{"issue", "cancel", "call-next", "finish", "read"}

// commands is the rate of everything that wrote.
func (r *loadRun) commands() float64 {
	n := 0
	for _, name := range []string{"issue", "cancel", "call-next", "finish"} {
		n += len(r.ops[name].took)
	}
	return float64(n) / r.took.Seconds()
}

func (r *loadRun) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tdone\tper s\tp50 ms\tp99 ms\terrors\t")
	for _, name := range loadOps {
		o := r.ops[name]
		if len(o.took) == 0 && o.errors == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t%d\t\n", name, len(o.took), o.rate(r.took),
			ms(o.quantile(0.5)), ms(o.quantile(0.99)), o.errors)
	}
	tw.Flush()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// run runs kiosks, counters and readers for d.
func (l *loader) run(ctx context.Context, d time.Duration, kiosks, counters, readers int) *loadRun {
	r := &loadRun{ops: map[string]*opStats{}}
	for _, name := range loadOps {
		r.ops[name] = &opStats{name: name}
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	timed := func(o *opStats, f func() error) error {
		start := time.Now()
		err := f()
		if ctx.Err() != nil {
			return ctx.Err() // cut off by the end of the phase: not counted
		}
		o.add(time.Since(start), err)
		return err
	}
	start := time.Now()
	var wg sync.WaitGroup
	for k := range kiosks {
		wg.Go(func() {
			var mine []string // this kiosk's tickets, oldest first
			for i := k; ctx.Err() == nil; i++ {
				svc := l.services[i%len(l.services)]
				timed(r.ops["issue"], func() error {
					token, err := l.issue(ctx, svc)
					if err == nil {
						mine = append(mine, token)
						l.queued.Add(1)
					}
					return err
				})
				if !l.steady || len(mine) < 2 || l.queued.Load() <= l.target {
					continue
				}
				token := mine[0]
				mine = mine[1:]
				timed(r.ops["cancel"], func() error {
					code, err := l.call(ctx, http.MethodPost, "/api/v1/tickets/"+token+"/cancel", nil, nil, false)
					if code == http.StatusConflict {
						return nil // called meanwhile: nothing to give up
					}
					if err == nil {
						l.queued.Add(-1)
					}
					return err
				})
			}
		})
	}
	for _, c := range l.counters[:counters] {
		wg.Go(func() {
			// A counter left serving by an earlier run finishes first.
			l.call(ctx, http.MethodPost, "/api/v1/counters/"+c+"/finish", nil, nil, true)
			for ctx.Err() == nil {
				var code int
				err := timed(r.ops["call-next"], func() (err error) {
					code, err = l.call(ctx, http.MethodPost, "/api/v1/counters/"+c+"/call-next", nil, nil, true)
					if code == http.StatusConflict {
						return nil // nobody waiting for this counter: not a failure
					}
					return err
				})
				if err != nil || code == http.StatusConflict {
					sleepCtx(ctx, 20*time.Millisecond)
					continue
				}
				l.queued.Add(-1)
				timed(r.ops["finish"], func() error {
					_, err := l.call(ctx, http.MethodPost, "/api/v1/counters/"+c+"/finish", nil, nil, true)
					return err
				})
			}
		})
	}
	for range readers {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				if i > 0 && l.readEvery > 0 {
					sleepCtx(ctx, l.readEvery)
				}
				timed(r.ops["read"], func() error {
					// Mostly a ticket's status, as citizens' phones poll it;
					// every tenth the whole queue, as the desk or a display.
					if i%10 == 0 {
						_, err := l.call(ctx, http.MethodGet, "/api/v1/queue", nil, nil, false)
						return err
					}
					l.tokens.Lock()
					token := ""
					if len(l.tokens.list) > 0 {
						token = l.tokens.list[rand.IntN(len(l.tokens.list))]
					}
					l.tokens.Unlock()
					if token == "" {
						_, err := l.call(ctx, http.MethodGet, "/api/v1/services", nil, nil, false)
						return err
					}
					_, err := l.call(ctx, http.MethodGet, "/api/v1/tickets/"+token, nil, nil, false)
					return err
				})
			}
		})
	}
	wg.Wait()
	r.took = time.Since(start)
	return r
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// rawCommitRate is how many single-row transactions per second SQLite
// commits with synchronous=FULL in dir, on a table shaped like the
// change-log (primary key, an index): the limit of durable commits one
// after the other, which only sharing commits can pass.
func rawCommitRate(ctx context.Context, dir string, d time.Duration) (float64, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("load: %w", err)
	}
	file := filepath.Join(dir, "load-raw-commits.db")
	defer func() {
		for _, f := range []string{file, file + "-wal", file + "-shm"} {
			os.Remove(f)
		}
	}()
	db, err := sqlitedb.Open(ctx, file, fstest.MapFS{"0001_raw.sql": {Data: []byte(
		`CREATE TABLE raw (seq INTEGER PRIMARY KEY, hlc INTEGER NOT NULL, payload BLOB NOT NULL);
		 CREATE INDEX raw_hlc ON raw (hlc);`)}}, sqlitedb.Options{})
	if err != nil {
		return 0, fmt.Errorf("load: raw commit rate: %w", err)
	}
	defer db.Close()
	payload := bytes.Repeat([]byte{0xa5}, 200) // about a TicketIssued entry
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		n++
		if _, err := db.Write.ExecContext(ctx, `INSERT INTO raw (seq, hlc, payload) VALUES (?, ?, ?)`, n, time.Now().UnixNano(), payload); err != nil {
			return 0, fmt.Errorf("load: raw commit rate: %w", err)
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
