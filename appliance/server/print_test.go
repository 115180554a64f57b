package server_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance"
	"github.com/veedel/veedel/appliance/devices"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/server"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/hardware"
	"github.com/veedel/veedel/ui"
)

// fakePrinter keeps what it printed; fail makes the next prints fail.
type fakePrinter struct {
	mu      sync.Mutex
	printed []hardware.Ticket
	fail    error
	status  hardware.PrinterStatus
}

func (p *fakePrinter) Print(ctx context.Context, t hardware.Ticket) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return p.fail
	}
	p.printed = append(p.printed, t)
	return nil
}

func (p *fakePrinter) Status(context.Context) (hardware.PrinterStatus, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status, nil
}

func (p *fakePrinter) set(status hardware.PrinterStatus, fail error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status, p.fail = status, fail
}

func (p *fakePrinter) tickets() []hardware.Ticket {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]hardware.Ticket(nil), p.printed...)
}

// newPrinterHarness is newHarness with printer as the kiosk's ticket
// printer, watched by a device monitor (polled by the test: mon.Poll).
func newPrinterHarness(t *testing.T, printer hardware.Printer) (*harness, *devices.Monitor) {
	t.Helper()
	return newPrinterHarnessAt(t, printer, openMorning)
}

// newPrinterHarnessAt is newPrinterHarness with the server's clock at now.
func newPrinterHarnessAt(t *testing.T, printer hardware.Printer, now func() time.Time) (*harness, *devices.Monitor) {
	t.Helper()
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
	for _, u := range []sqlite.User{{Name: "demo", DisplayName: "Demo", Role: sqlite.RoleLead}, {Name: "clerk", DisplayName: "Clerk", Role: sqlite.RoleClerk}} {
		if err := store.CreateUser(ctx, u, u.Name); err != nil {
			t.Fatal(err)
		}
	}
	renderer, err := ui.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mon := &devices.Monitor{Store: store, Printer: printer, PrinterAddress: "tcp://192.0.2.10:9100", Logger: logger}
	srv := httptest.NewServer((&server.Server{Store: store, Renderer: renderer, Logger: logger, PortalURL: portal, Now: now,
		Printer: printer, PrintTimeout: 2 * time.Second, AfterPrint: mon.PrintDone}).Handler())
	t.Cleanup(srv.Close)
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &harness{store: store, url: srv.URL, client: client, logs: logs}, mon
}

func TestKioskPrints(t *testing.T) {
	t.Parallel()
	p := &fakePrinter{status: hardware.PrinterStatus{Online: true}}
	h, _ := newPrinterHarness(t, p)

	res := h.postForm(t, nil, "/kiosk/tickets?lang=en", "service=ausweis&key=k1")
	if res.status != http.StatusSeeOther {
		t.Fatalf("issue: status %d: %s", res.status, res)
	}
	loc := res.header.Get("Location")
	// A double tap: the same key again. The same ticket, not printed again.
	if res := h.postForm(t, nil, "/kiosk/tickets", "service=ausweis&key=k1"); res.header.Get("Location") != loc {
		t.Fatalf("double tap: Location %q, want %q", res.header.Get("Location"), loc)
	}
	got := p.tickets()
	if len(got) != 1 {
		t.Fatalf("printed %d tickets, want 1", len(got))
	}
	pt := got[0]
	token := strings.TrimPrefix(loc, "/kiosk/tickets/")
	if pt.Number != "A001" && !strings.HasPrefix(pt.Number, "A") {
		t.Errorf("printed number %q", pt.Number)
	}
	if want := portal + "/t/" + token + "?lang=en"; pt.StatusURL != want { // the kiosk's language goes with it
		t.Errorf("printed QR %q, want %q", pt.StatusURL, want)
	}
	if pt.Site == "" || pt.Service == "" || pt.IssuedAt.Location().String() != "Europe/Berlin" || len(pt.Lines) == 0 {
		t.Errorf("printed ticket incomplete: %+v", pt)
	}
	if !strings.Contains(pt.Service, "passport") {
		t.Errorf("service %q not in the kiosk's language (English)", pt.Service)
	}
	page := h.get(t, nil, loc).String()
	if !strings.Contains(page, `id="print-ok"`) || strings.Contains(page, `id="print-failed"`) {
		t.Errorf("ticket page does not say it printed")
	}
	if strings.Contains(page, `id="print"`) {
		t.Errorf("ticket page offers the browser's print view though the kiosk has a printer")
	}
}

func TestKioskPrinterFails(t *testing.T) {
	t.Parallel()
	p := &fakePrinter{status: hardware.PrinterStatus{Online: true, PaperOut: true}, fail: errors.New("printer: paper out")}
	h, mon := newPrinterHarness(t, p)
	res := h.postForm(t, nil, "/kiosk/tickets", "service=ausweis&key=k2")
	if res.status != http.StatusSeeOther {
		t.Fatalf("issue: status %d: %s", res.status, res)
	}
	page := h.get(t, nil, res.header.Get("Location"))
	if page.status != http.StatusOK {
		t.Fatalf("ticket page: %d", page.status)
	}
	for _, want := range []string{`id="print-failed"`, `role="alert"`, "Der Drucker ist gestört", `class="qr"`, `id="sms-phone"`} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("ticket page lacks %s", want)
		}
	}
	// Not retried: neither by a second tap nor on the page's reload.
	p.set(hardware.PrinterStatus{Online: true}, nil)
	h.postForm(t, nil, "/kiosk/tickets", "service=ausweis&key=k2")
	if n := len(p.tickets()); n != 0 {
		t.Errorf("a failed print was retried: %d printed", n)
	}
	if q := h.queue(t); q.Waiting != 1 {
		t.Errorf("%d waiting, want the one ticket", q.Waiting)
	}
	if logs := h.logs.String(); !strings.Contains(logs, `msg="ticket not printed"`) || !strings.Contains(logs, `reason="printer: paper out"`) {
		t.Errorf("log should say the ticket did not print and why: %s", logs)
	}
	// The monitor reports the failure though the printer answers again.
	p.set(hardware.PrinterStatus{Online: true, PaperOut: true}, nil)
	mon.Poll(context.Background())
	var d queue.Device
	h.store.View(func(st *queue.State) { d = *st.Devices["printer"] })
	if d.Healthy() || !d.PaperOut {
		t.Errorf("device state %+v, want paper out", d)
	}
	// Staff see it.
	browser := h.browser(t)
	h.loginAs(t, browser, "clerk")
	desk := h.get(t, browser, "/desk").String()
	if !strings.Contains(desk, `id="device-alert"`) || !strings.Contains(desk, "Papier leer") {
		t.Errorf("desk shows no device alert")
	}
	devs := h.get(t, browser, "/desk/devices")
	if devs.status != http.StatusOK || !strings.Contains(devs.String(), `id="device-printer"`) || !strings.Contains(devs.String(), "tcp://192.0.2.10:9100") {
		t.Errorf("devices page: %d %s", devs.status, devs)
	}
	// A clerk reprints it explicitly: now it prints.
	p.set(hardware.PrinterStatus{Online: true}, nil)
	var id string
	h.store.View(func(st *queue.State) { id = st.Waiting()[0].ID })
	if res := h.postForm(t, browser, "/desk/tickets/"+url.PathEscape(id)+"/reprint", ""); res.status != http.StatusSeeOther {
		t.Fatalf("reprint: %d %s", res.status, res)
	}
	if n := len(p.tickets()); n != 1 {
		t.Errorf("reprint printed %d, want 1", n)
	}
	mon.Poll(context.Background())
	if desk := h.get(t, browser, "/desk").String(); strings.Contains(desk, `id="device-alert"`) {
		t.Errorf("desk still shows the alert after the printer recovered")
	}
}

func TestAPIPrint(t *testing.T) {
	t.Parallel()
	p := &fakePrinter{status: hardware.PrinterStatus{Online: true}}
	h, _ := newPrinterHarness(t, p)
	type printed struct {
		Token      string `json:"token"`
		Printed    *bool  `json:"printed"`
		PrintError string `json:"print_error"`
	}
	res := h.postJSON(t, "/api/v1/tickets", `{"service":"ausweis","print":true}`, "Idempotency-Key", "p1")
	got := decode[printed](t, res)
	if res.status != http.StatusCreated || got.Printed == nil || !*got.Printed {
		t.Fatalf("print: %d %s", res.status, res)
	}
	again := decode[printed](t, h.postJSON(t, "/api/v1/tickets", `{"service":"ausweis","print":true}`, "Idempotency-Key", "p1"))
	if again.Token != got.Token || again.Printed == nil || !*again.Printed {
		t.Errorf("replay: %+v", again)
	}
	if n := len(p.tickets()); n != 1 {
		t.Errorf("printed %d, want 1", n)
	}
	// Without "print": nothing printed, no "printed" field.
	res = h.postJSON(t, "/api/v1/tickets", `{"service":"ausweis"}`)
	if strings.Contains(res.String(), `"printed"`) || len(p.tickets()) != 1 {
		t.Errorf("unasked print: %s", res)
	}
	p.set(hardware.PrinterStatus{}, errors.New("printer: offline"))
	res = h.postJSON(t, "/api/v1/tickets", `{"service":"ausweis","print":true}`)
	got = decode[printed](t, res)
	if res.status != http.StatusCreated || got.Printed == nil || *got.Printed || got.PrintError == "" {
		t.Errorf("failed print: %d %s", res.status, res)
	}
}

func TestAPIPrintWithoutPrinter(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	res := h.postJSON(t, "/api/v1/tickets", `{"service":"ausweis","print":true}`)
	got := decode[struct {
		Printed    *bool  `json:"printed"`
		PrintError string `json:"print_error"`
	}](t, res)
	if res.status != http.StatusCreated || got.Printed == nil || *got.Printed || got.PrintError != "no ticket printer configured" {
		t.Errorf("%d %s", res.status, res)
	}
}
