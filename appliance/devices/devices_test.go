package devices_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/devices"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/hardware"
)

// fakePrinter answers Status with what the test set.
type fakePrinter struct {
	mu     sync.Mutex
	status hardware.PrinterStatus
	err    error
	polls  int
}

func (p *fakePrinter) Status(context.Context) (hardware.PrinterStatus, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.polls++
	return p.status, p.err
}

func (p *fakePrinter) set(st hardware.PrinterStatus, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status, p.err = st, err
}

func (p *fakePrinter) pollCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.polls
}

func mustOpenStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "kalk.db"), "kalk", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func device(s *sqlite.Store, name string) (queue.Device, bool) {
	var d queue.Device
	var ok bool
	s.View(func(st *queue.State) {
		if p := st.Devices[name]; p != nil {
			d, ok = *p, true
		}
	})
	return d, ok
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestPollCommitsOnlyChanges(t *testing.T) {
	ctx := context.Background()
	store := mustOpenStore(t)
	p := &fakePrinter{status: hardware.PrinterStatus{Online: true}}
	m := &devices.Monitor{Store: store, Printer: p, PrinterAddress: "tcp://user:secret@192.0.2.10:9100?token=x", Logger: quiet}

	if err := m.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	seq := store.LastSeq()
	d, ok := device(store, "printer")
	if !ok || !d.Up || d.Kind != queue.DevicePrinter || !d.Healthy() {
		t.Fatalf("after the first poll: %+v (found %v), want a healthy printer", d, ok)
	}
	if got, want := d.Address, "tcp://192.0.2.10:9100"; got != want {
		t.Errorf("address = %q, want %q (no credentials)", got, want)
	}
	for range 3 {
		m.Poll(ctx)
	}
	if got := store.LastSeq(); got != seq {
		t.Errorf("unchanged health committed again: seq %d -> %d", seq, got)
	}

	p.set(hardware.PrinterStatus{Online: true, PaperLow: true}, nil)
	m.Poll(ctx)
	if d, _ := device(store, "printer"); !d.PaperLow || !d.Attention() {
		t.Errorf("paper low not reported: %+v", d)
	}
	p.set(hardware.PrinterStatus{Online: true, PaperOut: true}, nil)
	m.Poll(ctx)
	if d, _ := device(store, "printer"); !d.PaperOut || d.PaperLow || d.Healthy() {
		t.Errorf("paper out not reported: %+v", d)
	}
	p.set(hardware.PrinterStatus{}, errors.New("dial tcp 192.0.2.10:9100: connection refused"))
	m.Poll(ctx)
	d, _ = device(store, "printer")
	if d.Up || d.Error == "" || d.Healthy() {
		t.Errorf("unreachable printer: %+v", d)
	}
	if got, want := store.LastSeq(), seq+3; got != want {
		t.Errorf("seq = %d, want %d: one report per change", got, want)
	}
	p.set(hardware.PrinterStatus{Online: true}, nil)
	m.Poll(ctx)
	if d, _ := device(store, "printer"); !d.Healthy() || d.LastError == "" {
		t.Errorf("recovered printer: %+v, want healthy with its last error kept", d)
	}
}

// A print that failed stays in the report until one succeeds, even when
// the printer answers as if nothing happened (a cable pulled mid-ticket).
func TestPrintFailureReported(t *testing.T) {
	ctx := context.Background()
	store := mustOpenStore(t)
	p := &fakePrinter{status: hardware.PrinterStatus{Online: true}}
	m := &devices.Monitor{Store: store, Printer: p, Logger: quiet}
	m.Poll(ctx)
	m.PrintDone(errors.New("write tcp: broken pipe"))
	m.Poll(ctx)
	d, _ := device(store, "printer")
	if d.Healthy() || d.Error == "" {
		t.Fatalf("after a failed print: %+v, want the failure reported", d)
	}
	m.PrintDone(nil)
	m.Poll(ctx)
	if d, _ := device(store, "printer"); !d.Healthy() {
		t.Errorf("after a good print: %+v, want healthy", d)
	}
}

func TestModemReport(t *testing.T) {
	ctx := context.Background()
	store := mustOpenStore(t)
	var mu sync.Mutex
	health, herr := devices.ModemHealth{Up: true, SignalDBM: -71, Network: "registered"}, error(nil)
	m := &devices.Monitor{Store: store, Logger: quiet, ModemAddress: "serial:///dev/ttyUSB0?baud=115200",
		Modem: devices.ModemFunc(func(context.Context) (devices.ModemHealth, error) {
			mu.Lock()
			defer mu.Unlock()
			return health, herr
		})}
	m.Poll(ctx)
	d, ok := device(store, "modem")
	if !ok || !d.Healthy() || d.SignalDBM != -70 || d.Address != "serial:///dev/ttyUSB0?baud=115200" {
		t.Fatalf("modem: %+v (found %v)", d, ok)
	}
	mu.Lock()
	health = devices.ModemHealth{Up: true, Network: "no SIM", LastError: "SIM missing"}
	mu.Unlock()
	m.Poll(ctx)
	if d, _ := device(store, "modem"); d.Healthy() || d.Network != "no SIM" {
		t.Errorf("modem without SIM: %+v", d)
	}
	mu.Lock()
	herr = errors.New("open /dev/ttyUSB0: no such file or directory")
	mu.Unlock()
	m.Poll(ctx)
	if d, _ := device(store, "modem"); d.Up || d.Error == "" {
		t.Errorf("unplugged modem: %+v", d)
	}
}

// TestModemSignalBanded: the signal's jitter between polls is no change:
// -71, -73 and -75 dBm commit one report (-70), -85 another (-80).
func TestModemSignalBanded(t *testing.T) {
	ctx := context.Background()
	store := mustOpenStore(t)
	var mu sync.Mutex
	var dbm int
	m := &devices.Monitor{Store: store, Logger: quiet, ModemAddress: "serial:///dev/ttyUSB0",
		Modem: devices.ModemFunc(func(context.Context) (devices.ModemHealth, error) {
			mu.Lock()
			defer mu.Unlock()
			return devices.ModemHealth{Up: true, SignalDBM: dbm, Network: "registered"}, nil
		})}
	start := store.LastSeq()
	for _, tc := range []struct{ dbm, band, reports int }{
		{-71, -70, 1}, {-73, -70, 1}, {-75, -70, 1}, {-85, -80, 2}, {-81, -80, 2},
	} {
		mu.Lock()
		dbm = tc.dbm
		mu.Unlock()
		if err := m.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		d, _ := device(store, "modem")
		if got := int(store.LastSeq() - start); d.SignalDBM != tc.band || got != tc.reports {
			t.Errorf("after %d dBm: reported %d dBm, %d reports; want %d dBm, %d", tc.dbm, d.SignalDBM, got, tc.band, tc.reports)
		}
	}
}

func TestSignalBand(t *testing.T) {
	for in, want := range map[int]int{0: 0, -51: -50, -64: -60, -65: -60, -66: -70, -71: -70, -73: -70, -75: -70,
		-76: -80, -85: -80, -113: -110, -3: -10} {
		if got := devices.SignalBand(in); got != want {
			t.Errorf("SignalBand(%d) = %d, want %d", in, got, want)
		}
	}
}

// Run polls at start, on every tick and when nudged, and stops with its
// context without leaving goroutines behind.
func TestRunStops(t *testing.T) {
	store := mustOpenStore(t)
	p := &fakePrinter{status: hardware.PrinterStatus{Online: true}}
	m := &devices.Monitor{Store: store, Printer: p, Interval: time.Hour, Logger: quiet}
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		m.Run(ctx)
		close(done)
	}()
	waitFor(t, func() bool { return p.pollCount() >= 1 })
	m.PrintDone(errors.New("paper out"))
	waitFor(t, func() bool { return p.pollCount() >= 2 })
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPublicAddress(t *testing.T) {
	for in, want := range map[string]string{
		"tcp://192.0.2.10:9100":                     "tcp://192.0.2.10:9100",
		"tcp://admin:pw@192.0.2.10:9100":            "tcp://192.0.2.10:9100",
		"serial:///dev/ttyUSB0?baud=19200&pin=1234": "serial:///dev/ttyUSB0?baud=19200",
		"usb:///dev/usb/lp0":                        "usb:///dev/usb/lp0",
		"":                                          "",
	} {
		if got := devices.PublicAddress(in); got != want {
			t.Errorf("PublicAddress(%q) = %q, want %q", in, got, want)
		}
	}
}
