package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/postgres/pgtest"
)

// Central on PostgreSQL, as a city runs it: the operator's commands
// (site add and list, enroll, adduser, revoke, site remove) with -db, an
// appliance enrolled with the token syncing its log in, through commits
// that fail, with the fault suite's invariants checked, and a restart of
// central that finds everything again.
func TestCentralOnPostgres(t *testing.T) {
	db := pgtest.URL(t)
	ctx := context.Background()
	runCmd := func(args ...string) (int, string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := run(ctx, append(args, "-db", db), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	mustRun := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := runCmd(args...)
		if code != 0 {
			t.Fatalf("veedel %s: exit %d, %s", strings.Join(args, " "), code, stderr)
		}
		return stdout
	}

	out := mustRun("central", "site", "add", "-id", "kfz-poll", "-name", "Kfz-Zulassungsstelle Poll", "-kind", string(central.KindVehicleRegistration))
	if !strings.Contains(out, "enroll -site kfz-poll -db") {
		t.Errorf("site add: %q; want the enroll command with -db", out)
	}
	if list := mustRun("central", "site", "list"); !strings.Contains(list, "kfz-poll") || !strings.Contains(list, "kalk") {
		t.Errorf("site list = %q; want the added site and the seed's", list)
	}
	token := strings.TrimSpace(mustRun("central", "enroll", "-site", "kalk"))
	if len(token) < 26 {
		t.Fatalf("enroll printed %q, want a token", token)
	}
	t.Setenv("VEEDEL_PASSWORD", "Domplatte am Rhein")
	mustRun("central", "adduser", "-name", "anna", "-role", central.RoleAdmin)

	dir := t.TempDir()
	startNode := func() (*centralNode, runningNode) {
		t.Helper()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		n, err := openCentral(ctx, centralConfig{DB: db, Listener: l, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		return n, serveInBackground(t, n.URL, n.Run)
	}
	cn, cent := startNode()
	if _, err := cn.store.AuthenticateAdmin(ctx, "anna", "Domplatte am Rhein"); err != nil {
		t.Errorf("the admin from adduser: %v", err)
	}
	node, app := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"), CentralURL: cent.URL, PortalURL: cent.URL,
		Heartbeat: time.Second, EnrollToken: token})
	acked := func(cn *centralNode) uint64 {
		var acked uint64
		cn.Central.ViewSite("kalk", func(_ *queue.State, cur central.SiteCursor) { acked = cur.Acked })
		return acked
	}
	synced := func() (bool, string) {
		a, last := acked(cn), node.Store.LastSeq()
		return last > 0 && a == last, describe("%d of %d", a, last)
	}
	eventually(t, 20*time.Second, "central on PostgreSQL has kalk's log", synced)

	// Tickets while every commit at central fails (the database refuses
	// or goes away mid-batch), then after it heals: none lost, none twice.
	issued := issueTickets(t, node.URL, 3, "meldung")
	var failed atomic.Int64
	cn.store.SetFault(func(context.Context, string) error {
		failed.Add(1)
		return errors.New("terminating connection due to administrator command")
	})
	issued = append(issued, issueTickets(t, node.URL, 3, "meldung")...)
	eventually(t, 20*time.Second, "the uplink's batches fail at central", func() (bool, string) {
		return failed.Load() >= 2, describe("%d failed commits", failed.Load())
	})
	cn.store.SetFault(nil)
	issued = append(issued, issueTickets(t, node.URL, 2, "meldung")...)
	eventually(t, 20*time.Second, "central on PostgreSQL has kalk's log after the failures", synced)
	if problems := checkInvariants(ctx, cn, []siteUnderTest{{Site: "kalk", Store: node.Store, Issued: issued}}); len(problems) > 0 {
		t.Errorf("after failed commits on PostgreSQL:\n%s", strings.Join(problems, "\n"))
	}
	app.stop()
	cent.stop()
	want := node.Store.LastSeq()

	cn, _ = startNode()
	if got := acked(cn); got != want {
		t.Errorf("after a restart central has kalk up to %d, want %d", got, want)
	}
	if out := mustRun("central", "revoke", "-site", "kalk"); !strings.Contains(out, "revoked key") {
		t.Errorf("revoke: %q", out)
	}
	mustRun("central", "site", "remove", "-id", "kfz-poll")
	if code, _, stderr := runCmd("central", "site", "remove", "-id", "kalk"); code != 2 || !strings.Contains(stderr, "revoke") {
		t.Errorf("removing kalk, which sent its log: exit %d, %q; want 2 and what to do instead", code, stderr)
	}
}

// -db takes only a PostgreSQL URL, and never echoes what it was given (a
// connection string may hold a password); a password in the URL does not
// show in what the commands print.
func TestCentralDBFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"central", "site", "list", "-db", "host=db password=sekret"}, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "PostgreSQL URL") || strings.Contains(stderr.String(), "sekret") {
		t.Errorf("-db with a key=value string: exit %d, %q; want 2, asking for a URL, without the password", code, stderr.String())
	}
	db := pgtest.URL(t)
	withPassword := strings.Replace(db, "postgres@", "postgres:sekret@", 1)
	stdout.Reset()
	stderr.Reset()
	code = run(context.Background(), []string{"central", "site", "add", "-id", "kfz-poll", "-name", "Poll", "-db", withPassword}, &stdout, &stderr)
	if code != 0 || strings.Contains(stdout.String()+stderr.String(), "sekret") {
		t.Errorf("site add with a password in -db: exit %d, %q %q; want 0 and no password", code, stdout.String(), stderr.String())
	}
}

// E-mail needs the mail outbox, which has only an SQLite table so far:
// central refuses -smtp on PostgreSQL with one line, before connecting.
func TestCentralOnPostgres_RefusesSMTP(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"central", "-db", "postgres://veedel@127.0.0.1:1/none", "-smtp", "127.0.0.1:2525", "-listen", "127.0.0.1:0"}, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "-smtp needs central on SQLite") {
		t.Errorf("-smtp with -db: exit %d, %q; want 2 and why", code, stderr.String())
	}
}
