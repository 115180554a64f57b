package main

import (
	"database/sql"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// TestOfflineSiteCatchesUp is the walking skeleton's promise: a site keeps
// issuing tickets while central is down, survives restarts (one before
// central comes back, one in the middle of catching up), and once central
// is up every ticket is visible there exactly once, within 5 s.
func TestOfflineSiteCatchesUp(t *testing.T) {
	dir := t.TempDir()
	centralAddr := freeAddr(t)
	cfg := applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"),
		CentralURL: "http://" + centralAddr, PortalURL: "http://" + centralAddr,
		Heartbeat: time.Second, BatchEntries: 25}

	_, app := startAppliance(t, cfg)
	tokens := issueTickets(t, app.URL, 100, "meldung")

	// Restart the appliance while central is still down.
	app.stop()
	_, app = startAppliance(t, cfg)
	tokens = append(tokens, issueTickets(t, app.URL, 100, "meldung")...)

	started := time.Now()
	_, cent := startCentral(t, dir, centralAddr)

	// Restart the appliance again as soon as central has part of the log.
	eventually(t, 5*time.Second, "central receives the first batch", func() (bool, string) {
		_, acked, ok := siteSummary(cent.URL, "kalk")
		return ok && acked > 0, describe("acked %d", acked)
	})
	app.stop()
	appNode, app := startAppliance(t, cfg)
	last := appNode.Store.LastSeq()

	eventually(t, 5*time.Second, "central has every ticket", func() (bool, string) {
		waiting, acked, ok := siteSummary(cent.URL, "kalk")
		return ok && waiting == 200 && acked == last, describe("waiting %d, acked %d of %d", waiting, acked, last)
	})
	t.Logf("central caught up %d entries in %v", last, time.Since(started).Round(time.Millisecond))

	seen := map[string]bool{}
	for _, token := range tokens {
		var st struct {
			Number, Site, Status string
			Position             int
		}
		if code, err := getJSON(cent.URL+"/api/v1/tickets/"+token, &st); err != nil || code != http.StatusOK {
			t.Fatalf("ticket %s at central: status %d, %v", st.Number, code, err)
		}
		if st.Site != "kalk" || st.Status != "waiting" {
			t.Errorf("ticket %s: site %q status %q, want kalk waiting", st.Number, st.Site, st.Status)
		}
		if seen[st.Number] {
			t.Errorf("ticket number %s seen twice", st.Number)
		}
		seen[st.Number] = true
	}
	if len(seen) != 200 {
		t.Errorf("central shows %d distinct tickets, want 200", len(seen))
	}

	// Exactly once in central's log: seq 1..last, no gaps, no duplicates.
	app.stop()
	cent.stop()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "central.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var count, distinct, maxSeq uint64
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT seq), max(seq) FROM site_log WHERE site = 'kalk'`).Scan(&count, &distinct, &maxSeq); err != nil {
		t.Fatal(err)
	}
	if count != last || distinct != last || maxSeq != last {
		t.Errorf("central log: %d rows, %d distinct seqs, max %d; want %d of each", count, distinct, maxSeq, last)
	}
}
