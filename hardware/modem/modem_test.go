package modem_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/notify"
	"github.com/veedel/veedel/hardware/modem"
	"github.com/veedel/veedel/hardware/modemsim"
)

const to = "+4915123456789"

// MustStart starts a simulator, closed with the test.
func MustStart(tb testing.TB, opt modemsim.Options) *modemsim.Sim {
	tb.Helper()
	sim, err := modemsim.Start(opt)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sim.Close() })
	return sim
}

// MustOpen opens a modem on the simulator with quick timeouts.
func MustOpen(tb testing.TB, sim *modemsim.Sim, mode string) *modem.Modem {
	tb.Helper()
	m, err := modem.Open("serial://"+sim.Path()+"?mode="+mode, modem.Options{
		CommandTimeout: 2 * time.Second,
		SubmitTimeout:  2 * time.Second,
		Backoff:        10 * time.Millisecond,
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}

func ctx(tb testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	tb.Cleanup(cancel)
	return c
}

// checkClean fails when an error names the number or the text.
func checkClean(tb testing.TB, err error, text string) {
	tb.Helper()
	if s := err.Error(); strings.Contains(s, "15123456789") || (text != "" && strings.Contains(s, text)) {
		tb.Errorf("error %q names the number or the text", s)
	}
}

func TestSend(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, mode, text string
		enc              notify.Encoding
	}{
		{"PDU/UCS2", "pdu", "Bitte zu Platz 3 – Größe ÄÖÜ äöü ß €", notify.UCS2},
		{"PDU/GSM7Euro", "pdu", "A042 bitte zu Platz 3. Größe ÄÖÜ äöü ß €", notify.GSM7},
		{"PDU/Extension", "pdu", "[A042] {Platz 3} ~ | \\ ^ €", notify.GSM7},
		{"Text/UCS2", "text", "Bitte zu Platz 3 – Größe ÄÖÜ äöü ß €", notify.UCS2},
		// The euro cannot be typed in the GSM character set: UCS-2.
		{"Text/Euro", "text", "A042 bitte zu Platz 3. Größe ÄÖÜ äöü ß €", notify.UCS2},
		{"Text/GSM", "text", "A042 bitte zu Platz 3. Größe ÄÖÜ äöü ß", notify.GSM7},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := MustStart(t, modemsim.Options{})
			m := MustOpen(t, sim, tt.mode)
			if err := m.Send(ctx(t), to, tt.text); err != nil {
				t.Fatal(err)
			}
			msgs, err := sim.WaitMessages(ctx(t), 1)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := msgs[0], (modemsim.Message{To: to, Text: tt.text, Parts: 1, Encoding: tt.enc}); got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

// longText is 300 characters with umlauts: 300 septets, GSM-7 in 2 parts.
func longText() string {
	s := strings.Repeat("A042 bitte zu Platz 3. Größe ÄÖÜ äöü ß. ", 10)
	return string([]rune(s)[:300])
}

func TestSendLong(t *testing.T) {
	t.Parallel()
	text := longText()
	want := notify.Split(text)
	if len(want.Parts) != 2 {
		t.Fatalf("test text splits into %d parts", len(want.Parts))
	}
	t.Run("PDU", func(t *testing.T) {
		t.Parallel()
		sim := MustStart(t, modemsim.Options{})
		m := MustOpen(t, sim, "pdu")
		for i := 0; i < 2; i++ { // two messages: two references
			if err := m.Send(ctx(t), to, text); err != nil {
				t.Fatal(err)
			}
		}
		msgs, err := sim.WaitMessages(ctx(t), 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range msgs {
			if got, want := msg, (modemsim.Message{To: to, Text: text, Parts: 2, Encoding: notify.GSM7}); got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		}
		parts := sim.Parts()
		if len(parts) != 4 || parts[0].Ref == parts[2].Ref || parts[0].Ref != parts[1].Ref {
			t.Errorf("parts = %+v, want two pairs with their own references", parts)
		}
	})
	t.Run("Text", func(t *testing.T) {
		t.Parallel()
		sim := MustStart(t, modemsim.Options{})
		m := MustOpen(t, sim, "text")
		if err := m.Send(ctx(t), to, text); err != nil {
			t.Fatal(err)
		}
		// Text mode cannot concatenate: separate messages, one per part.
		msgs := sim.Messages()
		var joined strings.Builder
		for _, msg := range msgs {
			joined.WriteString(msg.Text)
			if msg.Parts != 1 || msg.Encoding != notify.GSM7 {
				t.Errorf("message %+v", msg)
			}
		}
		if len(msgs) != 2 || joined.String() != text {
			t.Errorf("got %d messages joined %q", len(msgs), joined.String())
		}
	})
}

func TestSendRetry(t *testing.T) {
	t.Parallel()
	text := longText()
	t.Run("Part2Retried", func(t *testing.T) {
		t.Parallel()
		sim := MustStart(t, modemsim.Options{})
		m := MustOpen(t, sim, "pdu")
		sim.FailAfter(1, 2, 332) // part 1 passes, part 2 fails twice
		if err := m.Send(ctx(t), to, text); err != nil {
			t.Fatal(err)
		}
		checkParts(t, sim, text)
	})
	t.Run("ResumedBySecondSend", func(t *testing.T) {
		t.Parallel()
		sim := MustStart(t, modemsim.Options{})
		m := MustOpen(t, sim, "pdu")
		sim.FailAfter(1, 4, 500) // part 2 fails more often than retried
		err := m.Send(ctx(t), to, text)
		var e *modem.Error
		if !errors.As(err, &e) || e.Kind != modem.Temporary || e.CMS != 500 || e.Op != "send part 2/2" {
			t.Fatalf("err = %v, want temporary CMS 500 on part 2", err)
		}
		checkClean(t, err, text)
		if got := len(sim.Parts()); got != 1 {
			t.Fatalf("parts after failure = %d, want 1", got)
		}
		// The outbox tries again: part 1 is not sent twice.
		if err := m.Send(ctx(t), to, text); err != nil {
			t.Fatal(err)
		}
		checkParts(t, sim, text)
	})
	t.Run("NoNetwork", func(t *testing.T) {
		t.Parallel()
		sim := MustStart(t, modemsim.Options{})
		m := MustOpen(t, sim, "pdu")
		sim.SetNetwork(false)
		err := m.Send(ctx(t), to, "A042 bitte zu Platz 3")
		if !errors.Is(err, modem.ErrNoNetwork) || modem.KindOf(err) != modem.Temporary {
			t.Fatalf("err = %v, want no network, temporary", err)
		}
		checkClean(t, err, "A042 bitte zu Platz 3")
		if got := len(sim.Parts()); got != 0 {
			t.Fatalf("parts = %d, want 0", got)
		}
		sim.SetNetwork(true)
		if err := m.Send(ctx(t), to, "A042 bitte zu Platz 3"); err != nil {
			t.Fatal(err)
		}
		if got := sim.Messages(); len(got) != 1 || len(sim.Parts()) != 1 || got[0].Text != "A042 bitte zu Platz 3" {
			t.Errorf("messages = %+v", got)
		}
	})
	t.Run("Permanent", func(t *testing.T) {
		t.Parallel()
		sim := MustStart(t, modemsim.Options{})
		m := MustOpen(t, sim, "pdu")
		sim.FailNext(5, 304)
		start := time.Now()
		err := m.Send(ctx(t), to, "A042")
		var e *modem.Error
		if !errors.As(err, &e) || e.Kind != modem.Permanent || e.CMS != 304 {
			t.Fatalf("err = %v, want permanent CMS 304", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %v: retried a permanent error?", d)
		}
	})
}

// checkParts wants each part of text exactly once and one message.
func checkParts(t *testing.T, sim *modemsim.Sim, text string) {
	t.Helper()
	parts := sim.Parts()
	if len(parts) != 2 || parts[0].Seq != 1 || parts[1].Seq != 2 || parts[0].Ref != parts[1].Ref {
		t.Errorf("parts = %+v, want seq 1 and 2 once, one reference", parts)
	}
	msgs := sim.Messages()
	if len(msgs) != 1 || msgs[0].Text != text || msgs[0].Parts != 2 {
		t.Errorf("messages = %+v, want the text once in 2 parts", msgs)
	}
}

func TestSendSIMMissing(t *testing.T) {
	t.Parallel()
	t.Run("AtInit", func(t *testing.T) {
		t.Parallel()
		sim := MustStart(t, modemsim.Options{})
		sim.SetSIM(false)
		m := MustOpen(t, sim, "pdu")
		err := m.Send(ctx(t), to, "A042")
		if !errors.Is(err, modem.ErrSIMMissing) || modem.KindOf(err) != modem.Permanent {
			t.Fatalf("err = %v, want SIM missing, permanent", err)
		}
		sim.SetSIM(true)
		if err := m.Send(ctx(t), to, "A042"); err != nil {
			t.Fatalf("after inserting the SIM: %v", err)
		}
	})
	t.Run("AfterInit", func(t *testing.T) {
		t.Parallel()
		sim := MustStart(t, modemsim.Options{})
		m := MustOpen(t, sim, "text")
		if err := m.Send(ctx(t), to, "A042"); err != nil {
			t.Fatal(err)
		}
		sim.SetSIM(false)
		err := m.Send(ctx(t), to, "A043")
		var e *modem.Error
		if !errors.As(err, &e) || e.Kind != modem.Permanent || e.CMS != 310 || !errors.Is(err, modem.ErrSIMMissing) {
			t.Fatalf("err = %v, want permanent CMS 310", err)
		}
	})
}

func TestUnplug(t *testing.T) {
	t.Parallel()
	link := filepath.Join(t.TempDir(), "ttyUSB0")
	sim := MustStart(t, modemsim.Options{Link: link})
	m := MustOpen(t, sim, "pdu")
	if err := m.Send(ctx(t), to, "A041"); err != nil {
		t.Fatal(err)
	}
	// Unplugged after the modem took the PDU and before it answered.
	sim.Hang()
	errc := make(chan error, 1)
	go func() { errc <- m.Send(ctx(t), to, "A042") }()
	if _, err := sim.WaitParts(ctx(t), 2); err != nil {
		t.Fatal(err)
	}
	sim.Unplug()
	err := <-errc
	if !errors.Is(err, modem.ErrMaybeSent) || modem.KindOf(err) != modem.Ambiguous {
		t.Fatalf("err = %v, want ambiguous", err)
	}
	checkClean(t, err, "A042")
	// Still unplugged: a clear error.
	if err := m.Send(ctx(t), to, "A043"); err == nil || modem.KindOf(err) != modem.Temporary {
		t.Fatalf("unplugged: err = %v, want temporary", err)
	}
	if err := sim.Replug(); err != nil {
		t.Fatal(err)
	}
	if err := m.Send(ctx(t), to, "A044"); err != nil {
		t.Fatalf("after replug: %v", err)
	}
	msgs := sim.Messages()
	if got := msgs[len(msgs)-1].Text; got != "A044" {
		t.Errorf("last message %q", got)
	}
}

func TestHang(t *testing.T) {
	t.Parallel()
	sim := MustStart(t, modemsim.Options{})
	m, err := modem.Open("serial://"+sim.Path(), modem.Options{SubmitTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	sim.Hang()
	err = m.Send(ctx(t), to, "A042")
	if !errors.Is(err, modem.ErrMaybeSent) || modem.KindOf(err) != modem.Ambiguous {
		t.Fatalf("err = %v, want ambiguous", err)
	}
	if got := len(sim.Parts()); got != 1 {
		t.Errorf("parts = %d, want 1 (not retried)", got)
	}
	if err := m.Send(ctx(t), to, "A043"); err != nil {
		t.Fatalf("after a hang: %v", err)
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	sim := MustStart(t, modemsim.Options{RSSI: 20})
	m := MustOpen(t, sim, "pdu")
	h, err := m.Health(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if want := (modem.Health{Up: true, SignalDBM: -73, Network: modem.Registered, SIM: modem.SIMReady}); h != want {
		t.Errorf("got %+v, want %+v", h, want)
	}
	sim.SetNetwork(false)
	sim.SetSIM(false)
	h, err = m.Health(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if want := (modem.Health{Up: true, SignalDBM: 0, Network: modem.NotRegistered, SIM: modem.SIMMissing}); h != want {
		t.Errorf("got %+v, want %+v", h, want)
	}
	sim.Unplug()
	h, err = m.Health(ctx(t))
	if err == nil || h.Up {
		t.Errorf("unplugged: got %+v, %v", h, err)
	}
}

func TestOpenBadAddress(t *testing.T) {
	t.Parallel()
	_, err := modem.Open("/dev/ttyUSB0", modem.Options{})
	if !errors.Is(err, modem.ErrBadAddress) {
		t.Errorf("err = %v, want ErrBadAddress", err)
	}
}
