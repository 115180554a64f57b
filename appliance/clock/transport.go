package clock

import (
	"net/http"
	"time"
)

// Transport returns an http.RoundTripper that sends through next (nil:
// http.DefaultTransport) and measures the clock with the Date header of
// every answer, whatever its status: the uplink's batches and heartbeats,
// the downlink's polls and the enrollment all go through it.
func (c *Clock) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{next: next, c: c}
}

type transport struct {
	next http.RoundTripper
	c    *Clock
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	sent := t.c.mono()
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	received := t.c.mono()
	if date, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
		t.c.Observe(sent, received, date)
	}
	return resp, nil
}

// Client returns a copy of base (nil: a new client with timeout) whose
// transport measures the clock.
func (c *Clock) Client(base *http.Client, timeout time.Duration) *http.Client {
	cl := &http.Client{Timeout: timeout}
	if base != nil {
		*cl = *base
	}
	cl.Transport = c.Transport(cl.Transport)
	return cl
}
