package web_test

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/internal/web"
)

// TestSSEStreamsPerClientAreCapped: one client (a phone on the site's
// LAN) cannot hold more than web.MaxStreamsPerClient event streams open
// at once: each costs the server a connection and memory for as long as
// the client wants, and 5,000 of them took 200 MB of an appliance's
// memory. The next one is refused with 429 and Retry-After; once the
// client closes one, it may open another.
func TestSSEStreamsPerClientAreCapped(t *testing.T) {
	wake := make(chan struct{})
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		web.SSE(w, r, wake, func() (string, []byte) { return "queue", []byte("{}") })
	}), web.DefaultTimeouts)
	open := func() (net.Conn, string) {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"))
		status, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			t.Fatalf("reading the status line: %v", err)
		}
		return c, strings.TrimSpace(status)
	}
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := range web.MaxStreamsPerClient {
		c, status := open()
		conns = append(conns, c)
		if status != "HTTP/1.1 200 OK" {
			t.Fatalf("stream %d: %q, want 200", i+1, status)
		}
	}
	c, status := open()
	c.Close()
	if status != "HTTP/1.1 429 Too Many Requests" {
		t.Fatalf("stream %d from the same client: %q, want 429", web.MaxStreamsPerClient+1, status)
	}
	conns[0].Close()
	conns = conns[1:]
	// The server notices the closed stream when its context ends.
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, status := open()
		if status == "HTTP/1.1 200 OK" {
			conns = append(conns, c)
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("after closing a stream, a new one is still refused: %q", status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStreamLimitPerRoute: a route wrapped in StreamLimit has its own
// bound (central's public pages, where phones share carrier addresses).
func TestStreamLimitPerRoute(t *testing.T) {
	wake := make(chan struct{})
	h := web.StreamLimit(3)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		web.SSE(w, r, wake, func() (string, []byte) { return "queue", []byte("{}") })
	}))
	addr := serve(t, h, web.DefaultTimeouts)
	for i := 1; i <= 4; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"))
		status, _ := bufio.NewReader(c).ReadString('\n')
		want := "HTTP/1.1 200 OK"
		if i == 4 {
			want = "HTTP/1.1 429 Too Many Requests"
		}
		if got := strings.TrimSpace(status); got != want {
			t.Fatalf("stream %d under StreamLimit(3): %q, want %q", i, got, want)
		}
	}
}
