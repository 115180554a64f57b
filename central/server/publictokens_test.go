package server_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestPublicViewsCarryNoTokens: central's pages and APIs that anyone may
// read (the portal and its stream, the sites API, the open data) carry no
// ticket's token: with it, anyone could cancel the ticket or sign it up
// for SMS. Only /t/{token} itself, which needs the token, shows the ticket.
func TestPublicViewsCarryNoTokens(t *testing.T) {
	e := newEnv(t)
	l := opening(t, e.Clock)
	e.mustPost(l.batch(1, 5))
	call(l)
	e.mustPost(l.batch(6, 7))

	seen := map[string]string{}
	for _, path := range []string{"/", "/?lang=en", "/api/v1/sites", "/open-data/waiting-od.json", "/open-data/wartezeiten.json", "/open-data/waiting-times.json", "/healthz"} {
		resp, body := e.get(path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", path, resp.StatusCode)
		}
		seen["GET "+path] = body
	}
	seen["GET /events"] = firstEvent(t, e.URL+"/events")
	for what, body := range seen {
		for _, tok := range []string{tokenA, tokenB} {
			if strings.Contains(body, tok) {
				t.Errorf("%s carries a ticket's token", what)
			}
		}
	}
	if !strings.Contains(seen["GET /events"], "event: sites") {
		t.Errorf("portal stream's first event: %q", seen["GET /events"])
	}
}

// firstEvent reads the first Server-Sent Event of url, raw.
func firstEvent(t *testing.T, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	var raw strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read %s: %v (so far %q)", url, err, raw.String())
		}
		raw.WriteString(line)
		if line == "\n" && strings.Contains(raw.String(), "data:") {
			return raw.String()
		}
	}
}
