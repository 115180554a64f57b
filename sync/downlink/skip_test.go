package downlink_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	appsqlite "github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/downlink"
)

// joinKalk lets kalk receive the city's reference data, as central does
// when it first stores kalk's log. Call it before any reference data is
// defined (the join then appends nothing).
func (c *centralEnv) joinKalk() {
	c.t.Helper()
	if joined, err := c.Store.JoinSite(context.Background(), "kalk", time.Now(), func() changelog.HLC { return 0 }); err != nil || !joined {
		c.t.Fatalf("JoinSite(kalk) = %v, %v", joined, err)
	}
}

// head is kalk's outbound head at central.
func (c *centralEnv) head() uint64 {
	c.t.Helper()
	heads, err := c.Store.OutboundHeads(context.Background())
	if err != nil {
		c.t.Fatal(err)
	}
	return heads["kalk"]
}

// cursor is the site's inbox cursor.
func (s *site) cursor() uint64 {
	s.t.Helper()
	c, err := s.store.InboxCursor(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

func (s *site) skipped() []appsqlite.SkippedEntry {
	s.t.Helper()
	skipped, err := s.store.SkippedEntries(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	return skipped
}

// catalogue lists the site's groups, services and counters, sorted.
func (s *site) catalogue() []string {
	var out []string
	s.store.View(func(st *queue.State) {
		for _, g := range st.Groups {
			out = append(out, fmt.Sprintf("group %s %q %q %s", g.ID, g.Name, g.NameEN, g.Prefix))
		}
		for _, svc := range st.Services {
			out = append(out, fmt.Sprintf("service %s %q %q %s %d group=%s", svc.ID, svc.Name, svc.NameEN, svc.Prefix, svc.ExpectedMinutes, svc.Group))
		}
		for _, c := range st.Counters {
			out = append(out, fmt.Sprintf("counter %s %q %v", c.ID, c.Name, c.Services))
		}
	})
	slices.Sort(out)
	return out
}

// syncBuffer is a log destination safe for the downlink's goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestDownlinkSkipsUnknownType: an entry of a type this build does not
// know, in the middle of the outbound log, is recorded and skipped; the
// service edit and the citizen's cancel request behind it arrive at once.
func TestDownlinkSkipsUnknownType(t *testing.T) {
	ctx := context.Background()
	c := startCentral(t, nil)
	s := openSite(t)
	var ticket string
	if _, err := s.store.Execute(ctx, func(st *queue.State, at time.Time) ([]queue.Event, error) {
		e, err := st.IssueTicket(at, "ausweis", "token-that-is-long-enough", "kiosk")
		if err == nil {
			ticket = e.Payload.(*queue.TicketIssued).ID
		}
		return []queue.Event{e}, err
	}); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	d := &downlink.Downlink{Inbox: s.store, Site: "kalk", CentralURL: c.URL, Wait: 20 * time.Second,
		Logger: slog.New(slog.NewTextHandler(logs, nil))}
	stop := run(t, d)
	time.Sleep(300 * time.Millisecond) // the first poll waits at central

	sent := time.Now()
	if err := c.Central.SendToSite(ctx, "kalk", queue.Event{Type: "queue.tomorrows_thing", Entity: "ticket/" + ticket,
		Payload: map[string]string{"note": "from a newer central"}}); err != nil {
		t.Fatal(err)
	}
	c.sendMinutes(41)
	if err := c.Central.SendToSite(ctx, "kalk", queue.Event{Type: queue.TypeCancelRequested, Entity: "ticket/" + ticket,
		Payload: &queue.CancelRequested{ID: ticket}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Second, "the edit and the cancel request behind the unknown entry apply", func() bool {
		cancelled := false
		s.store.View(func(st *queue.State) { cancelled = st.Tickets[ticket].Status == queue.StatusCancelled })
		return s.minutes() == 41 && cancelled
	})
	t.Logf("both applied %v after they were sent", time.Since(sent).Round(time.Millisecond))

	if got := s.skipped(); len(got) != 1 || got[0].Seq != 1 || got[0].Type != "queue.tomorrows_thing" {
		t.Errorf("skipped entries = %+v, want seq 1 of queue.tomorrows_thing", got)
	}
	rows, err := s.store.InboxEntries(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].Outcome != appsqlite.InboxSkipped || rows[1].Outcome != appsqlite.InboxApplied || rows[2].Outcome != appsqlite.InboxApplied {
		t.Errorf("inbox rows = %+v, want skipped, applied, applied", rows)
	}
	// The status follows the commit the site already shows by a moment.
	eventually(t, time.Second, "the status counts both", func() bool { st := d.Status(); return st.Cursor == 3 && st.Applied == 2 })
	if st := d.Status(); st.Skipped != 1 || st.Failures != 0 || st.Rejoin != "" {
		t.Errorf("status = %+v, want 1 skipped, no failure, no rejoin", st)
	}
	stop()
	var skipLines []string
	for line := range strings.SplitSeq(logs.String(), "\n") {
		if strings.Contains(line, "skipped") {
			skipLines = append(skipLines, line)
		}
	}
	if len(skipLines) != 1 || !strings.Contains(skipLines[0], "seq=1") || !strings.Contains(skipLines[0], "type=queue.tomorrows_thing") || strings.Contains(skipLines[0], ticket) {
		t.Errorf("log lines about the skip = %q, want one with seq and type, without the entity", skipLines)
	}

	// A restart of the same build: the type is still unknown, so the site
	// asks for no replay and the skip stays recorded.
	s.reopen()
	d = &downlink.Downlink{Inbox: s.store, Site: "kalk", CentralURL: c.URL, Logger: quiet(), Wait: time.Second}
	stop = run(t, d)
	eventually(t, 2*time.Second, "a poll answered", func() bool { return !d.Status().LastContact.IsZero() })
	stop()
	if st := d.Status(); st.Rejoin != "" || c.head() != 3 || len(s.skipped()) != 1 {
		t.Errorf("after a restart: rejoin %q, head %d, %d skipped; want no rejoin, head 3, the skip kept", st.Rejoin, c.head(), len(s.skipped()))
	}
}

// unpluggedInbox loses power the moment the first entry is to be applied.
type unpluggedInbox struct {
	*appsqlite.Store
	cancel context.CancelFunc
}

func (i unpluggedInbox) ApplyInbound(ctx context.Context, e changelog.Entry) (string, error) {
	i.cancel()
	return "", errors.New("power cut")
}

// pollRecorder is a transport that notes the query of every poll.
type pollRecorder struct {
	mu      sync.Mutex
	queries []string
}

func (r *pollRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.queries = append(r.queries, req.URL.RawQuery)
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// rejoins counts the polls that asked for a replay, of n polls.
func (r *pollRecorder) rejoins() (asked, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, q := range r.queries {
		if strings.Contains("&"+q+"&", "&rejoin=1&") {
			asked++
		}
	}
	return asked, len(r.queries)
}

// clock is central's clock, moved by the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// unclearedInbox loses power the moment it is to clear its skips.
type unclearedInbox struct {
	*appsqlite.Store
	cancel context.CancelFunc
}

func (i unclearedInbox) ClearSkipped(ctx context.Context, through uint64) (int, error) {
	i.cancel()
	return 0, errors.New("power cut")
}

// pending is the site's acknowledged replay not yet finished.
func (s *site) pending() (after, through uint64, ok bool) {
	s.t.Helper()
	after, through, ok, err := s.store.PendingReplay(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	return after, through, ok
}

// TestDownlinkCatchesUpAfterUpdate: a site whose build did not know groups
// skipped a group (and refused the service in it); updated, it asks
// central for the reference data again, applies the replay once even when
// it loses power right after central acknowledged (it resumes; and a
// request repeated from the same cursor appends nothing), and ends up
// with the catalogue of a site that never skipped. Replayed definitions
// the site has already commit nothing.
func TestDownlinkCatchesUpAfterUpdate(t *testing.T) {
	ctx := context.Background()
	c := startCentral(t, nil)
	c.joinKalk()
	old := openSite(t)  // kalk on a build that knows no groups
	twin := openSite(t) // kalk's twin on the current build from the start
	stopOld := run(t, &downlink.Downlink{Inbox: old.store.AsOlderBuild(queue.TypeGroupDefined), Site: "kalk", CentralURL: c.URL, Logger: quiet(), Wait: 20 * time.Second})
	twinDL := &downlink.Downlink{Inbox: twin.store, Site: "kalk", CentralURL: c.URL, Logger: quiet(), Wait: 20 * time.Second}
	run(t, twinDL)

	if _, err := c.Central.DefineService(ctx, queue.ServiceDefined{ID: "fundbuero", Name: "Fundbüro", NameEN: "Lost property", Prefix: "F", ExpectedMinutes: 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Central.DefineGroup(ctx, queue.GroupDefined{ID: "kfz", Name: "Kfz-Angelegenheiten", NameEN: "Vehicles", Prefix: "K"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Central.DefineService(ctx, queue.ServiceDefined{ID: "zulassung", Name: "Zulassung", NameEN: "Registration", Prefix: "K", ExpectedMinutes: 20, Group: "kfz"}); err != nil {
		t.Fatal(err)
	}
	c.sendMinutes(14) // kalk's own edit
	const before = 4
	if h := c.head(); h != before {
		t.Fatalf("kalk's outbound head = %d, want %d", h, before)
	}
	eventually(t, 2*time.Second, "both sites take in the log", func() bool { return old.cursor() == before && twin.cursor() == before })
	stopOld()
	if got := old.skipped(); len(got) != 1 || got[0].Seq != 2 || got[0].Type != queue.TypeGroupDefined {
		t.Fatalf("old build skipped %+v, want the group at seq 2", got)
	}
	var hasZulassung bool
	old.store.View(func(st *queue.State) { hasZulassung = st.Services["zulassung"] != nil })
	if hasZulassung || old.minutes() != 14 {
		t.Fatalf("old build: zulassung known %v, ausweis %d minutes; want the grouped service refused, the edit applied", hasZulassung, old.minutes())
	}
	if slices.Equal(old.catalogue(), twin.catalogue()) {
		t.Fatal("the old build's catalogue already equals the twin's")
	}
	twinSeq := twin.store.LastSeq()

	// The update. The appliance asks for the replay, central appends it,
	// and the power fails before the site applied any of it.
	old.reopen()
	ctx1, cancel := context.WithCancel(ctx)
	d := &downlink.Downlink{Inbox: unpluggedInbox{Store: old.store, cancel: cancel}, Site: "kalk", CentralURL: c.URL, Logger: quiet(), Wait: time.Second}
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx1) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("downlink did not stop at the power cut")
	}
	const replayed = 6 // kfz, fundbuero, zulassung: groups first; twice
	if h := c.head(); h != before+replayed {
		t.Fatalf("after the rejoin kalk's outbound head = %d, want %d", h, before+replayed)
	}
	entries, _, err := c.Store.Outbound(ctx, "kalk", before, 100, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range entries {
		types = append(types, e.Entity)
	}
	if want := []string{"group/kfz", "service/fundbuero", "service/zulassung", "group/kfz", "service/fundbuero", "service/zulassung"}; !slices.Equal(types, want) {
		t.Errorf("replay = %v, want %v", types, want)
	}
	if old.cursor() != before || len(old.skipped()) != 1 {
		t.Fatalf("after the power cut: cursor %d, %d skipped; want %d and the skip kept", old.cursor(), len(old.skipped()), before)
	}
	// The site recorded the acknowledgement before the power failed.
	if after, through, ok := old.pending(); !ok || after != before || through != before+replayed {
		t.Fatalf("pending replay after the power cut = %d..%d (%v), want %d..%d", after, through, ok, before, before+replayed)
	}

	// A site that lost the answer before recording it asks again from the
	// same cursor: the same request, so central appends nothing and
	// acknowledges again.
	resp, err := http.Get(c.URL + fmt.Sprintf("/api/v1/sync/outbound?site=kalk&after=%d&rejoin=1&limit=1", before))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get(downlink.RejoinedHeader); resp.StatusCode != http.StatusOK || got != fmt.Sprint(before) || c.head() != before+replayed {
		t.Errorf("the same request again: %s, header %q, head %d; want 200, acknowledged %d, head still %d",
			resp.Status, got, c.head(), before, before+replayed)
	}

	// Restarted, the site resumes the acknowledged replay without asking.
	old.reopen()
	polls := &pollRecorder{}
	d = &downlink.Downlink{Inbox: old.store, Site: "kalk", CentralURL: c.URL, Logger: quiet(), Wait: 20 * time.Second,
		Client: &http.Client{Transport: polls}}
	stop := run(t, d)
	eventually(t, 2*time.Second, "the site applies the replay and clears its skips", func() bool {
		return old.cursor() == before+replayed && len(old.skipped()) == 0 && d.Status().Rejoin == ""
	})
	if h := c.head(); h != before+replayed {
		t.Errorf("after the restart kalk's outbound head = %d, want still %d", h, before+replayed)
	}
	if asked, n := polls.rejoins(); asked != 0 {
		t.Errorf("%d of %d polls after the restart asked for a replay, want none: it was acknowledged", asked, n)
	}
	if _, _, ok := old.pending(); ok {
		t.Error("the replay is still pending after the site cleared its skips")
	}
	if got, want := old.catalogue(), twin.catalogue(); !slices.Equal(got, want) {
		t.Errorf("updated site's catalogue:\n%s\nwant the twin's:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The replay of what a site has already commits nothing: the twin had
	// all of it, the old site only lacked the group and its service.
	eventually(t, 2*time.Second, "the twin takes in the replay", func() bool { return twin.cursor() == before+replayed })
	if got := twin.store.LastSeq(); got != twinSeq {
		t.Errorf("the twin committed %d events for a replay of what it had, want none", got-twinSeq)
	}
	var fromReplay []string
	siteEntries, err := old.store.EntriesAfter(ctx, 0, 1_000_000, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := old.store.InboxEntries(ctx, before, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		for _, e := range siteEntries {
			if e.Seq >= r.FirstSeq && e.Seq <= r.LastSeq && r.FirstSeq > 0 {
				fromReplay = append(fromReplay, e.Entity)
			}
		}
	}
	if slices.Contains(fromReplay, "service/fundbuero") || !slices.Contains(fromReplay, "group/kfz") || !slices.Contains(fromReplay, "service/zulassung") {
		t.Errorf("the replay became site events %v, want the group and its service, nothing for the unchanged fundbuero", fromReplay)
	}
	stop()

	// Started again, nothing is left to catch up on: no request.
	old.reopen()
	d = &downlink.Downlink{Inbox: old.store, Site: "kalk", CentralURL: c.URL, Logger: quiet(), Wait: time.Second}
	stop = run(t, d)
	eventually(t, 2*time.Second, "a poll answered", func() bool { return !d.Status().LastContact.IsZero() })
	stop()
	if h := c.head(); h != before+replayed || d.Status().Rejoin != "" {
		t.Errorf("a restart with nothing skipped: head %d, rejoin %q; want %d and none", h, d.Status().Rejoin, before+replayed)
	}

	// A new request (a later cursor) within a minute of the replay is
	// not done yet: no acknowledgement, nothing appended.
	resp, err = http.Get(c.URL + fmt.Sprintf("/api/v1/sync/outbound?site=kalk&after=%d&rejoin=1", before+replayed))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get(downlink.RejoinedHeader) != "" || c.head() != before+replayed {
		t.Errorf("rejoin within a minute: %s, header %q, head %d; want 200, no acknowledgement, head %d",
			resp.Status, resp.Header.Get(downlink.RejoinedHeader), c.head(), before+replayed)
	}
}

// TestDownlinkCatchesUpAcrossALetterMove: while the old build skipped
// groups, central moved a service into a new group and gave its old letter
// to another group. On the replay's first pass that group is refused (the
// site's service still holds the letter) until the service moves; the
// second pass brings it and its service, so the site ends up like one
// that never skipped.
func TestDownlinkCatchesUpAcrossALetterMove(t *testing.T) {
	ctx := context.Background()
	c := startCentral(t, nil)
	c.joinKalk()
	old := openSite(t)
	twin := openSite(t)
	stopOld := run(t, &downlink.Downlink{Inbox: old.store.AsOlderBuild(queue.TypeGroupDefined), Site: "kalk", CentralURL: c.URL, Logger: quiet(), Wait: 20 * time.Second})
	run(t, &downlink.Downlink{Inbox: twin.store, Site: "kalk", CentralURL: c.URL, Logger: quiet(), Wait: 20 * time.Second})

	for _, step := range []func() error{
		func() error {
			_, err := c.Central.DefineService(ctx, queue.ServiceDefined{ID: "fundbuero", Name: "Fundbüro", NameEN: "Lost property", Prefix: "Q", ExpectedMinutes: 5})
			return err
		},
		func() error {
			_, err := c.Central.DefineGroup(ctx, queue.GroupDefined{ID: "buergerdienste", Name: "Bürgerdienste", NameEN: "Citizen services", Prefix: "Z"})
			return err
		},
		func() error {
			_, err := c.Central.DefineService(ctx, queue.ServiceDefined{ID: "fundbuero", Name: "Fundbüro", NameEN: "Lost property", Prefix: "Z", ExpectedMinutes: 5, Group: "buergerdienste"})
			return err
		},
		func() error {
			_, err := c.Central.DefineGroup(ctx, queue.GroupDefined{ID: "kfz", Name: "Kfz", NameEN: "Vehicles", Prefix: "Q"})
			return err
		},
		func() error {
			_, err := c.Central.DefineService(ctx, queue.ServiceDefined{ID: "zulassung", Name: "Zulassung", NameEN: "Registration", Prefix: "Q", ExpectedMinutes: 20, Group: "kfz"})
			return err
		},
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	before := c.head()
	eventually(t, 2*time.Second, "both sites take in the log", func() bool { return old.cursor() == before && twin.cursor() == before })
	stopOld()
	if slices.Equal(old.catalogue(), twin.catalogue()) {
		t.Fatal("the old build's catalogue already equals the twin's")
	}

	old.reopen()
	d := &downlink.Downlink{Inbox: old.store, Site: "kalk", CentralURL: c.URL, Logger: quiet(), Wait: 20 * time.Second}
	run(t, d)
	eventually(t, 3*time.Second, "the updated site applies the replay and clears its skips", func() bool {
		return old.cursor() == c.head() && c.head() > before && len(old.skipped()) == 0 && d.Status().Rejoin == ""
	})
	if got, want := old.catalogue(), twin.catalogue(); !slices.Equal(got, want) {
		t.Errorf("updated site's catalogue:\n%s\nwant the twin's:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDownlinkResumesAcknowledgedReplay: central acknowledged the replay,
// and the appliance crashed before it was done with it and came back more
// than a minute later, when central would take a request from its new
// cursor for a new one and append the whole replay again. The site asks
// for nothing: it resumes the replay it recorded, applies the rest and
// clears its skips, and central's log does not grow.
func TestDownlinkResumesAcknowledgedReplay(t *testing.T) {
	const before, replayed = 4, 6 // as in TestDownlinkCatchesUpAfterUpdate
	for _, tc := range []struct {
		name    string
		crash   func(*appsqlite.Store, context.CancelFunc) downlink.Inbox
		applied uint64 // of the replay before the crash
	}{
		{"after part of the replay", func(s *appsqlite.Store, cancel context.CancelFunc) downlink.Inbox {
			return &crashingInbox{Store: s, after: 2, cancel: cancel}
		}, 2},
		{"after the replay, before clearing the skips", func(s *appsqlite.Store, cancel context.CancelFunc) downlink.Inbox {
			return unclearedInbox{Store: s, cancel: cancel}
		}, replayed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			now := &clock{t: time.Now()}
			c := startCentralAt(t, nil, now.Now)
			c.joinKalk()
			old := openSite(t)
			stopOld := run(t, &downlink.Downlink{Inbox: old.store.AsOlderBuild(queue.TypeGroupDefined), Site: "kalk", CentralURL: c.URL, Logger: quiet(), Wait: 20 * time.Second})
			if _, err := c.Central.DefineService(ctx, queue.ServiceDefined{ID: "fundbuero", Name: "Fundbüro", NameEN: "Lost property", Prefix: "F", ExpectedMinutes: 5}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Central.DefineGroup(ctx, queue.GroupDefined{ID: "kfz", Name: "Kfz-Angelegenheiten", NameEN: "Vehicles", Prefix: "K"}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Central.DefineService(ctx, queue.ServiceDefined{ID: "zulassung", Name: "Zulassung", NameEN: "Registration", Prefix: "K", ExpectedMinutes: 20, Group: "kfz"}); err != nil {
				t.Fatal(err)
			}
			c.sendMinutes(14)
			eventually(t, 2*time.Second, "the old build takes in the log", func() bool { return c.head() == before && old.cursor() == before })
			stopOld()
			if got := old.skipped(); len(got) != 1 {
				t.Fatalf("old build skipped %+v, want the group", got)
			}

			// The update: central acknowledges and appends the replay; the
			// appliance crashes before it is done with it.
			old.reopen()
			ctx1, cancel := context.WithCancel(ctx)
			d := &downlink.Downlink{Inbox: tc.crash(old.store, cancel), Site: "kalk", CentralURL: c.URL, Logger: quiet(), Wait: time.Second}
			done := make(chan struct{})
			go func() { defer close(done); d.Run(ctx1) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("downlink did not stop at the crash")
			}
			if h := c.head(); h != before+replayed {
				t.Fatalf("after the rejoin kalk's outbound head = %d, want %d", h, before+replayed)
			}
			if got := old.cursor(); got != before+tc.applied || len(old.skipped()) != 1 {
				t.Fatalf("after the crash: cursor %d, %d skipped; want %d and the skip kept", got, len(old.skipped()), before+tc.applied)
			}
			if after, through, ok := old.pending(); !ok || after != before || through != before+replayed {
				t.Fatalf("pending replay after the crash = %d..%d (%v), want %d..%d", after, through, ok, before, before+replayed)
			}

			// Back after more than a minute.
			now.advance(central.RejoinInterval + time.Second)
			old.reopen()
			polls := &pollRecorder{}
			d = &downlink.Downlink{Inbox: old.store, Site: "kalk", CentralURL: c.URL, Logger: quiet(), Wait: 20 * time.Second,
				Client: &http.Client{Transport: polls}}
			stop := run(t, d)
			eventually(t, 3*time.Second, "the site finishes the replay and clears its skips", func() bool {
				return old.cursor() == before+replayed && len(old.skipped()) == 0 && d.Status().Rejoin == ""
			})
			stop()
			if h := c.head(); h != before+replayed {
				t.Errorf("after the restart kalk's outbound head = %d, want still %d: no second replay", h, before+replayed)
			}
			if asked, n := polls.rejoins(); asked != 0 {
				t.Errorf("%d of %d polls after the restart asked for a replay, want none", asked, n)
			}
			if _, _, ok := old.pending(); ok {
				t.Error("the replay is still pending after the site cleared its skips")
			}
			var group string
			old.store.View(func(st *queue.State) {
				if svc := st.Services["zulassung"]; svc != nil && st.Groups["kfz"] != nil {
					group = svc.Group
				}
			})
			if group != "kfz" {
				t.Errorf("after the replay zulassung is in group %q, want kfz with its group", group)
			}

			// Started again: nothing pending, nothing to ask.
			old.reopen()
			d = &downlink.Downlink{Inbox: old.store, Site: "kalk", CentralURL: c.URL, Logger: quiet(), Wait: time.Second}
			stop = run(t, d)
			eventually(t, 2*time.Second, "a poll answered", func() bool { return !d.Status().LastContact.IsZero() })
			stop()
			if h := c.head(); h != before+replayed || d.Status().Rejoin != "" {
				t.Errorf("a restart with nothing pending: head %d, rejoin %q; want %d and none", h, d.Status().Rejoin, before+replayed)
			}
		})
	}
}
