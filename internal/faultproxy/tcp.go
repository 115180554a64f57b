package faultproxy

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxHead is how much of a message the Proxy buffers to find the end of
// its head; a longer head is treated as having no body.
const maxHead = 64 << 10

// Proxy is a TCP proxy on loopback that applies a Fault to each accepted
// connection. It is safe for concurrent use.
type Proxy struct {
	target string
	l      net.Listener
	stats

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	done   chan struct{}
	wg     sync.WaitGroup
}

// tcpKinds are the kinds a Proxy applies; it passes the others.
func tcpKinds(k Kind) bool { return k < Duplicate }

// Listen starts a proxy on a random loopback port forwarding to target
// (host:port). A nil schedule passes everything.
func Listen(target string, schedule Schedule) (*Proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{target: target, l: l, conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
	p.schedule = schedule
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.l.Addr().String() }

// URL is http://Addr.
func (p *Proxy) URL() string { return "http://" + p.Addr() }

// SetSchedule replaces the schedule for connections accepted from now on
// (nil passes everything). Counting continues.
func (p *Proxy) SetSchedule(s Schedule) { p.setSchedule(s) }

// Stats returns what the proxy did so far.
func (p *Proxy) Stats() Stats { return p.snapshot() }

// CloseConns closes every open connection, as a WAN link going down would;
// new connections are accepted as before.
func (p *Proxy) CloseConns() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

// Close stops accepting, closes every connection and waits for the
// proxy's goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.done)
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	err := p.l.Close()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			c.Close()
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.handle(c)
		}()
	}
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) release(c net.Conn) {
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *Proxy) handle(client net.Conn) {
	defer p.release(client)
	f := p.next(tcpKinds)
	switch f.Kind {
	case Drop:
		return
	case Delay:
		t := time.NewTimer(f.Delay)
		select {
		case <-p.done:
			t.Stop()
			return
		case <-t.C:
		}
	}
	// A target that is down shows as a connection closed at once.
	upstream, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	if !p.track(upstream) {
		upstream.Close()
		return
	}
	defer p.release(upstream)

	replied := make(chan struct{})
	go func() {
		defer close(replied)
		p.pipe(client, upstream, f, false)
		// The target closed (or LoseReply struck): so does the client's side.
		client.Close()
	}()
	if cut := p.pipe(upstream, client, f, true); cut {
		client.Close()
		upstream.Close()
	} else if tc, ok := upstream.(*net.TCPConn); ok {
		tc.CloseWrite() // the client finished sending: pass the EOF on
	}
	<-replied
}

// pipe copies src to dst and applies f to this direction (up: client to
// target). For Cut, Corrupt and CorruptReply it first buffers the head of
// the first message to find its body by Content-Length. It reports whether
// it cut the stream.
func (p *Proxy) pipe(dst, src net.Conn, f Fault, up bool) (cut bool) {
	aimed := up && (f.Kind == Cut || f.Kind == Corrupt) || !up && f.Kind == CorruptReply
	lose := !up && f.Kind == LoseReply
	buf := make([]byte, 32<<10)
	var head []byte
	framed := !aimed
	var fl flipper
	limit := int64(-1)
	var pos int64
	for {
		n, rerr := src.Read(buf)
		chunk := buf[:n]
		if lose && n > 0 {
			return false // the target answered; the client must not hear it
		}
		if !framed && n > 0 {
			head = append(head, chunk...)
			end := bytes.Index(head, []byte("\r\n\r\n"))
			if end < 0 && len(head) < maxHead && rerr == nil {
				continue
			}
			start, length, chunked := bodyRegion(head, end)
			if chunked {
				// No length known: aim at the body bytes buffered, after
				// waiting for some.
				if int64(len(head)) == start && len(head) < maxHead && rerr == nil {
					continue
				}
				length = int64(len(head)) - start
			}
			framed = true
			switch {
			case f.Kind == Cut && length > 0:
				limit = start + int64(f.Fraction*float64(length))
			case f.Kind == Cut:
				limit = start / 2 // no body: cut the head
			default: // a message without a body passes: corruption hits bodies
				fl = newFlipper(f.Seed, f.Flips, start, length)
			}
			chunk, head = head, nil
		}
		if limit >= 0 && pos+int64(len(chunk)) > limit {
			chunk = chunk[:limit-pos]
			if len(chunk) > 0 {
				dst.Write(chunk)
				p.count(up, len(chunk))
			}
			return true
		}
		fl.apply(chunk, pos)
		if len(chunk) > 0 {
			if _, err := dst.Write(chunk); err != nil {
				return false
			}
			p.count(up, len(chunk))
		}
		pos += int64(len(chunk))
		if rerr != nil {
			return false
		}
	}
}

func (p *Proxy) count(up bool, n int) {
	if up {
		p.add(n, 0)
	} else {
		p.add(0, n)
	}
}

// bodyRegion returns where the body of the message whose head ends at end
// (the index of "\r\n\r\n", or -1 when not found) starts, and how long
// its Content-Length says it is; chunked reports a chunked body, whose
// length is unknown.
func bodyRegion(head []byte, end int) (start, length int64, chunked bool) {
	if end < 0 {
		return int64(len(head)), 0, false
	}
	for _, line := range strings.Split(string(head[:end]), "\r\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		switch {
		case strings.EqualFold(name, "Content-Length"):
			length, _ = strconv.ParseInt(value, 10, 64)
		case strings.EqualFold(name, "Transfer-Encoding"):
			chunked = strings.Contains(strings.ToLower(value), "chunked")
		}
	}
	return int64(end + 4), max(length, 0), chunked
}
