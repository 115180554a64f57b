// Package devices watches the site's devices, the kiosk's ticket printer,
// the GSM modem and the school-health site's scale, and records their health in the site's change-log: a
// queue.DeviceReported is committed whenever a device's health differs from
// the last report in the state, never on every poll (the modem's signal is
// reported in 10 dBm steps, so that its jitter is no change). Staff see it on the
// desk, central sees it after sync.
package devices

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/hardware"
)

// DefaultInterval is how often the devices are polled.
const DefaultInterval = 15 * time.Second

// DefaultTimeout bounds one device's answer to a poll.
const DefaultTimeout = 5 * time.Second

// Store commits the reports (sqlite.Store).
type Store interface {
	Execute(ctx context.Context, decide sqlite.Decider) ([]queue.Event, error)
}

// PrinterStatus reads a printer's status (every hardware.Printer does).
type PrinterStatus interface {
	Status(ctx context.Context) (hardware.PrinterStatus, error)
}

// ModemHealth is what a GSM modem says of itself.
type ModemHealth struct {
	Up        bool   // answering AT commands
	SignalDBM int    // received signal strength (0: unknown)
	Network   string // "registered", "roaming", "searching", "denied", "no SIM"
	LastError string // the last failure, in words, without numbers or texts
}

// Modem reports a modem's health. ModemFunc adapts a driver's method.
type Modem interface {
	Health(ctx context.Context) (ModemHealth, error)
}

// ModemFunc is a function that is a Modem.
type ModemFunc func(ctx context.Context) (ModemHealth, error)

// Health calls f.
func (f ModemFunc) Health(ctx context.Context) (ModemHealth, error) { return f(ctx) }

// ScaleHealth is what a scale says of itself.
type ScaleHealth struct {
	Up bool // answering
}

// Scale reports a scale's health. ScaleFunc adapts a driver's method.
type Scale interface {
	Health(ctx context.Context) (ScaleHealth, error)
}

// ScaleFunc is a function that is a Scale.
type ScaleFunc func(ctx context.Context) (ScaleHealth, error)

// Health calls f.
func (f ScaleFunc) Health(ctx context.Context) (ScaleHealth, error) { return f(ctx) }

// Monitor polls the configured devices and commits changed reports. Set
// the fields, then Run it; PrintDone tells it about the kiosk's prints.
type Monitor struct {
	Store Store
	// Printer is the ticket printer (nil: none configured), at
	// PrinterAddress (shown without credentials).
	Printer        PrinterStatus
	PrinterAddress string
	// Modem is the GSM modem (nil: none), at ModemAddress.
	Modem        Modem
	ModemAddress string
	// Scale is the exam's scale (nil: none), at ScaleAddress;
	// ReadingDone tells the monitor about its readings.
	Scale        Scale
	ScaleAddress string
	// Interval between polls (0: DefaultInterval); Timeout bounds each
	// device's answer (0: DefaultTimeout).
	Interval time.Duration
	Timeout  time.Duration
	Logger   *slog.Logger

	once  sync.Once
	nudge chan struct{}
	// printerAddr, modemAddr and scaleAddr are the addresses as shown,
	// set once.
	printerAddr, modemAddr, scaleAddr string

	mu        sync.Mutex
	printFail string // why the last print failed ("": it printed)
	readFail  string // why the scale's last reading failed ("": it read)
}

func (m *Monitor) init() {
	m.once.Do(func() {
		m.nudge = make(chan struct{}, 1)
		m.printerAddr, m.modemAddr, m.scaleAddr = PublicAddress(m.PrinterAddress), PublicAddress(m.ModemAddress), PublicAddress(m.ScaleAddress)
		if m.Logger == nil {
			m.Logger = slog.Default()
		}
	})
}

// Run polls every Interval, and at once when nudged, until ctx ends. The
// first poll is at the start.
func (m *Monitor) Run(ctx context.Context) {
	m.init()
	if m.Printer == nil && m.Modem == nil && m.Scale == nil {
		return
	}
	interval := m.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		m.Poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.nudge:
		}
	}
}

// Nudge asks Run to poll now (without waiting; coalesced).
func (m *Monitor) Nudge() {
	m.init()
	select {
	case m.nudge <- struct{}{}:
	default:
	}
}

// PrintDone tells the monitor how a print went: a failure, or the first
// success after one, is reported at once. A failed print stays in the
// printer's report (its Error) until a print succeeds, so that a ticket
// cut short by a pulled cable is seen even when the printer answers again.
func (m *Monitor) PrintDone(err error) {
	m.mu.Lock()
	was := m.printFail
	if err != nil {
		m.printFail = "last ticket did not print: " + Reason(err)
	} else {
		m.printFail = ""
	}
	changed := was != m.printFail
	m.mu.Unlock()
	if changed || err != nil {
		m.Nudge()
	}
}

// ReadingDone tells the monitor how a reading of the scale went: nil for
// a reading taken, else the device's fault (a pulled cable, a scale that
// does not answer, garbled frames; not a child who would not stand still,
// which is nobody's fault). A fault, or the first reading after one, is
// reported at once; the fault stays in the scale's report until a reading
// succeeds, so that a cable pulled mid-reading is seen on the desk and at
// central even when the scale answers again by the next poll.
func (m *Monitor) ReadingDone(err error) {
	m.mu.Lock()
	was := m.readFail
	if err != nil {
		m.readFail = "last reading failed: " + Reason(err)
	} else {
		m.readFail = ""
	}
	changed := was != m.readFail
	m.mu.Unlock()
	if changed || err != nil {
		m.Nudge()
	}
}

// Poll asks every configured device for its health once and commits the
// reports that changed. It returns the first commit error.
func (m *Monitor) Poll(ctx context.Context) error {
	m.init()
	var reports []queue.DeviceReported
	if m.Printer != nil {
		reports = append(reports, m.printerReport(ctx))
	}
	if m.Modem != nil {
		reports = append(reports, m.modemReport(ctx))
	}
	if m.Scale != nil {
		reports = append(reports, m.scaleReport(ctx))
	}
	var first error
	for _, r := range reports {
		if err := m.commit(ctx, r); err != nil && first == nil && ctx.Err() == nil {
			m.Logger.Error("record device health", "device", r.Device, "err", err)
			first = err
		}
	}
	return first
}

func (m *Monitor) timeout() time.Duration {
	if m.Timeout > 0 {
		return m.Timeout
	}
	return DefaultTimeout
}

func (m *Monitor) printerReport(ctx context.Context) queue.DeviceReported {
	r := queue.DeviceReported{Device: queue.DevicePrinter, Kind: queue.DevicePrinter, Address: m.printerAddr}
	ctx, cancel := context.WithTimeout(ctx, m.timeout())
	defer cancel()
	st, err := m.Printer.Status(ctx)
	switch {
	case err != nil:
		r.Error = "no status: " + Reason(err)
	default:
		// Up means the printer answers; a printer out of paper says it is
		// offline too, but staff need "paper out", not "unreachable".
		r.Up, r.PaperLow, r.PaperOut, r.CoverOpen = true, st.PaperLow && !st.PaperOut, st.PaperOut, st.CoverOpen
		switch {
		case st.Error:
			r.Error = "printer reports an error (mechanism or cutter): open the cover, clear any jam, switch it off and on"
		case !st.Online && !st.PaperOut && !st.CoverOpen:
			r.Error = "printer is offline"
		}
	}
	m.mu.Lock()
	if fail := m.printFail; fail != "" && r.Error == "" {
		r.Error = fail
	}
	m.mu.Unlock()
	return r
}

func (m *Monitor) modemReport(ctx context.Context) queue.DeviceReported {
	r := queue.DeviceReported{Device: queue.DeviceModem, Kind: queue.DeviceModem, Address: m.modemAddr}
	ctx, cancel := context.WithTimeout(ctx, m.timeout())
	defer cancel()
	h, err := m.Modem.Health(ctx)
	if err != nil {
		r.Error = "no answer: " + Reason(err)
		return r
	}
	r.Up, r.SignalDBM, r.Network, r.Error = h.Up, signalBand(h.SignalDBM), h.Network, clip(h.LastError)
	return r
}

func (m *Monitor) scaleReport(ctx context.Context) queue.DeviceReported {
	r := queue.DeviceReported{Device: queue.DeviceScale, Kind: queue.DeviceScale, Address: m.scaleAddr}
	ctx, cancel := context.WithTimeout(ctx, m.timeout())
	defer cancel()
	h, err := m.Scale.Health(ctx)
	switch {
	case err != nil:
		r.Error = "no answer: " + Reason(err)
	case !h.Up:
		r.Error = "scale is not answering"
	default:
		r.Up = true
	}
	m.mu.Lock()
	if fail := m.readFail; fail != "" && r.Error == "" {
		r.Error = fail
	}
	m.mu.Unlock()
	return r
}

// signalBand is a signal strength in steps of 10 dBm, rounded to the
// nearer step (-73 → -70, -75 → -70, -76 → -80), 0 staying unknown. A
// modem's reading moves by a few dBm from poll to poll; reported raw, every
// poll would commit a new report (and sync it to central).
func signalBand(dbm int) int {
	if dbm == 0 {
		return 0
	}
	b := (dbm + 5) / 10 * 10 // rounds toward zero: right for dbm >= -5
	if dbm+5 < 0 && (dbm+5)%10 != 0 {
		b -= 10 // floor for negative readings
	}
	if b == 0 {
		// A reading of -5 dBm or more is no real modem's; keep it known.
		return -10
	}
	return b
}

// commit records r when it differs from the device's report in the state.
func (m *Monitor) commit(ctx context.Context, r queue.DeviceReported) error {
	events, err := m.Store.Execute(ctx, func(st *queue.State, at time.Time) ([]queue.Event, error) {
		if d := st.Devices[r.Device]; d != nil && d.DeviceReported == r {
			return nil, nil
		}
		p := r
		return []queue.Event{{Type: queue.TypeDeviceReported, Entity: "device/" + r.Device, At: at, Payload: &p}}, nil
	})
	if err != nil || len(events) == 0 {
		return err
	}
	d := queue.Device{DeviceReported: r}
	if d.Healthy() {
		m.Logger.Info("device health", "device", r.Device, "address", r.Address, "state", summary(r))
	} else {
		m.Logger.Warn("device needs attention", "device", r.Device, "address", r.Address, "state", summary(r))
	}
	return nil
}

// summary is a report in a few English words for logs: "ok", "paper out",
// "down: no answer: …".
func summary(r queue.DeviceReported) string {
	var parts []string
	if !r.Up {
		parts = append(parts, "down")
	}
	if r.PaperOut {
		parts = append(parts, "paper out")
	} else if r.PaperLow {
		parts = append(parts, "paper low")
	}
	if r.CoverOpen {
		parts = append(parts, "cover open")
	}
	if r.Network != "" {
		parts = append(parts, "network "+r.Network)
	}
	if r.Error != "" {
		parts = append(parts, r.Error)
	}
	if len(parts) == 0 {
		return "ok"
	}
	return strings.Join(parts, ", ")
}

// Reason is an error in words for a technician: context deadlines become
// "no answer in time", and the text is cut to a sensible length. Errors of
// the drivers name the device's state and address, never a ticket's
// contents or a phone number.
func Reason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer in time"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return clip(err.Error())
}

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		return string(r[:199]) + "…"
	}
	return s
}

// PublicAddress is a device address fit to show and sync: without user
// information, and with the query only when it has no secrets
// ("tcp://192.0.2.10:9100", "serial:///dev/ttyUSB0?baud=19200").
func PublicAddress(addr string) string {
	u, err := url.Parse(addr)
	if err != nil || u.Scheme == "" {
		return ""
	}
	u.User = nil
	q := u.Query()
	for k := range q {
		switch k {
		case "baud", "qr", "width", "parity", "databits", "stopbits", "mode":
		default:
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	u.Fragment = ""
	return u.String()
}
