package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The README promises commands, flags, files and URLs; these tests catch
// it drifting from the code.

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// helpOf is the -help text of a command line such as "central enroll".
func helpOf(t *testing.T, command string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args := append(strings.Fields(command), "-help")
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("veedel %s -help: exit %d: %s", command, code, stderr.String())
	}
	return stdout.String() + stderr.String()
}

var (
	// "veedel central enroll -site kalk -data DIR", with the subcommand
	// words before the first flag.
	veedelLine = regexp.MustCompile(`veedel ((?:appliance|central|demo|flash|health|load|provision|release|update-agent)(?: [a-z]+)*)((?:[ \t]+[^\s` + "`" + `]+)*)`)
	flagName   = regexp.MustCompile(`(?:^|[\s\[` + "`" + `])(-[a-z][a-z0-9-]*)\b`)
)

// TestReadmeFlags: every flag the README gives a veedel command exists on
// that command, and every other flag it names in backticks exists on some
// command.
func TestReadmeFlags(t *testing.T) {
	text := readme(t)
	// Command lines, joined across shell line continuations.
	joined := strings.ReplaceAll(text, "\\\n", " ")
	helps := map[string]string{}
	checked := 0
	for _, m := range veedelLine.FindAllStringSubmatch(joined, -1) {
		words := strings.Fields(m[1])
		// The subcommand is the longest prefix whose -help works.
		cmd := words[0]
		for i := 1; i < len(words); i++ {
			if candidate := strings.Join(words[:i+1], " "); slices.Contains(knownCommands, candidate) {
				cmd = candidate
			}
		}
		if _, ok := helps[cmd]; !ok {
			helps[cmd] = helpOf(t, cmd)
		}
		rest := strings.SplitN(m[2], "#", 2)[0] // not the shell comment
		for _, f := range flagName.FindAllStringSubmatch(rest, -1) {
			if f[1] == "-help" {
				continue
			}
			checked++
			if !strings.Contains(helps[cmd], "  "+f[1]+" ") && !strings.Contains(helps[cmd], "  "+f[1]+"\t") && !strings.Contains(helps[cmd], "  "+f[1]+"\n") {
				t.Errorf("README: veedel %s %s: no such flag (in: %q)", cmd, f[1], strings.TrimSpace(m[0]))
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d flags found in the README's command lines: the pattern is broken", checked)
	}
	var all strings.Builder
	for _, cmd := range knownCommands {
		all.WriteString(helpOf(t, cmd))
	}
	for _, m := range regexp.MustCompile("`(-[a-z][a-z0-9-]*)[ `]").FindAllStringSubmatch(text, -1) {
		if m[1] != "-help" && !strings.Contains(all.String(), "  "+m[1]) {
			t.Errorf("README names the flag %s, which no veedel command has", m[1])
		}
	}
}

// knownCommands are the command lines with a -help of their own.
var knownCommands = []string{"appliance", "appliance restore", "central", "central enroll", "central revoke", "central adduser", "central company add", "central site add", "central site list", "central site remove", "demo", "exam escrow-keygen", "flash", "health", "load", "load central", "provision", "release keygen", "release sign", "release verify", "update-agent"}

// TestReadmeMakeTargets: every `make X` in the README is a Makefile target.
func TestReadmeMakeTargets(t *testing.T) {
	mk, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, m := range regexp.MustCompile("(?m)(?:^|`)make ([a-z][a-z-]*)").FindAllStringSubmatch(readme(t), -1) {
		found++
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(m[1]) + `:`).Match(mk) {
			t.Errorf("README: make %s: no such target in the Makefile", m[1])
		}
	}
	if found < 3 {
		t.Fatalf("only %d make commands found in the README", found)
	}
}

// TestReadmeLinks: every relative link and every file path in backticks
// that the README and docs/ name exists in the repository.
func TestReadmeLinks(t *testing.T) {
	root := filepath.Join("..", "..")
	docs, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	for _, doc := range append([]string{filepath.Join(root, "README.md")}, docs...) {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`\]\(([^)#:]+)(#[^)]*)?\)`).FindAllStringSubmatch(string(b), -1) {
			target := filepath.Join(filepath.Dir(doc), m[1])
			if _, err := os.Stat(target); err != nil {
				t.Errorf("%s links %s, which does not exist", filepath.Base(doc), m[1])
			}
		}
		if filepath.Base(doc) != "README.md" {
			continue // docs/ARCHITECTURE.md names packages yet to be written, as examples
		}
		for _, m := range regexp.MustCompile("`((?:cmd|appliance|central|sync|hardware|internal|ui|docs|scripts)/[A-Za-z0-9_./-]+)`").FindAllStringSubmatch(string(b), -1) {
			if strings.ContainsAny(m[1], "*…") {
				continue
			}
			if _, err := os.Stat(filepath.Join(root, m[1])); err != nil {
				t.Errorf("%s names %s, which does not exist", filepath.Base(doc), m[1])
			}
		}
	}
}

// TestDemoURLsAnswer runs the demo as `make run` does and asks every URL
// it prints; then Ctrl-C (the context) stops it cleanly.
func TestDemoURLsAnswer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole demo")
	}
	port := demoTestPort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "-port", fmt.Sprint(port), "-data", t.TempDir()}, out, io.Discard)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(out.String(), "Ctrl-C stops it") {
		select {
		case code := <-done:
			t.Fatalf("demo exited with %d before it ran: %s", code, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo did not start: %s", out.String())
		}
	}
	urls := regexp.MustCompile(`https?://[^\s]+`).FindAllString(out.String(), -1)
	var pages []string
	for _, u := range urls {
		if strings.HasPrefix(u, "http://127.0.0.1") {
			pages = append(pages, u)
		}
	}
	if len(pages) < 10 {
		t.Fatalf("the demo printed only %d URLs:\n%s", len(pages), out.String())
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	for _, u := range pages {
		resp, err := client.Get(u)
		if err != nil {
			t.Errorf("GET %s: %v", u, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s (the demo prints it): %s", u, resp.Status)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("demo exited with %d after Ctrl-C, want 0", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop")
	}
	if !strings.Contains(out.String(), "Veedel demo stopped") {
		t.Errorf("demo did not say it stopped:\n%s", out.String())
	}
}

// demoTestPort finds a port P such that P, the sites' ports and their
// printers' ports are free just now.
func demoTestPort(t *testing.T) int {
	t.Helper()
	for range 50 {
		p := 20000 + rand.IntN(30000)
		ports := []int{p}
		for i := range demoSites {
			ports = append(ports, p+1+i, p+demoPrinterPorts+1+i)
		}
		free := true
		for _, q := range ports {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", q))
			if err != nil {
				free = false
				break
			}
			l.Close()
		}
		if free {
			return p
		}
	}
	t.Fatal("no free ports for the demo")
	return 0
}

// TestSecurityTableNamesRealTests: every test docs/SECURITY.md cites as
// evidence exists, so the table cannot point at a test that was renamed
// or removed.
func TestSecurityTableNamesRealTests(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "docs", "SECURITY.md"))
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range regexp.MustCompile(`(?m)^func ((?:Test|Fuzz)\w+)\(`).FindAllSubmatch(b, -1) {
			defined[string(m[1])] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cited := regexp.MustCompile("`((?:Test|Fuzz)[A-Z]\\w*)`").FindAllStringSubmatch(string(doc), -1)
	if len(cited) < 30 {
		t.Fatalf("docs/SECURITY.md cites only %d tests", len(cited))
	}
	for _, m := range cited {
		if !defined[m[1]] {
			t.Errorf("docs/SECURITY.md cites %s, which no test file defines", m[1])
			defined[m[1]] = true // once
		}
	}
}
