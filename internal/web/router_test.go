package web_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/veedel/veedel/internal/web"
)

func testRouter() http.Handler {
	r := web.Router(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ok := func(w http.ResponseWriter, r *http.Request) {
		web.JSON(w, http.StatusOK, map[string]string{"ok": "yes"})
	}
	r.Get("/api/v1/things", ok)
	r.Post("/api/v1/things", ok)
	r.Get("/page", ok)
	return r
}

// jsonError checks a JSON error answer with status and returns its message.
func jsonError(t *testing.T, resp *http.Response, status int) string {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d", resp.StatusCode, status)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want JSON", ct)
	}
	var body struct{ Error string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Error == "" {
		t.Fatalf("body is no JSON error: %v %+v", err, body)
	}
	return body.Error
}

func TestCrossOriginRefusalIsJSON(t *testing.T) {
	srv := httptest.NewServer(testRouter())
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/things", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if msg := jsonError(t, resp, http.StatusForbidden); !strings.Contains(msg, "cross-origin") {
		t.Errorf("message %q", msg)
	}
}

func TestOptionsAnswersAllow(t *testing.T) {
	srv := httptest.NewServer(testRouter())
	defer srv.Close()
	req, _ := http.NewRequest("OPTIONS", srv.URL+"/api/v1/things", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Allow") != "GET, POST, OPTIONS" {
		t.Errorf("OPTIONS: %d Allow %q, want 204 with GET, POST, OPTIONS", resp.StatusCode, resp.Header.Get("Allow"))
	}
	if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Errorf("same-origin API answered a preflight with Access-Control-Allow-Origin %q", v)
	}

	// An unknown path stays 404.
	req, _ = http.NewRequest("OPTIONS", srv.URL+"/api/v1/nothing", nil)
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("OPTIONS on an unknown path: %d, want 404", resp.StatusCode)
	}
}

// HEAD is answered by the GET route, without a body: a monitor's or
// curl -I's check of /healthz must not see 405.
func TestHeadAnsweredByGet(t *testing.T) {
	srv := httptest.NewServer(testRouter())
	defer srv.Close()
	for _, path := range []string{"/page", "/api/v1/things"} {
		resp, err := http.Head(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(body) != 0 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("HEAD %s: %d %q %q, want 200, the GET's headers, no body", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	// A path without a GET route still refuses HEAD.
	r := web.Router(slog.New(slog.NewTextHandler(io.Discard, nil)))
	r.Post("/only-post", func(w http.ResponseWriter, r *http.Request) {})
	srv2 := httptest.NewServer(r)
	defer srv2.Close()
	resp, err := http.Head(srv2.URL + "/only-post")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("HEAD on a POST-only route: %d, want 405", resp.StatusCode)
	}
}

func TestWrongMethodIsJSON405WithAllow(t *testing.T) {
	srv := httptest.NewServer(testRouter())
	defer srv.Close()
	req, _ := http.NewRequest("DELETE", srv.URL+"/api/v1/things", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	jsonError(t, resp, http.StatusMethodNotAllowed)
	if a := resp.Header.Get("Allow"); a != "GET, POST, OPTIONS" {
		t.Errorf("Allow %q", a)
	}
}

func TestHSTSOnlyOverTLS(t *testing.T) {
	plain := httptest.NewServer(testRouter())
	defer plain.Close()
	resp, err := http.Get(plain.URL + "/page")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if v := resp.Header.Get("Strict-Transport-Security"); v != "" {
		t.Errorf("plain HTTP sent HSTS %q", v)
	}
	tlsSrv := httptest.NewTLSServer(testRouter())
	defer tlsSrv.Close()
	if resp, err = tlsSrv.Client().Get(tlsSrv.URL + "/page"); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if v := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(v, "max-age=") || v == "max-age=0" {
		t.Errorf("HTTPS: Strict-Transport-Security %q", v)
	}
}
