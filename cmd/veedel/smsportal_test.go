package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
)

// lockedBuffer collects a node's log lines for inspection.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startCentralLogged is startCentral with every log line (debug too) kept
// in logs, and a clock that runs offset ahead of the wall clock.
func startCentralLogged(t *testing.T, dir, addr string, logs *lockedBuffer, offset *atomic.Int64) (*centralNode, runningNode) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.MultiWriter(logs, testWriterIfVerbose(t)), &slog.HandlerOptions{Level: slog.LevelDebug}))
	n, err := openCentral(context.Background(), centralConfig{DB: filepath.Join(dir, "central.db"), Listener: l, Logger: logger,
		Now: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }})
	if err != nil {
		t.Fatal(err)
	}
	return n, serveInBackground(t, n.URL, n.Run)
}

func testWriterIfVerbose(t *testing.T) io.Writer {
	if testing.Verbose() {
		return testWriter{t}
	}
	return io.Discard
}

// smsPost posts the status page's SMS form without following redirects.
func smsPost(t *testing.T, centralURL, token, phone string, consent bool) (int, string, string) {
	t.Helper()
	form := url.Values{"phone": {phone}}
	if consent {
		form.Set("consent", "yes")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Post(centralURL+"/t/"+token+"/sms", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

func getPage(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", u, resp.StatusCode)
	}
	return string(body)
}

// The number's forms that must appear nowhere at central.
const (
	smsTyped = "0151 9876 5432"
	smsE164  = "+4915198765432"
)

var smsForms = []string{smsE164, "15198765432", "015198765432", "98765432", "9876 5432"}

// noNumberAt fails when a file of central's database or central's logs
// hold the number in any usual form.
func noNumberAt(t *testing.T, dir string, logs *lockedBuffer) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "central.db*"))
	if len(files) == 0 {
		t.Fatal("no central.db files to check")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, form := range smsForms {
			if bytes.Contains(data, []byte(form)) {
				t.Errorf("%s (%d bytes) holds the number as %q", filepath.Base(f), len(data), form)
			}
		}
	}
	for _, form := range smsForms {
		if strings.Contains(logs.String(), form) {
			t.Errorf("central's logs hold the number as %q", form)
		}
	}
}

// A citizen leaves a mobile number on central's status page: it reaches
// the site's SMS table through the real downlink within a second, the site
// confirms, and central keeps it neither on disk nor in its logs.
func TestStatusPageSMSReachesSite(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	logs := &lockedBuffer{}
	var offset atomic.Int64
	cn, cent := startCentralLogged(t, dir, addr, logs, &offset)
	app, appNode := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"),
		CentralURL: cent.URL, PortalURL: cent.URL, Heartbeat: time.Second})
	tokens := issueTickets(t, app.URL, 3, "ausweis")
	synced(t, cent.URL, app, 5*time.Second)
	ctx := context.Background()
	// Central seals the numbers to the site's box key, which the site's
	// downlink polls carry: wait for the first.
	eventually(t, 10*time.Second, "central has the site's box key", func() (bool, string) {
		key, err := cn.Central.BoxKey(ctx, "kalk")
		return key != nil, fmt.Sprint(err)
	})
	ticketID := func(token string) string {
		var id string
		app.Store.View(func(st *queue.State) {
			if tk := st.TicketByToken(token); tk != nil {
				id = tk.ID
			}
		})
		return id
	}

	token := tokens[1]
	page := getPage(t, cent.URL+"/t/"+token)
	for _, want := range []string{`id="sms"`, `name="phone" type="tel" inputmode="tel" autocomplete="tel"`, `for="sms-phone"`, "SMS-Benachrichtigung", "Ich bin einverstanden"} {
		if !strings.Contains(page, want) {
			t.Errorf("status page lacks %q", want)
		}
	}

	t.Run("ErrBadNumber", func(t *testing.T) {
		for _, tt := range []struct {
			phone   string
			consent bool
			want    string
		}{
			{"12345", true, "keine gültige Handynummer"},
			{"0221 2210", true, "Festnetznummer"},
			{smsTyped, false, "Bitte stimmen Sie zu"},
		} {
			status, _, body := smsPost(t, cent.URL, token, tt.phone, tt.consent)
			if status != http.StatusBadRequest || !strings.Contains(body, tt.want) || !strings.Contains(body, `role="alert"`) || !strings.Contains(body, `name="phone"`) {
				t.Errorf("POST %q consent %v = %d, want 400 with %q and the form again", tt.phone, tt.consent, status, tt.want)
			}
		}
		if su := cn.Central.TicketSMS(token); su.State != central.SMSNone {
			t.Errorf("after refused numbers central has sign-up %+v, want none", su)
		}
		if signed, _ := app.Store.SMSSignedUp(ctx, ticketID(token)); signed {
			t.Error("a refused number reached the site")
		}
	})

	t.Run("OK", func(t *testing.T) {
		id := ticketID(token)
		arrived := make(chan time.Duration, 1)
		start := time.Now()
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for {
				if ok, _ := app.Store.SMSSignedUp(ctx, id); ok {
					arrived <- time.Since(start)
					return
				}
				select {
				case <-stop:
					return
				case <-time.After(time.Millisecond):
				}
			}
		}()
		status, loc, _ := smsPost(t, cent.URL, token, smsTyped, true)
		posted := time.Since(start)
		if status != http.StatusSeeOther || !strings.Contains(loc, "?sms=") {
			t.Fatalf("POST = %d to %q, want 303 to the page with the hand-over", status, loc)
		}
		select {
		case d := <-arrived:
			t.Logf("hand-over: at the site after %v; confirmed and answered after %v", d.Round(time.Microsecond), posted.Round(time.Microsecond))
			if d > time.Second {
				t.Errorf("the number reached the site after %v, want under a second", d)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("the number did not reach the site's SMS table")
		}
		// Steady state: the site's poll is waiting at central. A second
		// sign-up (it replaces the first) shows the hand-over's latency.
		for range 3 {
			time.Sleep(100 * time.Millisecond)
			start := time.Now()
			if status, _, _ := smsPost(t, cent.URL, token, smsTyped, true); status != http.StatusSeeOther {
				t.Fatalf("POST again = %d", status)
			}
			t.Logf("hand-over again: confirmed and answered after %v", time.Since(start).Round(time.Microsecond))
		}
		if strings.Contains(loc, "9876") {
			t.Errorf("the redirect %q holds the number", loc)
		}
		if su := cn.Central.TicketSMS(token); su.State != central.SMSConfirmed {
			t.Errorf("central's sign-up = %+v, want confirmed", su)
		}
		if body := getPage(t, cent.URL+loc); !strings.Contains(body, "SMS-Benachrichtigung ist eingerichtet") || strings.Contains(body, `name="phone"`) {
			t.Error("the status page does not say the SMS is set up")
		}
		signups, err := app.Store.SMSSignups(ctx)
		if err != nil || len(signups) != 1 || signups[0].TicketID != id || signups[0].Lang != "de" {
			t.Errorf("site sign-ups = %+v, %v; want the one ticket in German", signups, err)
		}
		if got := app.Downlink.Status().SMSHandovers; got != 4 {
			t.Errorf("downlink took %d hand-overs, want 4 (one sign-up, three replacements)", got)
		}
		noNumberAt(t, dir, logs)
	})

	t.Run("ErrEnded", func(t *testing.T) {
		// The site serves ticket 0: central's page no longer offers the
		// sign-up, and a post is refused with 409.
		if _, err := app.Store.Execute(ctx, func(st *queue.State, at time.Time) ([]queue.Event, error) {
			var events []queue.Event
			if c := st.Counters["1"]; c == nil || !c.Open {
				e, err := st.OpenCounter(at, "1", "demo")
				if err != nil {
					return nil, err
				}
				events = append(events, e)
			}
			return events, nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := app.Store.Execute(ctx, func(st *queue.State, at time.Time) ([]queue.Event, error) {
			return st.CallNext(at, "1", "demo")
		}); err != nil {
			t.Fatal(err)
		}
		synced(t, cent.URL, app, 5*time.Second)
		if st, _ := cn.Central.Ticket(tokens[0]); st.Status != queue.StatusCalled {
			t.Fatalf("ticket 0 is %s at central, want called", st.Status)
		}
		if status, _, body := smsPost(t, cent.URL, tokens[0], smsTyped, true); status != http.StatusConflict || !strings.Contains(body, "keine SMS-Anmeldung mehr möglich") {
			t.Errorf("POST for a called ticket = %d, want 409 with the reason", status)
		}
	})

	t.Run("SiteOfflineExpires", func(t *testing.T) {
		appNode.stop()
		token := tokens[2]
		status, loc, _ := smsPost(t, cent.URL, token, smsTyped, true)
		if status != http.StatusSeeOther {
			t.Fatalf("POST = %d, want 303", status)
		}
		if body := getPage(t, cent.URL+loc); !strings.Contains(body, "wird an den Standort übermittelt") {
			t.Error("the page does not say the number is on its way")
		}
		noNumberAt(t, dir, logs)

		// Fifteen minutes later the site has not polled: the number is
		// dropped and the page says so, with the form usable again.
		offset.Store(int64(central.SMSHandoverTTL + time.Second))
		body := getPage(t, cent.URL+loc)
		if !strings.Contains(body, "Der Standort war nicht erreichbar") || !strings.Contains(body, `name="phone"`) {
			t.Error("after expiry the page does not say the site was unreachable, or lacks the form")
		}
		box, err := cn.Central.BoxKey(ctx, "kalk")
		if err != nil {
			t.Fatal(err)
		}
		if hs, err := cn.Central.SMSHandovers(ctx, "kalk", box); err != nil || len(hs) != 0 {
			t.Errorf("expired hand-overs still offered: %d, %v", len(hs), err)
		}
		offset.Store(0)
	})

	// The hand-over is kept sealed to the site in central's store (so
	// that another central node can hand it over): a restart keeps it
	// pending, and the file still holds no number in clear.
	t.Run("CentralRestartKeepsPending", func(t *testing.T) {
		token := tokens[2]
		status, loc, _ := smsPost(t, cent.URL, token, smsTyped, true)
		if status != http.StatusSeeOther {
			t.Fatalf("POST = %d, want 303", status)
		}
		cent.stop()
		cn, cent = startCentralLogged(t, dir, addr, logs, &offset)
		body := getPage(t, cent.URL+loc)
		if !strings.Contains(body, "wird an den Standort übermittelt") {
			t.Error("after central's restart the page does not say the number is on its way")
		}
		if su := cn.Central.TicketSMS(token); su.State != central.SMSPending {
			t.Errorf("restarted central has sign-up %+v, want it pending", su)
		}
		noNumberAt(t, dir, logs)
	})
}
