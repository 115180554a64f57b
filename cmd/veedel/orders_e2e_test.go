package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/registration"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/internal/mail/mailsim"
)

// startCentralProcess runs `veedel central` on dir's central.db.
func startCentralProcess(t *testing.T, bin, dir, listen string, n int, extra ...string) *applianceProcess {
	t.Helper()
	logFile := filepath.Join(dir, fmt.Sprintf("central-%d.log", n))
	f, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(bin, append([]string{"central", "-data", dir, "-listen", listen}, extra...)...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	p := &applianceProcess{cmd: cmd, log: logFile}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if code, err := getJSON("http://"+listen+"/healthz", &map[string]any{}); err == nil && code == http.StatusOK {
			return p
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("central not healthy within 30 s; its log:\n%s", p.tail())
	return nil
}

func stopProcess(t *testing.T, p *applianceProcess) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
}

// TestOrderAcrossOutages runs central and the appliance as separate veedel
// processes: an order placed while the appliance is down is at the site
// within 2 s of its start; marked ready while central is down, the
// citizen's status shows it once central is back; nothing is lost or
// doubled.
func TestOrderAcrossOutages(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the veedel binary; skipped with -short")
	}
	bin := buildVeedel(t)
	dir := t.TempDir()
	centralAddr, siteAddr := freeAddr(t), freeAddr(t)
	centralURL, siteURL := "http://"+centralAddr, "http://"+siteAddr
	cfg := applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db")}

	// A clerk for the back office, in the site's file before its first start.
	st, err := sqlite.Open(context.Background(), cfg.DB, cfg.Site, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(context.Background(), sqlite.User{Name: "anna", DisplayName: "Anna", Role: sqlite.RoleClerk}, "geheim-123456"); err != nil {
		t.Fatal(err)
	}
	st.Close()

	// Both send e-mail to a stand-in relay: the citizen's confirmation
	// (central) and "ready" (the site).
	sim, err := mailsim.Start("127.0.0.1:0", mailsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	smtp := []string{"-smtp", sim.Addr(), "-smtp-tls", "off"}
	cent := startCentralProcess(t, bin, dir, centralAddr, 0, smtp...)
	site := startApplianceProcess(t, bin, dir, siteAddr, centralURL, enrollmentTokenFor(t, filepath.Join(dir, "central.db"), cfg), 0, smtp...)
	waitHealthy(t, site, siteURL)

	body := `{"kind":"meldebescheinigung","site":"kalk","delivery":"pickup","copies":1,` +
		`"person":{"family_name":"Nowak","given_names":"Jan","birth_date":"1979-11-02"},"contact":{"phone":"0171 2345678","email":"jan.nowak@example.de"},"consent":true}`
	place := func() (code, token string, status int) {
		resp, err := http.Post(centralURL+"/api/v1/orders", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ Code, Token string }
		json.NewDecoder(resp.Body).Decode(&out)
		return out.Code, out.Token, resp.StatusCode
	}
	// The first order waits for the site's first signed poll (its box key).
	var first string
	for deadline := time.Now().Add(20 * time.Second); ; {
		code, _, status := place()
		if status == http.StatusCreated {
			first = code
			break
		}
		if status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("first order: %d", status)
		}
		time.Sleep(100 * time.Millisecond)
	}

	staff := func(method, path, reqBody string, v any) int {
		req, _ := http.NewRequest(method, siteURL+path, strings.NewReader(reqBody))
		req.SetBasicAuth("anna", "geheim-123456")
		if reqBody != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		if v != nil {
			json.NewDecoder(resp.Body).Decode(v)
		}
		return resp.StatusCode
	}
	orders := func() map[string]registration.Order {
		var list []registration.Order
		if staff(http.MethodGet, "/api/v1/orders", "", &list) != http.StatusOK {
			return nil
		}
		out := map[string]registration.Order{}
		for _, o := range list {
			if _, dup := out[o.Code]; dup {
				t.Errorf("order %s twice at the site", o.Code)
			}
			out[o.Code] = o
		}
		return out
	}

	// The appliance is down; a citizen orders.
	stopProcess(t, site)
	code, token, status := place()
	if status != http.StatusCreated {
		t.Fatalf("order while the site is down: %d", status)
	}
	site = startApplianceProcess(t, bin, dir, siteAddr, centralURL, "", 1, smtp...)
	waitHealthy(t, site, siteURL)
	started := time.Now()
	for orders()[code].Status != registration.StatusAtSite {
		if time.Since(started) > 2*time.Second {
			t.Fatalf("order placed while the site was down is not there 2 s after its start: %v\n%s", orders(), site.tail())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("order at the site %v after the appliance was healthy", time.Since(started).Round(time.Millisecond))
	if o := orders()[code]; o.Details == nil || o.Details.Person.FamilyName != "Nowak" {
		t.Fatalf("the site cannot read the order: %+v", o)
	}

	// Central is down; the back office works on.
	stopProcess(t, cent)
	for _, action := range []string{"claim", "ready"} {
		if got := staff(http.MethodPost, "/api/v1/orders/"+code+"/"+action, "", nil); got != http.StatusOK {
			t.Fatalf("%s while central is down: %d", action, got)
		}
	}
	// The site tells the citizen while central is down.
	ready := func() int {
		n := 0
		for _, m := range sim.Messages() {
			if strings.Contains(m.To, "jan.nowak@example.de") && strings.Contains(m.Subject, "Abholbereit") && strings.Contains(m.Text, code) {
				n++
			}
		}
		return n
	}
	for deadline := time.Now().Add(10 * time.Second); ready() == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("no \"ready\" e-mail within 10 s; site:\n%s", site.tail())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cent = startCentralProcess(t, bin, dir, centralAddr, 1, smtp...)
	var st2 struct {
		Status string `json:"status"`
		Stale  bool   `json:"stale"`
	}
	for deadline := time.Now().Add(15 * time.Second); ; {
		if code, err := getJSON(centralURL+"/api/v1/orders/"+token, &st2); err == nil && code == http.StatusOK && st2.Status == registration.StatusReady {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status after central's restart: %+v\ncentral:\n%s\nsite:\n%s", st2, cent.tail(), site.tail())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := ready(); n != 1 {
		t.Errorf("%d \"ready\" e-mails, want 1", n)
	}
	confirmations := 0
	for _, m := range sim.Messages() {
		if strings.Contains(m.To, "jan.nowak@example.de") && strings.Contains(m.Subject, "eingegangen") {
			confirmations++
		}
	}
	if confirmations != 2 { // one per order placed; the refused probes sent none
		t.Errorf("%d confirmation e-mails, want 2", confirmations)
	}
	all := orders()
	if len(all) != 2 || all[first].Status != registration.StatusAtSite || all[code].Status != registration.StatusReady {
		t.Fatalf("orders at the site: %+v", all)
	}
}
