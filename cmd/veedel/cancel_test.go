package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
)

// A citizen cancels on central's status page; the site decides, and the
// decision comes back to the status page.
func TestCitizenCancelReachesSite(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cn, cent := startCentral(t, dir, addr)
	app, _ := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"),
		CentralURL: cent.URL, PortalURL: cent.URL, Heartbeat: time.Second})
	tokens := issueTickets(t, app.URL, 2, "ausweis")
	synced(t, cent.URL, app, 5*time.Second)
	token := tokens[1]

	page := func() (int, string) {
		resp, err := http.Get(cent.URL + "/t/" + token)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	post := func() int {
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Post(cent.URL+"/t/"+token+"/cancel", "application/x-www-form-urlencoded", strings.NewReader(""))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status, body := page(); status != http.StatusOK || !strings.Contains(body, "Ticket stornieren") {
		t.Fatalf("status page %d without the cancel button", status)
	}

	sent := time.Now()
	if got := post(); got != http.StatusSeeOther {
		t.Fatalf("POST cancel = %d, want 303", got)
	}
	eventually(t, 2*time.Second, "the site's queue no longer has the ticket", func() (bool, string) {
		var status string
		var waiting int
		app.Store.View(func(st *queue.State) {
			if tk := st.TicketByToken(token); tk != nil {
				status = tk.Status
			}
			waiting = st.WaitingCount()
		})
		return status == queue.StatusCancelled && waiting == 1, describe("status %q, %d waiting", status, waiting)
	})
	t.Logf("cancellation reached the site in %v", time.Since(sent).Round(time.Millisecond))
	eventually(t, 5*time.Second, "central's status page shows the ticket cancelled", func() (bool, string) {
		st, ok := cn.Central.Ticket(token)
		_, body := page()
		return ok && st.Status == queue.StatusCancelled && !st.CancelRequested && strings.Contains(body, `data-field="state">Storniert<`),
			describe("%+v", st)
	})

	// Pressed again: the ticket has ended, nothing more goes down.
	if got := post(); got != http.StatusConflict {
		t.Errorf("second POST cancel = %d, want 409", got)
	}
	inbox, err := app.Store.InboxEntries(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var requests []string
	for _, e := range inbox {
		if e.Type == queue.TypeCancelRequested {
			requests = append(requests, e.Outcome)
		}
	}
	if len(requests) != 1 || requests[0] != "applied" {
		t.Errorf("the site's inbox took in cancellation requests %v, want one applied", requests)
	}
}
