package main

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/internal/web/webtest"
	"github.com/veedel/veedel/sync/changelog"
)

// shortTimeouts are the nodes' timeouts in this test, short enough to
// outwait.
var shortTimeouts = web.Timeouts{Header: time.Second, Body: 500 * time.Millisecond, Write: 2 * time.Second, Idle: 500 * time.Millisecond}

// TestNodesShedSlowClients runs central and an appliance as they are wired
// for production, with short timeouts: a body dripped byte by byte and an
// idle keep-alive are cut off on both, while the call display's event
// stream and a site's long poll outlive the general write timeout.
func TestNodesShedSlowClients(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := openCentral(context.Background(), centralConfig{DB: filepath.Join(dir, "central.db"), Listener: l, Logger: testLogger(t), Timeouts: shortTimeouts})
	if err != nil {
		t.Fatal(err)
	}
	central := serveInBackground(t, c.URL, c.Run)
	site, appliance := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"), CentralURL: central.URL,
		Timeouts: shortTimeouts})
	hostOf := func(u string) string { return strings.TrimPrefix(u, "http://") }

	t.Run("DrippedBody", func(t *testing.T) {
		for _, tc := range []struct{ node, path, contentType, body string }{
			{appliance.URL, "/api/v1/tickets", "application/json", `{"service":"ausweis","class":""}`},
			{central.URL, "/api/v1/sync/batches", "application/cbor", strings.Repeat("\xa0", 40)},
			{central.URL, "/api/v1/sync/enroll", "application/json", `{"site":"kalk","token":"0123456789abcdef"}`},
		} {
			sent, answer := webtest.Drip(t, hostOf(tc.node), tc.path, tc.contentType, []byte(tc.body), 100*time.Millisecond)
			if sent >= len(tc.body) {
				t.Errorf("%s%s waited for the whole dripped body; answered %.80q", tc.node, tc.path, answer)
			}
		}
	})
	t.Run("IdleKeepAlive", func(t *testing.T) {
		for _, node := range []string{appliance.URL, central.URL} {
			if !webtest.IdleClosed(t, hostOf(node), "/healthz") {
				t.Errorf("%s kept an idle connection open", node)
			}
		}
	})
	t.Run("DisplayStream", func(t *testing.T) {
		resp, err := http.Get(appliance.URL + "/display/events")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		events := bufio.NewReader(resp.Body)
		nextEvent := func() {
			t.Helper()
			for {
				line, err := events.ReadString('\n')
				if err != nil {
					t.Fatalf("the display's stream ended: %v", err)
				}
				if strings.HasPrefix(line, "data:") {
					return
				}
			}
		}
		nextEvent()
		time.Sleep(2 * shortTimeouts.Write) // past the write timeout
		if _, _, err := site.Store.IssueTicket(context.Background(), "ausweis", "kiosk", ""); err != nil {
			t.Fatal(err)
		}
		nextEvent()
	})
	t.Run("LongPoll", func(t *testing.T) {
		for !site.Uplink.Status().Enrolled {
			select {
			case <-t.Context().Done():
				t.Fatal("the appliance never enrolled")
			case <-time.After(20 * time.Millisecond):
			}
		}
		poll := func(after uint64, wait time.Duration) (*changelog.Download, error) {
			q := url.Values{"site": {"kalk"}, "after": {itoa(after)}, "wait": {wait.String()}}
			req, _ := http.NewRequest("GET", central.URL+"/api/v1/sync/outbound?"+q.Encode(), nil)
			changelog.SignRequest(req, "kalk", site.Key, time.Now())
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return nil, err
			}
			defer resp.Body.Close()
			return changelog.ReadDownload(resp.Body)
		}
		dl, err := poll(0, 0)
		if err != nil {
			t.Fatal(err)
		}
		// Nothing new after the head: the poll waits, longer than the
		// write timeout, and still gets its (empty) answer.
		dl, err = poll(dl.Head, 2*shortTimeouts.Write)
		if err != nil {
			t.Fatalf("a long poll past the write timeout: %v", err)
		}
		if dl.Site != "kalk" || dl.Error != "" {
			t.Errorf("long poll answered %+v", dl)
		}
	})
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
