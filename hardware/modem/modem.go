// Package modem owns the GSM modem on a serial line: an SMS sender
// (notify.Sender) speaking the AT commands of 3GPP TS 27.005 and 27.007,
// in PDU mode (SMS-SUBMIT PDUs built here, concatenated SMS for long
// texts) or in text mode, and the modem's health (signal, registration,
// SIM).
//
// The port is opened on first use and reopened after an I/O error, so a
// modem unplugged and plugged back (or a udev symlink now pointing at a
// new device) is used again without a restart. All AT traffic of a Modem
// is serialised.
package modem

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/veedel/veedel/appliance/notify"
	"github.com/veedel/veedel/hardware/serialport"
)

// Defaults of Options.
const (
	DefaultBaud           = 115200
	DefaultCommandTimeout = 5 * time.Second
	DefaultSubmitTimeout  = 60 * time.Second
	DefaultRetries        = 3
	DefaultBackoff        = 2 * time.Second
	syncAttempts          = 5
	maxPending            = 64
	pendingTTL            = 24 * time.Hour
)

// Mode is how messages are submitted.
type Mode int

const (
	// PDU mode (AT+CMGF=0): binary SMS-SUBMIT PDUs; long texts as one
	// concatenated SMS.
	PDU Mode = iota
	// Text mode (AT+CMGF=1): the modem builds the PDU. It cannot carry a
	// user data header, so a long text goes as separate, independent
	// messages (each split part on its own; phones show them as several
	// SMS, possibly out of order).
	Text
)

func (m Mode) String() string {
	if m == Text {
		return "text"
	}
	return "pdu"
}

// Options tune a Modem; the zero value is the defaults.
type Options struct {
	// CommandTimeout bounds the answer to one AT command (0: 5 s).
	CommandTimeout time.Duration
	// SubmitTimeout bounds the wait for +CMGS after the PDU or text is
	// submitted (0: 60 s); Send's context may end it earlier. A missing
	// answer is Ambiguous: the SMS may have gone out.
	SubmitTimeout time.Duration
	// Retries is how often one part refused with a temporary +CMS ERROR
	// is tried again within Send (0: 3; negative: never).
	Retries int
	// Backoff is the pause before the first retry of a part, doubling
	// after each further one (0: 2 s).
	Backoff time.Duration
	// OpenPort opens the device (nil: go.bug.st/serial, 8N1 at the
	// address's baud rate). A seam for tests.
	OpenPort func(path string, baud int) (io.ReadWriteCloser, error)
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Modem is a GSM modem on a serial line. It implements notify.Sender.
type Modem struct {
	path string
	baud int
	mode Mode
	opt  Options

	// lock holds a token while a caller talks to the modem: it serialises
	// all AT traffic and guards what follows. A channel, not a mutex, so
	// that a caller can give up waiting when its context ends (Health
	// while a Send waits minutes for the network).
	lock    chan struct{}
	c       *conn  // nil: closed, opened on next use
	synced  bool   // AT, ATE0, AT+CMEE done on c
	ready   bool   // SIM ready and message format set on c
	charset string // text mode: the AT+CSCS in effect ("" unknown)
	ref     byte   // the last concatenation reference used
	pending map[string]*progress

	// last is the last health Health read from the modem, returned while
	// the modem is busy; guarded by lastMu, not by lock.
	lastMu sync.Mutex
	last   Health
}

// acquire takes the modem's lock, or gives up when ctx ends first.
func (m *Modem) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case m.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *Modem) release() { <-m.lock }

var _ notify.Sender = (*Modem)(nil)

// progress is how far an unfinished long text got: a Send of the same
// text to the same number resumes it with the same reference and does
// not submit an accepted part again.
type progress struct {
	ref      byte
	accepted []bool
	at       time.Time
}

// Open parses address, serial:///dev/ttyUSB0?baud=115200&mode=pdu (mode
// pdu, the default, or text; baud 115200 by default), and returns a Modem.
// The port is opened on first use: Open fails only on a bad address.
func Open(address string, opt Options) (*Modem, error) {
	path, baud, mode, err := parseAddress(address)
	if err != nil {
		return nil, err
	}
	if opt.CommandTimeout <= 0 {
		opt.CommandTimeout = DefaultCommandTimeout
	}
	if opt.SubmitTimeout <= 0 {
		opt.SubmitTimeout = DefaultSubmitTimeout
	}
	if opt.Retries == 0 {
		opt.Retries = DefaultRetries
	} else if opt.Retries < 0 {
		opt.Retries = 0
	}
	if opt.Backoff <= 0 {
		opt.Backoff = DefaultBackoff
	}
	if opt.OpenPort == nil {
		opt.OpenPort = serialport.Open
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Modem{path: path, baud: baud, mode: mode, opt: opt, pending: map[string]*progress{},
		lock: make(chan struct{}, 1), last: Health{Network: UnknownReg}}, nil
}

func parseAddress(address string) (path string, baud int, mode Mode, err error) {
	u, err := url.Parse(address)
	if err != nil {
		return "", 0, 0, fmt.Errorf("%w: %v", ErrBadAddress, err)
	}
	if u.Scheme != "serial" {
		return "", 0, 0, fmt.Errorf("%w: scheme %q, want serial:///dev/…", ErrBadAddress, u.Scheme)
	}
	switch {
	case u.User != nil:
		// A modem takes no credentials; keep them out of configs and logs.
		return "", 0, 0, fmt.Errorf("%w: user info is not allowed", ErrBadAddress)
	case u.Fragment != "":
		return "", 0, 0, fmt.Errorf("%w: fragment is not allowed", ErrBadAddress)
	case u.Host != "" || !strings.HasPrefix(u.Path, "/") || u.Path == "/":
		return "", 0, 0, fmt.Errorf("%w: want an absolute device path, serial:///dev/ttyUSB0", ErrBadAddress)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", 0, 0, fmt.Errorf("%w: query: %v", ErrBadAddress, err)
	}
	baud, mode = DefaultBaud, PDU
	for k, vs := range q {
		if len(vs) > 1 {
			return "", 0, 0, fmt.Errorf("%w: parameter %q given %d times", ErrBadAddress, k, len(vs))
		}
		v := vs[0]
		switch k {
		case "baud":
			baud, err = strconv.Atoi(v)
			if err != nil || baud <= 0 {
				return "", 0, 0, fmt.Errorf("%w: baud %q", ErrBadAddress, v)
			}
		case "mode":
			switch v {
			case "pdu":
				mode = PDU
			case "text":
				mode = Text
			default:
				return "", 0, 0, fmt.Errorf("%w: mode %q, want pdu or text", ErrBadAddress, v)
			}
		default:
			return "", 0, 0, fmt.Errorf("%w: unknown parameter %q", ErrBadAddress, k)
		}
	}
	return u.Path, baud, mode, nil
}

// Close closes the port; a later call opens it again.
func (m *Modem) Close() error {
	m.acquire(context.Background())
	defer m.release()
	m.drop()
	return nil
}

// drop closes the conn: the next use opens the port afresh.
func (m *Modem) drop() {
	if m.c != nil {
		m.c.close()
		m.c = nil
	}
	m.synced, m.ready, m.charset = false, false, ""
}

// fail drops the conn when err says the port failed or the dialogue was
// lost. A caller's context that ended while a harmless command's answer
// was pending (canceledError) keeps the conn: the answer is read away
// before the next command.
func (m *Modem) fail(err error) {
	var ioe *ioError
	var te *timeoutError
	if errors.As(err, &ioe) || errors.As(err, &te) {
		m.drop()
	}
}

// cmd runs one AT command on the open conn.
func (m *Modem) cmd(ctx context.Context, cmd, prefix string) ([]string, error) {
	return m.c.command(ctx, cmd, prefix, m.opt.CommandTimeout)
}

// sync opens the port if needed and brings the modem to a known state:
// AT until it answers, echo off, numeric error codes.
func (m *Modem) sync(ctx context.Context) error {
	if m.c == nil {
		port, err := m.opt.OpenPort(m.path, m.baud)
		if err != nil {
			// The device path is configuration, not personal data.
			return &Error{Kind: Temporary, Op: "open " + m.path, Err: err}
		}
		m.c = newConn(port)
	}
	if m.synced {
		return nil
	}
	var err error
	for i := 0; i < syncAttempts; i++ {
		// A short wait per try: a modem in the middle of something
		// (an unfinished input after a restart) needs a nudge, not patience.
		if i > 0 {
			// ESC ends a pending SMS input without sending it.
			m.c.write(ctx, []byte{0x1B})
		}
		_, err = m.c.command(ctx, "AT", "", min(m.opt.CommandTimeout, time.Second))
		var ioe *ioError
		if err == nil || errors.As(err, &ioe) || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return classify("init: AT", err)
	}
	for _, c := range []string{"ATE0", "AT+CMEE=1"} {
		if _, err := m.cmd(ctx, c, ""); err != nil {
			return classify("init: "+c, err)
		}
	}
	m.synced = true
	return nil
}

// prepare makes the modem ready to send: synced, SIM ready, message
// format set.
func (m *Modem) prepare(ctx context.Context) error {
	if err := m.sync(ctx); err != nil {
		return err
	}
	if m.ready {
		return nil
	}
	sim, err := m.sim(ctx)
	if err != nil {
		return err
	}
	switch sim {
	case SIMReady:
	case SIMMissing:
		return &Error{Kind: Permanent, Op: "init: AT+CPIN?", Err: ErrSIMMissing}
	case SIMPIN:
		return &Error{Kind: Permanent, Op: "init: AT+CPIN?", Err: ErrSIMPIN}
	case SIMPUK:
		return &Error{Kind: Permanent, Op: "init: AT+CPIN?", Err: ErrSIMPUK}
	default:
		return &Error{Kind: Permanent, Op: "init: AT+CPIN?", Err: fmt.Errorf("SIM not ready: %s", sim)}
	}
	cmgf := "AT+CMGF=0"
	if m.mode == Text {
		cmgf = "AT+CMGF=1"
	}
	if _, err := m.cmd(ctx, cmgf, ""); err != nil {
		return classify("init: "+cmgf, err)
	}
	m.ready = true
	return nil
}

// sim asks AT+CPIN? and maps the answer.
func (m *Modem) sim(ctx context.Context) (SIMState, error) {
	info, err := m.cmd(ctx, "AT+CPIN?", "+CPIN:")
	if err != nil {
		var r *resultError
		if errors.As(err, &r) {
			switch {
			case r.cme == 10:
				return SIMMissing, nil
			case r.cme == 11:
				return SIMPIN, nil
			case r.cme == 12:
				return SIMPUK, nil
			case r.cme == 13 || r.cme == 15:
				return SIMFailure, nil
			}
		}
		return SIMUnknown, classify("AT+CPIN?", err)
	}
	if len(info) == 0 {
		return SIMUnknown, &Error{Kind: Temporary, Op: "AT+CPIN?", Err: errors.New("no +CPIN answer")}
	}
	switch info[0] {
	case "READY":
		return SIMReady, nil
	case "SIM PIN":
		return SIMPIN, nil
	case "SIM PUK":
		return SIMPUK, nil
	}
	return SIMState(strings.ToLower(info[0])), nil
}

// Send delivers text to the E.164 number to. A long text goes as a
// concatenated SMS (PDU mode) or as several messages (text mode). A part
// refused with a temporary +CMS ERROR is retried Options.Retries times
// with the same concatenation reference; parts the modem accepted are
// never submitted again, neither within this call nor by a later Send of
// the same text to the same number after a failure. A missing answer
// after submitting is returned as Ambiguous, not retried. Errors are
// *Error and never contain the number or the text.
func (m *Modem) Send(ctx context.Context, to, text string) error {
	if err := m.acquire(ctx); err != nil {
		// Nothing was submitted.
		return &Error{Kind: Temporary, Op: "send: waiting for the modem", Err: err}
	}
	defer m.release()
	err := m.send(ctx, to, text)
	m.fail(err)
	return err
}

func (m *Modem) send(ctx context.Context, to, text string) error {
	if _, err := encodeAddress(to); err != nil {
		return &Error{Kind: Permanent, Op: "send", Err: err}
	}
	parts := m.parts(text)
	key := to + "\x00" + text
	now := m.opt.Now()
	m.expire(now)
	p := m.pending[key]
	if p == nil || len(p.accepted) != len(parts) {
		p = &progress{accepted: make([]bool, len(parts))}
		if len(parts) > 1 && m.mode == PDU {
			m.ref++
			p.ref = m.ref
		}
	}
	p.at = now
	for i, part := range parts {
		if p.accepted[i] {
			continue
		}
		op := fmt.Sprintf("send part %d/%d", i+1, len(parts))
		var c *concat
		if len(parts) > 1 && m.mode == PDU {
			c = &concat{ref: p.ref, total: byte(len(parts)), seq: byte(i + 1)}
		}
		if err := m.sendPart(ctx, op, to, part, c); err != nil {
			if len(parts) > 1 && slices.Contains(p.accepted, true) {
				m.remember(key, p)
			}
			return err
		}
		p.accepted[i] = true
	}
	delete(m.pending, key)
	return nil
}

func (m *Modem) remember(key string, p *progress) {
	if _, ok := m.pending[key]; !ok && len(m.pending) >= maxPending {
		var oldest string
		for k, q := range m.pending {
			if oldest == "" || q.at.Before(m.pending[oldest].at) {
				oldest = k
			}
		}
		delete(m.pending, oldest)
	}
	m.pending[key] = p
}

func (m *Modem) expire(now time.Time) {
	for k, p := range m.pending {
		if now.Sub(p.at) > pendingTTL {
			delete(m.pending, k)
		}
	}
}

// part is one segment to submit.
type part struct {
	enc  notify.Encoding
	text string
}

// parts splits text as the mode needs.
func (m *Modem) parts(text string) []part {
	s := notify.Split(text)
	if m.mode == Text && s.Encoding == notify.GSM7 && !textModeGSM(text) {
		var out []part
		for _, t := range notify.SplitUCS2(text) {
			out = append(out, part{notify.UCS2, t})
		}
		return out
	}
	out := make([]part, len(s.Parts))
	for i, t := range s.Parts {
		out[i] = part{s.Encoding, t}
	}
	return out
}

// sendPart submits one part, retrying temporary refusals.
func (m *Modem) sendPart(ctx context.Context, op, to string, p part, c *concat) error {
	backoff := m.opt.Backoff
	for try := 0; ; try++ {
		err := m.prepare(ctx)
		if err == nil {
			err = m.submit(ctx, op, to, p, c)
		}
		if err == nil {
			return nil
		}
		e := classify(op, err)
		if e.Kind != Temporary || e.CMS == 0 || try >= m.opt.Retries {
			// Only a +CMS ERROR is a definite "not sent" worth trying
			// again here; a dead port or a lost dialogue goes back to
			// the outbox, which retries later.
			return e
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return e
		case <-t.C:
		}
		backoff *= 2
	}
}

// submit is one AT+CMGS dialogue.
func (m *Modem) submit(ctx context.Context, op, to string, p part, c *concat) error {
	var cmd string
	var body []byte
	if m.mode == PDU {
		tpdu, err := submitPDU(to, p.enc, p.text, c)
		if err != nil {
			return &Error{Kind: Permanent, Op: op, Err: err}
		}
		cmd = fmt.Sprintf("AT+CMGS=%d", len(tpdu))
		body = []byte(fmt.Sprintf("00%X", tpdu))
	} else {
		var err error
		if cmd, body, err = m.textSubmit(ctx, op, to, p); err != nil {
			return err
		}
	}
	if err := m.c.begin(ctx); err != nil {
		return err
	}
	if err := m.c.write(ctx, []byte(cmd+"\r")); err != nil {
		return err
	}
	if err := m.c.prompt(ctx, time.Now().Add(m.opt.CommandTimeout)); err != nil {
		if errors.Is(err, errNotAnswered) {
			return &Error{Kind: Temporary, Op: op, Err: errors.New("no input prompt")}
		}
		var te *timeoutError
		if errors.As(err, &te) {
			// Nothing was submitted: end a pending input, if any, and
			// resynchronise on the next use.
			m.c.write(ctx, []byte{0x1B})
		}
		return err
	}
	if err := m.c.write(ctx, append(body, 0x1A)); err != nil {
		m.drop()
		return &Error{Kind: Ambiguous, Op: op, Err: fmt.Errorf("%w: %v", ErrMaybeSent, err)}
	}
	_, err := m.c.result(ctx, "+CMGS:", time.Now().Add(m.opt.SubmitTimeout))
	if err != nil {
		var ioe *ioError
		var te *timeoutError
		if errors.As(err, &ioe) || errors.As(err, &te) {
			// The modem has the message and did not say what it did.
			m.drop()
			return &Error{Kind: Ambiguous, Op: op, Err: fmt.Errorf("%w: %v", ErrMaybeSent, err)}
		}
		return err
	}
	// OK is acceptance (with the +CMGS message reference, not needed).
	return nil
}

// textSubmit sets the character set and parameters text mode needs for
// p and returns the AT+CMGS command and the text to type.
func (m *Modem) textSubmit(ctx context.Context, op, to string, p part) (string, []byte, error) {
	charset, csmp := "GSM", "AT+CSMP=17,167,0,0"
	if p.enc == notify.UCS2 {
		charset, csmp = "UCS2", "AT+CSMP=17,167,0,8"
	}
	if m.charset != charset {
		for _, c := range []string{`AT+CSCS="` + charset + `"`, csmp} {
			if _, err := m.cmd(ctx, c, ""); err != nil {
				return "", nil, classify(op+": "+c, err)
			}
		}
		m.charset = charset
	}
	toa := 129
	if strings.HasPrefix(to, "+") {
		toa = 145
	}
	if charset == "UCS2" {
		// String parameters are in the character set too.
		return fmt.Sprintf(`AT+CMGS="%X",%d`, notify.EncodeUCS2(to), toa), []byte(fmt.Sprintf("%X", notify.EncodeUCS2(p.text))), nil
	}
	septets, _ := notify.EncodeGSM7(p.text)
	return fmt.Sprintf(`AT+CMGS="%s",%d`, to, toa), septets, nil
}

// textModeGSM reports whether text can be typed in text mode with
// AT+CSCS="GSM": every character in the basic table (an extension
// character's ESC would abort the input) and none of the septets a modem
// reads as control: Ctrl-Z (Ξ), CR, and NUL (@).
func textModeGSM(text string) bool {
	septets, ok := notify.EncodeGSM7(text)
	if !ok {
		return false
	}
	for _, s := range septets {
		switch s {
		case 0x1B, 0x1A, 0x0D, 0x00:
			return false
		}
	}
	return true
}
