package modem_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"go.bug.st/serial"

	"github.com/veedel/veedel/hardware/modem"
	"github.com/veedel/veedel/hardware/modemsim"
)

// TestHealthWhileSending: a health poll while a Send waits for the
// network's answer to its submit does not wait for it: it returns the
// last health (Up) at its own deadline without touching the port, and the
// Send ends as it would have.
func TestHealthWhileSending(t *testing.T) {
	t.Parallel()
	sim := MustStart(t, modemsim.Options{RSSI: 20})
	m, err := modem.Open("serial://"+sim.Path(), modem.Options{
		CommandTimeout: 2 * time.Second,
		SubmitTimeout:  5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	before, err := m.Health(ctx(t))
	if err != nil || !before.Up {
		t.Fatalf("health: %+v, %v", before, err)
	}

	sim.Hang() // the submit is taken and never answered
	sent := make(chan error, 1)
	go func() { sent <- m.Send(context.Background(), to, "A042 bitte zu Platz 3") }()
	if _, err := sim.WaitParts(ctx(t), 1); err != nil {
		t.Fatalf("submit: %v", err)
	}
	// The Send now waits up to SubmitTimeout for +CMGS, holding the modem.
	hctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	h, err := m.Health(hctx)
	took := time.Since(start)
	if err != nil || h != before {
		t.Errorf("health while sending: %+v, %v; want the last health %+v, no error", h, err, before)
	}
	// The SubmitTimeout is 5 s; the poll's deadline 200 ms.
	if took >= 2*time.Second {
		t.Errorf("health took %v while sending, want about its 200 ms deadline", took)
	}
	select {
	case err := <-sent:
		t.Fatalf("send ended before the submit timeout: %v", err)
	default:
	}

	if err := <-sent; !errors.Is(err, modem.ErrMaybeSent) {
		t.Errorf("send: %v, want it maybe sent", err)
	}
	if got := len(sim.Parts()); got != 1 {
		t.Errorf("%d parts submitted, want 1", got)
	}
	if h, err := m.Health(ctx(t)); err != nil || !h.Up || h.SignalDBM != -73 {
		t.Errorf("health after the send: %+v, %v", h, err)
	}
}

// pausingPort is the simulator's pty, opened as the driver opens it, that
// can hold back the modem's answer to one command: its reader stops
// after the write of stall until resume.
type pausingPort struct {
	io.ReadWriteCloser
	stall   string
	written func() // called when stall is written

	mu     sync.Mutex
	paused chan struct{} // non-nil while reads are held
}

func (p *pausingPort) Write(b []byte) (int, error) {
	if bytes.HasPrefix(b, []byte(p.stall)) {
		p.mu.Lock()
		if p.paused == nil {
			p.paused = make(chan struct{})
		}
		p.mu.Unlock()
		defer p.written()
	}
	return p.ReadWriteCloser.Write(b)
}

func (p *pausingPort) Read(b []byte) (int, error) {
	n, err := p.ReadWriteCloser.Read(b)
	p.mu.Lock()
	paused := p.paused
	p.mu.Unlock()
	if paused != nil {
		<-paused
	}
	return n, err
}

func (p *pausingPort) resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stall = "\x00never"
	if p.paused != nil {
		close(p.paused)
		p.paused = nil
	}
}

func (p *pausingPort) Close() error {
	p.resume()
	return p.ReadWriteCloser.Close()
}

// TestHealthCancelledKeepsPort: a caller's deadline that ends while the
// modem has not answered a harmless command yet (AT+CPIN?) is not the
// modem's fault: the port is not dropped, the health reported is the last
// one (Up), and the next poll reads the late answer away and stays in
// step.
func TestHealthCancelledKeepsPort(t *testing.T) {
	t.Parallel()
	sim := MustStart(t, modemsim.Options{RSSI: 20})
	var mu sync.Mutex
	opens := 0
	var port *pausingPort
	hctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, err := modem.Open("serial://"+sim.Path(), modem.Options{
		CommandTimeout: 5 * time.Second,
		OpenPort: func(path string, baud int) (io.ReadWriteCloser, error) {
			p, err := serial.Open(path, &serial.Mode{BaudRate: baud})
			if err != nil {
				return nil, err
			}
			mu.Lock()
			defer mu.Unlock()
			opens++
			port = &pausingPort{ReadWriteCloser: p, stall: "\x00never", written: cancel}
			return port, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	before, err := m.Health(ctx(t))
	if err != nil || !before.Up {
		t.Fatalf("health: %+v, %v", before, err)
	}

	mu.Lock()
	port.mu.Lock()
	port.stall = "AT+CPIN?" // the poll's deadline ends right after it is sent
	port.mu.Unlock()
	p := port
	mu.Unlock()
	h, err := m.Health(hctx)
	if err != nil || h != before {
		t.Errorf("cancelled health: %+v, %v; want the last health %+v, no error", h, err, before)
	}
	p.resume() // the modem's answer arrives late

	sim.SetNetwork(false) // a change the next poll must see, in step
	h, err = m.Health(ctx(t))
	if err != nil {
		t.Fatalf("next health: %v", err)
	}
	if want := (modem.Health{Up: true, SignalDBM: 0, Network: modem.NotRegistered, SIM: modem.SIMReady}); h != want {
		t.Errorf("next health: %+v, want %+v", h, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if opens != 1 {
		t.Errorf("port opened %d times, want once: a caller's deadline must not drop it", opens)
	}
}
