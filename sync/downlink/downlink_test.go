package downlink_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance"
	"github.com/veedel/veedel/appliance/queue"
	appsqlite "github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/server"
	censqlite "github.com/veedel/veedel/central/sqlite"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/downlink"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// centralEnv is central on a real SQLite file behind real HTTP on loopback.
type centralEnv struct {
	t       *testing.T
	URL     string
	Central *central.Central
	Store   *censqlite.Store
	srv     *httptest.Server
}

func startCentral(t *testing.T, l net.Listener) *centralEnv {
	t.Helper()
	return startCentralAt(t, l, nil)
}

// startCentralAt is startCentral with central's clock (nil: time.Now).
func startCentralAt(t *testing.T, l net.Listener, now func() time.Time) *centralEnv {
	t.Helper()
	ctx := context.Background()
	store, err := censqlite.Open(ctx, filepath.Join(t.TempDir(), "central.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	c, err := central.New(ctx, store, now, quiet())
	if err != nil {
		t.Fatal(err)
	}
	// These tests are about delivery; signed polls are tested where they
	// are checked (central/server) and end to end (cmd/veedel).
	allowAll := func(*http.Request, string) error { return nil }
	srv := httptest.NewUnstartedServer((&server.Server{Central: c, Logger: quiet(), Authorize: allowAll}).Handler())
	if l != nil {
		srv.Listener.Close()
		srv.Listener = l
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return &centralEnv{t: t, URL: srv.URL, Central: c, Store: store, srv: srv}
}

// sendMinutes appends a definition of ausweis with the given minutes to
// kalk's outbound log.
func (c *centralEnv) sendMinutes(minutes int) {
	c.t.Helper()
	if err := c.Central.SendToSite(context.Background(), "kalk", queue.Event{Type: queue.TypeServiceDefined, Entity: "service/ausweis",
		Payload: &queue.ServiceDefined{ID: "ausweis", Name: "Personalausweis und Reisepass", NameEN: "ID card and passport", Prefix: "A", ExpectedMinutes: minutes}}); err != nil {
		c.t.Fatal(err)
	}
}

// site is the Kalk appliance's store on a real SQLite file.
type site struct {
	t     *testing.T
	path  string
	store *appsqlite.Store
}

func openSite(t *testing.T) *site {
	t.Helper()
	s := &site{t: t, path: filepath.Join(t.TempDir(), "kalk.db")}
	s.open()
	if _, err := s.store.Execute(context.Background(), func(_ *queue.State, at time.Time) ([]queue.Event, error) {
		return appliance.Catalog["kalk"].Events(at), nil
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *site) open() {
	s.t.Helper()
	store, err := appsqlite.Open(context.Background(), s.path, "kalk", appsqlite.Options{})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { store.Close() })
	s.store = store
}

func (s *site) reopen() {
	s.t.Helper()
	if err := s.store.Close(); err != nil {
		s.t.Fatal(err)
	}
	s.open()
}

func (s *site) minutes() int {
	var m int
	s.store.View(func(st *queue.State) { m = st.Services["ausweis"].ExpectedMinutes })
	return m
}

// serviceEvents counts the site's change-log entries that define ausweis.
func (s *site) serviceEvents() int {
	s.t.Helper()
	entries, err := s.store.EntriesAfter(context.Background(), 0, 1_000_000, 1<<30)
	if err != nil {
		s.t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Type == queue.TypeServiceDefined && e.Entity == "service/ausweis" {
			n++
		}
	}
	return n
}

// run starts a downlink until the returned stop is called.
func run(t *testing.T, d *downlink.Downlink) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("downlink did not stop within 10 s")
		}
	}
	t.Cleanup(stop)
	return stop
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDownlinkDeliversWithinTwoSeconds(t *testing.T) {
	c := startCentral(t, nil)
	s := openSite(t)
	d := &downlink.Downlink{Inbox: s.store, Site: "kalk", CentralURL: c.URL, Logger: quiet(), Wait: 20 * time.Second}
	run(t, d)
	// Let the downlink's first poll wait at central.
	time.Sleep(300 * time.Millisecond)
	for i, minutes := range []int{17, 18, 19} {
		sent := time.Now()
		c.sendMinutes(minutes)
		eventually(t, 2*time.Second, "the site applies the edit", func() bool { return s.minutes() == minutes })
		t.Logf("edit %d applied %v after it was sent", i+1, time.Since(sent).Round(time.Millisecond))
	}
	// The status is updated just after the store commits what the site
	// already shows: give it that moment.
	eventually(t, time.Second, "the status counts the third edit", func() bool {
		st := d.Status()
		return st.Cursor == 3 && st.Head == 3 && st.Applied == 3
	})
	if st := d.Status(); st.Failures != 0 {
		t.Errorf("status = %+v, want no failures", st)
	}
}

// crashingInbox stops its downlink after a number of entries were applied,
// as a crash would: the next entry's apply sees a cancelled context.
type crashingInbox struct {
	*appsqlite.Store
	after   int64
	applied atomic.Int64
	cancel  context.CancelFunc
}

func (i *crashingInbox) ApplyInbound(ctx context.Context, e changelog.Entry) (string, error) {
	outcome, err := i.Store.ApplyInbound(ctx, e)
	if err == nil && i.applied.Add(1) == i.after {
		i.cancel()
	}
	return outcome, err
}

// staleInbox claims an older cursor than the store has, as a downlink
// whose answer got lost would re-ask: central sends entries again.
type staleInbox struct {
	*appsqlite.Store
	behind uint64
}

func (i staleInbox) InboxCursor(ctx context.Context) (uint64, error) {
	c, err := i.Store.InboxCursor(ctx)
	return c - min(c, i.behind), err
}

func TestDownlinkResumesWithoutLossOrDuplication(t *testing.T) {
	const total = 30
	c := startCentral(t, nil)
	s := openSite(t)
	for i := range total {
		c.sendMinutes(20 + i) // every entry changes the service
	}
	seeded := s.serviceEvents()

	// Run 1 stops ("crashes") in the middle of an answer of 4 entries.
	ctx, cancel := context.WithCancel(context.Background())
	crash := &crashingInbox{Store: s.store, after: 10, cancel: cancel}
	d := &downlink.Downlink{Inbox: crash, Site: "kalk", CentralURL: c.URL, Logger: quiet(), Wait: 5 * time.Second, Limit: 4}
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("downlink did not stop after the crash")
	}
	cursor, _ := s.store.InboxCursor(context.Background())
	if cursor != 10 || s.minutes() != 29 {
		t.Fatalf("after the crash: cursor %d, minutes %d; want 10 and 29", cursor, s.minutes())
	}

	// Run 2 after a restart of the appliance, asking again for 5 entries
	// it has applied already.
	s.reopen()
	d = &downlink.Downlink{Inbox: staleInbox{Store: s.store, behind: 5}, Site: "kalk", CentralURL: c.URL, Logger: quiet(), Wait: 5 * time.Second, Limit: 4}
	stop := run(t, d)
	eventually(t, 5*time.Second, "the site catches up", func() bool { return s.minutes() == 20+total-1 })
	stop()

	if got, want := s.serviceEvents()-seeded, total; got != want {
		t.Errorf("site log has %d definitions from central, want %d: each entry exactly once", got, want)
	}
	rows, err := s.store.InboxEntries(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != total {
		t.Fatalf("inbox has %d rows, want %d", len(rows), total)
	}
	for i, r := range rows {
		if r.Seq != uint64(i+1) || r.Outcome != appsqlite.InboxApplied {
			t.Errorf("inbox row %d = seq %d %s, want seq %d applied", i, r.Seq, r.Outcome, i+1)
		}
	}
	if st := d.Status(); st.Applied != total-10 {
		t.Errorf("second run applied %d, want %d (the repeated ones are duplicates)", st.Applied, total-10)
	}
}

func TestDownlinkBacksOffAndRecovers(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := openSite(t)
	d := &downlink.Downlink{Inbox: s.store, Site: "kalk", CentralURL: "http://" + addr, Logger: quiet(), Wait: 5 * time.Second, MaxBackoff: 200 * time.Millisecond}
	stop := run(t, d)
	defer stop() // before central closes: its Close waits for open polls
	eventually(t, 5*time.Second, "failures counted", func() bool { return d.Status().Failures >= 2 })
	if d.Status().LastError == "" {
		t.Error("no last error while central is down")
	}

	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("address %s taken meanwhile: %v", addr, err)
	}
	c := startCentral(t, l)
	c.sendMinutes(33)
	eventually(t, 5*time.Second, "the site applies the edit once central is up", func() bool { return s.minutes() == 33 })
	eventually(t, 2*time.Second, "status recovers", func() bool { st := d.Status(); return st.Failures == 0 && st.LastError == "" })
}

// TestDownlinkRefusedBacksOffLong: central refusing the poll (e.g. its
// outbound log is older than the site's inbox) makes the downlink wait
// long instead of hammering central.
func TestDownlinkRefusedBacksOffLong(t *testing.T) {
	var polls atomic.Int64
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		polls.Add(1)
		data, _ := changelog.Marshal(changelog.Download{Version: changelog.SchemaVersion, Site: "kalk", Error: "central was restored from an older backup"})
		w.Header().Set("Content-Type", "application/cbor")
		w.WriteHeader(http.StatusConflict)
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	s := openSite(t)
	d := &downlink.Downlink{Inbox: s.store, Site: "kalk", CentralURL: srv.URL, Logger: quiet(), Wait: time.Second}
	run(t, d)
	eventually(t, 2*time.Second, "the refusal is reported", func() bool { return d.Status().Failures == 1 })
	time.Sleep(500 * time.Millisecond)
	if n := polls.Load(); n != 1 {
		t.Errorf("%d polls within half a second of a refusal, want 1", n)
	}
	if got := d.Status().LastError; got == "" || !strings.Contains(got, "older backup") {
		t.Errorf("last error = %q, want central's reason", got)
	}
}
