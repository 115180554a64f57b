package webtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// AxeVersion is the axe-core release the browser tests run; .ci/run and
// make test install it from npm into AxeDefaultPath.
const AxeVersion = "4.14.1"

// AxeDefaultPath is where axe.min.js lies, relative to the repository root
// (an ignored folder).
const AxeDefaultPath = ".cache/axe/node_modules/axe-core/axe.min.js"

// axeTags are the rules the pages must pass: WCAG 2.0 and 2.1, levels A
// and AA (what BITV 2.0 via EN 301 549 asks of a web page).
const axeRun = `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a","wcag2aa","wcag21a","wcag21aa"]}, resultTypes: ["violations"]}).then(function(r){
return {url: location.pathname + location.search.replace(/([?&])lang=[a-z]+&?/, "$1").replace(/[?&]$/, ""), lang: document.documentElement.lang || "", w: innerWidth, h: innerHeight,
violations: r.violations.map(function(v){return {id: v.id, impact: v.impact || "", help: v.help,
nodes: v.nodes.map(function(n){return n.target.map(function(s){return String(s);}).join(" ");}),
why: v.nodes.length ? (v.nodes[0].failureSummary || "").replace(/\s+/g, " ") : ""};})};})`

type axeResult struct {
	URL        string `json:"url"`
	Lang       string `json:"lang"`
	W          int    `json:"w"`
	H          int    `json:"h"`
	Violations []struct {
		ID     string   `json:"id"`
		Impact string   `json:"impact"`
		Help   string   `json:"help"`
		Nodes  []string `json:"nodes"`
		Why    string   `json:"why"` // the first element's failure summary
	} `json:"violations"`
}

var axe struct {
	once    sync.Once
	script  string
	missing string // why axe is not there, when it is not

	mu     sync.Mutex
	checks int
	states map[string]bool // path · language · viewport
	failed int
}

// underCI reports whether $CI is set (and not "0" or "false").
func underCI() bool {
	ci := os.Getenv("CI")
	return ci != "" && ci != "0" && ci != "false"
}

// repoRoot is the directory of go.mod, from the working directory up
// ("" when there is none).
func repoRoot() string {
	dir, _ := os.Getwd()
	for dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
	return ""
}

// axeScript reads axe.min.js once: from $VEEDEL_AXE, or AxeDefaultPath
// under the repository root (found from the working directory up).
func axeScript() (string, string) {
	axe.once.Do(func() {
		path := os.Getenv("VEEDEL_AXE")
		if path == "" {
			path = filepath.Join(repoRoot(), AxeDefaultPath)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			axe.missing = fmt.Sprintf("axe-core not found at %q (npm install --no-save --prefix .cache/axe axe-core@%s, or set VEEDEL_AXE)", path, AxeVersion)
			if !underCI() {
				fmt.Fprintln(os.Stderr, "webtest: "+axe.missing+"; skipping the axe checks")
			}
			return
		}
		if head := string(b[:min(len(b), 40)]); !strings.Contains(head, "axe v"+AxeVersion+"\n") {
			axe.missing = fmt.Sprintf("%s is not axe-core %s (make axe installs it)", path, AxeVersion)
			if !underCI() {
				fmt.Fprintln(os.Stderr, "webtest: "+axe.missing+"; skipping the axe checks")
			}
			return
		}
		axe.script = string(b)
	})
	return axe.script, axe.missing
}

// AxeInstalled reports whether axe-core was found.
func AxeInstalled() bool {
	script, _ := axeScript()
	return script != ""
}

// Axe runs axe-core on the page the tab shows now (name says which state
// of which test it is) and fails on any WCAG 2.0/2.1 A or AA violation,
// listing each with its rule, impact, the elements and the rule's help.
// Without axe-core it does nothing, unless $CI is set: then it fails.
func Axe(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		script, missing := axeScript()
		if script == "" {
			if underCI() {
				return errors.New(missing)
			}
			return nil
		}
		if _, err := chromedp.Evaluate[chromedp.Void](`if (!window.axe) {`+script+`}`)(ctx, t); err != nil {
			return fmt.Errorf("axe %s: inject axe-core: %w", name, err)
		}
		r, err := chromedp.Evaluate[axeResult](axeRun, chromedp.EvalAwaitPromise)(ctx, t)
		if err != nil {
			return fmt.Errorf("axe %s: %w", name, err)
		}
		axe.mu.Lock()
		axe.checks++
		if axe.states == nil {
			axe.states = map[string]bool{}
		}
		axe.states[fmt.Sprintf("%s · %s · %d×%d", r.URL, r.Lang, r.W, r.H)] = true
		if len(r.Violations) > 0 {
			axe.failed++
		}
		axe.mu.Unlock()
		if len(r.Violations) == 0 {
			return nil
		}
		var b strings.Builder
		fmt.Fprintf(&b, "axe %s (%s, lang %q, %d×%d): %d violation(s):", name, r.URL, r.Lang, r.W, r.H, len(r.Violations))
		for _, v := range r.Violations {
			fmt.Fprintf(&b, "\n  %s [%s] %s: %s\n    (%s)", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, ", "), v.Why)
		}
		return errors.New(b.String())
	})
}

// AxeMain runs the package's tests (a TestMain calls it) and then prints
// how many pages and states axe checked.
func AxeMain(m *testing.M) int {
	code := m.Run()
	axe.mu.Lock()
	defer axe.mu.Unlock()
	if axe.checks > 0 {
		keys := make([]string, 0, len(axe.states))
		for k := range axe.states {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		pkg, _ := os.Getwd()
		if root := repoRoot(); root != "" {
			if rel, err := filepath.Rel(root, pkg); err == nil {
				pkg = "./" + rel
			}
		}
		line := fmt.Sprintf("axe-core %s, %s: %d checks of %d distinct pages (path · language · viewport), %d with violations\n",
			AxeVersion, pkg, axe.checks, len(axe.states), axe.failed)
		fmt.Print(line)
		// go test shows a passing package's output only with -v; make
		// test collects the lines here and prints them at the end.
		if f := os.Getenv("VEEDEL_AXE_SUMMARY"); f != "" {
			if w, err := os.OpenFile(f, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
				w.WriteString(line)
				w.Close()
			}
		}
		if testing.Verbose() {
			for _, k := range keys {
				fmt.Println("  axe checked " + k)
			}
		}
	}
	return code
}
