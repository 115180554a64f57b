package web_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/internal/web/webtest"
)

// short are timeouts a test can outwait.
var short = web.Timeouts{Header: time.Second, Body: 500 * time.Millisecond, Write: 500 * time.Millisecond, Idle: 500 * time.Millisecond}

// serve runs h behind web.NewServer on loopback and returns its address.
func serve(t *testing.T, h http.Handler, to web.Timeouts) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- web.Serve(ctx, web.NewServer(h, to), l) }()
	t.Cleanup(func() { cancel(); <-done })
	return l.Addr().String()
}

func TestSlowBodyIsCutOff(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v struct{ Service string }
		if err := web.DecodeJSON(r, &v); err != nil {
			web.Error(w, r, err)
			return
		}
		web.JSON(w, http.StatusOK, v)
	})
	addr := serve(t, h, short)
	body := `{"service":"ausweis-und-reisepass-beantragen"}`
	sent, answer := webtest.Drip(t, addr, "/", "application/json", []byte(body), 100*time.Millisecond)
	if sent >= len(body) {
		t.Fatalf("the server waited for the whole dripped body (%d bytes); answered %q", sent, answer)
	}
	if answer != "" && (!strings.HasPrefix(answer, "HTTP/1.1 400") || !strings.Contains(answer, "did not arrive in time")) {
		t.Errorf("answer to a timed-out body: %q", answer)
	}

	// A body sent at once still works on the same server.
	resp, err := http.Post("http://"+addr+"/", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("prompt body: %d", resp.StatusCode)
	}
}

func TestIdleKeepAliveIsClosed(t *testing.T) {
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }), short)
	if !webtest.IdleClosed(t, addr, "/") {
		t.Error("the server kept an idle keep-alive connection open")
	}
}

func TestSSEOutlivesWriteTimeout(t *testing.T) {
	wake := make(chan struct{})
	n := 0
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		web.SSE(w, r, wake, func() (string, []byte) { n++; return "tick", []byte(fmt.Sprint(n)) })
	})
	addr := serve(t, h, short)
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	readEvent := func() string {
		t.Helper()
		var lines []string
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("stream ended after %q: %v", lines, err)
			}
			if line == "\n" {
				return strings.Join(lines, "")
			}
			lines = append(lines, line)
		}
	}
	if ev := readEvent(); !strings.Contains(ev, "data: 1") {
		t.Fatalf("first event %q", ev)
	}
	time.Sleep(3 * short.Write) // well past the server's write timeout
	wake <- struct{}{}
	if ev := readEvent(); !strings.Contains(ev, "data: 2") {
		t.Fatalf("second event %q", ev)
	}
}

func TestWriteTimeoutExtendsALongPoll(t *testing.T) {
	poll := func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(3 * short.Write) // a long poll waiting for news
		io.WriteString(w, "news")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/plain", poll)
	mux.Handle("/poll", web.WriteTimeout(10*short.Write)(http.HandlerFunc(poll)))
	addr := serve(t, mux, short)

	resp, err := http.Get("http://" + addr + "/poll")
	if err != nil {
		t.Fatalf("long poll: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "news" {
		t.Errorf("long poll answered %q", b)
	}
	// Without the extension the general write timeout ends it: the test
	// shows the extension is what keeps the poll.
	if resp, err := http.Get("http://" + addr + "/plain"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) == "news" {
			t.Errorf("a handler past the write timeout still answered: the server has no write timeout")
		}
	}
}
