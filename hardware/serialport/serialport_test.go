package serialport_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/veedel/veedel/hardware/serialport"
	"github.com/veedel/veedel/hardware/simport"
)

// TestReaderOverPty opens a simulator's pty through its link as a driver
// does and checks what More promises: bytes unchanged by the line
// discipline (CR, LF, 0x1A pass as sent), the deadline, a cancelled
// context, and the end of the line with what arrived before it still
// delivered.
func TestReaderOverPty(t *testing.T) {
	link := filepath.Join(t.TempDir(), "ttyUSB0")
	p, err := simport.Open(link)
	if err != nil {
		t.Skipf("no pty here: %v", err)
	}
	port, err := serialport.Open(link, 9600)
	if err != nil {
		p.Close()
		t.Fatal(err)
	}
	r := serialport.NewReader(port, 16)
	defer r.Close()
	ctx := context.Background()

	sent := []byte("OK\r\n\x1a> ")
	if _, err := p.Master.Write(sent); err != nil {
		t.Fatal(err)
	}
	for len(r.Buf) < len(sent) {
		if err := r.More(ctx, time.Now().Add(5*time.Second)); err != nil {
			t.Fatalf("More: %v after %q", err, r.Buf)
		}
	}
	if string(r.Buf) != string(sent) {
		t.Errorf("read %q, sent %q", r.Buf, sent)
	}

	began := time.Now()
	if err := r.More(ctx, began.Add(50*time.Millisecond)); !errors.Is(err, serialport.ErrDeadline) {
		t.Errorf("silence: %v, want ErrDeadline", err)
	}
	if waited := time.Since(began); waited < 50*time.Millisecond {
		t.Errorf("returned after %s, before the deadline", waited)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := r.More(cancelled, time.Now().Add(time.Second)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}

	// The last words before the cable is pulled still arrive.
	r.Discard()
	if _, err := p.Master.Write([]byte("S S 21.40 kg")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	p.Close()
	var ended error
	for range 100 {
		if ended = r.More(ctx, time.Now().Add(5*time.Second)); ended != nil {
			break
		}
	}
	if !errors.Is(ended, serialport.ErrEnded) || r.Err() == nil {
		t.Errorf("after the pty closed: %v (reader's error %v), want ErrEnded", ended, r.Err())
	}
	if string(r.Buf) != "S S 21.40 kg" {
		t.Errorf("before the end: %q", r.Buf)
	}
}
