package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/provision"
	"github.com/veedel/veedel/update/agent"
)

// unit is a systemd unit file's settings: "Section.Key" → values in order.
type unit map[string][]string

func readUnit(t *testing.T, name string) unit {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "images", "rootfs", "etc", "systemd", "system", name))
	if err != nil {
		t.Fatal(err)
	}
	u := unit{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: %q is no setting", name, line)
			}
			u[section+"."+k] = append(u[section+"."+k], v)
		}
	}
	return u
}

func (u unit) one(key string) string {
	if v := u[key]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

var envRef = regexp.MustCompile(`\$\{([A-Z_]+)\}|\$([A-Z_]+)`)

// expand does what systemd does to ExecStart with an EnvironmentFile:
// ${VAR} is one word, $VAR is split into words (none when empty).
func expand(line string, env map[string]string) []string {
	var out []string
	for _, w := range strings.Fields(line) {
		if m := envRef.FindStringSubmatch(w); m != nil && m[0] == w && m[2] != "" {
			out = append(out, strings.Fields(env[m[2]])...)
			continue
		}
		out = append(out, envRef.ReplaceAllStringFunc(w, func(ref string) string {
			m := envRef.FindStringSubmatch(ref)
			return env[m[1]+m[2]]
		}))
	}
	return out
}

// The image's units start veedel with flags it knows, filled from the
// environment that veedel provision writes (provision.Configure, the real
// one): a renamed flag or a variable the provisioning does not write
// breaks this test, not a box at a site. The update agent runs as root
// with the city's release keys from the image, after the appliance; the
// health check defers to the agent's proof; customize.sh and the reused
// build both enable the agent.
func TestImageUnits(t *testing.T) {
	runDir := t.TempDir()
	rec := &provision.Record{Site: "kalk", CentralURL: "http://10.0.2.2:8080", CentralCA: "-----BEGIN CERTIFICATE-----", UpdateSwitchAnytime: true, UpdatePoll: provision.Duration(10 * time.Second)}
	if err := provision.Configure(rec, t.TempDir(), runDir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(runDir, "veedel", "appliance.env"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		env[k] = v
	}
	flagsOf := map[string]string{} // command → its -help text
	for _, name := range []string{"veedel.service", "veedel-provision.service", "veedel-health.service", "veedel-update.service"} {
		u := readUnit(t, name)
		if ef := u.one("Service.EnvironmentFile"); ef != "" && strings.TrimPrefix(ef, "-") != "/run/veedel/appliance.env" {
			t.Errorf("%s: EnvironmentFile=%s", name, ef)
		}
		args := expand(u.one("Service.ExecStart"), env)
		if len(args) < 2 || args[0] != "/usr/bin/veedel" {
			t.Fatalf("%s: ExecStart %q", name, args)
		}
		cmd := args[1]
		if _, ok := flagsOf[cmd]; !ok {
			var stdout, stderr bytes.Buffer
			run(context.Background(), []string{cmd, "-help"}, &stdout, &stderr)
			flagsOf[cmd] = stderr.String() + stdout.String()
		}
		for _, a := range args[2:] {
			if !strings.HasPrefix(a, "-") {
				continue
			}
			f, _, _ := strings.Cut(strings.TrimPrefix(a, "-"), "=")
			if !strings.Contains(flagsOf[cmd], "\n  -"+f+" ") && !strings.Contains(flagsOf[cmd], "\n  -"+f+"\n") {
				t.Errorf("%s: veedel %s has no flag -%s", name, cmd, f)
			}
		}
		for _, a := range args {
			if a == "" {
				t.Errorf("%s: an empty argument in %q (a variable the provisioning does not write?)", name, args)
			}
		}
	}

	up := readUnit(t, "veedel-update.service")
	args := strings.Join(expand(up.one("Service.ExecStart"), env), " ")
	for _, want := range []string{"update-agent -site kalk -central http://10.0.2.2:8080 ", "-release-keys /etc/veedel/release-keys", "-prove-within 5m0s", "-switch-anytime -poll=10s"} {
		if !strings.Contains(args, want) {
			t.Errorf("veedel-update.service runs %q, lacks %q", args, want)
		}
	}
	if up.one("Service.User") != "" {
		t.Errorf("veedel-update.service runs as %s: it must be root (slots, ESP)", up.one("Service.User"))
	}
	if !strings.Contains(up.one("Unit.After"), "veedel.service") || up.one("Unit.ConditionDirectoryNotEmpty") != "/etc/veedel/release-keys" || up.one("Install.WantedBy") != "multi-user.target" {
		t.Errorf("veedel-update.service's order, condition or install: %v", up)
	}
	h := readUnit(t, "veedel-health.service")
	if !strings.Contains(h.one("Service.ExecStart"), "-update-dir /var/lib/veedel/update") || h.one("Unit.Before") != "boot-complete.target" || h.one("Install.RequiredBy") != "boot-complete.target" {
		t.Errorf("veedel-health.service must hold boot-complete.target (and so systemd-bless-boot) until the agent's proof: %v", h)
	}
	for _, f := range []string{"customize.sh", "build.sh"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "images", f))
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`systemctl enable[^\n]*veedel-update\.service`).Match(b) {
			t.Errorf("images/%s does not enable veedel-update.service", f)
		}
	}
}

// The health check's decision at boot, from the update agent's state: no
// update pending (a first boot from flashing) → /healthz decides; this
// release switched to and not proved → only the agent's proof passes it,
// a reason recorded by the agent fails it at once, and /healthz alone does
// not; a state for another release (a fallback boot) → /healthz decides.
func TestHealthDefersToTheUpdateAgentsProof(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	dir := t.TempDir()
	put := func(st agent.State) {
		b, _ := json.Marshal(st)
		if err := os.WriteFile(filepath.Join(dir, "state.json"), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	health := func(timeout string) (int, string) {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"health", "-url", srv.URL, "-timeout", timeout, "-update-dir", dir}, &stdout, &stderr)
		return code, stdout.String() + stderr.String()
	}
	if code, out := health("5s"); code != 0 || !strings.Contains(out, "200 OK") {
		t.Fatalf("first boot, no update state: exit %d: %s", code, out)
	}
	put(agent.State{State: agent.Switching, Target: "0.9-old", From: veedel.Version})
	if code, out := health("5s"); code != 0 || !strings.Contains(out, "200 OK") {
		t.Fatalf("fallback boot (the state names another release): exit %d: %s", code, out)
	}

	put(agent.State{State: agent.Switching, Target: veedel.Version, From: "0.9-old", Reason: "release x did not prove itself within 5m0s: no sync round"})
	if code, out := health("5s"); code != 1 || !strings.Contains(out, "no sync round") {
		t.Fatalf("proof failed: exit %d: %s", code, out)
	}

	put(agent.State{State: agent.Switching, Target: veedel.Version, From: "0.9-old"})
	done := make(chan struct{})
	var code int
	var out string
	go func() { code, out = health("5s"); close(done) }()
	select {
	case <-done:
		t.Fatalf("the health check passed on /healthz alone while the agent's proof is pending: exit %d: %s", code, out)
	case <-time.After(2500 * time.Millisecond):
	}
	put(agent.State{State: agent.Healthy, Target: veedel.Version})
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the health check did not pass after the agent's proof")
	}
	if code != 0 || !strings.Contains(out, "proved") {
		t.Fatalf("after the proof: exit %d: %s", code, out)
	}
}
