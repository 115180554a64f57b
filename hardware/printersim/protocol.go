package printersim

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"golang.org/x/text/encoding/charmap"
)

// Control bytes of the ESC/POS stream.
const (
	eot = 0x04
	lf  = 0x0A
	cr  = 0x0D
	dle = 0x10
	esc = 0x1B
	gs  = 0x1D
)

const (
	maxRaw       = 4 << 20 // bytes of a job kept in Ticket.Raw
	maxImageData = 1 << 20 // bytes of one raster image drawn; larger ones are skipped
	maxQRData    = 7089    // the QR code's capacity (numeric, version 40, level L)
)

// errCutAfter ends a session when the CutAfter fault fires.
var errCutAfter = errors.New("printersim: connection cut by CutAfter")

// reader reads a connection byte by byte, records the current job's bytes
// and enforces the CutAfter limit.
type reader struct {
	rd       io.Reader
	buf      []byte
	pos, end int   // buf[pos:end] is read from rd but not consumed
	n        int64 // bytes consumed
	limit    int64 // no byte is consumed at n >= limit; -1 for none
	raw      []byte
	record   bool // append consumed bytes to raw
}

// fill makes at least k bytes available unless rd fails.
func (r *reader) fill(k int) error {
	if r.end-r.pos >= k {
		return nil
	}
	if r.pos > 0 {
		r.end = copy(r.buf, r.buf[r.pos:r.end])
		r.pos = 0
	}
	for r.end-r.pos < k {
		m, err := r.rd.Read(r.buf[r.end:])
		r.end += m
		if err != nil {
			if r.end-r.pos >= k {
				return nil
			}
			return err
		}
	}
	return nil
}

// peek returns up to k unconsumed bytes; fewer only with an error.
func (r *reader) peek(k int) ([]byte, error) {
	err := r.fill(k)
	return r.buf[r.pos:min(r.end, r.pos+k)], err
}

// next consumes n bytes at most (as many as are buffered, at least one).
func (r *reader) next(n int) ([]byte, error) {
	if r.limit >= 0 {
		if r.n >= r.limit {
			return nil, errCutAfter
		}
		n = int(min(int64(n), r.limit-r.n))
	}
	if err := r.fill(1); err != nil {
		return nil, err
	}
	p := r.buf[r.pos:min(r.end, r.pos+n)]
	r.pos += len(p)
	r.n += int64(len(p))
	if r.record && len(r.raw) < maxRaw {
		r.raw = append(r.raw, p[:min(len(p), maxRaw-len(r.raw))]...)
	}
	return p, nil
}

func (r *reader) byte() (byte, error) {
	p, err := r.next(1)
	if err != nil {
		return 0, err
	}
	return p[0], nil
}

// full consumes exactly n bytes into a new slice.
func (r *reader) full(n int) ([]byte, error) {
	out := make([]byte, 0, n)
	for len(out) < n {
		p, err := r.next(n - len(out))
		if err != nil {
			return out, err
		}
		out = append(out, p...)
	}
	return out, nil
}

// skip consumes n bytes.
func (r *reader) skip(n int) error {
	for n > 0 {
		p, err := r.next(n)
		if err != nil {
			return err
		}
		n -= len(p)
	}
	return nil
}

type alignment int

const (
	alignLeft alignment = iota
	alignCentre
	alignRight
)

// printState is what ESC @ resets, plus the QR settings.
type printState struct {
	cp       *charmap.Charmap
	align    alignment
	bold     bool
	wmul     int // character width multiplier, 1-8
	hmul     int // character height multiplier, 1-8
	qrModule int
	qrLevel  byte // '0' L, '1' M, '2' Q, '3' H
	qrData   []byte
}

func (st *printState) reset() {
	st.cp = charmap.CodePage437
	st.align = alignLeft
	st.bold = false
	st.wmul, st.hmul = 1, 1
}

// cell is one printed character.
type cell struct {
	r          rune
	bold       bool
	wmul, hmul int
}

// job is the ticket being received.
type job struct {
	start     int64 // reader offset of the job's first byte
	blocks    []block
	line      []cell // the print buffer: text not yet ended by LF
	lineAlign alignment
	text      []string
	qr        []string
	images    int
	errs      []string
	discarded bool // the printer was stopped while receiving it
	cutAfter  bool // CutAfter was armed for this job
}

// session parses one connection.
type session struct {
	s   *Sim
	nc  net.Conn
	r   reader
	st  printState
	job *job
}

func newSession(s *Sim, nc net.Conn) *session {
	c := &session{s: s, nc: nc, r: reader{rd: nc, buf: make([]byte, 4096), limit: -1}}
	c.st.reset()
	c.st.qrModule = 3
	c.st.qrLevel = '0'
	return c
}

func (c *session) run() {
	for {
		p, _ := c.r.peek(1)
		if len(p) == 0 {
			c.end()
			return
		}
		if p[0] == dle {
			q, _ := c.r.peek(3)
			if len(q) >= 2 && q[1] == eot {
				if err := c.status(); err != nil {
					c.end()
					return
				}
				continue
			}
		}
		if c.job == nil {
			c.startJob()
		}
		if c.s.Mode().stopped() {
			c.job.discarded = true
		}
		if err := c.command(); err != nil {
			c.end()
			return
		}
	}
}

func (c *session) startJob() {
	c.job = &job{start: c.r.n, lineAlign: c.st.align}
	c.r.raw = nil
	c.r.record = true
	if n := c.s.takeCutAfter(); n >= 0 {
		c.job.cutAfter = true
		c.r.limit = c.r.n + int64(n)
	}
}

// end finishes the session after a read error, errCutAfter or EOF: the
// job received so far is kept as a partial ticket.
func (c *session) end() {
	if c.job != nil {
		c.finish(true)
	}
}

// finish records the current job as a ticket.
func (c *session) finish(partial bool) {
	j := c.job
	raw := c.r.raw
	c.job = nil
	c.r.raw = nil
	c.r.record = false
	c.r.limit = -1
	if j.discarded {
		c.s.discard()
		return
	}
	if partial && len(j.blocks) == 0 && len(j.errs) == 0 && !j.cutAfter {
		return // an ESC @ before hanging up, say: nothing was printed
	}
	c.s.record(Ticket{
		Received: c.s.now(),
		Text:     j.text,
		QR:       j.qr,
		Images:   j.images,
		Errors:   j.errs,
		Partial:  partial,
		Raw:      raw,
		PNG:      render(j.blocks, c.s.width, partial),
	})
}

// status answers DLE EOT n on the connection at once.
func (c *session) status() error {
	q, err := c.r.peek(3)
	if err != nil {
		return err
	}
	b, ok := c.s.statusByte(q[2])
	if !ok && c.job == nil {
		c.startJob()
	}
	off := c.offset()
	p, err := c.r.full(3)
	if err != nil {
		return err
	}
	if !ok {
		c.errorf(off, "DLE EOT %d: unknown status function", p[2])
		return nil
	}
	_, err = c.nc.Write([]byte{b})
	return err
}

// offset is the position of the next byte in the current job.
func (c *session) offset() int64 {
	if c.job == nil {
		return 0
	}
	return c.r.n - c.job.start
}

func (c *session) errorf(off int64, format string, args ...any) {
	c.job.errs = append(c.job.errs, fmt.Sprintf("offset %d: ", off)+fmt.Sprintf(format, args...))
}

// command parses one command or text byte.
func (c *session) command() error {
	off := c.offset()
	b, err := c.r.byte()
	if err != nil {
		return err
	}
	switch {
	case b == lf:
		c.printLine()
	case b == cr:
	case b == esc:
		return c.escCommand(off)
	case b == gs:
		return c.gsCommand(off)
	case b == dle:
		n, err := c.r.byte()
		if err != nil {
			return err
		}
		c.errorf(off, "unknown command DLE %s", cmdByte(n))
	case b < 0x20:
		c.errorf(off, "unexpected control byte %#02x", b)
	default:
		c.text(b)
	}
	return nil
}

// cmdByte names a command's letter: "t (74)".
func cmdByte(b byte) string {
	if b > 0x20 && b < 0x7F {
		return fmt.Sprintf("%c (%02X)", b, b)
	}
	return fmt.Sprintf("%02X", b)
}

func (c *session) text(b byte) {
	j := c.job
	if len(j.line) == 0 {
		j.lineAlign = c.st.align
	}
	j.line = append(j.line, cell{r: c.st.cp.DecodeByte(b), bold: c.st.bold, wmul: c.st.wmul, hmul: c.st.hmul})
}

// printLine prints the print buffer and feeds one line, as LF does.
func (c *session) printLine() {
	j := c.job
	if len(j.line) == 0 {
		j.blocks = append(j.blocks, feedBlock{lines: 1})
		return
	}
	runes := make([]rune, len(j.line))
	for i, cl := range j.line {
		runes[i] = cl.r
	}
	if s := string(runes); strings.TrimSpace(s) != "" {
		j.text = append(j.text, s)
	}
	j.blocks = append(j.blocks, lineBlock{align: j.lineAlign, cells: j.line})
	j.line = nil
	j.lineAlign = c.st.align
}

// lineStart checks that a command which must start a line does; if not,
// it records an error and prints the buffer first, as the driver most
// likely forgot a LF.
func (c *session) lineStart(off int64, name string) {
	if len(c.job.line) > 0 {
		c.errorf(off, "%s not at the beginning of a line (text %q without LF before it)", name, string(cellRunes(c.job.line)))
		c.printLine()
	}
}

func cellRunes(cs []cell) []rune {
	rs := make([]rune, len(cs))
	for i, cl := range cs {
		rs[i] = cl.r
	}
	return rs
}

func (c *session) escCommand(off int64) error {
	b, err := c.r.byte()
	if err != nil {
		return err
	}
	if b == '@' {
		if len(c.job.line) > 0 {
			c.errorf(off, "ESC @ cleared unprinted text %q", string(cellRunes(c.job.line)))
			c.job.line = nil
		}
		c.st.reset()
		c.job.lineAlign = c.st.align
		return nil
	}
	switch b {
	case 't', 'a', 'E', '!', 'd':
	default:
		c.errorf(off, "unknown command ESC %s", cmdByte(b))
		return nil
	}
	n, err := c.r.byte()
	if err != nil {
		return err
	}
	switch b {
	case 't':
		switch n {
		case 0:
			c.st.cp = charmap.CodePage437
		case 19:
			c.st.cp = charmap.CodePage858
		default:
			c.errorf(off, "ESC t %d: code page not supported (0 PC437, 19 PC858)", n)
		}
	case 'a':
		switch n {
		case 0, '0':
			c.st.align = alignLeft
		case 1, '1':
			c.st.align = alignCentre
		case 2, '2':
			c.st.align = alignRight
		default:
			c.errorf(off, "ESC a %d: bad alignment", n)
			return nil
		}
		if len(c.job.line) > 0 {
			c.errorf(off, "ESC a %d not at the beginning of a line: applies from the next line", n)
		}
	case 'E':
		c.st.bold = n&1 != 0
	case '!':
		// Font B (bit 0) and underline (bit 7) are accepted, not drawn.
		c.st.bold = n&0x08 != 0
		c.st.hmul = 1 + int(n>>4&1)
		c.st.wmul = 1 + int(n>>5&1)
	case 'd':
		lines := int(n)
		if len(c.job.line) > 0 {
			c.printLine()
			lines--
		}
		if lines > 0 {
			c.job.blocks = append(c.job.blocks, feedBlock{lines: lines})
		}
	}
	return nil
}

func (c *session) gsCommand(off int64) error {
	b, err := c.r.byte()
	if err != nil {
		return err
	}
	switch b {
	case '!':
		n, err := c.r.byte()
		if err != nil {
			return err
		}
		if n&0x88 != 0 {
			c.errorf(off, "GS ! %#02x: bad character size", n)
			return nil
		}
		c.st.wmul = 1 + int(n>>4&7)
		c.st.hmul = 1 + int(n&7)
	case '(':
		return c.gsParen(off)
	case 'v':
		return c.raster(off)
	case 'V':
		return c.cut(off)
	default:
		c.errorf(off, "unknown command GS %s", cmdByte(b))
	}
	return nil
}

// gsParen parses GS ( fn pL pH data: QR codes (GS ( k) are understood,
// the other functions are skipped by their length and recorded as errors.
func (c *session) gsParen(off int64) error {
	p, err := c.r.full(3)
	if err != nil {
		return err
	}
	fn, k := p[0], int(p[1])+int(p[2])<<8
	if fn != 'k' {
		c.errorf(off, "unknown command GS ( %s", cmdByte(fn))
		return c.r.skip(k)
	}
	if k < 2 || k > maxQRData+3 {
		c.errorf(off, "GS ( k: bad length %d", k)
		return c.r.skip(k)
	}
	args, err := c.r.full(k)
	if err != nil {
		return err
	}
	cn, qfn, args := args[0], args[1], args[2:]
	if cn != 0x31 {
		c.errorf(off, "GS ( k cn=%#02x: only QR codes (cn=0x31) are supported", cn)
		return nil
	}
	one := func(ok func(byte) bool) (byte, bool) {
		if len(args) != 1 || !ok(args[0]) {
			c.errorf(off, "GS ( k fn=%#02x: bad parameters % X", qfn, args)
			return 0, false
		}
		return args[0], true
	}
	switch qfn {
	case 0x41: // model
		if len(args) != 2 || (args[0] != 0x31 && args[0] != 0x32) || args[1] != 0 {
			c.errorf(off, "GS ( k fn=0x41: QR model % X not supported (0x31 or 0x32, 0)", args)
		}
	case 0x43: // module size
		if n, ok := one(func(n byte) bool { return n >= 1 && n <= 16 }); ok {
			c.st.qrModule = int(n)
		}
	case 0x45: // error correction level
		if n, ok := one(func(n byte) bool { return n >= '0' && n <= '3' }); ok {
			c.st.qrLevel = n
		}
	case 0x50: // store data
		if len(args) < 2 || args[0] != 0x30 {
			c.errorf(off, "GS ( k fn=0x50: bad parameters (want 0x30 and data)")
			return nil
		}
		c.st.qrData = append([]byte(nil), args[1:]...)
	case 0x51: // print
		if _, ok := one(func(n byte) bool { return n == 0x30 }); !ok {
			return nil
		}
		if c.st.qrData == nil {
			c.errorf(off, "GS ( k fn=0x51: print without stored data")
			return nil
		}
		c.lineStart(off, "GS ( k print QR")
		q, err := newQRBlock(c.st.qrData, c.st.qrLevel, c.st.qrModule, c.st.align)
		if err != nil {
			c.errorf(off, "GS ( k fn=0x51: %v", err)
			return nil
		}
		if q.width() > c.s.width {
			c.errorf(off, "GS ( k fn=0x51: QR code %d dots wide, paper %d: clipped", q.width(), c.s.width)
		}
		c.job.blocks = append(c.job.blocks, q)
		c.job.qr = append(c.job.qr, string(c.st.qrData))
	default:
		c.errorf(off, "GS ( k fn=%#02x: QR function not supported", qfn)
	}
	return nil
}

// raster parses GS v 0 m xL xH yL yH d1...dk.
func (c *session) raster(off int64) error {
	p, err := c.r.full(6)
	if err != nil {
		return err
	}
	if p[0] != '0' {
		c.errorf(off, "unknown command GS v %s", cmdByte(p[0]))
		return nil
	}
	m := p[1]
	xb, y := int(p[2])+int(p[3])<<8, int(p[4])+int(p[5])<<8
	var sx, sy int
	switch m {
	case 0, '0':
		sx, sy = 1, 1
	case 1, '1':
		sx, sy = 2, 1
	case 2, '2':
		sx, sy = 1, 2
	case 3, '3':
		sx, sy = 2, 2
	default:
		c.errorf(off, "GS v 0: bad mode %d", m)
		return c.r.skip(xb * y)
	}
	if xb == 0 || y == 0 {
		c.errorf(off, "GS v 0: empty image (%d bytes x %d rows)", xb, y)
		return nil
	}
	if xb*y > maxImageData {
		c.errorf(off, "GS v 0: image of %d bytes too large for the simulator: skipped", xb*y)
		return c.r.skip(xb * y)
	}
	data, err := c.r.full(xb * y)
	if err != nil {
		return err
	}
	c.lineStart(off, "GS v 0")
	img := rasterBlock{bytesPerRow: xb, rows: y, sx: sx, sy: sy, data: data, align: c.st.align}
	if img.width() > c.s.width {
		c.errorf(off, "GS v 0: image %d dots wide, paper %d: clipped", img.width(), c.s.width)
	}
	c.job.blocks = append(c.job.blocks, img)
	c.job.images++
	return nil
}

// cut parses GS V m [n] and finishes the ticket.
func (c *session) cut(off int64) error {
	m, err := c.r.byte()
	if err != nil {
		return err
	}
	feed := 0
	switch m {
	case 0, 1, '0', '1':
	case 65, 66:
		n, err := c.r.byte()
		if err != nil {
			return err
		}
		feed = int(n)
	default:
		c.errorf(off, "GS V %d: unknown cut mode, cut anyway", m)
	}
	c.lineStart(off, "GS V")
	if feed > 0 {
		c.job.blocks = append(c.job.blocks, feedBlock{dots: feed})
	}
	c.finish(false)
	return nil
}
