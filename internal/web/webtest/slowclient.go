// Package webtest has the slow clients the timeout tests of every server
// use: real TCP connections on loopback that drip a body or sit idle.
package webtest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// safety bounds every wait here, so that a server without timeouts fails
// the test instead of hanging it. It is no assertion on how long anything
// takes.
const safety = time.Minute

// Drip opens a connection to addr (host:port) and POSTs body to path, one
// byte per interval, with the Content-Type contentType. It returns how many
// body bytes it had sent when the server answered or closed the
// connection, and the answer (possibly empty). A server that sheds slow
// clients stops it before the whole body is sent.
func Drip(t testing.TB, addr, path, contentType string, body []byte, interval time.Duration) (sent int, answer string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", path, addr, contentType, len(body))
	got := make(chan string, 1)
	go func() {
		conn.SetReadDeadline(time.Now().Add(safety))
		b, _ := io.ReadAll(conn)
		got <- string(b)
	}()
	for sent = 0; sent < len(body); sent++ {
		select {
		case answer = <-got:
			return sent, answer
		case <-time.After(interval):
		}
		if _, err := conn.Write(body[sent : sent+1]); err != nil {
			return sent, <-got
		}
	}
	return sent, <-got
}

// IdleClosed sends one GET for path on a kept-alive connection to addr,
// reads the answer, then waits: it reports whether the server closed the
// idle connection by itself.
func IdleClosed(t testing.TB, addr, path string) bool {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, addr)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	conn.SetReadDeadline(time.Now().Add(safety))
	_, err = br.ReadByte()
	return err == io.EOF
}
