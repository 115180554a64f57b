package server_test

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/server"
	"github.com/veedel/veedel/ui"
)

// TestAdminCookieSecureOverTLS: the admin session cookie is Secure when
// central serves TLS (-tls-cert), not over plain HTTP, and always
// HttpOnly, SameSite=Strict and limited to /admin (ASVS 3.4.1–3.4.3).
func TestAdminCookieSecureOverTLS(t *testing.T) {
	e := newEnv(t)
	e.createAdmin("anna", central.RoleAdmin, "geheim123")
	renderer, err := ui.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	h := (&server.Server{Central: e.Central, Renderer: renderer, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: e.Clock.Now}).Handler()
	for _, overTLS := range []bool{false, true} {
		req := httptest.NewRequest(http.MethodPost, "/admin/login", strings.NewReader(url.Values{"user": {"anna"}, "password": {"geheim123"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = "192.0.2.1:4711"
		if overTLS {
			req.TLS = &tls.ConnectionState{}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		var c *http.Cookie
		for _, got := range w.Result().Cookies() {
			if got.Name == "veedel_admin" && got.Value != "" {
				c = got
			}
		}
		if c == nil {
			t.Fatalf("over TLS %v: %d, no admin cookie", overTLS, w.Code)
		}
		if c.Secure != overTLS || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/admin" {
			t.Errorf("over TLS %v: admin cookie %+v; want Secure=%v, HttpOnly, SameSite=Strict, Path=/admin", overTLS, c, overTLS)
		}
	}
}
