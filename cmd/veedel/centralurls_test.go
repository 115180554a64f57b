package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseCentralURLs(t *testing.T) {
	got, err := parseCentralURLs("http://10.0.0.1:8080, https://central-2.example ,")
	if err != nil || len(got) != 2 || got[0].Host != "10.0.0.1:8080" || got[1].Scheme != "https" {
		t.Errorf("parseCentralURLs = %v, %v", got, err)
	}
	for _, bad := range []string{"ftp://x", "central.example", "http://a/x,http://b/y", "http://user:pw@a"} {
		if _, err := parseCentralURLs(bad); err == nil || strings.Contains(err.Error(), "pw") {
			t.Errorf("parseCentralURLs(%q) = %v, want a usage error without the password", bad, err)
		}
	}
}

// The failover moves to the next node when one does not answer or
// answers 503, and stays there while it answers.
func TestCentralFailover(t *testing.T) {
	var hits [3]int
	handler := func(i, status int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits[i]++
			if r.URL.Path != "/api/v1/sync/outbound" || r.URL.RawQuery != "site=kalk" {
				t.Errorf("node %d got %s", i, r.URL)
			}
			w.WriteHeader(status)
		})
	}
	down := httptest.NewServer(handler(0, http.StatusOK))
	down.Close() // refuses connections
	busy := httptest.NewServer(handler(1, http.StatusServiceUnavailable))
	defer busy.Close()
	up := httptest.NewServer(handler(2, http.StatusOK))
	defer up.Close()
	nodes, err := parseCentralURLs(down.URL + "," + busy.URL + "," + up.URL)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: newCentralFailover(nil, nodes, testLogger(t))}
	var statuses []int
	for range 4 {
		resp, err := client.Get(down.URL + "/api/v1/sync/outbound?site=kalk")
		if err != nil {
			statuses = append(statuses, 0)
			continue
		}
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	if got := fmt.Sprint(statuses); got != "[0 503 200 200]" {
		t.Errorf("statuses %s, want 0 503 200 200 (down, busy, then the third node, which it keeps)", got)
	}
	if hits != [3]int{0, 1, 2} {
		t.Errorf("hits %v, want [0 1 2]", hits)
	}
}
