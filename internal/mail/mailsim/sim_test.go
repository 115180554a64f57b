package mailsim_test

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/internal/mail/mailsim"
)

func mustStart(tb testing.TB, opt mailsim.Options) *mailsim.Sim {
	tb.Helper()
	s, err := mailsim.Start("127.0.0.1:0", opt)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// client is a raw SMTP client: it sends lines and reads replies.
type client struct {
	tb   testing.TB
	conn net.Conn
	r    *bufio.Reader
}

func dial(tb testing.TB, s *mailsim.Sim) *client {
	tb.Helper()
	conn, err := net.Dial("tcp", s.Addr())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	return &client{tb: tb, conn: conn, r: bufio.NewReader(conn)}
}

// reply reads one (multi-line) reply and returns its code and last line.
func (c *client) reply() (int, string) {
	c.tb.Helper()
	var text []string
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.tb.Fatalf("reading reply: %v (so far %q)", err, text)
		}
		line = strings.TrimRight(line, "\r\n")
		text = append(text, line)
		if len(line) < 4 || line[3] == ' ' {
			var code int
			fmt.Sscanf(line, "%d", &code)
			return code, strings.Join(text, "\n")
		}
	}
}

// do sends a line and asserts the reply's code.
func (c *client) do(line string, want int) string {
	c.tb.Helper()
	fmt.Fprintf(c.conn, "%s\r\n", line)
	code, text := c.reply()
	if code != want {
		c.tb.Fatalf("%q → %d %q, want %d", line, code, text, want)
	}
	return text
}

func (c *client) greet() {
	c.tb.Helper()
	if code, text := c.reply(); code != 220 {
		c.tb.Fatalf("greeting %d %q", code, text)
	}
}

func TestSession(t *testing.T) {
	s := mustStart(t, mailsim.Options{MaxSize: 2000})
	c := dial(t, s)
	c.greet()
	c.do("MAIL FROM:<a@example.org>", 503) // before EHLO
	ehlo := c.do("EHLO client.test", 250)
	for _, ext := range []string{"8BITMIME", "SIZE 2000"} {
		if !strings.Contains(ehlo, ext) {
			t.Errorf("EHLO reply lacks %s: %q", ext, ehlo)
		}
	}
	c.do("RCPT TO:<b@example.org>", 503) // before MAIL
	c.do("DATA", 503)
	c.do("MAIL FROM:a@example.org", 501)
	c.do("MAIL FROM:<a@example.org> SIZE=5000", 552)
	c.do("MAIL FROM:<a@example.org> BODY=8BITMIME SIZE=100", 250)
	c.do("MAIL FROM:<x@example.org>", 503) // nested
	c.do("RCPT TO:<b@example.org>", 250)
	c.do("RSET", 250)
	c.do("DATA", 503) // RSET forgot the recipients
	c.do("NOOP", 250)
	c.do("VRFY b", 252)
	c.do("FROB", 500)
	c.do("MAIL FROM:<>", 250) // null return path (bounces)
	c.do("RCPT TO:<b@example.org>", 250)
	c.do("RCPT TO:<c@example.org>", 250)
	c.do("DATA", 354)
	// Dot-stuffed lines: "..x" is ".x", "..." is "..", ". " is " ".
	fmt.Fprint(c.conn, "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n\r\n..x\r\n...\r\nBüro 8bit\r\n.\r\n")
	if code, text := c.reply(); code != 250 {
		t.Fatalf("end of data → %d %q", code, text)
	}
	c.do("QUIT", 221)

	msgs := s.Messages()
	if len(msgs) != 1 {
		t.Fatalf("messages = %d", len(msgs))
	}
	m := msgs[0]
	if m.Subject != "Grüße" || m.Text != ".x\n..\nBüro 8bit" || m.EnvelopeFrom != "" || strings.Join(m.EnvelopeTo, ",") != "b@example.org,c@example.org" || m.Helo != "client.test" {
		t.Fatalf("got %+v", m)
	}
}

func TestSizeAndLineLimits(t *testing.T) {
	s := mustStart(t, mailsim.Options{MaxSize: 2000})
	c := dial(t, s)
	c.greet()
	c.do("EHLO client.test", 250)
	c.do("MAIL FROM:<a@example.org>", 250) // no SIZE declared
	c.do("RCPT TO:<b@example.org>", 250)
	c.do("DATA", 354)
	for range 30 {
		fmt.Fprintf(c.conn, "%s\r\n", strings.Repeat("x", 100))
	}
	fmt.Fprint(c.conn, ".\r\n")
	if code, _ := c.reply(); code != 552 {
		t.Fatalf("oversized message → %d, want 552", code)
	}
	// The session goes on, a long command line is refused, a long text line too.
	c.do(strings.Repeat("N", 5000), 500)
	c.do("MAIL FROM:<a@example.org>", 250)
	c.do("RCPT TO:<b@example.org>", 250)
	c.do("DATA", 354)
	fmt.Fprintf(c.conn, "Subject: x\r\n\r\n%s\r\n.\r\n", strings.Repeat("y", 1200))
	if code, _ := c.reply(); code != 500 {
		t.Fatalf("line of 1200 → %d, want 500", code)
	}
	c.do("QUIT", 221)
	if n := len(s.Messages()); n != 0 {
		t.Fatalf("kept %d refused messages", n)
	}
}

func TestBounded(t *testing.T) {
	s := mustStart(t, mailsim.Options{MaxMessages: 3})
	c := dial(t, s)
	c.greet()
	c.do("HELO client.test", 250)
	for i := 1; i <= 5; i++ {
		c.do("MAIL FROM:<a@example.org>", 250)
		c.do("RCPT TO:<b@example.org>", 250)
		c.do("DATA", 354)
		fmt.Fprintf(c.conn, "Subject: %d\r\n\r\nx\r\n.\r\n", i)
		c.reply()
	}
	var subjects []string
	for _, m := range s.Messages() {
		subjects = append(subjects, m.Subject)
	}
	if got := strings.Join(subjects, ","); got != "3,4,5" {
		t.Fatalf("kept %s, want the newest three: 3,4,5", got)
	}
}

func TestFaults(t *testing.T) {
	s := mustStart(t, mailsim.Options{})
	t.Run("Greeting", func(t *testing.T) {
		s.SetFault(mailsim.Fault{Stage: mailsim.Greeting, Count: 2})
		for i := range 3 {
			c := dial(t, s)
			code, _ := c.reply()
			if want := map[bool]int{true: 421, false: 220}[i < 2]; code != want {
				t.Fatalf("session %d greeted with %d, want %d", i+1, code, want)
			}
		}
	})
	t.Run("Rcpt", func(t *testing.T) {
		s.SetFault(mailsim.Fault{Stage: mailsim.Rcpt, Code: 450})
		defer s.ClearFault()
		c := dial(t, s)
		c.greet()
		c.do("EHLO x.test", 250)
		c.do("MAIL FROM:<a@example.org>", 250)
		c.do("RCPT TO:<b@example.org>", 450)
	})
}

func TestAuth(t *testing.T) {
	s := mustStart(t, mailsim.Options{Users: map[string]string{"veedel": "geheim"}, RequireAuth: true})
	c := dial(t, s)
	c.greet()
	if ehlo := c.do("EHLO client.test", 250); !strings.Contains(ehlo, "AUTH PLAIN") || strings.Contains(ehlo, "STARTTLS") {
		t.Fatalf("EHLO on loopback without TLS config: %q", ehlo)
	}
	c.do("MAIL FROM:<a@example.org>", 530)
	c.do("AUTH LOGIN", 504)
	c.do("AUTH PLAIN "+base64.StdEncoding.EncodeToString([]byte("\x00veedel\x00falsch")), 535)
	c.do("AUTH PLAIN", 334)
	c.do(base64.StdEncoding.EncodeToString([]byte("\x00veedel\x00geheim")), 235)
	c.do("AUTH PLAIN x", 503)
	c.do("MAIL FROM:<a@example.org>", 250)
	c.do("STARTTLS", 502)
	c.do("QUIT", 221)
}
