// Package web holds the HTTP conventions every Veedel node shares: the map
// from application error codes to HTTP statuses, JSON responses and errors,
// the middleware stack, and Server-Sent Events.
package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/veedel/veedel"
)

// MaxJSONBody bounds every JSON request body.
const MaxJSONBody = 64 << 10

var statuses = map[string]int{
	veedel.EINVALID:      http.StatusBadRequest,
	veedel.ENOTFOUND:     http.StatusNotFound,
	veedel.ECONFLICT:     http.StatusConflict,
	veedel.EUNAUTHORIZED: http.StatusUnauthorized,
	veedel.EFORBIDDEN:    http.StatusForbidden,
	veedel.EUNAVAILABLE:  http.StatusServiceUnavailable,
	veedel.EINTERNAL:     http.StatusInternalServerError,
}

// Status maps an error to its HTTP status.
func Status(err error) int {
	if s, ok := statuses[veedel.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// JSON writes v as compact JSON with status (and a final newline, so
// that curl's output ends its line). Compact, not indented: the feeds and
// the API answer many machine clients, and indenting cost about 5 % of a
// busy site's CPU under make load; `| jq` indents for a person.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Error writes err as {"error": "..."} with its mapped status, and
// {"fields": {path: message}} when the error names fields. Internal
// errors are logged with the request ID and shown without detail.
func Error(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away mid-request: nothing to answer, nothing
		// broken. (What was committed stays committed; an Idempotency-Key
		// retry gets it.)
		w.WriteHeader(499)
		return
	}
	status := Status(err)
	if status >= 500 {
		slog.Error("request failed", "method", r.Method, "route", Route(r), "request_id", middleware.GetReqID(r.Context()), "err", err)
	}
	body := map[string]any{"error": veedel.ErrorMessage(err)}
	if f := veedel.ErrorFields(err); len(f) > 0 && status < 500 {
		body["fields"] = f
	}
	JSON(w, status, body)
}

// Router returns a chi router with the standard middleware: request IDs,
// structured access logs without query strings (tokens and personal data
// stay out of logs), panic recovery, security headers (HSTS on TLS),
// cross-origin request forgery protection for every unsafe method (a JSON
// 403 under /api/), OPTIONS and wrong methods answered with the route's
// Allow header (methods.go), and HEAD answered by the GET route (monitors
// and curl -I ask /healthz that way).
func Router(logger *slog.Logger) chi.Router {
	r := chi.NewRouter()
	r.Use(middleware.RequestID)
	r.Use(accessLog(logger))
	r.Use(middleware.Recoverer)
	r.Use(securityHeaders)
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(crossOriginRefused))
	r.Use(csrf.Handler)
	r.Use(allowedMethods)
	r.Use(middleware.GetHead)
	r.MethodNotAllowed(MethodNotAllowed)
	return r
}

// IsAPI reports whether r is for the JSON API (/api/…), whose errors are
// JSON.
func IsAPI(r *http.Request) bool {
	return r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/")
}

// crossOriginRefused answers a cross-origin unsafe request: the JSON error
// under /api/, plain text elsewhere (a browser form posted from another
// site; nobody legitimate sees it).
func crossOriginRefused(w http.ResponseWriter, r *http.Request) {
	if IsAPI(r) {
		Error(w, r, veedel.Errorf(veedel.EFORBIDDEN, "cross-origin request refused: this API takes requests only from its own origin"))
		return
	}
	http.Error(w, "cross-origin request refused", http.StatusForbidden)
}

// HSTSMaxAge is how long browsers keep to HTTPS once they have seen a
// node over TLS (two years, the HSTS preload minimum's double).
const HSTSMaxAge = 2 * 365 * 24 * time.Hour

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
		if r.TLS != nil {
			// Only over TLS (RFC 6797 7.2): a node that serves HTTPS
			// must never be reached in plain text again.
			h.Set("Strict-Transport-Security", "max-age="+strconv.Itoa(int(HSTSMaxAge.Seconds())))
		}
		next.ServeHTTP(w, r)
	})
}

// accessLog logs method, route pattern (not the raw path: ticket tokens are
// in paths), status and duration.
func accessLog(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			logger.Debug("http", "method", r.Method, "route", Route(r), "status", ww.Status(),
				"ms", time.Since(start).Milliseconds(), "request_id", middleware.GetReqID(r.Context()))
		})
	}
}

// Route is the request's route pattern ("/t/{token}"), for logs: raw paths
// carry ticket tokens, which must not end up in logs.
func Route(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
		return rc.RoutePattern()
	}
	return "(unrouted)"
}
