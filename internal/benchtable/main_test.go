package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestTable(t *testing.T) {
	in := `goos: linux
pkg: github.com/veedel/veedel/appliance/sqlite
BenchmarkIssue-2   	    2000	    512345 ns/op	  1.21 capture-slowdown-x	    4096 B/op
PASS
`
	var out, pass bytes.Buffer
	if err := run(strings.NewReader(in), &out, &pass); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"appliance/sqlite.Issue-2", "512345", "1.210", "capture-slowdown-x ↓", "ns/op ↓", "B/op"} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
	if !strings.Contains(pass.String(), "goos: linux") {
		t.Errorf("non-benchmark lines not passed through: %q", pass.String())
	}
	if err := run(strings.NewReader("--- FAIL: BenchmarkX\nFAIL\n"), &out, &pass); err == nil {
		t.Error("a failed benchmark run must be an error")
	}
}

// TestSamples: runs of one benchmark (go test -count) are one row with
// the median and the minimum.
func TestSamples(t *testing.T) {
	in := `pkg: github.com/veedel/veedel/central/sqlite
BenchmarkIngest-2   	20000	14781 ns/op	137076 append-rows/s
BenchmarkIngest-2   	20000	15781 ns/op	120000 append-rows/s
BenchmarkIngest-2   	20000	13781 ns/op	150000 append-rows/s
`
	var out, pass bytes.Buffer
	if err := run(strings.NewReader(in), &out, &pass); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if strings.Count(got, "central/sqlite.Ingest-2") != 1 {
		t.Errorf("want one row for three runs:\n%s", got)
	}
	for _, want := range []string{"14781 [13781]", "137076 [120000]", "append-rows/s ↑", "  3  "} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
}

// TestDirections: every unit Veedel's benchmarks report says which way is
// better; a new one that does not is named in the table's legend.
func TestDirections(t *testing.T) {
	for unit, want := range map[string]dir{
		"ns/op": smaller, "B/op": smaller, "allocs/op": smaller,
		"append-rows/s": bigger, "e2e-rows/s": bigger, "raw-rows/s": bigger, "entries/s": bigger,
		"append-slowdown-x": smaller, "e2e-slowdown-x": smaller, "capture-slowdown-x": smaller, "issue-slowdown-x": smaller,
		"issue-ns/op": smaller, "capture-ns/op": smaller, "bare-ns/op": smaller,
		"catchup-s": smaller, "p50-ms": smaller, "p99-ms": smaller, "max-ms": smaller,
		"wire-up-B/entry": smaller, "veedel-mae-min": smaller, "mae-ratio": smaller,
		"tickets": neither, "commands/commit": neither, "tickets/s": bigger, "beyond-p90-share": neither, "heavy-mean-wait-min": neither,
		"wobble": unknown,
	} {
		if got := direction(unit); got != want {
			t.Errorf("direction(%q) = %s, want %s", unit, got.arrow, want.arrow)
		}
	}
	var out, pass bytes.Buffer
	run(strings.NewReader("pkg: x\nBenchmarkX-2 1 5 wobble\n"), &out, &pass)
	if !strings.Contains(out.String(), "wobble: which way is better is not known") {
		t.Errorf("an unknown unit is not named:\n%s", out.String())
	}
}
