package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/business"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/sitekey"
)

// synced waits until central has the site's whole log.
func synced(t *testing.T, centralURL string, app *applianceNode, timeout time.Duration) {
	t.Helper()
	last := app.Store.LastSeq()
	eventually(t, timeout, "central has the site's whole log", func() (bool, string) {
		_, acked, ok := siteSummary(centralURL, app.cfg.Site)
		return ok && acked == last, describe("acked %d of %d", acked, last)
	})
}

// storedAtCentral counts a site's entries in central's SQLite file.
func storedAtCentral(t *testing.T, centralDB, site string) uint64 {
	t.Helper()
	store := openCentralStore(t, centralDB)
	defer store.Close()
	var n uint64
	if err := store.Scan(context.Background(), site, 0, func(e changelog.Entry) error {
		n++
		if e.Seq != n {
			t.Fatalf("central's log of %s: entry %d has seq %d", site, n, e.Seq)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func rejectionsAt(t *testing.T, c *centralNode) []central.Rejection {
	t.Helper()
	got, err := c.Central.Rejections(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestEnrollment_CentralComesUpLater: the appliance gets its token while
// central is down, keeps working, enrolls on first contact and then syncs
// everything.
func TestEnrollment_CentralComesUpLater(t *testing.T) {
	dir := t.TempDir()
	centralDB := filepath.Join(dir, "central.db")
	centralAddr := freeAddr(t)
	token := newEnrollmentToken(t, centralDB, "kalk", time.Hour) // veedel central enroll, central not running
	appNode, app := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"),
		CentralURL: "http://" + centralAddr, EnrollToken: token, BatchEntries: 20})
	issueTickets(t, app.URL, 50, "meldung")
	if st := appNode.Uplink.Status(); st.Enrolled {
		t.Errorf("status before central is up = %+v, want not enrolled", st)
	}

	cent, centRun := startCentral(t, dir, centralAddr)
	synced(t, centRun.URL, appNode, 10*time.Second)

	keyID, tokenHash, err := appNode.Store.EnrolledKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	wantID := changelog.KeyIDString(changelog.KeyID(sitekey.Public(appNode.Key)))
	if keyID != wantID || tokenHash == "" {
		t.Errorf("appliance's record = %q, %q; want key %s and the token's hash", keyID, tokenHash, wantID)
	}
	if st := appNode.Uplink.Status(); !st.Enrolled || st.KeyID != wantID {
		t.Errorf("status = %+v, want enrolled with %s", st, wantID)
	}
	keys, err := cent.Central.SiteKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].Site != "kalk" || !keys[0].Active() || !keys[0].PublicKey.Equal(sitekey.Public(appNode.Key)) {
		t.Errorf("central's keys = %+v, want kalk's appliance key", keys)
	}
	if rej := rejectionsAt(t, cent); len(rej) != 0 {
		t.Errorf("rejections = %+v, want none", rej)
	}
	// The key file is private.
	if fi, err := os.Stat(filepath.Join(dir, "kalk.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, %v; want mode 0600", fi, err)
	}
}

// TestEnrollment_ErrToken: a token central refuses stops nothing at the
// site: it keeps every entry, says why, and syncs once started with a good
// token.
func TestEnrollment_ErrToken(t *testing.T) {
	for _, tc := range []struct {
		name      string
		token     func(t *testing.T, centralDB string) string
		wantError string
	}{
		{"Expired", func(t *testing.T, db string) string { return newEnrollmentToken(t, db, "kalk", -time.Minute) }, "expired"},
		{"OtherSite", func(t *testing.T, db string) string { return newEnrollmentToken(t, db, "porz", time.Hour) }, "issued for site porz"},
		{"Unknown", func(t *testing.T, db string) string { return "AAAAAAAAAAAAAAAAAAAAAAAAAA" }, "unknown enrollment token"},
		{"Used", func(t *testing.T, db string) string {
			token := newEnrollmentToken(t, db, "kalk", time.Hour)
			store := openCentralStore(t, db)
			defer store.Close()
			other := ed25519.NewKeyFromSeed(make([]byte, 32))
			if _, err := store.Enroll(context.Background(), "kalk", token, sitekey.Public(other), time.Now()); err != nil {
				t.Fatal(err)
			}
			return token
		}, "already used"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			centralDB := filepath.Join(dir, "central.db")
			cent, centRun := startCentral(t, dir, "127.0.0.1:0")
			cfg := applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"), CentralURL: centRun.URL, EnrollToken: tc.token(t, centralDB)}
			appNode, app := startAppliance(t, cfg)
			issueTickets(t, app.URL, 5, "meldung")
			eventually(t, 5*time.Second, "the refusal shows in the status", func() (bool, string) {
				st := appNode.Uplink.Status()
				return strings.Contains(st.LastError, tc.wantError), st.LastError
			})
			if _, acked, ok := siteSummary(centRun.URL, "kalk"); ok || acked != 0 {
				t.Errorf("central shows kalk (acked %d) before enrollment", acked)
			}
			rej := rejectionsAt(t, cent)
			if len(rej) == 0 || !strings.Contains(rej[0].Reason, tc.wantError) || rej[0].Status != http.StatusUnauthorized {
				t.Errorf("rejections = %+v, want the refused enrollment", rej)
			}
			app.stop()
			if got := storedAtCentral(t, centralDB, "kalk"); got != 0 {
				t.Errorf("central stored %d entries of kalk", got)
			}

			// An operator creates a new token; nothing was lost.
			cfg.EnrollToken = ""
			appNode, _ = startAppliance(t, cfg) // enrolls with a fresh token (node_test.go)
			synced(t, centRun.URL, appNode, 10*time.Second)
			if got, want := storedAtCentral(t, centralDB, "kalk"), appNode.Store.LastSeq(); got != want {
				t.Errorf("central stored %d entries, want %d", got, want)
			}
		})
	}
}

// TestEnrollment_ReplacedKey: the appliance's key file is lost (or the
// appliance is replaced and its data restored): a new key is generated and
// enrolled with a new token, the old key is refused from then on, and the
// site's log continues at central without a gap.
func TestEnrollment_ReplacedKey(t *testing.T) {
	dir := t.TempDir()
	centralDB := filepath.Join(dir, "central.db")
	cent, centRun := startCentral(t, dir, "127.0.0.1:0")
	cfg := applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"), CentralURL: centRun.URL}
	appNode, app := startAppliance(t, cfg)
	issueTickets(t, app.URL, 10, "meldung")
	synced(t, centRun.URL, appNode, 5*time.Second)
	oldKey := appNode.Key
	app.stop()

	if err := os.Remove(filepath.Join(dir, "kalk.key")); err != nil {
		t.Fatal(err)
	}
	appNode, app = startAppliance(t, cfg) // a new key, enrolled with a new token
	if appNode.Key.Equal(oldKey) {
		t.Fatal("the appliance kept its old key")
	}
	issueTickets(t, app.URL, 10, "meldung")
	synced(t, centRun.URL, appNode, 5*time.Second)
	if got, want := storedAtCentral(t, centralDB, "kalk"), appNode.Store.LastSeq(); got != want {
		t.Errorf("central stored %d entries, want %d without a gap", got, want)
	}

	// The old key is refused: a heartbeat signed with it.
	b := changelog.Batch{Version: changelog.SchemaVersion, Site: "kalk"}
	if err := b.Sign(oldKey); err != nil {
		t.Fatal(err)
	}
	status, ack := postBatch(t, centRun.URL, b)
	if status != http.StatusForbidden || !strings.Contains(ack.Error, "revoked") {
		t.Errorf("batch with the old key: status %d, ack %+v; want 403 revoked", status, ack)
	}
	if rej := rejectionsAt(t, cent); len(rej) != 1 || rej[0].Status != http.StatusForbidden || rej[0].Site != "kalk" {
		t.Errorf("rejections = %+v, want the old key's batch", rej)
	}
}

// TestRevoke: veedel central revoke stops a site's batches, nothing is
// lost, and a new token (same appliance, same key) lets it sync again.
func TestRevoke(t *testing.T) {
	dir := t.TempDir()
	cent, centRun := startCentral(t, dir, "127.0.0.1:0")
	cfg := applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"), CentralURL: centRun.URL}
	appNode, app := startAppliance(t, cfg)
	issueTickets(t, app.URL, 3, "meldung")
	synced(t, centRun.URL, appNode, 5*time.Second)
	acked := appNode.Store.LastSeq()

	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"central", "revoke", "-site", "kalk", "-data", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("revoke: exit %d: %s", code, stderr.String())
	}
	wantID := changelog.KeyIDString(changelog.KeyID(sitekey.Public(appNode.Key)))
	if !strings.Contains(stdout.String(), "revoked key "+wantID+" of site kalk") {
		t.Errorf("revoke printed %q", stdout.String())
	}

	issueTickets(t, app.URL, 3, "meldung")
	eventually(t, 5*time.Second, "the uplink reports the revocation", func() (bool, string) {
		st := appNode.Uplink.Status()
		return strings.Contains(st.LastError, "revoked"), st.LastError
	})
	if _, got, _ := siteSummary(centRun.URL, "kalk"); got != acked {
		t.Errorf("central acked %d after revocation, want %d", got, acked)
	}
	if rej := rejectionsAt(t, cent); len(rej) == 0 || rej[0].Status != http.StatusForbidden {
		t.Errorf("rejections = %+v, want the revoked key's batch", rej)
	}
	app.stop()

	stdout.Reset()
	if code := run(context.Background(), []string{"central", "enroll", "-site", "kalk", "-data", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("enroll: exit %d: %s", code, stderr.String())
	}
	cfg.EnrollToken = strings.TrimSpace(stdout.String())
	appNode, _ = startAppliance(t, cfg)
	synced(t, centRun.URL, appNode, 5*time.Second)

	// Revoking a site without an active key says so.
	if code := run(context.Background(), []string{"central", "revoke", "-site", "porz", "-data", dir}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "site porz has no active key") {
		t.Errorf("revoke of porz: exit %d, stderr %q", code, stderr.String())
	}
}

func postBatch(t *testing.T, url string, b changelog.Batch) (int, changelog.Ack) {
	t.Helper()
	data, err := changelog.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url+"/api/v1/sync/batches", "application/cbor", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ack changelog.Ack
	buf := new(bytes.Buffer)
	buf.ReadFrom(resp.Body)
	if err := changelog.Unmarshal(buf.Bytes(), &ack); err != nil {
		t.Fatalf("ack: %v", err)
	}
	return resp.StatusCode, ack
}

func TestCommandLine_Trust(t *testing.T) {
	dir := t.TempDir()
	t.Run("Enroll", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"central", "enroll", "-site", "kalk", "-data", dir, "-ttl", "2h"}, &stdout, &stderr)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		token := strings.TrimSuffix(stdout.String(), "\n")
		if len(token) < 26 || strings.ContainsAny(token, " \n") {
			t.Fatalf("stdout %q is not one token", stdout.String())
		}
		if !strings.Contains(stderr.String(), "VEEDEL_ENROLL_TOKEN") {
			t.Errorf("stderr %q does not say how to use the token", stderr.String())
		}
		// The token works once, for kalk.
		store := openCentralStore(t, filepath.Join(dir, "central.db"))
		defer store.Close()
		key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))
		if _, err := store.Enroll(context.Background(), "kalk", token, sitekey.Public(key), time.Now().Add(119*time.Minute)); err != nil {
			t.Errorf("enroll with the printed token: %v", err)
		}
		// Central kept only its hash.
		for _, f := range []string{"central.db", "central.db-wal"} {
			if data, _ := os.ReadFile(filepath.Join(dir, f)); bytes.Contains(data, []byte(token)) {
				t.Errorf("%s contains the token", f)
			}
		}
	})

	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"EnrollHelp", []string{"central", "enroll", "-help"}, 0, "Usage: veedel central enroll"},
		{"RevokeHelp", []string{"central", "revoke", "-h"}, 0, "Usage: veedel central revoke"},
		{"EnrollWithoutSite", []string{"central", "enroll", "-data", dir}, 2, "central enroll: -site is required"},
		{"EnrollUnknownSite", []string{"central", "enroll", "-site", "atlantis", "-data", dir}, 2, `unknown site "atlantis"`},
		{"EnrollBadTTL", []string{"central", "enroll", "-site", "kalk", "-ttl", "0s", "-data", dir}, 2, "-ttl 0s must be positive"},
		{"EnrollBadFlag", []string{"central", "enroll", "-site", "kalk", "-nope"}, 2, "flag provided but not defined: -nope"},
		{"EnrollStrayArgument", []string{"central", "enroll", "-site", "kalk", "-data", dir, "now"}, 2, `unexpected argument "now"`},
		{"RevokeWithoutSite", []string{"central", "revoke", "-data", dir}, 2, "central revoke: -site is required"},
		{"RevokeNoDatabase", []string{"central", "revoke", "-site", "kalk", "-data", filepath.Join(dir, "nothing")}, 1, "no central database"},
		{"TLSCertWithoutKey", []string{"central", "-tls-cert", "cert.pem", "-data", dir}, 2, "-tls-cert and -tls-key go together"},
		{"TLSMissingFiles", []string{"central", "-tls-cert", filepath.Join(dir, "no.pem"), "-tls-key", filepath.Join(dir, "no.key"), "-data", dir}, 1, "TLS"},
		{"ApplianceMissingCA", []string{"appliance", "-site", "kalk", "-data", dir, "-central", "https://example.invalid", "-central-ca", filepath.Join(dir, "no-ca.pem"), "-listen", "127.0.0.1:0"}, 1, "central CA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d (stderr: %s)", code, tc.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.wantErr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tc.wantErr)
			}
		})
	}
}

// writeTestCert writes a self-signed certificate for 127.0.0.1 and its key
// as PEM files and returns their paths.
func writeTestCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "veedel test central"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "central.crt"), filepath.Join(dir, "central.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}

// TestTLS: central serves HTTPS with -tls-cert/-tls-key; an appliance that
// trusts the certificate (-central-ca) enrolls and syncs over it, one that
// does not keeps its entries and says why.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeTestCert(t, dir)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cent, err := openCentral(context.Background(), centralConfig{DB: filepath.Join(dir, "central.db"), Listener: l, Logger: testLogger(t),
		TLSCert: certFile, TLSKey: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cent.URL, "https://") {
		t.Fatalf("URL = %s, want https", cent.URL)
	}
	serveInBackground(t, cent.URL, cent.Run)

	appNode, app := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"), CentralURL: cent.URL, CentralCA: certFile})
	issueTickets(t, app.URL, 4, "meldung")
	last := appNode.Store.LastSeq()
	eventually(t, 10*time.Second, "kalk synced over HTTPS", func() (bool, string) {
		var acked uint64
		cent.Central.ViewSite("kalk", func(_ *queue.State, cur central.SiteCursor) { acked = cur.Acked })
		return acked == last, describe("acked %d of %d", acked, last)
	})

	porz, _ := startAppliance(t, applianceConfig{Site: "porz", DB: filepath.Join(dir, "porz.db"), CentralURL: cent.URL})
	eventually(t, 5*time.Second, "porz refuses the unknown certificate", func() (bool, string) {
		st := porz.Uplink.Status()
		return strings.Contains(st.LastError, "certificate"), st.LastError
	})

	// Plain HTTP to the HTTPS port gets nowhere.
	if resp, err := http.Get("http://" + l.Addr().String() + "/healthz"); err == nil {
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered 200 on the HTTPS port")
		}
		resp.Body.Close()
	}
}

// TestDemo_EnrollsItsSites: the demo creates its sites' tokens itself; both
// sites sync, and a second start on the same data needs no new token.
// Its company in the business portal is made once: the first start
// prints the API key, the second says it was printed then, and the key
// still works; the company admin's login leads to the TOTP enrolment.
func TestDemo_EnrollsItsSites(t *testing.T) {
	dir := t.TempDir()
	var apiKey string
	for round := 1; round <= 2; round++ {
		// central, the sites, and their simulated printers (PORT+11 …)
		port := freePorts(t, demoPrinterPorts+len(demoSites)+1)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int, 1)
		var stdout, stderr bytes.Buffer
		go func() {
			done <- run(ctx, []string{"demo", "-data", dir, "-port", strconv.Itoa(port)}, &stdout, &stderr)
		}()
		url := "http://127.0.0.1:" + strconv.Itoa(port)
		eventually(t, 60*time.Second, describe("round %d: both demo sites at central", round), func() (bool, string) {
			select {
			case code := <-done:
				t.Fatalf("round %d: the demo exited with %d: %s", round, code, stderr.String())
			default:
			}
			_, kalk, ok1 := siteSummary(url, "kalk")
			_, porz, ok2 := siteSummary(url, "porz")
			return ok1 && ok2 && kalk > 0 && porz > 0, describe("kalk %d, porz %d", kalk, porz)
		})
		out := stdout.String()
		for _, want := range []string{url + "/kfz ", url + "/unternehmen ", "company: autohaus-demo (Autohaus Demo GmbH), login: chefin / demo"} {
			if !strings.Contains(out, want) {
				t.Errorf("round %d: the demo does not print %q:\n%s", round, want, out)
			}
		}
		m := regexp.MustCompile(`Business API key +(\S+)`).FindStringSubmatch(out)
		switch {
		case m == nil:
			t.Errorf("round %d: no API key line:\n%s", round, out)
		case round == 1:
			apiKey = m[1]
		case m[1] != "made" || strings.Contains(out, apiKey):
			t.Errorf("round %d: a key printed again: %s", round, m[0])
		}
		req, _ := http.NewRequest(http.MethodGet, url+"/api/v1/business/vehicle-applications", nil)
		req.Header.Set("Authorization", "Bearer "+apiKey)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("round %d: the first start's API key: %v %v", round, resp, err)
		} else {
			resp.Body.Close()
		}
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		resp, err := c.PostForm(url+"/unternehmen/anmelden", map[string][]string{"company": {"autohaus-demo"}, "user": {"chefin"}, "password": {"demo"}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Request.URL.Path != "/unternehmen/code" || !strings.Contains(string(body), `id="totp-secret"`) {
			t.Errorf("round %d: the company admin's login: %s %d", round, resp.Request.URL.Path, resp.StatusCode)
		}
		cancel()
		if code := <-done; code != 0 {
			t.Fatalf("round %d: demo exit %d: %s", round, code, stderr.String())
		}
	}
	store := openCentralStore(t, filepath.Join(dir, "central.db"))
	defer store.Close()
	keys, err := store.SiteKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	active := 0
	for _, k := range keys {
		if k.Active() {
			active++
		}
	}
	if len(keys) != len(demoSites) || active != len(demoSites) {
		t.Errorf("keys after two demo runs = %+v, want one active key per site", keys)
	}
	if rej, _ := store.Rejections(context.Background(), 10); len(rej) != 0 {
		t.Errorf("rejections = %+v, want none", rej)
	}
	bs := &business.Store{DB: store.Writer()}
	companies, _ := bs.Companies(context.Background())
	keys2, _ := bs.APIKeys(context.Background(), "autohaus-demo")
	users, _ := bs.Users(context.Background(), "autohaus-demo")
	if len(companies) != 1 || len(keys2) != 1 || len(users) != 1 || users[0].Role != business.RoleAdmin {
		t.Errorf("after two demo runs: companies %+v, keys %+v, users %+v; want one of each", companies, keys2, users)
	}
}

// freePorts finds n consecutive free loopback ports and returns the first.
func freePorts(t *testing.T, n int) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		first := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if first+n > 65535 {
			continue
		}
		ok := true
		for p := first; p < first+n && ok; p++ {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				ok = false
				continue
			}
			l.Close()
		}
		if ok {
			return first
		}
	}
	t.Fatal("no consecutive free ports")
	return 0
}

// An appliance given a token on its first start says it enrolls with it,
// not that the operator should go and fetch one.
func TestEnrollment_FirstStartLogSaysTokenIsUsed(t *testing.T) {
	dir := t.TempDir()
	_, centRun := startCentral(t, dir, "127.0.0.1:0")
	logs := &lockedBuffer{}
	cfg := applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"), CentralURL: centRun.URL,
		EnrollToken: newEnrollmentToken(t, filepath.Join(dir, "central.db"), "kalk", time.Hour),
		Logger:      slog.New(slog.NewTextHandler(logs, nil))}
	startAppliance(t, cfg)
	got := logs.String()
	if !strings.Contains(got, "created the site's key: enrolling it at central with the given token") || strings.Contains(got, "with a token from veedel central enroll") {
		t.Errorf("first start with a token logs:\n%s", got)
	}
}

// TestApplianceTLS: with -tls-cert/-tls-key the appliance serves its LAN
// over HTTPS (staff passwords and sessions cross it): the desk's session
// cookie is Secure, HSTS is sent, and plain HTTP to the port gets nowhere.
func TestApplianceTLS(t *testing.T) {
	dir := t.TempDir()
	certDir := filepath.Join(dir, "tls")
	os.MkdirAll(certDir, 0o700)
	certFile, keyFile := writeTestCert(t, certDir)
	_, app := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"), TLSCert: certFile, TLSKey: keyFile,
		Users: []userSpec{{Name: "anna", Password: "Domplatte am Rhein", Role: "clerk"}}})
	if !strings.HasPrefix(app.URL, "https://") {
		t.Fatalf("URL = %s, want https", app.URL)
	}
	pool := x509.NewCertPool()
	pemBytes, _ := os.ReadFile(certFile)
	pool.AppendCertsFromPEM(pemBytes)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	resp, err := client.Get(app.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("GET /healthz over HTTPS: %s, HSTS %q; want 200 with HSTS", resp.Status, resp.Header.Get("Strict-Transport-Security"))
	}

	req, _ := http.NewRequest(http.MethodPost, app.URL+"/desk/login", strings.NewReader(url.Values{"user": {"anna"}, "password": {"Domplatte am Rhein"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", app.URL)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Value != "" {
			session = c
		}
	}
	if session == nil || !session.Secure || !session.HttpOnly {
		t.Errorf("desk login over HTTPS: %s, cookie %+v; want a Secure, HttpOnly session cookie", resp.Status, session)
	}

	if resp, err := http.Get("http://" + strings.TrimPrefix(app.URL, "https://") + "/healthz"); err == nil {
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered 200 on the appliance's HTTPS port")
		}
		resp.Body.Close()
	}

	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"appliance", "-site", "kalk", "-data", t.TempDir(), "-listen", "127.0.0.1:0", "-tls-cert", certFile}, &stdout, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), "-tls-cert and -tls-key go together") {
		t.Errorf("-tls-cert without -tls-key: exit %d, %q; want 2 and one line", code, stderr.String())
	}
}
