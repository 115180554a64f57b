// Command benchtable turns `go test -bench` output on stdin into a table:
// one row per benchmark, one column per unit (ns/op, B/op, and the custom
// metrics benchmarks report, such as ratios measured within one run).
// Lines that are not benchmark results pass through to stderr.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

type row struct {
	pkg, name string
	values    map[string]string
}

func main() {
	if err := run(os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out, passthrough io.Writer) error {
	var rows []row
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
			r := row{pkg: pkg, name: fields[0], values: map[string]string{}}
			for i := 2; i+1 < len(fields); i += 2 {
				unit := fields[i+1]
				r.values[unit] = fields[i]
				if !seen[unit] {
					seen[unit] = true
					units = append(units, unit)
				}
			}
			rows = append(rows, r)
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
	fmt.Fprint(tw, "benchmark\t")
	for _, u := range units {
		fmt.Fprintf(tw, "%s\t", u)
	}
	fmt.Fprintln(tw)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t", shortPkg(r.pkg)+"."+strings.TrimPrefix(r.name, "Benchmark"))
		for _, u := range units {
			v := r.values[u]
			if v == "" {
				v = "-"
			}
			fmt.Fprintf(tw, "%s\t", v)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if failed {
		return fmt.Errorf("a benchmark failed")
	}
	return nil
}

func shortPkg(p string) string { return strings.TrimPrefix(p, "github.com/veedel/veedel/") }
