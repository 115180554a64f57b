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

	"github.com/veedel/veedel/appliance/server"
	"github.com/veedel/veedel/ui"
)

// TestCookiesSecureOverTLS: the desk's session cookie and the kiosk's
// device cookie are Secure when the request came over TLS (behind a
// TLS-terminating front or a future -tls-cert), never otherwise (a browser
// would drop a Secure cookie on plain HTTP), and always HttpOnly and
// SameSite=Strict (ASVS 3.4.1–3.4.3).
func TestCookiesSecureOverTLS(t *testing.T) {
	h := newHarness(t)
	renderer, err := ui.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	handler := (&server.Server{Store: h.store, Renderer: renderer, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: openMorning}).Handler()
	post := func(path string, form url.Values, overTLS bool, cookies ...*http.Cookie) *http.Response {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = "192.0.2.1:4711"
		for _, c := range cookies {
			req.AddCookie(c)
		}
		if overTLS {
			req.TLS = &tls.ConnectionState{}
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		return w.Result()
	}
	find := func(resp *http.Response, name string) *http.Cookie {
		for _, c := range resp.Cookies() {
			if c.Name == name && c.Value != "" {
				return c
			}
		}
		t.Fatalf("%s: no cookie %s in %v", resp.Status, name, resp.Header["Set-Cookie"])
		return nil
	}
	for _, overTLS := range []bool{false, true} {
		session := find(post("/desk/login", url.Values{"user": {"demo"}, "password": {"demo"}}, overTLS), sessionCookie)
		if session.Secure != overTLS || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode {
			t.Errorf("over TLS %v: desk session cookie Secure=%v HttpOnly=%v SameSite=%v; want Secure=%v, HttpOnly, Strict",
				overTLS, session.Secure, session.HttpOnly, session.SameSite, overTLS)
		}
		page := post("/desk/kiosks", url.Values{"name": {"Eingang"}}, overTLS, session)
		body, _ := io.ReadAll(page.Body)
		m := pairCodeRE.FindStringSubmatch(string(body))
		if m == nil {
			t.Fatalf("over TLS %v: no pairing code shown: %s", overTLS, page.Status)
		}
		code := m[1]
		device := find(post("/kiosk/pair", url.Values{"code": {code}}, overTLS), "veedel_kiosk")
		if device.Secure != overTLS || !device.HttpOnly || device.SameSite != http.SameSiteStrictMode {
			t.Errorf("over TLS %v: kiosk device cookie Secure=%v HttpOnly=%v SameSite=%v; want Secure=%v, HttpOnly, Strict",
				overTLS, device.Secure, device.HttpOnly, device.SameSite, overTLS)
		}
	}
}
