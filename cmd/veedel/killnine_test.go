package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

// buildVeedel builds the veedel binary into a temporary directory (with
// the race detector when the tests have it, so the build reuses their
// cached packages).
func buildVeedel(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binary with")
	}
	bin := filepath.Join(t.TempDir(), "veedel")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	start := time.Now()
	out, err := exec.Command(goBin, append(args, ".")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built %s in %v", bin, time.Since(start).Round(time.Millisecond))
	return bin
}

// applianceProcess is `veedel appliance` running as a child process.
type applianceProcess struct {
	cmd *exec.Cmd
	log string
}

func startApplianceProcess(t *testing.T, bin, dir, listen, centralURL, token string, n int, extra ...string) *applianceProcess {
	t.Helper()
	logFile := filepath.Join(dir, fmt.Sprintf("appliance-%d.log", n))
	f, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(bin, "appliance", "-site", "kalk", "-data", dir, "-listen", listen, "-central", centralURL)
	if token != "" {
		cmd.Args = append(cmd.Args, "-enroll-token", token)
	}
	cmd.Args = append(cmd.Args, extra...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &applianceProcess{cmd: cmd, log: logFile}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return p
}

func (p *applianceProcess) tail() string {
	data, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return strings.Join(lines[max(0, len(lines)-15):], "\n")
}

type health struct {
	LastSeq uint64 `json:"last_seq"`
	Sync    struct {
		Acked     uint64 `json:"acked_seq"`
		LastError string `json:"last_error"`
	} `json:"sync"`
}

func waitHealthy(t *testing.T, p *applianceProcess, url string) health {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var h health
		if code, err := getJSON(url+"/healthz", &h); err == nil && code == http.StatusOK {
			return h
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("appliance not healthy within 30 s; its log:\n%s", p.tail())
	return health{}
}

// TestChaosKillNine kills the appliance process with SIGKILL while clients
// issue tickets as fast as they can, several times at random moments, and
// restarts it on the same data each time. Every ticket a client got a 201
// for must exist exactly once at the site and at central; every request
// carries an Idempotency-Key, and one that got no answer is sent again
// after the restart: it must yield exactly one ticket too. The site's log
// must still be an intact chain (Open verifies it), equal to central's.
//
// It runs once per chaos seed (at most 10), each time killing three times.
func TestChaosKillNine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the veedel binary; skipped with -short")
	}
	seeds := chaosSeeds(t)
	bin := buildVeedel(t)
	for _, seed := range seeds[:min(len(seeds), 10)] {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			defer func() {
				if t.Failed() {
					t.Logf("reproduce: CHAOS_SEED=%d go test -run 'TestChaosKillNine$' -count=1 -v ./cmd/veedel", seed)
				}
			}()
			killNine(t, bin, seed)
		})
	}
}

func killNine(t *testing.T, bin string, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 9))
	dir := t.TempDir()
	cn, cent := startCentral(t, dir, freeAddr(t))
	cfg := applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db")}
	listen := freeAddr(t)
	url := "http://" + listen
	services := []string{"ausweis", "meldung", "bescheinigung", "abholung"}
	serviceOf := func(key string) string { return services[len(key)%len(services)] }

	// The writers are the site's kiosk, paired in its file before the
	// first start: issuing as fast as they can is not limited then.
	kioskStore, err := sqlite.Open(context.Background(), cfg.DB, cfg.Site, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	kiosk := pairTestKiosk(t, kioskStore)
	kioskStore.Close()

	var mu sync.Mutex
	tokens := map[string]string{} // Idempotency-Key -> token of the 201
	unanswered := map[string]bool{}
	issue := func(client *http.Client, key string) (string, int) {
		body := strings.NewReader(fmt.Sprintf(`{"service":%q}`, serviceOf(key)))
		req, _ := http.NewRequest(http.MethodPost, url+"/api/v1/tickets", body)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		req.Header.Set("Authorization", "Bearer "+kiosk)
		resp, err := client.Do(req)
		if err != nil {
			return "", 0
		}
		defer resp.Body.Close()
		var tk struct{ Token string }
		if resp.StatusCode == http.StatusCreated {
			if err := json.NewDecoder(resp.Body).Decode(&tk); err != nil || tk.Token == "" {
				return "", 0 // cut off mid-answer: unknown
			}
		}
		return tk.Token, resp.StatusCode
	}
	record := func(key, token string, status int) {
		mu.Lock()
		defer mu.Unlock()
		if status != http.StatusCreated {
			unanswered[key] = true
			return
		}
		if old, ok := tokens[key]; ok && old != token {
			t.Errorf("key %s: ticket %s… and then %s…", key, old[:6], token[:6])
		}
		tokens[key] = token
		delete(unanswered, key)
	}

	const rounds = 3
	var p *applianceProcess
	for round := range rounds + 1 {
		p = startApplianceProcess(t, bin, dir, listen, cent.URL, enrollmentTokenFor(t, filepath.Join(dir, "central.db"), cfg), round)
		h := waitHealthy(t, p, url)
		if round == rounds {
			break
		}
		ctx, stop := context.WithCancel(context.Background())
		var writers sync.WaitGroup
		for w := range 4 {
			writers.Add(1)
			go func() {
				defer writers.Done()
				client := &http.Client{Timeout: 5 * time.Second}
				for n := 0; ctx.Err() == nil; n++ {
					key := fmt.Sprintf("r%d-w%d-%d", round, w, n)
					token, status := issue(client, key)
					record(key, token, status)
				}
			}()
		}
		killAfter := time.Duration(150+r.IntN(1200)) * time.Millisecond
		time.Sleep(killAfter)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		p.cmd.Wait()
		stop()
		writers.Wait()
		mu.Lock()
		t.Logf("round %d: started at seq %d, killed after %v; %d tickets answered so far, %d requests without answer",
			round+1, h.LastSeq, killAfter, len(tokens), len(unanswered))
		mu.Unlock()
	}

	// Requests without an answer, sent again with their key.
	client := &http.Client{Timeout: 10 * time.Second}
	mu.Lock()
	retry := make([]string, 0, len(unanswered))
	for key := range unanswered {
		retry = append(retry, key)
	}
	mu.Unlock()
	for _, key := range retry {
		token, status := issue(client, key)
		if status != http.StatusCreated {
			t.Fatalf("key %s sent again: status %d; appliance log:\n%s", key, status, p.tail())
		}
		record(key, token, status)
	}

	var h health
	eventually(t, 30*time.Second, "central has the whole log", func() (bool, string) {
		getJSON(url+"/healthz", &h)
		var acked uint64
		cn.Central.ViewSite("kalk", func(_ *queue.State, cur central.SiteCursor) { acked = cur.Acked })
		return h.LastSeq > 0 && h.Sync.Acked == h.LastSeq && acked == h.LastSeq,
			describe("site %d, uplink acked %d, central %d (%s)", h.LastSeq, h.Sync.Acked, acked, h.Sync.LastError)
	})
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("appliance did not stop cleanly: %v\n%s", err, p.tail())
	}

	// Open verifies every entry's hash and the chain.
	store, err := sqlite.Open(context.Background(), cfg.DB, "kalk", sqlite.Options{})
	if err != nil {
		t.Fatalf("the site's log after %d kills: %v", rounds, err)
	}
	defer store.Close()
	issued := make([]string, 0, len(tokens))
	byToken := map[string]string{}
	for key, token := range tokens {
		if other, ok := byToken[token]; ok {
			t.Errorf("keys %s and %s got the same ticket", other, key)
		}
		byToken[token] = key
		issued = append(issued, token)
	}
	for _, p := range checkInvariants(context.Background(), cn, []siteUnderTest{{Site: "kalk", Store: store, Issued: issued}}) {
		t.Error(p)
	}
	tickets := 0
	cn.store.Scan(context.Background(), "kalk", 0, func(e changelog.Entry) error {
		if e.Type == queue.TypeTicketIssued {
			tickets++
		}
		return nil
	})
	if tickets != len(tokens) {
		t.Errorf("the log has %d tickets; %d keys were sent, each must have exactly one", tickets, len(tokens))
	}
	t.Logf("%d kills; %d tickets, %d of them from requests sent again; log of %d entries intact and equal at central",
		rounds, len(tokens), len(retry), h.LastSeq)
}
