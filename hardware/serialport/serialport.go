// Package serialport is what the serial drivers (hardware/modem,
// hardware/seca) share: opening a port, and a reader that lets a caller
// wait for the device's bytes with a deadline and a context, which a
// serial port's blocking Read cannot give.
package serialport

import (
	"context"
	"errors"
	"io"
	"time"

	"go.bug.st/serial"
)

// Open opens the serial port at path, 8N1 at baud.
func Open(path string, baud int) (io.ReadWriteCloser, error) {
	return serial.Open(path, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
}

// Errors of More.
var (
	// ErrEnded: the reader ended (the port was closed or failed); Err
	// says why.
	ErrEnded = errors.New("serialport: the line ended")
	// ErrDeadline: nothing arrived before the deadline.
	ErrDeadline = errors.New("serialport: nothing arrived in time")
)

// Reader reads a port in a goroutine of its own into a channel; More
// moves what arrived into Buf, where the driver cuts its frames.
type Reader struct {
	port io.ReadWriteCloser
	data chan []byte
	stop chan struct{}
	done chan struct{} // closed when the reader ends; err is then set
	err  error
	// Buf holds what arrived and the driver has not consumed yet.
	Buf []byte
}

// NewReader starts reading port in reads of at most chunk bytes.
func NewReader(port io.ReadWriteCloser, chunk int) *Reader {
	r := &Reader{port: port, data: make(chan []byte, 64), stop: make(chan struct{}), done: make(chan struct{})}
	go r.read(chunk)
	return r
}

func (r *Reader) read(chunk int) {
	defer close(r.done)
	for {
		b := make([]byte, chunk)
		n, err := r.port.Read(b)
		if n > 0 {
			select {
			case r.data <- b[:n]:
			case <-r.stop:
				return
			}
		}
		if err != nil {
			r.err = err
			return
		}
		if n == 0 {
			// go.bug.st/serial returns 0, nil when the port's read
			// timeout passes; none is set, so this is a closed line.
			r.err = io.EOF
			return
		}
	}
}

// Write writes b to the port.
func (r *Reader) Write(b []byte) (int, error) { return r.port.Write(b) }

// Close closes the port and waits for the reader to end.
func (r *Reader) Close() {
	close(r.stop)
	r.port.Close()
	<-r.done
}

// Err is why the reader ended (io.EOF: the line closed); nil while it
// reads. Read it after More returned ErrEnded.
func (r *Reader) Err() error {
	select {
	case <-r.done:
		return r.err
	default:
		return nil
	}
}

// Discard drops what arrived unasked (a late answer, unsolicited codes)
// before a new command.
func (r *Reader) Discard() {
	r.Buf = r.Buf[:0]
	for {
		select {
		case <-r.data:
		default:
			return
		}
	}
}

// More appends the next bytes that arrive to Buf, waiting until deadline
// or until ctx ends. What has arrived already is taken even when the
// deadline has passed or ctx has ended, and so is what the reader
// delivered before it ended. Errors: ErrEnded, ctx.Err(), ErrDeadline.
func (r *Reader) More(ctx context.Context, deadline time.Time) error {
	select {
	case b := <-r.data:
		r.Buf = append(r.Buf, b...)
		return nil
	default:
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case b := <-r.data:
		r.Buf = append(r.Buf, b...)
		return nil
	case <-r.done:
		select {
		case b := <-r.data:
			r.Buf = append(r.Buf, b...)
			return nil
		default:
		}
		return ErrEnded
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return ErrDeadline
	}
}
