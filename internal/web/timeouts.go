package web

import (
	"io"
	"net/http"
	"time"
)

// Timeouts bound how long a client may hold a connection. The zero value
// of each field is its default; long polls and event streams extend the
// write deadline themselves (WriteTimeout, SSE).
type Timeouts struct {
	// Header is the time to send a request's header (default 10 s).
	Header time.Duration
	// Body is the time to send a request's body, from when the handler
	// starts (default 30 s): a body dripped byte by byte is cut off.
	Body time.Duration
	// Write is the time to handle a request and write its response, from
	// the end of its header (default 30 s).
	Write time.Duration
	// Idle is how long a kept-alive connection may wait for its next
	// request (default 30 s).
	Idle time.Duration
}

// DefaultTimeouts are the production values.
var DefaultTimeouts = Timeouts{Header: 10 * time.Second, Body: 30 * time.Second, Write: 30 * time.Second, Idle: 30 * time.Second}

func (t Timeouts) withDefaults() Timeouts {
	if t.Header <= 0 {
		t.Header = DefaultTimeouts.Header
	}
	if t.Body <= 0 {
		t.Body = DefaultTimeouts.Body
	}
	if t.Write <= 0 {
		t.Write = DefaultTimeouts.Write
	}
	if t.Idle <= 0 {
		t.Idle = DefaultTimeouts.Idle
	}
	return t
}

// NewServer is an http.Server for h with the timeouts t (zero fields:
// defaults). Every node serves through it. There is no server-wide
// ReadTimeout: it would also end long polls and event streams, whose
// connections net/http watches by reading; the body's deadline is set per
// request instead (bodyDeadline).
func NewServer(h http.Handler, t Timeouts) *http.Server {
	t = t.withDefaults()
	return &http.Server{
		Handler:           bodyDeadline(h, t.Body),
		ReadHeaderTimeout: t.Header,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
	}
}

// bodyDeadline gives a request with a body d to send it: reading past the
// deadline fails (the handler answers 400 where it still can) and the
// connection is closed. Once the body is read to its end the deadline is
// lifted, so that net/http's watch for a closed connection does not cancel
// a handler that is still working.
func bodyDeadline(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			h.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(d)); err != nil {
			h.ServeHTTP(w, r) // not a connection we can bound (tests' recorders)
			return
		}
		r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
		h.ServeHTTP(w, r)
	})
}

type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.done {
		b.done = true
		b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// WriteTimeout is route middleware for a handler that may take longer than
// the server's write timeout by design (a long poll): its response must be
// written within d of the request's start.
func WriteTimeout(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
			next.ServeHTTP(w, r)
		})
	}
}
