package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
)

// TestClusterStatus_OneNode: with one node (no serf) GET /api/v1/cluster
// shows that node, alive, and no lag; admins only. The sync page has the
// same section.
func TestClusterStatus_OneNode(t *testing.T) {
	e := newEnv(t)
	e.createAdmin("anna", central.RoleAdmin, "geheim123")
	e.mustPost(opening(t, e.Clock).batch(1, 5))

	resp, _ := e.get("/api/v1/cluster")
	wantStatus(t, "GET anonymous", resp, http.StatusUnauthorized)

	req, _ := http.NewRequest(http.MethodGet, e.URL+"/api/v1/cluster", nil)
	req.SetBasicAuth("anna", "geheim123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	wantStatus(t, "GET", resp, http.StatusOK)
	var v struct {
		Clustered bool `json:"clustered"`
		Self      string
		Nodes     []struct {
			Name, State, Version, HTTP string
			Self                       bool
		}
		Lags []struct {
			Site           string
			Stored, Folded uint64
			Lag            uint64
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(e.URL, "http://")
	if v.Clustered || len(v.Nodes) != 1 || v.Nodes[0].State != "alive" || !v.Nodes[0].Self || v.Nodes[0].HTTP != e.URL ||
		v.Nodes[0].Version != veedel.Version || v.Self != host {
		t.Errorf("cluster = %+v, want this node alone, alive, at %s", v, e.URL)
	}
	if len(v.Lags) != 1 || v.Lags[0].Site != siteID || v.Lags[0].Stored != 5 || v.Lags[0].Folded != 5 || v.Lags[0].Lag != 0 {
		t.Errorf("lags = %+v, want %s stored and folded to 5", v.Lags, siteID)
	}

	a := e.newAdmin()
	a.login("anna", "geheim123")
	resp, body := a.get("/admin/sync")
	wantStatus(t, "GET /admin/sync", resp, http.StatusOK)
	for _, want := range []string{`id="cluster-h"`, "Zentrale Knoten", "Ein Knoten, ohne Cluster.", `data-field="state"`, "erreichbar", "Dieser Knoten ist auf dem Stand der Datenbank."} {
		if !strings.Contains(body, want) {
			t.Errorf("sync page lacks %q", want)
		}
	}
}
