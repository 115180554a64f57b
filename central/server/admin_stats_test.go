package server_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	appsqlite "github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/internal/statcsv"
)

// siteClock is the site's settable wall clock.
type siteClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *siteClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *siteClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// busySite runs three seeded days of a real appliance store for siteID
// (tickets, calls, no-shows, counters opening and closing, tickets left to
// expire) and returns the store.
func busySite(t *testing.T) *appsqlite.Store {
	t.Helper()
	ctx := context.Background()
	clk := &siteClock{t: time.Date(2026, 3, 2, 7, 0, 0, 0, berlin)}
	n := 0
	st, err := appsqlite.Open(ctx, filepath.Join(t.TempDir(), "site.db"), siteID, appsqlite.Options{Now: clk.Now,
		NewToken: func() string { n++; return fmt.Sprintf("tok-%020d", n) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var hours []queue.OpeningHours
	for d := time.Monday; d <= time.Friday; d++ {
		hours = append(hours, queue.OpeningHours{Weekday: d, Open: 7*60 + 30, Close: 15 * 60})
	}
	if _, err := st.Execute(ctx, func(_ *queue.State, at time.Time) ([]queue.Event, error) {
		return []queue.Event{
			{Type: queue.TypeSiteDescribed, Entity: "site/" + siteID, At: at, Payload: &queue.SiteDescribed{ID: siteID, Name: `Kundenzentrum "Innenstadt"; Köln`, TimeZone: "Europe/Berlin", Hours: hours}},
			{Type: queue.TypeServiceDefined, Entity: "service/ausweis", At: at, Payload: &queue.ServiceDefined{ID: "ausweis", Name: "Ausweis", Prefix: "A", ExpectedMinutes: 10}},
			{Type: queue.TypeServiceDefined, Entity: "service/meldung", At: at, Payload: &queue.ServiceDefined{ID: "meldung", Name: "Meldung", Prefix: "B", ExpectedMinutes: 6}},
			{Type: queue.TypeCounterDefined, Entity: "counter/1", At: at, Payload: &queue.CounterDefined{ID: "1", Name: "Platz 1", Services: []string{"ausweis", "meldung"}}},
			{Type: queue.TypeCounterDefined, Entity: "counter/2", At: at, Payload: &queue.CounterDefined{ID: "2", Name: "Platz 2", Services: []string{"ausweis"}}},
		}, nil
	}); err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(4, 2))
	try := func(d appsqlite.Decider) { st.Execute(ctx, d) } // refusals ("nobody waiting") are part of the day
	for day := range 3 {
		clk.mu.Lock()
		clk.t = time.Date(2026, 3, 2+day, 7, 30, 0, 0, berlin)
		clk.mu.Unlock()
		for range 120 {
			clk.Add(time.Duration(30+rnd.IntN(150)) * time.Second)
			switch r := rnd.IntN(10); {
			case r < 4:
				svc := []string{"ausweis", "meldung"}[rnd.IntN(2)]
				if _, _, err := st.IssueTicket(ctx, svc, "kiosk", ""); err != nil {
					t.Fatal(err)
				}
			default:
				c := fmt.Sprint(1 + rnd.IntN(2))
				try(func(s *queue.State, at time.Time) ([]queue.Event, error) {
					if cur := s.Counters[c]; cur != nil && cur.Current != "" && s.Tickets[cur.Current].Status == queue.StatusCalled {
						var e queue.Event
						var err error
						if rnd.IntN(8) == 0 {
							e, err = s.NoShow(at, c)
						} else {
							e, err = s.Finish(at, c)
						}
						return []queue.Event{e}, err
					}
					return s.CallNext(at, c, "staff"+c)
				})
			}
		}
	}
	return st
}

// push sends the site store's whole log to central in signed batches.
func (e *env) push(st *appsqlite.Store) {
	e.t.Helper()
	all, err := st.EntriesAfter(context.Background(), 0, 1_000_000, 1<<30)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i < len(all); i += 200 {
		e.mustPost(mustBatch(e.t, e.Clock, siteID, all[i:min(i+200, len(all))]))
	}
}

func TestAdminStats(t *testing.T) {
	e := newEnv(t)
	site := busySite(t)
	e.push(site)
	ctx := context.Background()
	days := []string{"2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"}

	t.Run("MatchesSite", func(t *testing.T) {
		for _, day := range days {
			want, err := site.DayStats(ctx, day)
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.Central.DayStats(ctx, siteID, day)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.DayStats, want) {
				t.Errorf("%s: central\n%+v\nsite\n%+v", day, got.DayStats, want)
			}
			if day != "2026-03-05" && (want.Total.Arrivals < 20 || want.Total.NoShows == 0 || want.Total.Estimated == 0) {
				t.Errorf("%s: a thin day: %+v", day, want.Total)
			}
		}
	})
	t.Run("RequiresLogin", func(t *testing.T) {
		for _, path := range []string{"/admin/stats", "/admin/stats.csv?day=2026-03-02"} {
			resp, body := e.newAdmin().get(path)
			wantRedirect(t, "GET "+path, resp, "/admin/login")
			if strings.Contains(body, "Ankünfte") {
				t.Errorf("GET %s anonymous shows figures", path)
			}
		}
	})
	e.createAdmin("anna", "admin", "geheim123")
	a := e.newAdmin()
	a.login("anna", "geheim123")
	t.Run("Page", func(t *testing.T) {
		want, _ := site.DayStats(ctx, "2026-03-03")
		resp, body := a.get("/admin/stats?day=2026-03-03&site=" + siteID)
		wantStatus(t, "stats", resp, http.StatusOK)
		row := statcsv.RowOf(want.Total, ",", "Gesamt")
		contains(t, "stats", body, `aria-current="page">Statistik`, `id="stats"`, `id="stats-hours"`, "Kundenzentrum &#34;Innenstadt&#34;; Köln",
			fmt.Sprintf(`<td class="n">%d</td>`, want.Total.Arrivals), row.WaitMean, row.EstimateMAE, `href="/admin/stats.csv?day=2026-03-03"`)
		resp, _ = a.get("/admin/stats?day=03.03.2026")
		wantStatus(t, "bad day", resp, http.StatusBadRequest)
	})
	t.Run("CSVMatchesSite", func(t *testing.T) {
		for _, day := range days[:3] {
			resp, body := a.get("/admin/stats.csv?day=" + day)
			wantStatus(t, "csv", resp, http.StatusOK)
			if cd := resp.Header.Get("Content-Disposition"); cd != "attachment; filename=veedel-statistik-"+day+".csv" {
				t.Errorf("Content-Disposition = %q", cd)
			}
			stats, _ := site.DayStats(ctx, day)
			var want bytes.Buffer
			statcsv.Write(&want, []statcsv.Site{{Name: `Kundenzentrum "Innenstadt"; Köln`, DayStats: stats}})
			if body != want.String() {
				t.Errorf("%s: central CSV\n%s\nsite CSV\n%s", day, body, want.String())
			}
		}
	})
}
