package printer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/hardware"
	"github.com/veedel/veedel/hardware/escpos"
	"github.com/veedel/veedel/hardware/printer"
)

// Status bytes as a printer sends them.
const (
	ok          = 0x12
	offlineBit  = 0x1A // n=1: offline
	paperEnd    = 0x72 // n=4: paper end (and near end clear)
	stoppedEnd  = 0x32 // n=2: printing stopped by paper end
	coverOpen   = 0x16 // n=2
	errorCause  = 0x52 // n=2
	paperNearly = 0x1E // n=4
)

var queries = bytes.Join(escpos.StatusQueries(), nil)

func testTicket(number string) hardware.Ticket {
	return hardware.Ticket{
		Site:      "Kundenzentrum Kalk",
		Service:   "Meldebescheinigung",
		Number:    number,
		IssuedAt:  time.Date(2026, 11, 29, 10, 42, 0, 0, time.UTC),
		StatusURL: "https://termine.stadt-koeln.de/t/" + number,
		Lines:     []string{"Wartezeit ca. 25 Min."},
	}
}

func MustOpen(tb testing.TB, addr string) *printer.Printer {
	tb.Helper()
	p, err := printer.Open(addr, printer.Options{ReplyTimeout: 500 * time.Millisecond, WriteTimeout: 2 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func MustTicket(tb testing.TB, t hardware.Ticket, opt escpos.Options) []byte {
	tb.Helper()
	b, err := escpos.Ticket(t, opt)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// job is what the device receives for one printed ticket.
func job(ticket []byte) []byte {
	return bytes.Join([][]byte{queries, ticket, queries}, nil)
}

func TestPrint_OK(t *testing.T) {
	for _, transport := range []string{"tcp", "usb", "serial"} {
		t.Run(transport, func(t *testing.T) {
			d := newFakeDevice(ok, ok, paperNearly)
			var addr string
			switch transport {
			case "tcp":
				addr = d.listenTCP(t)
			case "usb":
				addr = "usb://" + d.MustPTY(t)
			case "serial":
				addr = "serial://" + d.MustPTY(t) + "?baud=115200"
			}
			p := MustOpen(t, addr)
			tk := testTicket("A042")
			if err := p.Print(context.Background(), tk); err != nil {
				t.Fatal(err)
			}
			want := job(MustTicket(t, tk, escpos.Options{}))
			if got := d.received(); !bytes.Equal(got, want) {
				t.Fatalf("device got\n% X\nwant\n% X", got, want)
			}
		})
	}
}

func TestPrint_Raster(t *testing.T) {
	d := newFakeDevice(ok, ok, ok)
	p := MustOpen(t, d.listenTCP(t)+"?qr=raster&width=384")
	tk := testTicket("B007")
	if err := p.Print(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	want := MustTicket(t, tk, escpos.Options{QR: escpos.QRRaster, Width: 384})
	if got := d.received(); !bytes.Contains(got, want) {
		t.Fatal("the device did not get the 58 mm raster ticket")
	}
}

func TestPrint_RefusedBeforePrinting(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		printer, offline, paper byte
		want                    error
	}{
		{"PaperOut", offlineBit, stoppedEnd, paperEnd, printer.ErrPaperOut},
		{"CoverOpen", offlineBit, coverOpen, ok, printer.ErrCoverOpen},
		{"Error", offlineBit, errorCause, ok, printer.ErrPrinterError},
		{"Offline", offlineBit, ok, ok, printer.ErrOffline},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newFakeDevice(tc.printer, tc.offline, tc.paper)
			p := MustOpen(t, d.listenTCP(t))
			err := p.Print(context.Background(), testTicket("A001"))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want it to wrap %v", err, tc.want)
			}
			var se *printer.StatusError
			if !errors.As(err, &se) || se.During {
				t.Fatalf("got %#v, want a StatusError before the ticket", err)
			}
			if tc.want != printer.ErrOffline && errors.Is(err, printer.ErrOffline) {
				t.Fatalf("%v also wraps ErrOffline, hiding its cause", err)
			}
			if got := d.received(); !bytes.Equal(got, queries) {
				t.Fatalf("device got % X, want the status queries only", got)
			}
		})
	}
}

func TestPrint_PaperOutDuringTicket(t *testing.T) {
	d := newFakeDevice(ok, ok, ok)
	d.onQuery = func(n byte, got []byte) {
		if len(got) > len(queries) { // the queries after the ticket
			d.status = map[byte]byte{1: offlineBit, 2: stoppedEnd, 4: paperEnd}
		}
	}
	p := MustOpen(t, d.listenTCP(t))
	err := p.Print(context.Background(), testTicket("A002"))
	var se *printer.StatusError
	if !errors.Is(err, printer.ErrPaperOut) || !errors.As(err, &se) || !se.During {
		t.Fatalf("got %v, want paper out during the ticket", err)
	}
}

func TestPrint_ConnectionCutMidTicket(t *testing.T) {
	d := newFakeDevice(ok, ok, ok)
	d.cutAfter = len(queries) + 40
	p := MustOpen(t, d.listenTCP(t))
	err := p.Print(context.Background(), testTicket("A003"))
	if !errors.Is(err, printer.ErrOffline) {
		t.Fatalf("got %v, want it to wrap ErrOffline", err)
	}
}

func TestPrint_Unreachable(t *testing.T) {
	// A port nobody listens on: connection refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "tcp://" + ln.Addr().String()
	ln.Close()
	p := MustOpen(t, addr)
	if err := p.Print(context.Background(), testTicket("A004")); !errors.Is(err, printer.ErrOffline) {
		t.Fatalf("Print: got %v, want ErrOffline", err)
	}
	st, err := p.Status(context.Background())
	if !errors.Is(err, printer.ErrOffline) || st.Online {
		t.Fatalf("Status: got %+v, %v; want not online and ErrOffline", st, err)
	}

	p = MustOpen(t, "usb:///nonexistent/lp0")
	if err := p.Print(context.Background(), testTicket("A004")); !errors.Is(err, printer.ErrOffline) {
		t.Fatalf("Print to a missing device: got %v, want ErrOffline", err)
	}
}

func TestPrint_SilentPrinterTimesOut(t *testing.T) {
	// Accepts the connection, never answers, never closes it: only the
	// driver's reply timeout (500 ms in MustOpen) ends the job.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			c.Read(make([]byte, 1024))
			<-done
		}
	}()
	p := MustOpen(t, "tcp://"+ln.Addr().String())
	// A safety net only: without the reply timeout this would end at 20 s.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	err = p.Print(ctx, testTicket("A005"))
	if !errors.Is(err, printer.ErrOffline) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want ErrOffline from the reply timeout", err)
	}
	// Well above the 500 ms reply timeout, for -race on two shared cores,
	// and well below the other timeouts (dial 5 s, the safety net 20 s).
	if d := time.Since(start); d >= 5*time.Second {
		t.Fatalf("took %v, want about the reply timeout", d)
	}
}

func TestPrint_ContextCancelled(t *testing.T) {
	d := newFakeDevice(ok, ok, ok)
	ctx, cancel := context.WithCancel(context.Background())
	d.onQuery = func(byte, []byte) { cancel() }
	p := MustOpen(t, d.listenTCP(t))
	err := p.Print(ctx, testTicket("A006"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want it to wrap context.Canceled", err)
	}
}

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		printer, offline, paper byte
		want                    hardware.PrinterStatus
		wantErr                 error
	}{
		{"OK", ok, ok, ok, hardware.PrinterStatus{Online: true}, nil},
		{"PaperLow", ok, ok, paperNearly, hardware.PrinterStatus{Online: true, PaperLow: true}, nil},
		{"PaperOut", offlineBit, stoppedEnd, paperEnd, hardware.PrinterStatus{PaperOut: true}, nil},
		{"CoverOpen", offlineBit, coverOpen, ok, hardware.PrinterStatus{CoverOpen: true}, nil},
		{"NotAStatusByte", 'A', ok, ok, hardware.PrinterStatus{}, printer.ErrOffline},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newFakeDevice(tc.printer, tc.offline, tc.paper)
			p := MustOpen(t, d.listenTCP(t))
			got, err := p.Status(context.Background())
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("got error %v, want %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			if got := d.received(); !bytes.Equal(got, queries) {
				t.Fatalf("device got % X, want the status queries only", got)
			}
		})
	}
}

func TestPrint_ConcurrentJobsDoNotInterleave(t *testing.T) {
	d := newFakeDevice(ok, ok, ok)
	p := MustOpen(t, d.listenTCP(t))
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- p.Print(context.Background(), testTicket(fmt.Sprintf("C%03d", i)))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]bool{}
	for i := range n {
		want[string(job(MustTicket(t, testTicket(fmt.Sprintf("C%03d", i)), escpos.Options{})))] = true
	}
	conns, spans := d.connections()
	if len(conns) != n {
		t.Fatalf("%d connections, want %d", len(conns), n)
	}
	slices.SortFunc(spans, func(a, b [2]time.Time) int { return a[0].Compare(b[0]) })
	for i := 1; i < len(spans); i++ {
		if spans[i][0].Before(spans[i-1][1]) {
			t.Fatalf("connection %d received bytes while connection %d still did", i, i-1)
		}
	}
	for i, c := range conns {
		if !want[string(c)] {
			t.Fatalf("connection %d got bytes that are no single job:\n% X", i, c)
		}
		delete(want, string(c))
	}
}
