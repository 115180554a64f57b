package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// centralProcess is `veedel central` running as a child process (the
// cluster tests and veedel load central start three of them).
type centralProcess struct {
	cmd    *exec.Cmd
	log    string
	URL    string
	Gossip string // its serf address ("" without -serf-bind)
}

var (
	listeningRe = regexp.MustCompile(`central listening on (http://\S+)`)
	gossipRe    = regexp.MustCompile(`msg="central node in the cluster" node=\S+ gossip=(\S+)`)
)

// spawnCentral runs bin central -listen 127.0.0.1:0 with args, its
// output in logFile, and waits until it listens (and, with -serf-bind,
// is in its cluster). The caller kills it.
func spawnCentral(bin, logFile string, args ...string) (*centralProcess, error) {
	f, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd := exec.Command(bin, append([]string{"central", "-listen", "127.0.0.1:0"}, args...)...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &centralProcess{cmd: cmd, log: logFile}
	clustered := strings.Contains(strings.Join(args, " "), "-serf-bind")
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		data, _ := os.ReadFile(logFile)
		if m := listeningRe.FindSubmatch(data); m != nil && p.URL == "" {
			p.URL = string(m[1])
		}
		if m := gossipRe.FindSubmatch(data); m != nil {
			p.Gossip = string(m[1])
		}
		if p.URL != "" && (p.Gossip != "" || !clustered) {
			return p, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.kill()
	return nil, fmt.Errorf("central did not start within 30 s; its log (%s) ends:\n%s", logFile, p.tail())
}

// kill ends the process with SIGKILL (a crash, no clean shutdown).
func (p *centralProcess) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
	}
}

func (p *centralProcess) tail() string {
	data, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}
