// Command benchtable turns `go test -bench` output on stdin into a table:
// one row per benchmark, one column per unit (ns/op, B/op, and the custom
// metrics benchmarks report, such as ratios measured within one run).
// A benchmark run several times (go test -count=N) is one row whose cells
// are the median and, in brackets, the minimum of its samples; every
// column's header says whether bigger or smaller is better (direction).
// Lines that are not benchmark results pass through to stderr.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

type row struct {
	pkg, name string
	samples   map[string][]float64 // unit -> one value per run
	runs      int
}

func main() {
	if err := run(os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out, passthrough io.Writer) error {
	var rows []*row
	byName := map[string]*row{}
	var units []string
	seen := map[string]bool{}
	pkg := ""
	failed := false
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "pkg: "):
			pkg = strings.TrimPrefix(line, "pkg: ")
		case strings.HasPrefix(line, "Benchmark") && len(fields) >= 4 && len(fields)%2 == 0:
			key := pkg + " " + fields[0]
			r := byName[key]
			if r == nil {
				r = &row{pkg: pkg, name: fields[0], samples: map[string][]float64{}}
				byName[key] = r
				rows = append(rows, r)
			}
			r.runs++
			for i := 2; i+1 < len(fields); i += 2 {
				unit := fields[i+1]
				v, err := strconv.ParseFloat(fields[i], 64)
				if err != nil {
					return fmt.Errorf("%s: %s is no number", fields[0], fields[i])
				}
				r.samples[unit] = append(r.samples[unit], v)
				if !seen[unit] {
					seen[unit] = true
					units = append(units, unit)
				}
			}
		default:
			if strings.HasPrefix(line, "FAIL") || strings.HasPrefix(line, "--- FAIL") {
				failed = true
			}
			fmt.Fprintln(passthrough, line)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "benchmark\truns\t")
	for _, u := range units {
		fmt.Fprintf(tw, "%s %s\t", u, direction(u).arrow)
	}
	fmt.Fprintln(tw)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t", shortPkg(r.pkg)+"."+strings.TrimPrefix(r.name, "Benchmark"), r.runs)
		for _, u := range units {
			fmt.Fprintf(tw, "%s\t", cell(r.samples[u]))
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out, "\n↑ bigger is better, ↓ smaller is better, = a description (neither). With several runs a cell is the median, [the minimum]:")
	fmt.Fprintln(out, "the best of the runs for ↓, the worst for ↑. A -slowdown-x is time ÷ baseline time (1.10: 10 % slower than the baseline).")
	for _, u := range units {
		if d := direction(u); d.arrow == "?" {
			fmt.Fprintf(out, "%s: which way is better is not known to benchtable (name it …/s, …-ns/op, …-ms, …-slowdown-x or …-speedup-x)\n", u)
		}
	}
	if failed {
		return fmt.Errorf("a benchmark failed")
	}
	return nil
}

// cell is one value, or the median [minimum] of several.
func cell(v []float64) string {
	switch len(v) {
	case 0:
		return "-"
	case 1:
		return format(v[0])
	}
	s := slices.Clone(v)
	slices.Sort(s)
	median := s[len(s)/2]
	if len(s)%2 == 0 {
		median = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return format(median) + " [" + format(s[0]) + "]"
}

func format(v float64) string {
	switch a := max(v, -v); {
	case a >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

type dir struct{ arrow string }

var (
	bigger  = dir{"↑"}
	smaller = dir{"↓"}
	neither = dir{"="}
	unknown = dir{"?"}
)

// direction says which way a unit is better, by its name.
func direction(unit string) dir {
	switch {
	case strings.HasSuffix(unit, "speedup-x"), strings.HasSuffix(unit, "/s"):
		return bigger
	case strings.HasSuffix(unit, "slowdown-x"), strings.HasSuffix(unit, "overhead-x"),
		strings.HasSuffix(unit, "/op"), strings.HasSuffix(unit, "-ms"), strings.HasSuffix(unit, "-s"),
		strings.HasSuffix(unit, "B/entry"), strings.Contains(unit, "mae"):
		return smaller
	case unit == "tickets", unit == "commands/commit", strings.HasSuffix(unit, "-share"), strings.HasSuffix(unit, "wait-min"):
		// A count, the share beyond a P90 (right near 0.10, not
		// smallest), a mean wait and how many commands shared a commit
		// describe the run.
		return neither
	}
	return unknown
}

func shortPkg(p string) string { return strings.TrimPrefix(p, "github.com/veedel/veedel/") }
