package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
)

// TestKillNineRightAfterAnswers: with group commit, no client is answered
// before its ticket is durable. Sixteen kiosks issue as fast as they can
// (so commands share commits); the moment the n-th answer arrives the
// appliance is killed with SIGKILL, before anything else can happen. Every
// ticket a client was answered for must be in the file afterwards (and
// the file's chain intact: Open verifies it). Three rounds, each restart
// on the same file.
func TestKillNineRightAfterAnswers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the veedel binary; skipped with -short")
	}
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(seed, 15))
	defer func() {
		if t.Failed() {
			t.Logf("seed %d", seed)
		}
	}()
	bin := buildVeedel(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "kalk.db")
	store, err := sqlite.Open(context.Background(), db, "kalk", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	kiosk := pairTestKiosk(t, store)
	store.Close()
	listen := freeAddr(t)
	url := "http://" + listen

	var answered []string // tokens of 201s, over all rounds
	for round := range 3 {
		p := startApplianceProcess(t, bin, dir, listen, "http://127.0.0.1:1", "", round)
		waitHealthy(t, p, url)
		var mu sync.Mutex
		killAt := len(answered) + 50 + r.IntN(300)
		killed := false
		var wg sync.WaitGroup
		for w := range 16 {
			wg.Go(func() {
				client := &http.Client{Timeout: 5 * time.Second}
				for n := 0; ; n++ {
					req, _ := http.NewRequest(http.MethodPost, url+"/api/v1/tickets", strings.NewReader(`{"service":"meldung"}`))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+kiosk)
					req.Header.Set("Idempotency-Key", fmt.Sprintf("r%d-w%d-%d", round, w, n))
					resp, err := client.Do(req)
					if err != nil {
						return // killed
					}
					var tk struct{ Token string }
					ok := resp.StatusCode == http.StatusCreated && json.NewDecoder(resp.Body).Decode(&tk) == nil && tk.Token != ""
					resp.Body.Close()
					mu.Lock()
					if ok && !killed {
						answered = append(answered, tk.Token)
						if len(answered) >= killAt {
							// Right after this answer: nothing more is
							// written after it that could make it durable.
							p.cmd.Process.Kill()
							killed = true
						}
					}
					stop := killed
					mu.Unlock()
					if stop {
						return
					}
				}
			})
		}
		wg.Wait()
		p.cmd.Wait()

		store, err := sqlite.Open(context.Background(), db, "kalk", sqlite.Options{})
		if err != nil {
			t.Fatalf("round %d: the file after kill -9: %v", round+1, err)
		}
		missing := 0
		var inLog int
		store.View(func(st *queue.State) {
			for _, token := range answered {
				if st.TicketByToken(token) == nil {
					missing++
				}
			}
			inLog = len(st.Tickets)
		})
		store.Close()
		t.Logf("round %d: killed right after answer %d; %d tickets in the file", round+1, len(answered), inLog)
		if missing > 0 {
			t.Fatalf("round %d: %d of %d answered tickets are not in the file", round+1, missing, len(answered))
		}
	}
}
