package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"
)

// routeMethods are the methods whose routes allowedMethods looks for.
var routeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}

// allowedMethods answers a request whose path has routes, but none for its
// method, with the Allow header (RFC 9110 10.2.1). OPTIONS then gets 204
// and no CORS headers: Veedel's APIs are same-origin, so a browser's
// cross-origin preflight fails, while a client asking what a resource
// takes gets its answer. Any other method goes on to the 405 handler.
func allowedMethods(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rctx := chi.RouteContext(r.Context())
		if rctx == nil || rctx.Routes == nil {
			next.ServeHTTP(w, r)
			return
		}
		path := r.URL.RawPath
		if path == "" {
			path = r.URL.Path
		}
		method := r.Method
		if method == http.MethodHead {
			method = http.MethodGet // a GET route answers HEAD too (middleware.GetHead)
		}
		if rctx.Routes.Match(chi.NewRouteContext(), method, path) {
			next.ServeHTTP(w, r)
			return
		}
		var allow []string
		for _, m := range routeMethods {
			if rctx.Routes.Match(chi.NewRouteContext(), m, path) {
				allow = append(allow, m)
			}
		}
		if len(allow) == 0 {
			next.ServeHTTP(w, r) // no such path: 404
			return
		}
		if !slices.Contains(allow, http.MethodOptions) {
			allow = append(allow, http.MethodOptions)
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		if r.Method == http.MethodOptions {
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// MethodNotAllowed answers 405: the JSON error under /api/, plain text
// elsewhere. The Allow header is set already (allowedMethods).
func MethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	allow := w.Header().Get("Allow")
	if IsAPI(r) {
		JSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method " + r.Method + " not allowed here: use " + allow})
		return
	}
	http.Error(w, "method not allowed: use "+allow, http.StatusMethodNotAllowed)
}
