package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/plates"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/central"
)

// startPlateCentral starts central with small plate blocks, so that a test
// sees them refilled.
func startPlateCentral(t testing.TB, dir string, pc plateConfig) (*centralNode, runningNode) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n, err := openCentral(context.Background(), centralConfig{DB: filepath.Join(dir, "central.db"), Listener: l, Logger: testLogger(t), Plates: pc})
	if err != nil {
		t.Fatal(err)
	}
	return n, serveInBackground(t, n.URL, n.Run)
}

// plateCall sends a JSON request and decodes the answer into a map.
func plateCall(t testing.TB, method, url, body, user, password string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: %d, not JSON: %s", method, url, resp.StatusCode, b)
	}
	return resp.StatusCode, out
}

// The plates from end to end over real HTTP and sync: central grants the
// registration site a block once it has connected and refills it at the
// low-water mark; the desk assigns walk-ins only from its blocks, never a
// plate reserved meanwhile; of concurrent reservations of one plate one
// wins; the reserved plate is assigned with its token, after which central
// forgets the holder's name; a cancelled registration's plate is free
// again at central.
func TestPlatesEndToEnd(t *testing.T) {
	dir := t.TempDir()
	c, centralRun := startPlateCentral(t, dir, plateConfig{BlockSize: 10, LowWater: 3, Every: 100 * time.Millisecond})
	site, _ := startAppliance(t, applianceConfig{Site: "zulassung", DB: filepath.Join(dir, "zulassung.db"), CentralURL: centralRun.URL,
		Heartbeat: 100 * time.Millisecond, Users: []userSpec{{Name: "lead", Password: "geheim-123", Role: sqlite.RoleLead}}})
	siteURL, cURL := site.URL, c.URL

	// Central's answers before anything is assigned.
	for _, tc := range []struct {
		path   string
		status int
		want   string // in the error, or the canonical plate
	}{
		{"K-AB%20123", 200, "K-AB 123"},
		{"k%20ab123", 200, "K-AB 123"},
		{"B-AB%201", 400, "beginnen mit K"},
		{"K-ABC%201", 400, "1–2 Buchstaben"},
		{"K-AB%2001", 400, "ohne führende Null"},
		{"K-SS%2012", 400, "nicht vergeben"},
	} {
		status, body := plateCall(t, "GET", cURL+"/api/v1/plates/"+tc.path, "", "", "")
		got := fmt.Sprint(body["plate"], body["error"])
		if status != tc.status || !strings.Contains(got, tc.want) {
			t.Errorf("GET %s: %d %v, want %d with %q", tc.path, status, body, tc.status, tc.want)
		}
		if status == 400 && body["fields"].(map[string]any)["plate"] == nil {
			t.Errorf("GET %s: the error names no field: %v", tc.path, body)
		}
	}

	// The site connects and gets its first block.
	eventually(t, 15*time.Second, "the site has a block", func() (bool, string) {
		status, body := plateCall(t, "GET", siteURL+"/api/v1/plates", "", "lead", "geheim-123")
		return status == 200 && body["left"].(float64) > 0, fmt.Sprint(status, body)
	})
	if status, body := plateCall(t, "GET", cURL+"/api/v1/plates/K-A%201", "", "", ""); status != 200 || body["available"] != false {
		t.Errorf("K-A 1 (in the site's block): %d %v, want unavailable", status, body)
	}
	if status, body := plateCall(t, "POST", cURL+"/api/v1/plates/reservations", `{"plate":"K-A 1","name":"Erika Muster","email":"erika@example.de"}`, "", ""); status != 409 {
		t.Errorf("reserving K-A 1 (in a block): %d %v, want 409", status, body)
	}

	// Eight citizens reserve K-A 25 at once: one wins.
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	bodies := make([]map[string]any, 8)
	for i := range 8 {
		wg.Go(func() {
			statuses[i], bodies[i] = plateCall(t, "POST", cURL+"/api/v1/plates/reservations",
				fmt.Sprintf(`{"plate":"K-A 25","name":"Person %d","email":"p%d@example.de"}`, i, i), "", "")
		})
	}
	wg.Wait()
	var token string
	for i, s := range statuses {
		switch {
		case s == 201 && token != "":
			t.Errorf("two reservations of K-A 25 won")
		case s == 201:
			token = bodies[i]["token"].(string)
			exp, _ := time.Parse(time.RFC3339Nano, bodies[i]["expires_at"].(string))
			if d := time.Until(exp); d < 89*24*time.Hour || d > 91*24*time.Hour || bodies[i]["fee_cents"] != float64(plates.FeeCents) || bodies[i]["plate"] != "K-A 25" {
				t.Errorf("reservation %v: want K-A 25, 90 days, the fee", bodies[i])
			}
		case s != 409:
			t.Errorf("reservation %d: %d %v, want 201 or 409", i, s, bodies[i])
		}
	}
	if token == "" {
		t.Fatalf("no reservation of K-A 25 won: %v %v", statuses, bodies)
	}
	if status, body := plateCall(t, "GET", cURL+"/api/v1/plates/K-A%2025", "", "", ""); status != 200 || body["available"] != false {
		t.Errorf("K-A 25 reserved: %d %v, want unavailable", status, body)
	}

	// 40 walk-ins: every plate from the site's blocks, none twice, never
	// K-A 25; blocks refilled as they run low (a 503 means the next one is
	// on its way: the desk tries again).
	seen := map[string]bool{}
	start := time.Now()
	waits := 0
	for len(seen) < 40 {
		status, body := plateCall(t, "POST", siteURL+"/api/v1/plates/assign", `{"ref":"walk-in"}`, "lead", "geheim-123")
		if status == 503 {
			waits++
			time.Sleep(50 * time.Millisecond)
			if time.Since(start) > 20*time.Second {
				t.Fatalf("no block refill within 20 s: %v", body)
			}
			continue
		}
		p, _ := body["plate"].(string)
		if status != 201 || seen[p] || p == "K-A 25" || !strings.HasPrefix(p, "K-A ") {
			t.Fatalf("walk-in %d: %d %v (a plate given out twice, the reserved one, or not of a block)", len(seen)+1, status, body)
		}
		seen[p] = true
	}
	t.Logf("40 walk-in plates in %v, %d waits for a refill", time.Since(start).Round(time.Millisecond), waits)

	// The reservation arrived at the site: the citizen gets K-A 25.
	eventually(t, 10*time.Second, "the reserved plate is assigned", func() (bool, string) {
		status, body := plateCall(t, "POST", siteURL+"/api/v1/plates/assign", `{"reservation_token":"`+token+`"}`, "lead", "geheim-123")
		return status == 201 && body["plate"] == "K-A 25" && body["reserved"] == true, fmt.Sprint(status, body)
	})
	if status, body := plateCall(t, "POST", siteURL+"/api/v1/plates/assign", `{"reservation_token":"`+token+`"}`, "lead", "geheim-123"); status != 409 {
		t.Errorf("the reservation used twice: %d %v, want 409", status, body)
	}
	ps := c.store.(central.PlateStore)
	eventually(t, 10*time.Second, "central knows the assignment and forgot the holder", func() (bool, string) {
		st := c.Central.Plates().Status("K-A 25")
		rows, err := ps.PlateReservations(context.Background())
		return st.State == plates.StateAssigned && st.Site == "zulassung" && err == nil && len(rows) == 0, fmt.Sprint(st, rows, err)
	})

	// A cancelled registration gives K-A 1 back: free at central again.
	if status, body := plateCall(t, "POST", siteURL+"/api/v1/plates/return", `{"plate":"K-A 1"}`, "lead", "geheim-123"); status != 200 {
		t.Fatalf("return: %d %v", status, body)
	}
	eventually(t, 10*time.Second, "K-A 1 is free at central", func() (bool, string) {
		_, body := plateCall(t, "GET", cURL+"/api/v1/plates/K-A%201", "", "", "")
		return body["available"] == true, fmt.Sprint(body)
	})
	// Staff only.
	if status, _ := plateCall(t, "POST", siteURL+"/api/v1/plates/assign", `{}`, "", ""); status != 401 {
		t.Errorf("assign without a login: %d, want 401", status)
	}
}
