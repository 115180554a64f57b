package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/veedel/veedel/sync/retry"
)

// The plates in the fault suite: each site's desk assigns walk-in plates
// (and now and then a reserved one) through the API while the schedule
// partitions, restarts and skews; citizens reserve Wunschkennzeichen at
// central at the same time, many of them near the plates the blocks are
// being cut from. checkPlates (plates_invariant_test.go) then finds no
// plate issued twice.

// chaosPlates is one site's desk record, guarded by its site's mu.
type chaosPlates struct {
	told     []string // plates answered with 201
	tokens   []string // reservation tokens for this site, not yet used
	reserved int      // reserved plates assigned
	waits    int      // 503: the blocks ran dry (offline from central)
	failed   int
}

func (p *chaosPlates) summary() string {
	return fmt.Sprintf("plates: %d assigned (%d reserved), %d waits for a block, %d failed", len(p.told), p.reserved, p.waits, p.failed)
}

// plateClient waits for the appliance's answer however slow it is under
// the faults (a restart cuts the connection at once): an assignment
// always commits, so the desk must not give up on one that is still
// under way, or it would commit after the run went quiet.
var plateClient = &http.Client{Timeout: 2 * time.Minute}

func plateRequest(url string, body any, header map[string]string) (int, []byte) {
	data, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return 0, nil
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := plateClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// plateDesk assigns plates at s every 20–80 ms.
func (c *chaosRun) plateDesk(ctx context.Context, s *chaosSite, r *rand.Rand) {
	auth := map[string]string{"Authorization": "Basic " + basicAuth("clerk", "clerk-pass")}
	for retry.Sleep(ctx, time.Duration(20+r.IntN(60))*time.Millisecond) {
		body := map[string]string{"ref": fmt.Sprintf("chaos-%x", r.Uint32())}
		s.mu.Lock()
		if n := len(s.plates.tokens); n > 0 && r.IntN(3) == 0 {
			body["reservation_token"] = s.plates.tokens[n-1]
			s.plates.tokens = s.plates.tokens[:n-1]
		}
		s.mu.Unlock()
		status, b := plateRequest(s.url+"/api/v1/plates/assign", body, auth)
		s.mu.Lock()
		switch status {
		case http.StatusCreated:
			var a struct {
				Plate    string
				Reserved bool
			}
			if json.Unmarshal(b, &a) != nil || a.Plate == "" {
				c.problem("%s: plate 201 without a plate: %s", s.cfg.Site, b)
			}
			s.plates.told = append(s.plates.told, a.Plate)
			if a.Reserved {
				s.plates.reserved++
			}
		case http.StatusServiceUnavailable:
			s.plates.waits++
		case http.StatusNotFound:
			// The reservation has not reached the site yet: keep it.
			if tok := body["reservation_token"]; tok != "" {
				s.plates.tokens = append([]string{tok}, s.plates.tokens...)
			}
		case 0, http.StatusTooManyRequests, 499, http.StatusInternalServerError:
			// The appliance restarting (499, or 500 "database is closed":
			// stopping under the request) or the answer lost; or the staff login throttled (as the
			// clerk's), e.g. while the appliance resets its users at start.
			s.plates.failed++
		default:
			c.problem("%s: plate assignment %v: %d %s", s.cfg.Site, body, status, b)
		}
		s.mu.Unlock()
	}
}

// reservePlates reserves a Wunschkennzeichen at central every 30–120 ms
// for one of the sites: K-A 1 … K-A 400, where the blocks are cut. A 409
// (taken) is the common answer; central being down is tolerated.
func (c *chaosRun) reservePlates(ctx context.Context, r *rand.Rand) {
	url := "http://" + c.centralAddr + "/api/v1/plates/reservations"
	for retry.Sleep(ctx, time.Duration(30+r.IntN(90))*time.Millisecond) {
		s := c.sites[r.IntN(len(c.sites))]
		plate := fmt.Sprintf("K-A %d", 1+r.IntN(400))
		status, _, b := request(url, map[string]string{"plate": plate, "name": "Chaos", "email": "chaos@example.de", "site": s.cfg.Site}, nil)
		switch status {
		case http.StatusCreated:
			var res struct{ Token, Plate string }
			if json.Unmarshal(b, &res) != nil || res.Token == "" || res.Plate != plate {
				c.problem("reservation of %s: 201 %s", plate, b)
				continue
			}
			s.mu.Lock()
			s.plates.tokens = append(s.plates.tokens, res.Token)
			s.mu.Unlock()
		case http.StatusConflict:
		case 0, 499, http.StatusInternalServerError, http.StatusServiceUnavailable:
			// Central stopping or restarting under the request.
		default:
			c.problem("reservation of %s: %d %s", plate, status, b)
		}
	}
}
