package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/server"
	"github.com/veedel/veedel/sync/changelog"
)

// The open-data tests read the feeds as an existing consumer does: generic
// JSON (map[string]any, []any), exact field names, exact value types.

const (
	feedOD          = "/open-data/waiting-od.json"
	feedWartezeiten = "/open-data/wartezeiten.json"
	feedRich        = "/open-data/waiting-times.json"
)

var odTimestampRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`)

// set moves the clock to t.
func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// addSite connects a site open Monday to Friday 7:30–18:00 whose walk-in
// wait is minutes: one service of that many minutes, one counter, and one
// ticket waiting (none for 0).
func (e *env) addSite(id, name string, minutes int) {
	e.t.Helper()
	e.addSiteWalkIn(id, name, minutes, nil)
}

// addSiteWalkIn is addSite with walk-in hours.
func (e *env) addSiteWalkIn(id, name string, minutes int, walkIn []queue.OpeningHours) {
	e.t.Helper()
	if id != siteID {
		e.enroll(id, siteKey(id))
	}
	l := &siteLog{t: e.t, clk: e.Clock, site: id, hlc: changelog.NewClock(e.Clock.Now, 0)}
	var hours []queue.OpeningHours
	for d := time.Monday; d <= time.Friday; d++ {
		hours = append(hours, queue.OpeningHours{Weekday: d, Open: 7*60 + 30, Close: 18 * 60})
	}
	l.add(queue.TypeSiteDescribed, "site/"+id, &queue.SiteDescribed{ID: id, Name: name, TimeZone: "Europe/Berlin", Hours: hours, WalkIn: walkIn})
	l.add(queue.TypeServiceDefined, "service/meldung", &queue.ServiceDefined{ID: "meldung", Name: "An- und Ummeldung", NameEN: "Registering an address", Prefix: "B", ExpectedMinutes: max(minutes, 1)})
	l.add(queue.TypeCounterDefined, "counter/1", &queue.CounterDefined{ID: "1", Name: "Platz 1", Services: []string{"meldung"}})
	if minutes > 0 {
		day := e.Clock.Now().In(berlin).Format(time.DateOnly)
		l.add(queue.TypeTicketIssued, "ticket/"+day+"/B001", &queue.TicketIssued{ID: day + "/B001", Token: "tok-" + id + "-B001", Number: "B001", Service: "meldung", Channel: "kiosk"})
	}
	e.mustPost(l.batch(1, uint64(len(l.entries))))
	// The fixture relies on the queue's estimate of one ticket ahead.
	var sites []map[string]any
	e.getJSON("/api/v1/sites", &sites)
	for _, s := range sites {
		if s["id"] == id && s["estimated_wait_minutes"] != float64(minutes) {
			e.t.Fatalf("fixture: %s estimated_wait_minutes = %v, want %d (the queue's estimate changed: adjust addSite)", id, s["estimated_wait_minutes"], minutes)
		}
	}
}

// alive sends a current heartbeat for each site.
func (e *env) alive(sites ...string) {
	e.t.Helper()
	for _, s := range sites {
		e.mustPost(heartbeat(e.t, s, e.Clock.Now(), true))
	}
}

// request sends any method with header pairs and returns the response and
// its body.
func (e *env) request(method, path string, header ...string) (*http.Response, string) {
	e.t.Helper()
	return request(e.t, method, e.URL+path, header...)
}

func request(t *testing.T, method, target string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp, buf.String()
}

// feed fetches an open-data feed from base as a consumer does and decodes
// it into generic JSON, numbers kept as json.Number.
func feed(t *testing.T, base, path string) map[string]any {
	t.Helper()
	resp, body := request(t, http.MethodGet, base+path)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status = %d, body %q", path, resp.StatusCode, body)
	}
	if got, want := resp.Header.Get("Content-Type"), "application/json; charset=utf-8"; got != want {
		t.Fatalf("GET %s: Content-Type = %q, want %q", path, got, want)
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("GET %s: %v in %q", path, err, body)
	}
	return v
}

// wantKeys checks that m has exactly the given keys.
func wantKeys(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(keys))
	if !slices.Equal(got, want) {
		t.Errorf("%s: keys = %q, want %q", what, got, want)
	}
}

func asObject(t *testing.T, what string, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s = %#v, want an object", what, v)
	}
	return m
}

func asArray(t *testing.T, what string, v any) []any {
	t.Helper()
	a, ok := v.([]any)
	if !ok {
		t.Fatalf("%s = %#v, want an array", what, v)
	}
	return a
}

// asInt reads an integer JSON number (no fraction, no exponent).
func asInt(t *testing.T, what string, v any) int {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%s = %#v, want a number", what, v)
	}
	i, err := strconv.Atoi(n.String())
	if err != nil {
		t.Fatalf("%s = %s, want an integer", what, n)
	}
	return i
}

// odItems reads the first shape as a consumer does: checks its envelope and
// that every item has exactly the six fields, all strings, and returns the
// items by title_anz.
func odItems(t *testing.T, base string) map[string]map[string]string {
	t.Helper()
	f := feed(t, base, feedOD)
	wantKeys(t, "waiting-od.json", f, "success", "items")
	if got, want := f["success"], any(true); got != want {
		t.Errorf("success = %#v, want %#v", got, want)
	}
	out := map[string]map[string]string{}
	for i, v := range asArray(t, "items", f["items"]) {
		what := "items[" + strconv.Itoa(i) + "]"
		m := asObject(t, what, v)
		wantKeys(t, what, m, "title_anz", "timestamp", "link", "status", "sondertext", "wartezeit_minuten")
		item := map[string]string{}
		for k, v := range m {
			s, ok := v.(string)
			if !ok {
				t.Errorf("%s.%s = %#v (%T), want a string", what, k, v, v)
			}
			item[k] = s
		}
		if !odTimestampRE.MatchString(item["timestamp"]) {
			t.Errorf("%s.timestamp = %q, want YYYY-MM-DD HH:MM:SS", what, item["timestamp"])
		}
		if !slices.Contains([]string{"1", "2", "3"}, item["status"]) {
			t.Errorf("%s.status = %q, want \"1\", \"2\" or \"3\"", what, item["status"])
		}
		if w := item["wartezeit_minuten"]; w != "" {
			if _, err := strconv.Atoi(w); err != nil {
				t.Errorf("%s.wartezeit_minuten = %q, want whole minutes or \"\"", what, w)
			}
		}
		out[item["title_anz"]] = item
	}
	return out
}

// wzEntry is one entry of the second shape, with the section and group it
// is in.
type wzEntry struct {
	Section   string
	Group     string
	URL       string
	Wartezeit int
}

// wzSectionTitles are the second shape's sections, as the city names them.
var wzSectionTitles = map[string]string{
	"meldeangelegenheiten": "Wartezeiten in den Kundenzentren",
	"fuehrerscheinwesen":   "Wartezeiten in der Kfz-Zulassung und im Führerscheinwesen",
	"schulgesundheit":      "Wartezeiten im Schulgesundheitsdienst",
}

// wzGroupTitles are the second shape's groups in order, titled as the city
// does.
var wzGroupTitles = [][2]string{{"unter_30", "Unter 30 Minuten"}, {"unter_60", "Unter 1 Stunde"}, {"ueber_60", "Über 1 Stunde"}}

// wartezeiten reads the second shape as a consumer does and returns the
// top level and the entries by name, in the order listed. Every section
// and group must be one the city has, with its title; groups come in order
// and only with entries, as in the city's feed; the customer centres'
// section is always there (central's directory starts with them).
func wartezeiten(t *testing.T, base string) (top map[string]any, names []string, entries map[string]wzEntry) {
	t.Helper()
	f := feed(t, base, feedWartezeiten)
	wantKeys(t, "wartezeiten.json", f, "stand", "stand_iso", "status", "sondertext", "bereiche")
	for _, k := range []string{"stand", "stand_iso", "sondertext"} {
		if _, ok := f[k].(string); !ok {
			t.Errorf("%s = %#v, want a string", k, f[k])
		}
	}
	if status := asInt(t, "status", f["status"]); status != 1 && status != 2 {
		t.Errorf("status = %d, want 1 or 2", status)
	}
	entries = map[string]wzEntry{}
	seen := map[string]bool{}
	for i, bv := range asArray(t, "bereiche", f["bereiche"]) {
		b := asObject(t, "bereiche[i]", bv)
		wantKeys(t, "bereiche["+strconv.Itoa(i)+"]", b, "id", "titel", "gruppen")
		id, _ := b["id"].(string)
		if title, ok := wzSectionTitles[id]; !ok || b["titel"] != title || seen[id] {
			t.Errorf("bereiche[%d] = %q %q: not a section of the city's, or twice", i, b["id"], b["titel"])
		}
		seen[id] = true
		next := 0 // groups in order, each once
		for _, g := range asArray(t, "gruppen", b["gruppen"]) {
			gm := asObject(t, "gruppe", g)
			wantKeys(t, "gruppe", gm, "id", "titel", "eintraege")
			j := slices.IndexFunc(wzGroupTitles, func(w [2]string) bool { return w[0] == gm["id"] })
			if j < next || wzGroupTitles[j][1] != gm["titel"] {
				t.Errorf("%s: gruppe %q %q: unknown, out of order or titled otherwise than the city's", id, gm["id"], gm["titel"])
				continue
			}
			next = j + 1
			eintraege := asArray(t, "eintraege", gm["eintraege"])
			if len(eintraege) == 0 {
				t.Errorf("%s: gruppe %q has no entries: the city leaves such a group out", id, gm["id"])
			}
			for _, en := range eintraege {
				em := asObject(t, "eintrag", en)
				wantKeys(t, "eintrag", em, "name", "url", "wartezeit")
				name, _ := em["name"].(string)
				u, ok := em["url"].(string)
				if name == "" || !ok {
					t.Errorf("eintrag %#v: name and url must be strings", em)
				}
				names = append(names, name)
				entries[name] = wzEntry{Section: id, Group: wzGroupTitles[j][0], URL: u, Wartezeit: asInt(t, "wartezeit", em["wartezeit"])}
			}
		}
	}
	if !seen["meldeangelegenheiten"] {
		t.Errorf("wartezeiten.json has no section meldeangelegenheiten")
	}
	return f, names, entries
}

// richSites reads Veedel's own shape and returns the top level and the
// sites by id.
func richSites(t *testing.T, base string) (map[string]any, map[string]map[string]any) {
	t.Helper()
	f := feed(t, base, feedRich)
	wantKeys(t, "waiting-times.json", f, "generated_at", "stale_after_seconds", "sites")
	out := map[string]map[string]any{}
	for _, v := range asArray(t, "sites", f["sites"]) {
		m := asObject(t, "site", v)
		wantKeys(t, "site", m, "id", "name", "kind", "url", "page", "open", "walk_in", "waiting", "estimated_wait_minutes", "last_sync", "age_seconds", "stale")
		id, _ := m["id"].(string)
		out[id] = m
	}
	return f, out
}

// kalkPage is Kalk's public page in the Cologne seed of central's
// directory.
const kalkPage = "https://www.stadt-koeln.de/service/adressen/00184/index.html"

func TestOpenData_WaitingOD(t *testing.T) {
	e := newEnv(t)
	e.addSite("kalk", "Kundenzentrum Kalk", 28)
	e.addSite("porz", "Kundenzentrum Porz", 0)
	// A site recorded from its log, without a public page of its own.
	e.addSite("kz-neu", "Kundenzentrum Neu", 5)

	items := odItems(t, e.URL)
	if got, want := len(items), 3; got != want {
		t.Fatalf("items: %d, want %d: %v", got, want, items)
	}
	kalk := items["Kundenzentrum Kalk"]
	want := map[string]string{
		"title_anz": "Kundenzentrum Kalk", "timestamp": "2026-03-04 10:00:00", "link": kalkPage,
		"status": "1", "sondertext": "", "wartezeit_minuten": "28",
	}
	for k, w := range want {
		if kalk[k] != w {
			t.Errorf("Kalk %s = %q, want %q", k, kalk[k], w)
		}
	}
	if got, want := items["Kundenzentrum Porz"]["wartezeit_minuten"], "0"; got != want {
		t.Errorf("Porz wartezeit_minuten = %q, want %q", got, want)
	}
	// A site without a public page links the portal.
	neu := items["Kundenzentrum Neu"]["link"]
	u, err := url.Parse(neu)
	if err != nil || !u.IsAbs() || u.Host == "" || neu != e.URL+"/#site-kz-neu" {
		t.Errorf("link %q is not the portal's absolute URL of the site", neu)
	}
	if resp, _ := request(t, http.MethodGet, neu); resp.StatusCode != http.StatusOK {
		t.Errorf("GET link %s: status %d", neu, resp.StatusCode)
	}
}

// TestOpenData_LocalTime: every time in the feeds is Cologne's local time,
// in summer (UTC+2) and in winter (UTC+1).
func TestOpenData_LocalTime(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sync     time.Time
		od       string // the first shape's timestamp of the sync
		stand    string // the second shape's stand, 3 minutes later
		standISO string
		rich     string // the rich shape's last_sync
	}{
		{"Summer", time.Date(2026, 10, 5, 6, 0, 4, 0, time.UTC),
			"2026-10-05 08:00:04", "08:03", "2026-10-05T08:03:04+02:00", "2026-10-05T08:00:04+02:00"},
		{"Winter", time.Date(2026, 3, 4, 9, 0, 7, 0, time.UTC),
			"2026-03-04 10:00:07", "10:03", "2026-03-04T10:03:07+01:00", "2026-03-04T10:00:07+01:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.Clock.set(tc.sync)
			e.addSite("kalk", "Kundenzentrum Kalk", 28)
			// Three minutes later the timestamp still says when the site
			// last reported, not when the feed was read.
			e.Clock.Add(3 * time.Minute)

			kalk := odItems(t, e.URL)["Kundenzentrum Kalk"]
			if got := kalk["timestamp"]; got != tc.od {
				t.Errorf("waiting-od timestamp = %q, want %q", got, tc.od)
			}
			if got, want := kalk["status"], "1"; got != want {
				t.Errorf("waiting-od status = %q, want %q (open at this local time)", got, want)
			}

			top, _, entries := wartezeiten(t, e.URL)
			if got := top["stand"]; got != tc.stand {
				t.Errorf("stand = %q, want %q", got, tc.stand)
			}
			if got := top["stand_iso"]; got != tc.standISO {
				t.Errorf("stand_iso = %q, want %q", got, tc.standISO)
			}
			if _, ok := entries["Kalk"]; !ok {
				t.Errorf("Kalk missing in wartezeiten.json: %v", entries)
			}

			rtop, sites := richSites(t, e.URL)
			if got := sites["kalk"]["last_sync"]; got != tc.rich {
				t.Errorf("last_sync = %q, want %q", got, tc.rich)
			}
			if got, want := rtop["generated_at"], tc.standISO; got != want {
				t.Errorf("generated_at = %q, want %q", got, want)
			}
			if got, want := asInt(t, "age_seconds", sites["kalk"]["age_seconds"]), 180; got != want {
				t.Errorf("age_seconds = %d, want %d", got, want)
			}
		})
	}
}

// TestOpenData_Closed: status follows the opening hours.
func TestOpenData_Closed(t *testing.T) {
	e := newEnv(t)
	e.addSite("kalk", "Kundenzentrum Kalk", 28)
	e.Clock.Add(11 * time.Hour) // Wednesday 21:00: closed
	e.alive("kalk")             // fresh data, closed site

	kalk := odItems(t, e.URL)["Kundenzentrum Kalk"]
	if got, want := kalk["status"], "2"; got != want {
		t.Errorf("waiting-od status at 21:00 = %q, want %q", got, want)
	}
	if got, want := kalk["sondertext"], ""; got != want {
		t.Errorf("waiting-od sondertext at 21:00 = %q, want %q", got, want)
	}

	top, names, _ := wartezeiten(t, e.URL)
	if got, want := asInt(t, "status", top["status"]), 2; got != want {
		t.Errorf("wartezeiten status with every site closed = %d, want %d", got, want)
	}
	if len(names) != 0 {
		t.Errorf("wartezeiten lists closed sites: %q", names)
	}

	_, sites := richSites(t, e.URL)
	if got, want := sites["kalk"]["open"], any(false); got != want {
		t.Errorf("waiting-times open at 21:00 = %#v, want %#v", got, want)
	}
	if got, want := sites["kalk"]["stale"], any(false); got != want {
		t.Errorf("waiting-times stale = %#v, want %#v", got, want)
	}
}

// TestOpenData_AppointmentsOnly: a site with walk-in hours (Cologne's:
// Monday 7:30–15:00, Wednesday 7:30–12:00) is "3" while open outside them,
// is left out of the walk-in groups then, and says walk_in false; a site
// without walk-in hours serves walk-ins whenever open. The clock starts on
// Wednesday 4 March 2026, 10:00.
func TestOpenData_AppointmentsOnly(t *testing.T) {
	e := newEnv(t)
	e.addSiteWalkIn("kalk", "Kundenzentrum Kalk", 28, []queue.OpeningHours{
		{Weekday: time.Monday, Open: 7*60 + 30, Close: 15 * 60},
		{Weekday: time.Wednesday, Open: 7*60 + 30, Close: 12 * 60},
	})
	e.addSite("porz", "Kundenzentrum Porz", 45)

	for _, tc := range []struct {
		name            string
		after           time.Duration // from Wednesday 10:00
		kalk, porz      string        // waiting-od status
		kalkOpen        bool
		kalkWalkIn      bool
		porzWalkIn      bool
		listed          []string // wartezeiten.json names, in order
		wartezeitStatus int
	}{
		{"WednesdayWalkIn", 0, "1", "1", true, true, true, []string{"Kalk", "Porz"}, 1},
		{"WednesdayLastWalkInMinute", time.Hour + 59*time.Minute, "1", "1", true, true, true, []string{"Kalk", "Porz"}, 1},
		{"WednesdayAfternoon", 2 * time.Hour, "3", "1", true, false, true, []string{"Porz"}, 1},
		{"WednesdayEvening", 9 * time.Hour, "2", "2", false, false, false, nil, 2},
		{"ThursdayMorning", 23 * time.Hour, "3", "1", true, false, true, []string{"Porz"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.Clock.set(time.Date(2026, 3, 4, 10, 0, 0, 0, berlin).Add(tc.after))
			e.alive("kalk", "porz")
			stamp := e.Clock.Now().In(berlin).Format(time.DateTime)

			items := odItems(t, e.URL)
			wantKalk := map[string]string{
				"title_anz": "Kundenzentrum Kalk", "timestamp": stamp, "link": kalkPage,
				"status": tc.kalk, "sondertext": "", "wartezeit_minuten": "28",
			}
			if tc.kalk == "3" { // in the city's words
				wantKalk["sondertext"] = "nur mit Terminvereinbarung"
			}
			for k, w := range wantKalk {
				if got := items["Kundenzentrum Kalk"][k]; got != w {
					t.Errorf("waiting-od Kalk %s = %q, want %q", k, got, w)
				}
			}
			if got := items["Kundenzentrum Porz"]["status"]; got != tc.porz {
				t.Errorf("waiting-od Porz status = %q, want %q (no walk-in hours: never \"3\")", got, tc.porz)
			}

			top, names, _ := wartezeiten(t, e.URL)
			if !slices.Equal(names, tc.listed) {
				t.Errorf("wartezeiten.json lists %q, want %q", names, tc.listed)
			}
			if got := asInt(t, "status", top["status"]); got != tc.wartezeitStatus {
				t.Errorf("wartezeiten.json status = %d, want %d", got, tc.wartezeitStatus)
			}

			_, sites := richSites(t, e.URL)
			if got, want := sites["kalk"]["open"], any(tc.kalkOpen); got != want {
				t.Errorf("waiting-times kalk open = %#v, want %#v", got, want)
			}
			if got, want := sites["kalk"]["walk_in"], any(tc.kalkWalkIn); got != want {
				t.Errorf("waiting-times kalk walk_in = %#v, want %#v", got, want)
			}
			if got, want := sites["porz"]["walk_in"], any(tc.porzWalkIn); got != want {
				t.Errorf("waiting-times porz walk_in = %#v, want %#v", got, want)
			}
			if got, want := sites["kalk"]["estimated_wait_minutes"], any(json.Number("28")); got != want {
				t.Errorf("waiting-times kalk estimated_wait_minutes = %#v, want %#v", got, want)
			}
		})
	}
}

// TestOpenData_Groups: the boundaries of the second shape's groups. A wait
// under 30 minutes is "unter_30", 30 to 59 "unter_60", 60 and more
// "ueber_60"; within a group, shortest wait first.
func TestOpenData_Groups(t *testing.T) {
	e := newEnv(t)
	sites := []struct {
		id, name string
		minutes  int
		group    string
	}{
		{"porz", "Porz", 0, "unter_30"},
		{"chorweiler", "Chorweiler", 29, "unter_30"},
		{"ehrenfeld", "Ehrenfeld", 30, "unter_60"},
		{"kalk", "Kalk", 59, "unter_60"},
		{"nippes", "Nippes", 60, "ueber_60"},
		{"muelheim", "Mülheim", 94, "ueber_60"},
	}
	for _, s := range sites {
		e.addSite(s.id, "Kundenzentrum "+s.name, s.minutes)
	}

	top, names, entries := wartezeiten(t, e.URL)
	if got, want := asInt(t, "status", top["status"]), 1; got != want {
		t.Errorf("status = %d, want %d", got, want)
	}
	if got, want := top["sondertext"], ""; got != want {
		t.Errorf("sondertext = %q, want %q", got, want)
	}
	var wantNames []string
	for _, s := range sites {
		wantNames = append(wantNames, s.name)
		got, ok := entries[s.name]
		if !ok {
			t.Errorf("%s missing (names %q: without the \"Kundenzentrum \" prefix)", s.name, names)
			continue
		}
		if got.Group != s.group || got.Wartezeit != s.minutes {
			t.Errorf("%s: group %s, wartezeit %d; want %s, %d", s.name, got.Group, got.Wartezeit, s.group, s.minutes)
		}
		d, err := e.Store.DirectorySite(context.Background(), s.id)
		if err != nil || d.Page == "" {
			t.Fatalf("%s in the directory: %+v, %v; want it with a page", s.id, d, err)
		}
		if got.URL != d.Page {
			t.Errorf("%s: url %q, want its page %q", s.name, got.URL, d.Page)
		}
	}
	if !slices.Equal(names, wantNames) {
		t.Errorf("entries in order %q, want %q", names, wantNames)
	}

	// The first shape carries the same figures as strings.
	items := odItems(t, e.URL)
	for _, s := range sites {
		if got, want := items["Kundenzentrum "+s.name]["wartezeit_minuten"], strconv.Itoa(s.minutes); got != want {
			t.Errorf("waiting-od %s wartezeit_minuten = %q, want %q", s.name, got, want)
		}
	}
}

// TestOpenData_Stale: a site silent for more than 10 minutes is flagged and
// never shown with a live figure, in any of the three feeds.
func TestOpenData_Stale(t *testing.T) {
	e := newEnv(t)
	e.addSite("kalk", "Kundenzentrum Kalk", 28)
	e.addSite("porz", "Kundenzentrum Porz", 45)

	// 10 minutes without contact is still live (central.StaleAfter).
	e.Clock.Add(10 * time.Minute)
	e.alive("kalk")
	if got, want := odItems(t, e.URL)["Kundenzentrum Porz"]["wartezeit_minuten"], "45"; got != want {
		t.Errorf("Porz after 10 min: wartezeit_minuten = %q, want %q", got, want)
	}

	e.Clock.Add(time.Minute) // Porz: 11 minutes silent; Kalk: 1
	items := odItems(t, e.URL)
	porz, kalk := items["Kundenzentrum Porz"], items["Kundenzentrum Kalk"]
	if porz == nil {
		t.Fatalf("stale Porz must keep its item: %v", items)
	}
	wantPorz := map[string]string{
		"timestamp": "2026-03-04 10:00:00", "status": "1", "wartezeit_minuten": "",
		"sondertext": "Keine aktuellen Daten (Stand 10:00)",
	}
	for k, w := range wantPorz {
		if porz[k] != w {
			t.Errorf("stale Porz %s = %q, want %q", k, porz[k], w)
		}
	}
	if kalk["wartezeit_minuten"] != "28" || kalk["sondertext"] != "" || kalk["timestamp"] != "2026-03-04 10:10:00" {
		t.Errorf("live Kalk = %v, want wartezeit 28, no sondertext, timestamp 10:10:00", kalk)
	}

	top, names, entries := wartezeiten(t, e.URL)
	if _, ok := entries["Porz"]; ok {
		t.Errorf("stale Porz listed in wartezeiten.json: %v", entries)
	}
	if !slices.Equal(names, []string{"Kalk"}) {
		t.Errorf("wartezeiten.json lists %q, want [Kalk]", names)
	}
	if got, want := top["sondertext"], "Keine aktuellen Daten: Porz"; got != want {
		t.Errorf("sondertext = %q, want %q", got, want)
	}
	if got, want := asInt(t, "status", top["status"]), 1; got != want {
		t.Errorf("status with Kalk live = %d, want %d", got, want)
	}

	_, sites := richSites(t, e.URL)
	wantRich := func(id string, stale bool, waiting, minutes any, age int, lastSync string) {
		t.Helper()
		s := sites[id]
		if s["stale"] != stale || s["waiting"] != waiting || s["estimated_wait_minutes"] != minutes || s["last_sync"] != lastSync {
			t.Errorf("waiting-times %s = %v, want stale %v, waiting %v, estimated_wait_minutes %v, last_sync %s", id, s, stale, waiting, minutes, lastSync)
		}
		if got := asInt(t, id+" age_seconds", s["age_seconds"]); got != age {
			t.Errorf("waiting-times %s age_seconds = %d, want %d", id, got, age)
		}
	}
	wantRich("porz", true, nil, nil, 660, "2026-03-04T10:00:00+01:00")
	wantRich("kalk", false, json.Number("1"), json.Number("28"), 60, "2026-03-04T10:10:00+01:00")

	// Everything silent: the second shape says nothing is in service.
	e.Clock.Add(10 * time.Minute)
	for title, it := range odItems(t, e.URL) {
		if it["wartezeit_minuten"] != "" || !strings.HasPrefix(it["sondertext"], "Keine aktuellen Daten (Stand ") {
			t.Errorf("stale %s shown as live: %v", title, it)
		}
	}
	top, names, _ = wartezeiten(t, e.URL)
	if len(names) != 0 {
		t.Errorf("wartezeiten.json lists stale sites %q", names)
	}
	if got, want := asInt(t, "status", top["status"]), 2; got != want {
		t.Errorf("status with every site stale = %d, want %d", got, want)
	}
	if got, want := top["sondertext"], "Keine aktuellen Daten: Kalk, Porz"; got != want {
		t.Errorf("sondertext = %q, want %q", got, want)
	}

	// The next day the note carries the date of the last contact.
	e.Clock.Add(24 * time.Hour)
	if got, want := odItems(t, e.URL)["Kundenzentrum Porz"]["sondertext"], "Keine aktuellen Daten (Stand 04.03. 10:00)"; got != want {
		t.Errorf("sondertext a day later = %q, want %q", got, want)
	}
}

// TestOpenData_Empty: without sites the feeds keep their shape: arrays, not
// null.
func TestOpenData_Empty(t *testing.T) {
	e := newEnv(t)
	for path, want := range map[string]string{
		feedOD:   `{"success":true,"items":[]}`,
		feedRich: `"sites":[]`,
		// The directory's customer centres, its vehicle registration
		// office and its school-health site (the seed's gesundheitsamt)
		// have their sections, without groups: the city leaves empty
		// ones out.
		feedWartezeiten: `"bereiche":[{"id":"meldeangelegenheiten","titel":"Wartezeiten in den Kundenzentren","gruppen":[]},{"id":"fuehrerscheinwesen","titel":"Wartezeiten in der Kfz-Zulassung und im Führerscheinwesen","gruppen":[]},{"id":"schulgesundheit","titel":"Wartezeiten im Schulgesundheitsdienst","gruppen":[]}]`,
	} {
		_, body := e.get(path)
		if !strings.Contains(body, want) {
			t.Errorf("GET %s = %s, want it to contain %s", path, body, want)
		}
	}
}

// TestOpenData_Headers: open data is for everyone (CORS), cacheable for 30
// seconds, and revalidated by ETag.
func TestOpenData_Headers(t *testing.T) {
	e := newEnv(t)
	e.addSite("kalk", "Kundenzentrum Kalk", 28)
	for _, path := range []string{feedOD, feedWartezeiten, feedRich} {
		t.Run(strings.TrimPrefix(path, "/open-data/"), func(t *testing.T) {
			// A script on another site fetches the feed.
			resp, body := e.request(http.MethodGet, path, "Origin", "https://consumer.example", "Sec-Fetch-Site", "cross-site")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("cross-origin GET: status %d: %s", resp.StatusCode, body)
			}
			for k, want := range map[string]string{
				"Content-Type":                "application/json; charset=utf-8",
				"Cache-Control":               "public, max-age=30",
				"Access-Control-Allow-Origin": "*",
			} {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if !json.Valid([]byte(body)) {
				t.Errorf("body is not JSON: %q", body)
			}
			etag := resp.Header.Get("ETag")
			if !regexp.MustCompile(`^"[0-9a-f]+"$`).MatchString(etag) {
				t.Fatalf("ETag = %q, want a strong entity tag", etag)
			}
			if got := resp.Header.Get("Access-Control-Expose-Headers"); !strings.Contains(got, "ETag") {
				t.Errorf("Access-Control-Expose-Headers = %q, want ETag", got)
			}

			resp, body = e.request(http.MethodGet, path, "If-None-Match", etag)
			if resp.StatusCode != http.StatusNotModified || body != "" {
				t.Errorf("GET with If-None-Match: status %d, body %q; want 304, empty", resp.StatusCode, body)
			}
			if got, want := resp.Header.Get("Access-Control-Allow-Origin"), "*"; got != want {
				t.Errorf("304: Access-Control-Allow-Origin = %q, want %q", got, want)
			}
			resp, _ = e.request(http.MethodGet, path, "If-None-Match", `"other"`)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET with another ETag: status %d, want 200", resp.StatusCode)
			}

			resp, _ = e.request(http.MethodOptions, path, "Origin", "https://consumer.example",
				"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "if-none-match")
			if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
				!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "GET") ||
				!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "If-None-Match") {
				t.Errorf("preflight: status %d, headers %v", resp.StatusCode, resp.Header)
			}

			resp, body = e.request(http.MethodHead, path)
			if resp.StatusCode != http.StatusOK || body != "" || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("HEAD: status %d, body %q, headers %v", resp.StatusCode, body, resp.Header)
			}
		})
	}
}

// TestOpenData_PublicURL: with Server.PublicURL the links to the portal
// use it, not the request's host.
func TestOpenData_PublicURL(t *testing.T) {
	e := newEnv(t)
	e.addSite("kz-neu", "Kundenzentrum Neu", 28) // no public page: linked to the portal
	s := &server.Server{Central: e.Central, Now: e.Clock.Now, PublicURL: "https://wartezeiten.example.org/"}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)

	want := "https://wartezeiten.example.org/#site-kz-neu"
	if got := odItems(t, ts.URL)["Kundenzentrum Neu"]["link"]; got != want {
		t.Errorf("waiting-od link = %q, want %q", got, want)
	}
	if _, _, entries := wartezeiten(t, ts.URL); entries["Neu"].URL != want {
		t.Errorf("wartezeiten url = %q, want %q", entries["Neu"].URL, want)
	}
	if _, sites := richSites(t, ts.URL); sites["kz-neu"]["url"] != want {
		t.Errorf("waiting-times url = %q, want %q", sites["kz-neu"]["url"], want)
	}
}

// TestOpenData_Sections: the second shape has a section per kind of site,
// as the city's feed does (fuehrerscheinwesen beside the customer
// centres); each site is listed in its kind's section, named without its
// kind's prefix and linked to the public page its directory record names
// (a path on the city's site stays a path, as in the city's feed); the
// first shape links the same page.
func TestOpenData_Sections(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, s := range []central.Site{
		{ID: "kfz-poll", Name: "Kfz-Zulassungsstelle Poll", Kind: central.KindVehicleRegistration, Page: "/service/adressen/00190/index.html"},
		{ID: "sgd-mitte", Name: "Schulgesundheit Mitte", Kind: central.KindSchoolHealth},
	} {
		if err := e.Central.AddSite(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	e.addSite("kalk", "Kundenzentrum Kalk", 28)
	e.addSite("kfz-poll", "Kfz-Zulassungsstelle Poll", 45)
	e.addSite("sgd-mitte", "Schulgesundheit Mitte", 0)

	f := feed(t, e.URL, feedWartezeiten)
	var ids []string
	for _, b := range asArray(t, "bereiche", f["bereiche"]) {
		ids = append(ids, asObject(t, "bereich", b)["id"].(string))
	}
	if want := []string{"meldeangelegenheiten", "fuehrerscheinwesen", "schulgesundheit"}; !slices.Equal(ids, want) {
		t.Errorf("sections %q, want %q", ids, want)
	}
	_, names, entries := wartezeiten(t, e.URL)
	for name, want := range map[string]wzEntry{
		"Kalk":  {Section: "meldeangelegenheiten", Group: "unter_30", URL: kalkPage, Wartezeit: 28},
		"Poll":  {Section: "fuehrerscheinwesen", Group: "unter_60", URL: "/service/adressen/00190/index.html", Wartezeit: 45},
		"Mitte": {Section: "schulgesundheit", Group: "unter_30", URL: e.URL + "/#site-sgd-mitte", Wartezeit: 0},
	} {
		if got := entries[name]; got != want {
			t.Errorf("%s = %+v, want %+v (names %q)", name, got, want, names)
		}
	}
	if got, want := odItems(t, e.URL)["Kfz-Zulassungsstelle Poll"]["link"], "/service/adressen/00190/index.html"; got != want {
		t.Errorf("waiting-od Poll link = %q, want %q", got, want)
	}
	_, sites := richSites(t, e.URL)
	if got := sites["kfz-poll"]; got["kind"] != "kfz-zulassung" || got["page"] != "/service/adressen/00190/index.html" ||
		got["url"] != e.URL+"/#site-kfz-poll" {
		t.Errorf("waiting-times kfz-poll = %v, want its kind, its page and the portal's url", got)
	}
}
