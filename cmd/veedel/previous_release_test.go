package main

import (
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPreviousReleaseOnMigratedStore is the schema's N-1 promise across
// a rollback: the previous release (built from git at the commit before
// the newest appliance migration was added) makes a site's store and
// issues tickets; this release opens it, migrates it and issues more; then
// the previous release, as after a rollback, opens the migrated store,
// sees every ticket and issues one more; and this release, once more,
// finds all of them. Set VEEDEL_N1_TEST=1 (it builds an older tree: a
// minute or two); VEEDEL_N1_COMMIT picks another previous release.
func TestPreviousReleaseOnMigratedStore(t *testing.T) {
	if os.Getenv("VEEDEL_N1_TEST") == "" {
		t.Skip("set VEEDEL_N1_TEST=1 to build the previous release from git and run it on a migrated store")
	}
	newBin := buildVeedel(t)
	oldBin := buildPrevious(t)

	dir := t.TempDir()
	listen := freeAddr(t)
	url := "http://" + listen
	run := func(bin, what string, n int) {
		t.Helper()
		p := startApplianceProcess(t, bin, dir, listen, "", "", n)
		p.cmd.Args = slicesDelete(p.cmd.Args, "-central")
		h := waitHealthy(t, p, url)
		before := h.LastSeq
		for i := range n {
			if code := issueTicket(t, url, fmt.Sprintf("%s-%d", what, i)); code != http.StatusCreated {
				t.Fatalf("%s: issuing a ticket: %d; log:\n%s", what, code, p.tail())
			}
		}
		var after health
		getJSON(url+"/healthz", &after)
		if after.LastSeq < before+uint64(n) {
			t.Errorf("%s: last seq %d → %d after %d tickets", what, before, after.LastSeq, n)
		}
		var q struct {
			Waiting int `json:"waiting"`
		}
		getJSON(url+"/api/v1/queue", &q)
		t.Logf("%s: last seq %d → %d, %d waiting", what, before, after.LastSeq, q.Waiting)
		p.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- p.cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: exit: %v; log:\n%s", what, err, p.tail())
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: did not stop", what)
		}
		waiting[what] = q.Waiting
	}
	waiting = map[string]int{}
	schema := func() int {
		db, err := sql.Open("sqlite", filepath.Join(dir, "kalk.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var v int
		if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	run(oldBin, "previous release, new store", 3)
	previous := schema()
	run(newBin, "this release, migrating", 2)
	if migrated := schema(); migrated <= previous {
		t.Fatalf("schema %d after this release, %d before: nothing was migrated, the test shows nothing (VEEDEL_N1_COMMIT?)", migrated, previous)
	} else {
		t.Logf("schema %d → %d", previous, migrated)
	}
	run(oldBin, "previous release after the rollback", 1)
	run(newBin, "this release again", 1)
	if got := waiting["this release again"]; got != 7 {
		t.Errorf("%d tickets waiting at the end, want all 7 issued by either release (%v)", got, waiting)
	}
}

var waiting map[string]int

func slicesDelete(args []string, flag string) []string {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return append(args[:i:i], args[i+2:]...)
		}
	}
	return args
}

// issueTicket issues a walk-in ticket as a kiosk without pairing would.
func issueTicket(t *testing.T, url, key string) int {
	req, _ := http.NewRequest(http.MethodPost, url+"/api/v1/tickets", strings.NewReader(`{"service":"meldung"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// buildPrevious builds veedel at VEEDEL_N1_COMMIT, or else at the commit
// before the newest appliance migration was added.
func buildPrevious(t *testing.T) string {
	t.Helper()
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	repo := strings.TrimSpace(string(root))
	commit := os.Getenv("VEEDEL_N1_COMMIT")
	if commit == "" {
		names, _ := filepath.Glob(filepath.Join(repo, "appliance", "sqlite", "migrations", "*.sql"))
		newest := names[len(names)-1]
		out, err := exec.Command("git", "-C", repo, "log", "-1", "--format=%H", "--diff-filter=A", "--", newest).Output()
		if err != nil || len(out) == 0 {
			t.Fatalf("git log of %s: %v", newest, err)
		}
		commit = strings.TrimSpace(string(out)) + "^"
		t.Logf("previous release: %s (before %s)", commit, filepath.Base(newest))
	}
	src := t.TempDir()
	archive := exec.Command("bash", "-c", fmt.Sprintf("git -C %q archive %q | tar -x -C %q", repo, commit, src))
	if out, err := archive.CombinedOutput(); err != nil {
		t.Fatalf("git archive %s: %v\n%s", commit, err, out)
	}
	bin := filepath.Join(t.TempDir(), "veedel-previous")
	start := time.Now()
	build := exec.Command("go", "build", "-o", bin, "./cmd/veedel")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the previous release: %v\n%s", err, out)
	}
	t.Logf("built the previous release in %v", time.Since(start).Round(time.Second))
	return bin
}
