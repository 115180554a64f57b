package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/veedel/veedel/internal/login"
)

// sseKeepAlive is how often an idle event stream sends a comment.
const sseKeepAlive = 20 * time.Second

// sseWriteWindow is how long one event may take to reach the client: the
// stream outlives the server's write timeout, a client that stops reading
// does not.
const sseWriteWindow = 10 * time.Second

// MaxStreamsPerClient bounds the event streams one client (its address;
// IPv6 its /64, as the login throttle keys clients) holds open at once on
// one server. A stream lasts as long as the client wants and costs a
// connection and some 40 kB: without a bound one phone on the LAN fills an
// appliance's memory (5,000 streams took 200 MB). A call display, a
// browser's tabs and a household behind one address stay far below it.
const MaxStreamsPerClient = 64

// PublicStreamsPerClient is the bound for a public server on the internet
// (central's portal and ticket pages), where many citizens' phones share
// one address behind a mobile carrier's NAT: high enough for them, still a
// bound on one attacker. Set per route with StreamLimit.
const PublicStreamsPerClient = 2048

type streamLimitKey struct{}

// StreamLimit sets the bound on open event streams per client for the
// routes it wraps (default MaxStreamsPerClient).
func StreamLimit(n int) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), streamLimitKey{}, n)))
		})
	}
}

// streamLimit is the bound for r's route.
func streamLimit(r *http.Request) int {
	if n, ok := r.Context().Value(streamLimitKey{}).(int); ok {
		return n
	}
	return MaxStreamsPerClient
}

// streams counts the open streams per server and client.
var streams = struct {
	sync.Mutex
	n map[streamKey]int
}{n: map[streamKey]int{}}

type streamKey struct {
	server any // the *http.Server serving the request, if known
	client string
}

// openStream counts a stream of r's client, or reports false when the
// client has its route's limit open already (streamLimit); done uncounts it.
func openStream(r *http.Request) (done func(), limit int, ok bool) {
	k := streamKey{r.Context().Value(http.ServerContextKey), login.ClientOf(r.RemoteAddr)}
	limit = streamLimit(r)
	streams.Lock()
	defer streams.Unlock()
	if streams.n[k] >= limit {
		return nil, limit, false
	}
	streams.n[k]++
	return func() {
		streams.Lock()
		defer streams.Unlock()
		if streams.n[k]--; streams.n[k] <= 0 {
			delete(streams.n, k)
		}
	}, limit, true
}

// SSE streams Server-Sent Events: it sends render()'s event once at the
// start and again whenever wake fires, with a comment every 20 s so that
// proxies keep the connection open. It returns when the client goes away
// or stops reading. Each write gets its own deadline, so the stream lives
// beyond the server's write timeout (Timeouts.Write). A client with
// its route's limit of streams open (MaxStreamsPerClient unless StreamLimit
// says otherwise) gets 429 and Retry-After instead.
func SSE(w http.ResponseWriter, r *http.Request, wake <-chan struct{}, render func() (event string, data []byte)) {
	if _, ok := w.(http.Flusher); !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	done, limit, ok := openStream(r)
	if !ok {
		w.Header().Set("Retry-After", "30")
		w.Header().Set("Connection", "close") // not even an idle connection
		http.Error(w, fmt.Sprintf("too many open event streams from this address (at most %d): close one and try again", limit), http.StatusTooManyRequests)
		return
	}
	defer done()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	rc := http.NewResponseController(w)
	// The deadline always reaches past the next keep-alive.
	extend := func() { rc.SetWriteDeadline(time.Now().Add(sseKeepAlive + sseWriteWindow)) }
	extend()
	w.WriteHeader(http.StatusOK)
	send := func() bool {
		extend()
		event, data := render()
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send() {
		return
	}
	keepAlive := time.NewTicker(sseKeepAlive)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keepAlive.C:
			extend()
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			if rc.Flush() != nil {
				return
			}
		case <-wake:
			if !send() {
				return
			}
		}
	}
}

// Serve runs srv until ctx ends, then shuts it down gracefully, giving open
// requests 5 s. Request contexts derive from ctx, so SSE streams end at once.
func Serve(ctx context.Context, srv *http.Server, l net.Listener) error {
	srv.BaseContext = func(net.Listener) context.Context { return ctx }
	listen := func() error { return srv.Serve(l) }
	errc := make(chan error, 1)
	go func() { errc <- listen() }()
	select {
	case err := <-errc:
		if err == http.ErrServerClosed {
			return nil
		}
		return err
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdownCtx)
		return nil
	}
}
