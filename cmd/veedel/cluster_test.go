package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central/cluster"
	"github.com/veedel/veedel/central/postgres/pgtest"
)

func startClusterNode(t *testing.T, bin, dir, name string, args ...string) *centralProcess {
	t.Helper()
	p, err := spawnCentral(bin, filepath.Join(dir, "central-"+name+".log"), args...)
	if err != nil {
		t.Fatalf("central %s: %v", name, err)
	}
	t.Cleanup(p.kill)
	return p
}

// clusterOf asks a node for GET /api/v1/cluster as an admin.
func clusterOf(url, user, password string) (map[string]string, error) {
	req, _ := http.NewRequest(http.MethodGet, url+"/api/v1/cluster", nil)
	req.SetBasicAuth(user, password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var v struct {
		Clustered bool `json:"clustered"`
		Nodes     []struct {
			Name, State, HTTP, Version string
		} `json:"nodes"`
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /api/v1/cluster: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return nil, err
	}
	states := map[string]string{}
	for _, n := range v.Nodes {
		states[n.HTTP] = n.State
	}
	return states, nil
}

// ticketStream follows a ticket's status page's event stream (what the
// open page's live.js follows) and sends every status it reports.
func ticketStream(t *testing.T, ctx context.Context, url string) <-chan string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	out := make(chan string, 16)
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var st struct{ Status string }
			if json.Unmarshal([]byte(data), &st) == nil && st.Status != "" {
				select {
				case out <- st.Status:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

// awaitStatus waits for status on the stream and returns how long it took.
func awaitStatus(t *testing.T, ch <-chan string, status string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	timeout := time.After(within)
	for {
		select {
		case s := <-ch:
			if s == status {
				return time.Since(start)
			}
		case <-timeout:
			t.Fatalf("no %q on the status page's stream within %v", status, within)
		}
	}
}

// TestCentralCluster: three `veedel central` processes on one PostgreSQL
// database, joined with serf, and an appliance given two of them. The
// appliance uploads to node A; a citizen's status page open on node C
// follows within a second (serf's fan-out), and on a fourth node without
// serf within the catch-up interval. Node A is killed with SIGKILL while
// the appliance uploads batch after batch: the appliance resumes against
// node B, and no entry is lost or stored twice (the fault suite's
// invariants, checked on a node that loads everything from the database).
func TestCentralCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the veedel binary; skipped with -short")
	}
	db := pgtest.URL(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mustRun := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := run(ctx, append(args, "-db", db), &stdout, &stderr); code != 0 {
			t.Fatalf("veedel %s: exit %d, %s", strings.Join(args, " "), code, stderr.String())
		}
		return stdout.String()
	}
	token := strings.TrimSpace(mustRun("central", "enroll", "-site", "kalk"))
	t.Setenv("VEEDEL_PASSWORD", "Domplatte am Rhein")
	mustRun("central", "adduser", "-name", "anna", "-role", "admin")

	bin := buildVeedel(t)
	dir := t.TempDir()
	key := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" // 32 bytes
	a := startClusterNode(t, bin, dir, "a", "-db", db, "-serf-bind", "127.0.0.1:0", "-serf-key", key)
	b := startClusterNode(t, bin, dir, "b", "-db", db, "-serf-bind", "127.0.0.1:0", "-join", a.Gossip, "-serf-key", key)
	c := startClusterNode(t, bin, dir, "c", "-db", db, "-serf-bind", "127.0.0.1:0", "-join", a.Gossip+","+b.Gossip, "-serf-key", key)
	d := startClusterNode(t, bin, dir, "d", "-db", db) // on the database, without serf
	eventually(t, 20*time.Second, "three alive nodes, as node C sees them", func() (bool, string) {
		states, err := clusterOf(c.URL, "anna", "Domplatte am Rhein")
		return err == nil && len(states) == 3 && states[a.URL] == "alive" && states[b.URL] == "alive" && states[c.URL] == "alive",
			describe("%v %v", states, err)
	})

	app, appNode := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"),
		CentralURL: a.URL + "," + b.URL, PortalURL: a.URL, Heartbeat: time.Second, EnrollToken: token, BatchEntries: 5})
	defer appNode.stop()
	issued := issueTickets(t, app.URL, 3, "meldung")
	for _, n := range []*centralProcess{c, d} {
		eventually(t, 20*time.Second, "the tickets at node "+n.URL, func() (bool, string) {
			_, acked, _ := siteSummary(n.URL, "kalk")
			return acked == app.Store.LastSeq(), describe("acked %d of %d", acked, app.Store.LastSeq())
		})
	}

	// The citizen of the first ticket watches its page on node C (and on
	// node D); the site calls the ticket.
	callFirst := func(counter string) {
		t.Helper()
		if _, err := app.Store.Execute(ctx, func(st *queue.State, at time.Time) ([]queue.Event, error) {
			return openAndCall(st, at, counter, "demo")
		}); err != nil {
			t.Fatal(err)
		}
	}
	onC := ticketStream(t, ctx, c.URL+"/t/"+issued[0]+"/events")
	onD := ticketStream(t, ctx, d.URL+"/t/"+issued[0]+"/events")
	awaitStatus(t, onC, queue.StatusWaiting, 5*time.Second)
	awaitStatus(t, onD, queue.StatusWaiting, 5*time.Second)
	callFirst("1")
	start := time.Now()
	took := awaitStatus(t, onC, queue.StatusCalled, 3*time.Second)
	t.Logf("called at the site: on node C's status page after %v", took.Round(time.Millisecond))
	if took > time.Second {
		t.Errorf("node C's status page followed after %v, want within 1 s (serf's fan-out)", took)
	}
	tookD := awaitStatus(t, onD, queue.StatusCalled, 2*cluster.CatchUpEvery+2*time.Second-time.Since(start))
	tookD += took
	t.Logf("on node D (no serf, catch-up every %v) after %v", cluster.CatchUpEvery, tookD.Round(time.Millisecond))
	if tookD > cluster.CatchUpEvery+1500*time.Millisecond {
		t.Errorf("node D's status page followed after %v, want within the catch-up interval %v", tookD, cluster.CatchUpEvery)
	}

	// Batch after batch (5 entries each) while node A is killed.
	var mu sync.Mutex
	var issuing atomic.Bool
	issuing.Store(true)
	var wg sync.WaitGroup
	wg.Go(func() {
		for issuing.Load() {
			tks := issueTickets(t, app.URL, 1, "meldung")
			mu.Lock()
			issued = append(issued, tks...)
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	})
	eventually(t, 20*time.Second, "node A takes batches under load", func() (bool, string) {
		_, acked, _ := siteSummary(a.URL, "kalk")
		return acked > 40, describe("acked %d", acked)
	})
	a.kill()
	t.Log("node A killed with SIGKILL")
	time.Sleep(time.Second)
	issuing.Store(false)
	wg.Wait()
	issued = append(issued, issueTickets(t, app.URL, 2, "meldung")...)
	eventually(t, 30*time.Second, "the appliance resumed against node B", func() (bool, string) {
		_, acked, _ := siteSummary(b.URL, "kalk")
		h := app.Uplink.Status()
		return acked == app.Store.LastSeq() && h.Acked == acked, describe("B acked %d, site at %d, uplink acked %d", acked, app.Store.LastSeq(), h.Acked)
	})
	for _, n := range []*centralProcess{b, c, d} {
		eventually(t, 10*time.Second, "node "+n.URL+" has it all", func() (bool, string) {
			_, acked, _ := siteSummary(n.URL, "kalk")
			return acked == app.Store.LastSeq(), describe("acked %d of %d", acked, app.Store.LastSeq())
		})
	}
	eventually(t, 20*time.Second, "node A failed, as node B sees it", func() (bool, string) {
		states, err := clusterOf(b.URL, "anna", "Domplatte am Rhein")
		return err == nil && (states[a.URL] == "failed" || states[a.URL] == "suspect"), describe("%v %v", states, err)
	})

	// Zero lost, zero doubled: the fault suite's invariants on a node
	// that loads everything from the database now.
	cn, err := openCentral(ctx, centralConfig{DB: db, Listen: "127.0.0.1:0", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer cn.store.Close()
	defer cn.listener.Close()
	if problems := checkInvariants(ctx, cn, []siteUnderTest{{Site: "kalk", Store: app.Store, Issued: issued}}); len(problems) > 0 {
		t.Errorf("after node A was killed mid-upload:\n%s", strings.Join(problems, "\n"))
	}
	t.Logf("%d tickets, %d entries, none lost or doubled", len(issued), app.Store.LastSeq())
	for _, tk := range issued[len(issued)-2:] {
		if code, err := getJSON(c.URL+"/api/v1/tickets/"+tk, &struct{}{}); code != http.StatusOK {
			t.Errorf("node C does not know a ticket issued after the kill: %d %v", code, err)
		}
	}

	// Down the other way: a citizen cancels on node C while the site's
	// download poll waits at node B; the poll wakes (serf's fan-out), the
	// site decides, and C's page shows it.
	cancelled := issued[len(issued)-1]
	onC = ticketStream(t, ctx, c.URL+"/t/"+cancelled+"/events")
	awaitStatus(t, onC, queue.StatusWaiting, 5*time.Second)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	sent := time.Now()
	resp, err := noRedirect.Post(c.URL+"/t/"+cancelled+"/cancel", "application/x-www-form-urlencoded", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST cancel on node C = %d, want 303", resp.StatusCode)
	}
	eventually(t, 3*time.Second, "the site has the cancellation", func() (bool, string) {
		var status string
		app.Store.View(func(st *queue.State) {
			if tk := st.TicketByToken(cancelled); tk != nil {
				status = tk.Status
			}
		})
		return status == queue.StatusCancelled, status
	})
	atSite := time.Since(sent)
	awaitStatus(t, onC, queue.StatusCancelled, 3*time.Second)
	t.Logf("cancelled on node C: at the site (polling node B) after %v, back on C's page after %v",
		atSite.Round(time.Millisecond), time.Since(sent).Round(time.Millisecond))
	if atSite > time.Second {
		t.Errorf("the cancellation reached the site after %v, want within 1 s (the poll at node B woken by node C)", atSite)
	}

	// An SMS sign-up on node C reaches the site polling node B, and C
	// learns that the site confirmed it.
	smsToken := issued[len(issued)-2]
	status, loc, _ := smsPost(t, c.URL, smsToken, smsTyped, true)
	if status != http.StatusSeeOther {
		t.Fatalf("SMS sign-up on node C = %d, want 303", status)
	}
	eventually(t, 5*time.Second, "node C's page says the SMS is set up", func() (bool, string) {
		body := getPage(t, c.URL+loc)
		return strings.Contains(body, "SMS-Benachrichtigung ist eingerichtet"), "not yet"
	})
	var ticketID string
	app.Store.View(func(st *queue.State) { ticketID = st.TicketByToken(smsToken).ID })
	if signed, err := app.Store.SMSSignedUp(ctx, ticketID); err != nil || !signed {
		t.Errorf("the site has no SMS sign-up for the ticket: %v", err)
	}
}
