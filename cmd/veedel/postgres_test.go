package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/registration"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/postgres/pgtest"
	"github.com/veedel/veedel/internal/mail"
	"github.com/veedel/veedel/internal/mail/mailsim"
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

// Central on PostgreSQL with e-mail and online payment: a held slot and
// its code survive central's restart (the hold is in the database, not
// in the process), the confirmation goes out by e-mail through the outbox
// in PostgreSQL, the booking reaches the site, and an order paid online
// waits in PostgreSQL until the provider's notification sends it down.
func TestCentralOnPostgres_HoldsMailPayments(t *testing.T) {
	db := pgtest.URL(t)
	ctx := context.Background()
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"central", "enroll", "-site", "kalk", "-db", db}, &stdout, &stderr); code != 0 {
		t.Fatalf("enroll: %d %s", code, stderr.String())
	}
	token := strings.TrimSpace(stdout.String())
	sim, err := mailsim.Start("127.0.0.1:0", mailsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	addr := freeAddr(t)
	startNode := func() (*centralNode, runningNode) {
		t.Helper()
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		n, err := openCentral(ctx, centralConfig{DB: db, Listener: l, Logger: testLogger(t),
			Mail:         &mailConfig{Relay: sim.Addr(), TLS: mail.TLSOff, From: "Test <noreply@veedel.invalid>"},
			DemoPayments: true, PaymentSecret: testPaymentSecret})
		if err != nil {
			t.Fatal(err)
		}
		n.mailSim = sim
		return n, serveInBackground(t, n.URL, n.Run)
	}
	cn, cent := startNode()
	dir := t.TempDir()
	node, _ := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"), CentralURL: cent.URL, PortalURL: cent.URL,
		Heartbeat: time.Second, EnrollToken: token})
	eventually(t, 20*time.Second, "central on PostgreSQL has kalk's box key", func() (bool, string) {
		_, err := cn.Central.BoxKey(ctx, "kalk")
		return err == nil, describe("%v", err)
	})
	appts := cn.Central.Workflow(appointment.Prefix).(*appointment.Central)
	var slot appointment.SlotView
	for d := 1; d < 14 && slot.Start.IsZero(); d++ {
		slots, err := appts.Slots(ctx, cn.Central, "kalk", "ausweis", cn.Central.DayOf("kalk", time.Now().AddDate(0, 0, d)), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, sl := range slots {
			if sl.Available > 0 {
				slot = sl
				break
			}
		}
	}
	if slot.Start.IsZero() {
		t.Fatal("no free online slot at kalk in two weeks")
	}
	post := func(url, body string, out any) int {
		t.Helper()
		resp, err := http.Post(url, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(out)
		return resp.StatusCode
	}
	var held struct{ Token, Code, Status string }
	if status := post(cent.URL+"/api/v1/appointments", `{"site":"kalk","service":"ausweis","start":"`+slot.Start.Format(time.RFC3339)+
		`","name":"Jan Nowak","email":"jan.nowak@example.de","consent":true}`, &held); status != http.StatusCreated {
		t.Fatalf("hold: %d", status)
	}
	code := cn.sentCode(t, "jan.nowak@example.de")

	// Central restarts: the hold, its code and its place are still there.
	cent.stop()
	cn, cent = startNode()
	appts = cn.Central.Workflow(appointment.Prefix).(*appointment.Central)
	day := cn.Central.DayOf("kalk", slot.Start)
	slots, err := appts.Slots(ctx, cn.Central, "kalk", "ausweis", day, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, sl := range slots {
		if sl.Start.Equal(slot.Start) && sl.Available != slot.Available-1 {
			t.Errorf("after the restart the held slot has %d free, want %d", sl.Available, slot.Available-1)
		}
	}
	var confirmed struct{ Code, Status string }
	if status := post(cent.URL+"/api/v1/appointments/"+held.Token+"/confirm", `{"code":"`+code+`"}`, &confirmed); status != http.StatusOK || confirmed.Status != appointment.StatusConfirmed {
		t.Fatalf("confirm after the restart: %d %+v", status, confirmed)
	}
	eventually(t, 20*time.Second, "the booking's confirmation e-mail", func() (bool, string) {
		for _, m := range sim.Messages() {
			if strings.Contains(m.To, "jan.nowak@example.de") && strings.Contains(m.Text, confirmed.Code) && strings.Contains(m.Text, "/b/"+held.Token) {
				return true, ""
			}
		}
		return false, describe("%d messages", len(sim.Messages()))
	})
	eventually(t, 20*time.Second, "the booking at the site", func() (bool, string) {
		found := false
		node.Store.View(func(st *queue.State) { found = st.BookingByCode(confirmed.Code) != nil })
		return found, ""
	})

	// An order paid online: held in PostgreSQL, sent down once paid.
	var placed struct {
		Code, Token, Status string
		PaymentURL          string `json:"payment_url"`
	}
	if status := post(cent.URL+"/api/v1/orders", `{"kind":"meldebescheinigung","site":"kalk","delivery":"post","copies":1,"payment":"online",`+
		`"person":{"family_name":"Nowak","given_names":"Jan","birth_date":"1979-11-02"},`+
		`"address":{"street":"Kalker Hauptstraße 1","postcode":"51103","city":"Köln"},"contact":{"email":"jan.nowak@example.de"},"consent":true}`, &placed); status != http.StatusCreated {
		t.Fatalf("order paid online on PostgreSQL: %d", status)
	}
	if placed.Status != registration.StatusAwaitingPayment || placed.PaymentURL == "" {
		t.Fatalf("placed: %+v", placed)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(placed.PaymentURL, url.Values{"action": {"pay"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("paying: %s", resp.Status)
	}
	eventually(t, 20*time.Second, "the paid order at the site", func() (bool, string) {
		o, err := registration.Get(ctx, node.Store.Read(), placed.Code)
		return err == nil && o.Status == registration.StatusAtSite, describe("%+v %v", o.Status, err)
	})
}
