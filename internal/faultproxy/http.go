package faultproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// MaxBody bounds the request and response bodies a Handler buffers.
const MaxBody = 16 << 20

// hopHeaders are not forwarded (RFC 9110 §7.6.1).
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// Handler is an HTTP reverse proxy that applies a Fault to each request. It
// buffers each request body (at most MaxBody), so that it can deliver a
// request twice or later. It is safe for concurrent use.
type Handler struct {
	target *url.URL
	client *http.Client
	stats

	ctx    context.Context // background deliveries; ends with Close
	cancel context.CancelFunc
	mu     sync.Mutex
	held   *heldRequest // a request Reorder holds back
	closed bool
	wg     sync.WaitGroup
}

type message struct {
	method, uri string
	header      http.Header
	body        []byte
}

type heldRequest struct {
	req   message
	timer *time.Timer
}

// NewHandler returns a handler forwarding to target (http://host:port). A
// nil schedule passes everything. Every forwarded request uses a new
// connection.
func NewHandler(target string, schedule Schedule) (*Handler, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: target %q is not an http(s) URL", target)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Handler{target: u, ctx: ctx, cancel: cancel,
		client: &http.Client{
			Transport:     &http.Transport{DisableKeepAlives: true},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Timeout:       30 * time.Second,
		}}
	h.schedule = schedule
	return h, nil
}

// SetSchedule replaces the schedule for requests from now on (nil passes
// everything). Counting continues.
func (h *Handler) SetSchedule(s Schedule) { h.setSchedule(s) }

// Stats returns what the handler did so far.
func (h *Handler) Stats() Stats { return h.snapshot() }

// Close delivers a held request now (giving it 2 s), ends background
// deliveries and waits for them.
func (h *Handler) Close() {
	h.mu.Lock()
	h.closed = true
	held := h.takeHeldLocked()
	h.mu.Unlock()
	if held != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		h.deliver(ctx, held)
		cancel()
	}
	h.cancel()
	h.wg.Wait()
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil || len(body) > MaxBody {
		panic(http.ErrAbortHandler)
	}
	h.add(len(body), 0)
	req := message{method: r.Method, uri: r.URL.RequestURI(), header: r.Header.Clone(), body: body}
	for _, k := range hopHeaders {
		req.header.Del(k)
	}
	f := h.next(func(Kind) bool { return true })
	if f.Kind == Reorder && h.hold(req, f.Delay) {
		panic(http.ErrAbortHandler) // as if the connection broke; the request arrives later
	}
	// A request held back earlier goes after this one, whatever befalls it.
	if held := h.takeHeld(); held != nil {
		defer h.deliverLater(held)
	}
	ctx := r.Context()
	switch f.Kind {
	case Drop:
		panic(http.ErrAbortHandler)
	case Delay:
		t := time.NewTimer(f.Delay)
		select {
		case <-ctx.Done():
			t.Stop()
			panic(http.ErrAbortHandler)
		case <-t.C:
		}
	case Cut:
		h.forwardCut(ctx, req, int(f.Fraction*float64(len(body))))
		panic(http.ErrAbortHandler)
	case Corrupt:
		req.body = bytes.Clone(body)
		newFlipper(f.Seed, f.Flips, 0, int64(len(body))).apply(req.body, 0)
	case Duplicate:
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			h.forward(h.ctx, req)
		}()
	}
	resp, err := h.forward(ctx, req)
	if err != nil || f.Kind == LoseReply {
		panic(http.ErrAbortHandler)
	}
	if f.Kind == CorruptReply {
		newFlipper(f.Seed, f.Flips, 0, int64(len(resp.body))).apply(resp.body, 0)
	}
	for k, v := range resp.header {
		w.Header()[k] = v
	}
	for _, k := range hopHeaders {
		w.Header().Del(k)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(resp.body)))
	w.WriteHeader(resp.status)
	w.Write(resp.body)
	h.add(0, len(resp.body))
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush() // the answer is out before a held request is delivered
	}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (h *Handler) newRequest(ctx context.Context, m message, body io.Reader, length int) (*http.Request, error) {
	u := *h.target
	ref, err := url.ParseRequestURI(m.uri)
	if err != nil {
		return nil, err
	}
	u.Path, u.RawPath, u.RawQuery = ref.Path, ref.RawPath, ref.RawQuery
	req, err := http.NewRequestWithContext(ctx, m.method, u.String(), body)
	if err != nil {
		return nil, err
	}
	req.Header = m.header.Clone()
	req.ContentLength = int64(length)
	if length == 0 {
		req.Body = http.NoBody
	}
	return req, nil
}

func (h *Handler) forward(ctx context.Context, m message) (response, error) {
	req, err := h.newRequest(ctx, m, bytes.NewReader(m.body), len(m.body))
	if err != nil {
		return response{}, err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	if err != nil {
		return response{}, err
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

var errCut = errors.New("faultproxy: body cut")

// forwardCut sends the head with the full Content-Length but only the
// first n body bytes, then breaks the connection.
func (h *Handler) forwardCut(ctx context.Context, m message, n int) {
	body := io.MultiReader(bytes.NewReader(m.body[:n]), errReader{errCut})
	req, err := h.newRequest(ctx, m, body, len(m.body))
	if err != nil {
		return
	}
	req.Body = io.NopCloser(body)
	if resp, err := h.client.Do(req); err == nil {
		resp.Body.Close()
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// hold keeps req back for at most maxHold; false if another request is
// held already (this one then passes).
func (h *Handler) hold(req message, maxHold time.Duration) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held != nil || h.closed {
		return false
	}
	held := &heldRequest{req: req}
	h.held = held
	h.wg.Add(1) // done by whoever delivers it
	held.timer = time.AfterFunc(maxHold, func() {
		h.mu.Lock()
		mine := h.held == held
		if mine {
			h.held = nil
		}
		h.mu.Unlock()
		if mine {
			h.deliver(h.ctx, held)
		}
	})
	return true
}

func (h *Handler) takeHeld() *heldRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.takeHeldLocked()
}

func (h *Handler) takeHeldLocked() *heldRequest {
	held := h.held
	h.held = nil
	if held != nil {
		held.timer.Stop()
	}
	return held
}

func (h *Handler) deliverLater(held *heldRequest) { go h.deliver(h.ctx, held) }

// deliver sends a held request; its answer goes nowhere.
func (h *Handler) deliver(ctx context.Context, held *heldRequest) {
	defer h.wg.Done()
	h.forward(ctx, held.req)
}
