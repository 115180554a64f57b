package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestTable(t *testing.T) {
	in := `goos: linux
pkg: github.com/veedel/veedel/appliance/sqlite
BenchmarkIssue-2   	    2000	    512345 ns/op	  1.21 overhead-x	    4096 B/op
PASS
`
	var out, pass bytes.Buffer
	if err := run(strings.NewReader(in), &out, &pass); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"appliance/sqlite.Issue-2", "512345", "1.21", "overhead-x", "B/op"} {
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
