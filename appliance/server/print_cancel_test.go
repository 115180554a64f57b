package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/server"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/hardware/printer"
	"github.com/veedel/veedel/hardware/printersim"
	"github.com/veedel/veedel/ui"
)

// slowLink is a TCP proxy in front of a printer simulator that lets the
// status queries before a ticket through (pass bytes per connection) and
// holds the rest until Release: a printer that is slow to take a ticket.
type slowLink struct {
	addr   string
	target string
	pass   int
	once   sync.Once
	held   chan struct{} // closed when the first ticket byte is held
	gate   chan struct{} // closed by Release
}

func newSlowLink(t *testing.T, target string, pass int) *slowLink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &slowLink{addr: ln.Addr().String(), target: target, pass: pass, held: make(chan struct{}), gate: make(chan struct{})}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		l.Release()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				l.serve(c)
			}()
		}
	}()
	return l
}

func (l *slowLink) Release() {
	select {
	case <-l.gate:
	default:
		close(l.gate)
	}
}

func (l *slowLink) serve(c net.Conn) {
	defer c.Close()
	up, err := net.Dial("tcp", l.target)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(c, up) // the printer's replies, unhindered
		c.Close()
	}()
	passed := 0
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		b := buf[:n]
		if passed < l.pass && len(b) > 0 {
			k := min(l.pass-passed, len(b))
			if _, werr := up.Write(b[:k]); werr != nil {
				break
			}
			passed += k
			b = b[k:]
		}
		if len(b) > 0 {
			l.once.Do(func() { close(l.held) })
			<-l.gate
			if _, werr := up.Write(b); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	up.(*net.TCPConn).CloseWrite()
	<-done
}

// slowPrinterKiosk is an appliance whose kiosk prints, with the default
// print timeout, on a simulator behind a slowLink; requestEnded is closed
// when the server sees the (first) request end.
type slowPrinterKiosk struct {
	sim          *printersim.Sim
	link         *slowLink
	store        *sqlite.Store
	url          string
	requestEnded chan struct{}
}

func newSlowPrinterKiosk(t *testing.T) *slowPrinterKiosk { return newSlowPrinterKioskPass(t, 9) }

// newSlowPrinterKioskPass lets pass bytes through before holding: 9 lets
// DLE EOT 1, 2 and 4 (three bytes each) through and holds the ticket, 0
// holds the first status query (a printer that never answers).
func newSlowPrinterKioskPass(t *testing.T, pass int) *slowPrinterKiosk {
	t.Helper()
	sim := printersim.New(printersim.Options{})
	if err := sim.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	link := newSlowLink(t, strings.TrimPrefix(sim.Addr(), "tcp://"), pass)
	p, err := printer.Open("tcp://"+link.addr, printer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kalk.db"), "kalk", sqlite.Options{NoShowGrace: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Execute(ctx, func(_ *queue.State, at time.Time) ([]queue.Event, error) {
		return appliance.Catalog["kalk"].Events(at), nil
	}); err != nil {
		t.Fatal(err)
	}
	renderer, err := ui.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(&syncBuffer{}, nil))
	// PrintTimeout unset: the server's default is what is tested.
	h := (&server.Server{Store: store, Renderer: renderer, Logger: logger, PortalURL: portal, Now: openMorning, Printer: p}).Handler()
	k := &slowPrinterKiosk{sim: sim, link: link, store: store, requestEnded: make(chan struct{})}
	var endOnce sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		context.AfterFunc(r.Context(), func() { endOnce.Do(func() { close(k.requestEnded) }) })
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	k.url = srv.URL
	return k
}

// printed waits for the one ticket on paper and its print job's outcome,
// and checks that it printed whole, once.
func (k *slowPrinterKiosk) printed(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	tickets, err := k.sim.WaitTickets(ctx, 1)
	if err != nil {
		t.Fatalf("no ticket printed: %v", err)
	}
	if tk := tickets[0]; tk.Partial || !strings.Contains(strings.Join(tk.Text, "\n"), "A001") || len(tk.QR) != 1 {
		t.Errorf("ticket not whole: partial %v, text %q, QR %q", tk.Partial, tk.Text, tk.QR)
	}
	var id string
	k.store.View(func(st *queue.State) {
		for tid := range st.Tickets {
			id = tid
		}
	})
	var job sqlite.PrintJob
	for {
		var ok bool
		job, ok, err = k.store.PrintJob(ctx, id)
		if err != nil {
			t.Fatalf("print job of %q: %v", id, err)
		}
		if ok && job.State != sqlite.PrintPrinting {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("print job still %q", job.State)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if job.State != sqlite.PrintPrinted {
		t.Errorf("print job %q (%q), want %q", job.State, job.Error, sqlite.PrintPrinted)
	}
	if n := len(k.sim.Tickets()); n != 1 {
		t.Errorf("%d tickets printed, want 1", n)
	}
}

func waitClosed(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: not within 10 s", what)
	}
}

func apiIssueRequest(ctx context.Context, url string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/api/v1/tickets", strings.NewReader(`{"service":"ausweis","print":true}`))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, err
}

func kioskIssueRequest(ctx context.Context, url string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/kiosk/tickets", strings.NewReader("service=ausweis&key=k1"))
	if err == nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req, err
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// TestPrintOutlivesRequest: a kiosk or API client that gives up while the
// printer is slow (a client timeout, a closed browser) does not cut the
// claimed ticket short; it prints whole and the job ends "printed".
func TestPrintOutlivesRequest(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  func(ctx context.Context, url string) (*http.Request, error)
	}{
		{"API", apiIssueRequest},
		{"Kiosk", kioskIssueRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k := newSlowPrinterKiosk(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, err := tc.req(ctx, k.url)
			if err != nil {
				t.Fatal(err)
			}
			resErr := make(chan error, 1)
			go func() {
				res, err := noRedirects.Do(req)
				if err == nil {
					res.Body.Close()
				}
				resErr <- err
			}()
			select {
			case err := <-resErr:
				t.Fatalf("request answered before the ticket reached the printer: %v", err)
			case <-k.link.held:
			case <-time.After(10 * time.Second):
				t.Fatal("no ticket reached the printer within 10 s")
			}
			cancel() // the citizen's browser or the API client gives up
			if err := <-resErr; !errors.Is(err, context.Canceled) {
				t.Fatalf("request: got %v, want it cancelled", err)
			}
			waitClosed(t, "server sees the request end", k.requestEnded)
			k.link.Release() // the printer takes the ticket after all
			k.printed(t)
		})
	}
}

// TestPrintSlowPrinter: a printer that takes 5 s for a ticket (a raster
// ticket on a serial line takes 10 s) is slow, not broken: the default
// print timeout lets it finish.
func TestPrintSlowPrinter(t *testing.T) {
	t.Parallel()
	k := newSlowPrinterKiosk(t)
	go func() {
		<-k.link.held
		// The printer's pace, not a wait for the test: 5 s to take the ticket.
		time.AfterFunc(5*time.Second, k.link.Release)
	}()
	req, err := apiIssueRequest(context.Background(), k.url)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `"printed": true`) && !strings.Contains(string(body), `"printed":true`) {
		t.Errorf("after %v: %s", time.Since(start).Round(time.Millisecond), body)
	}
	k.printed(t)
}

// TestPrintFailsFast: a printer that cannot print (paper out, unplugged)
// still fails the ticket within the driver's own short timeouts, not the
// long print timeout that a slow printer gets.
func TestPrintFailsFast(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pass    int
		breakIt func(*printersim.Sim) error
	}{
		{"PaperOut", 9, func(s *printersim.Sim) error { s.SetPaper(printersim.PaperOut); return nil }},
		{"CoverOpen", 9, func(s *printersim.Sim) error { s.SetCoverOpen(true); return nil }},
		{"Offline", 9, func(s *printersim.Sim) error { return s.SetOffline(true) }},
		// Connects, never answers: one reply timeout.
		{"Silent", 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k := newSlowPrinterKioskPass(t, tc.pass)
			if tc.breakIt != nil {
				k.link.Release()
				if err := tc.breakIt(k.sim); err != nil {
					t.Fatal(err)
				}
			}
			req, err := apiIssueRequest(context.Background(), k.url)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			res, err := noRedirects.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			took := time.Since(start)
			t.Logf("%s: failed after %v", tc.name, took.Round(time.Millisecond))
			if !strings.Contains(string(body), `"printed": false`) && !strings.Contains(string(body), `"printed":false`) {
				t.Errorf("printed: %s", body)
			}
			// The driver's reply timeout is 1 s; generous for -race on shared cores.
			if took > 5*time.Second {
				t.Errorf("took %v to fail, want the driver's short timeouts", took)
			}
		})
	}
}
