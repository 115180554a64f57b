package modem

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/veedel/veedel/hardware/serialport"
)

// conn is one opened port: its reader (hardware/serialport) reads it in
// the background, the AT layer cuts lines and prompts from Buf. A conn
// whose reader ended (an I/O error: the device is gone) or that lost
// track of the dialogue (a timeout) is closed and replaced by a fresh one.
type conn struct {
	*serialport.Reader
	// owed is set when a command's caller gave up (its context ended)
	// before the final result: the modem still owes it, until owed at
	// the latest. begin reads it away before the next command.
	owed time.Time
}

func newConn(port io.ReadWriteCloser) *conn {
	return &conn{Reader: serialport.NewReader(port, 512)}
}

// close closes the port and waits for the reader to end.
func (c *conn) close() { c.Close() }

// errGone is the reader's error, once it ended.
func (c *conn) errGone() error {
	if err := c.Err(); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return io.ErrUnexpectedEOF
}

// discard drops what arrived unasked (unsolicited result codes, a late
// answer) before a new command.
func (c *conn) discard() { c.Discard() }

// ioError is a failure of the port itself: the conn is dead.
type ioError struct{ err error }

func (e *ioError) Error() string { return "i/o: " + e.err.Error() }
func (e *ioError) Unwrap() error { return e.err }

// canceledError is a command whose caller's context ended before the
// modem answered. Not the modem's fault: the conn stays and owes the
// answer (conn.owed).
type canceledError struct{ err error }

func (e *canceledError) Error() string { return "gave up waiting for the answer: " + e.err.Error() }
func (e *canceledError) Unwrap() error { return e.err }

// timeoutError is a missing answer: the conn lost track of the dialogue.
type timeoutError struct{ err error }

func (e *timeoutError) Error() string { return e.err.Error() }
func (e *timeoutError) Unwrap() error { return e.err }

func (c *conn) write(ctx context.Context, b []byte) error {
	if _, err := c.Write(b); err != nil {
		return &ioError{err}
	}
	return nil
}

// more waits for data until deadline or ctx ends. Data that has arrived
// is taken even when the deadline has passed or ctx has ended.
func (c *conn) more(ctx context.Context, deadline time.Time) error {
	switch err := c.More(ctx, deadline); {
	case err == nil:
		return nil
	case errors.Is(err, serialport.ErrEnded):
		return &ioError{c.errGone()}
	case errors.Is(err, serialport.ErrDeadline):
		return &timeoutError{ErrNoAnswer}
	default:
		return &timeoutError{err}
	}
}

// line returns the next non-empty line (without CR LF).
func (c *conn) line(ctx context.Context, deadline time.Time) (string, error) {
	for {
		if i := bytes.IndexAny(c.Buf, "\r\n"); i >= 0 {
			l := strings.TrimSpace(string(c.Buf[:i]))
			c.Buf = c.Buf[i+1:]
			if l != "" {
				return l, nil
			}
			continue
		}
		if err := c.more(ctx, deadline); err != nil {
			return "", err
		}
	}
}

// prompt waits for the "> " of AT+CMGS, skipping echoed lines; a final
// result instead is the command's error.
func (c *conn) prompt(ctx context.Context, deadline time.Time) error {
	for {
		c.Buf = bytes.TrimLeft(c.Buf, "\r\n")
		if len(c.Buf) > 0 && c.Buf[0] == '>' {
			c.Buf = bytes.TrimPrefix(c.Buf[1:], []byte(" "))
			return nil
		}
		if i := bytes.IndexAny(c.Buf, "\r\n"); i >= 0 {
			l := strings.TrimSpace(string(c.Buf[:i]))
			c.Buf = c.Buf[i+1:]
			if final, rerr := parseResult(l); final {
				if rerr != nil {
					return rerr
				}
				return errNotAnswered // OK without a prompt
			}
			continue
		}
		if err := c.more(ctx, deadline); err != nil {
			return err
		}
	}
}

// command sends cmd and collects its information lines (those starting
// with prefix, if any) until the final result. Echoed command lines and
// unsolicited result codes are skipped.
//
// The commands sent here only ask or set (AT, AT+CPIN?, AT+CMGF, …):
// when ctx ends before the answer, the conn is kept, owing the answer,
// and the error is a canceledError. A modem that does not answer within
// timeout is a timeoutError (the conn is dropped), as before.
func (c *conn) command(ctx context.Context, cmd, prefix string, timeout time.Duration) ([]string, error) {
	if err := c.begin(ctx); err != nil {
		return nil, err
	}
	if err := c.write(ctx, []byte(cmd+"\r")); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	info, err := c.result(ctx, prefix, deadline)
	if ce, ok := c.canceled(ctx, err); ok {
		c.owed = deadline
		return info, ce
	}
	return info, err
}

// canceled reports whether err is ctx's end rather than the modem's
// silence, and returns it as a canceledError.
func (c *conn) canceled(ctx context.Context, err error) (*canceledError, bool) {
	var te *timeoutError
	if ctx.Err() == nil || !errors.As(err, &te) || !errors.Is(te.err, ctx.Err()) {
		return nil, false
	}
	return &canceledError{ctx.Err()}, true
}

// begin readies the conn for a new command: it waits for the final
// result a command before still owes (until that command's deadline; a
// modem that stays silent is a timeoutError), then drops what arrived
// unasked.
func (c *conn) begin(ctx context.Context) error {
	if !c.owed.IsZero() {
		_, err := c.result(ctx, "", c.owed)
		if ce, ok := c.canceled(ctx, err); ok {
			return ce // still owed
		}
		var r *resultError
		if err != nil && !errors.As(err, &r) {
			return err
		}
		c.owed = time.Time{}
	}
	c.discard()
	return nil
}

// result reads lines until a final result code.
func (c *conn) result(ctx context.Context, prefix string, deadline time.Time) ([]string, error) {
	var info []string
	for {
		l, err := c.line(ctx, deadline)
		if err != nil {
			return info, err
		}
		if final, rerr := parseResult(l); final {
			if rerr != nil {
				return info, rerr
			}
			return info, nil
		}
		if prefix != "" && strings.HasPrefix(l, prefix) {
			info = append(info, strings.TrimSpace(l[len(prefix):]))
		}
	}
}
