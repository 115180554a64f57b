package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The site directory on the command line: an unknown site cannot be
// enrolled, and the one line says how to add it; once added, it can.
func TestCommandLine_Site(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	runCmd := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(ctx, append(args, "-data", dir), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	code, _, stderr := runCmd("central", "enroll", "-site", "kfz-poll")
	if code != 2 || !strings.Contains(stderr, `unknown site "kfz-poll"`) ||
		!strings.Contains(stderr, "veedel central site add -id kfz-poll -name NAME") {
		t.Errorf("enroll of an unknown site: exit %d, stderr %q; want 2 and how to add it", code, stderr)
	}
	if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 {
		t.Errorf("enroll of an unknown site: %d lines on stderr, want one: %q", n+1, stderr)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"NoName", []string{"central", "site", "add", "-id", "kfz-poll"}, "-id and -name are required"},
		{"BadID", []string{"central", "site", "add", "-id", "Kfz Poll", "-name", "Poll"}, `site id "Kfz Poll" invalid`},
		{"BadKind", []string{"central", "site", "add", "-id", "kfz-poll", "-name", "Poll", "-kind", "zoo"}, `unknown kind "zoo"`},
		{"BadPage", []string{"central", "site", "add", "-id", "kfz-poll", "-name", "Poll", "-page", "javascript:alert(1)"}, "public page"},
		{"NoCommand", []string{"central", "site"}, "add, list or remove"},
		{"UnknownCommand", []string{"central", "site", "move"}, `unknown command "move"`},
		{"RemoveWithoutID", []string{"central", "site", "remove"}, "-id is required"},
		{"RemoveUnknown", []string{"central", "site", "remove", "-id", "atlantis"}, `unknown site "atlantis"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.want)
			}
		})
	}

	code, stdout, stderr := runCmd("central", "site", "add", "-id", "kfz-poll", "-name", "Kfz-Zulassungsstelle Poll",
		"-kind", "kfz-zulassung", "-page", "/service/adressen/00190/index.html", "-address", "Poller Kirchweg 1, 51105 Köln")
	if code != 0 || !strings.Contains(stdout, "veedel central enroll -site kfz-poll") {
		t.Fatalf("site add: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, _, stderr := runCmd("central", "site", "add", "-id", "kfz-poll", "-name", "Poll"); code != 2 || !strings.Contains(stderr, "exists already") {
		t.Errorf("adding kfz-poll twice: exit %d, stderr %q; want 2, exists already", code, stderr)
	}
	code, stdout, _ = runCmd("central", "site", "list")
	if code != 0 || !strings.Contains(stdout, "kfz-poll") || !strings.Contains(stdout, "kfz-zulassung") ||
		!strings.Contains(stdout, "/service/adressen/00190/index.html") || !strings.Contains(stdout, "Kundenzentrum Kalk") {
		t.Errorf("site list: exit %d, stdout:\n%s\nwant kfz-poll with its kind and page, and the Cologne seed", code, stdout)
	}
	// A seed's site this city does not have goes; a site once enrolled stays.
	if code, stdout, stderr := runCmd("central", "site", "remove", "-id", "rodenkirchen"); code != 0 || !strings.Contains(stdout, "removed site rodenkirchen") {
		t.Errorf("site remove: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, stdout, _ := runCmd("central", "site", "list"); code != 0 || strings.Contains(stdout, "rodenkirchen") {
		t.Errorf("site list after removing rodenkirchen: exit %d, stdout:\n%s", code, stdout)
	}
	code, stdout, stderr = runCmd("central", "enroll", "-site", "kfz-poll")
	if code != 0 || len(strings.TrimSpace(stdout)) < 20 {
		t.Errorf("enroll of the added site: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// veedelProcess is a veedel command running as a child process, its output
// in a log file.
type veedelProcess struct {
	cmd *exec.Cmd
	log string
}

func startVeedel(t *testing.T, bin, logFile string, args ...string) *veedelProcess {
	t.Helper()
	f, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return &veedelProcess{cmd: cmd, log: logFile}
}

func (p *veedelProcess) output() string {
	data, _ := os.ReadFile(p.log)
	return string(data)
}

// runVeedel runs a veedel command to its end and returns its exit code,
// stdout and stderr.
func runVeedel(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), stdout.String(), stderr.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, stdout.String(), stderr.String()
}

// TestSiteOutsideCatalogue: an appliance seeded from a JSON file for a site
// the built-in catalogue does not know (a vehicle registration office) is
// added to central's directory while central runs, enrolls, syncs, and
// shows on the portal and in the open data, named, grouped and linked as
// the directory says. Every node is a separate veedel process.
func TestSiteOutsideCatalogue(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the veedel binary; skipped with -short")
	}
	bin := buildVeedel(t)
	dir := t.TempDir()
	centralDir, siteDir := filepath.Join(dir, "central"), filepath.Join(dir, "kfz-poll")
	centralAddr, siteAddr := freeAddr(t), freeAddr(t)
	centralURL, siteURL := "http://"+centralAddr, "http://"+siteAddr

	cent := startVeedel(t, bin, filepath.Join(dir, "central.log"), "central", "-data", centralDir, "-listen", centralAddr)
	eventually(t, 30*time.Second, "central answers", func() (bool, string) {
		code, err := getJSON(centralURL+"/healthz", &struct{}{})
		return err == nil && code == http.StatusOK, cent.output()
	})

	// Before central is told about the site, it cannot be enrolled.
	code, _, stderr := runVeedel(t, bin, "central", "enroll", "-site", "kfz-poll", "-data", centralDir)
	if code != 2 || !strings.Contains(stderr, "veedel central site add -id kfz-poll") {
		t.Fatalf("enroll before site add: exit %d, stderr %q; want 2 and how to add the site", code, stderr)
	}
	const page = "https://www.stadt-koeln.de/service/adressen/00190/index.html"
	// Central's name for the site differs from the seed's on purpose: the
	// portal and the open data name a site as the directory does.
	if code, stdout, stderr := runVeedel(t, bin, "central", "site", "add", "-id", "kfz-poll", "-name", "Kfz-Zulassungsstelle Köln-Poll",
		"-kind", "kfz-zulassung", "-page", page, "-address", "Poller Kirchweg 1, 51105 Köln", "-data", centralDir); code != 0 {
		t.Fatalf("site add: exit %d: %s%s", code, stdout, stderr)
	}
	code, token, stderr := runVeedel(t, bin, "central", "enroll", "-site", "kfz-poll", "-data", centralDir)
	if code != 0 {
		t.Fatalf("enroll: exit %d: %s", code, stderr)
	}

	seed, err := filepath.Abs(filepath.Join("testdata", "seed-kfz-poll.json"))
	if err != nil {
		t.Fatal(err)
	}
	app := startVeedel(t, bin, filepath.Join(dir, "kfz-poll.log"), "appliance", "-site", "kfz-poll", "-seed", seed,
		"-data", siteDir, "-listen", siteAddr, "-central", centralURL, "-enroll-token", strings.TrimSpace(token))
	eventually(t, 30*time.Second, "the appliance answers", func() (bool, string) {
		code, err := getJSON(siteURL+"/healthz", &struct{}{})
		return err == nil && code == http.StatusOK, app.output()
	})
	tokens := issueTickets(t, siteURL, 3, "neuzulassung")

	eventually(t, 30*time.Second, "central has the site's tickets", func() (bool, string) {
		waiting, acked, ok := siteSummary(centralURL, "kfz-poll")
		return ok && waiting == 3, describe("found %v, waiting %d, acked %d; appliance log:\n%s", ok, waiting, acked, app.output())
	})
	var st struct{ Number, Site, SiteName string }
	if code, err := getJSON(centralURL+"/api/v1/tickets/"+tokens[0], &st); err != nil || code != http.StatusOK || st.Site != "kfz-poll" {
		t.Errorf("ticket at central: status %d, %v, %+v", code, err, st)
	}

	// The portal lists the site once its description has been folded
	// (it may follow the tickets by a round on a busy machine).
	eventually(t, 20*time.Second, "the portal shows Kfz-Zulassungsstelle Köln-Poll", func() (bool, string) {
		resp, err := http.Get(centralURL + "/")
		if err != nil {
			return false, err.Error()
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK && strings.Contains(string(body), "Kfz-Zulassungsstelle Köln-Poll"), fmt.Sprintf("status %d", resp.StatusCode)
	})

	var od struct {
		Items []struct {
			TitleAnz string `json:"title_anz"`
			Link     string `json:"link"`
		} `json:"items"`
	}
	if code, err := getJSON(centralURL+"/open-data/waiting-od.json", &od); err != nil || code != http.StatusOK {
		t.Fatalf("open data: %d, %v", code, err)
	}
	if len(od.Items) != 1 || od.Items[0].TitleAnz != "Kfz-Zulassungsstelle Köln-Poll" || od.Items[0].Link != page {
		t.Errorf("open data items = %+v, want the site linked to its page %s", od.Items, page)
	}
	var wz struct {
		Bereiche []struct {
			ID string `json:"id"`
		} `json:"bereiche"`
	}
	if code, err := getJSON(centralURL+"/open-data/wartezeiten.json", &wz); err != nil || code != http.StatusOK {
		t.Fatalf("open data: %d, %v", code, err)
	}
	// One section per kind of site in the directory (the seed has the
	// school-health office too); the vehicle registration's is second.
	if data, _ := json.Marshal(wz); len(wz.Bereiche) != 3 || wz.Bereiche[1].ID != "fuehrerscheinwesen" {
		t.Errorf("wartezeiten.json sections = %s, want the customer centres', the vehicle registration's fuehrerscheinwesen and the school-health office's", data)
	}
}
