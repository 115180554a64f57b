// Package web holds the HTTP conventions every Veedel node shares: the map
// from application error codes to HTTP statuses, JSON responses and errors,
// the middleware stack, and Server-Sent Events.
package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
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

// JSON writes v as JSON with status.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// Error writes err as {"error": "..."} with its mapped status. Internal
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
	JSON(w, status, map[string]string{"error": veedel.ErrorMessage(err)})
}

// DecodeJSON reads a bounded JSON body into v, refusing unknown fields and
// trailing data, with errors a client can act on.
func DecodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" {
			return veedel.Errorf(veedel.EINVALID, "Content-Type must be application/json, not %q", mt)
		}
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, MaxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return veedel.Errorf(veedel.EINVALID, "request body is empty: send a JSON object")
		case errors.As(err, &syn):
			return veedel.Errorf(veedel.EINVALID, "malformed JSON at byte %d", syn.Offset)
		case errors.As(err, &typ):
			return veedel.Errorf(veedel.EINVALID, "field %q must be a %s", typ.Field, typ.Type)
		default:
			return veedel.Errorf(veedel.EINVALID, "malformed JSON: %v", err)
		}
	}
	if dec.More() {
		return veedel.Errorf(veedel.EINVALID, "malformed JSON: extra data after the object")
	}
	return nil
}

// Router returns a chi router with the standard middleware: request IDs,
// structured access logs without query strings (tokens and personal data
// stay out of logs), panic recovery, security headers and cross-origin
// request forgery protection for every unsafe method.
func Router(logger *slog.Logger) chi.Router {
	r := chi.NewRouter()
	r.Use(middleware.RequestID)
	r.Use(accessLog(logger))
	r.Use(middleware.Recoverer)
	r.Use(securityHeaders)
	csrf := http.NewCrossOriginProtection()
	r.Use(csrf.Handler)
	return r
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
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
