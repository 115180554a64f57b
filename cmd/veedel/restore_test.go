package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/sitekey"
)

// TestRestoreSiteFromCentral: a school-health site records full exams
// through its API (assistant and doctor logins) and issues tickets, and
// syncs; the appliance is stopped and its data directory deleted. A new
// appliance, enrolled with a new token, restores the site from central's
// copy of the log with the health office's escrow key (veedel appliance
// restore): every exam record is byte for byte the one the old appliance
// had, and so are the exams, keys and tickets tables and the queue state.
// The restored appliance goes on: its new entries reach central without a
// gap, a duplicate or a fork, and a second restore into its data directory
// is refused.
func TestRestoreSiteFromCentral(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	escrowFile := filepath.Join(dir, "escrow", "gesundheitsamt-escrow.key")
	os.MkdirAll(filepath.Dir(escrowFile), 0o700)
	escrow, err := exam.WriteEscrowKey(escrowFile)
	if err != nil {
		t.Fatal(err)
	}
	_, central := startCentral(t, dir, "127.0.0.1:0")
	const site = "gesundheitsamt"
	users := []userSpec{{Name: "demo", Password: "demo", Role: sqlite.RoleLead}, {Name: "aerztin", Password: "demo", Role: sqlite.RoleDoctor},
		{Name: "assistenz", Password: "demo", Role: sqlite.RoleAssistant}}
	cfg := applianceConfig{Site: site, DB: filepath.Join(dir, site+".db"), CentralURL: central.URL, ExamEscrowPub: escrowFile + ".pub",
		Users: users, Heartbeat: 200 * time.Millisecond, BatchEntries: 7}
	old, oldRun := startAppliance(t, cfg)

	today := time.Now().Format(time.DateOnly)
	var ids []string
	children := []struct{ family, given, birth, sex, code string }{
		{"Quaxelbrink", "Philippa", "2020-11-03", "w", "QX7PL29KD"},
		{"Yılmaz", "Elif", "2020-10-14", "w", "YL4EF81MZ"},
		{"Nowak-Oberhäuser", "Jan", "2021-02-27", "m", ""},
	}
	for i, c := range children {
		reg := map[string]any{"family_name": c.family, "given_names": c.given, "birth_date": c.birth, "sex": c.sex,
			"street": fmt.Sprintf("Zwirnereigasse %d", 10+i), "postcode": "50667", "city": "Köln", "parent_name": "Eltern " + c.family,
			"school_district": "Innenstadt", "year": 2027, "day": today, "slot": fmt.Sprintf("09:%02d", 10*i)}
		if c.code != "" {
			reg["code"] = c.code
		}
		id := examCall(t, old.URL, "assistenz", "POST", "/api/v1/exams", reg, http.StatusCreated)["id"].(string)
		ids = append(ids, id)
		if c.code != "" {
			if _, _, err := old.Store.CheckIn(ctx, c.code, "desk"); err != nil {
				t.Fatal(err)
			}
		}
		examCall(t, old.URL, "assistenz", "POST", "/api/v1/exams/"+id+"/measurements", map[string]any{"height_cm": 116.2 + float64(i), "weight_kg": 20.4 + float64(i), "device": "seca"}, 200)
		examCall(t, old.URL, "assistenz", "POST", "/api/v1/exams/"+id+"/measurements", map[string]any{
			"vision":       map[string]any{"right": map[string]any{"without": 1.0}, "left": map[string]any{"without": 0.63}},
			"hearing":      map[string]any{"right": map[string]int{"500": 10, "1000": 10, "2000": 15, "4000": 10}, "left": map[string]int{"500": 10, "1000": 10, "2000": 10, "4000": 10}},
			"sopess":       map[string][]int{"sprache": {1, 1, 1, 1, 1, 1, 1, 0, 0, 1}},
			"vaccinations": map[string]any{"impfpass_shown": true, "doses": map[string]int{"masern": 2, "tetanus": 3}},
		}, 200)
		if i < 2 { // the third child's exam is still open when the box is lost
			examCall(t, old.URL, "aerztin", "POST", "/api/v1/exams/"+id+"/sign-off", map[string]any{"recommendation": "schulfaehig", "support": []string{}, "referrals": []string{"Augenärztin"}}, 200)
		}
	}
	issueTickets(t, old.URL, 5, "schuleingang")
	before := siteImage(t, old.Store)
	if len(before.records) != 3 {
		t.Fatalf("%d exam records before, want 3", len(before.records))
	}
	last := old.Store.LastSeq()
	waitAcked(t, central.URL, site, last)
	oldRun.stop()

	// The box is lost: its database and key with it.
	for _, f := range []string{site + ".db", site + ".db-wal", site + ".db-shm", site + ".key"} {
		os.Remove(filepath.Join(dir, f))
	}
	// Central holds the exams only as ciphertext; the escrow key opens
	// them to the same bytes.
	centralDB := filepath.Join(dir, "central.db")
	fromCentral := centralEntries(t, centralDB, site)
	if uint64(len(fromCentral)) != last {
		t.Fatalf("central holds %d entries, the site wrote %d", len(fromCentral), last)
	}
	for _, e := range fromCentral {
		for _, c := range children {
			if bytes.Contains(e.Payload, []byte(c.family)) || bytes.Contains(e.Payload, []byte(c.birth)) {
				t.Fatalf("central's entry %d (%s) carries %s's data in clear", e.Seq, e.Type, c.family)
			}
		}
	}

	// Without a token, with a bad escrow key: refused with one line.
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"appliance", "restore", "-site", site, "-data", dir, "-central", central.URL}, &stdout, &stderr); code != 2 || strings.Count(stderr.String(), "\n") != 1 {
		t.Fatalf("restore without a token: exit %d, %q", code, stderr.String())
	}
	token := newEnrollmentToken(t, centralDB, site, time.Hour)
	stderr.Reset()
	if code := run(ctx, []string{"appliance", "restore", "-site", site, "-data", dir, "-central", central.URL, "-enroll-token", token, "-exam-escrow-key", escrowFile + ".pub"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "exam-escrow-key") {
		t.Fatalf("restore with the public key: exit %d, %q", code, stderr.String())
	}

	// Restored without the escrow key: refused, and nothing is left
	// behind (the same token works for the next try: the key is enrolled).
	stderr.Reset()
	if code := run(ctx, []string{"appliance", "restore", "-site", site, "-data", dir, "-central", central.URL, "-enroll-token", token}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "escrow") {
		t.Fatalf("restore without the escrow key: exit %d, %q", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, site+".db")); err == nil {
		t.Fatal("a failed restore left a site database behind")
	}

	// A damaged copy at central (one payload byte flipped on disk) stops
	// the restore: its hash no longer holds.
	damage := func(flip bool) {
		t.Helper()
		db, err := sql.Open("sqlite", "file:"+centralDB+"?_pragma=busy_timeout(5000)")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		p := bytes.Clone(fromCentral[9].Payload)
		if flip {
			p[len(p)-1] ^= 1
		}
		if _, err := db.Exec(`UPDATE site_log SET payload = ? WHERE site = ? AND seq = 10`, p, site); err != nil {
			t.Fatal(err)
		}
	}
	damage(true)
	stderr.Reset()
	if code := run(ctx, []string{"appliance", "restore", "-site", site, "-data", dir, "-central", central.URL, "-enroll-token", token, "-exam-escrow-key", escrowFile}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "entry 10") {
		t.Fatalf("restore from a damaged copy: exit %d, %q", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, site+".db")); err == nil {
		t.Fatal("a refused restore left a site database behind")
	}
	damage(false)

	// The restore, in pages of 4 entries.
	start := time.Now()
	res, err := restoreSite(ctx, restoreConfig{Site: site, DB: filepath.Join(dir, site+".db"), CentralURL: central.URL, EnrollToken: token,
		EscrowKeys: []string{escrowFile}, Logger: testLogger(t), PageEntries: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("restored %d entries (%d exams, %d tickets) in %v", res.Entries, res.Exams, res.Tickets, time.Since(start).Round(time.Millisecond))
	if res.Entries != last || res.Exams != 3 || res.Rewraps != 1 {
		t.Fatalf("restore: %+v, want %d entries, 3 exams, 1 key", res, last)
	}

	// The new appliance: the same site, a new key, the log as it was.
	cfg.ExamEscrowPub = "" // the escrow in force came back with the log
	cfg.EnrollToken = ""
	restored, _ := startAppliance(t, cfg)
	after := siteImage(t, restored.Store)
	for id, rec := range before.records {
		if !bytes.Equal(after.records[id], rec) {
			t.Fatalf("exam %s: the restored record differs:\nbefore %x\nafter  %x", id, rec, after.records[id])
		}
	}
	for _, table := range []string{"exams", "exam_keys", "tickets", "changelog"} {
		a, b := before.tables[table], after.tables[table]
		if table == "changelog" {
			b = b[:len(a)] // and the re-wrapped key after it
		}
		if !slices.Equal(a, b) {
			t.Fatalf("table %s differs after the restore:\nbefore %q\nafter  %q", table, a, b)
		}
	}
	// The queue state is the same, but for the count of events folded:
	// the re-wrapped key came after the restored entries.
	var stateBefore, stateAfter queue.Snapshot
	if changelog.Unmarshal(before.state, &stateBefore) != nil || changelog.Unmarshal(after.state, &stateAfter) != nil {
		t.Fatal("snapshot unreadable")
	}
	if stateAfter.Applied != stateBefore.Applied+1 {
		t.Fatalf("restored state folded %d events, want %d", stateAfter.Applied, stateBefore.Applied+1)
	}
	stateAfter.Applied = stateBefore.Applied
	if a, b := mustJSON(t, stateBefore), mustJSON(t, stateAfter); a != b {
		t.Fatalf("the restored queue state differs:\nbefore %s\nafter  %s", a, b)
	}
	if after.tables["changelog"][last] == "" || !strings.Contains(after.tables["changelog"][last], exam.TypeKeyCreated) {
		t.Fatalf("no exam.key_created after the restored entries: %q", after.tables["changelog"][last:])
	}
	newKey, _ := sitekey.Load(filepath.Join(dir, site+".key"))
	if newKey == nil || !restored.Key.Equal(newKey) {
		t.Fatal("the appliance does not run with the key the restore enrolled")
	}

	if got := restored.Store.LastSeq(); got != last+1 {
		t.Fatalf("the restored site made entries by itself: last seq %d, want %d", got, last+1)
	}

	// The restored site reads and writes its exams, and goes on syncing.
	rec := examCall(t, restored.URL, "assistenz", "GET", "/api/v1/exams/"+ids[0], nil, 200)
	if !strings.Contains(fmt.Sprint(rec), "Quaxelbrink") {
		t.Fatalf("restored record: %v", rec)
	}
	examCall(t, restored.URL, "aerztin", "POST", "/api/v1/exams/"+ids[2]+"/sign-off", map[string]any{"recommendation": "schulfaehig_mit_foerderung", "support": []string{"sehen"}, "referrals": []string{}}, 200)
	newID := examCall(t, restored.URL, "assistenz", "POST", "/api/v1/exams", map[string]any{"family_name": "Brückner", "given_names": "Mia", "birth_date": "2021-01-05", "sex": "w",
		"school_district": "Kalk", "year": 2027, "day": today, "slot": "11:00"}, http.StatusCreated)["id"].(string)
	issueTickets(t, restored.URL, 3, "schuleingang")
	final := restored.Store.LastSeq()
	waitAcked(t, central.URL, site, final)
	entries := centralEntries(t, centralDB, site)
	siteEntries, err := restored.Store.EntriesAfter(ctx, 0, 100000, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(entries)) != final || len(siteEntries) != len(entries) {
		t.Fatalf("central holds %d entries, the site %d, its last seq %d", len(entries), len(siteEntries), final)
	}
	for i := range entries {
		if entries[i].Seq != uint64(i+1) || !bytes.Equal(entries[i].Hash, siteEntries[i].Hash) {
			t.Fatalf("entry %d: central %d %x, site %d %x", i+1, entries[i].Seq, entries[i].Hash, siteEntries[i].Seq, siteEntries[i].Hash)
		}
	}
	var types []string
	for _, e := range entries[last:] {
		types = append(types, e.Type)
	}
	want := []string{exam.TypeKeyCreated, exam.TypeSignedOff, exam.TypeStatistics, exam.TypeOpened, exam.TypeScheduled,
		queue.TypeTicketIssued, queue.TypeTicketIssued, queue.TypeTicketIssued}
	if !slices.Equal(types, want) {
		t.Fatalf("after the restore central holds %q, want %q", types, want)
	}
	// The escrow key alone opens central's copy to the site's records,
	// the ones made after the restore included.
	opened, err := exam.OpenWithEscrow(escrow, entries)
	if err != nil {
		t.Fatal(err)
	}
	now, err := exam.Records(ctx, restored.Store.Read())
	if err != nil {
		t.Fatal(err)
	}
	if len(opened) != 4 || len(now) != 4 || now[newID] == nil {
		t.Fatalf("%d records from central, %d at the site, want 4", len(opened), len(now))
	}
	for id, blob := range now {
		if !bytes.Equal(opened[id], blob) {
			t.Fatalf("exam %s: central's copy opens to other bytes than the site holds", id)
		}
	}

	// A second restore into the site's data directory is refused.
	stderr.Reset()
	token2 := newEnrollmentToken(t, centralDB, site, time.Hour)
	if code := run(ctx, []string{"appliance", "restore", "-site", site, "-data", dir, "-central", central.URL, "-enroll-token", token2, "-exam-escrow-key", escrowFile}, &stdout, &stderr); code != 2 ||
		strings.Count(stderr.String(), "\n") != 1 || !strings.Contains(stderr.String(), "holds the site's log") {
		t.Fatalf("restore into a used data directory: exit %d, %q", code, stderr.String())
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// examCall sends an exam API request as user and returns the decoded
// answer, failing unless the status is want.
func examCall(t *testing.T, base, user, method, path string, body any, want int) map[string]any {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.SetBasicAuth(user, "demo")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	var raw bytes.Buffer
	raw.ReadFrom(res.Body)
	json.Unmarshal(raw.Bytes(), &out)
	if res.StatusCode != want {
		t.Fatalf("%s %s as %s: %d %s", method, path, user, res.StatusCode, raw.String())
	}
	return out
}

// siteState is what a restore must bring back: the exam records, the rows
// of the tables built from the log and the queue state's snapshot.
type siteState struct {
	records map[string][]byte
	tables  map[string][]string
	state   []byte
}

func siteImage(t *testing.T, store *sqlite.Store) siteState {
	t.Helper()
	ctx := context.Background()
	recs, err := exam.Records(ctx, store.Read())
	if err != nil {
		t.Fatal(err)
	}
	img := siteState{records: recs, tables: map[string][]string{}}
	for table, query := range map[string]string{
		"exams":     `SELECT * FROM exams ORDER BY id`,
		"exam_keys": `SELECT * FROM exam_keys ORDER BY id`,
		"tickets":   `SELECT * FROM tickets ORDER BY id`,
		"changelog": `SELECT seq, version, hlc, type, entity, payload, prev, hash FROM changelog ORDER BY seq`,
	} {
		img.tables[table] = dumpRows(t, store.Read(), query)
	}
	if len(img.tables["exams"]) == 0 || len(img.tables["tickets"]) == 0 {
		t.Fatalf("nothing to compare: %d exams, %d tickets", len(img.tables["exams"]), len(img.tables["tickets"]))
	}
	store.View(func(st *queue.State) {
		img.state, err = changelog.Marshal(st.Snapshot())
	})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func dumpRows(t *testing.T, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string) []string {
	t.Helper()
	rows, err := q.QueryContext(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			if blob, ok := v.([]byte); ok {
				fmt.Fprintf(&b, "%s=%x;", cols[i], blob)
			} else {
				fmt.Fprintf(&b, "%s=%v;", cols[i], v)
			}
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitAcked waits until central has stored site's log through seq.
func waitAcked(t *testing.T, centralURL, site string, seq uint64) {
	t.Helper()
	eventually(t, 20*time.Second, "central to store the log", func() (bool, string) {
		_, acked, _ := siteSummary(centralURL, site)
		return acked >= seq, describe("acked %d, want %d", acked, seq)
	})
}

// centralEntries reads site's log from central's SQLite file.
func centralEntries(t *testing.T, centralDB, site string) []changelog.Entry {
	t.Helper()
	store := openCentralStore(t, centralDB)
	defer store.Close()
	var out []changelog.Entry
	if err := store.Scan(context.Background(), site, 0, func(e changelog.Entry) error {
		out = append(out, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
