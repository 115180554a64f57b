// Package mailsim is an SMTP server stand-in for the demo and the tests: it
// speaks real SMTP (RFC 5321: EHLO/HELO, MAIL FROM, RCPT TO, DATA with
// dot-stuffing, RSET, NOOP, VRFY, QUIT; 8BITMIME, SIZE, and STARTTLS and
// AUTH PLAIN when configured), keeps what it received in memory (bounded),
// decodes it (RFC 2047 headers, quoted-printable and base64 parts) and
// shows it at /sim/mail/ (Handler). Faults make it refuse the greeting,
// MAIL, RCPT or DATA with a 4xx or 5xx reply, or take a message and hang
// up before its 250, so tests can show retries and their limits.
//
// It holds whatever it is sent, as a relay's operator would see it: for the
// demo's invented citizens and the tests only, never for real mail.
package mailsim

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults.
const (
	DefaultMaxMessages = 200
	DefaultMaxSize     = 10 << 20
	maxRecipients      = 100
	maxCommandLine     = 2048 // RFC 5321 says 512; extensions add a little
	maxTextLine        = 1000 // including CRLF (RFC 5321 4.5.3.1.6)
	idleTimeout        = 5 * time.Minute
)

// Options configure a Sim.
type Options struct {
	// Hostname is announced in the greeting (empty: "mailsim.localhost").
	Hostname string
	// MaxMessages bounds the messages kept; the oldest go first (0: 200).
	MaxMessages int
	// MaxSize is the SIZE limit in bytes (0: 10 MiB).
	MaxSize int
	// TLS, if set, lets clients use STARTTLS.
	TLS *tls.Config
	// Users, if set, enables AUTH PLAIN with these user names and
	// passwords (over TLS only, as RFC 4954 asks, unless the client is on
	// loopback). RequireAuth refuses MAIL before authentication.
	Users       map[string]string
	RequireAuth bool
}

// Stage is where a Fault strikes.
type Stage string

// Stages.
const (
	Greeting  Stage = "greeting"   // answer the connection with Code and hang up
	Mail      Stage = "mail"       // answer MAIL FROM with Code
	Rcpt      Stage = "rcpt"       // answer RCPT TO with Code
	Data      Stage = "data"       // take the message, then answer its final "." with Code
	AfterData Stage = "after-data" // take and keep the message, hang up without a reply
)

// Fault makes the next Count sessions (0: every session until cleared)
// fail at Stage. Code is the reply (421, 451, 550 …; 0: 451, or 421 at the
// greeting).
type Fault struct {
	Stage Stage
	Code  int
	Count int
}

// Sim is a running SMTP stand-in.
type Sim struct {
	opt Options
	ln  net.Listener
	wg  sync.WaitGroup

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	closed   bool
	fault    *Fault
	faulted  int // sessions the current fault struck
	seq      int
	messages []*Message
	sessions int
	changed  chan struct{}
}

// New returns a Sim that is not listening yet.
func New(opt Options) *Sim {
	if opt.Hostname == "" {
		opt.Hostname = "mailsim.localhost"
	}
	if opt.MaxMessages <= 0 {
		opt.MaxMessages = DefaultMaxMessages
	}
	if opt.MaxSize <= 0 {
		opt.MaxSize = DefaultMaxSize
	}
	return &Sim{opt: opt, conns: map[net.Conn]struct{}{}, changed: make(chan struct{})}
}

// Listen starts serving SMTP on addr ("127.0.0.1:0" for any free port).
func (s *Sim) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("mailsim: %w", err)
	}
	s.ln = ln
	s.wg.Add(1)
	go s.accept()
	return nil
}

// Start is New and Listen.
func Start(addr string, opt Options) (*Sim, error) {
	s := New(opt)
	if err := s.Listen(addr); err != nil {
		return nil, err
	}
	return s, nil
}

// Addr is the host:port the Sim listens on.
func (s *Sim) Addr() string { return s.ln.Addr().String() }

// Close stops listening, ends every session and waits for them.
func (s *Sim) Close() error {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	var err error
	if s.ln != nil {
		err = s.ln.Close()
	}
	s.wg.Wait()
	return err
}

// SetFault installs f, replacing any fault; ClearFault removes it.
func (s *Sim) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Code == 0 {
		f.Code = 451
		if f.Stage == Greeting {
			f.Code = 421
		}
	}
	s.fault, s.faulted = &f, 0
}

// ClearFault makes the Sim accept mail again.
func (s *Sim) ClearFault() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = nil
}

// Messages returns the messages kept, oldest first.
func (s *Sim) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages))
	for i, m := range s.messages {
		out[i] = *m
	}
	return out
}

// Message returns the message with the given ID.
func (s *Sim) Message(id int) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.messages {
		if m.ID == id {
			return *m, true
		}
	}
	return Message{}, false
}

// Sessions is how many SMTP connections the Sim has accepted.
func (s *Sim) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// Changed returns a channel closed at the next message received.
func (s *Sim) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Reset forgets every message.
func (s *Sim) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = nil
}

func (s *Sim) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.sessions++
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			newSession(s, c).serve()
		}()
	}
}

// strike reports the fault's code if a fault is set for stage and still
// has sessions to strike; session counts a session once.
func (s *Sim) strike(stage Stage, counted *bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.fault
	if f == nil || f.Stage != stage {
		return 0
	}
	if f.Count > 0 && s.faulted >= f.Count {
		s.fault = nil
		return 0
	}
	if !*counted {
		s.faulted++
		*counted = true
	}
	return f.Code
}

// store keeps a received message.
func (s *Sim) store(m *Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	m.ID = s.seq
	s.messages = append(s.messages, m)
	if over := len(s.messages) - s.opt.MaxMessages; over > 0 {
		s.messages = append([]*Message(nil), s.messages[over:]...)
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

// session is one SMTP connection.
type session struct {
	sim      *Sim
	conn     net.Conn
	r        *bufio.Reader
	w        *bufio.Writer
	helo     string
	tls      bool
	user     string
	from     string
	to       []string
	inMail   bool
	eightBit bool
	struck   bool
}

func newSession(s *Sim, c net.Conn) *session {
	return &session{sim: s, conn: c, r: bufio.NewReader(c), w: bufio.NewWriter(c)}
}

func (ss *session) reply(code int, lines ...string) {
	for i, l := range lines {
		sep := " "
		if i < len(lines)-1 {
			sep = "-"
		}
		fmt.Fprintf(ss.w, "%d%s%s\r\n", code, sep, l)
	}
	ss.w.Flush()
}

var errLineTooLong = errors.New("line too long")

// readLine reads one CRLF- (or LF-) terminated line of at most limit bytes
// and returns it without the line end.
func (ss *session) readLine(limit int) (string, error) {
	ss.conn.SetReadDeadline(time.Now().Add(idleTimeout))
	var b []byte
	for {
		chunk, err := ss.r.ReadSlice('\n')
		b = append(b, chunk...)
		if len(b) > limit {
			if err == bufio.ErrBufferFull || err == nil {
				// Skip the rest of the line, so the session can go on.
				for err == bufio.ErrBufferFull {
					_, err = ss.r.ReadSlice('\n')
				}
				if err != nil {
					return "", err
				}
				return "", errLineTooLong
			}
			return "", err
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
}

func (ss *session) resetTransaction() {
	ss.from, ss.to, ss.inMail, ss.eightBit = "", nil, false, false
}

func (ss *session) serve() {
	if code := ss.sim.strike(Greeting, &ss.struck); code != 0 {
		ss.reply(code, ss.sim.opt.Hostname+" Dienst nicht verfügbar, später erneut versuchen / service not available, try again later")
		return
	}
	ss.reply(220, ss.sim.opt.Hostname+" ESMTP Veedel mailsim")
	for {
		line, err := ss.readLine(maxCommandLine)
		if errors.Is(err, errLineTooLong) {
			ss.reply(500, "5.5.2 Befehlszeile zu lang / line too long")
			continue
		}
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			ss.hello(strings.ToUpper(verb), strings.TrimSpace(arg))
		case "STARTTLS":
			if !ss.startTLS() {
				return
			}
		case "AUTH":
			ss.auth(arg)
		case "MAIL":
			ss.mail(arg)
		case "RCPT":
			ss.rcpt(arg)
		case "DATA":
			if !ss.data() {
				return
			}
		case "RSET":
			ss.resetTransaction()
			ss.reply(250, "2.0.0 OK")
		case "NOOP":
			ss.reply(250, "2.0.0 OK")
		case "VRFY":
			ss.reply(252, "2.5.0 Cannot VRFY user, but will accept message")
		case "QUIT":
			ss.reply(221, "2.0.0 Bye")
			return
		default:
			ss.reply(500, "5.5.1 Unbekannter Befehl / command not recognized")
		}
	}
}

func (ss *session) hello(verb, name string) {
	if name == "" {
		ss.reply(501, "5.5.4 "+verb+" braucht einen Namen / needs a domain")
		return
	}
	ss.helo = name
	ss.resetTransaction()
	if verb == "HELO" {
		ss.reply(250, ss.sim.opt.Hostname)
		return
	}
	lines := []string{ss.sim.opt.Hostname + " grüßt / greets " + name, "8BITMIME", "SIZE " + strconv.Itoa(ss.sim.opt.MaxSize), "ENHANCEDSTATUSCODES"}
	if ss.sim.opt.TLS != nil && !ss.tls {
		lines = append(lines, "STARTTLS")
	}
	if len(ss.sim.opt.Users) > 0 && ss.authAllowed() {
		lines = append(lines, "AUTH PLAIN")
	}
	ss.reply(250, lines...)
}

func (ss *session) authAllowed() bool {
	if ss.tls {
		return true
	}
	host, _, _ := net.SplitHostPort(ss.conn.RemoteAddr().String())
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback() && ss.sim.opt.TLS == nil
}

func (ss *session) startTLS() bool {
	if ss.sim.opt.TLS == nil || ss.tls {
		ss.reply(502, "5.5.1 STARTTLS nicht verfügbar / not available")
		return true
	}
	if ss.r.Buffered() > 0 {
		// RFC 3207 5: nothing may be pipelined after STARTTLS.
		ss.reply(501, "5.5.2 Daten nach STARTTLS / data after STARTTLS")
		return false
	}
	ss.reply(220, "2.0.0 Bereit für TLS / ready to start TLS")
	tc := tls.Server(ss.conn, ss.sim.opt.TLS)
	tc.SetDeadline(time.Now().Add(30 * time.Second))
	if err := tc.Handshake(); err != nil {
		return false
	}
	tc.SetDeadline(time.Time{})
	ss.conn, ss.r, ss.w = tc, bufio.NewReader(tc), bufio.NewWriter(tc)
	ss.tls, ss.helo, ss.user = true, "", ""
	ss.resetTransaction()
	return true
}

func (ss *session) auth(arg string) {
	mech, initial, _ := strings.Cut(strings.TrimSpace(arg), " ")
	switch {
	case len(ss.sim.opt.Users) == 0 || !ss.authAllowed():
		ss.reply(502, "5.5.1 AUTH nicht verfügbar / not available")
		return
	case ss.user != "":
		ss.reply(503, "5.5.1 Schon angemeldet / already authenticated")
		return
	case !strings.EqualFold(mech, "PLAIN"):
		ss.reply(504, "5.5.4 Nur AUTH PLAIN / only PLAIN")
		return
	}
	if initial == "" {
		ss.reply(334, "")
		line, err := ss.readLine(maxCommandLine)
		if err != nil {
			return
		}
		initial = line
	}
	user, ok := checkPlain(initial, ss.sim.opt.Users)
	if !ok {
		ss.reply(535, "5.7.8 Anmeldung fehlgeschlagen / authentication credentials invalid")
		return
	}
	ss.user = user
	ss.reply(235, "2.7.0 Angemeldet / authentication successful")
}

// mailArg returns the address in "FROM:<a@b> PARAMS" and the parameters.
func mailArg(arg, prefix string) (string, []string, bool) {
	rest, ok := strings.CutPrefix(strings.ToUpper(arg[:min(len(arg), len(prefix))]), prefix)
	if !ok || rest != "" {
		return "", nil, false
	}
	arg = strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(arg, "<") {
		return "", nil, false
	}
	end := strings.IndexByte(arg, '>')
	if end < 0 {
		return "", nil, false
	}
	return arg[1:end], strings.Fields(arg[end+1:]), true
}

func (ss *session) mail(arg string) {
	switch {
	case ss.helo == "":
		ss.reply(503, "5.5.1 Erst EHLO / send EHLO first")
		return
	case ss.inMail:
		ss.reply(503, "5.5.1 MAIL schon gesendet / nested MAIL command")
		return
	case ss.sim.opt.RequireAuth && ss.user == "":
		ss.reply(530, "5.7.0 Anmeldung nötig / authentication required")
		return
	}
	from, params, ok := mailArg(arg, "FROM:")
	if !ok {
		ss.reply(501, "5.5.4 Syntax: MAIL FROM:<adresse> / syntax error")
		return
	}
	eightBit := false
	for _, p := range params {
		k, v, _ := strings.Cut(p, "=")
		switch strings.ToUpper(k) {
		case "SIZE":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				ss.reply(501, "5.5.4 SIZE ungültig / bad SIZE")
				return
			}
			if n > ss.sim.opt.MaxSize {
				ss.reply(552, "5.3.4 Nachricht zu groß / message size exceeds fixed limit")
				return
			}
		case "BODY":
			switch strings.ToUpper(v) {
			case "8BITMIME":
				eightBit = true
			case "7BIT":
			default:
				ss.reply(501, "5.5.4 BODY ungültig / bad BODY")
				return
			}
		default:
			ss.reply(555, "5.5.4 Parameter nicht unterstützt / parameter not supported")
			return
		}
	}
	if code := ss.sim.strike(Mail, &ss.struck); code != 0 {
		ss.reply(code, faultText(code))
		return
	}
	ss.from, ss.inMail, ss.eightBit = from, true, eightBit
	ss.reply(250, "2.1.0 OK")
}

func (ss *session) rcpt(arg string) {
	if !ss.inMail {
		ss.reply(503, "5.5.1 Erst MAIL / need MAIL before RCPT")
		return
	}
	to, params, ok := mailArg(arg, "TO:")
	if !ok || to == "" || len(params) > 0 {
		ss.reply(501, "5.5.4 Syntax: RCPT TO:<adresse> / syntax error")
		return
	}
	if len(ss.to) >= maxRecipients {
		ss.reply(452, "4.5.3 Zu viele Empfänger / too many recipients")
		return
	}
	if code := ss.sim.strike(Rcpt, &ss.struck); code != 0 {
		ss.reply(code, faultText(code))
		return
	}
	ss.to = append(ss.to, to)
	ss.reply(250, "2.1.5 OK")
}

// data reads a message; it reports false when the session must end.
func (ss *session) data() bool {
	if len(ss.to) == 0 {
		ss.reply(503, "5.5.1 Erst RCPT / need RCPT before DATA")
		return true
	}
	ss.reply(354, "Nachricht senden, Ende mit <CRLF>.<CRLF> / end data with <CR><LF>.<CR><LF>")
	var raw []byte
	tooBig, tooLong := false, false
	for {
		line, err := ss.readLine(maxTextLine)
		if errors.Is(err, errLineTooLong) {
			tooLong = true
			continue
		}
		if err != nil {
			return false
		}
		if line == "." {
			break
		}
		line = strings.TrimPrefix(line, ".") // dot-stuffing (RFC 5321 4.5.2)
		if tooBig || len(raw)+len(line)+2 > ss.sim.opt.MaxSize {
			tooBig, raw = true, nil
			continue
		}
		raw = append(raw, line...)
		raw = append(raw, '\r', '\n')
	}
	from, to, eightBit := ss.from, ss.to, ss.eightBit
	ss.resetTransaction()
	switch {
	case tooBig:
		ss.reply(552, "5.3.4 Nachricht zu groß / message size exceeds fixed limit")
		return true
	case tooLong:
		ss.reply(500, "5.5.2 Zeile länger als 1000 Zeichen / line too long")
		return true
	}
	if code := ss.sim.strike(Data, &ss.struck); code != 0 {
		ss.reply(code, faultText(code))
		return true
	}
	m := parse(raw)
	m.Received, m.EnvelopeFrom, m.EnvelopeTo = time.Now(), from, to
	m.TLS, m.User, m.Helo, m.EightBitMIME = ss.tls, ss.user, ss.helo, eightBit
	ss.sim.store(m)
	if code := ss.sim.strike(AfterData, &ss.struck); code != 0 {
		return false // kept, but the client never hears 250
	}
	ss.reply(250, fmt.Sprintf("2.0.0 OK: angenommen als / queued as %d", m.ID))
	return true
}

func faultText(code int) string {
	if code >= 500 {
		return "5.7.1 Abgelehnt (Simulator) / rejected (simulated)"
	}
	return "4.3.2 Vorübergehend nicht verfügbar (Simulator) / temporarily unavailable (simulated)"
}

var _ io.Closer = (*Sim)(nil)
