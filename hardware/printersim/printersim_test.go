package printersim_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"image/png"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skip2/go-qrcode"

	"github.com/veedel/veedel/hardware/printersim"
	"github.com/veedel/veedel/internal/qrtest"
)

var sampleOut = flag.String("printersim.sample", "", "write the sample ticket's PNG to this file")

// job builds an ESC/POS byte stream by hand, as the driver sends it.
type job struct{ bytes.Buffer }

func (j *job) raw(b ...byte) *job   { j.Write(b); return j }
func (j *job) init() *job           { return j.raw(0x1B, 0x40) }
func (j *job) codePage(n byte) *job { return j.raw(0x1B, 0x74, n) }
func (j *job) align(n byte) *job    { return j.raw(0x1B, 0x61, n) }
func (j *job) size(w, h byte) *job  { return j.raw(0x1D, 0x21, (w-1)<<4|(h-1)) }
func (j *job) feed(n byte) *job     { return j.raw(0x1B, 0x64, n) }
func (j *job) cut() *job            { return j.raw(0x1D, 0x56, 66, 3) }
func (j *job) status(n byte) *job   { return j.raw(0x10, 0x04, n) }
func (j *job) line(s string) *job   { j.WriteString(s + "\n"); return j }
func (j *job) bold(on bool) *job    { return j.raw(0x1B, 0x45, map[bool]byte{true: 1}[on]) }
func (j *job) qrFn(fn byte, b ...byte) *job {
	n := len(b) + 2
	j.raw(0x1D, 0x28, 0x6B, byte(n), byte(n>>8), 0x31, fn)
	return j.raw(b...)
}

// qr prints data as a native QR code: model 2, module size, level M.
func (j *job) qr(data string, module byte) *job {
	j.qrFn(0x41, 0x32, 0)
	j.qrFn(0x43, module)
	j.qrFn(0x45, 0x31)
	j.qrFn(0x50, append([]byte{0x30}, data...)...)
	return j.qrFn(0x51, 0x30)
}

// rasterQR prints data as a GS v 0 bit image, scale dots per module.
func (j *job) rasterQR(tb testing.TB, data string, scale int) *job {
	q, err := qrcode.New(data, qrcode.Medium)
	if err != nil {
		tb.Fatal(err)
	}
	bm := q.Bitmap() // with its quiet zone
	w := len(bm) * scale
	xb := (w + 7) / 8
	img := make([]byte, xb*w)
	for y := 0; y < w; y++ {
		for x := 0; x < w; x++ {
			if bm[y/scale][x/scale] {
				img[y*xb+x/8] |= 0x80 >> (x % 8)
			}
		}
	}
	j.raw(0x1D, 0x76, 0x30, 0, byte(xb), byte(xb>>8), byte(w), byte(w>>8))
	return j.raw(img...)
}

// sample is a ticket as the kiosk prints it, in PC858.
func sample(tb testing.TB) *job {
	j := new(job)
	j.init().codePage(19).align(1)
	j.bold(true).line("Kundenzentrum Kalk").bold(false)
	j.line("Ummeldung / Wohnsitz \x84ndern") // ä
	j.feed(1)
	j.line("Ihre Nummer / Your number")
	j.size(4, 4).line("A042").size(1, 1)
	j.feed(1)
	j.line("29.11.2026 10:42")
	j.line("Wartezeit ca. 15 Min.")
	j.line("Geb\x81hr: 12,00 \xd5") // ü, €
	j.feed(1)
	j.qr("https://veedel.koeln/t/kalk/A042", 6)
	j.line("Status: QR-Code scannen")
	j.feed(2)
	return j.cut()
}

var clock = time.Date(2026, 11, 29, 10, 42, 0, 0, time.UTC)

// mustStart starts a simulator on a free loopback port.
func mustStart(tb testing.TB) *printersim.Sim {
	tb.Helper()
	s := printersim.New(printersim.Options{Now: func() time.Time { return clock }})
	if err := s.Listen("127.0.0.1:0"); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func hostPort(s *printersim.Sim) string { return strings.TrimPrefix(s.Addr(), "tcp://") }

func mustDial(tb testing.TB, s *printersim.Sim) net.Conn {
	tb.Helper()
	c, err := net.Dial("tcp", hostPort(s))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// send writes data on a new connection and closes it.
func send(tb testing.TB, s *printersim.Sim, data []byte) {
	tb.Helper()
	c := mustDial(tb, s)
	if _, err := c.Write(data); err != nil {
		tb.Fatal(err)
	}
	c.Close()
}

func waitTickets(tb testing.TB, s *printersim.Sim, n int) []printersim.Ticket {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ts, err := s.WaitTickets(ctx, n)
	if err != nil {
		tb.Fatal(err)
	}
	return ts
}

// query sends DLE EOT n and reads the answer.
func query(tb testing.TB, c net.Conn, n byte) byte {
	tb.Helper()
	if _, err := c.Write([]byte{0x10, 0x04, n}); err != nil {
		tb.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		tb.Fatalf("DLE EOT %d: %v", n, err)
	}
	return b[0]
}

func decodeQR(tb testing.TB, pngData []byte) string {
	tb.Helper()
	text, err := qrtest.DecodePNG(pngData)
	if err != nil {
		tb.Fatalf("QR code of the PNG: %v", err)
	}
	return text
}

func TestText(t *testing.T) {
	t.Run("PC858", func(t *testing.T) {
		s := mustStart(t)
		send(t, s, sample(t).Bytes())
		tk := waitTickets(t, s, 1)[0]
		want := []string{
			"Kundenzentrum Kalk",
			"Ummeldung / Wohnsitz ändern",
			"Ihre Nummer / Your number",
			"A042",
			"29.11.2026 10:42",
			"Wartezeit ca. 15 Min.",
			"Gebühr: 12,00 €",
			"Status: QR-Code scannen",
		}
		if !slices.Equal(tk.Text, want) {
			t.Errorf("Text = %q, want %q", tk.Text, want)
		}
		if len(tk.Errors) > 0 || tk.Partial {
			t.Errorf("Errors = %q, Partial = %v", tk.Errors, tk.Partial)
		}
		if got, want := tk.Received, clock; !got.Equal(want) {
			t.Errorf("Received = %v, want %v", got, want)
		}
		if !bytes.Equal(tk.Raw, sample(t).Bytes()) {
			t.Errorf("Raw differs from what was sent")
		}
		img, err := png.Decode(bytes.NewReader(tk.PNG))
		if err != nil {
			t.Fatal(err)
		}
		if got := img.Bounds().Dx(); got != printersim.DefaultWidth {
			t.Errorf("PNG width = %d, want %d", got, printersim.DefaultWidth)
		}
		if *sampleOut != "" {
			if err := os.WriteFile(*sampleOut, tk.PNG, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("PC437", func(t *testing.T) {
		s := mustStart(t)
		// PC437 has no €: 0xD5 is a box drawing character there.
		send(t, s, new(job).init().codePage(0).line("M\x81nze \xd5").cut().Bytes())
		tk := waitTickets(t, s, 1)[0]
		if want := []string{"Münze ╒"}; !slices.Equal(tk.Text, want) {
			t.Errorf("Text = %q, want %q", tk.Text, want)
		}
	})
	t.Run("InitResetsCodePage", func(t *testing.T) {
		s := mustStart(t)
		send(t, s, new(job).codePage(19).init().line("\xd5").cut().Bytes())
		tk := waitTickets(t, s, 1)[0]
		if want := []string{"╒"}; !slices.Equal(tk.Text, want) {
			t.Errorf("Text = %q, want %q", tk.Text, want)
		}
	})
}

func TestQR(t *testing.T) {
	const url = "https://veedel.koeln/t/kalk/A042?k=Zm9vYmFy"
	t.Run("Native", func(t *testing.T) {
		s := mustStart(t)
		send(t, s, new(job).init().align(1).line("A042").qr(url, 6).feed(3).cut().Bytes())
		tk := waitTickets(t, s, 1)[0]
		if want := []string{url}; !slices.Equal(tk.QR, want) {
			t.Errorf("QR = %q, want %q", tk.QR, want)
		}
		if len(tk.Errors) > 0 {
			t.Errorf("Errors = %q", tk.Errors)
		}
		if got := decodeQR(t, tk.PNG); got != url {
			t.Errorf("decoded QR = %q, want %q", got, url)
		}
	})
	t.Run("Raster", func(t *testing.T) {
		s := mustStart(t)
		send(t, s, new(job).init().align(1).line("A042").rasterQR(t, url, 5).feed(3).cut().Bytes())
		tk := waitTickets(t, s, 1)[0]
		if tk.Images != 1 || len(tk.QR) != 0 || len(tk.Errors) > 0 {
			t.Errorf("Images = %d, QR = %q, Errors = %q", tk.Images, tk.QR, tk.Errors)
		}
		if got := decodeQR(t, tk.PNG); got != url {
			t.Errorf("decoded QR = %q, want %q", got, url)
		}
	})
	t.Run("ErrPrintWithoutData", func(t *testing.T) {
		s := mustStart(t)
		send(t, s, new(job).init().qrFn(0x51, 0x30).cut().Bytes())
		tk := waitTickets(t, s, 1)[0]
		if len(tk.Errors) != 1 || !strings.Contains(tk.Errors[0], "without stored data") {
			t.Errorf("Errors = %q", tk.Errors)
		}
	})
}

func TestStatus(t *testing.T) {
	for _, tt := range []struct {
		name string
		set  func(*printersim.Sim)
		want [4]byte // answers to DLE EOT 1, 2, 3, 4
	}{
		{"OK", func(*printersim.Sim) {}, [4]byte{0x12, 0x12, 0x12, 0x12}},
		{"PaperLow", func(s *printersim.Sim) { s.SetPaper(printersim.PaperLow) }, [4]byte{0x12, 0x12, 0x12, 0x1E}},
		{"PaperOut", func(s *printersim.Sim) { s.SetPaper(printersim.PaperOut) }, [4]byte{0x1A, 0x32, 0x12, 0x7E}},
		{"CoverOpen", func(s *printersim.Sim) { s.SetCoverOpen(true) }, [4]byte{0x1A, 0x16, 0x12, 0x12}},
		{"Error", func(s *printersim.Sim) { s.SetError(true) }, [4]byte{0x1A, 0x52, 0x1A, 0x12}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := mustStart(t)
			tt.set(s)
			c := mustDial(t, s)
			for i, want := range tt.want {
				if got := query(t, c, byte(i+1)); got != want {
					t.Errorf("DLE EOT %d = %#02x, want %#02x", i+1, got, want)
				}
			}
		})
	}
	t.Run("WhileReceiving", func(t *testing.T) {
		// A query in the middle of a ticket is answered at once and is
		// not a ticket of its own.
		s := mustStart(t)
		c := mustDial(t, s)
		if got := query(t, c, 1); got != 0x12 {
			t.Errorf("before: %#02x", got)
		}
		c.Write(new(job).init().line("Hallo").Bytes())
		if got := query(t, c, 4); got != 0x12 {
			t.Errorf("during: %#02x", got)
		}
		c.Write(new(job).cut().Bytes())
		if got := query(t, c, 1); got != 0x12 {
			t.Errorf("after: %#02x", got)
		}
		if got := s.Printed(); got != 1 {
			t.Errorf("Printed = %d, want 1", got)
		}
	})
}

func TestPaperOut(t *testing.T) {
	s := mustStart(t)
	s.SetPaper(printersim.PaperOut)
	c := mustDial(t, s)
	c.Write(sample(t).Bytes())
	// The answer comes after the ticket was parsed: no sleep needed.
	if got := query(t, c, 1); got != 0x1A {
		t.Errorf("DLE EOT 1 = %#02x, want offline 0x1a", got)
	}
	if got, want := s.Printed(), 0; got != want {
		t.Errorf("Printed = %d, want %d", got, want)
	}
	if got, want := s.Discarded(), 1; got != want {
		t.Errorf("Discarded = %d, want %d", got, want)
	}
	s.SetPaper(printersim.PaperOK)
	c.Write(sample(t).Bytes())
	if tk := waitTickets(t, s, 1)[0]; tk.Partial || len(tk.Text) == 0 {
		t.Errorf("after new paper: Partial = %v, Text = %q", tk.Partial, tk.Text)
	}
}

func TestCutAfter(t *testing.T) {
	s := mustStart(t)
	s.CutAfter(40)
	c := mustDial(t, s)
	// Status queries before the job do not count.
	if got := query(t, c, 1); got != 0x12 {
		t.Errorf("DLE EOT 1 = %#02x", got)
	}
	data := sample(t).Bytes()
	c.Write(data) // may fail: the printer goes away
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read after CutAfter: %v, want the connection closed", err)
	}
	tk := waitTickets(t, s, 1)[0]
	if !tk.Partial {
		t.Error("Partial = false")
	}
	if !bytes.Equal(tk.Raw, data[:40]) {
		t.Errorf("Raw = %q, want %q", tk.Raw, data[:40])
	}
	if want := []string{"Kundenzentrum Kalk"}; !slices.Equal(tk.Text, want) {
		t.Errorf("Text = %q, want %q", tk.Text, want)
	}
	if got := s.Mode().CutAfter; got != -1 {
		t.Errorf("Mode().CutAfter = %d, want -1 (disarmed)", got)
	}
	// The next job prints whole.
	send(t, s, data)
	if tk := waitTickets(t, s, 2)[1]; tk.Partial {
		t.Error("second ticket: Partial = true")
	}
}

func TestSetOffline(t *testing.T) {
	s := mustStart(t)
	addr := s.Addr()
	c := mustDial(t, s)
	if err := s.SetOffline(true); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read on the old connection: %v, want it closed", err)
	}
	if c, err := net.Dial("tcp", hostPort(s)); err == nil {
		c.Close()
		t.Fatal("dial while offline: connected")
	}
	if err := s.SetOffline(false); err != nil {
		t.Fatal(err)
	}
	if got := s.Addr(); got != addr {
		t.Errorf("Addr = %q, want %q", got, addr)
	}
	send(t, s, sample(t).Bytes())
	waitTickets(t, s, 1)
}

func TestErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		data []byte
		want string // in Errors[0]
		text []string
	}{
		{"UnknownESC", new(job).init().raw(0x1B, 'M').line("x").cut().Bytes(), "offset 2: unknown command ESC M (4D)", []string{"x"}},
		{"UnknownGS", new(job).init().raw(0x1D, 'L').cut().Bytes(), "unknown command GS L", nil},
		{"GSParenSkipped", new(job).init().raw(0x1D, '(', 'L', 2, 0, 0x30, 0x45).line("x").cut().Bytes(), "unknown command GS ( L", []string{"x"}},
		{"ControlByte", new(job).init().raw(0x09).line("x").cut().Bytes(), "unexpected control byte 0x09", []string{"x"}},
		{"CodePage", new(job).init().codePage(16).cut().Bytes(), "ESC t 16: code page not supported", nil},
		{"CutMidLine", new(job).init().raw('x').cut().Bytes(), "GS V not at the beginning of a line", []string{"x"}},
		{"UnknownStatus", new(job).status(7).init().cut().Bytes(), "DLE EOT 7", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := mustStart(t)
			send(t, s, tt.data)
			tk := waitTickets(t, s, 1)[0]
			if len(tk.Errors) != 1 || !strings.Contains(tk.Errors[0], tt.want) {
				t.Errorf("Errors = %q, want one with %q", tk.Errors, tt.want)
			}
			if !slices.Equal(tk.Text, tt.text) {
				t.Errorf("Text = %q, want %q", tk.Text, tt.text)
			}
		})
	}
}

func TestTwoTickets(t *testing.T) {
	s := mustStart(t)
	send(t, s, new(job).init().line("A001").cut().init().line("A002").cut().Bytes())
	ts := waitTickets(t, s, 2)
	for i, want := range []string{"A001", "A002"} {
		if got := ts[i]; got.Seq != i+1 || !slices.Equal(got.Text, []string{want}) || got.Partial {
			t.Errorf("ticket %d: Seq %d, Text %q, Partial %v", i, got.Seq, got.Text, got.Partial)
		}
	}
}

func TestPartialOnHangUp(t *testing.T) {
	s := mustStart(t)
	send(t, s, new(job).init().line("A001").Bytes())
	if tk := waitTickets(t, s, 1)[0]; !tk.Partial || !slices.Equal(tk.Text, []string{"A001"}) {
		t.Errorf("Partial = %v, Text = %q", tk.Partial, tk.Text)
	}
	// A bare ESC @ before hanging up prints nothing: no ticket.
	c := mustDial(t, s)
	c.Write(new(job).init().Bytes())
	query(t, c, 1)
	c.Close()
	send(t, s, new(job).init().line("A002").cut().Bytes())
	if ts := waitTickets(t, s, 2); !slices.Equal(ts[1].Text, []string{"A002"}) {
		t.Errorf("second ticket Text = %q", ts[1].Text)
	}
}

func TestKeep(t *testing.T) {
	s := printersim.New(printersim.Options{Keep: 2})
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	send(t, s, new(job).line("1").cut().line("2").cut().line("3").cut().Bytes())
	ts := waitTickets(t, s, 3)
	if len(ts) != 2 || ts[0].Seq != 2 || ts[1].Seq != 3 {
		t.Errorf("kept %d tickets, first Seq %d", len(ts), ts[0].Seq)
	}
	if _, ok := s.Ticket(1); ok {
		t.Error("Ticket(1) kept")
	}
}

func TestWaitTicketsCancelled(t *testing.T) {
	s := mustStart(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.WaitTickets(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestRenderSizes(t *testing.T) {
	s := mustStart(t)
	send(t, s, new(job).init().size(2, 1).line("wide").size(1, 3).line("tall").size(8, 8).line("A042A042").cut().Bytes())
	tk := waitTickets(t, s, 1)[0]
	img, err := png.Decode(bytes.NewReader(tk.PNG))
	if err != nil {
		t.Fatal(err)
	}
	// 8 characters of 8x12 dots do not fit 576 dots: the line wraps.
	if h := img.Bounds().Dy(); h < 2*8*24 {
		t.Errorf("height %d: the 8x line did not wrap", h)
	}
}
