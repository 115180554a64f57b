package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veedel/veedel/central/postgres/pgtest"
)

// TestLoadCentral: veedel load central, short, runs three nodes on
// PostgreSQL with sites sending to them, kills node A midway, and reports
// the figures and that nothing was lost or doubled.
func TestLoadCentral(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the veedel binary; skipped with -short")
	}
	db := pgtest.BaseURL(t)
	bin := buildVeedel(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"load", "central", "-db", db, "-bin", bin, "-sites", "2", "-rate", "4",
		"-duration", "8s", "-kill-after", "3s", "-service", "300ms", "-data", filepath.Join(t.TempDir(), "load")}, &stdout, &stderr)
	t.Log(stdout.String())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"node A killed with SIGKILL", "entries/s", "status page on node C: p50", "none lost, none doubled"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}
