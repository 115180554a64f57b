package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// SSE streams Server-Sent Events: it sends render()'s event once at the
// start and again whenever wake fires, with a comment every 20 s so that
// proxies keep the connection open. It returns when the client goes away.
func SSE(w http.ResponseWriter, r *http.Request, wake <-chan struct{}, render func() (event string, data []byte)) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func() bool {
		event, data := render()
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data); err != nil {
			return false
		}
		flusher.Flush()
		return true
	}
	if !send() {
		return
	}
	keepAlive := time.NewTicker(20 * time.Second)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keepAlive.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			flusher.Flush()
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
