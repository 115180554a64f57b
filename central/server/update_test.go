package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

// The update channel answers only requests signed by the site they name
// (a report from anyone else is refused and not recorded), tells the site
// its release, and serves that release's bundle in ranges.
func TestUpdateChannelSigned(t *testing.T) {
	e := newEnv(t)
	addRelease(t, e.Releases, "2026.12.1")
	if _, err := e.Central.SetRollout(t.Context(), central.RolloutPlan{Version: "2026.12.1", Stage: central.StageAll}); err != nil {
		t.Fatal(err)
	}
	q := url.Values{"site": {siteID}, "version": {"2026.11.0"}, "state": {"idle"}, "disk_free": {"1000"}}
	get := func(path string, sign func(*http.Request), header ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.URL+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		if sign != nil {
			sign(req)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	bySite := func(site string) func(*http.Request) {
		return func(r *http.Request) { changelog.SignRequest(r, site, siteKey(site), e.Clock.Now()) }
	}

	resp := get("/api/v1/sync/update?"+q.Encode(), nil)
	resp.Body.Close()
	wantStatus(t, "unsigned", resp, http.StatusUnauthorized)
	resp = get("/api/v1/sync/update?"+q.Encode(), bySite("intruder"))
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("signed by another site: %s, want 401 or 403", resp.Status)
	}
	if reps, _ := e.Central.UpdateReports(t.Context()); len(reps) != 0 {
		t.Fatalf("a refused poll was recorded: %+v", reps)
	}

	resp = get("/api/v1/sync/update?"+q.Encode(), bySite(siteID))
	var ans struct {
		Version string `json:"version"`
		Size    int64  `json:"size"`
	}
	json.NewDecoder(resp.Body).Decode(&ans)
	resp.Body.Close()
	wantStatus(t, "signed poll", resp, http.StatusOK)
	bundle, _ := os.ReadFile(filepath.Join(e.Releases, "2026.12.1.bundle"))
	if ans.Version != "2026.12.1" || ans.Size != int64(len(bundle)) {
		t.Errorf("answer %+v, want 2026.12.1 of %d bytes", ans, len(bundle))
	}
	if reps, _ := e.Central.UpdateReports(t.Context()); len(reps) != 1 || reps[0].Site != siteID || reps[0].DiskFree != 1000 {
		t.Errorf("reports %+v", reps)
	}

	b := url.Values{"site": {siteID}, "version": {"2026.12.1"}}
	resp = get("/api/v1/sync/update/bundle?"+b.Encode(), bySite(siteID), "Range", "bytes=10-19")
	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantStatus(t, "range", resp, http.StatusPartialContent)
	if string(part) != string(bundle[10:20]) {
		t.Errorf("range 10-19 = %q, want %q", part, bundle[10:20])
	}
	resp = get("/api/v1/sync/update/bundle?"+b.Encode(), nil, "Range", "bytes=10-19")
	resp.Body.Close()
	wantStatus(t, "unsigned bundle", resp, http.StatusUnauthorized)
}
