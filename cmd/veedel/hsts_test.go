package main

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// Central under -tls-cert tells browsers to keep to HTTPS (HSTS); a node
// on plain HTTP does not send the header (RFC 6797 7.2).
func TestHSTSUnderTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeTestCert(t, dir)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cent, err := openCentral(context.Background(), centralConfig{DB: filepath.Join(dir, "central.db"), Listener: l, Logger: testLogger(t),
		TLSCert: certFile, TLSKey: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	serveInBackground(t, cent.URL, cent.Run)
	client, err := centralClient(certFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/", "/healthz", "/api/v1/sites"} {
		resp, err := client.Get(cent.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if v := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(v, "max-age=") || v == "max-age=0" {
			t.Errorf("HTTPS %s: Strict-Transport-Security %q", path, v)
		}
	}

	_, app := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db")})
	resp, err := http.Get(app.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if v := resp.Header.Get("Strict-Transport-Security"); v != "" {
		t.Errorf("plain HTTP sent Strict-Transport-Security %q", v)
	}
}
